#!/usr/bin/env bash
# Least privilege once attached, read from /proc/PID/status of each live
# command watching a qemu-sim with -p: trace, record, stat, exporter and live
# diagnose run as nobody (or --user) with CAP_BPF and CAP_SYS_PTRACE only
# (effective, permitted and bounding; none inheritable or ambient) and
# no_new_privs; swack gate run stays uid 0 (it owns its pins) with the same
# two.  Each then does its work all the same: events, a recording, a line, a
# scrape, a diagnosis, the syscall and scheduler hooks armed at the migration
# and disarmed after it; an observer as nobody still follows a gate's log.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/sim.sh"
D=$SIM_DIR
port=$((27000 + $$ % 2000))
# CAP_SYS_PTRACE and CAP_BPF, and CAP_SYS_NICE where needed (tests/lib/sim.sh).
MASK=$OBS_MASK

# sim TAG SCENARIO: a qemu-sim waiting on its pipe; pid in SIM, pipe on fd 7.
sim() {
	mkfifo "$D/$1.go"
	mkdir -p "$D/$1.sync"
	exec 7<>"$D/$1.go"
	QEMU_SIM_SYNC=$D/$1.sync "$SWACK_ROOT/build/fixtures/qemu-system-sim102" -q -w \
		"$SWACK_ROOT/tests/fixtures/$2" <&7 >/dev/null &
	SIM=$!
	SIM_PIDS+=("$SIM")
}
# dropped ERRFILE: until the command says it dropped its privileges.
dropped() {
	for _ in $(seq 300); do
		grep -qs '^swack: attached: runs as uid\|^swack gate: started: keeps' "$1" && return 0
		sleep 0.1
	done
	return 1
}
status() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }
# check NAME PID UID: the credentials of PID.
check() {
	expect_eq "$1: uid (real, effective, saved, fs)" "$3 $3 $3 $3" "$(status "$2" Uid)"
	expect_eq "$1: gid" "$4 $4 $4 $4" "$(status "$2" Gid)"
	expect_eq "$1: no supplementary groups" "" "$(status "$2" Groups)"
	expect_eq "$1: effective, permitted, bounding capabilities" "$MASK $MASK $MASK" \
		"$(status "$2" CapEff) $(status "$2" CapPrm) $(status "$2" CapBnd)"
	expect_eq "$1: no inheritable or ambient capability" "0000000000000000 0000000000000000" \
		"$(status "$2" CapInh) $(status "$2" CapAmb)"
	expect_eq "$1: no_new_privs" 1 "$(status "$2" NoNewPrivs)"
}

nobody_uid=$(id -u nobody) nobody_gid=$(getent passwd nobody | cut -d: -f4)
sim t scenarios/precopy-basic.src
"$SWACK" trace -v -p "$SIM" >"$D/trace.out" 2>"$D/trace.err" &
tr=$!
"$SWACK" record -v -o "$D/r.data" -p "$SIM" --until-done 2>"$D/record.err" &
rec=$!
"$SWACK" stat -v -p "$SIM" 1 >"$D/stat.out" 2>"$D/stat.err" &
st=$!
"$SWACK" exporter -v --listen "127.0.0.1:$port" -p "$SIM" 2>"$D/exporter.err" &
ex=$!
"$SWACK" diagnose -v -p "$SIM" 2>"$D/diagnose.err" >"$D/diagnose.out" &
dg=$!
"$SWACK" trace -v --user daemon -p "$SIM" >/dev/null 2>"$D/daemon.err" &
du=$!
SIM_PIDS+=("$tr" "$rec" "$st" "$ex" "$dg" "$du")
for c in trace record stat exporter diagnose daemon; do
	dropped "$D/$c.err" || fail "$c: dropped its privileges" "$(tail -3 "$D/$c.err")"
done
check trace "$tr" "$nobody_uid" "$nobody_gid"
check record "$rec" "$nobody_uid" "$nobody_gid"
check stat "$st" "$nobody_uid" "$nobody_gid"
check exporter "$ex" "$nobody_uid" "$nobody_gid"
check "live diagnose" "$dg" "$nobody_uid" "$nobody_gid"
check "trace --user daemon" "$du" "$(id -u daemon)" "$(getent passwd daemon | cut -d: -f4)"
expect_match "each says so under -v" \
	"^swack: attached: runs as uid $nobody_uid with $OBS_KEPT only, no_new_privs" \
	"$(grep 'runs as uid' "$D/trace.err")"

out=$("$SWACK" trace --user no-such-user-x -p "$SIM" -d 1 2>&1 >/dev/null)
expect_eq "--user with no such user: a usage error, before attaching" 2 "$?"
expect_match "--user with no such user: says so" \
	"^swack trace: no user 'no-such-user-x' to run as once attached: give an existing user to --user" \
	"$out"

# Then their work, as nobody.
echo go >&7
wait "$rec"
expect_eq "record: exits 0 once the migration is done" 0 "$?"
wait "$dg"
expect_eq "live diagnose: exits 0 once the migration is done" 0 "$?"
expect_match "live diagnose: the diagnosis" "^diagnosis: migration src $SIM" "$(cat "$D/diagnose.out")"
expect_match "record: the file reads, its migration whole" "migration src $SIM completed" \
	"$("$SWACK" report "$D/r.data" 2>&1)"
sleep 1.5   # stat's next interval shows the migration's end
expect_match "trace: the migration's events" "mig_state +state=completed" "$(cat "$D/trace.out")"
expect_match "stat: a line for the migration" " $SIM +src " "$(cat "$D/stat.out")"
expect_match "exporter: a scrape with the migration" \
	"swack_migrations_total\{role=\"src\",result=\"completed\"\} 1" \
	"$(curl -s "http://127.0.0.1:$port/metrics")"
# The kernel hooks come and go as nobody with those two capabilities: armed at
# the migration's start, disarmed 2 s after its end, the reader back at
# real-time priority 1 (SCHED_FIFO, /proc/PID/stat's 40th and 41st fields)
# while they are off.
for _ in $(seq 100); do grep -q '^swack: kernel hooks disarmed' "$D/trace.err" && break; sleep 0.1; done
expect_eq "trace: kernel hooks armed as nobody, at the migration" 1 \
	"$(sed -n '/runs as uid/,$p' "$D/trace.err" |
		grep -c "^swack: kernel hooks armed for pid $SIM (it migrates or snapshots): .* 4 programs attached")"
expect_eq "trace: and disarmed after it" 1 \
	"$(grep -c '^swack: kernel hooks disarmed: no watched process has needed them for 2\.[0-9] s' "$D/trace.err")"
expect_eq "trace: nothing refused (attach, detach, priority)" "" \
	"$(grep -i 'cannot attach\|cannot raise\|not permitted' "$D/trace.err")"
expect_eq "trace: the reader at real-time priority 1 while they are off" "1 1" \
	"$(sed 's/.*) //' "/proc/$tr/stat" | awk '{ print $38, $39 }')"
kill -INT "$tr" "$st" "$ex" "$du"
wait "$tr" "$st" "$ex" "$du"

"$SWACK" gate run --user nobody -p 1 >/dev/null 2>&1
expect_eq "gate run --user: a usage error (the gate stays root)" 2 "$?"

# The gate: uid 0 with the two capabilities; an observer as nobody follows its log.
sim g gate-hold.src
"$SWACK" trace -p "$SIM" >"$D/gtrace.out" 2>"$D/gtrace.err" &
gtr=$!
SIM_PIDS+=("$gtr")
wait_attached "$D/gtrace.err" 1
exec {lock}>/tmp/swack-gate.lock
flock -w 3600 "$lock" || { fail "gate lock" "/tmp/swack-gate.lock held for an hour"; exit 1; }
pinmode=$(stat -c %a /sys/fs/bpf/swack 2>/dev/null)
"$SWACK" gate run -v -p "$SIM" >"$D/gate.out" 2>"$D/gate.err" {lock}>&- &
gate=$!
SIM_PIDS+=("$gate")
dropped "$D/gate.err" || fail "gate: dropped its privileges" "$(tail -3 "$D/gate.err")"
check "gate run" "$gate" 0 0
"$SWACK" gate hold -p "$SIM" --max-hold 60s >/dev/null 2>"$D/hold.err" ||
	fail "gate hold" "$(cat "$D/hold.err")"
for _ in $(seq 50); do grep -q gate_hold "$D/gtrace.out" && break; sleep 0.1; done
"$SWACK" gate release -p "$SIM" >/dev/null
for _ in $(seq 50); do grep -q gate_release "$D/gtrace.out" && break; sleep 0.1; done
expect_match "an observer as nobody follows the log of a gate started after it" \
	"gate_hold .*gate_release +reason=\"swack gate release\" cause=command" \
	"$(tr '\n' ' ' <"$D/gtrace.out")"
kill -INT "$gate"
wait "$gate"
expect_eq "gate run: exits 0, its pins removed" "0 0" "$? $(ls /sys/fs/bpf/swack 2>/dev/null | wc -l)"
[[ -n $pinmode ]] && chmod "$pinmode" /sys/fs/bpf/swack
flock -u "$lock"
exec {lock}>&-
touch "$D/g.sync/released"
