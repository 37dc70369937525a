#!/usr/bin/env bash
# Every qemu-sim scenario, both sides under the real loader and the real BPF
# programs: the model's figures against what each scenario file plays.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/sim.sh"

A=0000:3b:00.1 B=0000:3b:00.2 C=0000:3b:00.3

# play SCENARIO GEN: SRC and DST are the summaries that name each side.
play() {
	sim_play "$1" "$2" --json
	NAME=$1
	SRC=$(jq -c --argjson p "$SIM_SRC" 'select(.event == "summary" and .src.pid == $p)' "$SIM_TRACE")
	DST=$(jq -c --argjson p "$SIM_DST" 'select(.event == "summary" and .dst.pid == $p)' "$SIM_TRACE")
}

# is LABEL EXPECTED JQ [src|dst]: one figure of the scenario's summary.
is() {
	local doc=$SRC
	[[ ${4:-src} == dst ]] && doc=$DST
	expect_eq "$NAME: $1" "$2" "$(jq -rc "$3" <<<"$doc")"
}

# Phases are consecutive: they add up to the window they cover.
breakdown_adds_up() {
	is "breakdown phases add up to its total" true \
		'.breakdown | ([to_entries[] | select(.key | test("^(stop|iterable|non_iterable|source_tail|transfer|destination|vcpu)")) | .value | select(. >= 0)] | add) == .total_ns'
}

play ack-legacy 102
is "both sides completed, paired" "completed completed time" '"\(.src.state) \(.dst.state) \(.paired_by)"'
is "iterations, bytes, threshold" "6 60000000 30000000" '"\(.src.iterations) \(.src.bytes) \(.src.threshold)"'
is "source: legacy ACK received once, held 3 converged queries" "legacy 0 1 3" \
	'.src.acks | "\(.scheme) \(.requested) \(.received) \(.held_queries)"'
is "destination: 3 needed, 3 approved, counter at 0" "legacy 3 3 0" \
	'.dst.acks | "\(.scheme) \(.needed) \(.approved) \(.remaining)"'
is "initial-bytes peaks" "$A:50331648 $B:33554432 $C:16777216" \
	'[.src.devices[] | "\(.name):\(.initial_peak)"] | join(" ")'
is "no regrowth" "0 0 0" '[.src.devices[].regrowths] | join(" ")'
is "destination loaded precopy + stop-copy data" "51380224 34603008 17301504" \
	'[.dst.devices[].loaded_bytes] | join(" ")'
is "stop-copy data saved" "1048576 1048576 524288" '[.src.devices[].saved_bytes] | join(" ")'
is "vmstate save times (iterable, non-iterable)" "8500 170" \
	'"\(.src.vmstates_iterable_us) \(.src.vmstates_non_iterable_us)"'
is "slowest vmstate saved" "$A/vfio 3100" '.src.slowest_vmstates[0] | "\(.idstr) \(.us)"'
is "breakdown covers both sides" true '.breakdown.both_sides'
breakdown_adds_up
is "guest-visible = source stop to destination resume" true \
	'.guest_downtime_ns == (.dst.resume_ts - .src.stop_ts)'

play ack-regrow 111
is "both sides completed, paired" "completed completed time" '"\(.src.state) \(.dst.state) \(.paired_by)"'
is "source: per-device, 3 requested (1 after an ACK), 3 received, counter 0" \
	"per-device 3 1 3 0 0 false" \
	'.src.acks | "\(.scheme) \(.requested) \(.rerequests) \(.received) \(.counter) \(.pending_total) \(.underflow)"'
is "source held 4 converged queries waiting for ACKs" 4 '.src.acks.held_queries'
is "request-to-ACK times measured" true '.src.acks.max_request_to_ack_ns > 0'
is "destination approvers in order" "per-device $B,$A,$A" \
	'.dst.acks | "\(.scheme) \(.approvers | join(","))"'
is "A regrew once, from 0 to 8 MiB" "1 8388608 33554432" \
	'.src.devices[] | select(.name == "'$A'") | "\(.regrowths) \(.initial) \(.initial_peak)"'
is "B did not regrow" "0 0" '.src.devices[] | select(.name == "'$B'") | "\(.regrowths) \(.initial)"'
is "iterations (7 bitmap syncs: 6 in the loop, 1 at the final query)" 7 '.src.iterations'
is "destination loaded" "42991616 17301504" '[.dst.devices[].loaded_bytes] | join(" ")'
is "vmstate load times (iterable, non-iterable)" "5200 27" \
	'"\(.dst.vmstates_iterable_us) \(.dst.vmstates_non_iterable_us)"' dst
breakdown_adds_up

play ack-never 102
is "source cancelled, never stopped" "cancelled -1 -1" \
	'"\(.src.state) \(.qemu_downtime_ns) \(.guest_downtime_ns)"'
is "20 iterations, threshold" "20 300000000" '"\(.src.iterations) \(.src.threshold)"'
is "source held 4 converged queries, no ACK" "4 0" '.src.acks | "\(.held_queries) \(.received)"'
is "source waited converged until cancelled" true '.src.acks.held_ns > 0'
is "device's initial bytes never fell" "4194304 4194304 0" \
	'.src.devices[0] | "\(.initial) \(.initial_peak) \(.regrowths)"'
is "destination failed, 1 ACK needed, none given" "failed 1 0" \
	'"\(.dst.state) \(.dst.acks.needed) \(.dst.acks.approved)"' dst

play ack-underflow 111
is "source failed" failed '.src.state'
is "1 requested, 2 received, underflow" "1 2 true 4294967295" \
	'.src.acks | "\(.requested) \(.received) \(.underflow) \(.counter)"'
is "source held 2 converged queries" 2 '.src.acks.held_queries'
is "destination approvers" "failed $A,$A" '"\(.dst.state) \(.dst.acks.approvers | join(","))"' dst

play multifd-starved 102
is "both sides completed, paired" "completed completed time" '"\(.src.state) \(.dst.state) \(.paired_by)"'
is "buffers received, loaded, starved per device" "$A:5/5/2 $B:3/3/0" \
	'[.dst.devices[] | "\(.name):\(.buffers_in)/\(.buffers_loaded)/\(.starved)"] | join(" ")'
is "load threads ran (A >= 16 ms, B >= 4 ms)" "true true" \
	'[(.dst.devices[] | select(.name == "'$A'") | .load_thread_ns >= 16000000),
	  (.dst.devices[] | select(.name == "'$B'") | .load_thread_ns >= 4000000)] | join(" ")'
is "save threads ran (A >= 10 ms, B >= 6 ms)" "true true" \
	'[(.src.devices[] | select(.name == "'$A'") | .save_thread_ns >= 10000000),
	  (.src.devices[] | select(.name == "'$B'") | .save_thread_ns >= 6000000)] | join(" ")'
is "QEMU's downtime >= 13 ms; the guest's longer (slow device load)" "true true" \
	'[.qemu_downtime_ns >= 13000000, .guest_downtime_ns > .qemu_downtime_ns] | join(" ")'
is "slowest vmstate loaded" "$A/vfio 22000" '.dst.slowest_vmstates[0] | "\(.idstr) \(.us)"'
breakdown_adds_up

play cancel 102
is "source cancelled after 4 iterations" "cancelled 4 400000000 0" \
	'"\(.src.state) \(.src.iterations) \(.src.bytes) \(.src.acks.held_queries)"'
is "destination failed" failed '.dst.state' dst

play failed 102
is "both failed, paired" "failed failed" '"\(.src.state) \(.dst.state)"'
is "the failing device" "$A true" '.src.devices[] | select(.failed) | "\(.name) \(.failed)"'
is "no downtime figure from QEMU (no src-downtime-end)" -1 '.qemu_downtime_ns'
is "vCPUs stopped on the source" true '.src.stop_ts > 0'

play ack-legacy-111 111
is "both sides completed, paired" "completed completed time" '"\(.src.state) \(.dst.state) \(.paired_by)"'
is "source: legacy in 11.1, no requests, 1 ACK, counter 0, 3 held" "legacy 0 1 0 3" \
	'.src.acks | "\(.scheme) \(.requested) \(.received) \(.counter) \(.held_queries)"'
is "destination: 2 needed, approved by B then A, counter 0" "legacy 2 2 $B,$A 0" \
	'.dst.acks | "\(.scheme) \(.needed) \(.approved) \(.approvers | join(",")) \(.remaining)"'
is "iterations (4 in the loop + the final query)" 5 '.src.iterations'

# A background snapshot on a dtrace build: write tracking from QEMU's
# ram_write_tracking_ramblock_start/stop probes, no destination.
play snapshot 102
is "a background snapshot, alone" "completed null" '"\(.src.state) \(.dst)"'
is "write tracking, per RAMBlock, for 30 ms or more" true \
	'.src.snapshot.tracking_ns >= 30000000 and .src.snapshot.start_ret == 0'
is "vCPUs paused while write tracking started" true \
	'.src.snapshot.paused_ns >= 2000000 and .src.snapshot.paused_ns < .src.snapshot.tracking_ns'
is "no faults in a guest that writes nothing" "0 0 0" \
	'.src.snapshot | "\(.faults) \(.fault_messages) \(.stall_hist_us | length)"'
expect_eq "snapshot: write tracking events name each block" \
	"write_tracking_start pc.ram,write_tracking_start vga.vram,write_tracking_stop pc.ram,write_tracking_stop vga.vram" \
	"$(jq -r 'select(.event | startswith("write_tracking")) | "\(.event) \(.block)"' "$SIM_TRACE" | paste -sd,)"

# Postcopy on a dtrace build: the switch from QEMU's steps, faults, requests and
# QEMU's own blocktime events (10.1's accounting) for the vCPUs' waits.
play postcopy 102
is "both sides completed, paired" "completed completed time" '"\(.src.state) \(.dst.state) \(.paired_by)"'
is "switched after 2 passes, 200 MB left, >= 2 ms after migrate-start-postcopy" "2 200000000 true" \
	'.postcopy_switch | "\(.iterations_before) \(.pending_before) \(.request_to_stop_ns >= 2000000)"'
is "switch phases: iterable >= 1 ms, discard bitmap >= 4 ms, devices >= 1 ms" "true true true" \
	'.postcopy_switch | "\(.iterable_save_ns >= 1000000) \(.discard_bitmap_ns >= 4000000) \(.device_state_ns >= 1000000)"'
is "switch phases add up to the guest's pause" true \
	'.postcopy_switch | ([.stop_ns, .iterable_save_ns, .discard_bitmap_ns, .device_state_ns, .package_send_ns, .destination_start_ns] | map(select(. >= 0)) | add) == .guest_pause_ns'
is "the guest's pause is the guest-visible downtime" true '.postcopy_switch.guest_pause_ns == .guest_downtime_ns'
is "QEMU's downtime from its checkpoints, >= 6 ms" true '.qemu_downtime_ns >= 6000000 and .qemu_downtime_ns < .guest_downtime_ns'
is "source took 4 page requests" 4 '.src.postcopy.requests_taken'
is "destination: 4 faults on 3 pages, 1 faulted twice, 4 requests sent, all resolved" "4 3 1 4 4" \
	'.dst.postcopy | "\(.faults) \(.pages_faulted) \(.repeat_pages) \(.requests) \(.resolved)"' dst
is "destination: 2 discarded ranges at the switch, not the advise-time clear" "2 25165824" \
	'.dst.postcopy | "\(.discards) \(.discard_bytes)"' dst
is "vCPUs listed from QEMU's tid map; each faulted twice" "2 0:2 1:2" \
	'.dst.postcopy | "\(.vcpus_listed) \([.vcpus[] | "\(.vcpu):\(.faults)"] | join(" "))"' dst
is "vCPU 0 blocked >= 18 ms (A, C), vCPU 1 >= 8 ms (B, C)" "true true" \
	'.dst.postcopy.vcpus | "\(.[0].blocked_ns >= 18000000) \(.[1].blocked_ns >= 8000000)"' dst
is "both blocked at once >= 5 ms, less than either vCPU alone" true \
	'.dst.postcopy | .blocktime_ns >= 5000000 and .blocktime_ns < ([.vcpus[].blocked_ns] | min)' dst
is "QEMU's own total as it traced it" 8000 '.dst.postcopy.qemu_traced_blocktime' dst
is "latency percentiles in order, the histogram holds every fault" "true 4" \
	'.dst.postcopy | "\(.latency_p50_ns > 0 and .latency_p50_ns <= .latency_p90_ns and .latency_p99_ns <= .latency_max_ns) \([.latency_hist_us[].count] | add)"' dst
is "A waited >= 15 ms: the longest" true '.dst.postcopy.latency_max_ns >= 15000000' dst

play postcopy-paused 102
is "both sides completed after a pause" "completed completed" '"\(.src.state) \(.dst.state)"'
is "one pause each side, >= 20 ms, resumed" "1 1 true true" \
	'"\(.src.postcopy.pauses | length) \(.dst.postcopy.pauses | length) \(.src.postcopy.paused_ns >= 20000000) \(.dst.postcopy.pauses[0].resume_ts > 0)"'
is "destination: migrate-recover inside the pause" true \
	'.dst.postcopy.pauses[0] | .recover_ts > .pause_ts and .recover_ts < .resume_ts' dst
is "2 requests sent (one lost with the connection), 1 taken by the source" "2 1" \
	'"\(.dst.postcopy.requests) \(.src.postcopy.requests_taken)"'
is "the fault waited through the pause" true '.dst.postcopy.latency_max_ns >= 20000000' dst
is "vCPU 1 never blocked: no time all blocked at once" "0 0" \
	'.dst.postcopy | "\(.vcpus[1].blocked_ns) \(.blocktime_ns)"' dst
expect_eq "postcopy-paused: the pause is a phase of its own, both sides" \
	"postcopy-active postcopy-paused postcopy-recover postcopy-active" \
	"$(jq -r --argjson p "$SIM_SRC" 'select(.event == "mig_state" and .pid == $p) | .state' "$SIM_TRACE" | grep postcopy | paste -sd' ')"
