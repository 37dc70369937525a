#!/usr/bin/env bash
# Install swack's build and test dependencies (Debian 12).
# Idempotent: asks dpkg what is missing and only then touches apt, so it is
# cheap to call from Makefile targets and CI on every run.
#
# Three sources:
#   - Debian 12 itself (PKGS);
#   - bookworm-backports, added to apt's sources when missing: libbpf 1.4 and
#     bpftool 7.5 (BPO_PKGS, at least the versions in BPO_MIN);
#   - Debian's QEMU 10.0 from bookworm-backports, unpacked (not installed) into
#     $SWACK_QEMU10_DIR beside the system's QEMU 7.2, so both run in the tests.
set -euo pipefail

PKGS=(
	build-essential clang llvm libelf-dev libdw-dev
	libcap-dev zlib1g-dev pkg-config libcmocka-dev systemtap-sdt-dev
	qemu-system-x86 socat busybox-static cpio linux-image-amd64 jq
	iproute2 procps tmux xz-utils binutils libfuse3-dev fuse3 babeltrace2 libncurses-dev libmicrohttpd-dev prometheus libclang-rt-14-dev curl chromium
	lintian dpkg-dev man-db
	strace time python3 util-linux-extra   # record.sh's fsync count; make bench: /usr/bin/time, fincore; the Python helpers
)
BPO_PKGS=(libbpf-dev bpftool)
declare -A BPO_MIN=([libbpf-dev]=1:1.4 [bpftool]=7.5)
BPO_SOURCE=/etc/apt/sources.list.d/bookworm-backports.sources
QEMU10_VERSION=1:10.0.2+ds-2+deb13u1~bpo12+1
QEMU10_DEBS=(qemu-system-x86 qemu-system-common qemu-system-data)
: "${SWACK_QEMU10_DIR:=/var/tmp/swack-qemu-10.0}"

die() { echo "deps.sh: $*" >&2; exit 1; }

[[ $# -eq 0 ]] || die "takes no arguments (usage: scripts/deps.sh)"
command -v dpkg-query >/dev/null || die "dpkg-query not found: only Debian-like systems are supported"

export DEBIAN_FRONTEND=noninteractive
# Wait for a concurrent apt/dpkg instead of failing on the lock at once.
apt_opts=(-q -o DPkg::Lock::Timeout=300)
log=$(mktemp)
tmp=
trap 'rm -rf "$log" ${tmp:+"$tmp"}' EXIT

need_root() { [[ $(id -u) -eq 0 ]] || die "need root to install: $*"; }

apt_run() {
	apt-get "${apt_opts[@]}" "$@" >"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; die "apt-get $* failed"; }
}

updated=
apt_update() {
	[[ -n $updated ]] && return 0
	apt_run update
	updated=1
}

# One dpkg-query for all packages; unknown packages print nothing on stdout
# (and a complaint on stderr, which we drop), so they count as missing.
installed_versions() {
	dpkg-query -W -f='${Package} ${db:Status-Status} ${Version}\n' "$@" 2>/dev/null |
		awk '$2 == "installed" { print $1, $3 }' || true
}

base_missing() {
	local have p
	have=$(installed_versions "${PKGS[@]}")
	for p in "${PKGS[@]}"; do
		grep -q "^$p " <<<"$have" || echo "$p"
	done
}

bpo_missing() {
	local have p v
	have=$(installed_versions "${BPO_PKGS[@]}")
	for p in "${BPO_PKGS[@]}"; do
		v=$(awk -v p="$p" '$1 == p { print $2 }' <<<"$have")
		[[ -n $v ]] && dpkg --compare-versions "$v" ge "${BPO_MIN[$p]}" || echo "$p"
	done
}

add_backports() {
	[[ -f $BPO_SOURCE ]] || grep -rqs 'bookworm-backports' /etc/apt/sources.list \
		/etc/apt/sources.list.d/ && return 0
	echo "deps.sh: adding bookworm-backports to apt's sources ($BPO_SOURCE)"
	cat >"$BPO_SOURCE" <<-EOF
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: bookworm-backports
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	updated=
}

install_packages() {
	local missing bpo
	mapfile -t missing < <(base_missing)
	mapfile -t bpo < <(bpo_missing)
	[[ ${#missing[@]} -eq 0 && ${#bpo[@]} -eq 0 ]] && return 0
	need_root "${missing[*]} ${bpo[*]}"
	add_backports
	apt_update
	if [[ ${#missing[@]} -gt 0 ]]; then
		echo "deps.sh: installing ${missing[*]}"
		apt_run install -y "${missing[@]}"
	fi
	if [[ ${#bpo[@]} -gt 0 ]]; then
		echo "deps.sh: installing ${bpo[*]} from bookworm-backports"
		apt_run install -y -t bookworm-backports "${bpo[@]}"
	fi
}

# QEMU 10.0 runs from its own folder: -L points it at its ROMs and SeaBIOS.
install_qemu10() {
	local bin=$SWACK_QEMU10_DIR/usr/bin/qemu-system-x86_64 d
	[[ -x $bin && $(cat "$SWACK_QEMU10_DIR/.version" 2>/dev/null) == "$QEMU10_VERSION" ]] &&
		return 0
	need_root "Debian's QEMU $QEMU10_VERSION"
	add_backports
	apt_update
	echo "deps.sh: unpacking Debian's QEMU $QEMU10_VERSION into $SWACK_QEMU10_DIR"
	tmp=$(mktemp -d)
	chmod 755 "$tmp" # apt's download runs as _apt
	(cd "$tmp" && apt-get "${apt_opts[@]}" download \
		"${QEMU10_DEBS[@]/%/=$QEMU10_VERSION}") >"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; die "apt-get download of QEMU $QEMU10_VERSION failed"; }
	rm -rf "$SWACK_QEMU10_DIR"
	mkdir -p "$SWACK_QEMU10_DIR"
	for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$SWACK_QEMU10_DIR"; done
	"$bin" --version >"$log" 2>&1 || { cat "$log" >&2; die "QEMU 10.0 in $SWACK_QEMU10_DIR does not run"; }
	echo "$QEMU10_VERSION" >"$SWACK_QEMU10_DIR/.version"
}

install_packages
install_qemu10
