package memory

import "testing"

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
