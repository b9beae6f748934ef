package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// phase is the outcome of one operation run N times by W workers.
type phase struct {
	name    string
	ops     int
	errors  int64
	elapsed time.Duration
	lat     []time.Duration
}

func (p phase) rate() float64 { return float64(p.ops) / p.elapsed.Seconds() }

func (p phase) pct(q float64) time.Duration {
	if len(p.lat) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), p.lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q * float64(len(s)-1))
	return s[i]
}

// clients builds n independent protobuf clientsets (separate connections).
func clients(kubeconfig string, n int) ([]kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.QPS = -1
	cfg.Burst = 1 << 20
	cfg.Timeout = 60 * time.Second
	var out []kubernetes.Interface
	for i := 0; i < n; i++ {
		c := rest.CopyConfig(cfg)
		// A distinct user agent per client keeps transports (and connections) apart.
		c.UserAgent = "minik8s-bench/" + strconv.Itoa(i)
		cs, err := kubernetes.NewForConfig(c)
		if err != nil {
			return nil, err
		}
		out = append(out, cs)
	}
	return out, nil
}

// run spreads n operations over the workers and times each.
func run(name string, n, workers int, cs []kubernetes.Interface, op func(ctx context.Context, c kubernetes.Interface, i int) error) phase {
	var next atomic.Int64
	var errs atomic.Int64
	lats := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := cs[w%len(cs)]
			ctx := context.Background()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := op(ctx, c, i); err != nil {
					errs.Add(1)
					continue
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		}(w)
	}
	wg.Wait()
	p := phase{name: name, ops: n, errors: errs.Load(), elapsed: time.Since(start)}
	for _, l := range lats {
		p.lat = append(p.lat, l...)
	}
	return p
}

// crud runs create, get, get+update, list and delete of n ConfigMaps, as the
// kubeconfig's user or, with asServiceAccount, as a service account bound to
// the edit role in the namespace: every request then goes through RBAC.
func crud(kubeconfig string, n, workers int, asServiceAccount bool) ([]phase, error) {
	admin, err := clients(kubeconfig, 4)
	if err != nil {
		return nil, err
	}
	ns := fmt.Sprintf("bench-%d", time.Now().UnixNano()%1000000)
	ctx := context.Background()
	if _, err := admin[0].CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create namespace: %w", err)
	}
	defer admin[0].CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	if err := registerWebhookConfigs(ctx, admin[0], webhookConfigs); err != nil {
		return nil, err
	}
	cs := admin
	if asServiceAccount {
		if cs, err = serviceAccountClients(admin[0], kubeconfig, ns, 4); err != nil {
			return nil, err
		}
	}
	name := func(i int) string { return "cm-" + strconv.Itoa(i) }
	payload := map[string]string{"config": "value-0123456789abcdef0123456789abcdef0123456789abcdef"}
	var out []phase
	out = append(out, run("create", n, workers, cs, func(ctx context.Context, c kubernetes.Interface, i int) error {
		_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name(i), Labels: map[string]string{"app": "bench"}}, Data: payload}, metav1.CreateOptions{})
		return err
	}))
	out = append(out, run("get", n, workers, cs, func(ctx context.Context, c kubernetes.Interface, i int) error {
		_, err := c.CoreV1().ConfigMaps(ns).Get(ctx, name(i), metav1.GetOptions{})
		return err
	}))
	out = append(out, run("get+update", n, workers, cs, func(ctx context.Context, c kubernetes.Interface, i int) error {
		cm, err := c.CoreV1().ConfigMaps(ns).Get(ctx, name(i), metav1.GetOptions{})
		if err != nil {
			return err
		}
		cm.Data["updated"] = "yes"
		_, err = c.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
		return err
	}))
	// The list of all n, twenty times, one at a time: enough samples for a p50 that
	// one collection in the client or the server does not move.
	out = append(out, run("list all", 20, 1, cs, func(ctx context.Context, c kubernetes.Interface, i int) error {
		l, err := c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		// kube-root-ca.crt is published into the namespace as well.
		if err == nil && len(l.Items) < n {
			return fmt.Errorf("listed %d of %d", len(l.Items), n)
		}
		return err
	}))
	out = append(out, run("delete", n, workers, cs, func(ctx context.Context, c kubernetes.Interface, i int) error {
		err := c.CoreV1().ConfigMaps(ns).Delete(ctx, name(i), metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}))
	return out, nil
}

// serviceAccountClients makes a service account in ns, binds it to the edit
// role there, and returns n clients that authenticate with its token only.
func serviceAccountClients(admin kubernetes.Interface, kubeconfig, ns string, n int) ([]kubernetes.Interface, error) {
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bench"}}
	if _, err := admin.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create service account: %w", err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bench-edit"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "bench", Namespace: ns}}}
	if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("bind the edit role: %w", err)
	}
	tr, err := admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "bench", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create token: %w", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg = &rest.Config{Host: cfg.Host, BearerToken: tr.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: cfg.CAData, CAFile: cfg.CAFile, Insecure: cfg.Insecure}}
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.QPS = -1
	cfg.Burst = 1 << 20
	cfg.Timeout = 60 * time.Second
	var out []kubernetes.Interface
	for i := 0; i < n; i++ {
		c := rest.CopyConfig(cfg)
		c.UserAgent = "minik8s-bench-sa/" + strconv.Itoa(i)
		cs, err := kubernetes.NewForConfig(c)
		if err != nil {
			return nil, err
		}
		out = append(out, cs)
	}
	// Upstream's authorizer learns of the binding from an informer: wait for it.
	for i := 0; i < 100; i++ {
		if _, err := out[0].CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{Limit: 1}); err == nil {
			return out, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, fmt.Errorf("the service account cannot list configmaps in %s", ns)
}

// watchLatency opens `watchers` watches, then creates `events` ConfigMaps at a steady
// rate and measures from just before each create until each watcher sees it.
func watchLatency(kubeconfig string, watchers, events int, every time.Duration) (phase, error) {
	cs, err := clients(kubeconfig, 8)
	if err != nil {
		return phase{}, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := fmt.Sprintf("benchw-%d", time.Now().UnixNano()%1000000)
	if _, err := cs[0].CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return phase{}, err
	}
	defer cs[0].CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	sent := make([]atomic.Int64, events)
	var mu sync.Mutex
	var lats []time.Duration
	var ready sync.WaitGroup
	var done sync.WaitGroup
	for w := 0; w < watchers; w++ {
		ready.Add(1)
		done.Add(1)
		go func(w int) {
			defer done.Done()
			c := cs[w%len(cs)]
			wi, err := c.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: "0"})
			ready.Done()
			if err != nil {
				return
			}
			defer wi.Stop()
			seen := 0
			local := make([]time.Duration, 0, events)
			for ev := range wi.ResultChan() {
				if ev.Type != watch.Added {
					continue
				}
				now := time.Now().UnixNano()
				cm := ev.Object.(*corev1.ConfigMap)
				i, _ := strconv.Atoi(cm.Labels["i"])
				if t := sent[i].Load(); t > 0 {
					local = append(local, time.Duration(now-t))
				}
				if seen++; seen == events {
					break
				}
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		}(w)
	}
	ready.Wait()
	time.Sleep(2 * time.Second)
	start := time.Now()
	tick := time.NewTicker(every)
	for i := 0; i < events; i++ {
		<-tick.C
		sent[i].Store(time.Now().UnixNano())
		_, err := cs[0].CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "w-" + strconv.Itoa(i), Labels: map[string]string{"i": strconv.Itoa(i)}}}, metav1.CreateOptions{})
		if err != nil {
			return phase{}, fmt.Errorf("create: %w", err)
		}
	}
	tick.Stop()
	waitDone := make(chan struct{})
	go func() { done.Wait(); close(waitDone) }()
	select {
	case <-waitDone:
	case <-time.After(60 * time.Second):
		cancel()
		<-waitDone
	}
	return phase{name: fmt.Sprintf("watch (%d watchers)", watchers), ops: len(lats), elapsed: time.Since(start), lat: lats}, nil
}

// webhookConfigs is -webhook-configs.
var webhookConfigs int

// registerWebhookConfigs creates n webhook configurations whose rules name
// deployments only, so every ConfigMap request is matched against them and
// calls none. Their URL is never dialled.
func registerWebhookConfigs(ctx context.Context, c kubernetes.Interface, n int) error {
	url := "https://127.0.0.1:1/never"
	none := admissionregv1.SideEffectClassNone
	rules := []admissionregv1.RuleWithOperations{{Operations: []admissionregv1.OperationType{admissionregv1.OperationAll},
		Rule: admissionregv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}}}}
	cc := admissionregv1.WebhookClientConfig{URL: &url}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("bench-%d", i)
		var err error
		if i%2 == 0 {
			_, err = c.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionregv1.MutatingWebhookConfiguration{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Webhooks: []admissionregv1.MutatingWebhook{{Name: name + ".bench.test", ClientConfig: cc, Rules: rules,
					SideEffects: &none, AdmissionReviewVersions: []string{"v1"}}}}, metav1.CreateOptions{})
		} else {
			_, err = c.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, &admissionregv1.ValidatingWebhookConfiguration{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Webhooks: []admissionregv1.ValidatingWebhook{{Name: name + ".bench.test", ClientConfig: cc, Rules: rules,
					SideEffects: &none, AdmissionReviewVersions: []string{"v1"}}}}, metav1.CreateOptions{})
		}
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create webhook configuration %s: %w", name, err)
		}
	}
	return nil
}
