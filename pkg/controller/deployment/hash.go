package deployment

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/minik8s/minik8s/pkg/controller/history"
)

// templateHash is the pod-template-hash of a template, computed as upstream
// does (the same hash names a DaemonSet's revisions), so a template gets the
// same ReplicaSet name here as upstream would give it.
func templateHash(t *corev1.PodTemplateSpec, collisionCount *int32) string {
	return history.TemplateHash(t, collisionCount)
}

// replicaSetName is "<deployment>-<hash>", the deployment's name cut so the
// whole stays a valid name.
func replicaSetName(deployment, hash string) string {
	if max := validation.DNS1123SubdomainMaxLength - 1 - len(hash); len(deployment) > max && max > 0 {
		deployment = deployment[:max]
	}
	return deployment + "-" + hash
}

// equalIgnoreHash compares two templates as if neither had the pod-template-hash label.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(b.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return equality.Semantic.DeepEqual(a, b)
}
