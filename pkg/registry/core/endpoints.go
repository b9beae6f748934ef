package core

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// Endpoints is core/v1 endpoints, written by the endpoints controller.
func Endpoints() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "endpoints", Kind: "Endpoints", SingularName: "endpoints", ShortNames: []string{"ep"},
		CreateOnUpdate: true,
		Namespaced:     true,
		New:            func() runtime.Object { return &corev1.Endpoints{} },
		NewList:        func() runtime.Object { return &corev1.EndpointsList{} },
		KeyPrefix:      "services/endpoints",
		Strategy: &registry.Generic{
			Defaults:   defaultEndpoints,
			Validation: func(obj runtime.Object) field.ErrorList { return validateEndpoints(obj.(*corev1.Endpoints), nil) },
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				return validateEndpoints(obj.(*corev1.Endpoints), old.(*corev1.Endpoints))
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Endpoints", "string", corev1.Endpoints{}.SwaggerDoc()["subsets"], 0), registry.AgeColumn},
			Cells: func(obj runtime.Object) []interface{} {
				ep := obj.(*corev1.Endpoints)
				return []interface{}{ep.Name, formatEndpoints(ep), registry.Age(ep.CreationTimestamp)}
			},
		},
	}
}

func defaultEndpoints(obj runtime.Object) {
	ep := obj.(*corev1.Endpoints)
	for i := range ep.Subsets {
		for j := range ep.Subsets[i].Ports {
			if ep.Subsets[i].Ports[j].Protocol == "" {
				ep.Subsets[i].Ports[j].Protocol = corev1.ProtocolTCP
			}
		}
	}
}

// validateEndpoints checks the subsets; an update that leaves invalid subsets
// untouched is allowed, as upstream tolerates what it once stored.
func validateEndpoints(ep, old *corev1.Endpoints) field.ErrorList {
	var errs field.ErrorList
	fld := field.NewPath("subsets")
	for i := range ep.Subsets {
		ss := &ep.Subsets[i]
		p := fld.Index(i)
		if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
			errs = append(errs, field.Required(p, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j := range ss.Addresses {
			errs = append(errs, validateEndpointAddress(&ss.Addresses[j], p.Child("addresses").Index(j))...)
		}
		for j := range ss.NotReadyAddresses {
			errs = append(errs, validateEndpointAddress(&ss.NotReadyAddresses[j], p.Child("notReadyAddresses").Index(j))...)
		}
		for j := range ss.Ports {
			errs = append(errs, validateEndpointPort(&ss.Ports[j], len(ss.Ports) > 1, p.Child("ports").Index(j))...)
		}
	}
	if len(errs) > 0 && old != nil && equality.Semantic.DeepEqual(old.Subsets, ep.Subsets) {
		return nil
	}
	return errs
}

func validateEndpointAddress(a *corev1.EndpointAddress, fld *field.Path) field.ErrorList {
	errs := validation.IsValidIPForLegacyField(fld.Child("ip"), a.IP, false, nil)
	if a.Hostname != "" {
		errs = append(errs, podspec.DNS1123Label(a.Hostname, fld.Child("hostname"))...)
	}
	if a.NodeName != nil {
		for _, msg := range apivalidation.NameIsDNSSubdomain(*a.NodeName, false) {
			errs = append(errs, field.Invalid(fld.Child("nodeName"), *a.NodeName, msg))
		}
	}
	return append(errs, validateEndpointIP(a.IP, fld.Child("ip"))...)
}

// validateEndpointIP refuses addresses that cannot be a backend: unspecified,
// loopback and link-local ones.
func validateEndpointIP(ip string, fld *field.Path) field.ErrorList {
	addr := netutils.ParseIPSloppy(ip)
	if addr == nil {
		return field.ErrorList{field.Invalid(fld, ip, "must be a valid IP address")}
	}
	var errs field.ErrorList
	if addr.IsUnspecified() {
		errs = append(errs, field.Invalid(fld, ip, fmt.Sprintf("may not be unspecified (%v)", ip)))
	}
	if addr.IsLoopback() {
		errs = append(errs, field.Invalid(fld, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
	}
	if addr.IsLinkLocalUnicast() {
		errs = append(errs, field.Invalid(fld, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
	}
	if addr.IsLinkLocalMulticast() {
		errs = append(errs, field.Invalid(fld, ip, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
	}
	return errs
}

func validateEndpointPort(p *corev1.EndpointPort, requireName bool, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if requireName && p.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), ""))
	} else if p.Name != "" {
		errs = append(errs, podspec.DNS1123Label(p.Name, fld.Child("name"))...)
	}
	for _, msg := range validation.IsValidPortNum(int(p.Port)) {
		errs = append(errs, field.Invalid(fld.Child("port"), p.Port, msg))
	}
	errs = append(errs, validateProtocol(p.Protocol, fld.Child("protocol"))...)
	if p.AppProtocol != nil {
		errs = append(errs, podspec.QualifiedName(*p.AppProtocol, fld.Child("appProtocol"))...)
	}
	return errs
}

// formatEndpoints prints up to three address:port pairs, then "+ N more...".
func formatEndpoints(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return "<none>"
	}
	const max = 3
	var list []string
	more, count := false, 0
	add := func(s string) {
		if len(list) == max {
			more = true
			return
		}
		list = append(list, s)
	}
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				add(a.IP)
			}
			continue
		}
		for _, port := range ss.Ports {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				add(net.JoinHostPort(a.IP, strconv.Itoa(int(port.Port))))
			}
		}
	}
	out := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", out, count-max)
	}
	return out
}
