package apiserver

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/registry"
)

func TestGCFinalizersFollowUpstreamsRules(t *testing.T) {
	get := func(group, resource string) *registry.Resource {
		return testConfig.Registry.Get(schema.GroupVersionResource{Group: group, Version: "v1", Resource: resource})
	}
	rs, rc, jobs, events := get("apps", "replicasets"), get("", "replicationcontrollers"), get("batch", "jobs"), get("", "events")
	policy := func(p metav1.DeletionPropagation) *metav1.DeleteOptions {
		return &metav1.DeleteOptions{PropagationPolicy: &p}
	}
	yes, no := true, false
	cases := []struct {
		name    string
		res     *registry.Resource
		have    []string
		opts    *metav1.DeleteOptions
		want    string
		changed bool
	}{
		{"background adds nothing", rs, nil, policy(metav1.DeletePropagationBackground), "", false},
		{"foreground adds foregroundDeletion", rs, []string{"x"}, policy(metav1.DeletePropagationForeground), "x,foregroundDeletion", true},
		{"orphan adds orphan", rs, nil, policy(metav1.DeletePropagationOrphan), "orphan", true},
		{"the deprecated orphanDependents=true orphans", rs, nil, &metav1.DeleteOptions{OrphanDependents: &yes}, "orphan", true},
		{"orphanDependents=false deletes in the background", rs, []string{"orphan"}, &metav1.DeleteOptions{OrphanDependents: &no}, "", true},
		{"a new policy replaces the finalizer of an earlier one", rs, []string{"orphan"}, policy(metav1.DeletePropagationForeground), "foregroundDeletion", true},
		{"background removes an earlier foreground finalizer", rs, []string{"foregroundDeletion", "x"}, policy(metav1.DeletePropagationBackground), "x", true},
		{"no options keep the finalizer the object has", rs, []string{"foregroundDeletion"}, &metav1.DeleteOptions{}, "foregroundDeletion", false},
		{"no options on a ReplicaSet delete in the background", rs, nil, &metav1.DeleteOptions{}, "", false},
		{"no options on a v1 ReplicationController orphan", rc, nil, &metav1.DeleteOptions{}, "orphan", true},
		{"no options on a batch/v1 Job orphan", jobs, nil, &metav1.DeleteOptions{}, "orphan", true},
		{"events take no garbage collector finalizers", events, nil, policy(metav1.DeletePropagationForeground), "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, changed := gcFinalizers(c.res, c.have, c.opts)
			if strings.Join(got, ",") != c.want || changed != c.changed {
				t.Errorf("got %v (changed %v), want %q (changed %v)", got, changed, c.want, c.changed)
			}
		})
	}
}
