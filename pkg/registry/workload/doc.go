// Package workload holds what the resources that run pods from a template (the
// apps and batch groups) share: selector and template validation, rolling-update
// amounts, and the container columns of their tables.
package workload
