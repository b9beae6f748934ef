package metrics

import (
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
	"k8s.io/component-base/version"
)

// newBuildInfo is kubernetes_build_info, from the version the binary was built
// with (hack/build.sh sets it as upstream's build does).
func newBuildInfo() prometheus.Collector {
	info := version.Get()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kubernetes_build_info",
		Help: beta + "A metric with a constant '1' value labeled by major, minor, git version, git commit, git tree state, build date, Go version, and compiler from which Kubernetes was built, and platform on which it is running.",
	}, []string{"major", "minor", "git_version", "git_commit", "git_tree_state", "build_date", "go_version", "compiler", "platform"})
	g.WithLabelValues(info.Major, info.Minor, info.GitVersion, info.GitCommit, info.GitTreeState, info.BuildDate,
		info.GoVersion, info.Compiler, info.Platform).Set(1)
	return g
}

// newProcessStartTime is the process_start_time_seconds upstream serves beside
// the probe counts (so a reader can tell a counter reset from a restart).
// Where /proc cannot say, the series is left out rather than made up.
func newProcessStartTime() prometheus.Collector {
	desc := prometheus.NewDesc("process_start_time_seconds", alpha+"Start time of the process since unix epoch in seconds.", nil, nil)
	start, err := processStart()
	return collectorFunc{desc: desc, collect: func(ch chan<- prometheus.Metric) {
		if err == nil {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, start)
		}
	}}
}

func processStart() (float64, error) {
	p, err := procfs.NewProc(os.Getpid())
	if err != nil {
		return 0, err
	}
	st, err := p.Stat()
	if err != nil {
		return 0, err
	}
	return st.StartTime()
}

// collectorFunc is a collector of one description.
type collectorFunc struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }
