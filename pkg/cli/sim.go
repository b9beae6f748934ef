package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/minik8s/minik8s/pkg/sim"
	"github.com/minik8s/minik8s/pkg/version"
)

func newSimCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Simulated nodes: Nodes with leases and running pods, but no containers",
		Long: `Simulated nodes look like real ones to the API: they are Ready, renew their
leases, and the pods bound to them reach Running with an IP and ready containers.
Nothing runs: they exist to test and benchmark schedulers and controllers at scale.
A minik8s server runs their controller; "sim run" runs it against any cluster.`,
	}
	kubeconfig := new(string)
	cmd.PersistentFlags().StringVar(kubeconfig, "kubeconfig", "", "cluster to use (default: $KUBECONFIG, else the local server's admin kubeconfig)")
	cmd.AddCommand(newSimNodesCommand(kubeconfig), newSimRunCommand(kubeconfig))
	return cmd
}

func simClient(kubeconfig, userAgent string) (kubernetes.Interface, *rest.Config, error) {
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	cfg = sim.ClientConfig(cfg, userAgent)
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return client, cfg, nil
}

// quantityFlag is a resource quantity flag ("32", "256Gi").
type quantityFlag struct{ q *resource.Quantity }

func (f quantityFlag) String() string {
	if f.q == nil {
		return ""
	}
	return f.q.String()
}

func (f quantityFlag) Set(s string) error {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return fmt.Errorf("not a quantity such as 32, 500m or 256Gi")
	}
	*f.q = q
	return nil
}

func (quantityFlag) Type() string { return "quantity" }

func newSimNodesCommand(kubeconfig *string) *cobra.Command {
	var (
		count          int
		del            bool
		labels, taints []string
		parallel       int
	)
	t := sim.NodeTemplate{
		CPU: resource.MustParse("32"), Memory: resource.MustParse("256Gi"),
		Pods: resource.MustParse("110"), EphemeralStorage: resource.MustParse("1Ti"),
	}
	cmd := &cobra.Command{
		Use:   "nodes [--count N | --delete [NAME...]]",
		Short: "Create, list or delete simulated nodes",
		Example: `  # 5,000 nodes of 32 CPUs and 256Gi in 3 zones: sim-0 .. sim-4999
  minik8s sim nodes --count 5000 --zones 3
  # four GPU nodes, tainted
  minik8s sim nodes --count 4 --prefix gpu- --labels accelerator=gpu --taints gpu=true:NoSchedule
  # stop one heartbeating, then bring it back
  minik8s sim nodes fail sim-3
  minik8s sim nodes recover sim-3
  # list them; delete them all
  minik8s sim nodes
  minik8s sim nodes --delete`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			client, _, err := simClient(*kubeconfig, "minik8s-sim-nodes")
			if err != nil {
				return err
			}
			m := sim.Nodes{Client: client, Parallel: parallel}
			out := cmd.OutOrStdout()
			prefixSet := cmd.Flags().Changed("prefix")
			switch {
			case del:
				if cmd.Flags().Changed("count") {
					return fmt.Errorf("--count and --delete cannot be used together")
				}
				return simDelete(ctx, out, m, args, t.Prefix, prefixSet)
			case len(args) > 0:
				return fmt.Errorf("unknown command %q for \"minik8s sim nodes\": node names are taken by --delete, fail and recover", args[0])
			case cmd.Flags().Changed("count"):
				var err error
				if t.Labels, err = sim.ParseLabels(labels); err != nil {
					return err
				}
				if t.Taints, err = sim.ParseTaints(taints); err != nil {
					return err
				}
				t.KubeletVersion = version.Get().GitVersion
				start := time.Now()
				res, err := m.Create(ctx, t, count)
				if res.Created > 0 || err == nil {
					fmt.Fprintf(out, "%d simulated nodes created, %d already existed (%s0 .. %s%d) in %s\n",
						res.Created, res.Existed, t.Prefix, t.Prefix, max(count-1, 0), time.Since(start).Round(time.Millisecond))
				}
				return err
			default:
				return simList(ctx, out, m, t.Prefix, prefixSet)
			}
		},
	}
	f := cmd.Flags()
	f.IntVar(&count, "count", 0, "make sure nodes <prefix>0 .. <prefix>N-1 exist, creating the missing ones")
	f.BoolVar(&del, "delete", false, "delete the named simulated nodes (all of them, or those of --prefix, without names) with their leases and pods")
	f.StringVar(&t.Prefix, "prefix", "sim-", "node name prefix")
	f.Var(quantityFlag{&t.CPU}, "cpu", "CPU capacity of each node")
	f.Var(quantityFlag{&t.Memory}, "memory", "memory capacity of each node")
	f.Var(quantityFlag{&t.Pods}, "pods", fmt.Sprintf("pod capacity of each node (at most %d)", sim.MaxPodsPerNode))
	f.Var(quantityFlag{&t.EphemeralStorage}, "ephemeral-storage", "ephemeral-storage capacity of each node")
	f.IntVar(&t.Zones, "zones", 1, "spread nodes round-robin over this many zones (topology.kubernetes.io/zone=zone-0..); 0 for no zone label")
	f.StringSliceVar(&labels, "labels", nil, "extra labels, key=value,...")
	f.StringSliceVar(&taints, "taints", nil, "taints, key[=value]:NoSchedule|PreferNoSchedule|NoExecute,...")
	f.IntVar(&parallel, "parallel", 32, "requests in flight at once")
	cmd.AddCommand(newSimFailCommand(kubeconfig, true), newSimFailCommand(kubeconfig, false))
	return cmd
}

func simDelete(ctx context.Context, out io.Writer, m sim.Nodes, names []string, prefix string, prefixSet bool) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	if len(names) > 0 {
		all, err := m.Simulated(ctx)
		if err != nil {
			return err
		}
		found := map[string]bool{}
		for _, n := range all {
			found[n.Name] = true
		}
		for _, n := range names {
			if !found[n] {
				return fmt.Errorf("no simulated node named %q", n)
			}
		}
	}
	start := time.Now()
	res, err := m.Delete(ctx, func(n corev1.Node) bool {
		if len(names) > 0 {
			return want[n.Name]
		}
		return !prefixSet || strings.HasPrefix(n.Name, prefix)
	})
	fmt.Fprintf(out, "%d simulated nodes deleted with their leases, %d pods bound to them deleted, in %s\n",
		res.Nodes, res.Pods, time.Since(start).Round(time.Millisecond))
	return err
}

func simList(ctx context.Context, out io.Writer, m sim.Nodes, prefix string, prefixSet bool) error {
	nodes, err := m.Simulated(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tZONE\tPOD-CIDR\tINTERNAL-IP\tHEARTBEAT")
	shown := 0
	for _, n := range nodes {
		if prefixSet && !strings.HasPrefix(n.Name, prefix) {
			continue
		}
		ip, beat := "", "on"
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				ip = a.Address
			}
		}
		if _, ok := n.Annotations[sim.AnnotationFailed]; ok {
			beat = "failed"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.Name, orNone(n.Labels[corev1.LabelTopologyZone]), orNone(n.Spec.PodCIDR), orNone(ip), beat)
		shown++
	}
	if shown == 0 {
		fmt.Fprintln(out, "No simulated nodes.")
		return nil
	}
	return tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func newSimFailCommand(kubeconfig *string, fail bool) *cobra.Command {
	use, short, done := "fail NAME...", "Make simulated nodes stop heartbeating, as if their kubelet died", "stopped heartbeating"
	if !fail {
		use, short, done = "recover NAME...", "Make failed simulated nodes heartbeat again", "heartbeating again"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, names []string) error {
			client, _, err := simClient(*kubeconfig, "minik8s-sim-nodes")
			if err != nil {
				return err
			}
			if err := (sim.Nodes{Client: client}).SetFailed(cmd.Context(), names, fail); err != nil {
				return err
			}
			for _, n := range names {
				fmt.Fprintf(cmd.OutOrStdout(), "node/%s %s\n", n, done)
			}
			return nil
		},
	}
}

func newSimRunCommand(kubeconfig *string) *cobra.Command {
	var verbose bool
	cfg := sim.Config{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the simulated-node controller against a cluster until interrupted",
		Long: `Runs what a minik8s server runs for its simulated nodes, against any cluster (an
upstream kube-apiserver with an admin kubeconfig too): leases and statuses of the
nodes labelled ` + sim.LabelSimulated + `=true, and their pods. Do not point it
at a minik8s server, which already runs one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			client, rc, err := simClient(*kubeconfig, "minik8s-sim")
			if err != nil {
				return err
			}
			cfg.Client, cfg.Logger = client, newLogger(verbose)
			c, err := sim.New(cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Simulating the nodes labelled %s=true of %s; Ctrl-C stops.\n", sim.LabelSimulated, rc.Host)
			if err := c.Run(ctx); err != nil && ctx.Err() == nil {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.DurationVar(&cfg.LeaseDuration, "lease-duration", sim.DefaultLeaseDuration, "leaseDurationSeconds written into node leases")
	f.DurationVar(&cfg.LeaseRenewInterval, "lease-renew-interval", sim.DefaultLeaseRenewInterval, "how often each node's lease is renewed")
	f.DurationVar(&cfg.StatusReportInterval, "status-report-interval", sim.DefaultStatusReportInterval, "how often an unchanged node status is reported")
	f.IntVar(&cfg.NodeWorkers, "node-workers", sim.DefaultNodeWorkers, "nodes heartbeating at once")
	f.IntVar(&cfg.PodWorkers, "pod-workers", sim.DefaultPodWorkers, "pod statuses written at once")
	f.BoolVarP(&verbose, "verbose", "v", false, "log debug messages")
	return cmd
}
