#!/usr/bin/env bash
# make bench, attach and detach: `swack trace -p PID` on one process of each
# binary (the stand-in padded to 4,042 USDT notes, Debian's QEMU 7.2 and 10.0),
# ROUNDS times warm and ROUNDS times cold.  Cold: the binary's pages that no
# process maps are dropped from the page cache first (posix_fadvise DONTNEED,
# through dd iflag=nocache count=0; drop_caches would slow every other user
# of the machine, and it cannot drop mapped pages either).
#   attach: swack's own figure ("watched in X ms": ELF notes, symbols, links);
#   detach: from SIGINT until swack has exited and every process of its
#           session is gone (a child left to remove probes counts).
#   behind: an attach started while another swack detaches from the same binary.
# SWACK_BIN selects the swack to measure (default build/swack); SWACK_ATTACH_MODES
# the attach paths ("multi fallback": the per-probe fallback is forced with
# SWACK_UPROBE_MULTI=0).
set -euo pipefail
cd "$(dirname "$0")/../.."
B=build
SW=${SWACK_BIN:-$B/swack}
ROUNDS=${BENCH_ATTACH_ROUNDS:-5}
MODES=${SWACK_ATTACH_MODES:-multi fallback}
QEMU10=${SWACK_QEMU10_DIR:-/var/tmp/swack-qemu-10.0}
. tests/bench/lib.sh
bench_setup attach.sh
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# start NAME CMD...: a process of the binary, left waiting; sets PID.
start() {
	local name=$1
	shift
	mkfifo "$BENCH_TMP/$name.in"
	"$@" <>"$BENCH_TMP/$name.in" >/dev/null 2>&1 &
	PID=$!
	BENCH_PIDS+=("$PID")
	sleep 0.5
	kill -0 "$PID" || { echo "bench: $name did not start" >&2; exit 1; }
}

# attach_once PID ENV: one swack trace in its own session; prints "ATTACH DETACH".
attach_once() {
	local pid=$1 err=$BENCH_TMP/err sw t0 t1 line
	shift
	: >"$err"
	env "$@" setsid "$SW" trace -p "$pid" >/dev/null 2>"$err" &
	sw=$!
	for _ in $(seq 600); do grep -q 'watched in' "$err" && break; sleep 0.02; done
	line=$(grep -o 'watched in [0-9.]* ms' "$err" || echo "watched in n/a ms")
	sleep 0.2
	t0=$(now_ms)
	kill -INT "$sw"
	wait "$sw" || true
	while pgrep -s "$sw" >/dev/null; do sleep 0.005; done
	t1=$(now_ms)
	echo "$(awk '{ print $3 }' <<<"$line") $((t1 - t0))"
}

# behind_once PID ENV: a first swack detaches while a second attaches; prints
# the second's attach figure.
behind_once() {
	local pid=$1 e1=$BENCH_TMP/e1 e2=$BENCH_TMP/e2 s1 s2
	shift
	: >"$e1"
	: >"$e2"
	env "$@" setsid "$SW" trace -p "$pid" >/dev/null 2>"$e1" &
	s1=$!
	for _ in $(seq 600); do grep -q 'watched in' "$e1" && break; sleep 0.02; done
	kill -INT "$s1"
	env "$@" setsid "$SW" trace -p "$pid" -d 0.2 >/dev/null 2>"$e2" &
	s2=$!
	wait "$s1" "$s2" || true
	while pgrep -s "$s1" >/dev/null || pgrep -s "$s2" >/dev/null; do sleep 0.005; done
	grep -o 'watched in [0-9.]* ms' "$e2" | awk '{ print $3 }'
}

# measure LABEL BINARY PID ENV...
measure() {
	local label=$1 bin=$2 pid=$3 cold a=() d=() ca=() cd=() bh=() r x y
	shift 3
	attach_once "$pid" "$@" >/dev/null   # warms the page cache and the kernel
	for ((r = 0; r < ROUNDS; r++)); do
		read -r x y < <(attach_once "$pid" "$@")
		a+=("$x") d+=("$y")
		dd if="$bin" iflag=nocache count=0 status=none
		cold=$(fincore -nb -o RES "$bin")
		read -r x y < <(attach_once "$pid" "$@")
		ca+=("$x") cd+=("$y")
		bh+=("$(behind_once "$pid" "$@")")
	done
	local aw ac dt be
	aw=$(printf '%s\n' "${a[@]}" | median) ac=$(printf '%s\n' "${ca[@]}" | median)
	dt=$(printf '%s\n' "${d[@]}" "${cd[@]}" | median) be=$(printf '%s\n' "${bh[@]}" | median)
	printf '  %-34s attach warm %6s ms, cold %6s ms (%s of %s bytes left cached); detach %6s ms; attach behind a detach %6s ms\n' \
		"$label" "$aw" "$ac" "$cold" "$(stat -c %s "$bin")" "$dt" "$be"
	# The goals are the multi-uprobe path's; the forced fallback is stated beside them.
	if [[ $MODE == multi ]]; then
		row "attach: $label, warm / cold (worse)" ms "$aw / $ac" "" "" "< 100" \
			"$(met "$(printf '%s\n' "$aw" "$ac" | sort -g | tail -1)" "<" 100)"
		row "detach: $label (every link and child gone)" ms "$dt" "" "" "< 200" "$(met "$dt" "<" 200)"
	else
		row "attach, per-probe fallback: $label, warm / cold; detach" ms "$aw / $ac; $dt" "" "" "" "-"
	fi
}

pad=$B/fixtures/qemu-system-sim102pad
q72=/usr/bin/qemu-system-x86_64
q10=$QEMU10/usr/bin/qemu-system-x86_64
start pad "$pad" -q -w tests/fixtures/scenarios/precopy-basic.src
pad_pid=$PID
start q72 "$q72" -machine none -display none -nodefaults -S
q72_pid=$PID
start q10 "$q10" -L /usr/share/seabios -L "$QEMU10/usr/share/qemu" -machine none -display none \
	-nodefaults -S
q10_pid=$PID

echo "attach and detach: swack trace -p PID, median of $ROUNDS rounds each (figures in ms)"
for mode in $MODES; do
	MODE=$mode envs=()
	[[ $mode == fallback ]] && envs=(SWACK_UPROBE_MULTI=0)
	echo " $mode$([[ $mode == fallback ]] && echo ' (one uprobe link per probe, forced)' || echo ' (one multi-uprobe link per program)'):"
	measure "stand-in, $(readelf -n "$pad" | grep -c 'NT_STAPSDT') USDT notes" "$pad" "$pad_pid" "${envs[@]}"
	measure "Debian QEMU $("$q72" --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')" "$q72" "$q72_pid" "${envs[@]}"
	measure "Debian QEMU $("$q10" --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')" "$q10" "$q10_pid" "${envs[@]}"
done
