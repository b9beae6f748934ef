// Package server runs `minik8s server`: the control plane (etcd, API server,
// controllers) and, unless disabled, the local node agent, as components of one
// process.
package server

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/minik8s/minik8s/pkg/admission/plugins"
	"github.com/minik8s/minik8s/pkg/audit"

	"github.com/minik8s/minik8s/pkg/kubelet/logs"
)

// Config is everything `minik8s server` is told on its command line.
type Config struct {
	// DataDir holds certificates, etcd data and the agent's state.
	DataDir string
	// BindAddress is the IP the API server listens on.
	BindAddress string
	// HTTPSPort is the API server's port.
	HTTPSPort int
	// WriteKubeconfig is an extra path for the admin kubeconfig.
	WriteKubeconfig string
	// DatastoreEndpoint names an external etcd cluster; empty runs etcd embedded.
	DatastoreEndpoint string
	// DatastoreCAFile, DatastoreCertFile and DatastoreKeyFile secure the external etcd connection.
	DatastoreCAFile, DatastoreCertFile, DatastoreKeyFile string
	// DisableAgent runs the control plane only.
	DisableAgent bool
	// DisableScheduler leaves pods unscheduled (another scheduler places them).
	DisableScheduler bool
	// SchedulerConfig is a KubeSchedulerConfiguration file; empty uses the defaults.
	SchedulerConfig string
	// TLSSANs are extra names and IPs for the serving certificate.
	TLSSANs []string
	// ServiceCIDR is the range of ClusterIPs; ClusterCIDR the pod range, split per node.
	ServiceCIDR string
	ClusterCIDR string
	// ClusterDomain is the DNS suffix of Services.
	ClusterDomain string
	// ClusterDNS is the kube-dns Service's ClusterIP, the pods' name server;
	// empty is the tenth address of ServiceCIDR (10.96.0.10), as kubeadm and k3s.
	ClusterDNS string
	// ClusterDNSPort is where the cluster DNS listens, on the node's address
	// and on loopback; the kube-dns endpoints point there.
	ClusterDNSPort int
	// Disable names packaged components not to run, as k3s' --disable does:
	// "coredns" turns the cluster DNS off (the kube-dns Service is then left
	// to another implementation).
	Disable []string
	// DisableControllers names controllers not to run (upstream's names).
	DisableControllers []string
	// TerminatedPodGCThreshold is how many terminated pods may exist before the
	// pod garbage collector deletes the oldest (0: never).
	TerminatedPodGCThreshold int
	// NodeMonitorPeriod and NodeMonitorGracePeriod tune the node lifecycle
	// controller: how often node health is checked, and how long a node may
	// stay silent before it is Unknown (zero: upstream's 5s and 50s).
	NodeMonitorPeriod, NodeMonitorGracePeriod time.Duration
	// HPASyncPeriod is how often each HorizontalPodAutoscaler is looked at
	// (zero: upstream's 15s).
	HPASyncPeriod time.Duration
	// ClusterSigningDuration is the longest lifetime of certificates issued
	// for CertificateSigningRequests (zero: a year), as kube-controller-manager's
	// --cluster-signing-duration; short ones let tests watch nodes rotate theirs.
	ClusterSigningDuration time.Duration
	// LegacyTokenCleanUpPeriod is how long an auto-generated secret-based
	// service account token may go unused before it is marked invalid, and
	// then stay invalid before it is deleted (zero: a year).
	LegacyTokenCleanUpPeriod time.Duration
	// DisableLeaderElection runs the controllers and the scheduler without
	// holding their kube-system Leases (--leader-elect=false).
	DisableLeaderElection bool
	// Token lets agents join; empty generates one kept in the data dir.
	Token string
	// AnonymousAuth serves requests without credentials as system:anonymous
	// (who may read health and version only); false answers them 401.
	AnonymousAuth bool
	// MaxRequestsInFlight and MaxMutatingRequestsInFlight cap the read and the
	// write requests the API server serves at once (upstream's flags and
	// defaults, 400 and 200); beyond them a request is answered 429. 0 is no cap.
	MaxRequestsInFlight, MaxMutatingRequestsInFlight int
	// AuthorizationModes are the authorizers asked in turn after the
	// system:masters bypass: Node, RBAC, AlwaysAllow, AlwaysDeny.
	AuthorizationModes []string
	// EncryptionProviderConfig is an EncryptionConfiguration file; empty uses
	// (and first creates) the data dir's, which encrypts Secrets.
	EncryptionProviderConfig string
	// AuditPolicyFile is an audit.k8s.io/v1 Policy; with AuditLog.Path set,
	// requests are audited.
	AuditPolicyFile string
	AuditLog        audit.LogConfig
	// DisableAdmissionPlugins names admission plugins not to run; all others do.
	DisableAdmissionPlugins []string
	// EnableAdmissionPlugins names plugins that are off by default to run.
	EnableAdmissionPlugins []string
	// AgentArgs configures the local agent when it runs.
	Agent AgentOptions
}

// AgentOptions are the local agent's settings.
type AgentOptions struct {
	NodeName                 string
	ContainerRuntimeEndpoint string
	// Bridge is the pod network's Linux bridge; several nodes on one host need
	// different ones (and different --cluster-cidr ranges).
	Bridge string
	// KubeletPort serves the node's API (logs, exec, stats).
	KubeletPort int
	// Logs says when containers' log files are rotated.
	Logs logs.Policy
	// DisableProxy leaves Services to another proxy on the local node.
	DisableProxy bool
	// DisableNetworkPolicy leaves NetworkPolicies unenforced on the local node.
	DisableNetworkPolicy bool
}

// ComponentServiceLB is --disable's name for the service load balancer:
// type LoadBalancer Services are then left to another implementation.
const ComponentServiceLB = "servicelb"

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("--data-dir must not be empty")
	}
	if c.MaxRequestsInFlight < 0 || c.MaxMutatingRequestsInFlight < 0 {
		return fmt.Errorf("--max-requests-inflight %d, --max-mutating-requests-inflight %d: must not be negative", c.MaxRequestsInFlight, c.MaxMutatingRequestsInFlight)
	}
	if ip := net.ParseIP(c.BindAddress); ip == nil {
		return fmt.Errorf("--bind-address %q is not an IP address", c.BindAddress)
	}
	if c.HTTPSPort < 0 || c.HTTPSPort > 65535 {
		return fmt.Errorf("--https-listen-port %d is out of range", c.HTTPSPort)
	}
	if len(c.AuthorizationModes) == 0 {
		return errors.New("--authorization-mode must name at least one mode")
	}
	seen := map[string]bool{}
	for _, m := range c.AuthorizationModes {
		switch m {
		case ModeNode, ModeRBAC, ModeAlwaysAllow, ModeAlwaysDeny:
		default:
			return fmt.Errorf("--authorization-mode: unknown mode %q (use Node, RBAC, AlwaysAllow or AlwaysDeny)", m)
		}
		if seen[m] {
			return fmt.Errorf("--authorization-mode: %s given twice", m)
		}
		seen[m] = true
	}
	for _, n := range c.DisableAdmissionPlugins {
		if !slices.Contains(plugins.Names(), n) {
			return fmt.Errorf("--disable-admission-plugins: unknown plugin %q (known: %s)", n, strings.Join(plugins.Names(), ", "))
		}
	}
	for _, n := range c.EnableAdmissionPlugins {
		if !slices.Contains(plugins.Names(), n) {
			return fmt.Errorf("--enable-admission-plugins: unknown plugin %q (known: %s)", n, strings.Join(plugins.Names(), ", "))
		}
	}
	if c.NodeMonitorPeriod < 0 || c.NodeMonitorGracePeriod < 0 || c.HPASyncPeriod < 0 {
		return errors.New("--node-monitor-period, --node-monitor-grace-period and --horizontal-pod-autoscaler-sync-period must not be negative")
	}
	if c.ClusterSigningDuration < 0 {
		return errors.New("--cluster-signing-duration must not be negative")
	}
	if c.LegacyTokenCleanUpPeriod < 0 {
		return errors.New("--legacy-service-account-token-clean-up-period must not be negative")
	}
	if c.AuditLog.Path != "" {
		if err := c.AuditLog.Validate(); err != nil {
			return err
		}
	}
	for _, cidr := range []string{c.ServiceCIDR, c.ClusterCIDR} {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			return fmt.Errorf("invalid CIDR %q: %w", cidr, err)
		}
	}
	if c.ClusterDNSPort < 0 || c.ClusterDNSPort > 65535 {
		return fmt.Errorf("--cluster-dns-port %d is out of range", c.ClusterDNSPort)
	}
	if _, err := c.ClusterDNSIP(); err != nil {
		return err
	}
	for _, d := range c.Disable {
		if !disableable[d] {
			return fmt.Errorf("--disable: unknown component %q (use coredns, servicelb, traefik, local-storage, metrics-server or runtimes)", d)
		}
	}
	return nil
}

// disableable are the names k3s' --disable knows; those minik8s does not
// package are accepted and change nothing, so k3s command lines work.
var disableable = map[string]bool{"coredns": true, "servicelb": true, "traefik": true, "local-storage": true,
	"metrics-server": true, "runtimes": true}

// Disabled reports whether --disable names the component.
func (c *Config) Disabled(name string) bool {
	for _, d := range c.Disable {
		if d == name {
			return true
		}
	}
	return false
}

// ClusterDNSIP is the kube-dns ClusterIP: --cluster-dns, else the tenth
// address of the service CIDR.
func (c *Config) ClusterDNSIP() (net.IP, error) {
	_, cidr, err := net.ParseCIDR(c.ServiceCIDR)
	if err != nil {
		return nil, fmt.Errorf("invalid CIDR %q: %w", c.ServiceCIDR, err)
	}
	if c.ClusterDNS != "" {
		ip := net.ParseIP(c.ClusterDNS)
		if ip == nil || !cidr.Contains(ip) {
			return nil, fmt.Errorf("--cluster-dns %q is not an address in the service CIDR %s", c.ClusterDNS, c.ServiceCIDR)
		}
		return ip, nil
	}
	ip := make(net.IP, len(cidr.IP))
	copy(ip, cidr.IP)
	carry := 10
	for i := len(ip) - 1; i >= 0 && carry > 0; i-- {
		v := int(ip[i]) + carry
		ip[i], carry = byte(v), v>>8
	}
	if !cidr.Contains(ip) {
		return nil, fmt.Errorf("the service CIDR %s is too small for the cluster DNS address", c.ServiceCIDR)
	}
	if ip4 := ip.To4(); ip4 != nil {
		ip = ip4
	}
	return ip, nil
}

// paths under the data dir.
func (c *Config) tlsDir() string        { return filepath.Join(c.DataDir, "server", "tls") }
func (c *Config) etcdDir() string       { return filepath.Join(c.DataDir, "server", "db") }
func (c *Config) tokenFile() string     { return filepath.Join(c.DataDir, "server", "token") }
func (c *Config) joinTokenFile() string { return filepath.Join(c.DataDir, "server", "node-token") }
func (c *Config) kubeconfig() string    { return filepath.Join(c.DataDir, "kubeconfig.yaml") }
func (c *Config) agentDir() string      { return filepath.Join(c.DataDir, "agent") }
func (c *Config) credDir() string       { return filepath.Join(c.DataDir, "server", "cred") }
func (c *Config) encryptionConfigFile() string {
	return filepath.Join(c.credDir(), "encryption-config.yaml")
}
