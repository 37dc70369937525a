#!/usr/bin/env bash
# swack exporter against hostile clients (GNU libmicrohttpd serves it from a
# thread of its own): clients that reset before reading their reply, 1,000
# idle connections, a 1 MiB header, a reader that never reads, malformed
# requests.  None stops it, and its figures keep moving: a migration that runs
# while 1,000 connections sit idle is in the next scrape.  qemu-sim, no QEMU.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/sim.sh"
D=$SIM_DIR
port=$((29000 + $$ % 2000))
URL=http://127.0.0.1:$port/metrics
PY=/usr/bin/python3

mkfifo "$D/src.go" "$D/dst.go"
exec 7<>"$D/src.go" 8<>"$D/dst.go"
S=$SWACK_ROOT/build/fixtures/qemu-system-sim102
SC=$SWACK_ROOT/tests/fixtures/scenarios
"$S" -q -w "$SC/precopy-basic.src" <&7 >/dev/null 7<&- 8<&- &
src=$!
"$S" -q -w "$SC/precopy-basic.dst" <&8 >/dev/null 7<&- 8<&- &
dst=$!
SIM_PIDS+=("$src" "$dst")
"$SWACK" exporter --listen "127.0.0.1:$port" -p "$src" -p "$dst" 2>"$D/exporter.err" &
ex=$!
SIM_PIDS+=("$ex")
wait_attached "$D/exporter.err" 2
for _ in $(seq 100); do grep -q serving "$D/exporter.err" && break; sleep 0.1; done
alive() { kill -0 "$ex" 2>/dev/null && echo alive || echo gone; }
scrape() { curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$URL"; }

# 200 clients that send a request and reset the connection before the reply.
"$PY" - "$port" <<'EOF'
import socket, struct, sys
for _ in range(200):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    s.close()
EOF
expect_eq "200 clients reset before reading: still serving" "alive 200" "$(alive) $(scrape)"

# Malformed and unwanted requests: answered, never taken for a scrape.
raw() {
	"$PY" - "$port" "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except (socket.timeout, ConnectionResetError):
    pass
print(data.split(b"\r\n", 1)[0].decode("latin-1"))
EOF
}
expect_match "a bare GET: closed or a 400, never the metrics" "^$|^HTTP/1.[01] 400" "$(raw 'GET\r\n\r\n')"
expect_match "POST: 405" "^HTTP/1.1 405" "$(raw 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc')"
expect_match "another path: 404" "^HTTP/1.1 404" "$(raw 'GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')"
expect_match "HEAD /metrics: 200" "^HTTP/1.1 200" "$(raw 'HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')"

# A 1 MiB header: refused (the limit is 16 KiB a connection), nothing else.
big=$("$PY" - "$port" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
try:
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
except OSError:
    pass
try:
    print(s.recv(4096).split(b"\r\n", 1)[0].decode())
except OSError as e:
    print("closed:", e)
EOF
)
expect_match "a 1 MiB header: refused" "^HTTP/1.1 431|^closed" "$big"
echo "# a 1 MiB header: $big"
expect_eq "a 1 MiB header: still serving" "alive 200" "$(alive) $(scrape)"

# A reader that asks again and again and reads nothing.
"$PY" - "$port" <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
s.setblocking(False)
end = time.time() + 20
while time.time() < end:
    try:
        s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    except BlockingIOError:
        time.sleep(0.05)
    except OSError:
        break   # the server let it go (idle too long with its replies unread)
EOF
slow=$!
SIM_PIDS+=("$slow")
sleep 1
expect_eq "a reader that never reads: others still served" 200 "$(scrape)"

# 1,000 idle connections while the migration runs: the migration is in the
# next scrape, and the idle ones are closed after 10 s.
"$PY" - "$port" "$D/idle.ready" <<'EOF' &
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(1000)]
open(sys.argv[2], "w").close()
time.sleep(30)
EOF
idle=$!
SIM_PIDS+=("$idle")
for _ in $(seq 300); do [[ -e $D/idle.ready ]] && break; sleep 0.1; done
expect_num "1,000 idle connections open" "$(ss -Htn state established "sport = :$port" | wc -l)" -ge 1000
t0=$(date +%s%N)
code=$(scrape)
t1=$(date +%s%N)
expect_eq "1,000 idle connections: a scrape is answered" 200 "$code"
echo "# a scrape with 1,000 idle connections open: $(( (t1 - t0) / 1000000 )) ms"
echo go >&7
echo go >&8
done=
for _ in $(seq 100); do
	curl -s --max-time 10 "$URL" >"$D/m" 2>/dev/null
	grep -q 'swack_migrations_total{role="src",result="completed"} 1' "$D/m" && done=1 && break
	sleep 0.2
done
expect_eq "1,000 idle connections: the migration reaches the figures" 1 "${done:-0}"
sleep 12
expect_num "idle connections closed after 10 s" "$(ss -Htn state established "sport = :$port" | wc -l)" -lt 10
expect_eq "after all of it: still serving" "alive 200" "$(alive) $(scrape)"
kill "$idle" "$slow" 2>/dev/null
kill -INT "$ex"
wait "$ex"
expect_eq "exporter: exits 0 on SIGINT" 0 "$?"
