#!/usr/bin/env bash
# VFIO migration uAPI from the kernel side: real VFIO-numbered ioctls on a
# FUSE device node (tests/fixtures/vfio), played as QEMU plays them, seen by
# the real syscall tracepoints; every decoded value against the player's own
# record of what it did.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
F=$SWACK_ROOT/build/fixtures
work=$(mktemp -d)
M=$work/mnt
mkdir "$M"
pids=()
cleanup() {
	kill "${pids[@]}" 2>/dev/null
	fusermount3 -u "$M" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# swack reads the device's sysfs link under the same root once it runs as
# nobody (as a real /sys is readable by all): the mount is open to all users.
chmod 755 "$work"
"$F/vfio-fuse" "$M" -f -o allow_other & pids+=($!)
for _ in $(seq 50); do [[ -e $M/dev/vfio/devices/vfio0 ]] && break; sleep 0.1; done

# The players wait on their own pipes until swack has attached.
mkfifo "$work/src.go" "$work/dst.go"
exec 7<>"$work/src.go" 8<>"$work/dst.go"
"$F/qemu-system-vfio" --mnt "$M" --role src --wait --hold-ms 1000 --out "$work/src.json" <&7 7<&- 8<&- &
src=$!
"$F/qemu-system-vfio" --mnt "$M" --role dst --iface group --dev 0000:af:00.1 --wait --hold-ms 1000 \
	--out "$work/dst.json" <&8 7<&- 8<&- &
dst=$!
pids+=("$src" "$dst")
"$SWACK" trace -p "$src" -p "$dst" --json -d 4 >"$work/trace.json" 2>"$work/trace.err" &
tr=$!
wait_attached "$work/trace.err" 2
echo go >&7
echo go >&8
exec 7>&- 8>&-
wait "$tr"
T=$work/trace.json

calls() { jq -r --argjson p "$1" --arg c "$2" 'select(.pid == $p and .event == "vfio_ioctl" and
	(.call | startswith($c))) | "\(.call | split(" ")[0:3] | join(" "))/\(if .ret < 0 then -.ret else 0 end)"' "$T" | paste -sd' '; }
truth() { jq -r --arg o "$2" 'select(.op == $o) | "\(.state_to)/\(.errno)"' "$work/$1.json" | paste -sd' '; }

expect_eq "source: every MIG_DEVICE_STATE transition, in order, with its errno" \
	"$(truth src FEATURE_SET_MIG_DEVICE_STATE | sed 's/\([A-Z_]*\)\//SET MIG_DEVICE_STATE \1\//g')" \
	"$(calls "$src" "SET MIG_DEVICE_STATE")"
expect_eq "destination: every MIG_DEVICE_STATE transition, in order, with its errno" \
	"$(truth dst FEATURE_SET_MIG_DEVICE_STATE | sed 's/\([A-Z_]*\)\//SET MIG_DEVICE_STATE \1\//g')" \
	"$(calls "$dst" "SET MIG_DEVICE_STATE")"
expect_eq "every precopy-info result (initial, dirty, REINIT)" \
	"$(jq -r 'select(.op == "MIG_GET_PRECOPY_INFO" and .errno == 0) |
		"\(.initial_bytes) \(.dirty_bytes) \(if .reinit then "REINIT" else "-" end)"' "$work/src.json")" \
	"$(jq -r --argjson p "$src" 'select(.pid == $p and .event == "vfio_ioctl" and
		(.call | startswith("MIG_GET_PRECOPY_INFO")) and .ret == 0) | .call |
		capture("initial=(?<i>[0-9]+) dirty=(?<d>[0-9]+)(?<r> REINIT)?") |
		"\(.i) \(.d) \(if .r then "REINIT" else "-" end)"' "$T")"
expect_eq "source device named through its cdev node" "0000:3b:00.1" \
	"$(jq -r --argjson p "$src" 'select(.pid == $p and (.event | startswith("vfio_")) and .dev) | .dev' "$T" | sort -u | paste -sd' ')"
expect_eq "destination device named through VFIO_GROUP_GET_DEVICE_FD" "0000:af:00.1" \
	"$(jq -r --argjson p "$dst" 'select(.pid == $p and (.event | startswith("vfio_")) and .dev) | .dev' "$T" | sort -u | paste -sd' ')"

S=$(jq -c --argjson p "$src" 'select(.event == "summary" and .src.pid == $p) | .src.devices[0].kernel' "$T")
D=$(jq -c --argjson p "$dst" 'select(.event == "summary" and .dst.pid == $p) | .dst.devices[0].kernel' "$T")
expect_eq "source: bytes read per state" \
	"$(jq -Sc '.bytes_read | with_entries(select(.value > 0))' <(tail -1 "$work/src.json"))" \
	"$(jq -Sc .bytes_read <<<"$S")"
expect_eq "destination: bytes written in RESUMING" \
	"$(jq -r .bytes_written.RESUMING <(tail -1 "$work/dst.json"))" "$(jq -r .bytes_written.RESUMING <<<"$D")"
expect_eq "PRECOPY_INFOv2 opt-in, migration flags (STOP_COPY|PRE_COPY)" "true 5" \
	"$(jq -r '"\(.precopy_info_v2) \(.mig_flags)"' <<<"$S")"
expect_eq "REINIT reported once, one regrowth" "1 1" "$(jq -r '"\(.reinits) \(.regrowths)"' <<<"$S")"
last_size=$(jq -r 'select(.op == "FEATURE_GET_MIG_DATA_SIZE") | .stop_copy_length' "$work/src.json" | tail -1)
expect_eq "stop-copy estimate (last MIG_DATA_SIZE) and the gap to what was read" \
	"$last_size $(( $(jq -r .bytes_read.STOP_COPY <<<"$S") - last_size ))" \
	"$(jq -r '"\(.stop_copy_estimate) \(.stop_copy_gap)"' <<<"$S")"
expect_eq "failed transitions with errno" "PRE_COPY/22 ERROR/22" \
	"$(jq -r '.errors[] | "\(.target)/\(.errno)"' <<<"$S") $(jq -r '.errors[] | "\(.target)/\(.errno)"' <<<"$D")"
expect_eq "time spent in STOP_COPY and in RESUMING measured" "true true" \
	"$(jq -r '.state_ns.STOP_COPY > 0' <<<"$S") $(jq -r '.state_ns.RESUMING > 0' <<<"$D")"
expect_eq "source role from its device states" src \
	"$(jq -r --argjson p "$src" 'select(.event == "summary" and .src.pid == $p) | "src"' "$T")"

# The same source played by a stripped QEMU (neither USDT probes nor symbols):
# its VFIO ioctls still come through the kernel side, under the warning.
mkfifo "$work/bare.go"
exec 7<>"$work/bare.go"
"$F/qemu-system-vfio-nosyms" --mnt "$M" --role src --wait --hold-ms 1000 --out "$work/bare.json" <&7 7<&- &
bare=$!
pids+=("$bare")
"$SWACK" trace -p "$bare" --json -d 4 >"$work/bare.trace" 2>"$work/bare.err" &
tr=$!
wait_attached "$work/bare.err" 1
echo go >&7
exec 7>&-
wait "$tr"
expect_match "stripped QEMU: watched on the kernel side, and said so" \
	"^swack: pid $bare \(qemu-system-vfi\): warning: $F/qemu-system-vfio-nosyms has neither QEMU USDT probes nor QEMU function symbols: watched on the kernel side only \(VFIO ioctls, userfaultfd, bytes sent\)" \
	"$(cat "$work/bare.err")"
T=$work/bare.trace
expect_eq "stripped QEMU: every MIG_DEVICE_STATE transition, in order, with its errno" \
	"$(truth bare FEATURE_SET_MIG_DEVICE_STATE | sed 's/\([A-Z_]*\)\//SET MIG_DEVICE_STATE \1\//g')" \
	"$(calls "$bare" "SET MIG_DEVICE_STATE")"
expect_eq "stripped QEMU: bytes read per state" \
	"$(jq -Sc '.bytes_read | with_entries(select(.value > 0))' <(tail -1 "$work/bare.json"))" \
	"$(jq -c --argjson p "$bare" 'select(.event == "summary" and .src.pid == $p) | .src.devices[0].kernel.bytes_read' "$T" | jq -Sc .)"
