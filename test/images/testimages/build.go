package testimages

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/minik8s/minik8s/pkg/images"
)

// Labels on the images, saying what they are made of.
const (
	labelBuiltFrom = "org.minik8s.built-from"
	labelStandIn   = "org.minik8s.stand-in"
)

// Keys are the images Build knows, in build order; each is written to KEY.tar.
var Keys = []string{"pause", "busybox", "testserver", "nginx"}

// Options says what Build builds and from what.
type Options struct {
	// OutDir receives KEY.tar for each image (created if missing).
	OutDir string
	// Only lists the keys to build; empty means all of Keys.
	Only []string
	// Busybox is a static busybox executable or a busybox-static .deb; empty means
	// the installed busybox-static package, else one apt-get downloads.
	Busybox string
	// Go is the go command that compiles the test server; empty means goTool().
	Go string
}

// Result is one image written.
type Result struct {
	Key   string
	File  string
	Names []string
}

// Build writes the images Options asks for and returns what it wrote.
func Build(ctx context.Context, opts Options) ([]Result, error) {
	keys := opts.Only
	if len(keys) == 0 {
		keys = Keys
	}
	for _, k := range keys {
		if !slices.Contains(Keys, k) {
			return nil, fmt.Errorf("unknown image %q (known: %s)", k, strings.Join(Keys, ", "))
		}
	}
	if opts.OutDir == "" {
		return nil, fmt.Errorf("build test images: no output directory")
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("build test images: %w", err)
	}
	work, err := os.MkdirTemp("", "minik8s-testimages-")
	if err != nil {
		return nil, fmt.Errorf("build test images: %w", err)
	}
	defer os.RemoveAll(work)

	// The busybox file system is the base of three images: build it once.
	var base *images.Layer
	var bb *busybox
	needBase := slices.ContainsFunc(keys, func(k string) bool { return k != "pause" })
	if needBase {
		if bb, err = loadBusybox(ctx, opts.Busybox, work); err != nil {
			return nil, err
		}
		base = bb.rootfsLayer()
	}

	var results []Result
	for _, k := range Keys {
		if !slices.Contains(keys, k) {
			continue
		}
		file := filepath.Join(opts.OutDir, k+".tar")
		var img *images.Image
		switch k {
		case "pause":
			data, name := images.PauseImage()
			if err := writeFile(file, data); err != nil {
				return results, err
			}
			results = append(results, Result{Key: k, File: file, Names: []string{name}})
			continue
		case "busybox":
			img = bb.image(base)
		case "testserver":
			gt := opts.Go
			if gt == "" {
				gt = goTool()
			}
			bin, err := buildTestserver(ctx, gt, work)
			if err != nil {
				return results, err
			}
			img = testserverImage(base, bin)
		case "nginx":
			img = nginxImage(base)
		}
		if err := img.WriteFile(file); err != nil {
			return results, fmt.Errorf("image %s: %w", k, err)
		}
		results = append(results, Result{Key: k, File: file, Names: img.Names})
	}
	return results, nil
}

// writeFile writes data to file through a temporary name, so a reader never
// sees half an image.
func writeFile(file string, data []byte) error {
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := os.Rename(tmp, file); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}
