package defaultpreemption

import (
	"context"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/events"

	schedcache "github.com/minik8s/minik8s/pkg/scheduler/cache"
	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/defaultbinder"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/nodeaffinity"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/nodeports"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/noderesources"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/queuesort"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/tainttoleration"
	"github.com/minik8s/minik8s/pkg/scheduler/profile"
)

// testNow is the clock of every test: pods started before it are older.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// env is a profile with the filters preemption interacts with and this
// plugin, over fixed nodes; API calls are recorded instead of made.
type env struct {
	t         *testing.T
	prof      *profile.Profile
	pl        *DefaultPreemption
	informers informers.SharedInformerFactory
	nominated map[string][]*fw.PodInfo
	events    *events.FakeRecorder
	evicted   []string
	cleared   []string
}

type nominatorMap map[string][]*fw.PodInfo

func (m nominatorMap) NominatedPodsForNode(node string) []*fw.PodInfo { return m[node] }
func (m nominatorMap) Any() bool                                      { return len(m) > 0 }

type envOptions struct {
	args      runtime.Object
	pdbs      []*policyv1.PodDisruptionBudget
	nominated []*corev1.Pod
	// evictErr makes every eviction fail.
	evictErr error
}

func newEnv(t *testing.T, nodes []*corev1.Node, pods []*corev1.Pod, o envOptions) *env {
	t.Helper()
	byNode := map[string][]*corev1.Pod{}
	for _, p := range pods {
		byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
	}
	var infos []*fw.NodeInfo
	for _, n := range nodes {
		ni := fw.NewNodeInfo(byNode[n.Name]...)
		ni.SetNode(n)
		infos = append(infos, ni)
	}
	e := &env{t: t, informers: informers.NewSharedInformerFactory(nil, 0), nominated: map[string][]*fw.PodInfo{},
		events: events.NewFakeRecorder(100)}
	for _, p := range o.nominated {
		e.nominated[p.Status.NominatedNodeName] = append(e.nominated[p.Status.NominatedNodeName], fw.NewPodInfo(p))
	}
	for _, p := range pods {
		e.addToInformer(p)
	}
	for _, pdb := range o.pdbs {
		if err := e.informers.Policy().V1().PodDisruptionBudgets().Informer().GetIndexer().Add(pdb); err != nil {
			t.Fatal(err)
		}
	}
	registry := map[string]fw.Factory{
		names.PrioritySort:     queuesort.New,
		names.NodeAffinity:     nodeaffinity.New,
		names.TaintToleration:  tainttoleration.New,
		names.NodePorts:        nodeports.New,
		names.NodeResourcesFit: noderesources.NewFit,
		names.DefaultBinder:    defaultbinder.New,
		names.DefaultPreemption: func(ctx context.Context, args runtime.Object, h fw.Handle) (fw.Plugin, error) {
			p, err := New(ctx, args, h)
			if err == nil {
				e.pl = p.(*DefaultPreemption)
			}
			return p, err
		},
	}
	var refs []profile.PluginRef
	for _, n := range []string{names.PrioritySort, names.NodeAffinity, names.TaintToleration, names.NodePorts,
		names.NodeResourcesFit, names.DefaultPreemption, names.DefaultBinder} {
		refs = append(refs, profile.PluginRef{Name: n})
	}
	cfg := profile.Config{SchedulerName: "default-scheduler", MultiPoint: refs, Args: map[string]runtime.Object{}}
	if o.args != nil {
		cfg.Args[names.DefaultPreemption] = o.args
	}
	prof, err := profile.New(context.Background(), cfg, registry, profile.Deps{
		Informers: e.informers, Recorder: e.events, Snapshot: schedcache.NewSnapshot(infos...),
		Nominator: nominatorMap(e.nominated), Parallelizer: fw.NewParallelizer(4),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.prof = prof
	e.pl.randomOffset = func(int32) int32 { return 0 }
	e.pl.now = func() time.Time { return testNow }
	e.pl.evict = func(_ context.Context, preemptor, victim *corev1.Pod, node string) (bool, error) {
		if o.evictErr != nil {
			return false, o.evictErr
		}
		e.evicted = append(e.evicted, victim.Name+"@"+node)
		return true, nil
	}
	e.pl.clearNomination = func(_ context.Context, pod *corev1.Pod) error {
		e.cleared = append(e.cleared, pod.Name)
		return nil
	}
	return e
}

func (e *env) addToInformer(p *corev1.Pod) {
	if err := e.informers.Core().V1().Pods().Informer().GetIndexer().Add(p); err != nil {
		e.t.Fatal(err)
	}
}

// failedCycle runs PreFilter and Filter for the pod as the scheduler does,
// expecting it to fit nowhere, and returns the cycle state and node statuses
// PostFilter gets.
func (e *env) failedCycle(pod *corev1.Pod) (*fw.CycleState, *fw.NodeToStatus) {
	e.t.Helper()
	ctx := context.Background()
	state := fw.NewCycleState()
	m := fw.NewNodeToStatus()
	nodes := e.prof.SnapshotSharedLister().List()
	if _, st, _ := e.prof.RunPreFilterPlugins(ctx, state, pod, nodes); !st.IsSuccess() {
		m.AbsentStatus = st
		return state, m
	}
	for _, ni := range nodes {
		st := e.prof.RunFilterPluginsWithNominatedPods(ctx, state, pod, ni)
		if st.IsSuccess() {
			e.t.Fatalf("pod %s fits on node %s: nothing to preempt for", pod.Name, ni.Node().Name)
		}
		m.Set(ni.Node().Name, st)
	}
	return state, m
}

// postFilter fails the pod's cycle and runs the plugin's PostFilter.
func (e *env) postFilter(pod *corev1.Pod) (*fw.PostFilterResult, *fw.Status) {
	e.t.Helper()
	e.addToInformer(pod)
	state, m := e.failedCycle(pod)
	return e.pl.PostFilter(context.Background(), state, pod, m)
}

// recordedEvents drains the fake recorder.
func (e *env) recordedEvents() []string {
	var out []string
	for {
		select {
		case ev := <-e.events.Events:
			out = append(out, ev)
		default:
			sort.Strings(out)
			return out
		}
	}
}

func node(name, cpu string, mods ...func(*corev1.Node)) *corev1.Node {
	rl := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("8Gi"),
		corev1.ResourcePods: resource.MustParse("110")}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: corev1.NodeStatus{Capacity: rl, Allocatable: rl}}
	for _, m := range mods {
		m(n)
	}
	return n
}

func tainted(n *corev1.Node) {
	n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
}

func pod(name string, prio int32, cpu string, mods ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{Priority: &prio, SchedulerName: "default-scheduler", Containers: []corev1.Container{{Name: "c",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}}}},
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

// on binds the pod to a node, started some minutes before testNow.
func on(node string, startedMinutesAgo int) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.NodeName = node
		t := metav1.NewTime(testNow.Add(-time.Duration(startedMinutesAgo) * time.Minute))
		p.Status.StartTime = &t
	}
}

func labelled(k, v string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Labels = map[string]string{k: v} }
}

func nominatedTo(node string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Status.NominatedNodeName = node }
}

func preemptNever(p *corev1.Pod) {
	never := corev1.PreemptNever
	p.Spec.PreemptionPolicy = &never
}

func selecting(node string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"kubernetes.io/hostname": node} }
}

// terminatingByScheduler marks the pod as a victim whose deletion is under way.
func terminatingByScheduler(p *corev1.Pod) {
	now := metav1.NewTime(testNow)
	p.DeletionTimestamp = &now
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget,
		Status: corev1.ConditionTrue, Reason: corev1.PodReasonPreemptionByScheduler})
}

func pdb(name string, allowed int32, selector map[string]string, disrupted ...string) *policyv1.PodDisruptionBudget {
	minAvailable := intstr.FromInt32(1)
	p := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec:   policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvailable, Selector: &metav1.LabelSelector{MatchLabels: selector}},
		Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed}}
	if len(disrupted) > 0 {
		p.Status.DisruptedPods = map[string]metav1.Time{}
		for _, d := range disrupted {
			p.Status.DisruptedPods[d] = metav1.NewTime(testNow)
		}
	}
	return p
}
