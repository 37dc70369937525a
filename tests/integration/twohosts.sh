#!/usr/bin/env bash
# Two "hosts": source and destination QEMU in two network namespaces joined by
# a veth pair, each recorded by its own swack inside its namespace.  The merged
# report aligns the two recordings through their realtime clocks and must
# match the single-host figure within the uncertainty it states.  On each
# real QEMU.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/qemu.sh"

A=swackA$$ B=swackB$$ net=$((100 + $$ % 100))
ip netns add "$A" && ip netns add "$B" || { fail "network namespaces" "ip netns add failed"; exit 1; }
cleanup_ns() { ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null; }
ip link add "va$$" type veth peer name "vb$$"
ip link set "va$$" netns "$A"
ip link set "vb$$" netns "$B"
ip -n "$A" addr add "10.199.$net.1/24" dev "va$$"
ip -n "$B" addr add "10.199.$net.2/24" dev "vb$$"
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set "va$$" up
ip -n "$B" link set "vb$$" up

# qemu_setup_dir chains its cleanup before this one.
trap cleanup_ns EXIT
export SWACK_MIGRATE_HOST=10.199.$net.2

one_version() {
	qemu_use "$1" || { fail "QEMU $1" "not installed (run scripts/deps.sh)"; return; }
	local Q="QEMU $1"
	qemu_setup_dir || exit 1
	port=$(qemu_free_port) || exit 1
	src=$(QEMU_NETNS=$A qemu_start_src src) || exit 1
	dst=$(QEMU_NETNS=$B qemu_start_dst dst "$port") || exit 1
	qemu_wait_booted src 120 >/dev/null || exit 1
	expect_eq "$Q: source and destination live in two network namespaces" 2 \
		"$(readlink "/proc/$src/ns/net" "/proc/$dst/ns/net" | sort -u | wc -l)"

	ip netns exec "$A" "$SWACK" record -o "$QDIR/a.data" -p "$src" --until-done -d 180 2>"$QDIR/a.err" &
	ra=$!
	ip netns exec "$B" "$SWACK" record -o "$QDIR/b.data" -p "$dst" --until-done -d 180 2>"$QDIR/b.err" &
	rb=$!
	"$SWACK" record -o "$QDIR/one.data" -p "$src" -p "$dst" --until-done -d 180 2>"$QDIR/one.err" &
	r1=$!
	for f in a b one; do
		wait_attached "$QDIR/$f.err" 1
	done
	sleep 1
	qemu_migrate src dst "$port" 40000000 || exit 1
	expect_eq "$Q: migration between the namespaces completed (QMP)" completed "$(qemu_wait_migration src 180)"
	wait "$ra" "$rb" "$r1"

	merged=$("$SWACK" report --json --realtime "$QDIR/a.data" "$QDIR/b.data")
	single=$("$SWACK" report --json "$QDIR/one.data")
	m=$(jq -c '.migrations[] | select(.src != null and .dst != null)' <<<"$merged")
	s=$(jq -c '.migrations[0]' <<<"$single")
	u=$(jq .alignment_uncertainty_ns <<<"$merged")
	echo "# $Q: merged guest-visible $(jq .guest_downtime_ns <<<"$m") ns, single-host $(jq .guest_downtime_ns <<<"$s") ns, uncertainty +-$u ns"
	expect_eq "$Q: merged report: aligned as two hosts, source and destination paired" "true $src $dst" \
		"$(jq -r '.cross_host' <<<"$merged") $(jq -r '"\(.src.pid) \(.dst.pid)"' <<<"$m")"
	expect_num "$Q: stated uncertainty below 1 ms" "$u" "<" 1000000
	# The single-host recorder's BPF programs see each call a few microseconds
	# apart from the per-namespace recorders': allow 0.2 ms on top.
	expect_num "$Q: merged guest-visible downtime = single-host figure within the uncertainty" \
		"$(jq -n --argjson a "$(jq .guest_downtime_ns <<<"$m")" --argjson b "$(jq .guest_downtime_ns <<<"$s")" '$a - $b | fabs')" \
		"<=" "$((u + 200000))"
	expect_num "$Q: guest-visible downtime positive" "$(jq .guest_downtime_ns <<<"$m")" ">" 0
	text=$("$SWACK" report --realtime "$QDIR/a.data" "$QDIR/b.data")
	expect_match "$Q: text report states the alignment and its uncertainty" \
		"clocks aligned across hosts through their realtime clocks: uncertainty \+-[0-9.]+ ms" "$text"
	qemu_cleanup
}

for v in $SWACK_QEMU_VERSIONS; do
	one_version "$v"
done
