// Package serviceaccount is upstream's ServiceAccount admission plugin: a new
// pod runs as a ServiceAccount that exists ("default" unless it names one),
// takes the account's image pull secrets, and gets the API credentials mounted
// (a bound token, the cluster CA and its namespace) unless either opts out.
// Mirror pods may reference no account, secret or token.
package serviceaccount

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilrand "k8s.io/apimachinery/pkg/util/rand"

	"github.com/minik8s/minik8s/pkg/admission"
)

// Name is the plugin's name.
const Name = "ServiceAccount"

const (
	// DefaultName is the account of pods that name none.
	DefaultName = "default"
	// EnforceMountableSecretsAnnotation on an account limits its pods to the
	// secrets the account lists.
	EnforceMountableSecretsAnnotation = "kubernetes.io/enforce-mountable-secrets"
	// TokenVolumePrefix starts the name of the volume with the API credentials.
	TokenVolumePrefix = "kube-api-access-"
	// TokenMountPath is where every container finds them.
	TokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// tokenExpirySeconds is upstream's 3607: an hour, marked as an
	// auto-mounted token by its extra seconds.
	tokenExpirySeconds = 3607
)

var (
	podsGR = schema.GroupResource{Resource: "pods"}
	saGVR  = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
)

// Plugin is the ServiceAccount plugin.
type Plugin struct {
	admission.Handler
	objects admission.Objects
	// defaultAttempts is how often a missing "default" account is looked
	// for: the controller creates it moments after its namespace.
	defaultAttempts int
	sleep           func(ctx context.Context, d time.Duration)
	volumeName      func() string
}

var (
	_ admission.MutationInterface   = &Plugin{}
	_ admission.ValidationInterface = &Plugin{}
	_ admission.ResourceSelector    = &Plugin{}
)

// New returns the plugin reading ServiceAccounts from objects.
func New(objects admission.Objects) *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update), objects: objects,
		defaultAttempts: 10, sleep: sleepCtx, volumeName: func() string { return TokenVolumePrefix + utilrand.String(5) }}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// HandlesResource: pods and their ephemeral containers.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	return t.Resource == podsGR && (t.Subresource == "" || t.Subresource == "ephemeralcontainers")
}

func isMirror(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[corev1.MirrorPodAnnotationKey]
	return ok
}

// Admit gives a new pod its account, pull secrets and credentials.
func (p *Plugin) Admit(ctx context.Context, a *admission.Attributes) error {
	pod, ok := a.Object.(*corev1.Pod)
	if !ok || a.Operation != admission.Create || a.Subresource != "" {
		return nil
	}
	// A mirror pod's spec must stay as its node wrote it.
	if isMirror(pod) {
		return p.Validate(ctx, a)
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = DefaultName
	}
	sa, err := p.account(ctx, a.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return a.Forbidden(fmt.Errorf("error looking up service account %s/%s: %w", a.Namespace, pod.Spec.ServiceAccountName, err))
	}
	if automount(sa, pod) {
		p.mountToken(pod)
	}
	if len(pod.Spec.ImagePullSecrets) == 0 && len(sa.ImagePullSecrets) > 0 {
		pod.Spec.ImagePullSecrets = make([]corev1.LocalObjectReference, len(sa.ImagePullSecrets))
		for i, s := range sa.ImagePullSecrets {
			pod.Spec.ImagePullSecrets[i].Name = s.Name
		}
	}
	return p.Validate(ctx, a)
}

// Validate checks what a pod may reference.
func (p *Plugin) Validate(ctx context.Context, a *admission.Attributes) error {
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil
	}
	if a.Operation == admission.Update && a.Subresource == "ephemeralcontainers" {
		return p.limitEphemeral(ctx, a, pod)
	}
	if a.Operation != admission.Create || a.Subresource != "" {
		return nil
	}
	if isMirror(pod) {
		return validateMirror(a, pod)
	}
	if pod.Spec.ServiceAccountName == "" {
		return a.Forbidden(fmt.Errorf("no service account specified for pod %s/%s", a.Namespace, pod.Name))
	}
	sa, err := p.account(ctx, a.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return a.Forbidden(fmt.Errorf("error looking up service account %s/%s: %v", a.Namespace, pod.Spec.ServiceAccountName, err))
	}
	if enforcesMountable(sa) {
		if err := limitSecretReferences(sa, pod); err != nil {
			return a.Forbidden(err)
		}
	}
	return nil
}

func validateMirror(a *admission.Attributes, pod *corev1.Pod) error {
	if pod.Spec.ServiceAccountName != "" {
		return a.Forbidden(errors.New("a mirror pod may not reference service accounts"))
	}
	if len(SecretNames(pod)) > 0 {
		return a.Forbidden(errors.New("a mirror pod may not reference secrets"))
	}
	for _, v := range pod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if s.ServiceAccountToken != nil {
				return a.Forbidden(errors.New("a mirror pod may not use ServiceAccountToken volume projections"))
			}
		}
	}
	return nil
}

// account reads a ServiceAccount; a missing "default" one is looked for a
// few more times, as its controller creates it just after the namespace.
func (p *Plugin) account(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	attempts := 1
	if name == DefaultName {
		attempts = p.defaultAttempts
	}
	get := p.objects.Get
	for i := 0; i < attempts; i++ {
		if i > 0 {
			p.sleep(ctx, time.Duration(100+rand.IntN(100))*time.Millisecond)
			if ctx.Err() != nil {
				break
			}
			get = p.objects.Latest
		}
		obj, err := get(ctx, saGVR, namespace, name)
		if err == nil {
			if sa, ok := obj.(*corev1.ServiceAccount); ok {
				return sa, nil
			}
			return nil, fmt.Errorf("service account %s/%s is a %T", namespace, name, obj)
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccount"}, name)
}

// automount follows upstream: the pod's setting wins, then the account's, then yes.
func automount(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

func enforcesMountable(sa *corev1.ServiceAccount) bool {
	v, ok := sa.Annotations[EnforceMountableSecretsAnnotation]
	if !ok {
		return false
	}
	b, _ := strconv.ParseBool(v)
	return b
}

// mountToken adds the credentials volume and a read-only mount of it in every
// container that has nothing at the token path yet.
func (p *Plugin) mountToken(pod *corev1.Pod) {
	name := ""
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, TokenVolumePrefix) {
			name = v.Name
			break
		}
	}
	hasVolume := name != ""
	if !hasVolume {
		name = p.volumeName()
	}
	mount := corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: TokenMountPath}
	needed := false
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			mounted := false
			for _, vm := range list[i].VolumeMounts {
				if vm.MountPath == TokenMountPath {
					mounted = true
					break
				}
			}
			if !mounted {
				list[i].VolumeMounts = append(list[i].VolumeMounts, mount)
				needed = true
			}
		}
	}
	if hasVolume || !needed {
		return
	}
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: TokenVolumeSource()}})
}

// TokenVolumeSource is the projected volume of the API credentials.
func TokenVolumeSource() *corev1.ProjectedVolumeSource {
	expiry := int64(tokenExpirySeconds)
	mode := corev1.ProjectedVolumeSourceDefaultMode
	return &corev1.ProjectedVolumeSource{DefaultMode: &mode, Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: &expiry, Path: "token"}},
		{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
			Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
		{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
	}}
}
