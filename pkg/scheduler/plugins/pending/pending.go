// Package pending stands in for default plugins still being written.
// TEMPORARY: removed before this lands.
package pending

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

type plugin struct{ name string }

func (p *plugin) Name() string { return p.name }

// Factory makes a do-nothing plugin named name.
func Factory(name string) fw.Factory {
	return func(context.Context, runtime.Object, fw.Handle) (fw.Plugin, error) { return &plugin{name}, nil }
}
