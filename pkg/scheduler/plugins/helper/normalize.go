// Package helper has small functions several plugins share.
package helper

import (
	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// DefaultNormalizeScore scales scores so the highest becomes maxPriority; with
// reverse, the highest becomes 0 and the lowest maxPriority. All zero stays zero
// (or all maxPriority when reversed), as upstream's.
func DefaultNormalizeScore(maxPriority int64, reverse bool, scores fw.NodeScoreList) {
	var highest int64
	for _, s := range scores {
		if s.Score > highest {
			highest = s.Score
		}
	}
	if highest == 0 {
		if reverse {
			for i := range scores {
				scores[i].Score = maxPriority
			}
		}
		return
	}
	for i := range scores {
		s := scores[i].Score * maxPriority / highest
		if reverse {
			s = maxPriority - s
		}
		scores[i].Score = s
	}
}
