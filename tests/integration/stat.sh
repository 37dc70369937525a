#!/usr/bin/env bash
# swackstat driven through tmux, as an operator would see it: interval lines
# and the full-screen view, on qemu-sim's ack-stall scenario (the source
# converged and waits for a switchover ACK that never comes); the stalled ACK
# highlighted; a clean quit.  swackstat on a real migration of each real QEMU
# is checked in migrate.sh.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/sim.sh"
S=swackstat$$
stat_bin=$SIM_DIR/swackstat
ln -s "$SWACK" "$stat_bin"
trap 'tmux kill-session -t "$S" 2>/dev/null; sim_cleanup' EXIT

# start_stall: the ack-stall scenario, both sides waiting for a go.
start_stall() {
	mkfifo "$SIM_DIR/$1.src" "$SIM_DIR/$1.dst"
	exec 7<>"$SIM_DIR/$1.src" 8<>"$SIM_DIR/$1.dst"
	"$SWACK_ROOT/build/fixtures/qemu-system-sim102" -q -w \
		"$SWACK_ROOT/tests/fixtures/scenarios/ack-stall.src" <&7 >/dev/null 7<&- 8<&- &
	SRC=$!
	"$SWACK_ROOT/build/fixtures/qemu-system-sim102" -q -w \
		"$SWACK_ROOT/tests/fixtures/scenarios/ack-stall.dst" <&8 >/dev/null 7<&- 8<&- &
	DST=$!
	SIM_PIDS+=("$SRC" "$DST")
}
go() { echo go >&7; echo go >&8; exec 7>&- 8>&-; }
screen() { tmux capture-pane -p -t "$S" "$@"; }
wait_screen() { # wait_screen REGEX [capture options]: up to 60 s
	local re=$1
	shift
	for _ in $(seq 600); do screen "$@" | grep -qE "$re" && return 0; sleep 0.1; done
	return 1
}

# Interval lines.
start_stall lines
tmux new-session -d -s "$S" -x 220 -y 50 \
	"trap : INT; $stat_bin -p $SRC -p $DST 0.5; echo EXIT=\$?; sleep 30"
wait_screen 'TIME +PID ROLE' || fail "swackstat header" "$(screen)"
go
wait_screen "converged, waiting" || true
row=$(screen | grep -E "^ +[0-9.]+ +$SRC src " | tail -1)
expect_match "line: the source row, its phase and 20 iterations" "$SRC src +active +20 " "$row"
expect_match "line: 4 MiB of initial bytes, no regrowth" " 4\.0M +0B +0 " "$row"
expect_match "line: the stalled ACK is flagged" "converged, waiting$" "$row"
expect_match "line: the destination row, one legacy ACK pending" "$DST dst +active .* 1 +0B " \
	"$(screen | grep -E " $DST dst " | tail -1)"
tmux send-keys -t "$S" C-c
wait_screen 'EXIT=0' || fail "Ctrl-C ends swackstat" "$(screen | tail -3)"
expect_eq "line: Ctrl-C, a clean exit" "EXIT=0" "$(screen | grep -o -m1 'EXIT=[0-9]*')"
tmux kill-session -t "$S"

# Full screen.
start_stall tui
tmux new-session -d -s "$S" -x 160 -y 40 \
	"TERM=xterm-256color $stat_bin -T -p $SRC -p $DST 0.5; echo EXIT=\$?; sleep 30"
wait_screen 'swackstat +[0-9]+ VMs' || fail "full screen title" "$(screen)"
go
wait_screen "STALLED" || true
expect_match "full screen: the stalled row says why" "$SRC src +active +20 .*STALLED: converged, waiting for ACK" \
	"$(screen | grep " $SRC src ")"
expect_match "full screen: the stalled row in reverse video" $'\e\\[7m' \
	"$(screen -e | grep " $SRC src ")"
expect_match "full screen: device row under the VM" "device 0000:3b:00.1 +initial +4\.0M" "$(screen)"
expect_match "full screen: recent events at the bottom" "recent events" "$(screen)"
tmux send-keys -t "$S" s
wait_screen "sort: remaining" || true
expect_match "full screen: s changes the sort" "sort: remaining" "$(screen | head -1)"
tmux send-keys -t "$S" h
wait_screen "reverse video: converged" || true
expect_match "full screen: h shows the help" "reverse video: converged but waiting" "$(screen)"
tmux send-keys -t "$S" q
wait_screen 'EXIT=0' || fail "q quits" "$(screen | tail -3)"
expect_eq "full screen: q, a clean exit" "EXIT=0" "$(screen | grep -o -m1 'EXIT=[0-9]*')"
tmux kill-session -t "$S"
