package images

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestPauseImageIsThePauseExecutableRunAsNobody(t *testing.T) {
	data, name := PauseImage()
	if name != "registry.k8s.io/pause:3.10.1" {
		t.Errorf("name = %q", name)
	}
	rb := readArchive(t, data)
	if got := rb.index.Manifests[0].Annotations[AnnotationContainerdName]; got != name {
		t.Errorf("archive names %q, PauseImage says %q", got, name)
	}
	c := rb.config.Config
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/pause" || c.User != "65535:65535" {
		t.Errorf("config = %+v", c)
	}
	if rb.config.Architecture != runtime.GOARCH {
		t.Errorf("architecture = %q, want %q", rb.config.Architecture, runtime.GOARCH)
	}
	if len(rb.layers) != 1 || len(rb.layers[0]) != 1 || rb.layers[0][0].Mode != 0o755 {
		t.Fatalf("want one layer holding only /pause, mode 0755")
	}
	if !bytes.Equal(rb.file(t, 0, "pause"), pauseELF) {
		t.Error("/pause is not the assembled executable")
	}
	data[0] ^= 0xff
	if again, _ := PauseImage(); again[0] == data[0] {
		t.Error("PauseImage hands out its cached slice: a caller's write changed it")
	}
}

// pauseRunner is how the test runs a pause executable of one architecture:
// natively, or under qemu-user for the other one.
type pauseRunner struct {
	arch string
	elf  string   // path of the executable
	argv []string // argv to start it
}

// pauseRunners writes the pause executable of every architecture that can run
// here to a temp dir. The bytes come from the generated source files, so the
// arm64 one is tested on an amd64 machine too when qemu-user-static is there.
func pauseRunners(t *testing.T) []pauseRunner {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("pause is a Linux executable")
	}
	var out []pauseRunner
	for _, arch := range []string{"amd64", "arm64"} {
		elf := elfFromSource(t, arch)
		if arch == runtime.GOARCH && !bytes.Equal(elf, pauseELF) {
			t.Fatalf("pause_elf_%s.go does not hold the compiled-in pauseELF", arch)
		}
		file := filepath.Join(t.TempDir(), "pause-"+arch)
		if err := os.WriteFile(file, elf, 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case arch == runtime.GOARCH:
			out = append(out, pauseRunner{arch, file, []string{file}})
		default:
			qemu := map[string]string{"amd64": "qemu-x86_64-static", "arm64": "qemu-aarch64-static"}[arch]
			if q, err := exec.LookPath(qemu); err == nil {
				out = append(out, pauseRunner{arch, file, []string{q, file}})
			} else {
				t.Logf("pause for %s not run: no %s", arch, qemu)
			}
		}
	}
	return out
}

var hexByte = regexp.MustCompile(`0x([0-9a-f]{2}),`)

func elfFromSource(t *testing.T, arch string) []byte {
	t.Helper()
	src, err := os.ReadFile("pause_elf_" + arch + ".go")
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, m := range hexByte.FindAllSubmatch(src, -1) {
		b, _ := strconv.ParseUint(string(m[1]), 16, 8)
		out = append(out, byte(b))
	}
	if len(out) < 64 || string(out[1:4]) != "ELF" {
		t.Fatalf("pause_elf_%s.go does not hold an ELF file", arch)
	}
	return out
}

// waitExit waits for cmd with a deadline and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			if ws := ee.Sys().(syscall.WaitStatus); ws.Signaled() {
				t.Fatalf("pause was killed by %v instead of exiting", ws.Signal())
			}
			return ee.ExitCode()
		}
		t.Fatalf("wait: %v", err)
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("pause did not exit within 10s of the signal")
	}
	return -1
}

func TestPauseExitsZeroOnSIGTERMAndSIGINT(t *testing.T) {
	for _, r := range pauseRunners(t) {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			t.Run(r.arch+"/"+sig.String(), func(t *testing.T) {
				cmd := exec.Command(r.argv[0], r.argv[1:]...)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				// Still running after a while: it sleeps rather than exiting.
				time.Sleep(300 * time.Millisecond)
				if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
					t.Fatalf("pause is gone before any signal: %v", err)
				}
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				if code := waitExit(t, cmd); code != 0 {
					t.Fatalf("exit code %d after %v, want 0", code, sig)
				}
			})
		}
	}
}

// The helper process forks a child and then execs pause in its place, so the
// child becomes pause's own: how a PID 1 inherits orphans, without needing one.
func TestMain(m *testing.M) {
	if mode := os.Getenv("PAUSE_TEST_HELPER"); mode != "" {
		os.Exit(pauseHelper(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

func pauseHelper(mode string, argv []string) int {
	cmd := exec.Command("/bin/sleep", "0.5")
	if mode == "exited-before" {
		cmd = exec.Command("/bin/true")
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "helper: start child:", err)
		return 3
	}
	// In a new PID namespace the child's pid as Go knows it is not the one /proc
	// (the host's) shows: look the child up there by its parent.
	child, err := hostChild()
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 3
	}
	if mode == "exited-before" {
		// Let the child become a zombie before pause starts, so its SIGCHLD is
		// already spent.
		for !isZombie(child) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	fmt.Println(child)
	if err := syscall.Exec(argv[0], argv, os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, "helper: exec pause:", err)
	}
	return 4
}

// hostChild returns the pid, as /proc shows it, of the only child of this process.
func hostChild() (int, error) {
	selfLink, err := os.Readlink("/proc/self")
	if err != nil {
		return 0, err
	}
	self, _ := strconv.Atoi(selfLink)
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if _, ppid := procState(pid); ppid == self {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no child of %d in /proc", self)
}

// procState returns the state letter and parent pid of a process from /proc.
func procState(pid int) (state string, ppid int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndex(s, ")")+1:])
	if len(fields) < 2 {
		return "", 0
	}
	ppid, _ = strconv.Atoi(fields[1])
	return fields[0], ppid
}

func isZombie(pid int) bool {
	state, _ := procState(pid)
	return state == "Z"
}

func processExists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

func TestPauseReapsItsChildren(t *testing.T) {
	if _, err := os.Stat("/bin/sleep"); err != nil {
		t.Skip("no /bin/sleep for a child process")
	}
	for _, r := range pauseRunners(t) {
		for _, mode := range []string{"exits-after", "exited-before"} {
			t.Run(r.arch+"/child "+mode+" pause starts", func(t *testing.T) {
				runReapTest(t, r, mode, nil)
			})
		}
	}
}

func runReapTest(t *testing.T, r pauseRunner, mode string, attr *syscall.SysProcAttr) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, r.argv...)
	cmd.Env = append(os.Environ(), "PAUSE_TEST_HELPER="+mode)
	cmd.SysProcAttr = attr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The helper prints the child's pid before it execs pause.
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
	}()
	var child int
	select {
	case s := <-line:
		child, _ = strconv.Atoi(strings.TrimSpace(s))
	case <-time.After(5 * time.Second):
	}
	if child == 0 {
		t.Fatal("helper did not report its child")
	}
	for deadline := time.Now().Add(5 * time.Second); processExists(child); {
		if time.Now().After(deadline) {
			t.Fatalf("child %d still there (zombie: %v): pause did not reap it", child, isZombie(child))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
}

// As PID 1 of its own PID namespace, signals without a handler are dropped for
// pause unless blocked: this is the case that matters in a pod.
func TestPauseAsPID1OfANewPIDNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root to make a PID namespace, and CI runs as root")
		}
		t.Skip("needs root to make a PID namespace")
	}
	for _, r := range pauseRunners(t) {
		if r.arch != runtime.GOARCH {
			continue
		}
		for _, mode := range []string{"exits-after", "exited-before"} {
			t.Run(r.arch+"/child "+mode+" pause starts", func(t *testing.T) {
				runReapTest(t, r, mode, &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID})
			})
		}
	}
}

func TestPauseGenerateIsReproducible(t *testing.T) {
	var arches []string
	for arch, triple := range map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"} {
		_, errAs := exec.LookPath(triple + "-as")
		_, errLd := exec.LookPath(triple + "-ld")
		if errAs == nil && errLd == nil {
			arches = append(arches, arch)
		} else {
			t.Logf("%s not rebuilt: no %s-as/ld", arch, triple)
		}
	}
	if len(arches) == 0 {
		t.Skip("no binutils to rebuild the pause executables with")
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", "pause_gen.sh", dir)
	cmd.Env = append(os.Environ(), "ARCHES="+strings.Join(arches, " "))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pause_gen.sh: %v\n%s", err, out)
	}
	for _, arch := range arches {
		name := "pause_elf_" + arch + ".go"
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s rebuilt from pause_%s.asm differs from the committed one: run go generate ./pkg/images", name, arch)
		}
	}
}
