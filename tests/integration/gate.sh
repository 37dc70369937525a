#!/usr/bin/env bash
# swack gate: hold and release a switchover.
#  1. refusals: no gate running, not QEMU, no query symbol, no glibc, missing
#     capabilities, a second gate;
#  2. a tight-loop stand-in for QEMU's migration thread (every signal blocked,
#     every query held): held iterations per second, cost of one held
#     iteration, and kill -9 of the gate at random moments while the thread
#     spends its time stopped for it;
#  3. qemu-sim 10.2 and 11.1: a manual hold, a deadline, the three policies;
#  4. each real QEMU (Debian's 7.2 and 10.0) migrating a dirtying guest (TCG): a hold on a VM that
#     is not migrating, an unheld migration, a migration held 3 s past the
#     point where the unheld one completed, a deadline, and kill -9 of the gate
#     at random moments during holds, many times.
# What a hold costs a real migration is measured in make bench (tests/bench/harm.sh).
# SWACK_GATE_PARTS="1 3" runs only those parts (default: 1 to 4).
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/qemu.sh"

GD=$(mktemp -d)
OURS=()            # every process this test started besides QEMU: killed by pid
gate_cleanup() {
	local p
	for p in "${OURS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$GD"
}
trap gate_cleanup EXIT
HUGE=4611686018427387904   # what a held 8.x / 11.1 query reports (1 << 62)
KILLS=${SWACK_GATE_KILLS:-10}            # of the gate during holds, on each real QEMU
LOOP_KILLS=${SWACK_GATE_LOOP_KILLS:-10}  # during the tight loop's holds

# ---- helpers ------------------------------------------------------------------

# gate_start ARGS...: `swack gate run ARGS` in the background: GATE (pid),
# GOUT, GERR.  Waits for its attach line per -p (and swack's own per -p when
# a policy runs the observation programs too), up to 30 s (loading the BPF
# programs can take seconds on a loaded host).
GN=0
gate_start() {
	local want=0 obs=0 a i
	for a in "$@"; do
		[[ $a == -p ]] && want=$((want + 1))
		[[ $a == --until-* || $a == --downtime-budget ]] && obs=1
	done
	GN=$((GN + 1))
	GOUT=$GD/gate$GN.out GERR=$GD/gate$GN.err
	: >"$GERR"
	"$SWACK" gate run "$@" >"$GOUT" 2>>"$GERR" 7>&- &
	GATE=$!
	OURS+=("$GATE")
	for ((i = 0; i < 600; i++)); do
		if [[ $(grep -c '^swack gate: pid .* gate on ' "$GERR") -ge $want ]] &&
			[[ $obs -eq 0 || $(grep -c '^swack: pid ' "$GERR") -ge $want ]]; then
			return 0
		fi
		if ! kill -0 "$GATE" 2>/dev/null; then
			echo "# gate run failed: $(cat "$GERR")"
			ps -eo pid,ppid,stat,etime,args | grep '[s]wack gate run' | sed 's/^/#   /'
			ino=$(stat -c %i /sys/fs/bpf/swack)
			grep ":$ino " /proc/locks | sed 's/^/#   lock: /'
			for h in $(awk -v i=":$ino" '$6 ~ i"$" { print $5 }' /proc/locks); do
				echo "#   holder $h: $(tr '\0' ' ' </proc/$h/cmdline 2>/dev/null)"
			done
			return 1
		fi
		sleep 0.05
	done
	echo "# gate run not attached after 30 s: $(cat "$GERR")"
	return 1
}
gone() {
	local i
	wait "$1" 2>/dev/null
	for ((i = 0; i < 100; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
}
gate_stop() { kill -INT "$GATE" 2>/dev/null; gone "$GATE"; }
gate_kill() { kill -KILL "$GATE" 2>/dev/null; gone "$GATE"; }
gate_hold() { "$SWACK" gate hold "$@" >/dev/null; }

# stopped_threads PID: how many threads of PID are stopped (state T or t).
stopped_threads() {
	local n=0 f st
	for f in /proc/"$1"/task/*/stat; do
		st=$(cat "$f" 2>/dev/null) || continue
		st=${st##*) }
		[[ ${st%% *} == [Tt] ]] && n=$((n + 1))
	done
	echo "$n"
}

# raised PID: queries the running gate raised under the current hold on PID.
raised() {
	"$SWACK" gate status 2>/dev/null | sed -n "s/^hold: pid $1,.* raised \([0-9]*\) of.*/\1/p"
}

# wait_exec PID NAME: until PID runs NAME (a background job forks before it execs).
wait_exec() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ $(readlink "/proc/$1/exe" 2>/dev/null) == */"$2" ]] && return 0
		sleep 0.02
	done
	return 1
}

part() { [[ " ${SWACK_GATE_PARTS:-1 2 3 4} " == *" $1 "* ]]; }

# Under kernel lockdown the gate uses its ptrace actuator (and says so).
[[ -e /sys/kernel/security/lockdown ]] || mount -t securityfs none /sys/kernel/security 2>/dev/null
lockdown=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/security/lockdown 2>/dev/null)
PTRACE=
[[ $lockdown == integrity || $lockdown == confidentiality ]] && PTRACE=1

rand_ms() { echo $(($1 + RANDOM % ($2 - $1 + 1))); }
sleep_ms() { sleep "$(awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }')"; }

# The loop fixture (parts 1 and 2), named like QEMU.
"${CC:-cc}" -O2 -g -pthread "$SWACK_ROOT/tests/fixtures/gate-loop.c" -o "$GD/qemu-system-gateloop" ||
	{ fail "build gate-loop" "cc failed"; exit 1; }

# ---- 1. refusals -----------------------------------------------------------------
if part 1; then

	run_err "hold without a gate" "^swack gate hold: no swack gate run is running" \
		"$SWACK" gate hold -p 1
	run_err "release without a gate" "^swack gate release: no swack gate run is running" \
		"$SWACK" gate release -p 1
	run_err "status without a gate" "^swack gate status: no swack gate run is running" \
		"$SWACK" gate status
	run_err "not QEMU" "^swack gate run: pid $$ \(bash\) is not a QEMU system emulator" \
		"$SWACK" gate run -p $$
	run_err "no such pid" "^swack gate run: no process with pid 4000000$" \
		"$SWACK" gate run -p 4000000
	run_err "not root" "^swack gate run: missing capability CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$SWACK" gate run -p 1
	run_err "without CAP_SYS_PTRACE" "^swack gate run: missing capability CAP_SYS_PTRACE:" \
		setpriv --inh-caps=-sys_ptrace --bounding-set=-sys_ptrace "$SWACK" gate run -p 1
	run_err "without CAP_BPF" "^swack gate run: missing capability CAP_BPF:" \
		setpriv --inh-caps=-bpf,-sys_admin --bounding-set=-bpf,-sys_admin "$SWACK" gate run -p 1
	run_err "hold without CAP_BPF" "^swack gate hold: missing capability CAP_BPF:" \
		setpriv --inh-caps=-bpf,-sys_admin --bounding-set=-bpf,-sys_admin "$SWACK" gate hold -p 1

	# refused BIN REGEX NAME: BIN started, swack gate run refuses it saying REGEX.
	refused() {
		"$1" >/dev/null &
		local pid=$!
		OURS+=("$pid")
		wait_exec "$pid" "${1##*/}"
		run_err "$3" "${2//PID/$pid}" "$SWACK" gate run -p "$pid"
		kill "$pid"
	}
	refused "$SWACK_ROOT/build/fixtures/qemu-system-nosyms" \
		"^swack gate run: pid PID: .*qemu-system-nosyms has no pending-size query symbol" \
		"binary without the query symbol"

	# The loop fixture without libc.so: static.
	if [[ $PTRACE ]]; then
		if cc -O2 -g -pthread -static "$SWACK_ROOT/tests/fixtures/gate-loop.c" \
			-o "$GD/qemu-system-static"; then
			refused "$GD/qemu-system-static" \
				"^swack gate run: pid PID maps no C library .*signal 33 \(SIGSETXID\)" \
				"no glibc: the ptrace actuator refuses"
		else
			fail "no glibc: the ptrace actuator refuses" "cannot build the static fixture (libc6-dev)"
		fi
	fi
fi

# ---- 2. the tight loop: cost, and kill -9 at the worst moments -------------------
if part 2; then
	"$GD/qemu-system-gateloop" >"$GD/loop.out" &
	loop=$!
	OURS+=("$loop")
	wait_exec "$loop" qemu-system-gateloop
	if [[ $PTRACE ]]; then
		run_err "--actuator write under lockdown: refused" \
			"^swack gate run: the kernel refuses bpf_probe_write_user \(.*lockdown $lockdown\): use --actuator ptrace or auto" \
			"$SWACK" gate run --actuator write -p "$loop"
		# A fresh machine: neither bpffs nor securityfs mounted (a private mount
		# namespace): the gate mounts both, and says the same one line.
		fresh='umount -l /sys/fs/bpf 2>/dev/null; umount -l /sys/kernel/security 2>/dev/null
			exec "$0" gate run $2 --actuator write -p "$1"'
		run_err "--actuator write under lockdown, bpffs and securityfs unmounted: refused" \
			"^swack gate run: the kernel refuses bpf_probe_write_user \(.*lockdown $lockdown\): use --actuator ptrace or auto" \
			unshare -m --propagation private sh -c "$fresh" "$SWACK" "$loop" ""
		expect_match "bpffs unmounted: mounted by the gate, said under -v" \
			"swack gate: mounted bpffs at /sys/fs/bpf" \
			"$(unshare -m --propagation private sh -c "$fresh" "$SWACK" "$loop" -v 2>&1)"
	fi
	gate_start -p "$loop" || exit 1
	if [[ $PTRACE ]]; then
		expect_match "actuator: ptrace under lockdown" \
			"actuator ptrace .*: kernel lockdown '$lockdown' refuses bpf_probe_write_user" "$(cat "$GERR")"
	else
		expect_match "actuator: write without lockdown" "actuator write .*" "$(cat "$GERR")"
	fi
	expect_match "attach line names the query and glibc" \
		"pid $loop \(qemu-system-gat\): QEMU <=7.2, gate on qemu_savevm_state_pending \(entry and return\) in [0-9.]+ ms; glibc [0-9.]+ \(signal 33 is SIGSETXID, handled\)" \
		"$(cat "$GERR")"
	pins=$(stat -c '%a %n' /sys/fs/bpf/swack /sys/fs/bpf/swack/gate_* | paste -sd' ')
	expect_eq "pinned maps mode 0600 but the log (0644), their directory 0711" \
		"711 /sys/fs/bpf/swack 600 /sys/fs/bpf/swack/gate_ctl 600 /sys/fs/bpf/swack/gate_holds 644 /sys/fs/bpf/swack/gate_log 600 /sys/fs/bpf/swack/gate_stats 600 /sys/fs/bpf/swack/gate_targets" \
		"$pins"
	run_err "one gate per host" "^swack gate run: another swack gate run \(pid $GATE\) is running" \
		"$SWACK" gate run -p "$loop"
	run_err "hold on a pid the gate does not watch" \
		"^swack gate hold: pid $$ \(bash\) is not a QEMU system emulator" "$SWACK" gate hold -p $$

	# loop_rate SECONDS: "iterations/s held/s" over the next SECONDS.
	loop_rate() {
		local a b i
		a=$(tail -n 1 "$GD/loop.out")
		sleep "$1"
		for ((i = 0; i < 60; i++)); do
			b=$(tail -n 1 "$GD/loop.out")
			[[ $b != "$a" ]] && break
			sleep 0.05
		done
		awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y); t = (y[1] - x[1]) / 1e9;
			if (t <= 0) { print "0 0"; exit }
			printf "%.0f %.0f\n", (y[2] - x[2]) / t, (y[3] - x[3]) / t }'
	}
	sleep 0.3
	[[ $PTRACE ]] && expect_match "the querying thread is seized" "gate_seized +thread=[0-9]+ seen_at=qemu_savevm_state_pending" \
		"$(cat "$GOUT")"
	# The best of two windows: other load on the host only ever slows a window.
	best() { { loop_rate 1; loop_rate 1; } | sort -n -k1 | tail -n 1; }
	read -r unheld _ < <(best)
	gate_hold -p "$loop" --max-hold 60s --reason "loop bench"
	sleep 0.2
	read -r it_s held_s < <(best)
	expect_num "held: every iteration held (held/s vs iterations/s)" "$held_s" ">=" "$(awk -v i="$it_s" 'BEGIN { print i * 0.99 }')"
	expect_num "held: thousands of held iterations per second" "$held_s" -ge 1000
	echo "# bench: loop with the gate's probes: unheld $unheld iterations/s, held $it_s" \
		"iterations/s ($held_s held/s, $(awk -v h="$it_s" 'BEGIN { printf "%.1f", 1e6 / h }') us each)"
	st=$("$SWACK" gate status)
	expect_match "status: the hold, its time left, queries raised" \
		"hold: pid $loop, command, placed [0-9.]+ s ago, [0-9.]+ s left, raised [1-9][0-9]* of [1-9][0-9]* queries \(missed 0\), reason \"loop bench\"" \
		"$st"
	"$SWACK" gate release -p "$loop" >/dev/null
	sleep 0.2
	read -r _ after < <(loop_rate 0.5)
	expect_eq "release: nothing held any more" 0 "$after"
	expect_match "release reported with its cause" \
		'gate_release +reason="swack gate release" cause=command held=[0-9.]+s raised=[1-9]' "$(cat "$GOUT")"
	grep -h gate_cost "$GOUT" | sed 's/^ */# bench: loop, a held thread stopped per query: /'

	# kill -9 at random moments while every query is held.
	dead=0 stopped=0 stuck=0
	for ((k = 1; k <= LOOP_KILLS; k++)); do
		gate_hold -p "$loop" --max-hold 60s
		sleep_ms "$(rand_ms 20 400)"
		gate_kill
		[[ $(stopped_threads "$loop") -eq 0 ]] || stopped=$((stopped + 1))
		kill -0 "$loop" 2>/dev/null || { dead=$((dead + 1)); break; }
		read -r it _ < <(loop_rate 0.15)
		[[ $it -gt 0 ]] || stuck=$((stuck + 1))
		gate_start -p "$loop" || break
	done
	kills=$((k - 1))
	expect_eq "loop: $kills kills -9 of the gate while holding: process alive (signal 33 ignored)" 0 "$dead"
	expect_eq "loop: no thread left stopped after any kill" 0 "$stopped"
	expect_eq "loop: the thread runs on after every kill" 0 "$stuck"
	gate_stop
	kill "$loop"
fi

# ---- 3. qemu-sim 10.2 and 11.1 ------------------------------------------------------

# sim_start GEN SCENARIO [DIR]: qemu-sim (from DIR, default build/fixtures)
# waiting on a pipe: SIM, SIMOUT, SIMSYNC.
SN=0
sim_start() {
	SN=$((SN + 1))
	SIMOUT=$GD/sim$SN.out SIMSYNC=$GD/sim$SN.sync
	mkdir "$SIMSYNC"
	mkfifo "$GD/sim$SN.in"
	exec 7<>"$GD/sim$SN.in"
	QEMU_SIM_SYNC=$SIMSYNC "${3:-$SWACK_ROOT/build/fixtures}/qemu-system-sim$1" -q -w \
		"$SWACK_ROOT/tests/fixtures/$2" <&7 >"$SIMOUT" 2>&1 &
	SIM=$!
	OURS+=("$SIM")
	wait_exec "$SIM" "qemu-system-sim$1"
}
sim_go() { echo go >&7; exec 7>&-; }
sim_wait() {
	local i
	for ((i = 0; i < 600; i++)); do kill -0 "$SIM" 2>/dev/null || break; sleep 0.1; done
	wait "$SIM"
}
wait_file() {
	local i
	for ((i = 0; i < 300; i++)); do [[ -e $1 ]] && return 0; sleep 0.1; done
	return 1
}

if part 3; then
	for gen in 102 111; do
		sim_start "$gen" gate-hold.src
		gate_start -p "$SIM" || exit 1
		# Observers of the same process: the hold and the release reach them.
		"$SWACK" trace -p "$SIM" >"$GD/trace$gen.out" 2>"$GD/trace$gen.err" &
		tr_pid=$!
		"$SWACK" record -f -o "$GD/hold$gen.data" -p "$SIM" 2>"$GD/rec$gen.err" &
		rec_pid=$!
		eport=$(qemu_free_port)
		"$SWACK" exporter --listen "127.0.0.1:$eport" -p "$SIM" 2>"$GD/exp$gen.err" &
		exp_pid=$!
		OURS+=("$tr_pid" "$rec_pid" "$exp_pid")
		wait_attached "$GD/trace$gen.err" 1 && wait_attached "$GD/rec$gen.err" 1 &&
			wait_attached "$GD/exp$gen.err" 1
		gate_hold -p "$SIM" --max-hold 60s --reason "sim hold"
		sim_go
		wait_file "$SIMSYNC/step1"
		sleep 0.3
		expect_eq "sim $gen: exporter says the switchover is held" \
			"swack_gate_hold_active{pid=\"$SIM\",vm=\"\",uuid=\"\"} 1" \
			"$(curl -s "http://127.0.0.1:$eport/metrics" | grep '^swack_gate_hold_active')"
		"$SWACK" gate release -p "$SIM" >/dev/null
		touch "$SIMSYNC/released"
		sim_wait
		sleep 0.3
		expect_eq "sim $gen: exporter says it was released" \
			"swack_gate_hold_active{pid=\"$SIM\",vm=\"\",uuid=\"\"} 0" \
			"$(curl -s "http://127.0.0.1:$eport/metrics" | grep '^swack_gate_hold_active')"
		kill -INT "$tr_pid" "$rec_pid" "$exp_pid"
		wait "$tr_pid" "$rec_pid" "$exp_pid"
		expect_match "sim $gen: swack trace shows the hold and the release" \
			'gate_hold +reason="sim hold" origin=command max_hold=60.000s value=0 .*gate_release +reason="swack gate release" cause=command held=[0-9.]+s raised=[1-9]' \
			"$(grep ' gate_' "$GD/trace$gen.out" | tr '\n' ' ')"
		expect_match "sim $gen: the recording keeps them (swack script --json)" \
			'"event":"gate_hold","reason":"sim hold","origin":"command","max_hold":60000000000,.*"event":"gate_release","reason":"swack gate release","cause":"command"' \
			"$("$SWACK" script --json "$GD/hold$gen.data" | grep gate_ | tr '\n' ' ')"
		"$SWACK" export --format chrome -o "$GD/hold$gen.json" "$GD/hold$gen.data" 2>/dev/null
		expect_eq "sim $gen: Chrome trace: the hold as a span of its duration" \
			"$("$SWACK" script --json "$GD/hold$gen.data" |
				jq -s '[.[] | select(.event == "gate_release")][0].held / 1e3')" \
			"$(jq '[.traceEvents[] | select(.name == "swack gate hold")][0].dur' "$GD/hold$gen.json")"
		held=$("$SWACK" diagnose --json "$GD/hold$gen.data" 2>/dev/null |
			jq -c '.diagnoses[0].findings[] | select(.id == "switchover-held")')
		expect_match "sim $gen: swack diagnose names the hold" \
			'"title":"swack gate held the switchover for [0-9.]+ s \(\\"sim hold\\"\), released by command' "$held"
		expect_num "sim $gen: diagnose counts the raised decisions" \
			"$(jq '.figures.raised // 0' <<<"${held:-null}")" -gt 0
		expect_match "sim $gen: held step ran all its iterations without converging" \
			"^iterate iterations=400 converged=no pending=$HUGE threshold=30000000" "$(sed -n 1p "$SIMOUT")"
		expect_match "sim $gen: released, the next step converges by itself" \
			"^iterate iterations=281 converged=yes" "$(sed -n 2p "$SIMOUT")"
		gate_stop
		expect_match "sim $gen: hold and release reported" \
			'gate_hold +reason="sim hold" origin=command.*gate_release +reason="swack gate release" cause=command held=[0-9.]+s raised=[1-9]' \
			"$(tr '\n' ' ' <"$GOUT")"

		sim_start "$gen" gate-deadline.src
		gate_start -p "$SIM" || exit 1
		gate_hold -p "$SIM" --max-hold 500ms
		sim_go
		sim_wait
		line=$(sed -n 1p "$SIMOUT")
		n=$(sed -n 's/.*iterations=\([0-9]*\).*/\1/p' <<<"$line")
		expect_match "sim $gen deadline: converged once the hold expired" "^iterate iterations=[0-9]+ converged=yes" "$line"
		expect_num "sim $gen deadline: long after it would have (iteration 98)" "${n:-0}" -gt 200
		gate_stop
		expect_match "sim $gen deadline: released by its deadline" \
			'gate_release +reason="0.500s max-hold reached" cause=deadline' "$(cat "$GOUT")"

		sim_start "$gen" "gate-acked-$gen.src"
		gate_start -p "$SIM" --until-acked || exit 1
		sim_go
		sim_wait
		expect_match "sim $gen --until-acked: held while the ACK was pending" \
			"^iterate iterations=300 converged=no pending=$HUGE" "$(sed -n 1p "$SIMOUT")"
		expect_match "sim $gen --until-acked: converges once acked" \
			"^iterate iterations=[0-9]+ converged=yes" "$(sed -n 2p "$SIMOUT")"
		gate_stop
		expect_match "sim $gen --until-acked: policy hold and release" \
			'gate_hold +reason="policy: acked" origin=policy.*gate_release +reason="acked[^"]*" cause=policy' \
			"$(tr '\n' ' ' <"$GOUT")"
	done

	# 11.1's MigPendingData: the total raised, the ACK count left alone; the
	# offsets from the stand-in's DWARF, then, stripped of it, the layout of
	# the switchover-ack patch, said on the attach line; then with the gate's
	# probes in per-probe uprobe links (SWACK_UPROBE_MULTI=0).
	mkdir "$GD/nodwarf"
	strip --strip-debug -o "$GD/nodwarf/qemu-system-sim111" "$SWACK_ROOT/build/fixtures/qemu-system-sim111"
	dwarf="MigPendingData from DWARF: precopy_bytes at 0, total_bytes at 32 \(switchover_ack_pending at 24, left alone\)"
	for what in DWARF "no DWARF" "per-probe links"; do
		dir= note=$dwarf links="[0-9]+ multi-uprobe links, one per program" multi=
		[[ $what == "no DWARF" ]] && dir=$GD/nodwarf note="MigPendingData not known \(no DWARF in the binary or its debuginfo\): assumed the switchover-ack patch's layout, precopy_bytes at 0, total_bytes at 32"
		[[ $what == per-probe* ]] && multi=0 links="2 uprobe links, one per probe site \(SWACK_UPROBE_MULTI=0\)"
		sim_start 111 gate-layout-111.src "$dir"
		SWACK_UPROBE_MULTI=$multi gate_start -p "$SIM" || exit 1
		expect_match "sim 111 MigPendingData, $what: the offsets, and where they come from" \
			"pid $SIM \(qemu-system-sim\): QEMU 11.1\+, gate on qemu_savevm_query_pending_iter .*; $note; $links" \
			"$(cat "$GERR")"
		gate_hold -p "$SIM" --max-hold 60s --reason "layout"
		sim_go
		sim_wait
		expect_eq "sim 111 MigPendingData, $what: total raised, the 1 ACK asked read back untouched, 2 counted an iteration" \
			"iterate iterations=200 converged=no pending=$HUGE threshold=30000000 reason=pending-above-threshold ack_requested=1 ack_pending_num=400" \
			"$(sed -n 1p "$SIMOUT")"
		gate_stop
	done

	sim_start 111 gate-settled.src
	gate_start -p "$SIM" --until-settled 0000:3b:00.1:200 || exit 1
	sim_go
	sim_wait
	expect_match "sim 111 --until-settled: held while the device had initial bytes" \
		"^iterate iterations=300 converged=no pending=$HUGE" "$(sed -n 1p "$SIMOUT")"
	expect_match "sim 111 --until-settled: converges once settled" \
		"^iterate iterations=[0-9]+ converged=yes" "$(sed -n 2p "$SIMOUT")"
	gate_stop
	expect_match "sim 111 --until-settled: released by the policy" \
		'gate_release +reason="settled [0-9]+ms" cause=policy' "$(cat "$GOUT")"

	sim_start 102 gate-budget.src
	gate_start -p "$SIM" --downtime-budget 100 || exit 1
	sim_go
	sim_wait
	line=$(sed -n 1p "$SIMOUT")
	n=$(sed -n 's/.*iterations=\([0-9]*\).*/\1/p' <<<"$line")
	p=$(sed -n 's/.* pending=\([0-9]*\).*/\1/p' <<<"$line")
	expect_match "sim 102 --downtime-budget: converged" "^iterate iterations=[0-9]+ converged=yes" "$line"
	expect_num "sim 102 --downtime-budget: later than by QEMU's threshold alone (701)" "${n:-0}" -gt 800
	expect_num "sim 102 --downtime-budget: with 10 MB or less left (100 ms at 100 MB/s)" "${p:-1e18}" -le 10000000
	gate_stop
	expect_match "sim 102 --downtime-budget: released by the policy" \
		'gate_release +reason="downtime [0-9.]+ms" cause=policy' "$(cat "$GOUT")"
fi

# ---- 4. real QEMUs: Debian's 7.2 and 10.0 ------------------------------------------

# real_setup VERSION: the first VM of that real QEMU, booted; helpers.
real_setup() {
	# A busy host slows TCG guests down a lot: be patient with QMP.
	export QMP_TIMEOUT=${QMP_TIMEOUT:-120}
	qemu_use "$1" || return 1
	Q="QEMU $1"
	qemu_setup_dir || exit 1
	V=0
	# Every VM of the run is one guest to its operators, as libvirt starts
	# them: the same -name and -uuid on the source and on each destination.
	GUEST=gate-${1//./} UUID=6a1e0c2b-7d3f-4b8e-9c5a-$(printf '%012d' "${1//./}")
	qemu_identity vm0 "$GUEST" "$UUID"
	qemu_start_src vm0 >/dev/null || exit 1
	qemu_wait_booted vm0 300 >/dev/null || exit 1
	cur() { qemu_pid "vm$V"; }

	# migrate_start [BW]: a destination vm$((V+1)); migrate vm$V to it.
	# Split in two where a hold is placed between them: a destination can take
	# seconds to start on a loaded host, and a hold's deadline runs from its
	# placing.  MIG_T0 is taken once QEMU accepted the migration, so that
	# elapsed time never runs ahead of QEMU's own total-time.
	migrate_start() { dst_start && migrate_go "$@"; }
	dst_start() {
		PORT=$(qemu_free_port) || return 1
		qemu_identity "vm$((V + 1))" "$GUEST" "$UUID"
		qemu_start_dst "vm$((V + 1))" "$PORT" >/dev/null
	}
	migrate_go() {
		qemu_migrate "vm$V" "vm$((V + 1))" "$PORT" "${1:-40000000}" || return 1
		MIG_T0=$(date +%s.%N)
	}
	elapsed() { awk -v t="$MIG_T0" -v n="$(date +%s.%N)" 'BEGIN { printf "%.3f", n - t }'; }
	mig_status() { qemu_query_migrate "vm$V" | jq -r '.status // "none"'; }
	# migrate_end: the destination becomes the current VM; the old source goes.
	migrate_end() {
		qemu_stop "vm$V"
		V=$((V + 1))
	}
	# ticks_advance VM [SECONDS]: the guest printed another tick within
	# SECONDS (default 10).  A tick is a pass over its dirty memory: longer
	# than a second under TCG right after a migration, on a loaded host.
	ticks_advance() {
		local a b i
		a=$(qemu_ticks "$1")
		for ((i = 0; i < ${2:-10} * 4; i++)); do
			sleep 0.25
			b=$(qemu_ticks "$1")
			[[ $b -gt $a ]] && { echo yes; return; }
		done
		echo "no ($a -> $b in ${2:-10} s; $(qemu_liveness "$1"))"
	}
}

real_part4() {
	# A hold on a VM that is not migrating changes nothing.  The gate watches
	# the VM by its name: its one process.
	src=$(cur)
	gate_start -p "$GUEST" || exit 1
	expect_eq "$Q: gate run -p NAME: watches the VM's process" "$src" \
		"$("$SWACK" gate status | sed -n 's/^watch: pid \([0-9]*\) .*/\1/p' | paste -sd,)"
	gate_hold -p "$src" --max-hold 60s --reason "not migrating"
	expect_eq "$Q: not migrating: the guest keeps running under a hold" yes "$(ticks_advance "vm$V")"
	expect_eq "$Q: not migrating: QEMU still running" running \
		"$(qmp "vm$V" '{"execute":"query-status"}' | jq -r .return.status)"
	expect_match "$Q: not migrating: nothing queried, nothing raised" \
		"hold: pid $src, command, .* raised 0 of 0 queries" "$("$SWACK" gate status)"
	expect_eq "$Q: not migrating: no thread stopped" 0 "$(stopped_threads "$src")"
	"$SWACK" gate release -p "$src" >/dev/null

	# Unheld, gate attached: the reference.
	migrate_start || exit 1
	expect_eq "$Q: unheld migration completed" completed "$(qemu_wait_migration "vm$V" 120)"
	q=$(qemu_query_migrate "vm$V")
	T0=$(jq -r '."total-time"' <<<"$q")
	DT0=$(jq -r .downtime <<<"$q")
	echo "# $Q: unheld: total ${T0} ms, downtime ${DT0} ms"
	[[ $PTRACE ]] && expect_match "$Q: the migration thread was seized at its first act" \
		"gate_seized +thread=[0-9]+ seen_at=qemu_savevm_state_setup" "$(cat "$GOUT")"
	gate_stop
	migrate_end

	# Held until 3 s past the unheld completion, then released; by the VM's
	# name and UUID, which its destination shares: the gate watches the source.
	src=$(cur)
	gate_start -p "$src" || exit 1
	dst_start || exit 1
	out=$("$SWACK" gate hold -p "$GUEST" --max-hold "$((T0 / 1000 + 120))s" \
		--reason "maintenance window" 2>&1)
	expect_eq "$Q: hold by the VM's name: its source, not its destination" \
		"swack gate: pid $src of VM $GUEST held (swack gate run pid $GATE) until released or for $((T0 / 1000 + 120)).000s" \
		"$out"
	migrate_go || exit 1
	until awk -v e="$(elapsed)" -v t="$T0" 'BEGIN { exit !(e * 1000 >= t + 1000) }'; do sleep 0.1; done
	t1=$(qemu_ticks "vm$V")
	until awk -v e="$(elapsed)" -v t="$T0" 'BEGIN { exit !(e * 1000 >= t + 2500) }'; do sleep 0.1; done
	st=$(mig_status)
	t2=$(qemu_ticks "vm$V")
	expect_eq "$Q: held: QMP says active 2.5 s after the unheld run had completed" active "$st"
	expect_num "$Q: held: the source guest kept running during the hold (ticks)" "$t2" -gt "$t1"
	# Held at convergence: the gate raises QEMU's answers (soon, if not yet).
	for ((i = 0; i < 600; i++)); do [[ $(raised "$src") -gt 0 ]] && break; sleep 0.1; done
	expect_num "$Q: held: the gate raised QEMU's pending-size answers" "$(raised "$src")" -gt 0
	until awk -v e="$(elapsed)" -v t="$T0" 'BEGIN { exit !(e * 1000 >= t + 3000) }'; do sleep 0.1; done
	out=$("$SWACK" gate release -p "${UUID^^}" 2>&1)
	expect_eq "$Q: released: the migration completes" completed "$(qemu_wait_migration "vm$V" 120)"
	expect_eq "$Q: release by the VM's UUID (any case): its process with a hold" \
		"swack gate: pid $src of VM ${UUID^^} released" "$out"
	q=$(qemu_query_migrate "vm$V")
	T1=$(jq -r '."total-time"' <<<"$q")
	DT1=$(jq -r .downtime <<<"$q")
	echo "# $Q: held 3 s past the unheld completion: total ${T1} ms, downtime ${DT1} ms (unheld ${DT0} ms)"
	expect_num "$Q: released: total time includes the hold" "$T1" -ge $((T0 + 2500))
	expect_eq "$Q: released: the destination guest runs on" yes "$(ticks_advance "vm$((V + 1))")"
	gate_stop
	expect_match "$Q: held: hold and release reported, queries raised" \
		'gate_hold +reason="maintenance window".*gate_release +reason="swack gate release" cause=command held=[0-9.]+s raised=[1-9][0-9]* queries=[1-9][0-9]* missed=0' \
		"$(tr '\n' ' ' <"$GOUT")"
	grep -h 'gate_cost' "$GOUT" | sed 's/^/# /'
	migrate_end

	# A deadline releases by itself.
	src=$(cur)
	gate_start -p "$src" || exit 1
	max=$((T0 * 3 / 2 + 2000))
	dst_start || exit 1
	H0=$(date +%s.%N)
	gate_hold -p "$src" --max-hold "${max}ms"
	migrate_go || exit 1
	# The deadline runs from the hold's placing, QEMU's total-time from the
	# migrate command: what the QMP calls took between the two comes off.
	lead=$(awk -v h="$H0" -v m="$MIG_T0" 'BEGIN { printf "%d", (m - h) * 1000 }')
	expect_eq "$Q: deadline: the migration completes with no release command" completed \
		"$(qemu_wait_migration "vm$V" 120)"
	T2=$(qemu_query_migrate "vm$V" | jq -r '."total-time"')
	expect_num "$Q: deadline: not before the deadline" "$T2" -ge $((max - lead - 500))
	gate_stop
	expect_match "$Q: deadline: released by its deadline" \
		"gate_release +reason=\"[0-9.]+s max-hold reached\" cause=deadline held=[0-9.]+s raised=[1-9]" \
		"$(cat "$GOUT")"
	migrate_end

	# kill -9 of the gate at random moments during holds, until KILLS kills.
	kills=0 held_kills=0 migs=0 incomplete=0 stopped=0 ticking=0
	while ((kills < KILLS)); do
		src=$(cur)
		gate_start -p "$src" || break
		gate_hold -p "$src" --max-hold 300s
		migrate_start 60000000 || break
		migs=$((migs + 1))
		while :; do
			sleep_ms "$(rand_ms 100 1200)"
			[[ $(mig_status) == active ]] || break
			[[ $(raised "$src") -gt 0 ]] && held_kills=$((held_kills + 1))
			gate_kill
			kills=$((kills + 1))
			[[ $(stopped_threads "$src") -eq 0 ]] || stopped=$((stopped + 1))
			[[ $(mig_status) == active ]] || break
			gate_start -p "$src" || break 2
			gate_hold -p "$src" --max-hold 300s
		done
		gate_stop
		[[ $(qemu_wait_migration "vm$V" 120) == completed ]] || incomplete=$((incomplete + 1))
		for p in "$src" "$(qemu_pid "vm$((V + 1))")"; do
			[[ $(stopped_threads "$p") -eq 0 ]] || stopped=$((stopped + 1))
		done
		adv=$(ticks_advance "vm$((V + 1))")
		[[ $adv == yes ]] || { ticking=$((ticking + 1)); echo "# $Q: kill -9: migration $migs: $adv"; }
		migrate_end
	done
	echo "# $Q: kill -9: $kills kills over $migs migrations, $held_kills while the gate was raising queries"
	expect_num "$Q: kill -9 of the gate during holds, many times" "$kills" -ge "$KILLS"
	expect_num "$Q: some kills landed while queries were being raised" "$held_kills" -ge 1
	expect_eq "$Q: kill -9: every migration completed" 0 "$incomplete"
	expect_eq "$Q: kill -9: no QEMU thread left stopped (state T or t)" 0 "$stopped"
	expect_eq "$Q: kill -9: every destination guest runs on" 0 "$ticking"
}

if part 4; then
	for v in $SWACK_QEMU_VERSIONS; do
		if real_setup "$v"; then
			real_part4
		else
			fail "QEMU $v" "not installed (run scripts/deps.sh)"
		fi
		qemu_cleanup
	done
fi
