// Package cni sets up the node's pod network for containerd's CRI plugin: a
// Linux bridge whose gateway address is the node's IP, the network conflist
// (bridge + host-local IPAM on the node's pod CIDR, portmap for hostPort,
// firewall so pod traffic is forwarded even where the FORWARD policy drops),
// and the sysctls forwarding needs. containerd runs the plugins for each
// sandbox; this package only prepares the host and can undo what it did.
package cni
