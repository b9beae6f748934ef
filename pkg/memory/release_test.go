package memory

import (
	"os"
	"strings"
	"testing"
)

// Releasing start-up pages never breaks the process and never grows it.
func TestReleaseStartupPagesShrinksOrKeepsRSS(t *testing.T) {
	st, err := ReleaseStartupPages()
	if err != nil {
		t.Skipf("kernel does not support it here: %v", err)
	}
	if st.RSSAfterKiB > st.RSSBeforeKiB+1024 {
		t.Fatalf("RSS grew from %d to %d KiB", st.RSSBeforeKiB, st.RSSAfterKiB)
	}
	// The process still runs code after its pages were dropped.
	if s := fmtInt(42); s != "42" {
		t.Fatalf("got %q", s)
	}
}

func fmtInt(i int) string {
	b := []byte{}
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// After the release the executable's code may no longer be mapped in huge pages
// nor faulted around (VmFlags "nh" and "rr" in smaps), so later touches map single
// pages, not up to 2 MiB at a time.
func TestReleasedCodeIsMappedPageByPage(t *testing.T) {
	if _, err := ReleaseStartupPages(); err != nil {
		t.Skipf("kernel does not support it here: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	inExe, checked := false, 0
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 6 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			inExe = f[5] == exe && !strings.Contains(f[1], "w")
		case inExe && len(f) > 0 && f[0] == "VmFlags:":
			checked++
			if !strings.Contains(line, " nh") || !strings.Contains(line, " rr") {
				t.Errorf("a read-only mapping of %s may still be mapped in large chunks: %s", exe, line)
			}
		}
	}
	if checked == 0 {
		t.Fatalf("found no read-only mapping of %s", exe)
	}
}
