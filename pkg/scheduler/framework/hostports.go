package framework

// DefaultBindAllHostIP is the host IP of a port bound on every address.
const DefaultBindAllHostIP = "0.0.0.0"

// ProtocolPort is one protocol and port.
type ProtocolPort struct {
	Protocol string
	Port     int32
}

// HostPortInfo holds the host ports in use on a node, by host IP.
type HostPortInfo map[string]map[ProtocolPort]int

func sanitize(ip, protocol string) (string, string) {
	if ip == "" {
		ip = DefaultBindAllHostIP
	}
	if protocol == "" {
		protocol = "TCP"
	}
	return ip, protocol
}

// Add records a port in use.
func (h *HostPortInfo) Add(ip, protocol string, port int32) {
	ip, protocol = sanitize(ip, protocol)
	if *h == nil {
		*h = HostPortInfo{}
	}
	m := (*h)[ip]
	if m == nil {
		m = map[ProtocolPort]int{}
		(*h)[ip] = m
	}
	m[ProtocolPort{protocol, port}]++
}

// Remove forgets one use of a port.
func (h HostPortInfo) Remove(ip, protocol string, port int32) {
	ip, protocol = sanitize(ip, protocol)
	m := h[ip]
	if m == nil {
		return
	}
	pp := ProtocolPort{protocol, port}
	if m[pp] <= 1 {
		delete(m, pp)
	} else {
		m[pp]--
	}
	if len(m) == 0 {
		delete(h, ip)
	}
}

// CheckConflict says whether a port is taken: the same protocol and port on the
// same IP, or on any IP when either side binds 0.0.0.0.
func (h HostPortInfo) CheckConflict(ip, protocol string, port int32) bool {
	if port <= 0 {
		return false
	}
	ip, protocol = sanitize(ip, protocol)
	pp := ProtocolPort{protocol, port}
	if ip == DefaultBindAllHostIP {
		for _, m := range h {
			if m[pp] > 0 {
				return true
			}
		}
		return false
	}
	return h[ip][pp] > 0 || h[DefaultBindAllHostIP][pp] > 0
}

// Len is the number of ports in use.
func (h HostPortInfo) Len() int {
	n := 0
	for _, m := range h {
		n += len(m)
	}
	return n
}

// Clone copies the ports.
func (h HostPortInfo) Clone() HostPortInfo {
	c := make(HostPortInfo, len(h))
	for ip, m := range h {
		cm := make(map[ProtocolPort]int, len(m))
		for k, v := range m {
			cm[k] = v
		}
		c[ip] = cm
	}
	return c
}
