package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/pkg/kubelet/containerd"
	"github.com/minik8s/minik8s/pkg/kubelet/cri"
	"github.com/minik8s/minik8s/pkg/kubelet/imageimport"
)

// imageFlags say which node's containerd the image commands reach.
type imageFlags struct {
	dataDir  string
	endpoint string
}

func (f *imageFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", DefaultDataDir, "data dir of the node whose containerd to use")
	cmd.Flags().StringVar(&f.endpoint, "container-runtime-endpoint", "", "containerd socket to use instead of the node's")
}

// socket is the containerd socket of the node, checked to exist so a wrong
// --data-dir gets a plain answer instead of a gRPC dial error.
func (f *imageFlags) socket() (string, error) {
	if f.endpoint != "" {
		return cri.SocketPath(f.endpoint)
	}
	cfg := containerd.Config{Dir: filepath.Join(f.dataDir, "agent", "containerd")}
	sock := cfg.Socket()
	if _, err := os.Stat(sock); err != nil {
		return "", fmt.Errorf("no containerd socket at %s: is a node running with --data-dir %s?", sock, f.dataDir)
	}
	return sock, nil
}

func newImageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Import and list the images of this node's containerd",
	}
	cmd.AddCommand(newImageImportCommand(), newImageListCommand())
	return cmd
}

func newImageImportCommand() *cobra.Command {
	var f imageFlags
	cmd := &cobra.Command{
		Use:   "import FILE.tar...",
		Short: "Import docker-archive or OCI-archive tarballs (.tar, .tar.gz)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			sock, err := f.socket()
			if err != nil {
				return err
			}
			client, err := cri.Dial(sock, cri.Options{})
			if err != nil {
				return err
			}
			defer client.Close()
			im, err := imageimport.New(imageimport.Config{Socket: sock}, client, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				return err
			}
			var errs []error
			for _, file := range files {
				imgs, err := im.ImportFile(ctx, file)
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "Error:", err)
					errs = append(errs, err)
					continue
				}
				for _, img := range imgs {
					fmt.Fprintf(cmd.OutOrStdout(), "imported %s %s\n", img.Name, shortID(img.ID))
				}
			}
			if len(errs) > 0 {
				return fmt.Errorf("%d of %d tarballs failed to import", len(errs), len(files))
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newImageListCommand() *cobra.Command {
	var f imageFlags
	var quiet bool
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List images as the CRI sees them",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sock, err := f.socket()
			if err != nil {
				return err
			}
			client, err := cri.Dial(sock, cri.Options{})
			if err != nil {
				return err
			}
			defer client.Close()
			imgs, err := client.ListImages(cmd.Context(), nil)
			if err != nil {
				if cri.IsUnavailable(err) {
					return errors.New("containerd at " + sock + " does not answer: is the node running?")
				}
				return err
			}
			return imageimport.WriteTable(cmd.OutOrStdout(), imgs, quiet)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only image ids")
	return cmd
}

// shortID is an image id as crictl shows it: 13 hex digits.
func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 13 {
		id = id[:13]
	}
	return id
}
