#!/bin/bash
# Installs the Debian 12 packages a minik8s node and its tests need. Run as root.
# Idempotent and quick: when every package is already installed it makes no apt call at all,
# so CI can run it on every run.
#
#   containerd, runc               container runtime the agent starts with its own config and socket
#   containernetworking-plugins    bridge, host-local, portmap, loopback (pod network)
#   iptables, nftables, conntrack  service proxy rules; conntrack flushes stale UDP entries
#   iproute2                       ip/ss for the agent's network setup and for debugging
#   socat                          a TCP relay for tests; containerd 1.6 port-forwards from the pod's
#                                  netns in Go (only old CRI runtimes ran socat), so the node needs none
#   busybox-static                 the busybox and nginx-stand-in test images (go run ./test/images)
#   docker-registry                a local registry the e2e tests push to, to exercise image pulls
#   ca-certificates                TLS roots for registries and the Go toolchain
#   binutils                       as/ld, to rebuild the pause ELF (go generate ./pkg/images)
set -euo pipefail

PACKAGES=(
	containerd runc containernetworking-plugins
	iptables nftables conntrack iproute2 socat
	busybox-static docker-registry ca-certificates binutils
)

# Services the packages ship that must not run: the agent runs its own containerd (own config,
# root and socket; a second one would fight over /run/containerd and the CRI plugin), and the
# tests start their own registry on a port they choose (the packaged one would hold :5000).
UNWANTED_SERVICES=(containerd.service docker-registry.service)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: must run as root" >&2
	exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
	if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps.sh: installing ${missing[*]}"
	# A policy-rc.d that denies every start keeps postinst scripts from launching the services
	# during the install (deb-systemd-invoke and invoke-rc.d both obey it). Leave an existing one
	# alone: container images often ship their own.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# written by minik8s hack/install-deps.sh for the duration of an install\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Refresh the lists only when some package has no candidate (fresh image, stale lists).
	for p in "${missing[@]}"; do
		if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
			apt-get update -qq
			break
		fi
	done
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Keep the packaged services off, now and after a reboot. Checked every run (cheap) because an
# upgrade of the package may re-enable them. `systemctl mask` works without a running systemd
# (it only writes a symlink), `stop` only matters where systemd is PID 1.
if command -v systemctl >/dev/null; then
	for s in "${UNWANTED_SERVICES[@]}"; do
		if [ "$(readlink -f "/etc/systemd/system/$s" 2>/dev/null)" != /dev/null ]; then
			if [ -d /run/systemd/system ]; then
				systemctl stop "$s" >/dev/null 2>&1 || true
			fi
			systemctl mask "$s" >/dev/null 2>&1 || true
		fi
	done
fi
# Without systemd, docker-registry's sysvinit script may have started it (where no policy-rc.d
# stopped it) and recorded its pid here; containerd ships no init script.
pidfile=/run/docker-registry.pid
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
	/etc/init.d/docker-registry stop >/dev/null 2>&1 || true
fi

exit 0
