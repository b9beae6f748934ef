package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/pkg/netpol"
	"github.com/minik8s/minik8s/pkg/proxy"
)

// newCleanupProxyCommand removes the service proxy's and the network policy
// enforcer's nftables tables, which outlive the agent on purpose (a restart
// keeps Services answering and pods isolated).
func newCleanupProxyCommand() *cobra.Command {
	var table, bridge string
	cmd := &cobra.Command{
		Use:   "cleanup-proxy",
		Short: "Remove the service proxy's and network policies' nftables rules from this node (run after stopping the server or agent)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if table == "" {
				table = proxy.TableFor(bridge)
			}
			if err := proxy.Cleanup(0, table); err != nil {
				return fmt.Errorf("cleanup-proxy: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed nftables tables ip %s and ip6 %s\n", table, table)
			policyTable := netpol.TableFor(bridge)
			if err := netpol.Cleanup(0, policyTable); err != nil {
				return fmt.Errorf("cleanup-proxy: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed nftables tables ip %s and ip6 %s\n", policyTable, policyTable)
			return nil
		},
	}
	cmd.Flags().StringVar(&bridge, "cni-bridge", "cni0", "the node's pod bridge, which names its tables (minik8s-proxy and minik8s-netpol for cni0, minik8s-proxy-BRIDGE and minik8s-netpol-BRIDGE otherwise)")
	cmd.Flags().StringVar(&table, "table", "", "name of the proxy's nftables table (overrides --cni-bridge for it)")
	return cmd
}
