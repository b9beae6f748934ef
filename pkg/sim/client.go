package sim

import (
	"k8s.io/client-go/rest"
)

// ClientConfig is cfg tuned for the controller: protobuf both ways (half the
// bytes and a fraction of JSON's CPU), and no client-side rate limit, since a
// burst of thousands of pods must reach Running at the server's own pace.
func ClientConfig(cfg *rest.Config, userAgent string) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.ContentType = "application/vnd.kubernetes.protobuf"
	c.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	c.QPS, c.Burst, c.RateLimiter = -1, 0, nil
	if userAgent != "" {
		c.UserAgent = userAgent
	}
	return c
}
