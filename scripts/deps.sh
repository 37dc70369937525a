#!/usr/bin/env bash
# Install swack's build and test dependencies (Debian/Ubuntu).
# Idempotent: asks dpkg what is missing and only then touches apt, so it is
# cheap to call from Makefile targets and CI on every run.
set -euo pipefail

PKGS=(
	build-essential clang llvm libbpf-dev bpftool libelf-dev libdw-dev
	libcap-dev zlib1g-dev pkg-config libcmocka-dev systemtap-sdt-dev
	qemu-system-x86 socat busybox-static cpio linux-image-amd64 jq
	iproute2 procps tmux xz-utils binutils libfuse3-dev fuse3 babeltrace2 libncurses-dev prometheus libclang-rt-14-dev curl chromium
)

die() { echo "deps.sh: $*" >&2; exit 1; }

[[ $# -eq 0 ]] || die "takes no arguments (usage: scripts/deps.sh)"
command -v dpkg-query >/dev/null || die "dpkg-query not found: only Debian-like systems are supported"

# One dpkg-query for all packages; unknown packages print nothing on stdout
# (and a complaint on stderr, which we drop), so they count as missing.
missing=()
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PKGS[@]}" 2>/dev/null |
	awk '$2 == "installed" { print $1 }') || true
for p in "${PKGS[@]}"; do
	grep -qxF "$p" <<<"$installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps.sh: installing ${missing[*]}"
[[ $(id -u) -eq 0 ]] || die "need root to install: ${missing[*]}"

export DEBIAN_FRONTEND=noninteractive
# Wait for a concurrent apt/dpkg instead of failing on the lock at once.
apt_opts=(-q -o DPkg::Lock::Timeout=300)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
apt-get "${apt_opts[@]}" update >"$log" 2>&1 ||
	{ tail -n 20 "$log" >&2; die "apt-get update failed"; }
apt-get "${apt_opts[@]}" install -y "${missing[@]}" >"$log" 2>&1 ||
	{ tail -n 20 "$log" >&2; die "apt-get install failed for: ${missing[*]}"; }
