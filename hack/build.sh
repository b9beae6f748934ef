#!/usr/bin/env bash
# Builds bin/minik8s: static, with the Kubernetes version of the k8s.io/api in go.mod
# stamped where /version and the embedded kubectl read it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin CGO_ENABLED=0
api=$(go list -m -f '{{.Version}}' k8s.io/api)          # v0.37.2
kube="v1.${api#v0.}"                                       # v1.37.2
minor=$(echo "$kube" | cut -d. -f2)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
state=clean; [ -n "$(git status --porcelain 2>/dev/null)" ] && state=dirty
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld="$ld -X $p.gitVersion=$kube -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitCommit=$commit -X $p.gitTreeState=$state -X $p.buildDate=$date"
done
ld="$ld -X github.com/minik8s/minik8s/pkg/version.gitVersion=$kube+minik8s -X github.com/minik8s/minik8s/pkg/version.gitCommit=$commit"
ld="$ld -X github.com/minik8s/minik8s/pkg/version.gitTreeState=$state -X github.com/minik8s/minik8s/pkg/version.buildDate=$date"
mkdir -p bin
go build -ldflags "$ld" -o bin/minik8s ./cmd/minik8s
echo "built bin/minik8s ($kube+minik8s)"
