#!/usr/bin/env bash
# Runs the whole test suite: OS dependencies (as root), formatting and vet, unit tests,
# the build, then end-to-end tests that drive bin/minik8s with the real kubectl.
# CI runs exactly this (.ci/run) with CI=true, where a missing prerequisite fails
# instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
step() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" = 0 ]; then
	step "OS dependencies"
	hack/install-deps.sh
fi

step "gofmt and go vet"
unformatted=$(gofmt -l cmd pkg test bench hack 2>/dev/null || true)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

step "build"
hack/build.sh

step "unit tests"
go test -count=1 -timeout 20m ./pkg/... ./test/images/...

step "end-to-end tests"
go test -count=1 -timeout 40m ./test/e2e/...
