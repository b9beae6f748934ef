package server

import (
	"log/slog"

	"github.com/minik8s/minik8s/pkg/audit"
)

// newAuditor opens the audit log when both a policy and a log path are given,
// as kube-apiserver audits only with both.
func newAuditor(cfg *Config, log *slog.Logger) (*audit.Auditor, func(), error) {
	if cfg.AuditPolicyFile == "" || cfg.AuditLog.Path == "" {
		if cfg.AuditPolicyFile != "" || cfg.AuditLog.Path != "" {
			log.Warn("auditing is off: it needs both --audit-policy-file and --audit-log-path")
		}
		return nil, func() {}, nil
	}
	policy, err := audit.LoadPolicy(cfg.AuditPolicyFile)
	if err != nil {
		return nil, nil, err
	}
	alog := log.With("component", "audit")
	backend, err := audit.NewLogBackend(cfg.AuditLog, func(err error) { alog.Error("audit log", "err", err) })
	if err != nil {
		return nil, nil, err
	}
	return audit.NewAuditor(policy, backend), func() { _ = backend.Close() }, nil
}
