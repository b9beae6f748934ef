package volumebinding

import (
	corev1 "k8s.io/api/core/v1"
)

// eligibleNodes narrows a pod with bound volumes pinned to hosts (local and
// hostPath volumes whose node affinity names kubernetes.io/hostname values) to
// those hosts, taking the hostname label to be the node name as upstream does.
// nil means no narrowing. A term without a hostname requirement admits any node,
// so such a volume narrows nothing.
func eligibleNodes(bound []boundClaim) map[string]struct{} {
	var out map[string]struct{}
	for _, bc := range bound {
		if bc.pv == nil {
			// Filter reports the missing volume on every node.
			return nil
		}
		hosts := pinnedHosts(bc.pv.pv)
		if hosts == nil {
			continue
		}
		if out == nil {
			out = hosts
			continue
		}
		for h := range out {
			if _, ok := hosts[h]; !ok {
				delete(out, h)
			}
		}
	}
	return out
}

// pinnedHosts are the hostnames a volume's required node affinity allows, or nil
// when it allows hosts not named.
func pinnedHosts(pv *corev1.PersistentVolume) map[string]struct{} {
	na := pv.Spec.NodeAffinity
	if na == nil || na.Required == nil || len(na.Required.NodeSelectorTerms) == 0 {
		return nil
	}
	out := map[string]struct{}{}
	for _, term := range na.Required.NodeSelectorTerms {
		var hosts map[string]struct{}
		for _, e := range term.MatchExpressions {
			if e.Key != corev1.LabelHostname || e.Operator != corev1.NodeSelectorOpIn {
				continue
			}
			vals := map[string]struct{}{}
			for _, v := range e.Values {
				if _, ok := hosts[v]; hosts == nil || ok {
					vals[v] = struct{}{}
				}
			}
			hosts = vals
		}
		if hosts == nil {
			return nil
		}
		for h := range hosts {
			out[h] = struct{}{}
		}
	}
	return out
}
