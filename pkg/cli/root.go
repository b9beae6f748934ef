// Package cli holds the minik8s subcommands; cmd/minik8s only wires them together.
package cli

import (
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

// NewRoot returns the minik8s command with every subcommand.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "minik8s",
		Short:         "A whole Kubernetes cluster in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServerCommand(), newKubectlCommand(), newVersionCommand())
	root.AddCommand(newImageCommand())
	root.AddCommand(newAgentCommand())
	root.AddCommand(newSchedulerCommand())
	root.AddCommand(newControllerManagerCommand())
	root.AddCommand(newWhyCommand())
	root.AddCommand(newSimCommand())
	root.AddCommand(newCleanupProxyCommand())
	root.AddCommand(newProxyCommand(), newDNSCommand())
	return root
}

func newLogger(verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
