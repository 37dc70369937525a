#!/usr/bin/env bash
# Symbol sources beyond .dynsym: MiniDebugInfo (.gnu_debugdata) and separate
# debuginfo found by build-id.  The probes must land on the right addresses:
# the fixture's calls must show up as events, in multi-uprobe links and in the
# per-probe fallback (SWACK_UPROBE_MULTI=0).
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
F=$SWACK_ROOT/build/fixtures

pids=() debugfile= work=$(mktemp -d)
cleanup() {
	kill "${pids[@]}" 2>/dev/null
	wait 2>/dev/null
	[[ -n $debugfile ]] && rm -f "$debugfile"
	rm -rf "$work"
}
trap cleanup EXIT

# check_source LABEL BINARY SYMSRC-REGEX [LINKS]: LINKS, the attach line's
# links (default: multi-uprobe links).
check_source() {
	local label=$1 bin=$2 re=$3 links=${4:-[0-9]+ multi-uprobe links, one per program} out err
	"$bin" & pids+=($!)
	out=$("$SWACK" trace -p $! --json -d 1.5 2>"$work/trace.err")
	err=$(cat "$work/trace.err")
	expect_match "$label: generation and symbol source" \
		"swack: pid $! \(qemu-system-[a-z]*\): QEMU <=7.2 \(symbols\), [0-9]+ functions from $re, 0 USDT probes: 3 probes attached; .*; $links" "$err"
	# The fixture has no QAPI tables: said, not guessed silently.
	expect_match "$label: the attach line says 7.2's names stand in, and why" \
		"; state names: 7.2 table, could not read MigrationStatus_lookup: not in the binary's symbols; run state names: 7.2 table, could not read RunState_lookup: not in the binary's symbols; $links" \
		"$(grep "^swack: pid" <<<"$err")"
	expect_match "$label: migrate_set_state resolved" "^states=setup none setup none $" \
		"states=$(jq -r 'select(.event == "mig_state") | .state' <<<"$out" | head -4 | paste -sd' ') "
	expect_eq "$label: pending query read through its out-parameters" "4096 0 0 4096" \
		"$(jq -r 'select(.event == "pending") | "\(.precopy) \(.compat) \(.postcopy) \(.threshold)"' <<<"$out" | head -1)"
}

expect_eq "minidebug fixture has no .symtab" 0 \
	"$(readelf -S "$F/qemu-system-minidebug" | grep -c ' \.symtab ')"
expect_eq "minidebug fixture has no exported QEMU symbol" 0 \
	"$(nm -D "$F/qemu-system-minidebug" | grep -c 'migrate_set_state')"
check_source "MiniDebugInfo" "$F/qemu-system-minidebug" "\.gnu_debugdata"
SWACK_UPROBE_MULTI=0 check_source "MiniDebugInfo, per-probe uprobe links" \
	"$F/qemu-system-minidebug" "\.gnu_debugdata" "3 uprobe links, one per probe site \(SWACK_UPROBE_MULTI=0\)"

id=$(readelf -n "$F/qemu-system-buildid" | sed -n 's/.*Build ID: //p')
debugfile=/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
mkdir -p "$(dirname "$debugfile")"
cp "$F/buildid.debug" "$debugfile"
check_source "build-id debuginfo" "$F/qemu-system-buildid" "debuginfo /usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
