// Package serviceaccounttoken fills secret-based service account tokens, as
// upstream's token controller does: every Secret of type
// kubernetes.io/service-account-token annotated
// kubernetes.io/service-account.name gets a token signed with the service
// account key (legacy claims, never expiring), the cluster CA as ca.crt, its
// namespace, and the account's UID annotation; such a Secret whose account is
// gone (or is another of the same name) is deleted. Accounts get no Secret
// made for them: upstream stopped that in 1.24.
package serviceaccounttoken

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "serviceaccount-token-controller"

// Issuer signs secret-based tokens; *serviceaccount.Signer is one.
type Issuer interface {
	IssueLegacy(namespace string, sa serviceaccount.Ref, secretName string) (string, error)
}

// Config wires the controller.
type Config struct {
	Client          kubernetes.Interface
	ServiceAccounts coreinformers.ServiceAccountInformer
	// Secrets must hold every service account token Secret with its data;
	// NewSecretInformer makes one that holds nothing else.
	Secrets cache.SharedIndexInformer
	Signer  Issuer
	// RootCA is the ca.crt every token Secret gets (upstream's --root-ca-file);
	// empty writes none.
	RootCA  []byte
	Workers int
	Log     *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.ServiceAccounts == nil || c.Secrets == nil:
		return errors.New("service account token controller: a client and service account and secret informers are required")
	case c.Signer == nil:
		return errors.New("service account token controller: a service account signing key is required")
	case c.Workers < 1:
		return fmt.Errorf("service account token controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// NewSecretInformer watches only service account token Secrets (with their
// data, which the controller compares). The caller runs it.
func NewSecretInformer(client kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
	inf := coreinformers.NewFilteredSecretInformer(client, metav1.NamespaceAll, resync,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}, func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("type", string(corev1.SecretTypeServiceAccountToken)).String()
		})
	_ = inf.SetTransform(func(obj interface{}) (interface{}, error) {
		if s, ok := obj.(*corev1.Secret); ok {
			s.ManagedFields = nil
		}
		return obj, nil
	})
	return inf
}

// Controller fills and deletes service account token Secrets.
type Controller struct {
	cfg     Config
	secrets corelisters.SecretLister
	sas     corelisters.ServiceAccountLister
	synced  []cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]
	log     *slog.Logger
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, secrets: corelisters.NewSecretLister(cfg.Secrets.GetIndexer()), sas: cfg.ServiceAccounts.Lister(),
		synced: []cache.InformerSynced{cfg.Secrets.HasSynced, cfg.ServiceAccounts.Informer().HasSynced},
		queue:  worker.NewQueue("serviceaccount_tokens_secret"), log: log}
	if _, err := cfg.Secrets.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueSecret,
		UpdateFunc: func(_, obj interface{}) { c.enqueueSecret(obj) },
	}); err != nil {
		return nil, err
	}
	// An account that goes (or comes back as another) takes its Secrets along.
	if _, err := cfg.ServiceAccounts.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj interface{}) { c.enqueueAccountSecrets(obj) },
		DeleteFunc: c.enqueueAccountSecrets,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Controller) enqueueSecret(obj interface{}) {
	if s, ok := obj.(*corev1.Secret); ok && s.Type == corev1.SecretTypeServiceAccountToken {
		if key, ok := worker.Key(s); ok {
			c.queue.Add(key)
		}
	}
}

// enqueueAccountSecrets queues the token Secrets annotated for an account.
func (c *Controller) enqueueAccountSecrets(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	sa, ok := obj.(*corev1.ServiceAccount)
	if !ok {
		return
	}
	secrets, err := c.secrets.Secrets(sa.Namespace).List(labels.Everything())
	if err != nil {
		c.log.Error("list cached service account token secrets", "namespace", sa.Namespace, "err", err)
		return
	}
	for _, s := range secrets {
		if s.Annotations[corev1.ServiceAccountNameKey] == sa.Name {
			c.enqueueSecret(s)
		}
	}
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// Sync looks at the Secret named by key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	secret, err := c.secrets.Secrets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if secret.Type != corev1.SecretTypeServiceAccountToken || secret.DeletionTimestamp != nil {
		return nil
	}
	sa, err := c.serviceAccount(ctx, secret)
	if err != nil {
		return err
	}
	act := Decide(Input{Secret: secret, ServiceAccount: sa, RootCA: c.cfg.RootCA})
	log := c.log.With("secret", key)
	switch act.Kind {
	case Keep:
		return nil
	case Delete:
		log.Info("Deleting service account token secret", "reason", act.Reason)
		uid := secret.UID
		err := c.cfg.Client.CoreV1().Secrets(ns).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("delete service account token secret %s: %w", key, err)
		}
		return nil
	default:
		return c.fill(ctx, secret, sa, act)
	}
}

// fill writes what act says the Secret lacks. The update carries the cached
// resourceVersion: a Secret changed since is looked at again (a conflict is
// retried), so a token is never written over another.
func (c *Controller) fill(ctx context.Context, cached *corev1.Secret, sa *corev1.ServiceAccount, act Action) error {
	s := cached.DeepCopy()
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	if act.NeedCA {
		s.Data[corev1.ServiceAccountRootCAKey] = c.cfg.RootCA
	}
	if act.NeedNamespace {
		s.Data[corev1.ServiceAccountNamespaceKey] = []byte(s.Namespace)
	}
	if act.NeedToken {
		token, err := c.cfg.Signer.IssueLegacy(s.Namespace, serviceaccount.Ref{Name: sa.Name, UID: string(sa.UID)}, s.Name)
		if err != nil {
			return fmt.Errorf("generate token for service account %s/%s: %w", sa.Namespace, sa.Name, err)
		}
		s.Data[corev1.ServiceAccountTokenKey] = []byte(token)
	}
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[corev1.ServiceAccountNameKey] = sa.Name
	s.Annotations[corev1.ServiceAccountUIDKey] = string(sa.UID)
	_, err := c.cfg.Client.CoreV1().Secrets(s.Namespace).Update(ctx, s, metav1.UpdateOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("fill service account token secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}

// serviceAccount is the account the Secret is annotated for, nil if it is
// gone or another of that name. A cache miss is checked with the API, as
// upstream does: an account just made must not lose its Secret to a slow cache.
func (c *Controller) serviceAccount(ctx context.Context, s *corev1.Secret) (*corev1.ServiceAccount, error) {
	name := s.Annotations[corev1.ServiceAccountNameKey]
	if name == "" {
		return nil, nil
	}
	sa, err := c.sas.ServiceAccounts(s.Namespace).Get(name)
	if err == nil && Matches(s, sa) {
		return sa, nil
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	sa, err = c.cfg.Client.CoreV1().ServiceAccounts(s.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get service account %s/%s: %w", s.Namespace, name, err)
	}
	if !Matches(s, sa) {
		return nil, nil
	}
	return sa, nil
}
