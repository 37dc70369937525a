#!/usr/bin/env bash
# QEMU built with the dtrace backend, played by qemu-sim (tests/fixtures/qemu-sim):
# generation detection by probe presence and argument counts, every USDT site
# decoded by swack (the RIP-relative runstate_set argument included) and
# attached with one multi-uprobe link per program, and the model's figures for
# the precopy-basic scenario, on both generations, on the stand-in padded to
# 4,042 notes, and through the per-probe fallback (SWACK_UPROBE_MULTI=0).
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/sim.sh"

# play GEN: both sides of precopy-basic under one `swack trace`.
play() {
	sim_play precopy-basic "$1" --json
	src=$SIM_SRC dst=$SIM_DST T=$SIM_TRACE
}

ev() { jq -c --argjson p "$1" --arg e "$2" 'select(.pid == $p and .event == $e)' "$T"; }

# check_gen GEN LABEL PENDING_EVENT LINKS NOTES: LINKS, the attach line's
# count and kind of links.
check_gen() {
	local gen=$1 label=$2 pending=$3 links=$4 notes=$5 err sum
	play "$gen"
	err=$(cat "$SIM_ERR")
	expect_match "$gen: generation detected from the probes" "swack: pid $src \(qemu-system-sim\): $label" "$err"
	expect_match "$gen: every probe attached, $links" \
		"pid $src .*, $notes USDT probes: [0-9]+ probes attached; missing: vm_stop_force_state; watched in [0-9.]+ ms; $links" "$err"
	expect_eq "$gen: source states" "setup active device completed" \
		"$(ev "$src" mig_state | jq -r .state | paste -sd' ')"
	expect_eq "$gen: destination states" "setup active completed" \
		"$(ev "$dst" mig_state | jq -r .state | paste -sd' ')"
	# The RIP-relative first argument: the global's value, the state being left.
	expect_eq "$gen: runstate_set decoded (old new name)" \
		"9 7 finish-migrate|7 5 postmigrate" \
		"$(ev "$src" runstate | jq -r '"\(.old) \(.new) \(.state)"' | paste -sd'|')"
	expect_eq "$gen: destination runstate" "6 1 inmigrate|1 9 running" \
		"$(ev "$dst" runstate | jq -r '"\(.old) \(.new) \(.state)"' | paste -sd'|')"
	expect_eq "$gen: exact pending-size queries" "120000000 60000000 0" \
		"$(ev "$src" "$pending" | jq -r 'select(.flags % 2 == 1) | .precopy' | paste -sd' ')"
	expect_eq "$gen: checkpoints in order" \
		"src-downtime-start src-vm-stopped src-iterable-saved src-non-iterable-saved src-downtime-end" \
		"$(ev "$src" checkpoint | jq -r .name | paste -sd' ')"
	expect_eq "$gen: vmstate save times" "ram:2100 timer:12 cpu:35 cpu:33 0000:00:02.0/vga:150 0000:00:03.0/virtio-net:80" \
		"$(ev "$src" vmstate_save | jq -r '"\(.idstr):\(.downtime_us)"' | paste -sd' ')"
	sum=$(jq -c 'select(.event == "summary")' "$T")
	expect_eq "$gen: one summary, paired by time" "1 $src $dst time" \
		"$(jq -rs 'length as $n | .[0] | "\($n) \(.src.pid) \(.dst.pid) \(.paired_by)"' <<<"$sum")"
	expect_eq "$gen: iterations and bytes (sum of migrate_transferred)" "3 30000000" \
		"$(jq -r '"\(.src.iterations) \(.src.bytes)"' <<<"$sum")"
	local span
	span=$(( $(ev "$src" checkpoint | jq -r 'select(.name == "src-downtime-end") | .ts') -
		 $(ev "$src" checkpoint | jq -r 'select(.name == "src-downtime-start") | .ts') ))
	expect_eq "$gen: QEMU's downtime = its checkpoint span" "$span" "$(jq -r .qemu_downtime_ns <<<"$sum")"
	expect_num "$gen: checkpoint span covers the scenario's sleeps (6 ms)" "$span" ">=" 6000000
	local guest
	guest=$(( $(ev "$dst" vm_resumed | jq -r .ts) - $(ev "$src" vm_stopped | jq -r .ts) ))
	expect_eq "$gen: guest-visible = source vCPU stop to destination resume" "$guest" \
		"$(jq -r .guest_downtime_ns <<<"$sum")"
}

G102="QEMU 8.1-11.0 \(USDT, legacy switchover-ack\)"
MULTI="[0-9]+ multi-uprobe links, one per program"
check_gen 102 "$G102" pending "$MULTI" 69
check_gen 111 "QEMU 11.1\+ \(USDT, per-device switchover-ack\)" query_pending "$MULTI" 70
check_gen 102pad "$G102" pending "$MULTI" 4069
SWACK_UPROBE_MULTI=0 check_gen 102 "$G102" pending \
	"[0-9]+ uprobe links, one per probe site \(SWACK_UPROBE_MULTI=0\)" 69

# A build that offers less: absent probes and an argument spec swack cannot
# decode (its global is stripped) are named; the rest is traced.
mkfifo "$SIM_DIR/degraded.go"
exec 9<>"$SIM_DIR/degraded.go"
"$SWACK_ROOT/build/fixtures/qemu-system-degraded" <&9 9<&- &
SIM_PIDS+=($!)
"$SWACK" trace -p $! -d 4 >"$SIM_DIR/degraded.out" 2>"$SIM_DIR/degraded.err" &
tr=$!
wait_attached "$SIM_DIR/degraded.err" 1
echo go >&9
exec 9>&-
wait "$tr"
expect_eq "degraded: exit status" 0 "$?"
out=$(cat "$SIM_DIR/degraded.out")
err=$(cat "$SIM_DIR/degraded.err")
expect_match "degraded: undecodable argument spec named" \
	"missing: .*qemu:vm_state_notify \(argument spec '-4@vm_running\(%rip\) -4@\\\$7 8@%rax': cannot decode argument '-4@vm_running\(%rip\)' \(its global is not in the binary's symbols: install its debuginfo\)\)" "$err"
expect_match "degraded: absent probes named" "missing: qemu:migrate_pending_estimate, qemu:migrate_pending_exact, .*qemu:migrate_transferred," "$err"
expect_match "degraded: 2 probes attached" "QEMU 8.1-11.0 \(USDT, legacy switchover-ack\), .*: 2 probes attached" "$err"
expect_eq "degraded: what is there is traced" "setup active completed" \
	"$(awk '$4 == "mig_state" { sub("state=", "", $5); print $5 }' <<<"$out" | paste -sd' ')"
