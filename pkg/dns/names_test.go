package dns

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestDashedIP(t *testing.T) {
	cases := []struct {
		name, label string
		want        string
	}{
		{"four dashed octets are an IPv4 address", "10-244-0-5", "10.244.0.5"},
		{"dashes for colons are an IPv6 address", "fd00-10-244--5", "fd00:10:244::5"},
		{"a leading double dash is IPv6 with a zero prefix", "--1", "::1"},
		{"an octet over 255 is no address", "10-244-0-256", ""},
		{"a word is no address", "web", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := dashedIP([]byte(tc.label))
			if (tc.want == "") == ok || (ok && a.String() != tc.want) {
				t.Errorf("dashedIP(%q) = %v, %v; want %q", tc.label, a, ok, tc.want)
			}
		})
	}
}

func TestDashedRoundTrips(t *testing.T) {
	for _, s := range []string{"10.244.0.5", "fd00::1", "::1", "2001:db8::"} {
		a := netip.MustParseAddr(s)
		b, ok := dashedIP([]byte(dashed(a)))
		if !ok || b != a {
			t.Errorf("%s → %q → %v, %v", s, dashed(a), b, ok)
		}
	}
}

func TestReverseIP(t *testing.T) {
	cases := []struct {
		name, qname, want string
	}{
		{"an in-addr.arpa name reads backwards", "5.0.244.10.in-addr.arpa.", "10.244.0.5"},
		{"a partial in-addr.arpa name is no address", "244.10.in-addr.arpa.", ""},
		{"a leading zero is refused", "05.0.244.10.in-addr.arpa.", ""},
		{"32 nibbles of ip6.arpa are an IPv6 address", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", "fd00::1"},
		{"a short ip6.arpa name is no address", "1.0.ip6.arpa.", ""},
		{"another name is no address", "example.com.", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := reverseIP([]byte(tc.qname))
			if (tc.want == "") == ok || (ok && a.String() != tc.want) {
				t.Errorf("reverseIP(%q) = %v, %v; want %q", tc.qname, a, ok, tc.want)
			}
		})
	}
}

func TestUpstreamsLeaveOutLoops(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "resolv.conf")
	conf := "# host\nsearch example.com\nnameserver 10.96.0.10\nnameserver 192.0.2.1\nnameserver fe80::1%eth0\nnameserver 127.0.0.1\noptions ndots:2\n"
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Upstreams(path, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}, []netip.Addr{netip.MustParseAddr("10.96.0.10")})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:53"), netip.MustParseAddrPort("[fe80::1]:53")}
	if !slices.Equal(got, want) {
		t.Errorf("upstreams %v, want %v (the cluster DNS IP and this server's own address left out)", got, want)
	}
	if _, err := Upstreams(filepath.Join(dir, "missing"), nil, nil); err == nil {
		t.Error("a missing resolv.conf should be an error")
	}
}
