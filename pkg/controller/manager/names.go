package manager

import (
	"fmt"
	"sort"
	"strings"
)

// known reports every name a controller answers to: upstream's canonical name
// ("replicaset-controller"), the same without "-controller" ("replicaset"), and
// upstream's older aliases ("garbagecollector").
func (d Descriptor) known() []string {
	names := append([]string{d.Name, strings.TrimSuffix(d.Name, "-controller")}, d.Aliases...)
	return names
}

// disabledSet resolves the names given to --disable-controllers to canonical
// names, refusing unknown ones with the list of known names.
func disabledSet(descs []Descriptor, names []string) (map[string]bool, error) {
	byName := map[string]string{}
	for _, d := range descs {
		for _, n := range d.known() {
			byName[n] = d.Name
		}
	}
	out := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		canonical, ok := byName[n]
		if !ok {
			var all []string
			for _, d := range descs {
				all = append(all, d.Name)
			}
			sort.Strings(all)
			return nil, fmt.Errorf("--disable-controllers: unknown controller %q; known controllers: %s", n, strings.Join(all, ", "))
		}
		out[canonical] = true
	}
	return out, nil
}

// ValidateDisabled checks names given to --disable-controllers, so a typo is
// refused before the server starts.
func ValidateDisabled(names []string) error {
	_, err := disabledSet(Descriptors(), names)
	return err
}
