package audit

import (
	"fmt"
	"os"
	"slices"
	"strings"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"sigs.k8s.io/yaml"

	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// Policy is a loaded audit.k8s.io/v1 Policy.
type Policy struct {
	p auditv1.Policy
}

// RuleResult is what the policy says about one request.
type RuleResult struct {
	Level auditv1.Level
	// OmitStages are the stages not to record: the policy's and the rule's.
	OmitStages []auditv1.Stage
	// OmitManagedFields drops metadata.managedFields from logged bodies.
	OmitManagedFields bool
}

// LoadPolicy reads a policy file.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read audit policy: %w", err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("audit policy %s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy decodes and checks a policy.
func ParsePolicy(data []byte) (*Policy, error) {
	var p auditv1.Policy
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if gv := auditv1.SchemeGroupVersion.String(); p.APIVersion != gv || p.Kind != "Policy" {
		return nil, fmt.Errorf("expected apiVersion %s and kind Policy, got %q %q", gv, p.APIVersion, p.Kind)
	}
	if err := validatePolicy(&p); err != nil {
		return nil, err
	}
	return &Policy{p: p}, nil
}

// NewPolicy wraps an already decoded policy (tests, defaults).
func NewPolicy(p auditv1.Policy) (*Policy, error) {
	if err := validatePolicy(&p); err != nil {
		return nil, err
	}
	return &Policy{p: p}, nil
}

func validatePolicy(p *auditv1.Policy) error {
	checkStages := func(where string, stages []auditv1.Stage) error {
		for _, s := range stages {
			switch s {
			case auditv1.StageRequestReceived, auditv1.StageResponseStarted, auditv1.StageResponseComplete, auditv1.StagePanic:
			default:
				return fmt.Errorf("%s: Unsupported value: %q: supported values: \"RequestReceived\", \"ResponseStarted\", \"ResponseComplete\", \"Panic\"", where, s)
			}
		}
		return nil
	}
	if err := checkStages("omitStages", p.OmitStages); err != nil {
		return err
	}
	for i, r := range p.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		switch r.Level {
		case auditv1.LevelNone, auditv1.LevelMetadata, auditv1.LevelRequest, auditv1.LevelRequestResponse:
		default:
			return fmt.Errorf("%s.level: Unsupported value: %q: supported values: \"None\", \"Metadata\", \"Request\", \"RequestResponse\"", where, r.Level)
		}
		if len(r.NonResourceURLs) > 0 && (len(r.Resources) > 0 || len(r.Namespaces) > 0) {
			return fmt.Errorf("%s.nonResourceURLs: Invalid value: %v: rules cannot apply to both regular resources and non-resource URLs", where, r.NonResourceURLs)
		}
		for j, u := range r.NonResourceURLs {
			if u == "" || !strings.HasPrefix(u, "/") && u != "*" || strings.Contains(strings.TrimSuffix(u, "*"), "*") {
				return fmt.Errorf("%s.nonResourceURLs[%d]: Invalid value: %q: non-resource URL rules must begin with a '/' and may end with a '*' only", where, j, u)
			}
		}
		for j, gr := range r.Resources {
			if len(gr.ResourceNames) > 0 && len(gr.Resources) == 0 {
				return fmt.Errorf("%s.resources[%d].resourceNames: Invalid value: %v: using resourceNames requires at least one resource", where, j, gr.ResourceNames)
			}
		}
		if err := checkStages(where+".omitStages", r.OmitStages); err != nil {
			return err
		}
	}
	return nil
}

// Evaluate returns the level of the first rule that matches; None if none does.
func (p *Policy) Evaluate(a *authorizer.Attributes) RuleResult {
	for i := range p.p.Rules {
		r := &p.p.Rules[i]
		if !ruleMatches(r, a) {
			continue
		}
		omitMF := p.p.OmitManagedFields
		if r.OmitManagedFields != nil {
			omitMF = *r.OmitManagedFields
		}
		return RuleResult{Level: r.Level, OmitStages: union(p.p.OmitStages, r.OmitStages), OmitManagedFields: omitMF}
	}
	return RuleResult{Level: auditv1.LevelNone, OmitStages: p.p.OmitStages}
}

func union(a, b []auditv1.Stage) []auditv1.Stage {
	out := append([]auditv1.Stage(nil), a...)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// ruleMatches applies a rule's conditions: each given list must contain the
// request's value, as upstream's policy checker does.
func ruleMatches(r *auditv1.PolicyRule, a *authorizer.Attributes) bool {
	name := ""
	var groups []string
	if a.User != nil {
		name, groups = a.User.Name, a.User.Groups
	}
	if len(r.Users) > 0 && !slices.Contains(r.Users, name) {
		return false
	}
	if len(r.UserGroups) > 0 && !slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(r.UserGroups, g) }) {
		return false
	}
	if len(r.Verbs) > 0 && !slices.Contains(r.Verbs, a.Verb) {
		return false
	}
	if len(r.Namespaces) > 0 || len(r.Resources) > 0 {
		return resourceMatches(r, a)
	}
	if len(r.NonResourceURLs) > 0 {
		return nonResourceMatches(r, a)
	}
	return true
}

func nonResourceMatches(r *auditv1.PolicyRule, a *authorizer.Attributes) bool {
	if a.IsResource {
		return false
	}
	for _, u := range r.NonResourceURLs {
		if u == "*" || u == a.Path || strings.HasSuffix(u, "*") && strings.HasPrefix(a.Path, strings.TrimSuffix(u, "*")) {
			return true
		}
	}
	return false
}

func resourceMatches(r *auditv1.PolicyRule, a *authorizer.Attributes) bool {
	if !a.IsResource {
		return false
	}
	// "" in namespaces matches cluster-scoped resources.
	if len(r.Namespaces) > 0 && !slices.Contains(r.Namespaces, a.Namespace) {
		return false
	}
	if len(r.Resources) == 0 {
		return true
	}
	combined := a.Resource
	if a.Subresource != "" {
		combined += "/" + a.Subresource
	}
	for _, gr := range r.Resources {
		if gr.Group != a.Group {
			continue
		}
		if len(gr.Resources) == 0 {
			return true
		}
		if len(gr.ResourceNames) > 0 && !slices.Contains(gr.ResourceNames, a.Name) {
			continue
		}
		for _, res := range gr.Resources {
			switch {
			case res == combined, res == "*":
				return true
			case a.Subresource != "" && strings.HasPrefix(res, "*/") && strings.TrimPrefix(res, "*/") == a.Subresource:
				return true
			case strings.HasSuffix(res, "/*") && strings.TrimSuffix(res, "/*") == a.Resource:
				return true
			}
		}
	}
	return false
}
