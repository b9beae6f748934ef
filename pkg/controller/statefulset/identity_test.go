package statefulset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNewPodHasItsOrdinalsIdentityStorageAndOwner(t *testing.T) {
	set := withClaimTemplate(newSet(3), "www")
	set.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "www", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "config", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	p := newPod(set, 2, "web-abc")
	ref := metav1.GetControllerOf(p)
	if p.Name != "web-2" || p.Namespace != "ns" || p.Spec.Hostname != "web-2" || p.Spec.Subdomain != "nginx" {
		t.Errorf("identity: %s/%s hostname %s subdomain %s", p.Namespace, p.Name, p.Spec.Hostname, p.Spec.Subdomain)
	}
	if p.Labels["app"] != "web" || p.Labels[appsv1.StatefulSetPodNameLabel] != "web-2" || p.Labels[appsv1.PodIndexLabel] != "2" ||
		p.Labels[appsv1.StatefulSetRevisionLabel] != "web-abc" {
		t.Errorf("labels %v", p.Labels)
	}
	if ref == nil || ref.Kind != "StatefulSet" || ref.Name != "web" || ref.UID != "web-uid" || !*ref.BlockOwnerDeletion {
		t.Errorf("owner %+v", ref)
	}
	if len(p.Spec.Volumes) != 2 || p.Spec.Volumes[0].Name != "www" || p.Spec.Volumes[0].PersistentVolumeClaim == nil ||
		p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "www-web-2" || p.Spec.Volumes[1].Name != "config" {
		t.Errorf("volumes %+v", p.Spec.Volumes)
	}
	if set.Spec.Template.Labels[appsv1.StatefulSetPodNameLabel] != "" || set.Spec.Template.Spec.Volumes[0].EmptyDir == nil {
		t.Error("the template was changed")
	}
	if !identityMatches(set, p) || !storageMatches(set, p) {
		t.Error("a new pod does not match its own identity and storage")
	}
}

func TestOrdinalsAreReadFromNamesOfTheSetsShape(t *testing.T) {
	for name, want := range map[string]struct {
		parent  string
		ordinal int
	}{
		"web-0":          {"web", 0},
		"web-12":         {"web", 12},
		"my-web-3":       {"my-web", 3},
		"web":            {"", -1},
		"web-x":          {"", -1},
		"web-9999999999": {"web", -1},
	} {
		parent, n := parentAndOrdinal(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}})
		if parent != want.parent || n != want.ordinal {
			t.Errorf("%s: %q %d, want %q %d", name, parent, n, want.parent, want.ordinal)
		}
	}
	set := newSet(2)
	if !isMemberOf(set, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-7"}}) || isMemberOf(set, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "webby-1"}}) {
		t.Error("membership by name")
	}
}

func TestClaimsCarryTheTemplateAndSelectorLabels(t *testing.T) {
	set := withClaimTemplate(newSet(1), "www")
	set.Spec.VolumeClaimTemplates[0].Labels = map[string]string{"tier": "db"}
	set.Spec.VolumeClaimTemplates[0].Status.Phase = corev1.ClaimPending
	c := claimsFor(set, pod(set, 0, "r", ready))["www"]
	if c.Name != "www-web-0" || c.Namespace != "ns" || c.Labels["tier"] != "db" || c.Labels["app"] != "web" || c.Status.Phase != "" {
		t.Errorf("claim %+v", c)
	}
	if set.Spec.VolumeClaimTemplates[0].Labels["app"] != "" {
		t.Error("the template's labels were changed")
	}
}

func TestIdentityAndStorageMismatchesAreSeenAndRepaired(t *testing.T) {
	set := withClaimTemplate(newSet(1), "www")
	p := pod(set, 0, "r", ready)
	p.Labels[appsv1.StatefulSetPodNameLabel] = "other"
	p.Spec.Volumes = []corev1.Volume{{Name: "www", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	if identityMatches(set, p) || storageMatches(set, p) {
		t.Fatal("mismatches not seen")
	}
	setIdentity(set, p)
	setStorage(set, p)
	if !identityMatches(set, p) || !storageMatches(set, p) || len(p.Spec.Volumes) != 1 {
		t.Errorf("not repaired: labels %v volumes %+v", p.Labels, p.Spec.Volumes)
	}
}
