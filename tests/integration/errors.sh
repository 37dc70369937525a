#!/usr/bin/env bash
# Bad input: each case gives one clear line on stderr and a non-zero exit.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"

pids=()
work=$(mktemp -d)
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

run_err "not root" "^swack trace: missing capability CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE: run swack as root" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$SWACK" trace -d 1
run_err "one capability missing" "^swack trace: missing capability CAP_SYS_PTRACE:" \
	setpriv --inh-caps=-sys_ptrace --bounding-set=-sys_ptrace "$SWACK" trace -d 1

nopid=4000000
while kill -0 "$nopid" 2>/dev/null; do nopid=$((nopid + 1)); done
run_err "no such pid" "^swack trace: no process with pid $nopid$" "$SWACK" trace -p "$nopid" -d 1

sleep 60 & pids+=($!)
run_err "not QEMU" "^swack trace: pid $! \(sleep\) is not a QEMU system emulator" \
	"$SWACK" trace -p $! -d 1

# -p takes a VM's name too: a word no QEMU here answers to.
run_err "-p with neither a pid nor a VM's name" \
	"^swack trace: no QEMU process is VM 'abc' \(by -name, -uuid, libvirt or KubeVirt\): give a running VM's name or UUID, or a pid$" \
	"$SWACK" trace -p abc
run_err "gate hold -p with neither a pid nor a VM's name" \
	"^swack gate hold: no QEMU process is VM 'abc' \(by -name, -uuid, libvirt or KubeVirt\): give a running VM's name or UUID, or a pid$" \
	"$SWACK" gate hold -p abc

# Without tracefs (private mount namespace): raw tracepoints and uprobe links
# need none, so swack attaches and mounts nothing.
mkfifo "$work/sim.go"
exec 7<>"$work/sim.go"
"$SWACK_ROOT/build/fixtures/qemu-system-sim102" -q -w "$SWACK_ROOT/tests/fixtures/scenarios/precopy-basic.src" <&7 >/dev/null &
pids+=($!)
out=$(unshare -m sh -c 'umount -l /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug 2>/dev/null;
	"$0" trace -p "$1" -d 0.5 2>&1 | grep "^swack:"; grep -c " tracefs " /proc/mounts' "$SWACK" $!)
expect_match "tracefs unmounted: attached all the same" "^swack: pid $! .*: [0-9]+ probes attached; missing: vm_stop_force_state; watched in" "$out"
expect_match "tracefs unmounted: still not mounted afterwards" "0$" "$out"
exec 7>&-

# A kernel without BTF, shown by hiding /sys/kernel/btf in a mount namespace.
run_err "kernel without BTF" "^swack trace: kernel without BTF \(/sys/kernel/btf/vmlinux: No such file or directory\)" \
	unshare -m sh -c 'mount -t tmpfs none /sys/kernel/btf && exec "$0" trace -d 1' "$SWACK"
