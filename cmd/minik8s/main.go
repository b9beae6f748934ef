// Command minik8s is a whole Kubernetes cluster in one binary.
package main

import (
	_ "github.com/minik8s/minik8s/pkg/cli/lazyi18n" // must stay first: see its doc

	"fmt"
	"os"

	"github.com/minik8s/minik8s/pkg/cli"
	"github.com/minik8s/minik8s/pkg/controller/manager"
	"github.com/minik8s/minik8s/pkg/dns"
	"github.com/minik8s/minik8s/pkg/kubelet"
	"github.com/minik8s/minik8s/pkg/scheduler"
	"github.com/minik8s/minik8s/pkg/server"
	"github.com/minik8s/minik8s/pkg/sim"
)

func main() {
	server.RegisterComponent(manager.Factory)
	server.RegisterComponent(scheduler.ServerComponent)
	server.RegisterComponent(kubelet.ServerComponent)
	server.RegisterComponent(sim.ServerComponent)
	server.RegisterComponent(dns.ServerComponent)
	if err := cli.NewRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
