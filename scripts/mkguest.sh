#!/usr/bin/env bash
# Build the migration test guest: OUTDIR/vmlinuz (host's newest Debian kernel)
# and OUTDIR/initramfs.cpio.gz (static busybox + an /init that dirties memory
# forever, so a live migration needs several dirty-sync iterations).
#
# Guest kernel command line: swack_dirty=N  MiB rewritten per pass (default 32).
# Guest console output: one "swack-tick <n>" line per pass on ttyS0, which is
# how tests see that the guest runs (and keeps running after migration).
#
# swack_mode=echo instead runs `while true; do echo t; done` into the second
# serial port (ttyS1) after one "swack-tick 1" on ttyS0: a host process reading
# ttyS1 of the source and of the destination times the guest's pause from
# outside (tests/fixtures/serial-clock.c). It dirties no memory on purpose:
# any other work on the one vCPU would widen the loop's jitter.
#
# Cached: rebuilds only if this script, busybox or the kernel changed.
set -euo pipefail

die() { echo "mkguest.sh: $*" >&2; exit 1; }

[[ $# -eq 1 && -n $1 ]] || die "usage: scripts/mkguest.sh OUTDIR"
out=$1
busybox=${SWACK_BUSYBOX:-/bin/busybox}

# The guest has no libraries, so busybox must be the static build.
[[ -x $busybox ]] || die "$busybox missing (apt-get install busybox-static)"
file_out=$(LC_ALL=C file -L "$busybox" 2>/dev/null || true)
if [[ -n $file_out && $file_out != *statically* && $file_out != *static-pie* ]]; then
	die "$busybox is not statically linked (apt-get install busybox-static)"
fi
kernel=$(printf '%s\n' /boot/vmlinuz-* | sort -V | tail -n 1)
[[ -n $kernel && -r $kernel ]] || die "no readable /boot/vmlinuz-* (apt-get install linux-image-amd64)"
command -v cpio >/dev/null || die "cpio missing (apt-get install cpio)"

mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)

# Serialise concurrent builders (parallel tests share one cache directory).
exec 9>"$out/.lock"
flock 9

# Everything the image depends on, cheap to compute: our own text (it holds
# /init) plus identity of busybox and the kernel.
stamp=$(
	sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
	stat -L -c '%n %s %Y' "$busybox" "$kernel"
)
if [[ -f $out/initramfs.cpio.gz && -f $out/vmlinuz && -f $out/.stamp ]] &&
	[[ $(<"$out/.stamp") == "$stamp" ]]; then
	exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root}
cp "$busybox" "$stage/bin/busybox"

# /init runs as PID 1: it must never exit (that panics the kernel), so the
# workload loop is endless and failures inside it are only reported.
cat >"$stage/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# tmpfs pages are plain guest RAM: rewriting the file dirties N MiB per pass.
mount -t tmpfs -o size=90% tmpfs /tmp

dirty=32
mode=dirty
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	swack_dirty=*) dirty=${arg#swack_dirty=} ;;
	swack_mode=*) mode=${arg#swack_mode=} ;;
	esac
done
if [ "$mode" = echo ]; then
	echo "swack-guest: echo loop on ttyS1" >/dev/ttyS0
	echo "swack-tick 1" >/dev/ttyS0
	# Raw output: no \n to \r\n translation, two bytes a line.
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	while true; do echo t; done >/dev/ttyS1
fi
case "$dirty" in
'' | *[!0-9]*) echo "swack-guest: bad swack_dirty='$dirty', using 32" >/dev/ttyS0; dirty=32 ;;
esac
echo "swack-guest: dirtying $dirty MiB per pass" >/dev/ttyS0

n=0
while :; do
	# conv=notrunc rewrites the same pages in place (no free/realloc churn).
	dd if=/dev/zero of=/tmp/dirty bs=1M count="$dirty" conv=notrunc 2>/dev/null ||
		echo "swack-guest: dd failed" >/dev/ttyS0
	n=$((n + 1))
	echo "swack-tick $n" >/dev/ttyS0
done
INIT
chmod 755 "$stage/init"

# Write to temporaries and rename, so a reader never sees half a file.
(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -6 >"$out/.initramfs.tmp" ||
	die "creating initramfs failed"
cp "$kernel" "$out/.vmlinuz.tmp" || die "copying $kernel failed"
mv -f "$out/.initramfs.tmp" "$out/initramfs.cpio.gz"
mv -f "$out/.vmlinuz.tmp" "$out/vmlinuz"
printf '%s\n' "$stamp" >"$out/.stamp"
