// Package legacytokencleaner deletes auto-generated secret-based service
// account tokens nobody uses, as upstream's legacy service account token
// cleaner does: a token Secret its service account lists, that no pod
// references and whose token has not been used (the
// kubernetes.io/legacy-token-last-used label the API server keeps) for the
// clean-up period is labelled kubernetes.io/legacy-token-invalid-since, which
// makes the API server refuse it, and deleted after another period. Nothing
// happens until the API server has tracked use for a whole period (the
// kube-system/kube-apiserver-legacy-service-account-token-tracking ConfigMap
// says since when). Every token Secret is looked at when it changes and once
// a day.
package legacytokencleaner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	admissionsa "github.com/minik8s/minik8s/pkg/admission/serviceaccount"
	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

const (
	// Name is the controller's name, as upstream's.
	Name = "legacy-serviceaccount-token-cleaner-controller"
	// DefaultCleanUpPeriod is upstream's --legacy-service-account-token-clean-up-period.
	DefaultCleanUpPeriod = 365 * 24 * time.Hour
	// DefaultSyncInterval is how often every token Secret is looked at, as upstream.
	DefaultSyncInterval = 24 * time.Hour
)

// Config wires the controller.
type Config struct {
	Client          kubernetes.Interface
	ServiceAccounts coreinformers.ServiceAccountInformer
	// Secrets must hold at least every service account token Secret;
	// NewSecretInformer makes one that holds nothing else.
	Secrets cache.SharedIndexInformer
	Pods    coreinformers.PodInformer
	// CleanUpPeriod is how long a token may go unused before it is marked
	// invalid, and stay invalid before it is deleted.
	CleanUpPeriod time.Duration
	// SyncInterval is how often every token Secret is looked at (zero: a day).
	SyncInterval time.Duration
	// Clock is the controller's time; nil means the real one.
	Clock   clock.PassiveClock
	Workers int
	Log     *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.ServiceAccounts == nil || c.Secrets == nil || c.Pods == nil:
		return errors.New("legacy token cleaner: a client and service account, secret and pod informers are required")
	case c.CleanUpPeriod <= 0:
		return fmt.Errorf("legacy token cleaner: invalid CleanUpPeriod: %v", c.CleanUpPeriod)
	case c.SyncInterval < 0:
		return fmt.Errorf("legacy token cleaner: invalid SyncInterval: %v", c.SyncInterval)
	case c.Workers < 1:
		return fmt.Errorf("legacy token cleaner: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// NewSecretInformer watches only service account token Secrets, without
// their data (the controller reads labels and annotations): caching every
// Secret of the cluster would cost their size in memory. The caller runs it.
func NewSecretInformer(client kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
	inf := coreinformers.NewFilteredSecretInformer(client, metav1.NamespaceAll, resync,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}, func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("type", string(corev1.SecretTypeServiceAccountToken)).String()
		})
	_ = inf.SetTransform(func(obj interface{}) (interface{}, error) {
		if s, ok := obj.(*corev1.Secret); ok {
			s.Data, s.StringData, s.ManagedFields = nil, nil, nil
		}
		return obj, nil
	})
	return inf
}

// Controller marks and deletes unused auto-generated token Secrets.
type Controller struct {
	cfg     Config
	secrets corelisters.SecretLister
	sas     corelisters.ServiceAccountLister
	pods    corelisters.PodLister
	synced  []cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]
	clock   clock.PassiveClock
	log     *slog.Logger
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.SyncInterval == 0 {
		cfg.SyncInterval = DefaultSyncInterval
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, secrets: corelisters.NewSecretLister(cfg.Secrets.GetIndexer()),
		sas: cfg.ServiceAccounts.Lister(), pods: cfg.Pods.Lister(),
		synced: []cache.InformerSynced{cfg.Secrets.HasSynced, cfg.ServiceAccounts.Informer().HasSynced, cfg.Pods.Informer().HasSynced},
		queue:  worker.NewQueue("legacy_service_account_token_cleaner"), clock: cfg.Clock, log: log}
	if _, err := cfg.Secrets.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Controller) enqueue(obj interface{}) {
	if s, ok := obj.(*corev1.Secret); ok && s.Type == corev1.SecretTypeServiceAccountToken {
		if key, ok := worker.Key(s); ok {
			c.queue.Add(key)
		}
	}
}

// Run works until ctx ends, looking at every token Secret again each sync
// interval.
func (c *Controller) Run(ctx context.Context) error {
	go c.sweep(ctx)
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// sweep queues every cached token Secret each interval: time alone makes a
// token due, with no event to say so.
func (c *Controller) sweep(ctx context.Context) {
	t := time.NewTicker(c.cfg.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		secrets, err := c.secrets.List(labels.Everything())
		if err != nil {
			c.log.Error("list cached service account token secrets", "err", err)
			continue
		}
		for _, s := range secrets {
			c.enqueue(s)
		}
	}
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
	now := c.clock.Now().UTC()
	if !Candidate(secret, now, c.cfg.CleanUpPeriod) {
		return nil
	}
	trackedSince, err := c.trackedSince(ctx)
	if err != nil {
		return err
	}
	sa, err := c.serviceAccount(secret)
	if err != nil {
		return err
	}
	mounted, err := c.mounted(secret)
	if err != nil {
		return err
	}
	act := Decide(Input{Now: now, Period: c.cfg.CleanUpPeriod, TrackedSince: trackedSince, Secret: secret,
		ServiceAccount: sa, Mounted: mounted})
	log := c.log.With("secret", key)
	switch act.Kind {
	case Keep:
		if act.Malformed {
			log.Error("cannot decide on a legacy service account token", "reason", act.Reason)
		}
		return nil
	case MarkInvalid:
		log.Info("Mark the auto-generated service account token as invalid", "invalidSince", act.InvalidSince)
		patch, err := invalidSincePatch(secret.UID, act.InvalidSince)
		if err != nil {
			return err
		}
		_, err = c.cfg.Client.CoreV1().Secrets(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("label legacy service account token secret %s with invalid since date: %w", key, err)
		}
		return nil
	default:
		log.Info("Delete auto-generated service account token", "creationTime", secret.CreationTimestamp.UTC(),
			"lastUsed", secret.Labels[serviceaccount.LastUsedLabelKey], "invalidSince", secret.Labels[serviceaccount.InvalidSinceLabelKey])
		// The resourceVersion precondition: a token used or relabelled since
		// it was looked at is not deleted.
		rv := secret.ResourceVersion
		err := c.cfg.Client.CoreV1().Secrets(ns).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("delete legacy service account token %s: %w", key, err)
		}
		return nil
	}
}

// trackedSince reads the tracking ConfigMap's date from the API, as upstream
// does; "" when there is none yet (nothing is done then).
func (c *Controller) trackedSince(ctx context.Context) (string, error) {
	cm, err := c.cfg.Client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, serviceaccount.TrackingConfigMapName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get the %s ConfigMap: %w", serviceaccount.TrackingConfigMapName, err)
	}
	return cm.Data[serviceaccount.TrackingConfigMapDataKey], nil
}

// serviceAccount is the account the Secret is annotated for, nil if it is
// gone or another of that name (the UID annotation, when there is one, says).
func (c *Controller) serviceAccount(s *corev1.Secret) (*corev1.ServiceAccount, error) {
	name := s.Annotations[corev1.ServiceAccountNameKey]
	if name == "" {
		return nil, nil
	}
	sa, err := c.sas.ServiceAccounts(s.Namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if uid := s.Annotations[corev1.ServiceAccountUIDKey]; uid != "" && types.UID(uid) != sa.UID {
		return nil, nil
	}
	return sa, nil
}

// mounted reports whether a pod of the Secret's namespace references it.
func (c *Controller) mounted(s *corev1.Secret) (bool, error) {
	pods, err := c.pods.Pods(s.Namespace).List(labels.Everything())
	if err != nil {
		return false, err
	}
	for _, p := range pods {
		for _, n := range admissionsa.SecretNames(p) {
			if n == s.Name {
				return true, nil
			}
		}
	}
	return false, nil
}

// invalidSincePatch is the merge patch that labels a Secret invalid since day,
// with its UID, as upstream sends it.
func invalidSincePatch(uid types.UID, day string) ([]byte, error) {
	return json.Marshal(map[string]interface{}{"metadata": map[string]interface{}{
		"uid": uid, "labels": map[string]string{serviceaccount.InvalidSinceLabelKey: day},
	}})
}
