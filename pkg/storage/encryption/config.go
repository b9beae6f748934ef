package encryption

import (
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"sigs.k8s.io/yaml"

	"github.com/minik8s/minik8s/pkg/storage"
)

// Config is a loaded EncryptionConfiguration: which chain each resource uses.
type Config struct {
	// chains by group and resource; Resource "*" is a whole group and Group "*"
	// too is everything.
	chains map[schema.GroupResource]*Chain
}

// Load reads an EncryptionConfiguration file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read encryption provider config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("encryption provider config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and checks an apiserver.config.k8s.io/v1 EncryptionConfiguration.
func Parse(data []byte) (*Config, error) {
	var ec apiserverv1.EncryptionConfiguration
	if err := yaml.UnmarshalStrict(data, &ec); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if gv := apiserverv1.SchemeGroupVersion.String(); ec.APIVersion != gv || ec.Kind != "EncryptionConfiguration" {
		return nil, fmt.Errorf("expected apiVersion %s and kind EncryptionConfiguration, got %q %q", gv, ec.APIVersion, ec.Kind)
	}
	if errs := Validate(&ec); len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	c := &Config{chains: map[schema.GroupResource]*Chain{}}
	for _, rc := range ec.Resources {
		chain, err := buildChain(rc.Providers)
		if err != nil {
			return nil, err
		}
		for _, res := range rc.Resources {
			gr := parseResource(res)
			if _, taken := c.chains[gr]; !taken { // earlier lists take precedence
				c.chains[gr] = chain
			}
		}
	}
	return c, nil
}

// For returns the transformer of a resource: its exact entry, else its group's
// wildcard, else *.*; nil when none matches (stored as it is).
func (c *Config) For(gr schema.GroupResource) storage.Transformer {
	if c == nil {
		return nil
	}
	for _, k := range []schema.GroupResource{gr, {Group: gr.Group, Resource: "*"}, {Group: "*", Resource: "*"}} {
		if ch := c.chains[k]; ch != nil {
			return ch
		}
	}
	return nil
}

// parseResource reads "secrets", "deployments.apps", "*." (the core group),
// "*.apps" or "*.*".
func parseResource(s string) schema.GroupResource {
	res, group, _ := strings.Cut(s, ".")
	return schema.GroupResource{Group: group, Resource: res}
}

func buildChain(providers []apiserverv1.ProviderConfiguration) (*Chain, error) {
	ch := &Chain{}
	for _, p := range providers {
		var (
			name      string
			keys      []apiserverv1.Key
			newCipher func([]byte) (valueCipher, error)
		)
		switch {
		case p.Identity != nil:
			ch.entries = append(ch.entries, nil)
			continue
		case p.AESCBC != nil:
			name, keys, newCipher = "aescbc", p.AESCBC.Keys, newAESCBC
		case p.AESGCM != nil:
			name, keys, newCipher = "aesgcm", p.AESGCM.Keys, newAESGCM
		case p.Secretbox != nil:
			name, keys, newCipher = "secretbox", p.Secretbox.Keys, newSecretbox
		}
		for _, k := range keys {
			secret, err := base64.StdEncoding.DecodeString(k.Secret)
			if err != nil {
				return nil, fmt.Errorf("%s key %q: %w", name, k.Name, err)
			}
			c, err := newCipher(secret)
			if err != nil {
				return nil, fmt.Errorf("%s key %q: %w", name, k.Name, err)
			}
			ch.entries = append(ch.entries, &keyedCipher{prefix: []byte(encPrefix + name + ":v1:" + k.Name + ":"), c: c})
		}
	}
	return ch, nil
}

// Validate checks an EncryptionConfiguration with upstream's rules and messages.
func Validate(ec *apiserverv1.EncryptionConfiguration) field.ErrorList {
	var errs field.ErrorList
	root := field.NewPath("resources")
	if len(ec.Resources) == 0 {
		return append(errs, field.Required(root, "at least one resources is required"))
	}
	for i, rc := range ec.Resources {
		rp := root.Index(i)
		if len(rc.Resources) == 0 {
			errs = append(errs, field.Required(rp.Child("resources"), fmt.Sprintf("at least one %s is required", rp.Child("resources"))))
		}
		errs = append(errs, validateResourceNames(rc.Resources, rp.Child("resources"))...)
		errs = append(errs, validateOverlap(rc.Resources, rp.Child("resources"))...)
		pp := rp.Child("providers")
		if len(rc.Providers) == 0 {
			errs = append(errs, field.Required(pp, fmt.Sprintf("at least one %s is required", pp)))
		}
		for j, p := range rc.Providers {
			errs = append(errs, validateProvider(p, pp.Index(j))...)
		}
	}
	return errs
}

func validateResourceNames(resources []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, res := range resources {
		p := path.Index(i)
		gr := parseResource(res)
		switch {
		case strings.ToLower(res) != res:
			errs = append(errs, field.Invalid(p, res, "resource name should not contain capital letters"))
		case res == "*":
			errs = append(errs, field.Invalid(p, res, "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources"))
		case gr.Group == "events.k8s.io":
			errs = append(errs, field.Invalid(p, res, "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file"))
		case gr.Group == "extensions":
			errs = append(errs, field.Invalid(p, res, "'extensions' group has been removed and cannot be used for encryption"))
		case gr.Group == "*" && gr.Resource != "*":
			errs = append(errs, field.Invalid(p, res, "encrypting the same resource across groups is not supported"))
		}
	}
	return errs
}

// validateOverlap refuses duplicates and a resource masked by a wildcard of the
// same list.
func validateOverlap(resources []string, path *field.Path) field.ErrorList {
	dup, overlap := false, false
	for i, a := range resources {
		for j, b := range resources {
			if i == j {
				continue
			}
			if a == b {
				dup = true
				continue
			}
			ga, gb := parseResource(a), parseResource(b)
			if ga == (schema.GroupResource{Group: "*", Resource: "*"}) || ga.Group == gb.Group && (ga.Resource == "*" || gb.Resource == "*") {
				overlap = true
			}
		}
	}
	var errs field.ErrorList
	if dup {
		errs = append(errs, field.Invalid(path, strings.Join(resources, ","), "the same resource cannot be specified multiple times"))
	}
	if overlap {
		errs = append(errs, field.Invalid(path, strings.Join(resources, ","), "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked"))
	}
	return errs
}

func validateProvider(p apiserverv1.ProviderConfiguration, path *field.Path) field.ErrorList {
	n := 0
	for _, set := range []bool{p.AESGCM != nil, p.AESCBC != nil, p.Secretbox != nil, p.Identity != nil, p.KMS != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return field.ErrorList{field.Invalid(path, p, "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity")}
	case n > 1:
		return field.ErrorList{field.Invalid(path, p, "more than one provider specified in a single element, should split into different list elements")}
	case p.KMS != nil:
		return field.ErrorList{field.NotSupported(path, "kms", []string{"aescbc", "aesgcm", "secretbox", "identity"})}
	case p.AESGCM != nil:
		return validateKeys(p.AESGCM.Keys, path.Child("aesgcm", "keys"), []int{16, 24, 32})
	case p.AESCBC != nil:
		return validateKeys(p.AESCBC.Keys, path.Child("aescbc", "keys"), []int{16, 24, 32})
	case p.Secretbox != nil:
		return validateKeys(p.Secretbox.Keys, path.Child("secretbox", "keys"), []int{32})
	}
	return nil
}

func validateKeys(keys []apiserverv1.Key, path *field.Path, sizes []int) field.ErrorList {
	var errs field.ErrorList
	if len(keys) == 0 {
		return append(errs, field.Required(path, "at least one keys is required"))
	}
	seen := map[string]bool{}
	for i, k := range keys {
		p := path.Index(i)
		if k.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), "name is a mandatory field for a key"))
		} else if strings.Contains(k.Name, ":") {
			errs = append(errs, field.Invalid(p.Child("name"), k.Name, "must not contain ':'"))
		} else if seen[k.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), k.Name))
		}
		seen[k.Name] = true
		if k.Secret == "" {
			errs = append(errs, field.Required(p.Child("secret"), "secret is a mandatory field for a key"))
			continue
		}
		secret, err := base64.StdEncoding.DecodeString(k.Secret)
		if err != nil {
			errs = append(errs, field.Invalid(p.Child("secret"), "REDACTED", "secrets must be base64 encoded"))
			continue
		}
		ok := false
		for _, s := range sizes {
			ok = ok || len(secret) == s
		}
		if !ok {
			errs = append(errs, field.Invalid(p.Child("secret"), "REDACTED", fmt.Sprintf("secret is not of the expected length, got %d, expected one of %v", len(secret), sizes)))
		}
	}
	return errs
}
