#!/usr/bin/env bash
# Builds minik8s and brings up a one-node cluster on this machine (as root): the OS
# packages it needs, bin/minik8s, then `minik8s server` in the foreground. Extra
# arguments go to `minik8s server`; Ctrl-C stops it and `sudo hack/up.sh` again
# resumes with the same data.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
	hack/install-deps.sh
else
	echo "up.sh: run as root (the node agent needs it): sudo hack/up.sh" >&2
	exit 1
fi
hack/build.sh
exec bin/minik8s server "$@"
