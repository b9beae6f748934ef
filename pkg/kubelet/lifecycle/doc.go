// Package lifecycle decides what a pod needs next and what its status is, from the
// pod's spec and what the container runtime reports. It does no I/O: the clock and
// the runtime's view come in as values, so every rule of upstream's pod lifecycle —
// init containers in order, restart policies, back-off, phases and conditions — is
// tested here exhaustively.
package lifecycle
