#!/usr/bin/env bash
# Without -p, swack watches every QEMU, including ones started after it: on
# each real QEMU.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/qemu.sh"

one_version() {
	local q="QEMU $1" gen err sum
	qemu_use "$1" || { fail "$q" "not installed (run scripts/deps.sh)"; return; }
	gen="QEMU <=7.2"
	[[ $1 != 7.2 ]] && gen="QEMU 8.0-11.0"
	qemu_setup_dir || exit 1
	# Not --until-done: other QEMUs on the host may migrate and end first.
	"$SWACK" trace --json --duration 300 >"$QDIR/trace.json" 2>"$QDIR/trace.err" &
	trace=$!
	# Attached once its kernel programs are in: the first lines say so.
	for _ in $(seq 100); do grep -q 'QEMU\|no QEMU process' "$QDIR/trace.err" && break; sleep 0.1; done

	port=$(qemu_free_port) || exit 1
	src=$(qemu_start_src src 16) || exit 1
	dst=$(qemu_start_dst dst "$port" 16) || exit 1
	qemu_wait_booted src 120 >/dev/null || exit 1
	# Other QEMUs on the host are watched too: wait for these two by pid.
	for _ in $(seq 600); do
		grep -q "^swack: pid $src " "$QDIR/trace.err" && grep -q "^swack: pid $dst " "$QDIR/trace.err" &&
			break
		sleep 0.1
	done
	err=$(cat "$QDIR/trace.err")
	expect_match "$q: source started later is attached" "swack: pid $src \(qemu-system-x86\): ${gen//./\\.}" \
		"$(grep "^swack: pid $src " <<<"$err")"
	expect_match "$q: destination started later is attached" "swack: pid $dst \(qemu-system-x86\): ${gen//./\\.}" \
		"$(grep "^swack: pid $dst " <<<"$err")"
	# Caught at their exec, before ld.so ran: the enum tables read all the same.
	expect_eq "$q: enum names read from processes caught at exec" "" \
		"$(grep -E "^swack: pid ($src|$dst) " <<<"$err" | grep -o 'names: 7.2 table.*')"

	qemu_migrate src dst "$port" || exit 1
	expect_eq "$q: migration completed (QMP)" completed "$(qemu_wait_migration src 180)"
	for _ in $(seq 600); do
		grep -q "\"event\":\"summary\".*\"pid\":$src[,}]" "$QDIR/trace.json" && break
		sleep 0.1
	done
	kill -INT "$trace"
	wait "$trace"
	sum=$(jq -c --argjson s "$src" 'select(.event == "summary" and .src.pid == $s)' "$QDIR/trace.json")
	expect_eq "$q: summary pairs the late-started processes" "$src $dst completed" \
		"$(jq -r '"\(.src.pid) \(.dst.pid) \(.state)"' <<<"$sum")"
	expect_num "$q: guest-visible downtime measured" "$(jq -r .guest_downtime_ns <<<"$sum")" -gt 0
	qemu_cleanup
}

for v in $SWACK_QEMU_VERSIONS; do
	one_version "$v"
done
