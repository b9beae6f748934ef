// Package memory returns memory the process no longer needs to the kernel.
//
// A Go binary that embeds etcd and kubectl is large, and starting it runs the
// initializers of hundreds of packages, touching tens of megabytes of code and
// read-only data that are never used again. Those pages are clean copies of the
// executable: the kernel can drop them at any time and read them back on demand.
// ReleaseStartupPages asks it to do so now (MADV_PAGEOUT), once start-up is over, so
// the process keeps only the pages its steady state uses; any page needed later is
// simply read back.
package memory

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// The madvise advice values this package uses (asm-generic/mman-common.h).
const (
	madvRandom     = 1
	madvNoHugepage = 15
	madvPageout    = 21 // Linux 5.4+
)

// Stats reports what a release did.
type Stats struct {
	RSSBeforeKiB, RSSAfterKiB int64
}

// ReleaseStartupPages returns the Go heap's free pages to the kernel and pages out
// the read-only mappings of the executable. It is safe to call at any time.
func ReleaseStartupPages() (Stats, error) {
	var st Stats
	st.RSSBeforeKiB = rssKiB()
	debug.FreeOSMemory()
	exe, err := os.Executable()
	if err != nil {
		return st, fmt.Errorf("find executable: %w", err)
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return st, fmt.Errorf("read mappings: %w", err)
	}
	defer f.Close()
	var ranges [][2]uintptr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// Only read-only and executable mappings of our own file: never data, heap or stacks.
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || b <= a {
			continue
		}
		ranges = append(ranges, [2]uintptr{uintptr(a), uintptr(b)})
	}
	for _, r := range ranges {
		// The addresses come from the kernel's own map of this process, not from Go
		// memory, so they go to madvise as plain numbers.
		//
		// First, map only the pages touched. Where the executable's page cache is
		// held in large folios (ext4 and others make them for a file written in
		// large chunks), newer kernels map a whole folio, up to 2 MiB, on the first
		// touch of any of its pages, by a huge page or by fault-around; a process
		// that runs a few functions here and there then keeps tens of megabytes of
		// code resident. Random-access advice turns fault-around off; no-huge-page
		// advice keeps folios from being mapped whole. Either may be refused by an
		// older kernel, which only loses the saving.
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, r[0], r[1]-r[0], madvNoHugepage)
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, r[0], r[1]-r[0], madvRandom)
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, r[0], r[1]-r[0], madvPageout); errno != 0 {
			// Older kernels lack MADV_PAGEOUT; nothing is lost but the saving.
			return st, fmt.Errorf("madvise: %w", errno)
		}
	}
	st.RSSAfterKiB = rssKiB()
	return st, nil
}

func rssKiB() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			v, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return v
		}
	}
	return 0
}
