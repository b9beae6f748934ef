package alloc

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
)

// PortRange allocates node ports from an inclusive range such as 30000-32767.
type PortRange struct {
	mu         sync.Mutex
	base, size int
	used       map[int]bool
}

// NewPortRange parses "first-last".
func NewPortRange(spec string) (*PortRange, error) {
	lo, hi, ok := strings.Cut(spec, "-")
	first, err1 := strconv.Atoi(strings.TrimSpace(lo))
	last, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || first < 1 || last > 65535 || last < first {
		return nil, fmt.Errorf("node port range %q: want first-last within 1-65535", spec)
	}
	return &PortRange{base: first, size: last - first + 1, used: map[int]bool{}}, nil
}

// String is the range as "first-last".
func (r *PortRange) String() string { return fmt.Sprintf("%d-%d", r.base, r.base+r.size-1) }

// Contains reports whether a port is in the range.
func (r *PortRange) Contains(port int) bool { return port >= r.base && port < r.base+r.size }

// NotInRange is the error for a requested port outside the range.
func (r *PortRange) NotInRange() error {
	return fmt.Errorf("provided port is not in the valid range. The range of valid ports is %s", r)
}

// Allocate reserves a given port.
func (r *PortRange) Allocate(port int) error {
	if !r.Contains(port) {
		return r.NotInRange()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.used[port] {
		return ErrPortAllocated
	}
	r.used[port] = true
	return nil
}

// AllocateNext reserves a free port picked at random.
func (r *PortRange) AllocateNext() (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := rand.IntN(r.size)
	for i := 0; i < r.size; i++ {
		port := r.base + (start+i)%r.size
		if !r.used[port] {
			r.used[port] = true
			return port, nil
		}
	}
	return 0, ErrFull
}

// Release frees a port; releasing a free or foreign port does nothing.
func (r *PortRange) Release(port int) {
	r.mu.Lock()
	delete(r.used, port)
	r.mu.Unlock()
}

// Has reports whether a port is allocated.
func (r *PortRange) Has(port int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.used[port]
}
