// Package noderesources holds the NodeResourcesFit plugin (does the pod's request
// fit in what the node has left; score by LeastAllocated, MostAllocated or
// RequestedToCapacityRatio) and NodeResourcesBalancedAllocation (prefer nodes whose
// resources stay evenly used).
package noderesources
