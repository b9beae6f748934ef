package helper

import (
	"reflect"
	"testing"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

func TestDefaultNormalizeScore(t *testing.T) {
	cases := []struct {
		name    string
		in      []int64
		reverse bool
		want    []int64
	}{
		{"the highest score becomes the maximum and the rest scale with it", []int64{1, 2, 4}, false, []int64{25, 50, 100}},
		{"reversed, the highest becomes zero", []int64{1, 2, 4}, true, []int64{75, 50, 0}},
		{"all zero stays zero", []int64{0, 0}, false, []int64{0, 0}},
		{"all zero reversed becomes the maximum", []int64{0, 0}, true, []int64{100, 100}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var l fw.NodeScoreList
			for _, s := range c.in {
				l = append(l, fw.NodeScore{Score: s})
			}
			DefaultNormalizeScore(fw.MaxNodeScore, c.reverse, l)
			var got []int64
			for _, s := range l {
				got = append(got, s.Score)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
