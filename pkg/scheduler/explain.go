package scheduler

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"

	schedcache "github.com/minik8s/minik8s/pkg/scheduler/cache"
	"github.com/minik8s/minik8s/pkg/scheduler/config"
	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins"
	"github.com/minik8s/minik8s/pkg/scheduler/profile"
	"github.com/minik8s/minik8s/pkg/scheduler/queue"
)

// Explanation says, node by node, how the scheduler sees a pod right now.
type Explanation struct {
	// SchedulerName is the pod's; Served says whether a running scheduler serves
	// it, and ServedNames lists what they serve.
	SchedulerName string
	Served        bool
	ServedNames   []string
	// Gates are the pod's scheduling gates; while any remain it is not tried.
	Gates []string
	// PreFilter is a rejection that applies to every node (a missing claim...).
	PreFilter *Verdict
	// Nodes are every node's verdict, by name.
	Nodes []Verdict
	// Message is what the scheduler would say in FailedScheduling when no node fits.
	Message string
}

// Verdict is one node's answer for the pod.
type Verdict struct {
	Node    string
	Fits    bool
	Plugin  string
	Code    string
	Reasons []string
	// Score is the weighted total for a node that fits; Scores per plugin.
	Score  int64
	Scores []fw.NodeScore
}

// Explain evaluates every node for pod with the profile the running scheduler
// uses for its schedulerName (as published in kube-system), without binding.
func Explain(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod) (*Explanation, error) {
	ex := &Explanation{SchedulerName: pod.Spec.SchedulerName}
	for _, g := range pod.Spec.SchedulingGates {
		ex.Gates = append(ex.Gates, g.Name)
	}
	pc, served, err := publishedProfile(ctx, client, pod.Spec.SchedulerName)
	if err != nil {
		return nil, err
	}
	ex.ServedNames = served
	if pc == nil {
		return ex, nil
	}
	ex.Served = true

	f := informers.NewSharedInformerFactory(client, 0)
	c := schedcache.New()
	snap := schedcache.NewEmptySnapshot()
	nom := queue.NewNominator()
	prof, err := profile.New(ctx, *pc, plugins.Registry(), profile.Deps{Client: client, Informers: f, Recorder: &events.FakeRecorder{},
		Snapshot: snap, Nominator: nom, Parallelizer: fw.NewParallelizer(4)})
	if err != nil {
		return nil, fmt.Errorf("build profile %s: %w", pc.SchedulerName, err)
	}
	f.Start(ctx.Done())
	defer f.Shutdown()
	f.WaitForCacheSync(ctx.Done())

	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	for i := range nodes.Items {
		c.AddNode(&nodes.Items[i])
	}
	pods, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "status.phase!=Succeeded,status.phase!=Failed"})
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		switch {
		case p.UID == pod.UID:
		case p.Spec.NodeName != "":
			c.AddPod(p)
		case p.Status.NominatedNodeName != "":
			nom.AddOrUpdate(p)
		}
	}
	c.UpdateSnapshot(snap)

	state := fw.NewCycleState()
	state.PodInfo = fw.NewPodInfo(pod)
	all := snap.List()
	diag := fw.Diagnosis{NodeToStatus: fw.NewNodeToStatus()}
	pre, st, names := prof.RunPreFilterPlugins(ctx, state, pod, all)
	if !st.IsSuccess() {
		v := verdict("", st)
		if len(names) > 0 {
			v.Plugin = names[0]
		}
		ex.PreFilter = &v
		diag.PreFilterMsg = st.Message()
		ex.Message = (&fw.FitError{NumAllNodes: len(all), Diagnosis: diag}).Error()
		return ex, nil
	}
	var feasible []*fw.NodeInfo
	for _, ni := range all {
		name := ni.Node().Name
		if !pre.AllNodes() {
			if _, ok := pre.NodeNames[name]; !ok {
				st := fw.NewStatus(fw.UnschedulableAndUnresolvable, fmt.Sprintf("node(s) didn't satisfy plugin(s) %v", names))
				v := verdict(name, st)
				v.Plugin = strings.Join(names, ",")
				ex.Nodes = append(ex.Nodes, v)
				diag.NodeToStatus.Set(name, st)
				continue
			}
		}
		st := prof.RunFilterPluginsWithNominatedPods(ctx, state, pod, ni)
		if st.IsSuccess() {
			feasible = append(feasible, ni)
			continue
		}
		ex.Nodes = append(ex.Nodes, verdict(name, st))
		diag.NodeToStatus.Set(name, st)
	}
	if len(feasible) > 0 && prof.HasScores() {
		if st := prof.RunPreScorePlugins(ctx, state, pod, feasible); !st.IsSuccess() {
			return nil, st.AsError()
		}
		totals, details, st := prof.RunScorePlugins(ctx, state, pod, feasible, true)
		if !st.IsSuccess() {
			return nil, st.AsError()
		}
		for i, ni := range feasible {
			ex.Nodes = append(ex.Nodes, Verdict{Node: ni.Node().Name, Fits: true, Score: totals[i].Score, Scores: details[i]})
		}
	} else {
		for _, ni := range feasible {
			ex.Nodes = append(ex.Nodes, Verdict{Node: ni.Node().Name, Fits: true})
		}
	}
	sort.Slice(ex.Nodes, func(i, j int) bool { return ex.Nodes[i].Node < ex.Nodes[j].Node })
	switch {
	case len(all) == 0:
		ex.Message = ErrNoNodesAvailable.Error()
	case len(feasible) == 0:
		ex.Message = (&fw.FitError{NumAllNodes: len(all), Diagnosis: diag}).Error()
	}
	return ex, nil
}

func verdict(node string, st *fw.Status) Verdict {
	return Verdict{Node: node, Plugin: st.Plugin(), Code: st.Code().String(), Reasons: st.Reasons()}
}

// publishedProfile finds, among the configurations running schedulers published,
// the profile for name; it also returns every scheduler name served.
func publishedProfile(ctx context.Context, client kubernetes.Interface, name string) (*profile.Config, []string, error) {
	cms, err := client.CoreV1().ConfigMaps(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{LabelSelector: ConfigMapLabel + "=true"})
	if err != nil {
		return nil, nil, fmt.Errorf("read the published scheduler configurations: %w", err)
	}
	var served []string
	var found *profile.Config
	for _, cm := range cms.Items {
		data := cm.Data[ConfigKeyConfig]
		if data == "" {
			continue
		}
		kcfg, err := config.Load([]byte(data))
		if err != nil {
			return nil, nil, fmt.Errorf("kube-system/%s: %w", cm.Name, err)
		}
		config.SetDefaults(kcfg)
		for _, pc := range config.Profiles(kcfg) {
			served = append(served, pc.SchedulerName)
			if pc.SchedulerName == name && found == nil {
				p := pc
				found = &p
			}
		}
	}
	sort.Strings(served)
	return found, served, nil
}
