package pods

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/images"
)

// PullSecrets gives the registry credentials of a pod's spec.imagePullSecrets,
// read from the API at each pull so that a secret created or fixed after the pod
// is used at the next attempt.
type PullSecrets struct {
	// get reads a secret; a function so that tests need no API server.
	get      func(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	recorder record.EventRecorder
	log      *slog.Logger
}

// NewPullSecrets returns the Credentials of image pull secrets; log may be nil.
func NewPullSecrets(client kubernetes.Interface, rec record.EventRecorder, log *slog.Logger) *PullSecrets {
	if log == nil {
		log = slog.Default()
	}
	get := func(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
		return client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	}
	return &PullSecrets{get: get, recorder: rec, log: log}
}

// For returns the credentials to try, in order, for pulling image for pod. None
// means pulling anonymously. A secret that cannot be read is left out, with a
// warning event, as the kubelet does: the image may be public. A secret that is
// read but does not parse fails the pull.
func (p *PullSecrets) For(ctx context.Context, pod *corev1.Pod, image string) ([]*runtimeapi.AuthConfig, error) {
	if len(pod.Spec.ImagePullSecrets) == 0 {
		return nil, nil
	}
	var secrets []*corev1.Secret
	var failed []string
	for _, ref := range pod.Spec.ImagePullSecrets {
		if ref.Name == "" {
			// Validation has always let empty names through; they name nothing.
			continue
		}
		s, err := p.get(ctx, pod.Namespace, ref.Name)
		if err != nil {
			p.log.Info("unable to retrieve pull secret, the image pull may not succeed",
				"pod", pod.Namespace+"/"+pod.Name, "secret", ref.Name, "err", err)
			failed = append(failed, ref.Name)
			continue
		}
		secrets = append(secrets, s)
	}
	if len(failed) > 0 && p.recorder != nil {
		p.recorder.Eventf(pod, corev1.EventTypeWarning, "FailedToRetrieveImagePullSecret",
			"Unable to retrieve some image pull secrets (%s); attempting to pull the image may not succeed.", strings.Join(failed, ", "))
	}
	kr, err := keyringOf(secrets)
	if err != nil {
		return nil, err
	}
	repo, err := repositoryOf(image)
	if err != nil {
		return nil, err
	}
	var out []*runtimeapi.AuthConfig
	for _, c := range kr.lookup(repo) {
		// ServerAddress stays empty: containerd then offers the credentials to
		// whichever host serves the image, mirrors included, as for the kubelet.
		out = append(out, &runtimeapi.AuthConfig{Username: c.Username, Password: c.Password})
	}
	return out, nil
}

// dockerEntry is one registry's credentials in a Docker configuration file.
type dockerEntry struct {
	Username string
	Password string
}

// UnmarshalJSON reads username and password, or "auth" (base64 of
// user:password), which wins when both are given, as in Docker's own reader.
func (e *dockerEntry) UnmarshalJSON(data []byte) error {
	var raw struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Auth     string `json:"auth"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	e.Username, e.Password = raw.Username, raw.Password
	if raw.Auth == "" {
		return nil
	}
	user, pass, err := decodeAuth(raw.Auth)
	if err != nil {
		return err
	}
	e.Username, e.Password = user, pass
	return nil
}

// decodeAuth splits a base64 user:password, padded or not (tools write both).
func decodeAuth(field string) (string, string, error) {
	field = strings.TrimSpace(field)
	enc := base64.RawStdEncoding
	if strings.HasSuffix(field, "=") {
		enc = base64.StdEncoding
	}
	b, err := enc.DecodeString(field)
	if err != nil {
		return "", "", fmt.Errorf("auth field: %w", err)
	}
	user, pass, ok := strings.Cut(string(b), ":")
	if !ok {
		return "", "", fmt.Errorf("auth field is not base64 of username:password")
	}
	return user, pass, nil
}

// keyring holds credentials by registry key: a host (with its port when it has
// one), optionally a path under it, and "*" wildcards for whole host labels.
type keyring struct {
	// keys in reverse order, so that a key with a longer path under the same
	// host comes before a shorter one and its credentials are tried first.
	keys  []string
	creds map[string][]dockerEntry
}

// keyringOf reads the Docker configurations of the secrets that have the
// type's key; secrets of other types, or without the key, are ignored.
func keyringOf(secrets []*corev1.Secret) (*keyring, error) {
	kr := &keyring{creds: map[string][]dockerEntry{}}
	for _, s := range secrets {
		var cfg map[string]dockerEntry
		data := s.Data
		switch {
		case s.Type == corev1.SecretTypeDockerConfigJson && len(data[corev1.DockerConfigJsonKey]) > 0:
			var doc struct {
				Auths map[string]dockerEntry `json:"auths"`
			}
			if err := json.Unmarshal(data[corev1.DockerConfigJsonKey], &doc); err != nil {
				return nil, fmt.Errorf("image pull secret %s: %s: %w", s.Name, corev1.DockerConfigJsonKey, err)
			}
			cfg = doc.Auths
		case s.Type == corev1.SecretTypeDockercfg && len(data[corev1.DockerConfigKey]) > 0:
			if err := json.Unmarshal(data[corev1.DockerConfigKey], &cfg); err != nil {
				return nil, fmt.Errorf("image pull secret %s: %s: %w", s.Name, corev1.DockerConfigKey, err)
			}
		default:
			continue
		}
		// Sorted, so that two keys of one secret normalizing alike keep a fixed order.
		locs := make([]string, 0, len(cfg))
		for loc := range cfg {
			locs = append(locs, loc)
		}
		sort.Strings(locs)
		for _, loc := range locs {
			key, ok := registryKey(loc)
			if !ok {
				continue
			}
			if _, seen := kr.creds[key]; !seen {
				kr.keys = append(kr.keys, key)
			}
			kr.creds[key] = append(kr.creds[key], cfg[loc])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(kr.keys)))
	return kr, nil
}

// registryKey turns a configuration's registry location into a key: the scheme
// is dropped, and a /v1/ or /v2/ API prefix of the path counts as no path, so
// "https://index.docker.io/v1/" is "index.docker.io".
func registryKey(loc string) (string, bool) {
	v := loc
	if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
		v = "https://" + v
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return "", false
	}
	p := u.Path
	if strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/v2/") {
		p = p[3:]
	}
	if p == "" || p == "/" {
		return u.Host, true
	}
	return u.Host + p, true
}

// dockerHubKey is where Docker Hub's credentials are looked up when no key
// matches an image on Docker Hub ("https://index.docker.io/v1/" normalized).
const dockerHubKey = "index.docker.io"

// lookup returns the credentials for repo, a normalized repository name such
// as "docker.io/library/busybox" or "127.0.0.1:5000/team/app".
func (kr *keyring) lookup(repo string) []dockerEntry {
	var out []dockerEntry
	for _, k := range kr.keys {
		if keyMatches(k, repo) {
			out = append(out, kr.creds[k]...)
		}
	}
	if len(out) > 0 {
		return out
	}
	if host, _, _ := strings.Cut(repo, "/"); host == "docker.io" || host == dockerHubKey {
		return kr.creds[dockerHubKey]
	}
	return nil
}

// keyMatches says whether key covers repo: the same port, as many host labels
// each matching (a key's label may be a glob such as "*"), and the key's path a
// prefix of the repository's.
func keyMatches(key, repo string) bool {
	k, err := url.Parse("https://" + key)
	if err != nil {
		return false
	}
	r, err := url.Parse("https://" + repo)
	if err != nil {
		return false
	}
	kLabels, kPort := hostLabels(k.Host)
	rLabels, rPort := hostLabels(r.Host)
	if kPort != rPort || len(kLabels) != len(rLabels) || !strings.HasPrefix(r.Path, k.Path) {
		return false
	}
	for i := range kLabels {
		if ok, _ := path.Match(kLabels[i], rLabels[i]); !ok {
			return false
		}
	}
	return true
}

// hostLabels splits host[:port] into its dot-separated labels and port.
func hostLabels(hostport string) ([]string, string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	return strings.Split(host, "."), port
}

// repositoryOf returns the normalized repository of an image reference, without
// tag or digest: "busybox:1.36" is "docker.io/library/busybox".
func repositoryOf(image string) (string, error) {
	name := image
	if i := strings.Index(name, "@"); i >= 0 {
		name = name[:i]
	}
	full, err := images.NormalizeName(name)
	if err != nil {
		return "", fmt.Errorf("credentials for %s: %w", image, err)
	}
	return full[:strings.LastIndex(full, ":")], nil
}
