package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/minik8s/minik8s/bench/internal/proc"
)

const (
	benchNamespace = "bench"
	benchNode      = "bench-node"
	servicePort    = 80
	endpointPort   = 8080
)

// cluster is the one API server every proxy and DNS server reads: a minik8s
// server without node agent (no proxy of its own), scheduler or DNS.
type cluster struct {
	dir, kubeconfig string
	port            int
	binary          string
	stopFn          func()
	cs              kubernetes.Interface

	mu       sync.Mutex
	services []benchService
	nextIP   int // changes made so far: each gets an address never used before
}

// benchService is Service svc-N and its one EndpointSlice.
type benchService struct {
	clusterIP netip.Addr
	port      uint16 // the Service's port now (service changes move it between 80 and 81)
	slice     *discoveryv1.EndpointSlice
}

func startCluster(ctx context.Context, binary string) (*cluster, error) {
	dir, err := os.MkdirTemp("", "minik8s-bench-network-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	var sans []string
	for i := range sandboxAddrs {
		a := sandboxAddrs[i].As4()
		a[3]++
		sans = append(sans, netip.AddrFrom4(a).String())
	}
	c := &cluster{dir: dir, port: port, binary: binary, kubeconfig: filepath.Join(dir, "data", "kubeconfig.yaml")}
	srv, err := proc.Start(filepath.Join(dir, "server.log"), binary, "server", "--disable-agent", "--disable-scheduler",
		"--disable", "coredns", "--data-dir", filepath.Join(dir, "data"), "--https-listen-port", strconv.Itoa(port),
		"--tls-san", strings.Join(sans, ","))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c.stopFn = func() { proc.Stop(srv) }
	if err := waitFile(c.kubeconfig, 60*time.Second); err != nil {
		c.stop(true)
		return nil, fmt.Errorf("minik8s server: %w (log in %s)", err, dir)
	}
	if c.cs, err = client(c.kubeconfig); err != nil {
		c.stop(true)
		return nil, err
	}
	if err := waitAPI(ctx, c.cs, 60*time.Second); err != nil {
		c.stop(true)
		return nil, err
	}
	if err := c.setup(ctx); err != nil {
		c.stop(true)
		return nil, err
	}
	return c, nil
}

// stop stops the server; its data and the logs of every program go too
// unless keep (after a failure, to read them).
func (c *cluster) stop(keep bool) {
	if c.stopFn != nil {
		c.stopFn()
	}
	if keep {
		fmt.Fprintf(os.Stderr, "logs kept in %s\n", c.dir)
	} else {
		os.RemoveAll(c.dir)
	}
}

// kubeconfigVia writes a copy of the admin kubeconfig that reaches the
// server at addr (a sandbox's host end) and returns its path.
func (c *cluster) kubeconfigVia(addr netip.Addr) (string, error) {
	cfg, err := clientcmd.LoadFromFile(c.kubeconfig)
	if err != nil {
		return "", err
	}
	for _, cl := range cfg.Clusters {
		cl.Server = "https://" + net.JoinHostPort(addr.String(), strconv.Itoa(c.port))
	}
	path := filepath.Join(c.dir, "kubeconfig-"+addr.String()+".yaml")
	return path, clientcmd.WriteToFile(*cfg, path)
}

// setup makes the namespace and the Node the proxies run as, with its pod
// range (both proxies wait for it).
func (c *cluster) setup(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNamespace}}
	if _, err := c.cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace: %w", err)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: benchNode, Labels: map[string]string{"kubernetes.io/hostname": benchNode}},
		Spec: corev1.NodeSpec{PodCIDR: "10.244.0.0/24", PodCIDRs: []string{"10.244.0.0/24"}}}
	created, err := c.cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create node: %w", err)
	}
	created.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.244.0.1"},
		{Type: corev1.NodeHostName, Address: benchNode}}
	if _, err := c.cs.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("node status: %w", err)
	}
	return nil
}

// ensureServices makes Services svc-0 … svc-(n-1), each with one ClusterIP
// port and an EndpointSlice of m ready endpoints (no selector, so no
// controller touches the slices but the bench).
func (c *cluster) ensureServices(ctx context.Context, n, m int) error {
	have := len(c.services)
	if have >= n {
		return nil
	}
	c.services = append(c.services, make([]benchService, n-have)...)
	work := make(chan int)
	errc := make(chan error, 32)
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := c.createService(ctx, i, m); err != nil {
					select {
					case errc <- err:
					default:
					}
				}
			}
		}()
	}
	for i := have; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

func (c *cluster) createService(ctx context.Context, i, m int) error {
	name := serviceName(i)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNamespace},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: servicePort,
			TargetPort: intstr.FromInt32(endpointPort)}}}}
	created, err := c.cs.CoreV1().Services(benchNamespace).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create service %s: %w", name, err)
	}
	ip, err := netip.ParseAddr(created.Spec.ClusterIP)
	if err != nil {
		return fmt.Errorf("service %s has no ClusterIP: %w", name, err)
	}
	ready := true
	portName, proto, port := "http", corev1.ProtocolTCP, int32(endpointPort)
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-bench", Namespace: benchNamespace, Labels: map[string]string{
			discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: "bench-network"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Protocol: &proto, Port: &port}},
	}
	for j := 0; j < m; j++ {
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{endpointAddr(i*m + j).String()},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready}, NodeName: ptr(benchNode)})
	}
	cs, err := c.cs.DiscoveryV1().EndpointSlices(benchNamespace).Create(ctx, slice, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create endpoint slice of %s: %w", name, err)
	}
	c.mu.Lock()
	c.services[i] = benchService{clusterIP: ip, port: servicePort, slice: cs}
	c.mu.Unlock()
	return nil
}

// moveEndpoint gives Service i's first endpoint a new address; it returns
// once the API server has stored the change.
func (c *cluster) moveEndpoint(ctx context.Context, i int, addr netip.Addr) error {
	s := c.services[i].slice.DeepCopy()
	s.Endpoints[0].Addresses = []string{addr.String()}
	updated, err := c.cs.DiscoveryV1().EndpointSlices(benchNamespace).Update(ctx, s, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update endpoint slice of %s: %w", s.Name, err)
	}
	c.services[i].slice = updated
	return nil
}

// movePort moves Service i's port between 80 and 81 and returns the new one.
func (c *cluster) movePort(ctx context.Context, i int) (uint16, error) {
	port := uint16(servicePort + 1)
	if c.services[i].port != servicePort {
		port = servicePort
	}
	patch := fmt.Sprintf(`{"spec":{"ports":[{"name":"http","protocol":"TCP","port":%d,"targetPort":%d}]}}`, port, endpointPort)
	if _, err := c.cs.CoreV1().Services(benchNamespace).Patch(ctx, serviceName(i), types.MergePatchType, []byte(patch),
		metav1.PatchOptions{}); err != nil {
		return 0, fmt.Errorf("move the port of %s: %w", serviceName(i), err)
	}
	c.services[i].port = port
	return port, nil
}

// newEndpointAddr is an address no endpoint has had yet (10.250.0.0/16 on).
func (c *cluster) newEndpointAddr() netip.Addr {
	c.nextIP++
	return netip.AddrFrom4([4]byte{10, byte(250 + c.nextIP>>16), byte(c.nextIP >> 8), byte(c.nextIP)})
}

func ptr[T any](v T) *T { return &v }

// serviceName is the name of Service i; DNS queries ask for these.
func serviceName(i int) string { return "svc-" + strconv.Itoa(i) }

// endpointAddr is the k-th endpoint address of the initial slices (10.128.0.0/10).
func endpointAddr(k int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(128 + (k>>16)&63), byte(k >> 8), byte(k)})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func client(kubeconfig string) (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	rc.QPS, rc.Burst = 100000, 100000
	rc.ContentType = "application/vnd.kubernetes.protobuf"
	rc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	return kubernetes.NewForConfig(rc)
}

func waitAPI(ctx context.Context, cs kubernetes.Interface, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("API server not ready after %s", timeout)
}

func waitFile(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not written after %s", path, timeout)
}
