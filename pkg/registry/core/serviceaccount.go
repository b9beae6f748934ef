package core

import (
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/registry"
)

// ServiceAccounts is core/v1 serviceaccounts, with the token subresource the API
// server answers with a TokenRequest.
func ServiceAccounts() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "serviceaccounts", Kind: "ServiceAccount", SingularName: "serviceaccount", ShortNames: []string{"sa"},
		DeleteReturnsObject: true,
		Namespaced:          true,
		New:                 func() runtime.Object { return &corev1.ServiceAccount{} },
		NewList:             func() runtime.Object { return &corev1.ServiceAccountList{} },
		KeyPrefix:           "serviceaccounts",
		Strategy: &registry.Generic{
			// Only secret references are left over from the past; nothing to check.
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Subresources: []registry.Subresource{
			{Name: "token", Kind: authenticationv1.SchemeGroupVersion.WithKind("TokenRequest"), Verbs: []string{"create"}},
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Secrets", "string", corev1.ServiceAccount{}.SwaggerDoc()["secrets"], 0),
				registry.AgeColumn},
			Cells: func(obj runtime.Object) []interface{} {
				sa := obj.(*corev1.ServiceAccount)
				return []interface{}{sa.Name, int64(len(sa.Secrets)), registry.Age(sa.CreationTimestamp)}
			},
		},
	}
}
