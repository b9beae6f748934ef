package rules

import (
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/minik8s/minik8s/pkg/proxy/netnstest"
	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// The kernel accepts every transaction the state produces, and after a run
// of changes holds exactly the table a full build would install.
func TestTheKernelAcceptsEveryChangeAndEndsWithTheFullTable(t *testing.T) {
	netnstest.Require(t)
	for _, backend := range []string{"netlink", "nft -f"} {
		t.Run(backend, func(t *testing.T) {
			ns := netnstest.New(t, "rules")
			var b nft.Backend = &nft.Netlink{NetNS: ns.Fd()}
			if backend == "nft -f" {
				b = &nft.Command{Wrap: ns.Wrap()}
			}
			cfg := testConfig()
			fx := fixtures()
			s := fullState(t, cfg)
			if err := b.Apply(s.Full()); err != nil {
				t.Fatalf("full: %v", err)
			}
			now := time.Unix(1000, 0)
			step := func(what string) {
				t.Helper()
				now = now.Add(600 * time.Millisecond)
				tx := s.Changes(now)
				if err := b.Apply(tx); err != nil {
					t.Fatalf("%s: %v\n%s", what, err, tx.Script())
				}
			}
			web := fx["default/web:http"]
			s.Set("default/web:http", Service(cfg, web.sp, web.eps[:1]))
			step("shrink web")
			s.Set("default/sticky", nil)
			s.Set("default/keep-source", nil)
			step("delete sticky and keep-source")
			sp := port("default", "new", "", corev1.ProtocolUDP, "10.96.0.100", 53)
			s.Set("default/new", Service(cfg, sp, []Endpoint{ready("10.244.1.20", 53, false), ready("10.244.1.21", 53, false),
				ready("10.244.1.22", 53, false), ready("10.244.1.23", 53, false)}))
			s.Set("default/web:http", Service(cfg, web.sp, web.eps))
			step("add new, grow web back")
			st := fx["default/sticky"]
			s.Set("default/sticky", Service(cfg, st.sp, st.eps))
			step("sticky back while its old chains are stale")
			step("stale chains deleted")
			step("nothing")

			got := ns.Run("nft", "list", "table", "ip", cfg.Table)
			fresh := netnstest.New(t, "fresh")
			var fb nft.Backend = &nft.Netlink{NetNS: fresh.Fd()}
			if backend == "nft -f" {
				fb = &nft.Command{Wrap: fresh.Wrap()}
			}
			if err := fb.Apply(s.Full()); err != nil {
				t.Fatal(err)
			}
			if want := fresh.Run("nft", "list", "table", "ip", cfg.Table); blocks(got) != blocks(want) {
				t.Errorf("table after changes differs from a full build:\n%s\n--- full\n%s", got, want)
			}
		})
	}
}

// blocks sorts a listing's sets, maps and chains: nft lists them in the
// order they were created, which changes differ from a full build in.
func blocks(listing string) string {
	var out []string
	var cur []string
	for _, line := range strings.Split(listing, "\n") {
		if strings.HasPrefix(line, "\tset ") || strings.HasPrefix(line, "\tmap ") || strings.HasPrefix(line, "\tchain ") {
			if len(cur) > 0 {
				out = append(out, strings.Join(cur, "\n"))
			}
			cur = nil
		}
		if strings.TrimSpace(line) != "" && line != "}" {
			cur = append(cur, line)
		}
	}
	out = append(out, strings.Join(cur, "\n"))
	sort.Strings(out)
	return strings.Join(out, "\n")
}
