#!/usr/bin/env bash
# Readers on crafted recordings (tests/fixtures/mkrec): time and peak memory
# of every reader, so that what the model holds is seen to follow the
# migrations in progress, not a recording's length.
#   20,000 one-event migrations (the issue's target: under 1 s, under 50 MB);
#   N finished background snapshots and N finished postcopy migrations with
#   100 faults and stalls each, at N = 200 and N = 2,000: the peak must not
#   grow tenfold with N.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$PWD/build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

one_event() {
	echo "header host=h kernel=k boot_id=b mono=1 real=1"
	echo "many 20000 1000 1000000000 10000 mig_state str=active"
	echo "end done"
}

# finished N: N snapshots (sources) and N postcopy destinations paired with a
# source of their own, one after another, 100 faults and stalls each.
finished() {
	awk -v n="$1" 'function ev(ts, pid, rest) { printf "event %.0f %d %s\n", ts, pid, rest }
	BEGIN {
		print "header host=h kernel=k boot_id=b mono=1 real=1"; ts = 1e9
		for (m = 0; m < n; m++) {
			pid = 100000 + m
			ev(ts, pid, "mig_state role=1 str=setup"); ts += 1000
			ev(ts, pid, "write_tracking_start role=1"); ts += 1000
			for (i = 0; i < 100; i++) {
				a = 4096 * (i + m * 1000)
				ev(ts, pid, sprintf("uffd_fault role=1 a0=%.0f a1=4 a2=%d", a, pid)); ts += 1000
				ev(ts, pid, sprintf("uffd_stall role=1 a0=50000 a1=%d a3=%.0f a4=4096 str=CPU", pid, a)); ts += 1000
			}
			ev(ts, pid, "write_tracking_stop role=1"); ts += 1000
			ev(ts, pid, "mig_state role=1 str=completed"); ts += 1e8
			src = 200000 + 2 * m; dst = src + 1
			ev(ts, src, "mig_state role=1 str=active"); ts += 1000
			ev(ts, dst, "load_begin role=2"); ts += 1000
			ev(ts, src, "mig_state role=1 str=postcopy-active"); ts += 1000
			ev(ts, dst, "mig_state role=2 str=postcopy-active"); ts += 1000
			for (i = 0; i < 100; i++) {
				a = 4096 * (i + m * 1000)
				ev(ts, dst, sprintf("postcopy_fault role=2 a0=%.0f a1=%d a2=%d str=pc.ram", a, 4096 * i, dst)); ts += 1000
				ev(ts, dst, sprintf("uffd_stall role=2 a0=50000 a1=%d a3=%.0f a4=4096 str=CPU", dst, a)); ts += 1000
			}
			ev(ts, src, "mig_state role=1 str=completed"); ts += 1000
			ev(ts, dst, "mig_state role=2 str=completed"); ts += 1000
			ev(ts, dst, "vm_resumed role=2"); ts += 1e8
		}
		print "end done"
	}'
}

# measure FILE LABEL: each reader's wall time and peak resident memory.
measure() {
	local c
	for c in report diagnose "export -F chrome -o $work/x.json" "export -F jsonl" "stat -i" script; do
		# shellcheck disable=SC2086
		/usr/bin/time -f "%e %M" -o "$work/t" "$B/swack" $c "$1" >/dev/null 2>&1 || true
		read -r s kb <"$work/t"
		awk -v l="$2" -v c="${c%% -o*}" -v s="$s" -v kb="$kb" \
			'BEGIN { printf "  %-36s %-16s %6.2f s %7.1f MB\n", l, c, s, kb / 1024 }'
	done
}

echo "readers on crafted recordings (wall time, peak RSS)"
one_event | "$B/fixtures/mkrec" "$work/one.data"
measure "$work/one.data" "20,000 one-event migrations ($(($(stat -c %s "$work/one.data") / 1024)) KiB)"
for n in 200 2000; do
	finished "$n" | "$B/fixtures/mkrec" "$work/f$n.data"
	measure "$work/f$n.data" "$n snapshots + $n postcopy pairs"
done
