#!/usr/bin/env python3
"""qmp_migrate.py SRC_QMP DST_QMP URI MAX_BW ACK: one live migration over QMP.

The capabilities of tests/lib/qemu.sh's qemu_migrate at both ends (events,
return-path, and switchover-ack when ACK is 1), MAX_BW on the source, the
migrate command; then it waits for the source's MIGRATION event that ends it
and prints query-migrate's return object on one line.  Exit 0 if completed.

One connection a VM for the whole migration: scripts/qmp.sh costs about half
a second a call on a loaded host (socat, jq per line), which would make the
bench's 80 migrations last long, and polling query-migrate would load QEMU's
main loop while it migrates; the completion event costs QEMU nothing more.
"""
import json
import socket
import sys
import time


class Qmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(120)
        self.sock.connect(path)
        self.buf = b""
        self.events = []
        self.line()                     # the greeting
        self.cmd("qmp_capabilities")

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise SystemExit("qmp_migrate.py: QEMU closed its QMP socket")
            self.buf += data
        one, self.buf = self.buf.split(b"\n", 1)
        return json.loads(one)

    def cmd(self, name, **args):
        self.sock.sendall(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        while True:
            msg = self.line()
            if "event" in msg:
                self.events.append(msg)
            elif "error" in msg:
                raise SystemExit("qmp_migrate.py: %s: %s" % (name, msg["error"].get("desc")))
            else:
                return msg.get("return")

    def event(self):
        return self.events.pop(0) if self.events else self.line()


def main():
    if len(sys.argv) != 6:
        raise SystemExit("usage: qmp_migrate.py SRC_QMP DST_QMP URI MAX_BW ACK")
    src_path, dst_path, uri, bw, ack = sys.argv[1:]
    caps = [{"capability": "events", "state": True},
            {"capability": "return-path", "state": True}]
    if ack == "1":
        caps.append({"capability": "switchover-ack", "state": True})
    dst = Qmp(dst_path)
    dst.cmd("migrate-set-capabilities", capabilities=caps)
    src = Qmp(src_path)
    src.cmd("migrate-set-capabilities", capabilities=caps)
    src.cmd("migrate-set-parameters", **{"max-bandwidth": int(bw)})
    src.cmd("migrate", uri=uri)
    end = time.monotonic() + 120
    while time.monotonic() < end:
        ev = src.event()
        if ev.get("event") == "MIGRATION" and \
                ev["data"]["status"] in ("completed", "failed", "cancelled"):
            break
    # QEMU 7.2 says completed (event and status) a moment before it sets
    # total-time and downtime (migration_calculate_complete): 0 until then.
    info = src.cmd("query-migrate")
    while info.get("status") == "completed" and not info.get("total-time") and \
            time.monotonic() < end:
        time.sleep(0.02)
        info = src.cmd("query-migrate")
    print(json.dumps(info, separators=(",", ":")))
    return 0 if info.get("status") == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
