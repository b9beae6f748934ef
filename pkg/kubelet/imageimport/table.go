package imageimport

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// WriteTable prints images as `crictl images` does: one row per repository and
// tag, the id shortened to 13 hex digits, sizes in SI units. quiet prints only
// the full ids, one per image.
func WriteTable(w io.Writer, imgs []*runtimeapi.Image, quiet bool) error {
	if quiet {
		for _, img := range imgs {
			if _, err := fmt.Fprintln(w, img.Id); err != nil {
				return err
			}
		}
		return nil
	}
	type row struct{ repo, tag, id, size string }
	var rows []row
	for _, img := range imgs {
		id := strings.TrimPrefix(img.Id, "sha256:")
		if len(id) > 13 {
			id = id[:13]
		}
		size := humanSize(img.Size)
		refs := 0
		for _, t := range img.RepoTags {
			repo, tag := splitTag(t)
			rows = append(rows, row{repo, tag, id, size})
			refs++
		}
		if refs == 0 {
			for _, d := range img.RepoDigests {
				repo, _, _ := strings.Cut(d, "@")
				rows = append(rows, row{repo, "<none>", id, size})
				refs++
			}
		}
		if refs == 0 {
			rows = append(rows, row{"<none>", "<none>", id, size})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].repo != rows[j].repo {
			return rows[i].repo < rows[j].repo
		}
		return rows[i].tag < rows[j].tag
	})
	tw := tabwriter.NewWriter(w, 20, 1, 3, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tTAG\tIMAGE ID\tSIZE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.repo, r.tag, r.id, r.size)
	}
	return tw.Flush()
}

// splitTag splits "repo:tag"; the colon of a registry port is not a tag's.
func splitTag(ref string) (repo, tag string) {
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i+1:]
	}
	return ref, "<none>"
}

// humanSize writes bytes with three significant digits and SI units: 754kB, 4.27MB.
func humanSize(n uint64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	v := float64(n)
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", v, units[i])
}
