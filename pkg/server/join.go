package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/bootstrappolicy"
	"github.com/minik8s/minik8s/pkg/cluster/pki"
)

// Joining a node, as k3s does it: the join token is "K10<sha256 of the CA>::server:<secret>".
// The agent fetches /cacerts without trusting it, checks its hash against the token,
// then presents the secret to get node credentials signed by the CA.
const (
	tokenPrefix = "K10"
	// NodeCredentialsPath answers POST {"nodeName": "..."} with NodeCredentials.
	NodeCredentialsPath = bootstrappolicy.NodeCredentialsPath
	// CACertsPath serves the cluster CA in PEM.
	CACertsPath = "/cacerts"
	// bootstrapGroup is the group of callers presenting the join token.
	bootstrapGroup = bootstrappolicy.GroupBootstrappers
)

// NodeCredentials are what a joining node gets.
type NodeCredentials struct {
	CertPEM string `json:"certPEM"`
	KeyPEM  string `json:"keyPEM"`
	// ProxyCertPEM and ProxyKeyPEM are the service proxy's client
	// certificate (system:kube-proxy), as k3s hands its agents one.
	ProxyCertPEM string `json:"proxyCertPEM,omitempty"`
	ProxyKeyPEM  string `json:"proxyKeyPEM,omitempty"`
}

// JoinToken is the full token agents join with.
func JoinToken(caPEM []byte, secret string) string {
	sum := sha256.Sum256(caPEM)
	return tokenPrefix + hex.EncodeToString(sum[:]) + "::server:" + secret
}

// ParseJoinToken splits a join token into the CA hash and the secret; a bare
// secret has no hash.
func ParseJoinToken(token string) (caHash, secret string) {
	if strings.HasPrefix(token, tokenPrefix) {
		if h, s, ok := strings.Cut(strings.TrimPrefix(token, tokenPrefix), "::server:"); ok {
			return h, s
		}
	}
	return "", token
}

// caHandler serves the cluster CA to anyone: a joining node fetches it before
// it has credentials, even with anonymous requests turned off, and checks it
// against the hash in its token.
func caHandler(ca *pki.KeyPair) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(ca.CertPEM)
	})
}

// joinHandlers serves node credentials to holders of the join token, whom the
// bootstrap policy's system:minik8s:node-join role lets reach the path.
func joinHandlers(ca *pki.KeyPair) map[string]http.Handler {
	return map[string]http.Handler{
		NodeCredentialsPath: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u := auth.UserFrom(r.Context())
			if u == nil || !hasGroup(u.Groups, bootstrapGroup) {
				http.Error(w, "forbidden: the join token is required", http.StatusForbidden)
				return
			}
			if r.Method != http.MethodPost {
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			var req struct {
				NodeName string `json:"nodeName"`
			}
			if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
				http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
				return
			}
			if errs := validation.IsDNS1123Subdomain(req.NodeName); len(errs) > 0 {
				http.Error(w, fmt.Sprintf("invalid node name %q: %s", req.NodeName, strings.Join(errs, "; ")), http.StatusBadRequest)
				return
			}
			kp, err := pki.Issue(ca, pki.Leaf{CommonName: "system:node:" + req.NodeName, Organization: []string{"system:nodes"}, Client: true})
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			pkp, err := pki.Issue(ca, pki.Leaf{CommonName: "system:kube-proxy", Client: true})
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(NodeCredentials{CertPEM: string(kp.CertPEM), KeyPEM: string(kp.KeyPEM),
				ProxyCertPEM: string(pkp.CertPEM), ProxyKeyPEM: string(pkp.KeyPEM)})
		}),
	}
}

func hasGroup(groups []string, g string) bool {
	for _, have := range groups {
		if have == g {
			return true
		}
	}
	return false
}
