package workload

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/minik8s/minik8s/pkg/registry"
)

// The wide columns every workload table ends with.
var (
	ContainersColumn = registry.Col("Containers", "string", "Names of each container in the template.", 1)
	ImagesColumn     = registry.Col("Images", "string", "Images referenced by each container in the template.", 1)
)

// ContainerCells returns the Containers and Images cells of a template's containers.
func ContainerCells(containers []corev1.Container) (names, images string) {
	n := make([]string, len(containers))
	im := make([]string, len(containers))
	for i, c := range containers {
		n[i], im[i] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(im, ",")
}
