package apps

import (
	"context"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// problems lists errors as "<type> <field>", what a user reads first.
func problems(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	return out
}

func template(labels map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
	}
}

func deployment(mutate func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: template(map[string]string{"app": "web"}),
		},
	}
	if mutate != nil {
		mutate(d)
	}
	return d
}

// create runs a resource's create path as the apiserver does: defaults,
// preparation, validation.
func create(r *registry.Resource, obj runtime.Object) field.ErrorList {
	r.Strategy.Default(obj)
	r.Strategy.PrepareForCreate(context.Background(), obj)
	return r.Strategy.Validate(context.Background(), obj)
}

// update runs the update path of obj over old, both defaulted.
func update(r *registry.Resource, obj, old runtime.Object) field.ErrorList {
	r.Strategy.Default(obj)
	r.Strategy.PrepareForUpdate(context.Background(), obj, old)
	return r.Strategy.ValidateUpdate(context.Background(), obj, old)
}

func TestDeploymentDefaultsAreUpstreams(t *testing.T) {
	d := deployment(nil)
	Deployments().Strategy.Default(d)
	quarter := intstr.FromString("25%")
	want := appsv1.DeploymentSpec{
		Replicas: int32Ptr(1), RevisionHistoryLimit: int32Ptr(10), ProgressDeadlineSeconds: int32Ptr(600),
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &quarter, MaxSurge: &quarter}},
	}
	got := d.Spec
	got.Selector, got.Template = nil, corev1.PodTemplateSpec{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if d.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("template restartPolicy = %q, want Always from the pod defaults", d.Spec.Template.Spec.RestartPolicy)
	}
}

func TestRecreateDeploymentsGetNoRollingUpdateDefaults(t *testing.T) {
	d := deployment(func(d *appsv1.Deployment) { d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType })
	if errs := create(Deployments(), d); len(errs) != 0 {
		t.Fatalf("a Recreate deployment is valid, got %v", errs)
	}
	if d.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("rollingUpdate = %+v, want nil for Recreate", d.Spec.Strategy.RollingUpdate)
	}
}

func TestDeploymentValidation(t *testing.T) {
	zero := intstr.FromInt32(0)
	tests := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		want   []string
	}{
		{"a deployment whose selector matches its template is valid", nil, []string{}},
		{"a selector that does not select the template's labels is rejected at the template labels",
			func(d *appsv1.Deployment) { d.Spec.Selector.MatchLabels = map[string]string{"app": "other"} },
			[]string{"FieldValueInvalid spec.template.metadata.labels"}},
		{"a missing selector is required and then matches nothing",
			func(d *appsv1.Deployment) { d.Spec.Selector = nil },
			[]string{"FieldValueRequired spec.selector", "FieldValueInvalid spec.template.metadata.labels"}},
		{"an empty selector is refused",
			func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} },
			[]string{"FieldValueInvalid spec.selector"}},
		{"negative replicas are refused", func(d *appsv1.Deployment) { d.Spec.Replicas = int32Ptr(-1) },
			[]string{"FieldValueInvalid spec.replicas"}},
		{"pods of a deployment must restart always",
			func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure },
			[]string{"FieldValueNotSupported spec.template.spec.restartPolicy"}},
		{"a rolling update may not stand still",
			func(d *appsv1.Deployment) {
				d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: &zero, MaxSurge: &zero}
			},
			[]string{"FieldValueInvalid spec.strategy.rollingUpdate.maxUnavailable"}},
		{"a Recreate strategy takes no rolling update",
			func(d *appsv1.Deployment) {
				d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDeployment{}}
			},
			[]string{"FieldValueForbidden spec.strategy.rollingUpdate"}},
		{"an unknown strategy is not supported",
			func(d *appsv1.Deployment) { d.Spec.Strategy.Type = "Sideways" },
			[]string{"FieldValueNotSupported spec.strategy"}},
		{"the progress deadline must exceed minReadySeconds",
			func(d *appsv1.Deployment) { d.Spec.MinReadySeconds = 600 },
			[]string{"FieldValueInvalid spec.progressDeadlineSeconds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := problems(create(Deployments(), deployment(tt.mutate))); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDeploymentUpdates(t *testing.T) {
	old := deployment(nil)
	create(Deployments(), old)
	old.Generation = 1

	changed := old.DeepCopy()
	changed.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "x"}}
	changed.Spec.Template.Labels = map[string]string{"app": "web", "tier": "x"}
	if got := problems(update(Deployments(), changed, old)); !reflect.DeepEqual(got, []string{"FieldValueInvalid spec.selector"}) {
		t.Errorf("changing the selector: got %v, want it immutable", got)
	}

	annotated := old.DeepCopy()
	annotated.Annotations = map[string]string{"note": "x"}
	update(Deployments(), annotated, old)
	if annotated.Generation != 2 {
		t.Errorf("an annotation change left generation %d, want 2 as upstream counts it", annotated.Generation)
	}

	relabelled := old.DeepCopy()
	relabelled.Labels = map[string]string{"team": "a"}
	update(Deployments(), relabelled, old)
	if relabelled.Generation != 1 {
		t.Errorf("a label change moved generation to %d, want 1", relabelled.Generation)
	}
}

func TestDeploymentStatusValidation(t *testing.T) {
	old := deployment(nil)
	create(Deployments(), old)
	obj := old.DeepCopy()
	obj.Status = appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 2, AvailableReplicas: 3}
	ss := Deployments().Strategy.(registry.StatusStrategy)
	ss.PrepareForStatusUpdate(context.Background(), obj, old)
	got := problems(ss.ValidateStatusUpdate(context.Background(), obj, old))
	want := []string{"FieldValueInvalid status.readyReplicas", "FieldValueInvalid status.availableReplicas", "FieldValueInvalid status.availableReplicas"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestScaleSubresourceReadsAndWritesReplicas(t *testing.T) {
	for _, r := range []*registry.Resource{Deployments(), ReplicaSets(), StatefulSets()} {
		t.Run(r.Name+" scale to 5", func(t *testing.T) {
			obj := r.New()
			m := obj.(metav1.Object)
			m.SetName("x")
			switch o := obj.(type) {
			case *appsv1.Deployment:
				o.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}
				o.Status.Replicas = 2
			case *appsv1.ReplicaSet:
				o.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}
				o.Status.Replicas = 2
			case *appsv1.StatefulSet:
				o.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}
				o.Status.Replicas = 2
			}
			r.Strategy.Default(obj)
			r.Scale.SetReplicas(obj, 5)
			spec, status := r.Scale.GetReplicas(obj)
			sel, err := r.Scale.Selector(obj)
			if spec != 5 || status != 2 || sel != "app=x" || err != nil {
				t.Errorf("got spec=%d status=%d selector=%q err=%v, want 5, 2, app=x", spec, status, sel, err)
			}
		})
	}
}

func TestDeploymentTableShowsReadyOverDesired(t *testing.T) {
	d := deployment(nil)
	Deployments().Strategy.Default(d)
	d.Status = appsv1.DeploymentStatus{ReadyReplicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}
	cells, err := Deployments().Table.Row(d)
	if err != nil {
		t.Fatal(err)
	}
	want := []interface{}{"web", "1/1", int64(1), int64(1), "<unknown>", "c", "nginx", "app=web"}
	if !reflect.DeepEqual(cells, want) {
		t.Errorf("cells = %#v, want %#v", cells, want)
	}
	if n := len(Deployments().Table.Columns()); n != len(want) {
		t.Errorf("%d columns for %d cells", n, len(want))
	}
}
