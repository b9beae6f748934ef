// Command images builds the minik8s test images offline and writes each as
// DIR/KEY.tar, ready for `ctr -n k8s.io images import` or `minik8s image import`.
//
//	go run ./test/images -out DIR [-only busybox,nginx] [-busybox FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/minik8s/minik8s/test/images/testimages"
)

func main() {
	out := flag.String("out", "", "directory to write KEY.tar files to (required)")
	only := flag.String("only", "", "comma-separated images to build, of: "+strings.Join(testimages.Keys, ","))
	busybox := flag.String("busybox", "", "static busybox executable or busybox-static .deb (default: the installed package, else apt-get download)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	opts := testimages.Options{OutDir: *out, Busybox: *busybox}
	if *only != "" {
		opts.Only = strings.Split(*only, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	results, err := testimages.Build(ctx, opts)
	for _, r := range results {
		st, _ := os.Stat(r.File)
		size := int64(0)
		if st != nil {
			size = st.Size()
		}
		fmt.Printf("%-40s %6.1f MB  %s\n", r.File, float64(size)/1e6, strings.Join(r.Names, " "))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}
