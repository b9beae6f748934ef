package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// clientConfig finds the cluster a client subcommand talks to: --kubeconfig, else
// $KUBECONFIG, else the local server's admin kubeconfig (in $MINIK8S_DATA_DIR or
// /var/lib/minik8s).
func clientConfig(path string) (clientcmd.ClientConfig, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	switch {
	case path != "":
		rules.ExplicitPath = path
	case os.Getenv("KUBECONFIG") == "":
		dir := os.Getenv("MINIK8S_DATA_DIR")
		if dir == "" {
			dir = DefaultDataDir
		}
		rules.ExplicitPath = filepath.Join(dir, "kubeconfig.yaml")
	}
	if p := rules.ExplicitPath; p != "" {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("no kubeconfig at %s: is a server running? (or pass --kubeconfig)", p)
		}
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}), nil
}

// restConfig is clientConfig's REST configuration.
func restConfig(path string) (*rest.Config, error) {
	cc, err := clientConfig(path)
	if err != nil {
		return nil, err
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, nil
}
