// Package containerd runs the node's container runtime: it renders a containerd
// configuration of its own (root, state and socket under the agent's data dir,
// the CRI plugin set up for this host), starts containerd as a child process,
// reports it ready once a real CRI call answers, and restarts it with back-off
// when it dies.
//
// Stopping the supervisor stops containerd but not the containers: each runs
// under its own shim, so pods survive an agent restart and the next containerd
// finds them again.
package containerd
