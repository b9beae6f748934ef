package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/pkg/version"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			v := version.Get()
			fmt.Fprintf(cmd.OutOrStdout(), "minik8s version %s (%s)\n", v.GitVersion, v.GoVersion)
		},
	}
}
