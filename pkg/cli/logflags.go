package cli

import (
	"fmt"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/minik8s/minik8s/pkg/kubelet/logs"
)

// sizeValue is a flag holding a byte count written as a quantity ("10Mi"), as
// upstream's kubelet takes containerLogMaxSize.
type sizeValue struct{ bytes *int64 }

func (v sizeValue) String() string {
	if v.bytes == nil {
		return ""
	}
	return resource.NewQuantity(*v.bytes, resource.BinarySI).String()
}

func (v sizeValue) Set(s string) error {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return fmt.Errorf("not a size such as 10Mi: %w", err)
	}
	if q.Sign() < 0 {
		return fmt.Errorf("size %s must not be negative", s)
	}
	*v.bytes = q.Value()
	return nil
}

func (v sizeValue) Type() string { return "quantity" }

// addLogFlags adds the container log rotation flags, with upstream's defaults.
func addLogFlags(f *pflag.FlagSet, p *logs.Policy) {
	p.MaxSize, p.MaxFiles = logs.DefaultMaxSize, logs.DefaultMaxFiles
	f.Var(sizeValue{&p.MaxSize}, "container-log-max-size", "size at which a container's log file is rotated (0 turns rotation off)")
	f.IntVar(&p.MaxFiles, "container-log-max-files", logs.DefaultMaxFiles, "log files kept per container, the live one included")
}
