package rbac

import (
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/badvalue"
)

// RoleBindings is rbac.authorization.k8s.io/v1 rolebindings.
func RoleBindings() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "rolebindings", Kind: "RoleBinding", SingularName: "rolebinding", Namespaced: true,
		CreateOnUpdate: true,
		New:            func() runtime.Object { return &rbacv1.RoleBinding{} },
		NewList:        func() runtime.Object { return &rbacv1.RoleBindingList{} },
		KeyPrefix:      "rolebindings",
		ValidName:      validName,
		Strategy: &registry.Generic{
			Defaults: func(obj runtime.Object) {
				b := obj.(*rbacv1.RoleBinding)
				defaultBinding(&b.RoleRef, b.Subjects)
			},
			Validation: func(obj runtime.Object) field.ErrorList {
				b := obj.(*rbacv1.RoleBinding)
				return validateBinding(b.RoleRef, b.Subjects, true)
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				b, ob := obj.(*rbacv1.RoleBinding), old.(*rbacv1.RoleBinding)
				return append(validateBinding(b.RoleRef, b.Subjects, true), roleRefUnchanged(b.RoleRef, ob.RoleRef)...)
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: bindingTable("roleBinding", func(obj runtime.Object) (string, rbacv1.RoleRef, []rbacv1.Subject, metav1.Time) {
			b := obj.(*rbacv1.RoleBinding)
			return b.Name, b.RoleRef, b.Subjects, b.CreationTimestamp
		}),
	}
}

// ClusterRoleBindings is rbac.authorization.k8s.io/v1 clusterrolebindings.
func ClusterRoleBindings() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "clusterrolebindings", Kind: "ClusterRoleBinding", SingularName: "clusterrolebinding",
		CreateOnUpdate: true,
		New:            func() runtime.Object { return &rbacv1.ClusterRoleBinding{} },
		NewList:        func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} },
		KeyPrefix:      "clusterrolebindings",
		ValidName:      validName,
		Strategy: &registry.Generic{
			Defaults: func(obj runtime.Object) {
				b := obj.(*rbacv1.ClusterRoleBinding)
				defaultBinding(&b.RoleRef, b.Subjects)
			},
			Validation: func(obj runtime.Object) field.ErrorList {
				b := obj.(*rbacv1.ClusterRoleBinding)
				return validateBinding(b.RoleRef, b.Subjects, false)
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				b, ob := obj.(*rbacv1.ClusterRoleBinding), old.(*rbacv1.ClusterRoleBinding)
				return append(validateBinding(b.RoleRef, b.Subjects, false), roleRefUnchanged(b.RoleRef, ob.RoleRef)...)
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: bindingTable("clusterRoleBinding", func(obj runtime.Object) (string, rbacv1.RoleRef, []rbacv1.Subject, metav1.Time) {
			b := obj.(*rbacv1.ClusterRoleBinding)
			return b.Name, b.RoleRef, b.Subjects, b.CreationTimestamp
		}),
	}
}

// defaultBinding fills the API groups a binding may leave out.
func defaultBinding(ref *rbacv1.RoleRef, subjects []rbacv1.Subject) {
	if ref.APIGroup == "" {
		ref.APIGroup = group
	}
	for i := range subjects {
		if s := &subjects[i]; s.APIGroup == "" && (s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind) {
			s.APIGroup = group
		}
	}
}

func validateBinding(ref rbacv1.RoleRef, subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	rf := field.NewPath("roleRef")
	if ref.APIGroup != group {
		errs = append(errs, field.NotSupported(rf.Child("apiGroup"), ref.APIGroup, []string{group}))
	}
	kinds := []string{"ClusterRole"}
	if namespaced {
		kinds = []string{"Role", "ClusterRole"}
	}
	known := false
	for _, k := range kinds {
		known = known || k == ref.Kind
	}
	if !known {
		errs = append(errs, field.NotSupported(rf.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(rf.Child("name"), ""))
	} else {
		for _, msg := range validName(ref.Name, false) {
			errs = append(errs, field.Invalid(rf.Child("name"), ref.Name, msg))
		}
	}
	for i, s := range subjects {
		errs = append(errs, validateSubject(s, namespaced, field.NewPath("subjects").Index(i))...)
	}
	return errs
}

func validateSubject(s rbacv1.Subject, namespaced bool, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), ""))
	}
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		if s.Name != "" {
			for _, msg := range apivalidation.NameIsDNSSubdomain(s.Name, false) {
				errs = append(errs, field.Invalid(fld.Child("name"), s.Name, msg))
			}
		}
		if s.APIGroup != "" {
			errs = append(errs, field.NotSupported(fld.Child("apiGroup"), s.APIGroup, []string{""}))
		}
		if !namespaced && s.Namespace == "" {
			errs = append(errs, field.Required(fld.Child("namespace"), ""))
		}
	case rbacv1.UserKind, rbacv1.GroupKind:
		if s.APIGroup != group {
			errs = append(errs, field.NotSupported(fld.Child("apiGroup"), s.APIGroup, []string{group}))
		}
	default:
		errs = append(errs, field.NotSupported(fld.Child("kind"), s.Kind, []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
	}
	return errs
}

// roleRefUnchanged: a binding's role is fixed; rebinding means a new binding.
func roleRefUnchanged(ref, old rbacv1.RoleRef) field.ErrorList {
	if ref != old {
		return field.ErrorList{field.Invalid(field.NewPath("roleRef"), badvalue.Internal(ref), "cannot change roleRef")}
	}
	return nil
}

// bindingTable prints a binding's role and, wide, its subjects by kind. what
// names the resource in the column descriptions.
func bindingTable(what string, parts func(runtime.Object) (string, rbacv1.RoleRef, []rbacv1.Subject, metav1.Time)) *registry.Table {
	return &registry.Table{
		Cols: []metav1.TableColumnDefinition{registry.NameColumn,
			registry.Col("Role", "string", rbacv1.RoleBinding{}.SwaggerDoc()["roleRef"], 0),
			registry.AgeColumn,
			registry.Col("Users", "string", "Users in the "+what, 1),
			registry.Col("Groups", "string", "Groups in the "+what, 1),
			registry.Col("ServiceAccounts", "string", "ServiceAccounts in the "+what, 1),
		},
		Cells: func(obj runtime.Object) []interface{} {
			name, ref, subjects, created := parts(obj)
			users, groups, sas := []string{}, []string{}, []string{}
			for _, s := range subjects {
				switch s.Kind {
				case rbacv1.ServiceAccountKind:
					sas = append(sas, fmt.Sprintf("%s/%s", s.Namespace, s.Name))
				case rbacv1.UserKind:
					users = append(users, s.Name)
				case rbacv1.GroupKind:
					groups = append(groups, s.Name)
				}
			}
			return []interface{}{name, ref.Kind + "/" + ref.Name, registry.Age(created),
				strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")}
		},
	}
}
