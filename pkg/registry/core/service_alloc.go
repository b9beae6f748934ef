package core

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/core/alloc"
	"github.com/minik8s/minik8s/pkg/storage"
)

// serviceAllocator implements registry.Hooks for Services: it gives them cluster
// IPs and node ports on create, keeps them across updates, and takes them back on
// delete. One API server writes Services, so the in-memory ranges are the whole
// truth once filled from the stored Services, which happens on first use so that
// the allocations survive restarts.
type serviceAllocator struct {
	ips   *alloc.IPRange
	ports *alloc.PortRange
	// services is the resource whose Store holds the Services.
	services *registry.Resource

	mu     sync.Mutex // serialises allocation; guards loaded
	loaded bool
}

var _ registry.Hooks = &serviceAllocator{}

func newServiceAllocator(cidr, portRange string) (*serviceAllocator, error) {
	ips, err := alloc.NewIPRange(cidr)
	if err != nil {
		return nil, err
	}
	ports, err := alloc.NewPortRange(portRange)
	if err != nil {
		return nil, err
	}
	return &serviceAllocator{ips: ips, ports: ports}, nil
}

func (a *serviceAllocator) family() corev1.IPFamily {
	if a.ips.IsIPv6() {
		return corev1.IPv6Protocol
	}
	return corev1.IPv4Protocol
}

// load marks what the stored Services hold; the caller holds a.mu.
func (a *serviceAllocator) load(ctx context.Context) error {
	if a.loaded || a.services == nil || a.services.Store == nil {
		return nil
	}
	list, err := a.services.Store.List(ctx, storage.ListOptions{})
	if err != nil {
		return fmt.Errorf("load allocated service IPs and ports: %w", err)
	}
	for _, obj := range list.Items {
		svc, ok := obj.(*corev1.Service)
		if !ok {
			continue
		}
		for _, ip := range svc.Spec.ClusterIPs {
			if addr, err := netip.ParseAddr(ip); err == nil {
				_ = a.ips.Allocate(addr.Unmap())
			}
		}
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				_ = a.ports.Allocate(int(p.NodePort))
			}
		}
		if svc.Spec.HealthCheckNodePort != 0 {
			_ = a.ports.Allocate(int(svc.Spec.HealthCheckNodePort))
		}
	}
	a.loaded = true
	return nil
}

// txn records what one write took and gave back, to undo it.
type txn struct {
	a                 *serviceAllocator
	ips, freedIPs     []netip.Addr
	ports, freedPorts []int
}

func (t *txn) undo() {
	for _, ip := range t.ips {
		t.a.ips.Release(ip)
	}
	for _, p := range t.ports {
		t.a.ports.Release(p)
	}
	// Taking back what the write gave up can only fail if another write grabbed it
	// in between, which the single writer's lock rules out.
	for _, ip := range t.freedIPs {
		_ = t.a.ips.Allocate(ip)
	}
	for _, p := range t.freedPorts {
		_ = t.a.ports.Allocate(p)
	}
}

// BeforeCreate allocates the new Service's cluster IP and node ports.
func (a *serviceAllocator) BeforeCreate(ctx context.Context, obj runtime.Object, dryRun bool) (func(), error) {
	svc := obj.(*corev1.Service)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.load(ctx); err != nil {
		return nil, err
	}
	t := &txn{a: a}
	if err := a.allocate(t, svc, nil); err != nil {
		t.undo()
		return nil, apiError(svc, err)
	}
	return t.undo, nil
}

// BeforeUpdate allocates what a changed Service newly needs (a cluster IP when it
// stops being ExternalName, node ports when it becomes NodePort) and releases
// what it no longer holds.
func (a *serviceAllocator) BeforeUpdate(ctx context.Context, obj, old runtime.Object, dryRun bool) (func(), error) {
	svc, oldSvc := obj.(*corev1.Service), old.(*corev1.Service)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.load(ctx); err != nil {
		return nil, err
	}
	t := &txn{a: a}
	if err := a.allocate(t, svc, oldSvc); err != nil {
		t.undo()
		return nil, apiError(svc, err)
	}
	keepIPs := map[string]bool{}
	for _, ip := range svc.Spec.ClusterIPs {
		keepIPs[ip] = true
	}
	for _, ip := range oldSvc.Spec.ClusterIPs {
		if addr, err := netip.ParseAddr(ip); err == nil && !keepIPs[ip] {
			a.ips.Release(addr.Unmap())
			t.freedIPs = append(t.freedIPs, addr.Unmap())
		}
	}
	keepPorts := nodePortsOf(svc)
	for p := range nodePortsOf(oldSvc) {
		if !keepPorts[p] {
			a.ports.Release(p)
			t.freedPorts = append(t.freedPorts, p)
		}
	}
	return t.undo, nil
}

// AfterDelete returns a deleted Service's addresses and ports.
func (a *serviceAllocator) AfterDelete(ctx context.Context, obj runtime.Object) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.loaded {
		return // the first load will not see it
	}
	for _, ip := range svc.Spec.ClusterIPs {
		if addr, err := netip.ParseAddr(ip); err == nil {
			a.ips.Release(addr.Unmap())
		}
	}
	for p := range nodePortsOf(svc) {
		a.ports.Release(p)
	}
}

func nodePortsOf(svc *corev1.Service) map[int]bool {
	out := map[int]bool{}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			out[int(p.NodePort)] = true
		}
	}
	if svc.Spec.HealthCheckNodePort != 0 {
		out[int(svc.Spec.HealthCheckNodePort)] = true
	}
	return out
}

// precheck reports what allocating for svc would refuse, without keeping
// anything. Upstream allocates before it validates, so an allocation error is
// the only one a user sees; the strategy's validation calls this first to match.
func (a *serviceAllocator) precheck(svc, old *corev1.Service) field.ErrorList {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.load(context.Background()); err != nil {
		return nil // the hook will report it
	}
	t := &txn{a: a}
	err := a.allocate(t, svc.DeepCopy(), old)
	t.undo()
	var refused *refusal
	if errors.As(err, &refused) {
		return refused.errs
	}
	return nil
}

// refusal is an allocation the user's request made impossible.
type refusal struct{ errs field.ErrorList }

func (r *refusal) Error() string { return r.errs.ToAggregate().Error() }

// apiError turns a refusal into upstream's 422 for the service.
func apiError(svc *corev1.Service, err error) error {
	var refused *refusal
	if errors.As(err, &refused) {
		return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), svc.Name, refused.errs)
	}
	return err
}

// allocate fills in what svc needs and old (nil on create) did not hold.
func (a *serviceAllocator) allocate(t *txn, svc, old *corev1.Service) error {
	if svc.Spec.Type != corev1.ServiceTypeExternalName {
		if err := a.initIPFamilies(svc, old); err != nil {
			return err
		}
		if err := a.allocateClusterIP(t, svc, old); err != nil {
			return err
		}
	}
	return a.allocateNodePorts(t, svc, old)
}

func invalid(_ *corev1.Service, errs ...*field.Error) error {
	return &refusal{errs: errs}
}

// initIPFamilies sets ipFamilyPolicy and ipFamilies for a single-stack cluster,
// as upstream does: headless Services without a selector ask for both families.
func (a *serviceAllocator) initIPFamilies(svc, old *corev1.Service) error {
	s := &svc.Spec
	selectorless := s.ClusterIP == corev1.ClusterIPNone && len(s.Selector) == 0
	if s.IPFamilyPolicy == nil {
		policy := corev1.IPFamilyPolicySingleStack
		switch {
		case old != nil && old.Spec.IPFamilyPolicy != nil:
			policy = *old.Spec.IPFamilyPolicy
		case selectorless:
			policy = corev1.IPFamilyPolicyRequireDualStack
		}
		s.IPFamilyPolicy = &policy
	}
	policyPath := field.NewPath("spec", "ipFamilyPolicy")
	if *s.IPFamilyPolicy == corev1.IPFamilyPolicySingleStack {
		if len(s.ClusterIPs) == 2 {
			return invalid(svc, field.Invalid(policyPath, s.IPFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"))
		}
		if len(s.IPFamilies) == 2 {
			return invalid(svc, field.Invalid(policyPath, s.IPFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"))
		}
	}
	mine := a.family()
	for i, ip := range s.ClusterIPs {
		if ip == corev1.ClusterIPNone {
			break
		}
		fam := corev1.IPv4Protocol
		if isIPv6(ip) {
			fam = corev1.IPv6Protocol
		}
		if fam != mine {
			return invalid(svc, field.Invalid(field.NewPath("spec", "clusterIPs").Index(i), s.ClusterIPs, fmt.Sprintf("%s is not configured on this cluster", fam)))
		}
		if i >= len(s.IPFamilies) {
			s.IPFamilies = append(s.IPFamilies, fam)
		}
	}
	if selectorless {
		if len(s.IPFamilies) == 0 {
			s.IPFamilies = []corev1.IPFamily{mine}
		}
		if len(s.IPFamilies) < 2 && *s.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack {
			other := corev1.IPv6Protocol
			if s.IPFamilies[0] == corev1.IPv6Protocol {
				other = corev1.IPv4Protocol
			}
			s.IPFamilies = append(s.IPFamilies, other)
		}
		return nil
	}
	if *s.IPFamilyPolicy == corev1.IPFamilyPolicyRequireDualStack {
		return invalid(svc, field.Invalid(policyPath, s.IPFamilyPolicy, "this cluster is not configured for dual-stack services"))
	}
	for i, f := range s.IPFamilies {
		if f != mine {
			return invalid(svc, field.Invalid(field.NewPath("spec", "ipFamilies").Index(i), f, "not configured on this cluster"))
		}
	}
	if len(s.IPFamilies) == 0 {
		s.IPFamilies = []corev1.IPFamily{mine}
	}
	if len(s.IPFamilies) > 1 {
		s.IPFamilies = s.IPFamilies[:1] // PreferDualStack on a single-stack cluster
	}
	return nil
}

func (a *serviceAllocator) allocateClusterIP(t *txn, svc, old *corev1.Service) error {
	s := &svc.Spec
	if isHeadless(svc) || s.ClusterIP == corev1.ClusterIPNone {
		return nil
	}
	if old != nil && old.Spec.Type != corev1.ServiceTypeExternalName && len(old.Spec.ClusterIPs) > 0 {
		return nil // kept across the update; validation refuses a change
	}
	if len(s.ClusterIPs) > 0 {
		addr, err := netip.ParseAddr(s.ClusterIPs[0])
		if err != nil {
			return nil // validation has reported it
		}
		if err := a.ips.Allocate(addr.Unmap()); err != nil {
			return invalid(svc, field.Invalid(field.NewPath("spec", "clusterIPs"), s.ClusterIPs,
				fmt.Sprintf("failed to allocate IP %s: %v", s.ClusterIPs[0], err)))
		}
		t.ips = append(t.ips, addr.Unmap())
		return nil
	}
	addr, err := a.ips.AllocateNext()
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("failed to allocate a serviceIP: %v", err))
	}
	t.ips = append(t.ips, addr)
	s.ClusterIP = addr.String()
	s.ClusterIPs = []string{addr.String()}
	return nil
}

func (a *serviceAllocator) allocateNodePorts(t *txn, svc, old *corev1.Service) error {
	held := map[int]bool{}
	if old != nil {
		held = nodePortsOf(old)
	}
	take := func(port int, fld *field.Path) error {
		if held[port] {
			return nil
		}
		if err := a.ports.Allocate(port); err != nil {
			return invalid(svc, field.Invalid(fld, port, err.Error()))
		}
		t.ports = append(t.ports, port)
		held[port] = true
		return nil
	}
	if needsNodePorts(svc) {
		// Ports with the same number but different protocols share a node port.
		byPort := map[int32]int32{}
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if p.NodePort != 0 {
				if err := take(int(p.NodePort), field.NewPath("spec", "ports").Index(i).Child("nodePort")); err != nil {
					return err
				}
				byPort[p.Port] = p.NodePort
			}
		}
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if p.NodePort != 0 {
				continue
			}
			if np, ok := byPort[p.Port]; ok {
				p.NodePort = np
				continue
			}
			port, err := a.ports.AllocateNext()
			if err != nil {
				return apierrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: %v", err))
			}
			t.ports = append(t.ports, port)
			held[port] = true
			p.NodePort = int32(port)
			byPort[p.Port] = p.NodePort
		}
	}
	if needsHealthCheck(svc) {
		if hc := svc.Spec.HealthCheckNodePort; hc != 0 {
			return take(int(hc), field.NewPath("spec", "healthCheckNodePort"))
		}
		port, err := a.ports.AllocateNext()
		if errors.Is(err, alloc.ErrFull) {
			return apierrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: %v", err))
		}
		t.ports = append(t.ports, port)
		svc.Spec.HealthCheckNodePort = int32(port)
	}
	return nil
}
