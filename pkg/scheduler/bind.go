package scheduler

import (
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/profile"
)

// bindingCycle runs PreBind, Bind and PostBind for an assumed pod. On failure the
// pod is forgotten and requeued, and pods waiting for room may try again.
func (s *Scheduler) bindingCycle(ctx context.Context, prof *profile.Profile, state *fw.CycleState, qpi *fw.QueuedPodInfo,
	assumed *corev1.Pod, host string, start time.Time) {
	st := prof.RunPreBindPlugins(ctx, state, assumed, host)
	if st.IsSuccess() {
		st = prof.RunBindPlugins(ctx, state, assumed, host)
	}
	if !st.IsSuccess() {
		prof.RunUnreservePlugins(ctx, state, assumed, host)
		s.cache.ForgetPod(assumed)
		// The room it held is free again.
		s.queue.MoveOnEvent(ctx, fw.ClusterEvent{Resource: fw.AssignedPod, ActionType: fw.Delete, Label: "AssignedPodDelete"}, assumed, nil)
		err := st.AsError()
		if st.Code() == fw.Skip {
			err = fmt.Errorf("no bind plugin bound the pod")
		}
		s.fail(ctx, prof, qpi, fmt.Errorf("binding rejected: %w", err), rejectionDiag(st), clearNomination, start, s.queue.SchedulingCycle())
		return
	}
	s.cache.FinishBinding(assumed)
	s.metrics.attempt("scheduled", prof.Name(), time.Since(start).Seconds())
	if qpi.InitialAttemptTimestamp != nil {
		s.metrics.e2e.WithLabelValues(strconv.Itoa(qpi.Attempts)).Observe(time.Since(*qpi.InitialAttemptTimestamp).Seconds())
	}
	prof.EventRecorder().Eventf(assumed, nil, corev1.EventTypeNormal, "Scheduled", "Binding",
		"Successfully assigned %v/%v to %v", assumed.Namespace, assumed.Name, host)
	prof.RunPostBindPlugins(ctx, state, assumed, host)
}
