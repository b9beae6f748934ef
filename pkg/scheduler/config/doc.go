// Package config reads a kubescheduler.config.k8s.io/v1 KubeSchedulerConfiguration
// (the published k8s.io/kube-scheduler types), fills in upstream's defaults —
// the default plugin set, merged with each profile's changes — validates it with
// upstream's field paths and messages, and turns it into profile configurations.
package config
