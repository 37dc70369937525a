# shellcheck shell=bash
# Plays both sides of a qemu-sim scenario under one `swack trace` (or the
# command in $SIM_CMD, e.g. record).
# sim_play SCENARIO GEN [OPTION...]: sets SIM_SRC, SIM_DST (pids),
# SIM_TRACE (swack's stdout) and SIM_ERR (its stderr), in $SIM_DIR.
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
	# Each sim waits on its own pipe, opened here read-write so that nothing
	# blocks: the pids are the sims themselves when swack looks at them.
	mkfifo "$SIM_DIR/$tag.src" "$SIM_DIR/$tag.dst"
	mkdir "$SIM_DIR/$tag.sync"
	export QEMU_SIM_SYNC=$SIM_DIR/$tag.sync
	exec 7<>"$SIM_DIR/$tag.src" 8<>"$SIM_DIR/$tag.dst"
	"$SWACK_ROOT/build/fixtures/qemu-system-sim$gen" -q -w \
		"$SWACK_ROOT/tests/fixtures/scenarios/$scen.src" <&7 >/dev/null 7<&- 8<&- &
	SIM_SRC=$!
	"$SWACK_ROOT/build/fixtures/qemu-system-sim$gen" -q -w \
		"$SWACK_ROOT/tests/fixtures/scenarios/$scen.dst" <&8 >/dev/null 7<&- 8<&- &
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
