package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func TestTheHealthCheckAnswersAsKubeProxys(t *testing.T) {
	cases := []struct {
		name     string
		count    int
		wantCode int
	}{
		{"a node with local endpoints answers 200", 2, http.StatusOK},
		{"a node without answers 503", 0, http.StatusServiceUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &healthServer{svc: types.NamespacedName{Namespace: "default", Name: "web"}, count: c.count}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Code != c.wantCode {
				t.Fatalf("code %d, want %d", rec.Code, c.wantCode)
			}
			var body struct {
				Service struct {
					Namespace, Name string
				}
				LocalEndpoints      int
				ServiceProxyHealthy bool
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body.String(), err)
			}
			if body.Service.Name != "web" || body.Service.Namespace != "default" || body.LocalEndpoints != c.count || !body.ServiceProxyHealthy {
				t.Errorf("body %q", rec.Body.String())
			}
			if rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("content type %q", rec.Header().Get("Content-Type"))
			}
		})
	}
}
