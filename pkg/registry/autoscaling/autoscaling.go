// Package autoscaling describes HorizontalPodAutoscalers, served as
// autoscaling/v2 (stored) and autoscaling/v1, with the conversions between
// them: v1 carries what it has no fields for in annotations, as upstream does.
package autoscaling

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Resources returns autoscaling/v2 and autoscaling/v1 horizontalpodautoscalers.
func Resources() []*registry.Resource {
	return []*registry.Resource{HorizontalPodAutoscalersV2(), HorizontalPodAutoscalersV1()}
}

// HorizontalPodAutoscalersV2 is autoscaling/v2 horizontalpodautoscalers, the
// stored version.
func HorizontalPodAutoscalersV2() *registry.Resource {
	r := hpaResource("v2")
	r.New = func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscaler{} }
	r.NewList = func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscalerList{} }
	r.Strategy = &registry.Generic{
		Defaults: func(obj runtime.Object) { defaultHPA(obj.(*autoscalingv2.HorizontalPodAutoscaler)) },
		// Upstream keeps no generation for HPAs.
		NoGeneration: true,
		Create:       func(obj runtime.Object) { dropTolerance(obj.(*autoscalingv2.HorizontalPodAutoscaler), nil) },
		Update: func(obj, old runtime.Object) {
			dropTolerance(obj.(*autoscalingv2.HorizontalPodAutoscaler), old.(*autoscalingv2.HorizontalPodAutoscaler))
		},
		Validation: func(obj runtime.Object) field.ErrorList {
			return validateHPA(obj.(*autoscalingv2.HorizontalPodAutoscaler), nil)
		},
		UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
			return validateHPA(obj.(*autoscalingv2.HorizontalPodAutoscaler), old.(*autoscalingv2.HorizontalPodAutoscaler))
		},
		StatusValidation: func(obj, _ runtime.Object) field.ErrorList {
			return validateHPAStatus(&obj.(*autoscalingv2.HorizontalPodAutoscaler).Status)
		},
	}
	r.Table = hpaTable(func(obj runtime.Object) *autoscalingv2.HorizontalPodAutoscaler {
		return obj.(*autoscalingv2.HorizontalPodAutoscaler)
	})
	return r
}

// HorizontalPodAutoscalersV1 is autoscaling/v1 horizontalpodautoscalers. Its
// objects are converted to v2 to be checked, so they obey the same rules.
func HorizontalPodAutoscalersV1() *registry.Resource {
	r := hpaResource("v1")
	r.New = func() runtime.Object { return &autoscalingv1.HorizontalPodAutoscaler{} }
	r.NewList = func() runtime.Object { return &autoscalingv1.HorizontalPodAutoscalerList{} }
	r.StorageKind = autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler")
	r.Strategy = &registry.Generic{
		Defaults: func(obj runtime.Object) {
			h := obj.(*autoscalingv1.HorizontalPodAutoscaler)
			if h.Spec.MinReplicas == nil {
				one := int32(1)
				h.Spec.MinReplicas = &one
			}
		},
		Validation: func(obj runtime.Object) field.ErrorList {
			return validateHPA(asV2(obj), nil)
		},
		UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
			return validateHPA(asV2(obj), asV2(old))
		},
		StatusValidation: func(obj, _ runtime.Object) field.ErrorList {
			return validateHPAStatus(&asV2(obj).Status)
		},
		NoGeneration: true,
	}
	r.Table = hpaTable(asV2)
	return r
}

func hpaResource(version string) *registry.Resource {
	return &registry.Resource{
		Group: "autoscaling", Version: version, Name: "horizontalpodautoscalers", Kind: "HorizontalPodAutoscaler",
		SingularName: "horizontalpodautoscaler", ShortNames: []string{"hpa"}, Categories: []string{"all"},
		Namespaced: true, KeyPrefix: "horizontalpodautoscalers", Status: true,
	}
}

// asV2 converts a v1 object for checks and printing; a failure leaves an
// empty object, which then fails validation loudly rather than silently.
func asV2(obj runtime.Object) *autoscalingv2.HorizontalPodAutoscaler {
	out := &autoscalingv2.HorizontalPodAutoscaler{}
	if in, ok := obj.(*autoscalingv1.HorizontalPodAutoscaler); ok {
		_ = ConvertV1ToV2(in, out)
	}
	return out
}
