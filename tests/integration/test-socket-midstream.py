#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A connection that predates the daemon, served by a process that reads
one byte per read() (issue #15 item 2): recognised at its next message
start whatever the read size. The server (socket_servers.py bytewise)
accepted the connection and served one request before the daemon
started; the three requests after it get complete server-role entries
with method, target and status, and complete client-role entries; the
one from before leaves none."""

import os
import sys

import htlib
from htlib import expect, ensure, log

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "socket_servers.py")


def get(c, target):
    c.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status, _, body, _ = htlib.read_response(c)
    ensure(status == 200 and len(body) == 5, f"fixture: GET {target}: {status}, {len(body)} body bytes")


def test(ctx):
    port = htlib.free_port()
    proc = htlib.Proc(ctx, [sys.executable, SERVERS, "bytewise", str(port)], "server-bytewise")
    htlib.wait_port(port, proc.popen, what="bytewise server")
    c = htlib.connect(port)
    ctx.cleanup.callback(c.close)
    get(c, "/before")

    daemon = htlib.Daemon(ctx).start()
    targets = ["/after-1", "/after-2?n=5", "/after-3"]
    for t in targets:
        get(c, t)
    c.close()
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    for role in ("server", "client"):
        mine = [e for e in entries if e.get("HTTP_ROLE") == role]
        got = sorted((e.get("HTTP_METHOD"), e.get("HTTP_TARGET"), e.get("HTTP_STATUS")) for e in mine)
        log(f"{role}: {[e.get('MESSAGE') for e in mine]}")
        expect(got == sorted(("GET", t, "200") for t in targets),
               f"{role}-role entries {got}, want the three requests after the start, complete")
    server = [e for e in entries if e.get("HTTP_ROLE") == "server"]
    for e in server:
        expect(e.get("PROCESS_PID") == str(proc.pid), f"server entry pid {e.get('PROCESS_PID')}, server {proc.pid}")
        expect(e.get("HTTP_RESPONSE_BODY_BYTES") == "5",
               f"{e.get('HTTP_TARGET')}: HTTP_RESPONSE_BODY_BYTES={e.get('HTTP_RESPONSE_BODY_BYTES')}")


if __name__ == "__main__":
    htlib.run(test)
