// Package node registers this machine as a Node, keeps its status current and
// renews its Lease in kube-node-lease, as upstream's kubelet does.
package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// Intervals as upstream's defaults.
const (
	statusUpdateFrequency = 10 * time.Second
	statusReportFrequency = 5 * time.Minute
	leaseDuration         = 40
	leaseRenew            = 10 * time.Second
	KubeletPort           = 10250
	maxPods               = 110
)

// Config describes the node.
type Config struct {
	Name   string
	Client kubernetes.Interface
	// Labels are added at registration (roles).
	Labels map[string]string
	// DataDir is measured for ephemeral-storage capacity.
	DataDir string
	// KubeletVersion and RuntimeVersion go into nodeInfo.
	KubeletVersion string
	RuntimeVersion func(ctx context.Context) string
	// Images lists images for node status (may be nil).
	Images func(ctx context.Context) []corev1.ContainerImage
	// KubeletPort is advertised in status.daemonEndpoints.
	KubeletPort int
	// Ready reports whether the runtime and network are ready; nil is ready.
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
}

// Node keeps this machine's Node object and Lease.
type Node struct {
	cfg Config
	log *slog.Logger

	mu         sync.Mutex
	internalIP string
	lastReport time.Time
}

// New returns the node agent part; Register, then Run.
func New(cfg Config) (*Node, error) {
	if cfg.Name == "" || cfg.Client == nil {
		return nil, fmt.Errorf("node: name and client are required")
	}
	return &Node{cfg: cfg, log: cfg.Logger}, nil
}

// Name is the node's name.
func (n *Node) Name() string { return n.cfg.Name }

// SetInternalIP sets the address reported in status.addresses.
func (n *Node) SetInternalIP(ip string) {
	n.mu.Lock()
	n.internalIP = ip
	n.mu.Unlock()
}

// Register creates the Node, or adopts an existing one of this name.
func (n *Node) Register(ctx context.Context) (*corev1.Node, error) {
	labels := map[string]string{
		corev1.LabelHostname:      n.cfg.Name,
		corev1.LabelOSStable:      runtime.GOOS,
		corev1.LabelArchStable:    runtime.GOARCH,
		"beta.kubernetes.io/os":   runtime.GOOS,
		"beta.kubernetes.io/arch": runtime.GOARCH,
	}
	for k, v := range n.cfg.Labels {
		labels[k] = v
	}
	obj := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.cfg.Name, Labels: labels,
		Annotations: map[string]string{"volumes.kubernetes.io/controller-managed-attach-detach": "true"}}}
	created, err := n.cfg.Client.CoreV1().Nodes().Create(ctx, obj, metav1.CreateOptions{})
	if err == nil {
		return created, n.updateStatus(ctx, true)
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("register node %s: %w", n.cfg.Name, err)
	}
	existing, err := n.cfg.Client.CoreV1().Nodes().Get(ctx, n.cfg.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get node %s: %w", n.cfg.Name, err)
	}
	missing := map[string]string{}
	for k, v := range labels {
		if existing.Labels[k] != v {
			missing[k] = v
		}
	}
	if len(missing) > 0 {
		// A patch of the labels alone: an update would send the taints as read,
		// and the node lifecycle controller may have changed them since, which
		// NodeRestriction refuses as the node modifying its own taints.
		patch, err := json.Marshal(map[string]interface{}{"metadata": map[string]interface{}{"labels": missing}})
		if err != nil {
			return nil, err
		}
		if existing, err = n.cfg.Client.CoreV1().Nodes().Patch(ctx, n.cfg.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return nil, fmt.Errorf("update labels of node %s: %w", n.cfg.Name, err)
		}
	}
	return existing, n.updateStatus(ctx, true)
}

// Run renews the Lease and updates status until ctx ends.
func (n *Node) Run(ctx context.Context) {
	go n.renewLease(ctx)
	t := time.NewTicker(statusUpdateFrequency)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := n.updateStatus(ctx, false); err != nil && ctx.Err() == nil {
				n.log.Info("update node status", "err", err)
			}
		}
	}
}

// UpdateStatus reports status now (after the runtime or network changed).
func (n *Node) UpdateStatus(ctx context.Context) error { return n.updateStatus(ctx, true) }

func (n *Node) updateStatus(ctx context.Context, force bool) error {
	for attempt := 0; attempt < 5; attempt++ {
		node, err := n.cfg.Client.CoreV1().Nodes().Get(ctx, n.cfg.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		want := node.DeepCopy()
		n.fillStatus(ctx, &want.Status)
		if !force && statusEqual(node.Status, want.Status) && time.Since(n.lastReport) < statusReportFrequency {
			return nil
		}
		now := metav1.Now()
		for i := range want.Status.Conditions {
			want.Status.Conditions[i].LastHeartbeatTime = now
		}
		_, err = n.cfg.Client.CoreV1().Nodes().UpdateStatus(ctx, want, metav1.UpdateOptions{})
		// Forbidden too: NodeRestriction refuses an update whose taints differ
		// from the stored ones, which they do when the node lifecycle controller
		// changed them since the read; read again and retry.
		if apierrors.IsConflict(err) || apierrors.IsForbidden(err) && attempt < 4 {
			continue
		}
		if err == nil {
			n.lastReport = time.Now()
		}
		return err
	}
	return fmt.Errorf("update node status: too many conflicts")
}

// statusEqual compares statuses ignoring heartbeat times.
func statusEqual(a, b corev1.NodeStatus) bool {
	a, b = *a.DeepCopy(), *b.DeepCopy()
	for i := range a.Conditions {
		a.Conditions[i].LastHeartbeatTime = metav1.Time{}
	}
	for i := range b.Conditions {
		b.Conditions[i].LastHeartbeatTime = metav1.Time{}
	}
	return equality.Semantic.DeepEqual(a, b)
}

// Allocatable is what pods may use of this node (all of it: nothing is reserved).
func (n *Node) Allocatable() corev1.ResourceList { return n.capacity() }

func (n *Node) capacity() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(memTotal(), resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(maxPods, resource.DecimalSI),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(diskTotal(n.cfg.DataDir), resource.BinarySI),
		"hugepages-2Mi":                 *resource.NewQuantity(0, resource.BinarySI),
		"hugepages-1Gi":                 *resource.NewQuantity(0, resource.BinarySI),
	}
}

func (n *Node) fillStatus(ctx context.Context, st *corev1.NodeStatus) {
	capacity := n.capacity()
	st.Capacity = capacity
	st.Allocatable = capacity.DeepCopy()
	n.mu.Lock()
	ip := n.internalIP
	n.mu.Unlock()
	st.Addresses = nil
	if ip != "" {
		st.Addresses = append(st.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip})
	}
	st.Addresses = append(st.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: n.cfg.Name})
	port := n.cfg.KubeletPort
	if port == 0 {
		port = KubeletPort
	}
	st.DaemonEndpoints.KubeletEndpoint.Port = int32(port)
	rv := ""
	if n.cfg.RuntimeVersion != nil {
		rv = n.cfg.RuntimeVersion(ctx)
	}
	st.NodeInfo = corev1.NodeSystemInfo{
		MachineID:               readTrim("/etc/machine-id"),
		SystemUUID:              readTrim("/sys/class/dmi/id/product_uuid"),
		BootID:                  readTrim("/proc/sys/kernel/random/boot_id"),
		KernelVersion:           kernelVersion(),
		OSImage:                 osImage(),
		ContainerRuntimeVersion: rv,
		KubeletVersion:          n.cfg.KubeletVersion,
		KubeProxyVersion:        "",
		OperatingSystem:         runtime.GOOS,
		Architecture:            runtime.GOARCH,
	}
	if n.cfg.Images != nil {
		st.Images = n.cfg.Images(ctx)
	}
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"}
	if n.cfg.Ready != nil {
		if err := n.cfg.Ready(ctx); err != nil {
			ready = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionFalse, Reason: "KubeletNotReady", Message: err.Error()}
		}
	}
	conds := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		ready,
	}
	now := metav1.Now()
	for i := range conds {
		conds[i].LastTransitionTime = now
		for _, old := range st.Conditions {
			if old.Type == conds[i].Type && old.Status == conds[i].Status {
				conds[i].LastTransitionTime = old.LastTransitionTime
				conds[i].LastHeartbeatTime = old.LastHeartbeatTime
			}
		}
	}
	var other []corev1.NodeCondition
	for _, old := range st.Conditions {
		switch old.Type {
		case corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure, corev1.NodeReady:
		default:
			other = append(other, old)
		}
	}
	st.Conditions = append(other, conds...)
}

// renewLease keeps kube-node-lease/<node> fresh, the node's heartbeat.
func (n *Node) renewLease(ctx context.Context) {
	t := time.NewTicker(leaseRenew)
	defer t.Stop()
	for {
		if err := n.renew(ctx); err != nil && ctx.Err() == nil {
			n.log.Info("renew node lease", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Node) renew(ctx context.Context) error {
	leases := n.cfg.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, n.cfg.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		node, err := n.cfg.Client.CoreV1().Nodes().Get(ctx, n.cfg.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: n.cfg.Name, Namespace: corev1.NamespaceNodeLease,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(n.cfg.Name), LeaseDurationSeconds: ptr.To(int32(leaseDuration)), RenewTime: &now},
		}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.HolderIdentity = ptr.To(n.cfg.Name)
	l.Spec.LeaseDurationSeconds = ptr.To(int32(leaseDuration))
	l.Spec.RenewTime = &now
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func kernelVersion() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return ""
	}
	b := make([]byte, 0, len(u.Release))
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

func osImage() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "Linux"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "Linux"
}

func memTotal() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "MemTotal:") {
			var kb int64
			fmt.Sscanf(strings.Fields(line)[1], "%d", &kb)
			return kb * 1024
		}
	}
	return 0
}

func diskTotal(dir string) int64 {
	var st syscall.Statfs_t
	if dir == "" || syscall.Statfs(dir, &st) != nil {
		return 0
	}
	return int64(st.Blocks) * int64(st.Bsize)
}
