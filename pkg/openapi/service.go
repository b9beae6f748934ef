package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/apis"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/version"
)

// Config configures the OpenAPI service.
type Config struct {
	// Registry lists the served resources; documents follow it as it grows.
	Registry *registry.Registry
	// Scheme maps kinds to Go types; nil means apis.Scheme.
	Scheme *runtime.Scheme
	// Version is info.version of the documents; empty means the server's
	// major.minor, as upstream ("1.34").
	Version string
	Logger  *slog.Logger
}

// Validate reports missing settings.
func (c *Config) Validate() error {
	if c.Registry == nil {
		return errors.New("openapi: no registry")
	}
	return nil
}

// Service builds the OpenAPI documents of a registry on first use and serves them.
type Service struct {
	cfg Config

	mu   sync.Mutex
	docs *documents // nil until the first request
}

// documents are the encoded documents of one state of the registry.
type documents struct {
	resources int // how many registry resources they describe
	modified  time.Time
	v2        *blob
	v2proto   *blob // built on the first protobuf request
	v3index   *blob
	v3        map[string]*blob
	v3proto   map[string]*blob
}

// New returns the service; nothing is built until the first request.
func New(cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Scheme == nil {
		cfg.Scheme = apis.Scheme
	}
	if cfg.Version == "" {
		v := version.Get()
		cfg.Version = v.Major + "." + v.Minor
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg}, nil
}

// current returns the documents of the registry as it is now, building them
// when there are none yet or resources were added since.
func (s *Service) current() (*documents, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.cfg.Registry.All())
	if s.docs != nil && s.docs.resources == n {
		return s.docs, nil
	}
	d, err := s.build(n)
	if err != nil {
		return nil, err
	}
	s.docs = d
	// The schemas and documents decoded on the way are garbage now; hand the
	// memory back rather than keep it as idle heap.
	debug.FreeOSMemory()
	return d, nil
}

// build writes every document and keeps only their compressed bytes.
func (s *Service) build(resources int) (*documents, error) {
	start := time.Now()
	defs, err := openDefinitions()
	if err != nil {
		return nil, err
	}
	routes := s.routes(defs)
	roots := map[string]bool{}
	for _, r := range routes {
		r.schemas(roots)
	}
	custom := s.customResources()
	addCustomRoots(custom, roots, defs)
	used, missing := defs.closure(roots)
	if len(missing) > 0 {
		s.cfg.Logger.Warn("OpenAPI documents reference types without a schema; regenerate pkg/openapi/definitions.bin.gz", "types", missing)
	}
	if err := defs.readSchemas(used); err != nil {
		return nil, err
	}

	d := &documents{resources: resources, modified: time.Now().UTC().Truncate(time.Second),
		v3: map[string]*blob{}, v3proto: map[string]*blob{}}
	c := newCompressor()
	if err := swaggerDocument(c.start(), routes, defs, s.cfg.Version, customV2Definitions(custom)); err != nil {
		return nil, err
	}
	if d.v2, err = c.finish(); err != nil {
		return nil, err
	}

	index := v3Index{Paths: map[string]v3IndexEntry{}}
	for doc, rs := range routesByDoc(routes) {
		if err := openAPI3Document(c.start(), rs, defs, s.cfg.Version); err != nil {
			return nil, fmt.Errorf("OpenAPI v3 document %s: %w", doc, err)
		}
		b, err := c.finish()
		if err != nil {
			return nil, err
		}
		d.v3[doc] = b
		index.Paths[doc] = v3IndexEntry{ServerRelativeURL: v3URL(doc, b.etag)}
	}
	for doc, rs := range customV3Documents(custom) {
		if _, builtin := d.v3[doc]; builtin {
			continue
		}
		if err := customV3Document(c.start(), rs, defs, s.cfg.Version); err != nil {
			return nil, fmt.Errorf("OpenAPI v3 document %s: %w", doc, err)
		}
		b, err := c.finish()
		if err != nil {
			return nil, err
		}
		d.v3[doc] = b
		index.Paths[doc] = v3IndexEntry{ServerRelativeURL: v3URL(doc, b.etag)}
	}
	data, err := json.Marshal(index)
	if err != nil {
		return nil, fmt.Errorf("encode OpenAPI v3 index: %w", err)
	}
	if d.v3index, err = c.blobOf(data); err != nil {
		return nil, err
	}
	s.cfg.Logger.Debug("built OpenAPI documents", "resources", resources, "took", time.Since(start))
	return d, nil
}

// routes lists the paths of every registered resource and of discovery, with
// the parameters all operations of a path share moved to the path.
func (s *Service) routes(defs *definitions) []*route {
	opts := newOptionParams()
	schemas := &schemaNamer{defs: defs, scheme: s.cfg.Scheme}
	var out []*route
	seen := map[schema.GroupVersion]bool{}
	var gvs []schema.GroupVersion
	for _, res := range s.cfg.Registry.All() {
		if res.Custom {
			// Custom resources have no Go types; their schemas are not published yet.
			continue
		}
		out = append(out, newResourceRoutes(res, s.cfg.Scheme, opts, schemas).routes()...)
		if gv := res.GroupVersion(); !seen[gv] {
			seen[gv] = true
			gvs = append(gvs, gv)
		}
	}
	sort.Slice(gvs, func(i, j int) bool { return gvs[i].String() < gvs[j].String() })
	out = append(out, discoveryRoutes(gvs)...)
	for _, r := range out {
		r.hoistCommonParams()
	}
	return out
}

// v3Index is the body of /openapi/v3.
type v3Index struct {
	Paths map[string]v3IndexEntry `json:"paths"`
}

type v3IndexEntry struct {
	ServerRelativeURL string `json:"serverRelativeURL"`
}

func v3URL(doc, etag string) string { return "/openapi/v3/" + doc + "?hash=" + etag }

// v2Proto returns the v2 document in gnostic's protobuf form, converting the
// JSON on first use as upstream does.
func (s *Service) v2Proto(d *documents) (*blob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.v2proto != nil {
		return d.v2proto, nil
	}
	data, err := d.v2.bytes()
	if err != nil {
		return nil, err
	}
	doc, err := openapi_v2.ParseDocument(data)
	if err != nil {
		return nil, fmt.Errorf("convert OpenAPI v2 document to protobuf: %w", err)
	}
	pb, err := proto.MarshalOptions{Deterministic: true}.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode OpenAPI v2 protobuf: %w", err)
	}
	if d.v2proto, err = newCompressor().blobOf(pb); err != nil {
		return nil, err
	}
	debug.FreeOSMemory()
	return d.v2proto, nil
}

// v3Proto returns a v3 document in gnostic's protobuf form.
func (s *Service) v3Proto(d *documents, name string) (*blob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := d.v3proto[name]; b != nil {
		return b, nil
	}
	data, err := d.v3[name].bytes()
	if err != nil {
		return nil, err
	}
	doc, err := openapi_v3.ParseDocument(data)
	if err != nil {
		return nil, fmt.Errorf("convert OpenAPI v3 document %s to protobuf: %w", name, err)
	}
	pb, err := proto.MarshalOptions{Deterministic: true}.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode OpenAPI v3 protobuf %s: %w", name, err)
	}
	b, err := newCompressor().blobOf(pb)
	if err != nil {
		return nil, err
	}
	d.v3proto[name] = b
	debug.FreeOSMemory()
	return b, nil
}
