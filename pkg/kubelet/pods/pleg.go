package pods

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/runtime"
)

// relistPeriod is how often the runtime is listed to notice containers that exit on
// their own (upstream's PLEG relists every second).
const relistPeriod = time.Second

// Relist lists all containers every second and wakes the worker of any pod whose
// containers changed state; it also reports sandboxes of pods the agent does not know
// to orphan, once the agent's view of the API is complete.
func (m *Manager) Relist(ctx context.Context, orphan func(uid types.UID, sandboxIDs []string)) {
	prev := map[string]runtimeapi.ContainerState{}
	t := time.NewTicker(relistPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cs, err := m.cfg.Runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{})
		if err != nil {
			m.log.Debug("relist containers", "err", err)
			continue
		}
		cur := make(map[string]runtimeapi.ContainerState, len(cs))
		changed := map[types.UID]bool{}
		for _, c := range cs {
			cur[c.Id] = c.State
			if prev[c.Id] != c.State || !hasKey(prev, c.Id) {
				changed[types.UID(c.Labels[runtime.LabelPodUID])] = true
			}
		}
		for id := range prev {
			if _, ok := cur[id]; !ok {
				changed[""] = true
			}
		}
		prev = cur
		for uid := range changed {
			if uid != "" {
				m.Wake(uid)
			}
		}
		if orphan != nil {
			sbs, err := m.cfg.Runtime.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{})
			if err != nil {
				continue
			}
			byUID := map[types.UID][]string{}
			for _, s := range sbs {
				uid := types.UID(s.Labels[runtime.LabelPodUID])
				if uid != "" && !m.Known(uid) {
					byUID[uid] = append(byUID[uid], s.Id)
				}
			}
			for uid, ids := range byUID {
				orphan(uid, ids)
			}
		}
	}
}

func hasKey(m map[string]runtimeapi.ContainerState, k string) bool {
	_, ok := m[k]
	return ok
}

// RemoveOrphan stops and removes the containers and sandboxes of a pod that no longer
// exists in the API.
func (m *Manager) RemoveOrphan(ctx context.Context, uid types.UID) {
	sel := map[string]string{runtime.LabelPodUID: string(uid)}
	cs, _ := m.cfg.Runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: sel})
	for _, c := range cs {
		if c.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
			_ = m.cfg.Runtime.StopContainer(ctx, c.Id, 0)
		}
		_ = m.cfg.Runtime.RemoveContainer(ctx, c.Id)
	}
	sbs, _ := m.cfg.Runtime.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: sel})
	for _, s := range sbs {
		_ = m.cfg.Runtime.StopPodSandbox(ctx, s.Id)
		_ = m.cfg.Runtime.RemovePodSandbox(ctx, s.Id)
	}
	m.log.Info("removed containers of a pod that no longer exists", "uid", uid)
}
