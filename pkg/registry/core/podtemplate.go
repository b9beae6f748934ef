package core

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// PodTemplates is core/v1 podtemplates. A template has no spec field, so its
// generation is counted by hand on template changes, as upstream does.
func PodTemplates() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "podtemplates", Kind: "PodTemplate", SingularName: "podtemplate",
		Namespaced: true,
		New:        func() runtime.Object { return &corev1.PodTemplate{} },
		NewList:    func() runtime.Object { return &corev1.PodTemplateList{} },
		KeyPrefix:  "podtemplates",
		Strategy: &registry.Generic{
			Defaults: func(obj runtime.Object) { podspec.DefaultPodTemplateSpec(&obj.(*corev1.PodTemplate).Template) },
			Validation: func(obj runtime.Object) field.ErrorList {
				return podspec.ValidatePodTemplateSpec(&obj.(*corev1.PodTemplate).Template, field.NewPath("template"))
			},
			Create: func(obj runtime.Object) { obj.(*corev1.PodTemplate).Generation = 1 },
			Update: func(obj, old runtime.Object) {
				t, o := obj.(*corev1.PodTemplate), old.(*corev1.PodTemplate)
				t.Generation = o.Generation
				if !equality.Semantic.DeepEqual(t.Template, o.Template) {
					t.Generation++
				}
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Containers", "string", "Names of each container in the template.", 0),
				registry.Col("Images", "string", "Images referenced by each container in the template.", 0),
				registry.Col("Pod Labels", "string", "The labels for the pod template.", 0)},
			Cells: func(obj runtime.Object) []interface{} {
				t := obj.(*corev1.PodTemplate)
				names, images := containerCells(t.Template.Spec.Containers)
				return []interface{}{t.Name, names, images, labels.FormatLabels(t.Template.Labels)}
			},
		},
	}
}

// containerCells lists container names and images, comma-separated.
func containerCells(containers []corev1.Container) (string, string) {
	names := make([]string, len(containers))
	images := make([]string, len(containers))
	for i, c := range containers {
		names[i], images[i] = c.Name, c.Image
	}
	return strings.Join(names, ","), strings.Join(images, ",")
}
