// Package lazyi18n stops kubectl's message catalog from loading in processes that
// are not running kubectl. kubectl's packages translate their help texts while they
// initialize, which costs tens of milliseconds at every server start; this package
// initializes before them (import paths are initialized in order) and, unless the
// process is `minik8s kubectl`, swaps the loader for one that loads nothing, leaving
// the English texts in place.
package lazyi18n

import (
	"os"

	"k8s.io/kubectl/pkg/util/i18n"
)

func init() {
	if len(os.Args) > 1 && os.Args[1] == "kubectl" {
		return
	}
	_ = i18n.SetLoadTranslationsFunc(func() error { return nil })
}
