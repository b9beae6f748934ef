package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Nodes creates, deletes, fails and recovers simulated nodes through the API, as
// `minik8s sim nodes` does.
type Nodes struct {
	Client kubernetes.Interface
	// Parallel is how many requests are in flight at once (default 32).
	Parallel int
}

// CreateResult says what Create did.
type CreateResult struct {
	Created, Existed int
}

// Create makes sure nodes 0..count-1 of the template exist. Existing simulated
// nodes are left as they are, so running it again with a larger count adds the
// difference; a node of such a name that is not simulated is an error.
func (m Nodes) Create(ctx context.Context, t NodeTemplate, count int) (CreateResult, error) {
	var res CreateResult
	if count < 0 {
		return res, fmt.Errorf("--count %d: must not be negative", count)
	}
	if err := t.Validate(); err != nil {
		return res, err
	}
	list, err := m.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return res, fmt.Errorf("list nodes: %w", err)
	}
	existing := map[string]*corev1.Node{}
	used := map[int]bool{}
	for i := range list.Items {
		n := &list.Items[i]
		existing[n.Name] = n
		if k, ok := SlotOf(n.Spec.PodCIDR); ok && IsSimulated(n.Labels) {
			used[k] = true
		}
	}
	var missing []int
	for i := 0; i < count; i++ {
		n, ok := existing[t.Name(i)]
		switch {
		case !ok:
			missing = append(missing, i)
		case !IsSimulated(n.Labels):
			return res, fmt.Errorf("node %q exists and is not a simulated node", n.Name)
		default:
			res.Existed++
		}
	}
	slots, err := FreeSlots(used, len(missing))
	if err != nil {
		return res, err
	}
	now := time.Now()
	var mu sync.Mutex
	err = m.each(len(missing), func(j int) error {
		node, err := t.Build(missing[j], slots[j], now)
		if err != nil {
			return err
		}
		_, err = m.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			res.Created++
		case apierrors.IsAlreadyExists(err):
			res.Existed++ // created meanwhile by someone else
		default:
			return fmt.Errorf("create node %s: %w", node.Name, err)
		}
		return nil
	})
	return res, err
}

// Simulated lists the simulated nodes, by name.
func (m Nodes) Simulated(ctx context.Context) ([]corev1.Node, error) {
	list, err := m.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list simulated nodes: %w", err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return lessName(list.Items[i].Name, list.Items[j].Name) })
	return list.Items, nil
}

// DeleteResult says what Delete did.
type DeleteResult struct {
	Nodes, Pods int
}

// Delete removes the simulated nodes chosen by pick, with their leases and the
// pods bound to them: no kubelet will ever finish those pods, and without a pod
// garbage collector nothing else would remove them.
func (m Nodes) Delete(ctx context.Context, pick func(corev1.Node) bool) (DeleteResult, error) {
	var res DeleteResult
	all, err := m.Simulated(ctx)
	if err != nil {
		return res, err
	}
	var names []string
	gone := map[string]bool{}
	for _, n := range all {
		if pick(n) {
			names = append(names, n.Name)
			gone[n.Name] = true
		}
	}
	if len(names) == 0 {
		return res, nil
	}
	var mu sync.Mutex
	err = m.each(len(names), func(i int) error {
		name := names[i]
		if err := m.Client.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete node %s: %w", name, err)
		}
		mu.Lock()
		res.Nodes++
		mu.Unlock()
		if err := m.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete lease of node %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	pods, err := m.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermNotEqualSelector("spec.nodeName", "").String()})
	if err != nil {
		return res, fmt.Errorf("list pods of the deleted nodes: %w", err)
	}
	var orphans []corev1.Pod
	for _, p := range pods.Items {
		if gone[p.Spec.NodeName] {
			orphans = append(orphans, p)
		}
	}
	err = m.each(len(orphans), func(i int) error {
		p := orphans[i]
		err := m.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64),
			Preconditions: &metav1.Preconditions{UID: &p.UID}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("delete pod %s/%s: %w", p.Namespace, p.Name, err)
		}
		mu.Lock()
		res.Pods++
		mu.Unlock()
		return nil
	})
	return res, err
}

// SetFailed makes the named simulated nodes stop heartbeating (failed) or start
// again (!failed).
func (m Nodes) SetFailed(ctx context.Context, names []string, fail bool) error {
	var value interface{}
	if fail {
		value = time.Now().UTC().Format(time.RFC3339)
	}
	patch, err := json.Marshal(map[string]interface{}{"metadata": map[string]interface{}{
		"annotations": map[string]interface{}{AnnotationFailed: value}}})
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		n, err := m.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !IsSimulated(n.Labels) {
			errs = append(errs, fmt.Errorf("node %q is not a simulated node", name))
			continue
		}
		if _, err := m.Client.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("node %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// each runs f(0..n-1), Parallel at a time; the first error stops handing out more.
func (m Nodes) each(n int, f func(i int) error) error {
	par := m.Parallel
	if par <= 0 {
		par = 32
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for w := 0; w < min(par, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// lessName orders names with a numeric suffix by number: sim-2 before sim-10.
func lessName(a, b string) bool {
	pa, na := splitNumber(a)
	pb, nb := splitNumber(b)
	if pa != pb || na < 0 || nb < 0 {
		return a < b
	}
	return na < nb
}

func splitNumber(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) || len(s)-i > 9 {
		return s, -1
	}
	n := 0
	for _, c := range s[i:] {
		n = n*10 + int(c-'0')
	}
	return s[:i], n
}
