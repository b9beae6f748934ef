package core

import (
	"encoding/json"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Secrets is core/v1 secrets.
func Secrets() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "secrets", Kind: "Secret", SingularName: "secret",
		Namespaced: true,
		New:        func() runtime.Object { return &corev1.Secret{} },
		NewList:    func() runtime.Object { return &corev1.SecretList{} },
		KeyPrefix:  "secrets",
		Strategy: &registry.Generic{
			Defaults:         defaultSecret,
			Validation:       func(obj runtime.Object) field.ErrorList { return validateSecret(obj.(*corev1.Secret)) },
			UpdateValidation: validateSecretUpdate,
			NoStatusSplit:    true,
			NoGeneration:     true,
		},
		Fields: func(obj runtime.Object) map[string]string {
			return map[string]string{"type": string(obj.(*corev1.Secret).Type)}
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Type", "string", corev1.Secret{}.SwaggerDoc()["type"], 0),
				registry.Col("Data", "string", corev1.Secret{}.SwaggerDoc()["data"], 0),
				registry.AgeColumn},
			Cells: func(obj runtime.Object) []interface{} {
				s := obj.(*corev1.Secret)
				return []interface{}{s.Name, string(s.Type), int64(len(s.Data)), registry.Age(s.CreationTimestamp)}
			},
		},
	}
}

// defaultSecret sets type Opaque and merges the write-only stringData into data,
// where stringData wins, as the v1 conversion does.
func defaultSecret(obj runtime.Object) {
	s := obj.(*corev1.Secret)
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	if len(s.StringData) > 0 && s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

func validateSecret(s *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	data := field.NewPath("data")
	total := 0
	for k, v := range s.Data {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(data.Key(k), k, msg))
		}
		total += len(v)
	}
	if total > corev1.MaxSecretSize {
		errs = append(errs, field.TooLong(data, "", corev1.MaxSecretSize))
	}
	required := func(key string) {
		errs = append(errs, field.Required(data.Key(key), ""))
	}
	jsonValid := func(key string) {
		raw, ok := s.Data[key]
		if !ok {
			required(key)
			return
		}
		if err := json.Unmarshal(raw, &map[string]interface{}{}); err != nil {
			errs = append(errs, field.Invalid(data.Key(key), "<secret contents redacted>", err.Error()))
		}
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockercfg:
		jsonValid(corev1.DockerConfigKey)
	case corev1.SecretTypeDockerConfigJson:
		jsonValid(corev1.DockerConfigJsonKey)
	case corev1.SecretTypeBasicAuth:
		_, user := s.Data[corev1.BasicAuthUsernameKey]
		_, pass := s.Data[corev1.BasicAuthPasswordKey]
		if !user && !pass {
			required(corev1.BasicAuthUsernameKey)
			required(corev1.BasicAuthPasswordKey)
		}
	case corev1.SecretTypeSSHAuth:
		if len(s.Data[corev1.SSHAuthPrivateKey]) == 0 {
			required(corev1.SSHAuthPrivateKey)
		}
	case corev1.SecretTypeTLS:
		if _, ok := s.Data[corev1.TLSCertKey]; !ok {
			required(corev1.TLSCertKey)
		}
		if _, ok := s.Data[corev1.TLSPrivateKeyKey]; !ok {
			required(corev1.TLSPrivateKeyKey)
		}
	}
	return errs
}

// validateSecretUpdate: the type never changes; an immutable secret's data neither.
func validateSecretUpdate(obj, old runtime.Object) field.ErrorList {
	s, oldS := obj.(*corev1.Secret), old.(*corev1.Secret)
	errs := apivalidation.ValidateImmutableField(s.Type, oldS.Type, field.NewPath("type"))
	if oldS.Immutable != nil && *oldS.Immutable {
		if s.Immutable == nil || !*s.Immutable {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
		}
		if !reflect.DeepEqual(s.Data, oldS.Data) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
		}
	}
	return append(errs, validateSecret(s)...)
}
