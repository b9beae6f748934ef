package apiserver

import (
	"encoding/json"
	"net/http"

	"github.com/minik8s/minik8s/pkg/version"
)

// serveVersion answers /version with the build's Kubernetes version.
func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request) {
	data, _ := json.MarshalIndent(version.Get(), "", "  ")
	writeBytes(w, r, http.StatusOK, "application/json", data)
}
