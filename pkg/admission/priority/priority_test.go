package priority

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/admissiontest"
)

func class(name string, value int32, def bool, policy corev1.PreemptionPolicy) *schedulingv1.PriorityClass {
	return &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value, GlobalDefault: def, PreemptionPolicy: &policy}
}

func podAttrs(op admission.Operation, pod, old *corev1.Pod) *admission.Attributes {
	a := &admission.Attributes{Operation: op, Resource: podsGVR, Namespaced: true, Namespace: "app", Object: pod}
	if old != nil {
		a.OldObject = old
	}
	return a
}

func TestAdmitPods(t *testing.T) {
	never, lower := corev1.PreemptNever, corev1.PreemptLowerPriority
	withDefault := admissiontest.New().Add("priorityclasses.scheduling.k8s.io",
		class("high", 1000, false, lower), class("polite", 500, false, never), class("usual", 10, true, lower))
	noDefault := admissiontest.New().Add("priorityclasses.scheduling.k8s.io", class("high", 1000, false, lower))
	seven := int32(7)
	cases := []struct {
		name       string
		objects    *admissiontest.Objects
		class      string
		priority   *int32
		policy     *corev1.PreemptionPolicy
		wantClass  string
		wantValue  int32
		wantPolicy corev1.PreemptionPolicy
		wantErr    string
	}{
		{name: "a pod takes its class's value and policy", objects: noDefault, class: "high", wantClass: "high", wantValue: 1000, wantPolicy: lower},
		{name: "a class that never preempts makes its pods never preempt", objects: withDefault, class: "polite", wantClass: "polite", wantValue: 500, wantPolicy: never},
		{name: "a pod naming no class gets the global default", objects: withDefault, wantClass: "usual", wantValue: 10, wantPolicy: lower},
		{name: "without a global default a pod gets priority zero", objects: noDefault, wantValue: 0, wantPolicy: lower},
		{name: "a system class is known before it is stored", objects: noDefault, class: "system-node-critical", wantClass: "system-node-critical", wantValue: 2000001000, wantPolicy: lower},
		{name: "an unknown class is refused", objects: noDefault, class: "nope",
			wantErr: `pods "web" is forbidden: no PriorityClass with name nope was found`},
		{name: "a priority other than the class's is refused", objects: noDefault, class: "high", priority: &seven,
			wantErr: `pods "web" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name`},
		{name: "a preemption policy other than the class's is refused", objects: withDefault, class: "polite", policy: &lower,
			wantErr: `pods "web" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "app"},
				Spec: corev1.PodSpec{PriorityClassName: c.class, Priority: c.priority, PreemptionPolicy: c.policy}}
			err := New(c.objects).Admit(context.Background(), podAttrs(admission.Create, pod, nil))
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("got %v\nwant %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pod.Spec.PriorityClassName != c.wantClass || *pod.Spec.Priority != c.wantValue || *pod.Spec.PreemptionPolicy != c.wantPolicy {
				t.Errorf("class %q priority %d policy %s", pod.Spec.PriorityClassName, *pod.Spec.Priority, *pod.Spec.PreemptionPolicy)
			}
		})
	}
}

func TestAnUpdateKeepsThePriorityItLeavesOut(t *testing.T) {
	prio, lower := int32(1000), corev1.PreemptLowerPriority
	old := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{Priority: &prio, PreemptionPolicy: &lower}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}}
	if err := New(admissiontest.New()).Admit(context.Background(), podAttrs(admission.Update, pod, old)); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.Priority == nil || *pod.Spec.Priority != 1000 || pod.Spec.PreemptionPolicy == nil {
		t.Errorf("priority %v policy %v", pod.Spec.Priority, pod.Spec.PreemptionPolicy)
	}
}

func TestOnlyOneGlobalDefault(t *testing.T) {
	lower := corev1.PreemptLowerPriority
	objects := admissiontest.New().Add("priorityclasses.scheduling.k8s.io", class("usual", 10, true, lower))
	cases := []struct {
		name string
		op   admission.Operation
		pc   *schedulingv1.PriorityClass
		want string
	}{
		{"a second default is refused", admission.Create, class("other", 5, true, lower),
			`priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass usual is already marked as default. Only one default can exist`},
		{"another class may not become the default", admission.Update, class("other", 5, true, lower),
			`priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass usual is already marked as default. Only one default can exist`},
		{"the default may be updated", admission.Update, class("usual", 11, true, lower), ""},
		{"a class that is not a default is fine", admission.Create, class("other", 5, false, lower), ""},
	}
	for _, c := range cases {
		a := &admission.Attributes{Operation: c.op, Resource: priorityClassGVR, Name: c.pc.Name, Object: c.pc}
		got := ""
		if err := New(objects).Validate(context.Background(), a); err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s: got %q\nwant %q", c.name, got, c.want)
		}
	}
}
