package cli

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
)

// newKubectlCommand embeds the real kubectl. Without KUBECONFIG it uses the local
// server's admin kubeconfig.
func newKubectlCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "kubectl",
		Short:              "Run kubectl against this cluster",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if os.Getenv("KUBECONFIG") == "" {
				dir := os.Getenv("MINIK8S_DATA_DIR")
				if dir == "" {
					dir = DefaultDataDir
				}
				os.Setenv("KUBECONFIG", filepath.Join(dir, "kubeconfig.yaml"))
			}
			k := kubectlcmd.NewDefaultKubectlCommand()
			k.SetArgs(args)
			return k.Execute()
		},
	}
}
