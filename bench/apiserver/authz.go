package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// authzCost runs the CRUD phases as a service account bound to edit against
// minik8s started with --authorization-mode=AlwaysAllow (no authorizer asked)
// and with its default Node,RBAC, rounds times each and alternately, so that a
// machine getting busier or quieter weighs on both alike; it prints each
// phase's median throughput and the share authorization takes from it.
func authzCost(w io.Writer, binary string, rounds, n, workers int) error {
	dir, err := os.MkdirTemp("", "minik8s-bench-authz-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	modes := []struct{ name, flag string }{
		{"AlwaysAllow", "--authorization-mode=AlwaysAllow"},
		{"Node,RBAC", "--authorization-mode=Node,RBAC"},
	}
	rates := make([]map[string][]float64, len(modes))
	var order []string
	for r := 0; r < rounds; r++ {
		for m, mode := range modes {
			os.RemoveAll(filepath.Join(dir, "data"))
			_, p, err := startMinik8s(binary, dir, 16600, mode.flag)
			if err != nil {
				return fmt.Errorf("start minik8s with %s: %w", mode.flag, err)
			}
			kc := filepath.Join(dir, "data", "kubeconfig.yaml")
			// The kubeconfig is written just after the server first answers ready.
			for i := 0; i < 100; i++ {
				if _, err := os.Stat(kc); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			phases, err := crud(kc, n, workers, true)
			stop(p)
			if err != nil {
				return fmt.Errorf("%s round %d: %w", mode.name, r+1, err)
			}
			if rates[m] == nil {
				rates[m] = map[string][]float64{}
			}
			for _, ph := range phases {
				if ph.errors > 0 {
					return fmt.Errorf("%s round %d: %s had %d errors", mode.name, r+1, ph.name, ph.errors)
				}
				if r == 0 && m == 0 {
					order = append(order, ph.name)
				}
				rates[m][ph.name] = append(rates[m][ph.name], ph.rate())
			}
			fmt.Fprintf(os.Stderr, "round %d %s done\n", r+1, mode.name)
		}
	}
	fmt.Fprintf(w, "\nAuthorization cost: %d ConfigMaps, %d workers, as a service account bound to edit, median of %d rounds\n\n", n, workers, rounds)
	fmt.Fprintf(w, "%-12s%18s%18s%12s\n", "phase", "AlwaysAllow", "Node,RBAC", "cost")
	for _, name := range order {
		a, b := medianOf(rates[0][name]), medianOf(rates[1][name])
		unit := "/s"
		if strings.HasPrefix(name, "list") {
			unit = " lists/s"
		}
		fmt.Fprintf(w, "%-12s%18s%18s%11.1f%%\n", name, fmt.Sprintf("%.0f%s", a, unit), fmt.Sprintf("%.0f%s", b, unit), 100*(1-b/a))
	}
	return nil
}

func medianOf(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
