package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

func TestTrimmingAPodKeepsWhatSchedulingReads(t *testing.T) {
	req := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Labels: map[string]string{"app": "a"},
			Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: "{...}", "keep": "me"}},
		Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"disk": "ssd"},
			Containers: []corev1.Container{{Name: "c", Image: "img:1", Command: []string{"sleep"}, Env: []corev1.EnvVar{{Name: "A", Value: "b"}},
				Ports:     []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}},
				Resources: corev1.ResourceRequirements{Requests: req}, LivenessProbe: &corev1.Probe{}}},
			Volumes:     []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}},
			Tolerations: []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, NominatedNodeName: "n1",
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady}, {Type: corev1.PodScheduled, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "c", Image: "img:1", Ready: true, AllocatedResources: req}}},
	}
	before := fw.NewPodInfo(pod.DeepCopy())
	if _, err := trimObject(pod); err != nil {
		t.Fatal(err)
	}
	after := fw.NewPodInfo(pod)
	if after.Requests.MilliCPU != before.Requests.MilliCPU || after.NonZeroMem != before.NonZeroMem {
		t.Errorf("requests changed: %+v -> %+v", before.Requests, after.Requests)
	}
	c := pod.Spec.Containers[0]
	if c.Image != "img:1" || len(c.Ports) != 1 || c.Command != nil || c.Env != nil || c.LivenessProbe != nil {
		t.Errorf("container not trimmed as expected: %+v", c)
	}
	if len(pod.Spec.Volumes) != 1 || len(pod.Spec.Tolerations) != 1 || pod.Spec.NodeSelector["disk"] != "ssd" {
		t.Error("scheduling fields of the spec were dropped")
	}
	if len(pod.Status.Conditions) != 1 || pod.Status.Conditions[0].Type != corev1.PodScheduled || pod.Status.NominatedNodeName != "n1" {
		t.Errorf("status kept %+v", pod.Status)
	}
	if _, ok := pod.Annotations[corev1.LastAppliedConfigAnnotation]; ok || pod.Annotations["keep"] != "me" {
		t.Errorf("annotations %v", pod.Annotations)
	}
}

func TestTrimmingANodeKeepsWhatSchedulingReads(t *testing.T) {
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourcePods: resource.MustParse("110")}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{corev1.LabelHostname: "n1"}},
		Spec:       corev1.NodeSpec{Unschedulable: true, Taints: []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{
			Capacity: alloc.DeepCopy(), Allocatable: alloc,
			Images:     []corev1.ContainerImage{{Names: []string{"img:1"}, SizeBytes: 1 << 20}},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Message: "kubelet is posting ready status"}},
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}},
			NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.34.0"},
		},
	}
	before := fw.NewNodeInfo()
	before.SetNode(node.DeepCopy())
	if _, err := trimObject(node); err != nil {
		t.Fatal(err)
	}
	after := fw.NewNodeInfo()
	after.SetNode(node)
	if after.Allocatable.MilliCPU != before.Allocatable.MilliCPU || after.Allocatable.AllowedPodNumber != 110 {
		t.Errorf("allocatable changed: %+v -> %+v", before.Allocatable, after.Allocatable)
	}
	if !after.Unschedulable() || len(after.Taints()) != 1 || len(node.Status.Images) != 1 {
		t.Error("the spec or the images were dropped")
	}
	if h, ok := after.Label(corev1.LabelHostname); !ok || h != "n1" {
		t.Errorf("hostname label %q, %v", h, ok)
	}
	if node.Status.Capacity != nil || node.Status.Addresses != nil || node.Status.NodeInfo.KubeletVersion != "" {
		t.Errorf("status not trimmed: %+v", node.Status)
	}
	if c := node.Status.Conditions; len(c) != 1 || c[0].Status != corev1.ConditionTrue || c[0].Message != "" {
		t.Errorf("conditions %+v", c)
	}
}
