package core

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// create runs obj through a resource's create steps and returns the errors a
// user would see.
func create(res *registry.Resource, obj runtime.Object) field.ErrorList {
	ctx := context.Background()
	res.Strategy.Default(obj)
	res.Strategy.PrepareForCreate(ctx, obj)
	return res.Strategy.Validate(ctx, obj)
}

// update runs obj, a changed copy of old, through the update steps.
func update(res *registry.Resource, obj, old runtime.Object) field.ErrorList {
	ctx := context.Background()
	res.Strategy.Default(obj)
	res.Strategy.PrepareForUpdate(ctx, obj, old)
	return res.Strategy.ValidateUpdate(ctx, obj, old)
}

func firstError(errs field.ErrorList) string {
	if len(errs) == 0 {
		return ""
	}
	return errs[0].Error()
}

func TestResourceValidation(t *testing.T) {
	q := resource.MustParse
	cases := []struct {
		name string
		res  *registry.Resource
		obj  runtime.Object
		want string // prefix of the first error; "" means valid
	}{
		{"a tls secret needs its keys", Secrets(), &corev1.Secret{Type: corev1.SecretTypeTLS},
			"data[tls.crt]: Required value"},
		{"secret keys are config map keys", Secrets(), &corev1.Secret{Data: map[string][]byte{"a b": nil}},
			`data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters`},
		{"a docker config secret needs JSON", Secrets(), &corev1.Secret{Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{".dockerconfigjson": []byte("{")}}, "data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\""},
		{"an RC needs a template", ReplicationControllers(), &corev1.ReplicationController{Spec: corev1.ReplicationControllerSpec{
			Selector: map[string]string{"a": "b"}}}, "spec.template: Required value"},
		{"an RC selector must match its template", ReplicationControllers(), &corev1.ReplicationController{Spec: corev1.ReplicationControllerSpec{
			Selector: map[string]string{"a": "b"},
			Template: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "c"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}}},
			"spec.template.metadata.labels: Invalid value: {\"a\":\"c\"}: `selector` does not match template `labels`"},
		{"a limit range min may not exceed max", LimitRanges(), &corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type: corev1.LimitTypeContainer, Min: corev1.ResourceList{"cpu": q("2")}, Max: corev1.ResourceList{"cpu": q("1")}}}}},
			`spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1`},
		{"quota resources must be standard", ResourceQuotas(), &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{
			Hard: corev1.ResourceList{"widgets": q("1")}}}, `spec.hard[widgets]: Invalid value: "widgets": must be a standard resource type or fully qualified`},
		{"quota counts are whole", ResourceQuotas(), &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{
			Hard: corev1.ResourceList{"pods": q("1500m")}}}, `spec.hard[pods]: Invalid value: "1500m": must be an integer`},
		{"a PV needs a source", PersistentVolumes(), &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{"ReadWriteOnce"}, Capacity: corev1.ResourceList{"storage": q("1Gi")}}},
			"spec: Required value: must specify a volume type"},
		{"a PVC needs a size", PersistentVolumeClaims(), &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{"ReadWriteOnce"}}}, "spec.resources[storage]: Required value"},
		{"node taints are unique per key and effect", Nodes(), &corev1.Node{Spec: corev1.NodeSpec{Taints: []corev1.Taint{
			{Key: "a", Effect: "NoSchedule"}, {Key: "a", Effect: "NoSchedule"}}}}, "metadata.taints[1]: Duplicate value"},
		{"an event's namespace matches its object's", Events(), &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "a"},
			InvolvedObject: corev1.ObjectReference{Namespace: "b"}}, `involvedObject.namespace: Invalid value: "b": does not match event.namespace`},
		{"endpoints need an address", Endpoints(), &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{}}},
			"subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"},
		{"endpoint addresses may not be loopback", Endpoints(), &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: "127.0.0.1"}}}}}, `subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range`},
		{"a pod template validates its spec", PodTemplates(), &corev1.PodTemplate{Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}}, "template.spec.containers[0].image: Required value"},
	}
	for _, tc := range cases {
		got := firstError(create(tc.res, tc.obj))
		if (tc.want == "" && got != "") || !strings.HasPrefix(got, tc.want) || (tc.want != "" && got == "") {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSecretDefaultsMergeStringData(t *testing.T) {
	s := &corev1.Secret{Data: map[string][]byte{"a": []byte("old")}, StringData: map[string]string{"a": "new", "b": "x"}}
	defaultSecret(s)
	if s.Type != corev1.SecretTypeOpaque || string(s.Data["a"]) != "new" || string(s.Data["b"]) != "x" || s.StringData != nil {
		t.Errorf("got %+v", s)
	}
}

func TestImmutableAndFixedFields(t *testing.T) {
	yes := true
	oldSecret := &corev1.Secret{Type: corev1.SecretTypeOpaque, Immutable: &yes, Data: map[string][]byte{"a": []byte("1")}}
	newSecret := oldSecret.DeepCopy()
	newSecret.Data["a"] = []byte("2")
	if got := firstError(update(Secrets(), newSecret, oldSecret)); got != "data: Forbidden: field is immutable when `immutable` is set" {
		t.Errorf("immutable secret: %q", got)
	}
	oldNode := &corev1.Node{Spec: corev1.NodeSpec{PodCIDR: "10.244.0.0/24"}}
	defaultNode(oldNode)
	newNode := oldNode.DeepCopy()
	newNode.Spec.PodCIDR, newNode.Spec.PodCIDRs = "10.244.1.0/24", nil
	if got := firstError(update(Nodes(), newNode, oldNode)); got != `spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid` {
		t.Errorf("node podCIDR: %q", got)
	}
	oldPVC := &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{"ReadWriteOnce"},
		Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{"storage": resource.MustParse("1Gi")}}}}
	create(PersistentVolumeClaims(), oldPVC)
	newPVC := oldPVC.DeepCopy()
	newPVC.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{"ReadWriteMany"}
	if got := firstError(update(PersistentVolumeClaims(), newPVC, oldPVC)); !strings.HasPrefix(got, "spec: Forbidden: spec is immutable after creation except resources.requests") {
		t.Errorf("pvc spec: %q", got)
	}
}

func TestCreateDefaults(t *testing.T) {
	rc := &corev1.ReplicationController{Spec: corev1.ReplicationControllerSpec{Template: &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i:1"}}}}}}
	if errs := create(ReplicationControllers(), rc); len(errs) > 0 {
		t.Fatal(errs)
	}
	if *rc.Spec.Replicas != 1 || rc.Spec.Selector["app"] != "x" || rc.Labels["app"] != "x" || rc.Generation != 1 {
		t.Errorf("rc defaults: %+v %v", rc.Spec, rc.Labels)
	}
	if rc.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("template not defaulted")
	}
	pv := &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{AccessModes: []corev1.PersistentVolumeAccessMode{"ReadWriteOnce"},
		Capacity:               corev1.ResourceList{"storage": resource.MustParse("1Gi")},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}}}
	if errs := create(PersistentVolumes(), pv); len(errs) > 0 {
		t.Fatal(errs)
	}
	if pv.Status.Phase != corev1.VolumePending || pv.Status.LastPhaseTransitionTime == nil || pv.Spec.PersistentVolumeReclaimPolicy != "Retain" ||
		*pv.Spec.VolumeMode != corev1.PersistentVolumeFilesystem || *pv.Spec.HostPath.Type != "" {
		t.Errorf("pv defaults: %+v", pv)
	}
	lr := &corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer,
		Max: corev1.ResourceList{"cpu": resource.MustParse("2")}, Min: corev1.ResourceList{"memory": resource.MustParse("1Mi")}}}}}
	create(LimitRanges(), lr)
	l := lr.Spec.Limits[0]
	if l.Default.Cpu().String() != "2" || l.DefaultRequest.Cpu().String() != "2" || l.DefaultRequest.Memory().String() != "1Mi" {
		t.Errorf("limit range defaults: %+v", l)
	}
	if ttl := Events().TTL(&corev1.Event{}); ttl != 3600 {
		t.Errorf("event ttl = %d", ttl)
	}
}

func TestTables(t *testing.T) {
	ago := metav1.NewTime(time.Now().Add(-2 * time.Hour))
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", CreationTimestamp: ago,
		Labels: map[string]string{"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker"}},
		Spec: corev1.NodeSpec{Unschedulable: true},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.1.2"}},
			NodeInfo:  corev1.NodeSystemInfo{KubeletVersion: "v1.34.0", OSImage: "Debian"}}}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "e"}, Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "10.0.0.1"}, {IP: "10.0.0.2"}},
		Ports:     []corev1.EndpointPort{{Port: 80}, {Port: 443}}}}}
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "ev1"}, Type: "Warning", Reason: "BackOff", Message: " restarting ",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", FieldPath: "spec.containers{app}"},
		Source:         corev1.EventSource{Component: "kubelet", Host: "n1"}, FirstTimestamp: ago, LastTimestamp: ago, Count: 4}
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q"}, Status: corev1.ResourceQuotaStatus{
		Hard: corev1.ResourceList{"pods": resource.MustParse("10"), "limits.cpu": resource.MustParse("4"), "requests.cpu": resource.MustParse("2")},
		Used: corev1.ResourceList{"pods": resource.MustParse("1")}}}
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv1"},
		Status: corev1.PersistentVolumeClaimStatus{Phase: "Bound", AccessModes: []corev1.PersistentVolumeAccessMode{"ReadWriteOnce", "ReadOnlyMany"},
			Capacity: corev1.ResourceList{"storage": resource.MustParse("1Gi")}}}
	cases := []struct {
		name  string
		table *registry.Table
		obj   runtime.Object
		want  []interface{}
	}{
		{"nodes show readiness, cordoning and roles", nodeTable, node,
			[]interface{}{"n1", "Ready,SchedulingDisabled", "control-plane,worker", "120m", "v1.34.0", "192.168.1.2", "<none>", "Debian", "<unknown>", "<unknown>"}},
		{"endpoints list address:port pairs up to three", Endpoints().Table.(*registry.Table), ep,
			[]interface{}{"e", "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...", "<unknown>"}},
		{"events show their object and source", eventTable, ev,
			[]interface{}{"120m", "Warning", "BackOff", "pod/web", "spec.containers{app}", "kubelet, n1", "restarting", "120m", int64(4), "ev1"}},
		{"quotas split requests and limits", ResourceQuotas().Table.(*registry.Table), quota,
			[]interface{}{"q", "pods: 1/10, requests.cpu: 0/2", "limits.cpu: 0/4", "<unknown>"}},
		{"bound claims show capacity and modes", PersistentVolumeClaims().Table.(*registry.Table), pvc,
			[]interface{}{"c", "Bound", "pv1", "1Gi", "RWO,ROX", "", "<unset>", "<unknown>", "<unset>"}},
		{"secrets count their data", Secrets().Table.(*registry.Table), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"},
			Type: "Opaque", Data: map[string][]byte{"a": nil}}, []interface{}{"s", "Opaque", int64(1), "<unknown>"}},
	}
	for _, tc := range cases {
		got := tc.table.Cells(tc.obj)
		if len(got) != len(tc.table.Cols) {
			t.Errorf("%s: %d cells for %d columns", tc.name, len(got), len(tc.table.Cols))
		}
		for i := range tc.want {
			if got[i] != tc.want[i] {
				t.Errorf("%s: cell %d (%s) = %#v, want %#v", tc.name, i, tc.table.Cols[i].Name, got[i], tc.want[i])
			}
		}
	}
}

func TestFieldSelectors(t *testing.T) {
	ev := &corev1.Event{Reason: "Pulled", Type: "Normal", ReportingController: "kubelet",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", Namespace: "default", UID: "u1"}}
	if f := eventFields(ev); f["source"] != "kubelet" || f["involvedObject.uid"] != "u1" || f["reason"] != "Pulled" || len(f) != 11 {
		t.Errorf("event fields %v", f)
	}
	cases := []struct {
		res  *registry.Resource
		obj  runtime.Object
		key  string
		want string
	}{
		{Secrets(), &corev1.Secret{Type: "kubernetes.io/tls"}, "type", "kubernetes.io/tls"},
		{Nodes(), &corev1.Node{Spec: corev1.NodeSpec{Unschedulable: true}}, "spec.unschedulable", "true"},
		{ReplicationControllers(), &corev1.ReplicationController{Status: corev1.ReplicationControllerStatus{Replicas: 3}}, "status.replicas", "3"},
		{Namespaces(), &corev1.Namespace{Status: corev1.NamespaceStatus{Phase: "Active"}}, "status.phase", "Active"},
		{Services(newTestAllocator(t)), &corev1.Service{Spec: corev1.ServiceSpec{Type: "NodePort", ClusterIP: "10.0.0.2"}}, "spec.clusterIP", "10.0.0.2"},
	}
	for _, tc := range cases {
		if got := tc.res.Fields(tc.obj); got[tc.key] != tc.want {
			t.Errorf("%s %s = %q, want %q", tc.res.Name, tc.key, got[tc.key], tc.want)
		}
	}
	for _, res := range []*registry.Resource{PersistentVolumes(), PersistentVolumeClaims(), LimitRanges()} {
		if res.Fields != nil {
			t.Errorf("%s should only select by metadata", res.Name)
		}
	}
}

func TestValidateBinding(t *testing.T) {
	b := &corev1.Binding{Target: corev1.ObjectReference{Kind: "Pod"}}
	got := validateBinding(b).ToAggregate().Error()
	want := `[target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>", target.name: Required value]`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
