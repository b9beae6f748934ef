package job

import (
	"fmt"
	"slices"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
)

// completionIndexEnv is the variable every container of an indexed job's pod
// gets, read by the kubelet from the pod's index label.
const completionIndexEnv = "JOB_COMPLETION_INDEX"

// maxGeneratedNameLength leaves room for the five random characters the API
// server appends to a generateName.
const maxGeneratedNameLength = 63 - 5

// podTemplate is the job's template as every pod gets it: with the tracking
// finalizer, and for indexed jobs the index variable in every container.
func podTemplate(j *batchv1.Job) *corev1.PodTemplateSpec {
	t := j.Spec.Template.DeepCopy()
	if isIndexed(j) {
		for i := range t.Spec.InitContainers {
			addIndexEnv(&t.Spec.InitContainers[i])
		}
		for i := range t.Spec.Containers {
			addIndexEnv(&t.Spec.Containers[i])
		}
	}
	if !slices.Contains(t.Finalizers, batchv1.JobTrackingFinalizer) {
		t.Finalizers = append(t.Finalizers, batchv1.JobTrackingFinalizer)
	}
	return t
}

func addIndexEnv(c *corev1.Container) {
	for _, e := range c.Env {
		if e.Name == completionIndexEnv {
			return
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: completionIndexEnv, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: fmt.Sprintf("metadata.labels['%s']", batchv1.JobCompletionIndexAnnotation)},
	}})
}

// newPod builds one pod of the job from t (podTemplate's). For an index it
// carries the index as annotation and label, the hostname <job>-<index>, the
// name prefix <job>-<index>-, and with backoffLimitPerIndex the failure
// counts of the index so far (replaced is the index's last failed pod).
func newPod(j *batchv1.Job, t *corev1.PodTemplateSpec, ref *metav1.OwnerReference, index int, replaced *corev1.Pod) *corev1.Pod {
	p := podcontrol.FromTemplate(t, j.Name, ref)
	if index == noIndex {
		return p
	}
	ix := strconv.Itoa(index)
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Annotations[batchv1.JobCompletionIndexAnnotation] = ix
	p.Labels[batchv1.JobCompletionIndexAnnotation] = ix
	p.Spec.Hostname = j.Name + "-" + ix
	p.GenerateName = indexedNamePrefix(j.Name, index)
	if hasBackoffLimitPerIndex(j) {
		counted, ignored := nextIndexFailureCounts(j, replaced)
		p.Annotations[batchv1.JobIndexFailureCountAnnotation] = strconv.Itoa(int(counted))
		if ignored > 0 {
			p.Annotations[batchv1.JobIndexIgnoredFailureCountAnnotation] = strconv.Itoa(int(ignored))
		}
	}
	return p
}

// indexedNamePrefix is "<job>-<index>-", the job's name cut when the whole
// would not leave room for the random suffix.
func indexedNamePrefix(job string, index int) string {
	suffix := "-" + strconv.Itoa(index) + "-"
	if len(job)+len(suffix) > maxGeneratedNameLength {
		job = job[:maxGeneratedNameLength-len(suffix)]
	}
	return job + suffix
}

// nextIndexFailureCounts are the failure counts a replacement pod inherits
// from the pod it replaces, with that pod's failure added.
func nextIndexFailureCounts(j *batchv1.Job, replaced *corev1.Pod) (counted, ignored int32) {
	if replaced == nil {
		return 0, 0
	}
	counted, ignored = indexFailureCounts(replaced)
	if matchFailurePolicy(j.Spec.PodFailurePolicy, replaced).counts() {
		counted++
	} else {
		ignored++
	}
	return counted, ignored
}
