// Command minik8s is a whole Kubernetes cluster in one binary.
package main

import (
	"fmt"
	"os"

	"github.com/minik8s/minik8s/pkg/cli"
)

func main() {
	if err := cli.NewRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
