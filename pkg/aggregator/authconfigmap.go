package aggregator

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The request headers the proxied identity travels in.
var (
	usernameHeaders    = []string{"X-Remote-User"}
	uidHeaders         = []string{"X-Remote-Uid"}
	groupHeaders       = []string{"X-Remote-Group"}
	extraHeaderPrefix  = []string{"X-Remote-Extra-"}
	authConfigMapName  = "extension-apiserver-authentication"
	authConfigMapSpace = metav1.NamespaceSystem
)

// AuthenticationConfigMap is kube-system/extension-apiserver-authentication,
// which extension API servers read to authenticate this server's requests:
// the CA of client certificates, and the front proxy's CA, allowed names and
// headers.
func AuthenticationConfigMap(clientCA, requestHeaderCA []byte, allowedNames []string) *corev1.ConfigMap {
	list := func(v []string) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: authConfigMapName, Namespace: authConfigMapSpace},
		Data: map[string]string{
			"client-ca-file":                     string(clientCA),
			"requestheader-client-ca-file":       string(requestHeaderCA),
			"requestheader-username-headers":     list(usernameHeaders),
			"requestheader-uid-headers":          list(uidHeaders),
			"requestheader-group-headers":        list(groupHeaders),
			"requestheader-extra-headers-prefix": list(extraHeaderPrefix),
			"requestheader-allowed-names":        list(allowedNames),
		},
	}
}
