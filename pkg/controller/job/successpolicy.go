package job

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
)

// matchSuccessPolicy reports the first rule of an indexed job's successPolicy
// that the succeeded indexes meet, as upstream's message names it. A rule
// with succeededIndexes is met when all of them succeeded, or succeededCount
// of them; a rule with succeededCount alone when that many indexes did.
func matchSuccessPolicy(policy *batchv1.SuccessPolicy, completions int32, succeeded indexSet) (string, bool) {
	if policy == nil || len(succeeded) == 0 {
		return "", false
	}
	for i, rule := range policy.Rules {
		met := false
		switch {
		case rule.SucceededIndexes != nil:
			want := parseIndexes(*rule.SucceededIndexes, int(completions))
			if len(want) == 0 {
				continue
			}
			got := want.overlap(succeeded)
			met = got == want.total() || (rule.SucceededCount != nil && got >= int(*rule.SucceededCount))
		case rule.SucceededCount != nil:
			met = succeeded.total() >= int(*rule.SucceededCount)
		}
		if met {
			return fmt.Sprintf("Matched rules at index %d", i), true
		}
	}
	return "", false
}
