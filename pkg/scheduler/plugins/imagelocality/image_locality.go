// Package imagelocality is the ImageLocality plugin: nodes that already have the
// pod's images score higher, more so for big images and for images few nodes have
// (so pods do not all crowd where one popular image is).
package imagelocality

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.ImageLocality

// Thresholds of the image size sum, as upstream's: below minThreshold a node gets
// 0, at maxThreshold per container 100.
const (
	mb                    int64 = 1024 * 1024
	minThreshold                = 23 * mb
	maxContainerThreshold       = 1000 * mb
)

// ImageLocality scores nodes by the images they have.
type ImageLocality struct {
	handle fw.Handle
}

var _ fw.ScorePlugin = &ImageLocality{}

// New makes the plugin.
func New(_ context.Context, _ runtime.Object, h fw.Handle) (fw.Plugin, error) {
	return &ImageLocality{handle: h}, nil
}

// Name implements fw.Plugin.
func (*ImageLocality) Name() string { return Name }

// Score implements fw.ScorePlugin.
func (pl *ImageLocality) Score(_ context.Context, _ *fw.CycleState, pod *corev1.Pod, ni *fw.NodeInfo) (int64, *fw.Status) {
	if len(ni.ImageStates) == 0 {
		return 0, nil
	}
	total := pl.handle.SnapshotSharedLister().NumNodes()
	n := len(pod.Spec.InitContainers) + len(pod.Spec.Containers)
	return calculatePriority(sumImageScores(ni, pod, total), n), nil
}

// ScoreExtensions implements fw.ScorePlugin.
func (*ImageLocality) ScoreExtensions() fw.ScoreExtensions { return nil }

func calculatePriority(sum int64, containers int) int64 {
	maxThreshold := maxContainerThreshold * int64(containers)
	if sum < minThreshold {
		sum = minThreshold
	} else if sum > maxThreshold {
		sum = maxThreshold
	}
	if maxThreshold == minThreshold {
		return 0
	}
	return fw.MaxNodeScore * (sum - minThreshold) / (maxThreshold - minThreshold)
}

func sumImageScores(ni *fw.NodeInfo, pod *corev1.Pod, total int) int64 {
	var sum int64
	add := func(cs []corev1.Container) {
		for i := range cs {
			if st, ok := ni.ImageStates[normalizedImageName(cs[i].Image)]; ok && total > 0 {
				// Scaled by the share of nodes that have it, computed as upstream
				// does so scores agree to the byte.
				spread := float64(st.NumNodes) / float64(total)
				sum += int64(float64(st.Size) * spread)
			}
		}
	}
	add(pod.Spec.InitContainers)
	add(pod.Spec.Containers)
	return sum
}

// normalizedImageName adds the default tag to an untagged, undigested name, as the
// node reports names with tags.
func normalizedImageName(name string) string {
	if strings.LastIndex(name, ":") <= strings.LastIndex(name, "/") {
		name += ":latest"
	}
	return name
}
