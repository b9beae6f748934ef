package profile

import (
	"context"
	"fmt"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// Deps are what the scheduler lends every profile.
type Deps struct {
	Client       kubernetes.Interface
	Informers    informers.SharedInformerFactory
	Recorder     events.EventRecorder
	Snapshot     fw.NodeInfoLister
	Nominator    Nominator
	Parallelizer fw.Parallelizer
}

// Nominator is the queue's record of nominated pods.
type Nominator interface {
	NominatedPodsForNode(node string) []*fw.PodInfo
	// Any says, cheaply, whether any pod is nominated at all.
	Any() bool
}

type weighted struct {
	fw.ScorePlugin
	weight int64
}

// Profile is one scheduler name's plugins, ready to run. It is the plugins'
// framework.Handle.
type Profile struct {
	name       string
	percentage *int32
	deps       Deps

	plugins    map[string]fw.Plugin
	preEnqueue []fw.PreEnqueuePlugin
	queueSort  fw.QueueSortPlugin
	preFilter  []fw.PreFilterPlugin
	filter     []fw.FilterPlugin
	postFilter []fw.PostFilterPlugin
	preScore   []fw.PreScorePlugin
	score      []weighted
	reserve    []fw.ReservePlugin
	permit     []fw.PermitPlugin
	preBind    []fw.PreBindPlugin
	bind       []fw.BindPlugin
	postBind   []fw.PostBindPlugin
	// scoreBuf is RunScorePlugins' scratch space (scheduling goroutine only).
	scoreBuf []fw.NodeScore
	// events are the cluster events each plugin registered.
	events map[string][]fw.ClusterEventWithHint
}

var _ fw.Handle = &Profile{}

// New builds a profile: every plugin named is made once from the registry with its
// arguments, then placed at each extension point it is enabled for.
func New(ctx context.Context, cfg Config, registry map[string]fw.Factory, deps Deps) (*Profile, error) {
	p := &Profile{name: cfg.SchedulerName, percentage: cfg.PercentageOfNodesToScore, deps: deps,
		plugins: map[string]fw.Plugin{}, events: map[string][]fw.ClusterEventWithHint{}}
	names := map[string]bool{}
	var order []string
	add := func(n string) {
		if !names[n] {
			names[n] = true
			order = append(order, n)
		}
	}
	for _, r := range cfg.MultiPoint {
		add(r.Name)
	}
	for _, pt := range Points {
		for _, r := range cfg.Points[pt] {
			add(r.Name)
		}
	}
	for _, n := range order {
		f, ok := registry[n]
		if !ok {
			return nil, fmt.Errorf("plugin %q does not exist", n)
		}
		pl, err := f(ctx, cfg.Args[n], p)
		if err != nil {
			return nil, fmt.Errorf("initializing plugin %q: %w", n, err)
		}
		p.plugins[n] = pl
		if ext, ok := pl.(fw.EnqueueExtensions); ok {
			evs, err := ext.EventsToRegister(ctx)
			if err != nil {
				return nil, fmt.Errorf("plugin %q: events to register: %w", n, err)
			}
			p.events[n] = evs
		}
	}
	for _, pt := range Points {
		refs, err := expand(cfg, pt, p.plugins)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			if err := p.place(pt, r); err != nil {
				return nil, err
			}
		}
	}
	if p.queueSort == nil {
		return nil, fmt.Errorf("queue sort plugin required for profile with scheduler name %q", p.name)
	}
	if len(p.bind) == 0 {
		return nil, fmt.Errorf("at least one bind plugin is needed for profile with scheduler name %q", p.name)
	}
	return p, nil
}

// expand lists the plugins of one extension point: those enabled there that are
// also MultiPoint plugins (in the point's order), then the remaining MultiPoint
// plugins that implement the point and are not disabled there, then the point's
// other plugins — upstream's order.
func expand(cfg Config, point string, plugins map[string]fw.Plugin) ([]PluginRef, error) {
	disabled := map[string]bool{}
	for _, n := range cfg.Disabled[point] {
		disabled[n] = true
	}
	inMulti := map[string]bool{}
	for _, r := range cfg.MultiPoint {
		inMulti[r.Name] = true
	}
	specific := cfg.Points[point]
	inSpecific := map[string]bool{}
	var overrides, others []PluginRef
	for _, r := range specific {
		if inSpecific[r.Name] {
			return nil, fmt.Errorf("plugin %q already registered as %q", r.Name, point)
		}
		inSpecific[r.Name] = true
		if !implements(plugins[r.Name], point) {
			return nil, fmt.Errorf("plugin %q does not extend %s plugin", r.Name, point)
		}
		if inMulti[r.Name] {
			overrides = append(overrides, r)
		} else {
			others = append(others, r)
		}
	}
	var multi []PluginRef
	if !disabled["*"] {
		for _, r := range cfg.MultiPoint {
			if disabled[r.Name] || inSpecific[r.Name] || !implements(plugins[r.Name], point) {
				continue
			}
			multi = append(multi, r)
		}
	}
	out := append(append(overrides, multi...), others...)
	return out, nil
}

func implements(pl fw.Plugin, point string) bool {
	var ok bool
	switch point {
	case PointPreEnqueue:
		_, ok = pl.(fw.PreEnqueuePlugin)
	case PointQueueSort:
		_, ok = pl.(fw.QueueSortPlugin)
	case PointPreFilter:
		_, ok = pl.(fw.PreFilterPlugin)
	case PointFilter:
		_, ok = pl.(fw.FilterPlugin)
	case PointPostFilter:
		_, ok = pl.(fw.PostFilterPlugin)
	case PointPreScore:
		_, ok = pl.(fw.PreScorePlugin)
	case PointScore:
		_, ok = pl.(fw.ScorePlugin)
	case PointReserve:
		_, ok = pl.(fw.ReservePlugin)
	case PointPermit:
		_, ok = pl.(fw.PermitPlugin)
	case PointPreBind:
		_, ok = pl.(fw.PreBindPlugin)
	case PointBind:
		_, ok = pl.(fw.BindPlugin)
	case PointPostBind:
		_, ok = pl.(fw.PostBindPlugin)
	}
	return ok
}

func (p *Profile) place(point string, r PluginRef) error {
	pl := p.plugins[r.Name]
	switch point {
	case PointPreEnqueue:
		p.preEnqueue = append(p.preEnqueue, pl.(fw.PreEnqueuePlugin))
	case PointQueueSort:
		if p.queueSort != nil {
			return fmt.Errorf("only one queue sort plugin can be enabled, got %q and %q", p.queueSort.Name(), r.Name)
		}
		p.queueSort = pl.(fw.QueueSortPlugin)
	case PointPreFilter:
		p.preFilter = append(p.preFilter, pl.(fw.PreFilterPlugin))
	case PointFilter:
		p.filter = append(p.filter, pl.(fw.FilterPlugin))
	case PointPostFilter:
		p.postFilter = append(p.postFilter, pl.(fw.PostFilterPlugin))
	case PointPreScore:
		p.preScore = append(p.preScore, pl.(fw.PreScorePlugin))
	case PointScore:
		w := int64(r.Weight)
		if w == 0 {
			w = 1
		}
		p.score = append(p.score, weighted{pl.(fw.ScorePlugin), w})
	case PointReserve:
		p.reserve = append(p.reserve, pl.(fw.ReservePlugin))
	case PointPermit:
		p.permit = append(p.permit, pl.(fw.PermitPlugin))
	case PointPreBind:
		p.preBind = append(p.preBind, pl.(fw.PreBindPlugin))
	case PointBind:
		p.bind = append(p.bind, pl.(fw.BindPlugin))
	case PointPostBind:
		p.postBind = append(p.postBind, pl.(fw.PostBindPlugin))
	}
	return nil
}

// Name is the profile's scheduler name.
func (p *Profile) Name() string { return p.name }

// PercentageOfNodesToScore is the profile's own setting, if any.
func (p *Profile) PercentageOfNodesToScore() *int32 { return p.percentage }

// QueueSort is the profile's queue sort plugin.
func (p *Profile) QueueSort() fw.QueueSortPlugin { return p.queueSort }

// PreEnqueuePlugins are the profile's PreEnqueue plugins.
func (p *Profile) PreEnqueuePlugins() []fw.PreEnqueuePlugin { return p.preEnqueue }

// Events are the cluster events each plugin registered.
func (p *Profile) Events() map[string][]fw.ClusterEventWithHint { return p.events }

// HasFilters says whether any filter plugin runs.
func (p *Profile) HasFilters() bool { return len(p.filter) > 0 }

// HasScores says whether any score plugin runs.
func (p *Profile) HasScores() bool { return len(p.score) > 0 }

// HasPostFilters says whether a PostFilter (preemption) plugin runs.
func (p *Profile) HasPostFilters() bool { return len(p.postFilter) > 0 }

// PluginNames lists the plugins at an extension point, for `minik8s why` and tests.
func (p *Profile) PluginNames(point string) []string {
	var out []string
	switch point {
	case PointFilter:
		for _, pl := range p.filter {
			out = append(out, pl.Name())
		}
	case PointScore:
		for _, pl := range p.score {
			out = append(out, fmt.Sprintf("%s(%d)", pl.Name(), pl.weight))
		}
	case PointPreFilter:
		for _, pl := range p.preFilter {
			out = append(out, pl.Name())
		}
	case PointPostFilter:
		for _, pl := range p.postFilter {
			out = append(out, pl.Name())
		}
	case PointBind:
		for _, pl := range p.bind {
			out = append(out, pl.Name())
		}
	}
	return out
}

// Handle methods.

// SnapshotSharedLister implements framework.Handle.
func (p *Profile) SnapshotSharedLister() fw.NodeInfoLister { return p.deps.Snapshot }

// ClientSet implements framework.Handle.
func (p *Profile) ClientSet() kubernetes.Interface { return p.deps.Client }

// SharedInformerFactory implements framework.Handle.
func (p *Profile) SharedInformerFactory() informers.SharedInformerFactory { return p.deps.Informers }

// EventRecorder implements framework.Handle.
func (p *Profile) EventRecorder() events.EventRecorder { return p.deps.Recorder }

// Parallelizer implements framework.Handle.
func (p *Profile) Parallelizer() fw.Parallelizer { return p.deps.Parallelizer }

// ProfileName implements framework.Handle.
func (p *Profile) ProfileName() string { return p.name }

// NominatedPodsForNode implements framework.Handle.
func (p *Profile) NominatedPodsForNode(node string) []*fw.PodInfo {
	if p.deps.Nominator == nil {
		return nil
	}
	return p.deps.Nominator.NominatedPodsForNode(node)
}
