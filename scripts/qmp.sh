#!/usr/bin/env bash
# Talk QMP to a QEMU over its UNIX socket.
#   scripts/qmp.sh SOCKET 'JSON' ['JSON'...]
# Negotiates capabilities, then sends each command and waits for its answer
# before sending the next (QMP answers in order, so the next "return"/"error"
# line is ours; greeting and async events are skipped). Prints each command's
# response line; exits 1 if any command returned an error (the remaining
# commands are still sent), 2 on usage/connection problems.
# Env: QMP_TIMEOUT seconds to wait per response (default 30).
set -euo pipefail

die() { echo "qmp.sh: $*" >&2; exit 2; }

[[ $# -ge 2 ]] || die "usage: scripts/qmp.sh SOCKET 'JSON' ['JSON'...]"
sock=$1
shift
timeout=${QMP_TIMEOUT:-30}
[[ $timeout =~ ^[0-9]+$ ]] || die "QMP_TIMEOUT must be whole seconds, got '$timeout'"
command -v socat >/dev/null || die "socat missing (apt-get install socat)"
command -v jq >/dev/null || die "jq missing (apt-get install jq)"

# Validate (and compact to one line) everything before connecting, so bad
# input never leaves a half-applied command sequence behind.
cmds=()
for c in "$@"; do
	one=$(jq -ce 'select(type == "object" and (.execute | type) == "string")' <<<"$c" 2>/dev/null) ||
		die "not a QMP command object: $c"
	[[ $(wc -l <<<"$one") -eq 1 ]] || die "expected exactly one JSON object: $c"
	cmds+=("$one")
done
[[ -S $sock ]] || die "no QMP socket at $sock"

# socat in the background behind two FIFOs gives a real request/response
# dialogue; piping all commands at once would race socat's EOF timeout
# against slow (TCG) QEMUs. (Not a coproc: bash closes a coproc's fds as soon
# as it exits, which can lose the last reply, e.g. to "quit".)
tmp=$(mktemp -d)
qpid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [[ -n $qpid ]]; then kill "$qpid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
# If QEMU hangs up, writes must fail with EPIPE rather than kill us silently.
trap '' PIPE
mkfifo "$tmp/in" "$tmp/out"
socat - "UNIX-CONNECT:$sock" <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
qpid=$!
exec {qin}>"$tmp/in" {qout}<"$tmp/out"

# Read lines until a command response; it ends up in $reply.
# Returns 1 on timeout, 2 if the connection closed.
read_reply() {
	local line st
	while :; do
		IFS= read -r -t "$timeout" -u "$qout" line && st=0 || st=$?
		if ((st > 128)); then return 1; fi
		if ((st != 0)); then return 2; fi
		line=${line%$'\r'}
		if jq -e 'type == "object" and (has("return") or has("error"))' \
			<<<"$line" >/dev/null 2>&1; then
			reply=$line
			return 0
		fi
	done
}

# Explain a failed read_reply (status $1) for command $2, then exit.
reply_failed() {
	local why
	if (($1 == 1)); then
		why="no answer within ${timeout}s (is another QMP client connected?)"
	else
		why="connection closed $(head -c 300 "$tmp/err" | tr '\n' ' ')"
	fi
	die "$sock: $why, waiting for: $2"
}

reply=
caps='{"execute":"qmp_capabilities"}'
printf '%s\n' "$caps" 1>&"$qin" 2>/dev/null || true # failure shows up in the read
read_reply || reply_failed $? "$caps"
[[ $reply == *'"return"'* ]] || die "qmp_capabilities failed: $reply"

rc=0
for c in "${cmds[@]}"; do
	printf '%s\n' "$c" 1>&"$qin" 2>/dev/null || true
	read_reply || reply_failed $? "$c"
	printf '%s\n' "$reply"
	if jq -e 'has("error")' <<<"$reply" >/dev/null; then
		echo "qmp.sh: $(jq -r '.error.desc // "error"' <<<"$reply") (command: $c)" >&2
		rc=1
	fi
done
exit "$rc"
