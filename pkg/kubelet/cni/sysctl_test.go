package cni

import (
	"os"
	"path/filepath"
	"testing"
)

func fakeProcSys(t *testing.T, values map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for k, v := range values {
		p := filepath.Join(root, k)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := procSys
	procSys = root
	t.Cleanup(func() { procSys = old })
	return root
}

func read(t *testing.T, root, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, key))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSysctlsRestoreTheValueSeenBeforeTheFirstChange(t *testing.T) {
	root := fakeProcSys(t, map[string]string{"net/ipv4/ip_forward": "0", "net/ipv4/conf/cni0/route_localnet": "0"})
	file := filepath.Join(t.TempDir(), "orig.json")
	s := &sysctls{file: file}
	if err := s.Set("net/ipv4/ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("net/ipv4/conf/cni0/route_localnet", "1"); err != nil {
		t.Fatal(err)
	}
	// An agent restart: a fresh value with the same file sees 1 now, and must
	// still restore the 0 from before.
	s = &sysctls{file: file}
	if err := s.Set("net/ipv4/ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, root, "net/ipv4/ip_forward"); got != "1" {
		t.Fatalf("ip_forward = %q after Set", got)
	}
	// The bridge went away before the restore.
	if err := os.RemoveAll(filepath.Join(root, "net/ipv4/conf/cni0")); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, root, "net/ipv4/ip_forward"); got != "0" {
		t.Errorf("ip_forward = %q after Restore, want 0", got)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("remembered values not forgotten after Restore: %v", err)
	}
}

func TestASysctlAlreadySetIsNotRemembered(t *testing.T) {
	fakeProcSys(t, map[string]string{"net/ipv4/ip_forward": "1"})
	file := filepath.Join(t.TempDir(), "orig.json")
	s := &sysctls{file: file}
	if err := s.Set("net/ipv4/ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("an unchanged sysctl was remembered")
	}
}

func TestAMissingSysctlIsAnError(t *testing.T) {
	fakeProcSys(t, nil)
	s := &sysctls{file: filepath.Join(t.TempDir(), "orig.json")}
	if err := s.Set("net/bridge/bridge-nf-call-iptables", "1"); err == nil {
		t.Error("setting a sysctl the kernel lacks succeeded")
	}
}
