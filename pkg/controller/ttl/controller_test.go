package ttl

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func TestNextStep(t *testing.T) {
	cases := []struct {
		name          string
		current, n    int
		want, seconds int
	}{
		{"a small cluster caches nothing", 0, 3, 0, 0},
		{"101 nodes move to 15s", 0, 101, 1, 15},
		{"95 nodes stay at 15s once there", 1, 95, 1, 15},
		{"89 nodes go back to 0", 1, 89, 0, 0},
		{"a jump to 5000 nodes goes straight to 300s", 0, 5000, 4, 300},
		{"an emptied cluster goes straight back to 0", 4, 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := NextStep(c.current, c.n)
			if got != c.want || steps[got].seconds != c.seconds {
				t.Errorf("NextStep(%d, %d) = %d (%ds)", c.current, c.n, got, steps[got].seconds)
			}
		})
	}
}

func TestANodeGetsTheAnnotation(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	client := fake.NewClientset(node)
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Nodes: factory.Core().V1().Nodes(), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = factory.Core().V1().Nodes().Informer().GetIndexer().Add(node)
	c.counted(node, 1)
	if err := c.Sync(context.Background(), "n1"); err != nil {
		t.Fatal(err)
	}
	got, _ := client.CoreV1().Nodes().Get(context.Background(), "n1", metav1.GetOptions{})
	if got.Annotations[Annotation] != "0" {
		t.Errorf("annotations = %v", got.Annotations)
	}
}
