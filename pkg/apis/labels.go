package apis

// LabelSimulatedNode marks a simulated node (package sim): a Node with a lease and
// running pods but no kubelet, whose addresses lead nowhere.
const LabelSimulatedNode = "node.minik8s.io/simulated"
