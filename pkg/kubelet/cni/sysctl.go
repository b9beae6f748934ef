package cni

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// procSys is where sysctls live; a variable so tests can use a fake tree.
var procSys = "/proc/sys"

// sysctls sets kernel parameters and remembers, in a file, the value each had
// before its first change, so Restore can put the host back even after the
// agent restarted in between.
type sysctls struct {
	file string // JSON map of key to original value
}

// Set writes value to key (a path under /proc/sys: "net/ipv4/ip_forward").
func (s *sysctls) Set(key, value string) error {
	path := filepath.Join(procSys, key)
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read sysctl %s: %w", key, err)
	}
	oldValue := strings.TrimSpace(string(old))
	if oldValue == value {
		return nil
	}
	orig, err := s.load()
	if err != nil {
		return err
	}
	if _, seen := orig[key]; !seen {
		orig[key] = oldValue
		if err := s.save(orig); err != nil {
			return err
		}
	}
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("set sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

// Restore writes back every remembered value and forgets them. A key whose
// file is gone (the bridge was deleted) is skipped.
func (s *sysctls) Restore() error {
	orig, err := s.load()
	if err != nil {
		return err
	}
	var errs []error
	for key, value := range orig {
		err := os.WriteFile(filepath.Join(procSys, key), []byte(value), 0o644)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("restore sysctl %s=%s: %w", key, value, err))
		}
	}
	if len(errs) == 0 {
		if err := os.Remove(s.file); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *sysctls) load() (map[string]string, error) {
	orig := map[string]string{}
	data, err := os.ReadFile(s.file)
	if errors.Is(err, os.ErrNotExist) {
		return orig, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read remembered sysctls: %w", err)
	}
	if err := json.Unmarshal(data, &orig); err != nil {
		return nil, fmt.Errorf("read remembered sysctls from %s: %w", s.file, err)
	}
	return orig, nil
}

func (s *sysctls) save(orig map[string]string) error {
	data, err := json.MarshalIndent(orig, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.file, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("remember sysctls: %w", err)
	}
	return nil
}

// writeFileAtomic replaces file with data, never leaving a half-written file.
func writeFileAtomic(file string, data []byte, perm os.FileMode) error {
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}
