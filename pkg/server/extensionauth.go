package server

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/aggregator"
	"github.com/minik8s/minik8s/pkg/apiserver"
)

// publishAuthenticationConfigMap keeps kube-system/extension-apiserver-authentication
// true to this server's CAs, as upstream publishes it for extension API servers.
func publishAuthenticationConfigMap(ctx context.Context, api *apiserver.Server, crt *certs) error {
	cm := aggregator.AuthenticationConfigMap(crt.ca.CertPEM, crt.frontProxyCA.CertPEM, []string{frontProxyClientName})
	err := api.Reconcile(ctx, cm, "", func(existing runtime.Object) bool {
		cur, ok := existing.(*corev1.ConfigMap)
		return ok && maps.Equal(cur.Data, cm.Data)
	})
	if err != nil {
		return fmt.Errorf("publish the extension-apiserver-authentication ConfigMap: %w", err)
	}
	return nil
}
