package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/component-helpers/auth/rbac/reconciliation"

	"github.com/minik8s/minik8s/pkg/apiserver"
	"github.com/minik8s/minik8s/pkg/auth/bootstrappolicy"
)

// reconcileRBAC creates the bootstrap policy's missing roles and bindings and
// adds what existing ones lack (rules, subjects, labels), as upstream's API
// server does at every start; objects annotated
// rbac.authorization.kubernetes.io/autoupdate=false are left alone. Writes
// run a few at a time: on a first start most of the time goes to etcd.
func reconcileRBAC(ctx context.Context, api *apiserver.Server, p bootstrappolicy.Policy, log *slog.Logger) error {
	var jobs []func() error
	for i := range p.ClusterRoles {
		r := &p.ClusterRoles[i]
		jobs = append(jobs, func() error {
			return reconcileRole(reconciliation.ClusterRoleRuleOwner{ClusterRole: r}, roleClient{ctx, api}, log)
		})
	}
	for i := range p.Roles {
		r := &p.Roles[i]
		jobs = append(jobs, func() error {
			return reconcileRole(reconciliation.RoleRuleOwner{Role: r}, roleClient{ctx, api}, log)
		})
	}
	for i := range p.ClusterRoleBindings {
		b := &p.ClusterRoleBindings[i]
		jobs = append(jobs, func() error {
			return reconcileBinding(reconciliation.ClusterRoleBindingAdapter{ClusterRoleBinding: b}, bindingClient{ctx, api}, log)
		})
	}
	for i := range p.RoleBindings {
		b := &p.RoleBindings[i]
		jobs = append(jobs, func() error {
			return reconcileBinding(reconciliation.RoleBindingAdapter{RoleBinding: b}, bindingClient{ctx, api}, log)
		})
	}
	return runAll(jobs, 16)
}

func reconcileRole(role reconciliation.RuleOwner, c roleClient, log *slog.Logger) error {
	opts := reconciliation.ReconcileRoleOptions{Role: role, Client: c, Confirm: true}
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		res, err := opts.Run()
		if err != nil {
			return err
		}
		what := kindName(role.GetObject(), role.GetNamespace(), role.GetName())
		switch {
		case res.Protected && res.Operation != reconciliation.ReconcileNone:
			log.Warn("skipped reconcile-protected "+what+" with missing permissions", "missing", res.MissingRules)
		case res.Operation == reconciliation.ReconcileUpdate:
			log.Info("updated "+what+" with additional permissions", "missing", res.MissingRules)
		}
		return nil
	})
}

func reconcileBinding(b reconciliation.RoleBinding, c bindingClient, log *slog.Logger) error {
	opts := reconciliation.ReconcileRoleBindingOptions{RoleBinding: b, Client: c, Confirm: true}
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		res, err := opts.Run()
		if err != nil {
			return err
		}
		what := kindName(b.GetObject(), b.GetNamespace(), b.GetName())
		switch {
		case res.Protected && res.Operation != reconciliation.ReconcileNone:
			log.Warn("skipped reconcile-protected "+what+" with missing subjects", "missing", res.MissingSubjects)
		case res.Operation == reconciliation.ReconcileUpdate:
			log.Info("updated "+what+" with additional subjects", "missing", res.MissingSubjects)
		case res.Operation == reconciliation.ReconcileRecreate:
			log.Info("recreated " + what)
		}
		return nil
	})
}

func kindName(obj runtime.Object, namespace, name string) string {
	kind := fmt.Sprintf("%T", obj)
	switch obj.(type) {
	case *rbacv1.ClusterRole:
		kind = "clusterrole"
	case *rbacv1.Role:
		kind = "role"
	case *rbacv1.ClusterRoleBinding:
		kind = "clusterrolebinding"
	case *rbacv1.RoleBinding:
		kind = "rolebinding"
	}
	if namespace != "" {
		return fmt.Sprintf("%s.%s/%s in %s", kind, rbacv1.GroupName, name, namespace)
	}
	return fmt.Sprintf("%s.%s/%s", kind, rbacv1.GroupName, name)
}

// runAll runs jobs, at most n at once, and returns their errors.
func runAll(jobs []func() error, n int) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	next := make(chan func() error)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range next {
				if err := job(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, job := range jobs {
		next <- job
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// roleClient and bindingClient read and write roles and bindings through the
// API server's own write path (defaults, validation, managed fields) without
// a network hop: the reconciliation library's clients.
type roleClient struct {
	ctx context.Context
	api *apiserver.Server
}

type bindingClient roleClient

var (
	_ reconciliation.RuleOwnerModifier   = roleClient{}
	_ reconciliation.RoleBindingModifier = bindingClient{}
)

// Get reads a Role when asked with a namespace, else a ClusterRole.
func (c roleClient) Get(namespace, name string) (reconciliation.RuleOwner, error) {
	var kind runtime.Object = &rbacv1.ClusterRole{}
	if namespace != "" {
		kind = &rbacv1.Role{}
	}
	obj, err := c.api.Get(c.ctx, kind, namespace, name)
	if err != nil {
		return nil, err
	}
	return ruleOwner(obj)
}

func (c roleClient) Create(in reconciliation.RuleOwner) (reconciliation.RuleOwner, error) {
	obj, err := c.api.Create(c.ctx, in.GetObject())
	if err != nil {
		return nil, err
	}
	return ruleOwner(obj)
}

func (c roleClient) Update(in reconciliation.RuleOwner) (reconciliation.RuleOwner, error) {
	obj, err := c.api.Update(c.ctx, in.GetObject())
	if err != nil {
		return nil, err
	}
	return ruleOwner(obj)
}

func ruleOwner(obj runtime.Object) (reconciliation.RuleOwner, error) {
	switch o := obj.(type) {
	case *rbacv1.ClusterRole:
		return reconciliation.ClusterRoleRuleOwner{ClusterRole: o}, nil
	case *rbacv1.Role:
		return reconciliation.RoleRuleOwner{Role: o}, nil
	}
	return nil, fmt.Errorf("not a role: %T", obj)
}

// Get reads a RoleBinding when asked with a namespace, else a ClusterRoleBinding.
func (c bindingClient) Get(namespace, name string) (reconciliation.RoleBinding, error) {
	var kind runtime.Object = &rbacv1.ClusterRoleBinding{}
	if namespace != "" {
		kind = &rbacv1.RoleBinding{}
	}
	obj, err := c.api.Get(c.ctx, kind, namespace, name)
	if err != nil {
		return nil, err
	}
	return roleBinding(obj)
}

func (c bindingClient) Create(in reconciliation.RoleBinding) (reconciliation.RoleBinding, error) {
	obj, err := c.api.Create(c.ctx, in.GetObject())
	if err != nil {
		return nil, err
	}
	return roleBinding(obj)
}

func (c bindingClient) Update(in reconciliation.RoleBinding) (reconciliation.RoleBinding, error) {
	obj, err := c.api.Update(c.ctx, in.GetObject())
	if err != nil {
		return nil, err
	}
	return roleBinding(obj)
}

// Delete removes a binding whose role changed, for it to be created again.
func (c bindingClient) Delete(namespace, name string, uid types.UID) error {
	var kind runtime.Object = &rbacv1.ClusterRoleBinding{}
	if namespace != "" {
		kind = &rbacv1.RoleBinding{}
	}
	err := c.api.Delete(c.ctx, kind, namespace, name, uid)
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func roleBinding(obj runtime.Object) (reconciliation.RoleBinding, error) {
	switch o := obj.(type) {
	case *rbacv1.ClusterRoleBinding:
		return reconciliation.ClusterRoleBindingAdapter{ClusterRoleBinding: o}, nil
	case *rbacv1.RoleBinding:
		return reconciliation.RoleBindingAdapter{RoleBinding: o}, nil
	}
	return nil, fmt.Errorf("not a role binding: %T", obj)
}
