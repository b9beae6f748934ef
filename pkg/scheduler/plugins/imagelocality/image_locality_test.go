package imagelocality

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/scheduler/cache"
	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

type testHandle struct {
	fw.Handle
	snapshot fw.NodeInfoLister
}

func (h *testHandle) SnapshotSharedLister() fw.NodeInfoLister { return h.snapshot }

func imageNode(name string, images ...corev1.ContainerImage) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Images: images}}
}

func image(size int64, names ...string) corev1.ContainerImage {
	return corev1.ContainerImage{Names: names, SizeBytes: size}
}

func podWith(init []string, images ...string) *corev1.Pod {
	p := &corev1.Pod{}
	for _, i := range init {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Image: i})
	}
	for _, i := range images {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Image: i})
	}
	return p
}

// Upstream's test nodes: one with the 40, 300 and 2000 MB images, one with the
// 250 and 10 MB images.
var (
	node403002000 = []corev1.ContainerImage{
		image(40*mb, "gcr.io/40:latest", "gcr.io/40:v1"),
		image(300*mb, "gcr.io/300:latest", "gcr.io/300:v1"),
		image(2000*mb, "gcr.io/2000:latest"),
	}
	node25010 = []corev1.ContainerImage{
		image(250*mb, "gcr.io/250:latest"),
		image(10*mb, "gcr.io/10:latest", "gcr.io/10:v1"),
	}
	node60040 = []corev1.ContainerImage{
		image(600*mb, "gcr.io/600:latest"),
		image(40*mb, "gcr.io/40:latest", "gcr.io/40:v1"),
	}
	nodeWithDigest = []corev1.ContainerImage{
		image(300*mb, "gcr.io/300@sha256:00112233", "gcr.io/300:v1"),
	}
)

func TestImageLocalityScores(t *testing.T) {
	cases := []struct {
		name  string
		pod   *corev1.Pod
		nodes []*corev1.Node
		want  []int64
	}{
		// n1: 40MB*1/2 = 20MB, under 23MB: 0. n2: 250MB*1/2 = 125MB over a 2 × 1000MB
		// maximum: 100*(125-23)/(2000-23) = 5.
		{"two images spread on two nodes, prefer the larger image one", podWith(nil, "gcr.io/40", "gcr.io/250"),
			[]*corev1.Node{imageNode("n1", node403002000...), imageNode("n2", node25010...)}, []int64{0, 5}},
		// n1: (40+300)/2 = 170MB: 100*(170-23)/(2000-23) = 7.
		{"two images on one node, prefer this node", podWith(nil, "gcr.io/40", "gcr.io/300"),
			[]*corev1.Node{imageNode("n1", node403002000...), imageNode("n2", node25010...)}, []int64{7, 0}},
		// n1: 2000/2 = 1000MB: 100*(1000-23)/(2000-23) = 49. n2: 10/2 = 5MB: 0.
		{"a large image counts up to the maximum", podWith(nil, "gcr.io/10", "gcr.io/2000"),
			[]*corev1.Node{imageNode("n1", node403002000...), imageNode("n2", node25010...)}, []int64{49, 0}},
		// The image's spread is over three nodes now: 2000/3 = 666MB: 32.
		{"a node without images scores zero and dilutes the spread", podWith(nil, "gcr.io/10", "gcr.io/2000"),
			[]*corev1.Node{imageNode("n1", node403002000...), imageNode("n2", node25010...), imageNode("n3")}, []int64{32, 0, 0}},
		// 40MB on two of three nodes: 26MB, and 300MB on one: 100MB, over a 3 × 1000MB
		// maximum: n1 100*(126-23)/(3000-23) = 3.
		{"init containers' images count too", podWith([]string{"gcr.io/300"}, "gcr.io/40", "gcr.io/600"),
			[]*corev1.Node{imageNode("n1", node403002000...), imageNode("n2", node25010...), imageNode("n3", node60040...)}, []int64{3, 0, 6}},
		// gcr.io/300:v1 is on both nodes: 300MB, over 2 × 1000MB: 100*(300-23)/1977 = 14.
		{"an image named with a tag matches that tag on every node", podWith(nil, "gcr.io/300:v1", "gcr.io/none"),
			[]*corev1.Node{imageNode("n1", node403002000...), imageNode("n2", nodeWithDigest...)}, []int64{14, 14}},
		// Only n2 has the digest: 300/2 = 150MB: 100*(150-23)/(1000-23) = 12.
		{"an image named by digest matches the digest only", podWith(nil, "gcr.io/300@sha256:00112233"),
			[]*corev1.Node{imageNode("n1", node403002000...), imageNode("n2", nodeWithDigest...)}, []int64{0, 12}},
		{"an untagged image is the latest tag", podWith(nil, "gcr.io/2000"),
			[]*corev1.Node{imageNode("n1", node403002000...)}, []int64{100}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := cache.New()
			for _, n := range c.nodes {
				cc.AddNode(n)
			}
			snap := cache.NewEmptySnapshot()
			cc.UpdateSnapshot(snap)
			p, _ := New(context.Background(), nil, &testHandle{snapshot: snap})
			pl := p.(*ImageLocality)
			var got []int64
			for _, n := range c.nodes {
				ni, err := snap.Get(n.Name)
				if err != nil {
					t.Fatal(err)
				}
				s, st := pl.Score(context.Background(), fw.NewCycleState(), c.pod, ni)
				if !st.IsSuccess() {
					t.Fatal(st)
				}
				got = append(got, s)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
}

func TestThresholds(t *testing.T) {
	cases := []struct {
		name       string
		sum        int64
		containers int
		want       int64
	}{
		{"below the minimum scores zero", 10 * mb, 1, 0},
		{"at the minimum scores zero", 23 * mb, 1, 0},
		{"at the per-container maximum scores the maximum", 1000 * mb, 1, 100},
		{"above the maximum is capped", 5000 * mb, 2, 100},
		{"the maximum grows with the containers", 1000 * mb, 2, 49},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := calculatePriority(c.sum, c.containers); got != c.want {
				t.Fatalf("got %d, want %d", got, c.want)
			}
		})
	}
}
