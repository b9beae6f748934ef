package dns

import (
	"bytes"
	"net/netip"
	"strings"
)

var (
	v4Reverse = []byte(".in-addr.arpa.")
	v6Reverse = []byte(".ip6.arpa.")
)

// appendLower appends a presentation-format name in lower case, with a
// trailing dot. ok is false for names with escapes, which no cluster record
// has (they are looked up no further).
func appendLower(dst []byte, name string) ([]byte, bool) {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '\\':
			return dst, false
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	if len(dst) == 0 || dst[len(dst)-1] != '.' {
		dst = append(dst, '.')
	}
	return dst, true
}

// wireName encodes a lower-case presentation name ("a.b.") in wire format.
func wireName(name string) []byte {
	name = strings.TrimSuffix(name, ".")
	var b []byte
	if name != "" {
		for _, l := range strings.Split(name, ".") {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	return append(b, 0)
}

// labels splits a presentation name without its trailing dot into at most
// len(out) labels, right to left; n is how many there were (more than
// len(out) when it did not fit).
func splitLabels(name []byte, out *[6][]byte) int {
	if len(name) == 0 {
		return 0
	}
	n := 0
	end := len(name)
	for i := len(name) - 1; i >= -1; i-- {
		if i == -1 || name[i] == '.' {
			if n < len(out) {
				out[n] = name[i+1 : end]
			}
			n++
			end = i
		}
	}
	return n
}

// dashedIP parses the dashed form of an IP CoreDNS uses for pod names
// (10-244-0-5, or 2001-db8--1 for IPv6): three dashes and no double dash is
// IPv4, anything else is read as IPv6 with dashes for colons.
func dashedIP(label []byte) (netip.Addr, bool) {
	var buf [64]byte
	if len(label) > len(buf) {
		return netip.Addr{}, false
	}
	dashes, double := 0, false
	for i, c := range label {
		if c == '-' {
			dashes++
			if i > 0 && label[i-1] == '-' {
				double = true
			}
		}
	}
	sep := byte(':')
	if dashes == 3 && !double {
		sep = '.'
	}
	s := buf[:len(label)]
	for i, c := range label {
		if c == '-' {
			c = sep
		}
		s[i] = c
	}
	a, err := netip.ParseAddr(string(s))
	if err != nil {
		return netip.Addr{}, false
	}
	return a, true
}

// dashed is an IP's dashed label, as endpoints without a hostname are named.
func dashed(a netip.Addr) string {
	if a.Is4() {
		return strings.ReplaceAll(a.String(), ".", "-")
	}
	s := strings.ReplaceAll(a.String(), ":", "-")
	if strings.HasSuffix(s, "-") {
		s += "0"
	}
	if strings.HasPrefix(s, "-") {
		s = "0" + s
	}
	return s
}

// reverseIP parses a lower-case reverse name (4.3.2.1.in-addr.arpa. or the
// 32 nibbles of ip6.arpa.); ok is false for anything else.
func reverseIP(name []byte) (netip.Addr, bool) {
	switch {
	case bytes.HasSuffix(name, v4Reverse):
		var ip [4]byte
		rest := name[:len(name)-len(v4Reverse)]
		for i := 3; i >= 0; i-- {
			n, j := 0, 0
			for j < len(rest) && rest[j] != '.' {
				c := rest[j]
				if c < '0' || c > '9' || j > 2 {
					return netip.Addr{}, false
				}
				n = n*10 + int(c-'0')
				j++
			}
			if j == 0 || n > 255 || (j > 1 && rest[0] == '0') {
				return netip.Addr{}, false
			}
			ip[i] = byte(n)
			if i > 0 {
				if j >= len(rest) {
					return netip.Addr{}, false
				}
				rest = rest[j+1:]
			} else if j != len(rest) {
				return netip.Addr{}, false
			}
		}
		return netip.AddrFrom4(ip), true
	case bytes.HasSuffix(name, v6Reverse):
		rest := name[:len(name)-len(v6Reverse)]
		if len(rest) != 63 {
			return netip.Addr{}, false
		}
		var ip [16]byte
		for i := 0; i < 32; i++ {
			c := rest[i*2]
			if i < 31 && rest[i*2+1] != '.' {
				return netip.Addr{}, false
			}
			var v byte
			switch {
			case '0' <= c && c <= '9':
				v = c - '0'
			case 'a' <= c && c <= 'f':
				v = c - 'a' + 10
			default:
				return netip.Addr{}, false
			}
			// nibble i counts from the least significant end
			pos := 31 - i
			if pos%2 == 0 {
				ip[pos/2] |= v << 4
			} else {
				ip[pos/2] |= v
			}
		}
		return netip.AddrFrom16(ip), true
	}
	return netip.Addr{}, false
}
