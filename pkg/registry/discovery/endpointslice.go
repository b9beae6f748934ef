// Package discovery describes discovery.k8s.io/v1 EndpointSlices: the
// addresses behind a Service, written by the EndpointSlice controller.
package discovery

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// Limits upstream puts on a slice.
const (
	maxTopologyLabels = 16
	maxAddresses      = 100
	maxPorts          = 20000
	maxEndpoints      = 1000
	maxZoneHints      = 8
	maxNodeHints      = 8
)

// Resources returns every discovery.k8s.io/v1 resource.
func Resources() []*registry.Resource { return []*registry.Resource{EndpointSlices()} }

// EndpointSlices is discovery.k8s.io/v1 endpointslices.
func EndpointSlices() *registry.Resource {
	return &registry.Resource{
		Group: "discovery.k8s.io", Version: "v1", Name: "endpointslices", Kind: "EndpointSlice", SingularName: "endpointslice",
		Namespaced: true,
		New:        func() runtime.Object { return &discoveryv1.EndpointSlice{} },
		NewList:    func() runtime.Object { return &discoveryv1.EndpointSliceList{} },
		KeyPrefix:  "endpointslices",
		Strategy: &registry.Generic{
			Defaults: defaultEndpointSlice,
			Create:   func(obj runtime.Object) { obj.(*discoveryv1.EndpointSlice).Generation = 1 },
			Update:   bumpGeneration,
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateEndpointSlice(obj.(*discoveryv1.EndpointSlice), nil)
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				s, os := obj.(*discoveryv1.EndpointSlice), old.(*discoveryv1.EndpointSlice)
				errs := validateEndpointSlice(s, os)
				return append(errs, apivalidation.ValidateImmutableField(s.AddressType, os.AddressType, field.NewPath("addressType"))...)
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("AddressType", "string", discoveryv1.EndpointSlice{}.SwaggerDoc()["addressType"], 0),
				registry.Col("Ports", "string", discoveryv1.EndpointSlice{}.SwaggerDoc()["ports"], 0),
				registry.Col("Endpoints", "string", discoveryv1.EndpointSlice{}.SwaggerDoc()["endpoints"], 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				s := obj.(*discoveryv1.EndpointSlice)
				return []interface{}{s.Name, string(s.AddressType), slicePorts(s.Ports), sliceEndpoints(s.Endpoints), registry.Age(s.CreationTimestamp)}
			},
		},
	}
}

func defaultEndpointSlice(obj runtime.Object) {
	s := obj.(*discoveryv1.EndpointSlice)
	for i := range s.Ports {
		if s.Ports[i].Name == nil {
			name := ""
			s.Ports[i].Name = &name
		}
		if s.Ports[i].Protocol == nil {
			p := corev1.ProtocolTCP
			s.Ports[i].Protocol = &p
		}
	}
}

// bumpGeneration counts changes to anything but metadata, and to labels
// (which say which Service a slice belongs to), as upstream; a slice has no spec.
func bumpGeneration(obj, old runtime.Object) {
	s, os := obj.(*discoveryv1.EndpointSlice), old.(*discoveryv1.EndpointSlice)
	s.Generation = os.Generation
	a, b := *s, *os
	a.ObjectMeta, b.ObjectMeta = metav1.ObjectMeta{}, metav1.ObjectMeta{}
	a.TypeMeta, b.TypeMeta = metav1.TypeMeta{}, metav1.TypeMeta{}
	if !equality.Semantic.DeepEqual(a, b) || !equality.Semantic.DeepEqual(s.Labels, os.Labels) {
		s.Generation++
	}
}

var (
	addressTypes = []discoveryv1.AddressType{discoveryv1.AddressTypeFQDN, discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6}
	protocols    = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}
)

// validateEndpointSlice checks a slice; endpoints stored before a rule
// tightened stay acceptable while unchanged.
func validateEndpointSlice(s, old *discoveryv1.EndpointSlice) field.ErrorList {
	var errs field.ErrorList
	at := field.NewPath("addressType")
	switch s.AddressType {
	case "":
		errs = append(errs, field.Required(at, ""))
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN:
	default:
		errs = append(errs, field.NotSupported(at, s.AddressType, addressTypes))
	}
	errs = append(errs, validatePorts(s.Ports, field.NewPath("ports"))...)
	epErrs := validateEndpoints(s.Endpoints, s.AddressType, field.NewPath("endpoints"))
	if len(epErrs) > 0 && old != nil && equality.Semantic.DeepEqual(old.Endpoints, s.Endpoints) {
		epErrs = nil
	}
	return append(errs, epErrs...)
}

func validateEndpoints(eps []discoveryv1.Endpoint, at discoveryv1.AddressType, fld *field.Path) field.ErrorList {
	if len(eps) > maxEndpoints {
		return field.ErrorList{field.TooMany(fld, len(eps), maxEndpoints)}
	}
	var errs field.ErrorList
	for i, ep := range eps {
		f := fld.Index(i)
		af := f.Child("addresses")
		switch {
		case len(ep.Addresses) == 0:
			errs = append(errs, field.Required(af, "must contain at least 1 address"))
		case len(ep.Addresses) > maxAddresses:
			errs = append(errs, field.TooMany(af, len(ep.Addresses), maxAddresses))
		}
		for j, a := range ep.Addresses {
			errs = append(errs, validateAddress(a, at, af, af.Index(j))...)
		}
		if ep.NodeName != nil {
			for _, msg := range apivalidation.NameIsDNSSubdomain(*ep.NodeName, false) {
				errs = append(errs, field.Invalid(f.Child("nodeName"), *ep.NodeName, msg))
			}
		}
		tf := f.Child("deprecatedTopology")
		if len(ep.DeprecatedTopology) > maxTopologyLabels {
			errs = append(errs, field.TooMany(tf, len(ep.DeprecatedTopology), maxTopologyLabels))
		}
		errs = append(errs, metavalidation.ValidateLabels(ep.DeprecatedTopology, tf)...)
		if ep.Hostname != nil {
			errs = append(errs, podspec.DNS1123Label(*ep.Hostname, f.Child("hostname"))...)
		}
		if ep.Hints != nil {
			errs = append(errs, validateHints(ep.Hints, f.Child("hints"))...)
		}
	}
	return errs
}

// validateAddress checks one address against the slice's address type; a
// family mismatch is reported on the list, as upstream does.
func validateAddress(a string, at discoveryv1.AddressType, list, fld *field.Path) field.ErrorList {
	switch at {
	case discoveryv1.AddressTypeIPv4:
		if errs := validation.IsValidIPForLegacyField(fld, a, false, nil); len(errs) > 0 {
			return errs
		}
		var errs field.ErrorList
		if !netutils.IsIPv4String(a) {
			errs = append(errs, field.Invalid(list, a, "must be an IPv4 address"))
		}
		return append(errs, validateEndpointIP(a, fld)...)
	case discoveryv1.AddressTypeIPv6:
		if errs := validation.IsValidIP(fld, a); len(errs) > 0 {
			return errs
		}
		var errs field.ErrorList
		if !netutils.IsIPv6String(a) {
			errs = append(errs, field.Invalid(list, a, "must be an IPv6 address"))
		}
		return append(errs, validateEndpointIP(a, fld)...)
	case discoveryv1.AddressTypeFQDN:
		return validation.IsFullyQualifiedDomainName(fld, a)
	}
	return nil
}

// validateEndpointIP rejects addresses no pod can have.
func validateEndpointIP(a string, fld *field.Path) field.ErrorList {
	ip := netutils.ParseIPSloppy(a)
	if ip == nil {
		return field.ErrorList{field.Invalid(fld, a, "must be a valid IP address")}
	}
	var errs field.ErrorList
	if ip.IsUnspecified() {
		errs = append(errs, field.Invalid(fld, a, fmt.Sprintf("may not be unspecified (%v)", a)))
	}
	if ip.IsLoopback() {
		errs = append(errs, field.Invalid(fld, a, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
	}
	if ip.IsLinkLocalUnicast() {
		errs = append(errs, field.Invalid(fld, a, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
	}
	if ip.IsLinkLocalMulticast() {
		errs = append(errs, field.Invalid(fld, a, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
	}
	return errs
}

func validatePorts(ports []discoveryv1.EndpointPort, fld *field.Path) field.ErrorList {
	if len(ports) > maxPorts {
		return field.ErrorList{field.TooMany(fld, len(ports), maxPorts)}
	}
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, p := range ports {
		f := fld.Index(i)
		name := ""
		if p.Name != nil {
			name = *p.Name
		}
		if name != "" {
			errs = append(errs, podspec.DNS1123Label(name, f.Child("name"))...)
		}
		if seen[name] {
			errs = append(errs, field.Duplicate(f.Child("name"), p.Name))
		}
		seen[name] = true
		switch {
		case p.Protocol == nil:
			errs = append(errs, field.Required(f.Child("protocol"), ""))
		case *p.Protocol != corev1.ProtocolTCP && *p.Protocol != corev1.ProtocolUDP && *p.Protocol != corev1.ProtocolSCTP:
			errs = append(errs, field.NotSupported(f.Child("protocol"), *p.Protocol, protocols))
		}
		if p.AppProtocol != nil {
			errs = append(errs, podspec.QualifiedName(*p.AppProtocol, f.Child("appProtocol"))...)
		}
	}
	return errs
}

func validateHints(h *discoveryv1.EndpointHints, fld *field.Path) field.ErrorList {
	zf := fld.Child("forZones")
	if len(h.ForZones) > maxZoneHints {
		return field.ErrorList{field.TooMany(zf, len(h.ForZones), maxZoneHints)}
	}
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, z := range h.ForZones {
		f := zf.Index(i).Child("name")
		if seen[z.Name] {
			errs = append(errs, field.Duplicate(f, z.Name))
		}
		seen[z.Name] = true
		for _, msg := range validation.IsValidLabelValue(z.Name) {
			errs = append(errs, field.Invalid(f, z.Name, msg))
		}
	}
	nf := fld.Child("forNodes")
	if len(h.ForNodes) > maxNodeHints {
		return append(errs, field.TooMany(nf, len(h.ForNodes), maxNodeHints))
	}
	seen = map[string]bool{}
	for i, n := range h.ForNodes {
		f := nf.Index(i).Child("name")
		if seen[n.Name] {
			errs = append(errs, field.Duplicate(f, n.Name))
		}
		seen[n.Name] = true
		for _, msg := range apivalidation.NameIsDNSSubdomain(n.Name, false) {
			errs = append(errs, field.Invalid(f, n.Name, msg))
		}
	}
	return errs
}

// slicePorts prints up to three ports, "*" for one without a number or name.
func slicePorts(ports []discoveryv1.EndpointPort) string {
	var list []string
	for _, p := range ports {
		switch {
		case p.Port != nil:
			list = append(list, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			list = append(list, *p.Name)
		default:
			list = append(list, "*")
		}
	}
	return firstThree(list)
}

func sliceEndpoints(eps []discoveryv1.Endpoint) string {
	var list []string
	for _, ep := range eps {
		list = append(list, ep.Addresses...)
	}
	return firstThree(list)
}

// firstThree prints a list as kubectl's columns do: "<unset>" when empty, the
// first three and a count of the rest.
func firstThree(list []string) string {
	const shown = 3
	switch {
	case len(list) == 0:
		return "<unset>"
	case len(list) > shown:
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:shown], ","), len(list)-shown)
	}
	return strings.Join(list, ",")
}
