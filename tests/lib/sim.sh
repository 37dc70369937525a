# shellcheck shell=bash
# Plays both sides of a qemu-sim scenario under one `swack trace` (or the
# command in $SIM_CMD, e.g. record).
# sim_play SCENARIO GEN [OPTION...]: sets SIM_SRC, SIM_DST (pids),
# SIM_TRACE (swack's stdout), SIM_ERR (its stderr) and SIM_SRC_OUT,
# SIM_DST_OUT (each sim's stdout), in $SIM_DIR.
SIM_DIR=$(mktemp -d)
SIM_PIDS=()
sim_cleanup() { kill "${SIM_PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$SIM_DIR"; }
# Keep an EXIT trap set before (qemu.sh's kills the QEMUs a test started).
_sim_prev=$(trap -p EXIT)
if [[ -n $_sim_prev ]]; then
	eval "set -- $_sim_prev"
	# shellcheck disable=SC2064 # expand now, on purpose
	trap "sim_cleanup; $3" EXIT
else
	trap sim_cleanup EXIT
fi

SIM_RUNS=0
sim_play() {
	local scen=$1 gen=$2 tag=$1-$2.$((++SIM_RUNS)) tr
	shift 2
	SIM_TRACE=$SIM_DIR/$tag.out SIM_ERR=$SIM_DIR/$tag.err
	SIM_SRC_OUT=$SIM_DIR/$tag.src.out SIM_DST_OUT=$SIM_DIR/$tag.dst.out
	# Each sim waits on its own pipe, opened here read-write so that nothing
	# blocks: the pids are the sims themselves when swack looks at them.
	mkfifo "$SIM_DIR/$tag.src" "$SIM_DIR/$tag.dst"
	mkdir "$SIM_DIR/$tag.sync"
	export QEMU_SIM_SYNC=$SIM_DIR/$tag.sync
	exec 7<>"$SIM_DIR/$tag.src" 8<>"$SIM_DIR/$tag.dst"
	"$SWACK_ROOT/build/fixtures/qemu-system-sim$gen" -q -w \
		"$SWACK_ROOT/tests/fixtures/scenarios/$scen.src" <&7 >"$SIM_SRC_OUT" 7<&- 8<&- &
	SIM_SRC=$!
	"$SWACK_ROOT/build/fixtures/qemu-system-sim$gen" -q -w \
		"$SWACK_ROOT/tests/fixtures/scenarios/$scen.dst" <&8 >"$SIM_DST_OUT" 7<&- 8<&- &
	SIM_DST=$!
	SIM_PIDS+=("$SIM_SRC" "$SIM_DST")
	"$SWACK" "${SIM_CMD:-trace}" -p "$SIM_SRC" -p "$SIM_DST" --until-done -d 60 "$@" \
		>"$SIM_TRACE" 2>"$SIM_ERR" &
	tr=$!
	wait_attached "$SIM_ERR" 2
	echo go >&7
	echo go >&8
	exec 7>&- 8>&-
	wait "$tr"
}

# What a live observer keeps once attached with -p, as /proc/PID/status's mask
# and -v's words: CAP_BPF (39) and CAP_SYS_PTRACE (19); and CAP_SYS_NICE (23)
# where root cannot raise RLIMIT_RTPRIO (a hard limit of 0 and no
# CAP_SYS_RESOURCE, 24, as in a container): its reader waits at real-time
# priority while the kernel hooks are off, and raises it again each time they go off.
OBS_MASK=0000008000080000 OBS_KEPT="cap_bpf, cap_sys_ptrace"
if [[ $(ulimit -Hr) == 0 ]] &&
	(( (0x$(awk '$1 == "CapEff:" { print $2 }' /proc/self/status) >> 24 & 1) == 0 )); then
	OBS_MASK=0000008000880000 OBS_KEPT="$OBS_KEPT, cap_sys_nice"
fi
