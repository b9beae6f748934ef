// Package e2e drives the built minik8s binary with the real kubectl and client-go,
// the way a user would. Build first: hack/build.sh.
package e2e

import (
	"fmt"
	"os"
	"testing"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// cluster is shared by the tests of this package; each test works in its own namespace.
var cluster *framework.Cluster

func TestMain(m *testing.M) {
	if _, err := framework.Binary(); err != nil {
		if framework.InCI() {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "e2e: skipping:", err)
		os.Exit(0)
	}
	c, err := framework.Start(framework.Options{Args: []string{"--disable-agent"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start cluster:", err)
		os.Exit(1)
	}
	cluster = c
	code := m.Run()
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: server did not stop cleanly:", err)
		if code == 0 {
			code = 1
		}
	}
	if code == 0 {
		os.RemoveAll(c.DataDir)
	} else {
		fmt.Fprintln(os.Stderr, "e2e: server log kept at", c.Log)
	}
	os.Exit(code)
}
