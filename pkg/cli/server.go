package cli

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/pkg/admission/plugins"
	"github.com/minik8s/minik8s/pkg/controller/manager"
	"github.com/minik8s/minik8s/pkg/server"
)

// DefaultDataDir is where a server keeps its state unless told otherwise.
const DefaultDataDir = "/var/lib/minik8s"

func newServerCommand() *cobra.Command {
	cfg := server.Config{}
	var verbose bool
	leaderElect := true
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane and a local node",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := manager.ValidateDisabled(cfg.DisableControllers); err != nil {
				return err
			}
			cfg.DisableLeaderElection = !leaderElect
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return server.Run(ctx, cfg, newLogger(verbose))
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", DefaultDataDir, "folder to hold state")
	f.StringVar(&cfg.BindAddress, "bind-address", "0.0.0.0", "IP address the API server listens on; pods reach it at the host's address, so a loopback address leaves them without the API")
	f.IntVar(&cfg.HTTPSPort, "https-listen-port", 6443, "HTTPS port of the API server")
	f.StringVar(&cfg.WriteKubeconfig, "write-kubeconfig", "", "also write the admin kubeconfig to this file (it is always in <data-dir>/kubeconfig.yaml)")
	f.StringVar(&cfg.DatastoreEndpoint, "datastore-endpoint", "", "comma-separated URLs of an external etcd cluster; empty runs etcd embedded")
	f.StringVar(&cfg.DatastoreCAFile, "datastore-cafile", "", "CA bundle for the external etcd")
	f.StringVar(&cfg.DatastoreCertFile, "datastore-certfile", "", "client certificate for the external etcd")
	f.StringVar(&cfg.DatastoreKeyFile, "datastore-keyfile", "", "client key for the external etcd")
	f.BoolVar(&cfg.DisableAgent, "disable-agent", false, "run the control plane only, without a local node")
	f.BoolVar(&cfg.DisableScheduler, "disable-scheduler", false, "do not run the scheduler (pods wait for another one)")
	f.StringVar(&cfg.SchedulerConfig, "scheduler-config", "", "KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1) for the scheduler; empty uses the defaults")
	f.StringSliceVar(&cfg.TLSSANs, "tls-san", nil, "extra host names or IPs for the serving certificate")
	f.StringVar(&cfg.ServiceCIDR, "service-cidr", "10.96.0.0/12", "range of Service cluster IPs")
	f.StringVar(&cfg.ClusterCIDR, "cluster-cidr", "10.244.0.0/16", "range of pod IPs, one /24 per node")
	f.StringVar(&cfg.ClusterDomain, "cluster-domain", "cluster.local", "DNS domain of the cluster")
	f.StringVar(&cfg.ClusterDNS, "cluster-dns", "", "ClusterIP of the kube-dns Service, the pods' name server (default: the tenth address of --service-cidr, 10.96.0.10)")
	f.IntVar(&cfg.ClusterDNSPort, "cluster-dns-port", 53, "port the cluster DNS listens on, at the node's address and 127.0.0.1")
	f.StringSliceVar(&cfg.Disable, "disable", nil, "packaged components not to run, as k3s: coredns (the cluster DNS), servicelb (type LoadBalancer Services are left to another implementation); traefik, local-storage, metrics-server and runtimes are accepted")
	f.StringSliceVar(&cfg.DisableControllers, "disable-controllers", nil, "controllers not to run, by upstream's names (e.g. replicaset,garbage-collector); see docs/controllers.md")
	f.BoolVar(&cfg.Agent.DisableProxy, "disable-proxy", false, "do not run the service proxy on the local node")
	f.BoolVar(&cfg.Agent.DisableNetworkPolicy, "disable-network-policy", false, "do not enforce NetworkPolicies on the local node")
	f.IntVar(&cfg.TerminatedPodGCThreshold, "terminated-pod-gc-threshold", 12500, "terminated pods kept before the oldest are deleted (0: keep them all), as kube-controller-manager's flag")
	f.DurationVar(&cfg.NodeMonitorPeriod, "node-monitor-period", 5*time.Second, "how often the node lifecycle controller checks nodes' health")
	f.DurationVar(&cfg.NodeMonitorGracePeriod, "node-monitor-grace-period", 50*time.Second, "how long a node may go without renewing its lease or posting status before it is marked Unknown and tainted unreachable")
	f.DurationVar(&cfg.HPASyncPeriod, "horizontal-pod-autoscaler-sync-period", 15*time.Second, "how often each HorizontalPodAutoscaler is reconciled")
	f.DurationVar(&cfg.ClusterSigningDuration, "cluster-signing-duration", 365*24*time.Hour, "longest lifetime of certificates issued for CertificateSigningRequests (node client certificates are renewed at 70-90% of theirs), as kube-controller-manager's flag")
	f.DurationVar(&cfg.LegacyTokenCleanUpPeriod, "legacy-service-account-token-clean-up-period", 365*24*time.Hour, "how long an auto-generated secret-based service account token may go unused before it is marked invalid, and then stay invalid before it is deleted, as kube-controller-manager's flag")
	f.BoolVar(&leaderElect, "leader-elect", true, "run the controllers and the scheduler only while this server holds their kube-system Leases (kube-controller-manager, kube-scheduler), so a second server on the same datastore stands by")
	f.StringVar(&cfg.Token, "token", "", "shared secret agents join with (generated if empty)")
	f.StringSliceVar(&cfg.AuthorizationModes, "authorization-mode", []string{"Node", "RBAC"}, "authorizers asked in turn after the system:masters bypass: Node, RBAC, AlwaysAllow, AlwaysDeny")
	f.StringSliceVar(&cfg.EnableAdmissionPlugins, "enable-admission-plugins", nil, "admission plugins that are off by default to run: "+strings.Join(plugins.OffByDefault(), ", "))
	f.StringSliceVar(&cfg.DisableAdmissionPlugins, "disable-admission-plugins", nil, "admission plugins not to run, by upstream's names: "+strings.Join(plugins.Names(), ", "))
	f.IntVar(&cfg.MaxRequestsInFlight, "max-requests-inflight", 400, "the most read requests served at once (watches, exec, logs and proxies not counted); more are answered 429 Too Many Requests; 0 is no cap")
	f.IntVar(&cfg.MaxMutatingRequestsInFlight, "max-mutating-requests-inflight", 200, "the most create, update, patch and delete requests served at once; more are answered 429; 0 is no cap")
	f.BoolVar(&cfg.AnonymousAuth, "anonymous-auth", true, "serve requests without credentials as system:anonymous, who may read /healthz, /livez, /readyz and /version only; false refuses them with 401")
	f.StringVar(&cfg.EncryptionProviderConfig, "encryption-provider-config", "", "EncryptionConfiguration file (apiserver.config.k8s.io/v1) saying how resources are encrypted in etcd; empty encrypts Secrets with a key generated into <data-dir>/server/cred/encryption-config.yaml")
	f.StringVar(&cfg.AuditPolicyFile, "audit-policy-file", "", "audit.k8s.io/v1 Policy saying what the audit log records of each request; without it nothing is audited")
	f.StringVar(&cfg.AuditLog.Path, "audit-log-path", "", "file the audit log is written to, one JSON audit.k8s.io/v1 Event a line; '-' is standard output")
	f.IntVar(&cfg.AuditLog.MaxSize, "audit-log-maxsize", 0, "megabytes the audit log may grow to before it is rotated (0: never)")
	f.IntVar(&cfg.AuditLog.MaxBackups, "audit-log-maxbackup", 0, "rotated audit log files to keep (0: all)")
	f.IntVar(&cfg.AuditLog.MaxAge, "audit-log-maxage", 0, "days to keep rotated audit log files (0: forever)")
	f.StringVar(&cfg.Agent.NodeName, "node-name", "", "name of the local node (the host name if empty)")
	f.StringVar(&cfg.Agent.ContainerRuntimeEndpoint, "container-runtime-endpoint", "", "CRI socket of an existing runtime; empty runs containerd")
	f.StringVar(&cfg.Agent.Bridge, "cni-bridge", "cni0", "Linux bridge of the pod network")
	f.IntVar(&cfg.Agent.KubeletPort, "kubelet-port", 10250, "port of the node agent's API (logs, exec, port-forward, stats)")
	addLogFlags(f, &cfg.Agent.Logs)
	f.BoolVarP(&verbose, "verbose", "v", false, "log debug messages")
	return cmd
}
