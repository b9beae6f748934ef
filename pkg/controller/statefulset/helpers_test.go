package statefulset

import (
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// newSet is a defaulted OrderedReady RollingUpdate set "web" of n replicas.
func newSet(n int32) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "web-uid", Generation: 1},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr(n),
			ServiceName: "nginx",
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}}},
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(0))}},
			RevisionHistoryLimit: ptr(int32(10)),
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: retain, WhenScaled: retain},
		},
	}
}

func withClaimTemplate(set *appsv1.StatefulSet, name string) *appsv1.StatefulSet {
	set.Spec.VolumeClaimTemplates = append(set.Spec.VolumeClaimTemplates, corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
	})
	return set
}

func parallel(set *appsv1.StatefulSet) *appsv1.StatefulSet {
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	return set
}

func partitioned(set *appsv1.StatefulSet, p int32) *appsv1.StatefulSet {
	set.Spec.UpdateStrategy.RollingUpdate.Partition = &p
	return set
}

func withMaxUnavailable(set *appsv1.StatefulSet, v string) *appsv1.StatefulSet {
	u := intstr.Parse(v)
	set.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = &u
	return set
}

// state is how a pod in a test stands.
type state int

const (
	ready       state = iota // Running and Ready for an hour
	pending                  // created, not yet running
	notReady                 // Running, not Ready
	justReady                // Running and Ready for a second
	failed                   // Failed
	terminating              // Running, Ready, being deleted
)

// pod is a pod of set at ordinal n and revision rev, in state s.
func pod(set *appsv1.StatefulSet, n int, rev string, s state) *corev1.Pod {
	p := newPod(set, n, rev)
	p.UID = types.UID(fmt.Sprintf("%s-uid", p.Name))
	p.ResourceVersion = "1"
	switch s {
	case pending:
		p.Status.Phase = corev1.PodPending
	case failed:
		p.Status.Phase = corev1.PodFailed
	default:
		p.Status.Phase = corev1.PodRunning
		since := now.Add(-time.Hour)
		status := corev1.ConditionTrue
		switch s {
		case notReady:
			status = corev1.ConditionFalse
		case justReady:
			since = now.Add(-time.Second)
		case terminating:
			p.DeletionTimestamp = &metav1.Time{Time: now}
		}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.NewTime(since)}}
	}
	return p
}

// describe renders a plan as "create web-0; delete web-2 | ..." (phases split by |).
func describe(p plan) string {
	var phases []string
	for _, ph := range p.phases {
		var steps []string
		for _, s := range ph {
			steps = append(steps, s.kind.String()+" "+s.pod.Name)
		}
		phases = append(phases, strings.Join(steps, "; "))
	}
	return strings.Join(phases, " | ")
}

func sortedStrings(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
