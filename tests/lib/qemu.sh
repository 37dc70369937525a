# shellcheck shell=bash
# Helpers to run real QEMU live migrations (source + destination on loopback)
# for swack's tests and demo. Source it:  . tests/lib/qemu.sh
#
# The guest (scripts/mkguest.sh) is a Debian kernel + busybox initramfs that
# rewrites DIRTY_MIB of RAM in a loop and prints "swack-tick N" per pass on
# its serial port, so migrations need several dirty-sync rounds and tests can
# see that the guest keeps running on the destination.
#
# Sourcing only defines functions and variables: it does not change shell
# options, and every function reports errors by status + one stderr line, so
# it works with or without `set -e` in the caller.
#
# Per-VM files, NAME being [A-Za-z0-9_-]+:
#   $QDIR/NAME.serial  guest console      $QDIR/NAME.qmp  QMP socket
#   $QDIR/NAME.log     QEMU stdout/err    $QDIR/NAME.pid  pid (ours, kept)
#
# Environment:
#   SWACK_GUEST_DIR   guest image cache (default /var/tmp/swack-guest)
#   SWACK_DIRTY_MIB   default MiB dirtied per pass (default 64)
#   SWACK_MIGRATE_BW  default max-bandwidth in bytes/s for qemu_migrate when
#                     no 4th argument (default 40000000; empty = QEMU default)
#   SWACK_QEMU_MEM    guest RAM, -m syntax (default 524280k, see below)
#   SWACK_KEEP_QDIR   if non-empty, cleanup leaves $QDIR in place
#   QEMU_BIN          default qemu-system-x86_64 (qemu_use sets it)
#   SWACK_QEMU_VERSIONS the real QEMUs a test runs on, in order (default
#                     "7.2 10.0"); qemu_use VERSION selects one
#   SWACK_QEMU10_DIR  where scripts/deps.sh unpacked Debian's QEMU 10.0
#   SWACK_GUEST_MODE  the guest's workload (mkguest.sh): empty = dirty memory,
#                     echo = the `echo t` loop on ttyS1 (see qemu_serial_clock)
#   QEMU_EXTRA        (array) more arguments for every QEMU started
#   QEMU_NAME_OPTS    more -name options for the next qemu_start_* (e.g.
#                     debug-threads=on: vCPU threads named "CPU n/TCG")
#   QEMU_SMP          -smp for the next qemu_start_* (default: QEMU's, 1 vCPU)

[[ -n ${_SWACK_QEMU_LIB:-} ]] && return 0
_SWACK_QEMU_LIB=1

_QEMU_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${SWACK_GUEST_DIR:=/var/tmp/swack-guest}"
# 64 MiB at 40 MB/s: about 3 s and 3+ dirty syncs per migration here (TCG).
: "${SWACK_DIRTY_MIB:=64}"
: "${SWACK_MIGRATE_BW=40000000}"
: "${QEMU_BIN:=qemu-system-x86_64}"
: "${SWACK_QEMU_VERSIONS:=7.2 10.0}"
: "${SWACK_QEMU10_DIR:=/var/tmp/swack-qemu-10.0}"
# Extra arguments of the selected QEMU (firmware paths of an unpacked one).
QEMU_ARGS=()
QEMU_EXTRA=()
QEMU_VERSION=7.2
# 1 when the selected QEMU has the switchover-ack capability (8.1 and later):
# qemu_migrate then turns it on, with return-path, at both ends.
QEMU_SWITCHOVER_ACK=0
# Where the destination listens and the source connects (a test host's address).
: "${SWACK_MIGRATE_HOST:=127.0.0.1}"
# 512 MiB minus 8 KiB, on purpose. QEMU < 9.0 under TCG loses guest writes
# during migration: its dirty-bitmap sync fast path (taken when a RAM block is
# a multiple of 64 pages) clears dirty bits without resetting the TCG TLB, so
# later stores through cached TLB entries are never marked dirty (fixed
# upstream by 03bfc2188f, "physmem: Fix migration dirty bitmap coherency with
# TCG memory access", not in Debian's 7.2). With -m 512 the destination guest
# crashes (kernel stack corruption) in most 64 MiB runs. An odd RAM size makes
# QEMU use the per-page sync path, which does reset the TLB.
: "${SWACK_QEMU_MEM:=524280k}"
# Never adopt a QDIR from the environment: cleanup kills and deletes what is
# in $_QEMU_DIR, so only a directory made by our own qemu_setup_dir counts.
QDIR=
_QEMU_DIR=
declare -gA QEMU_PIDS=()
declare -gA QEMU_IDENT=()

_qemu_err() { echo "qemu.sh: ${FUNCNAME[1]}: $*" >&2; }

# NAME becomes part of file names: keep it to a safe alphabet.
_qemu_check_name() {
	[[ ${1:-} =~ ^[A-Za-z0-9_-]+$ ]] && return 0
	echo "qemu.sh: ${FUNCNAME[1]}: bad VM name '${1:-}' (want [A-Za-z0-9_-]+)" >&2
	return 1
}

_qemu_check_dir() {
	[[ -n $_QEMU_DIR && $QDIR == "$_QEMU_DIR" && -d $QDIR ]] && return 0
	echo "qemu.sh: ${FUNCNAME[1]}: no QDIR, call qemu_setup_dir first" >&2
	return 1
}

_qemu_is_uint() { [[ ${1:-} =~ ^[0-9]+$ ]]; }

# True if PID exists and is not a zombie (kill -0 alone says yes to zombies).
_qemu_alive() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[[ ${st%% *} != Z ]]
}

# True if PID is alive and one of ours: our child, or its command line names
# our QDIR. So a recycled pid of some other process is never touched.
_qemu_ours() {
	local pid=$1 cmd st
	[[ -n $_QEMU_DIR ]] && _qemu_alive "$pid" || return 1
	read -r st 2>/dev/null <"/proc/$pid/stat" || return 1
	st=${st##*) }
	st=${st#* } # drop state; ppid follows
	[[ ${st%% *} == "$BASHPID" ]] && return 0
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
	[[ $cmd == *"$_QEMU_DIR/"* ]]
}

# SIGTERM the given pids (ours only), SIGKILL whatever is left after 2 s,
# then reap those that are our children.
_qemu_kill() {
	local pid live i
	for pid in "$@"; do
		_qemu_ours "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for ((i = 0; i < 40; i++)); do
		live=0
		for pid in "$@"; do _qemu_ours "$pid" && live=1; done
		((live)) || break
		((i == 20)) && for pid in "$@"; do
			_qemu_ours "$pid" && kill -KILL "$pid" 2>/dev/null
		done
		sleep 0.1
	done
	for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
	return 0
}

# qemu_use VERSION: the real QEMU the next qemu_start_* run: 7.2 (Debian 12's,
# installed) or 10.0 (Debian's from bookworm-backports, unpacked by deps.sh).
# Checks that the binary reports that version.
qemu_use() {
	local v=${1:-} out
	case $v in
	7.2) QEMU_BIN=/usr/bin/qemu-system-x86_64 QEMU_ARGS=() QEMU_SWITCHOVER_ACK=0 ;;
	10.0)
		QEMU_BIN=$SWACK_QEMU10_DIR/usr/bin/qemu-system-x86_64
		QEMU_ARGS=(-L /usr/share/seabios -L "$SWACK_QEMU10_DIR/usr/share/qemu")
		QEMU_SWITCHOVER_ACK=1
		;;
	*) _qemu_err "unknown QEMU version '$v' (want 7.2 or 10.0)"; return 1 ;;
	esac
	out=$("$QEMU_BIN" --version 2>&1 | head -n 1)
	[[ $out == "QEMU emulator version $v."* ]] ||
		{ _qemu_err "$QEMU_BIN is not QEMU $v ('$out'): run scripts/deps.sh"; return 1; }
	QEMU_VERSION=$v
}

# Build (or reuse) the guest image; mkguest.sh is cheap when nothing changed.
qemu_guest() {
	"$_QEMU_ROOT/scripts/mkguest.sh" "$SWACK_GUEST_DIR"
}

# Create a fresh $QDIR and arrange that every QEMU we start is killed and
# $QDIR removed when the shell exits or gets INT/TERM. Earlier traps are kept
# (run after ours). Calling it again first cleans up the previous QDIR.
qemu_setup_dir() {
	[[ -n $_QEMU_DIR ]] && qemu_cleanup
	QDIR=$(mktemp -d) || {
		_qemu_err "mktemp failed"
		return 1
	}
	_QEMU_DIR=$QDIR
	_qemu_trap EXIT 'qemu_cleanup'
	_qemu_trap INT 'qemu_cleanup; exit 130'
	_qemu_trap TERM 'qemu_cleanup; exit 143'
}

# Install CMD as the SIG trap, chaining an existing foreign trap after it.
_qemu_trap() {
	local sig=$1 cmd=$2 prev
	prev=$(trap -p "$sig")
	if [[ -n $prev ]]; then
		eval "set -- $prev" # trap -- 'command' SIG
		prev=$3
		# Ours from an earlier setup: keep what was chained after it.
		[[ $prev == qemu_cleanup ]] && prev=
		prev=${prev#qemu_cleanup; }
		[[ $prev =~ ^(.*)\;\ exit\ [0-9]+$ ]] && prev=${BASH_REMATCH[1]}
		[[ $prev =~ ^exit\ [0-9]+$ ]] && prev=
	fi
	if [[ -n $prev && $cmd == *exit* ]]; then
		cmd="qemu_cleanup; $prev; ${cmd#qemu_cleanup; }"
	elif [[ -n $prev ]]; then
		cmd="$cmd; $prev"
	fi
	# shellcheck disable=SC2064 # expand now, on purpose
	trap "$cmd" "$sig"
}

# Kill every QEMU started under $QDIR and remove it. Safe to call twice.
qemu_cleanup() {
	local f pids=()
	[[ -n $_QEMU_DIR && -d $_QEMU_DIR ]] || { QDIR='' _QEMU_DIR='' && return 0; }
	# Pid files, not just QEMU_PIDS: qemu_start_* may have run in $(...).
	for f in "$_QEMU_DIR"/*.pid; do
		[[ -f $f ]] && pids+=("$(<"$f")")
	done
	pids+=("${QEMU_PIDS[@]}")
	((${#pids[@]})) && _qemu_kill "${pids[@]}"
	QEMU_PIDS=()
	if [[ -n ${SWACK_KEEP_QDIR:-} ]]; then
		echo "qemu.sh: kept $_QEMU_DIR" >&2
	else
		rm -rf "$_QEMU_DIR"
	fi
	QDIR='' _QEMU_DIR=''
}

# qemu_identity NAME GUEST [UUID]: start VM NAME as management tools do, with
# -name guest=GUEST,debug-threads=on (and -uuid UUID), instead of -name swack-NAME.
qemu_identity() {
	_qemu_check_name "${1:-}" || return 1
	[[ -n ${2:-} ]] || { _qemu_err "no guest name"; return 1; }
	QEMU_IDENT[$1]="-name guest=$2,debug-threads=on${3:+ -uuid $3}"
}

# _qemu_start NAME DIRTY_MIB [extra qemu args...]: start one VM and wait
# until its QMP monitor answers (for a destination that also means it is
# listening: QEMU serves QMP only after setting up -incoming).
_qemu_start() {
	local name=$1 dirty=$2 pid i ident
	shift 2
	read -r -a ident <<<"${QEMU_IDENT[$name]:-"-name swack-$name${QEMU_NAME_OPTS:+,$QEMU_NAME_OPTS}"}"
	if [[ -f $QDIR/$name.pid ]] && _qemu_ours "$(<"$QDIR/$name.pid")"; then
		_qemu_err "VM '$name' is already running"
		return 1
	fi
	qemu_guest || return 1
	rm -f "$QDIR/$name".{serial,qmp,log}
	# QEMU_NETNS: run it in that network namespace (a test's second "host").
	${QEMU_NETNS:+ip netns exec "$QEMU_NETNS"} "$QEMU_BIN" "${ident[@]}" ${QEMU_SMP:+-smp "$QEMU_SMP"} \
		-machine q35,accel=tcg -m "$SWACK_QEMU_MEM" -display none -nodefaults \
		-kernel "$SWACK_GUEST_DIR/vmlinuz" \
		-initrd "$SWACK_GUEST_DIR/initramfs.cpio.gz" \
		-append "console=ttyS0 swack_dirty=$dirty${SWACK_GUEST_MODE:+ swack_mode=$SWACK_GUEST_MODE} quiet" \
		-serial "file:$QDIR/$name.serial" \
		${SWACK_GUEST_MODE:+-serial "unix:$QDIR/$name.ttyS1,server=on,wait=off"} \
		-qmp "unix:$QDIR/$name.qmp,server=on,wait=off" \
		-pidfile "$QDIR/$name.qemu.pid" \
		"${QEMU_ARGS[@]}" "${QEMU_EXTRA[@]}" "$@" </dev/null >"$QDIR/$name.log" 2>&1 &
	# Our own record: QEMU deletes its -pidfile on exit, cleanup needs more.
	pid=$!
	echo "$pid" >"$QDIR/$name.pid"
	QEMU_PIDS[$name]=$pid
	for ((i = 0; i < 300; i++)); do
		if ! _qemu_alive "$pid"; then
			_qemu_err "QEMU '$name' exited: $(tail -n 3 "$QDIR/$name.log" | tr '\n' ' ')"
			return 1
		fi
		if [[ -S $QDIR/$name.qmp ]] &&
			QMP_TIMEOUT=5 qmp "$name" '{"execute":"query-status"}' >/dev/null 2>&1; then
			echo "$pid"
			return 0
		fi
		sleep 0.1
	done
	_qemu_err "QEMU '$name' QMP not ready after 30s"
	return 1
}

# qemu_start_src NAME [DIRTY_MIB]: boot a guest; prints its pid.
qemu_start_src() {
	_qemu_check_name "${1:-}" && _qemu_check_dir || return 1
	local dirty=${2:-$SWACK_DIRTY_MIB}
	_qemu_is_uint "$dirty" || { _qemu_err "bad DIRTY_MIB '$dirty'"; return 1; }
	_qemu_start "$1" "$dirty"
}

# qemu_start_dst NAME PORT [DIRTY_MIB]: same machine, waiting for an incoming
# migration on $SWACK_MIGRATE_HOST:PORT; prints its pid.
qemu_start_dst() {
	_qemu_check_name "${1:-}" && _qemu_check_dir || return 1
	local port=${2:-} dirty=${3:-$SWACK_DIRTY_MIB}
	{ _qemu_is_uint "$port" && ((port > 0 && port < 65536)); } ||
		{ _qemu_err "bad PORT '$port'"; return 1; }
	_qemu_is_uint "$dirty" || { _qemu_err "bad DIRTY_MIB '$dirty'"; return 1; }
	_qemu_start "$1" "$dirty" -incoming "tcp:$SWACK_MIGRATE_HOST:$port"
}

# qemu_free_port: print a TCP port nobody listens on (for qemu_start_dst).
qemu_free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 40000))
		[[ -z $(ss -Htln "sport = :$p" 2>/dev/null) ]] && { echo "$p"; return 0; }
	done
	_qemu_err "no free port found"
	return 1
}

# qemu_pid NAME: print the pid of VM NAME.
qemu_pid() {
	_qemu_check_name "${1:-}" && _qemu_check_dir || return 1
	if [[ -n ${QEMU_PIDS[$1]:-} ]]; then
		echo "${QEMU_PIDS[$1]}"
	elif [[ -f $QDIR/$1.pid ]]; then
		echo "$(<"$QDIR/$1.pid")"
	else
		_qemu_err "no VM '$1'"
		return 1
	fi
}

# qemu_wait_booted NAME [TIMEOUT_S=60]: wait for the first swack-tick line,
# i.e. the guest booted and its dirtying workload runs.
qemu_wait_booted() {
	_qemu_check_name "${1:-}" && _qemu_check_dir || return 1
	local name=$1 timeout=${2:-60} pid end
	_qemu_is_uint "$timeout" || { _qemu_err "bad TIMEOUT '$timeout'"; return 1; }
	pid=$(qemu_pid "$name") || return 1
	end=$((SECONDS + timeout))
	until grep -aq 'swack-tick' "$QDIR/$name.serial" 2>/dev/null; do
		if ! _qemu_alive "$pid"; then
			_qemu_err "QEMU '$name' died while booting (see $QDIR/$name.log)"
			return 1
		fi
		if ((SECONDS >= end)); then
			_qemu_err "'$name' not booted after ${timeout}s (no swack-tick in $QDIR/$name.serial)"
			return 1
		fi
		sleep 0.1
	done
}

# qmp NAME 'JSON'...: run QMP commands on VM NAME (see scripts/qmp.sh).
qmp() {
	_qemu_check_name "${1:-}" && _qemu_check_dir || return 1
	local name=$1
	shift
	"$_QEMU_ROOT/scripts/qmp.sh" "$QDIR/$name.qmp" "$@"
}

# qemu_migrate SRC DST PORT [MAX_BW_BYTES_PER_S]: start migrating SRC to DST
# (listening on PORT); returns once QEMU accepted the command. Without a 4th
# argument $SWACK_MIGRATE_BW applies; an empty value leaves QEMU's default.
qemu_migrate() {
	_qemu_check_name "${1:-}" && _qemu_check_name "${2:-}" && _qemu_check_dir || return 1
	local src=$1 dst=$2 port=${3:-} bw caps
	bw=${4-$SWACK_MIGRATE_BW}
	_qemu_is_uint "$port" || { _qemu_err "bad PORT '$port'"; return 1; }
	[[ -z $bw ]] || _qemu_is_uint "$bw" || { _qemu_err "bad MAX_BW '$bw'"; return 1; }
	# return-path must be on at both ends; events gives MIGRATION events;
	# switchover-ack (8.1+) needs return-path, and is on wherever QEMU has it.
	caps='{"execute":"migrate-set-capabilities","arguments":{"capabilities":[
		{"capability":"events","state":true},'
	((QEMU_SWITCHOVER_ACK)) && caps+='{"capability":"switchover-ack","state":true},'
	caps+='{"capability":"return-path","state":true}]}}'
	qmp "$dst" "$caps" >/dev/null || return 1
	qmp "$src" "$caps" >/dev/null || return 1
	if [[ -n $bw ]]; then
		qmp "$src" "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"max-bandwidth\":$bw}}" \
			>/dev/null || return 1
	fi
	qmp "$src" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:$SWACK_MIGRATE_HOST:$port\"}}" \
		>/dev/null
}

# qemu_query_migrate SRC: print query-migrate's return object on one line.
qemu_query_migrate() {
	local out
	out=$(qmp "${1:-}" '{"execute":"query-migrate"}') || return 1
	jq -c '.return' <<<"$out"
}

# qemu_wait_migration SRC [TIMEOUT_S=120]: wait for SRC's migration to end;
# prints the final status; succeeds only if it is "completed".
qemu_wait_migration() {
	_qemu_check_name "${1:-}" && _qemu_check_dir || return 1
	local src=$1 timeout=${2:-120} info st end seen=
	_qemu_is_uint "$timeout" || { _qemu_err "bad TIMEOUT '$timeout'"; return 1; }
	end=$((SECONDS + timeout))
	while :; do
		info=$(qemu_query_migrate "$src") || return 1
		st=$(jq -r '.status // "none"' <<<"$info")
		case $st in
		completed)
			# QEMU says completed a moment before its migration thread
			# fills in the figures (7.2: total-time and downtime read 0
			# once): a second look, 0.2 s later, takes them as they are.
			if [[ ${seen:-} ]] ||
				jq -e '."total-time" > 0 and .downtime > 0' <<<"$info" >/dev/null; then
				echo "$st"
				return 0
			fi
			seen=1
			;;
		failed | cancelled)
			echo "$st"
			_qemu_err "migration $st: $(jq -r '."error-desc" // "no error-desc"' <<<"$info")"
			return 1
			;;
		esac
		if ((SECONDS >= end)); then
			echo "$st"
			_qemu_err "migration still '$st' after ${timeout}s"
			return 1
		fi
		sleep 0.2
	done
}

# qemu_ticks NAME: print the last complete swack-tick counter in NAME's
# console (0 if none yet). On a destination the counter continues from the
# source's value, since it lives in migrated guest memory.
qemu_ticks() {
	_qemu_check_name "${1:-}" && _qemu_check_dir || return 1
	local data last=0 line
	[[ -f $QDIR/$1.serial ]] || { echo 0; return 0; }
	# The UART writes byte by byte: ignore an unfinished last line.
	data=$(tail -c 65536 "$QDIR/$1.serial" | tr -d '\r'; printf x)
	data=${data%x}
	[[ $data == *$'\n' ]] || data=${data%$'\n'*}
	while IFS= read -r line; do
		[[ $line =~ ^swack-tick\ ([0-9]+)$ ]] && last=${BASH_REMATCH[1]}
	done < <(grep -a '^swack-tick ' <<<"$data")
	echo "$last"
}

# qemu_liveness NAME: one line on a guest whose ticks stopped, to tell a
# stopped or idle vCPU from a console that no longer prints: QMP's status,
# QEMU's CPU use over one second, the console file's size and its last line.
qemu_liveness() {
	_qemu_check_name "${1:-}" && _qemu_check_dir || return 1
	local pid st c0 c1 hz last
	pid=$(qemu_pid "$1") || return 1
	st=$(qmp "$1" '{"execute":"query-status"}' 2>/dev/null | jq -r '.return.status // "?"')
	hz=$(getconf CLK_TCK)
	c0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
	sleep 1
	c1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
	last=$(tail -c 200 "$QDIR/$1.serial" 2>/dev/null | tr -d '\r' | tr '\n' '|' | tr -cd '[:print:]')
	echo "status $st, QEMU CPU $(((c1 - c0) * 100 / hz))% over 1 s," \
		"console $(stat -c %s "$QDIR/$1.serial" 2>/dev/null || echo 0) B ending '${last: -60}'"
}

# qemu_stop NAME: kill VM NAME (SIGTERM, SIGKILL after 2 s) and wait for it.
qemu_stop() {
	local pid
	pid=$(qemu_pid "${1:-}") || return 1
	_qemu_kill "$pid"
	unset "QEMU_PIDS[$1]"
	rm -f "$QDIR/$1.pid"
}
