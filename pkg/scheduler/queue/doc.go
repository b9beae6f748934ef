// Package queue holds the pods waiting to be scheduled, as upstream's scheduling
// queue does: an active heap ordered by the profile's QueueSort plugin, a back-off
// heap for pods that just failed (1 s doubling up to 10 s by default), and the
// unschedulable pods, parked until a cluster event that one of the plugins that
// rejected them registered may have made them fit. Nothing polls: pods move on
// events, and back-off ends on a timer for the earliest pod.
package queue
