package imageimport

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/images"
	"github.com/minik8s/minik8s/pkg/kubelet/cri"
)

// The test binary doubles as a fake ctr: with fakeCtrEnv set it "imports" the
// tarball on stdin into store.json beside the socket, where the fake CRI reads it.
const fakeCtrEnv = "MINIK8S_FAKE_CTR"

func TestMain(m *testing.M) {
	if os.Getenv(fakeCtrEnv) != "" {
		os.Exit(fakeCtr())
	}
	os.Exit(m.Run())
}

func fakeCtr() int {
	args := os.Args[1:]
	if len(args) < 2 || args[0] != "--address" || args[len(args)-1] != "-" {
		fmt.Fprintln(os.Stderr, "fake ctr: unexpected arguments", args)
		return 2
	}
	dir := filepath.Dir(args[1])
	data, _ := io.ReadAll(os.Stdin)
	imgs, err := Inspect(openBytes(data))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ctr: unrecognized image format:", err)
		return 1
	}
	store := readStore(dir)
	for _, img := range imgs {
		store[img.Name] = img.ID
		fmt.Printf("unpacking %s (sha256:00)...done\n", img.Name)
	}
	b, _ := json.Marshal(store)
	os.WriteFile(filepath.Join(dir, "store.json"), b, 0o644)
	n, _ := strconv.Atoi(string(must(os.ReadFile(filepath.Join(dir, "imports")))))
	os.WriteFile(filepath.Join(dir, "imports"), []byte(strconv.Itoa(n+1)), 0o644)
	return 0
}

func must(b []byte, _ error) []byte { return b }

func readStore(dir string) map[string]string {
	store := map[string]string{}
	json.Unmarshal(must(os.ReadFile(filepath.Join(dir, "store.json"))), &store)
	return store
}

type fakeImages struct {
	runtimeapi.UnimplementedImageServiceServer
	dir string
}

func (f *fakeImages) ImageStatus(_ context.Context, req *runtimeapi.ImageStatusRequest) (*runtimeapi.ImageStatusResponse, error) {
	id, ok := readStore(f.dir)[req.Image.Image]
	if !ok {
		return &runtimeapi.ImageStatusResponse{}, nil
	}
	return &runtimeapi.ImageStatusResponse{Image: &runtimeapi.Image{Id: id, RepoTags: []string{req.Image.Image}}}, nil
}

// fakeNode starts a fake CRI and returns an importer using the fake ctr.
func fakeNode(t *testing.T) (*Importer, string) {
	t.Helper()
	t.Setenv(fakeCtrEnv, "1")
	dir := t.TempDir()
	sock := filepath.Join(dir, "containerd.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	runtimeapi.RegisterImageServiceServer(srv, &fakeImages{dir: dir})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	client, err := cri.Dial(sock, cri.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	exe, _ := os.Executable()
	im, err := New(Config{Socket: sock, Ctr: exe}, client, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return im, dir
}

func imports(dir string) int {
	n, _ := strconv.Atoi(string(must(os.ReadFile(filepath.Join(dir, "imports")))))
	return n
}

func TestImportDirImportsEachTarballOnceAndSkipsBadFiles(t *testing.T) {
	im, node := fakeNode(t)
	dir := t.TempDir()
	pause, _ := images.PauseImage()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(testImage(t))
	zw.Close()
	for name, data := range map[string][]byte{
		"pause.tar":     pause,
		"app.tar.gz":    gz.Bytes(),
		"broken.tar":    []byte("not a tarball"),
		"README.md":     []byte("images for this node"),
		"truncated.tgz": gz.Bytes()[:40],
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	res, err := im.ImportDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if res != (DirResult{Imported: 2, Failed: 2}) {
		t.Errorf("first pass: %+v, want 2 imported, 2 failed", res)
	}
	store := readStore(node)
	for _, n := range []string{images.PauseImageName, "example.com/app:1", "docker.io/library/busybox:1.36"} {
		if store[n] == "" {
			t.Errorf("%s not imported; store: %v", n, store)
		}
	}

	// A second agent start finds them all there.
	res, err = im.ImportDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if res != (DirResult{Skipped: 2, Failed: 2}) || imports(node) != 2 {
		t.Errorf("second pass: %+v after %d ctr runs, want 2 skipped and no new import", res, imports(node))
	}

	// An image replaced under the same name (another id) is imported again.
	store["docker.io/library/busybox:1.36"] = "sha256:old"
	b, _ := json.Marshal(store)
	os.WriteFile(filepath.Join(node, "store.json"), b, 0o644)
	if res, _ := im.ImportDir(ctx, dir); res.Imported != 1 {
		t.Errorf("third pass: %+v, want the changed tarball imported", res)
	}
}

func TestImportBytesSkipsAnImageAlreadyThere(t *testing.T) {
	im, node := fakeNode(t)
	pause, _ := images.PauseImage()
	ctx := context.Background()
	got, did, err := im.ImportBytes(ctx, pause, "pause")
	if err != nil || !did {
		t.Fatalf("first import: %v, imported=%v", err, did)
	}
	if len(got) != 1 || got[0].Name != images.PauseImageName || !strings.HasPrefix(got[0].ID, "sha256:") {
		t.Errorf("got %+v", got)
	}
	if _, did, err := im.ImportBytes(ctx, pause, "pause"); err != nil || did {
		t.Errorf("second import: %v, imported=%v; want a skip", err, did)
	}
	if imports(node) != 1 {
		t.Errorf("ctr ran %d times, want 1", imports(node))
	}
}

func TestImportFileReportsCtrFailures(t *testing.T) {
	im, _ := fakeNode(t)
	f := filepath.Join(t.TempDir(), "bad.tar")
	os.WriteFile(f, writeTar(t, "manifest.json", []byte("[]")), 0o644)
	_, err := im.ImportFile(context.Background(), f)
	if err == nil || !strings.Contains(err.Error(), "bad.tar") {
		t.Errorf("got %v, want an error naming the file", err)
	}
}

func TestAMissingImageDirIsEmpty(t *testing.T) {
	im, _ := fakeNode(t)
	res, err := im.ImportDir(context.Background(), filepath.Join(t.TempDir(), "nope"))
	if err != nil || res != (DirResult{}) {
		t.Errorf("got %+v, %v", res, err)
	}
}
