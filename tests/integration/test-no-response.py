#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every documented no-response reason, provoked for real through the daemon.

docs/journal-fields.md: a request whose response never came is an entry
with MESSAGE_ID 8258a1a3fa938aa1b6d4ff9487ebf2cb, PRIORITY 5
(fields.priority.no_response), HTTP_NO_RESPONSE_REASON one of closed,
idle-timeout, process-exit, shutdown, upgrade, desync, the
request's fields, no status, no duration, no response body size, and the
MESSAGE "METHOD TARGET → no response (REASON) (comm[pid] client → server)".

The server is tests/integration/raw-server.py (it misbehaves as the target
asks); the clients are this script (its own pid is the client-role
PROCESS_PID) and, for process-exit, a child python that exits with its
request pending. The daemon traces the whole host, so each case gives a
server-role entry and a client-role entry, checked separately.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htlib  # noqa: E402
import htlib_extra as X  # noqa: E402
from htlib import expect, log  # noqa: E402

ME = os.getpid()


def read_until(sock, marker):
    buf = b""
    while marker not in buf:
        b = sock.recv(65536)
        if not b:
            break
        buf += b
    return buf


def test(ctx):
    srv = X.RawServer(ctx)
    sp = srv.port

    # ---- run 1: closed, process-exit, pipeline overflow, upgrade, desync, shutdown
    d = htlib.Daemon(ctx, ["-s", "limits.pipeline_max=2"]).start()

    # closed: the server reads the request and closes without answering
    c = X.client(sp)
    closed_port = c.getsockname()[1]
    c.sendall(X.request("/close/1"))
    expect(read_until(c, b"\r\n\r\n") == b"", "the /close server answered something")
    c.close()

    # process-exit: a client process that dies with its request pending (no close())
    child = subprocess.Popen(
        ["/usr/bin/python3", "-c",
         "import os, socket, sys\n"
         "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
         "print(s.getsockname()[1], flush=True)\n"
         "s.sendall(b'GET /silent/exit HTTP/1.1\\r\\nHost: test\\r\\n\\r\\n')\n"
         "os._exit(0)\n", str(sp)], stdout=subprocess.PIPE)
    exit_port = int(child.stdout.readline())
    child.wait(30)
    child.stdout.close()

    # four requests in one send() with limits.pipeline_max=2: the two past
    # the cap are counted, not given up (issue 15 #5: "pipeline-full" gave up
    # the oldest, whose responses then paired with the wrong requests); all
    # four are still pending at shutdown
    pipe = X.client(sp)
    pipe_port = pipe.getsockname()[1]
    pipe.sendall(b"".join(X.request(f"/silent/p{i}") for i in range(4)))

    # upgrade: a websocket upgrade with a second request pipelined behind it
    up = X.client(sp)
    up_port = up.getsockname()[1]
    up.sendall(X.request("/upgrade", headers=[("Upgrade", "websocket"), ("Connection", "Upgrade")])
               + X.request("/after-upgrade"))
    got = read_until(up, b"\r\n\r\n")
    expect(got.startswith(b"HTTP/1.1 101 "), f"upgrade: server answered {got[:40]!r}")

    # desync: a valid response, then bytes that are no status line; the
    # second pipelined request can never be paired again
    ds = X.client(sp)
    ds_port = ds.getsockname()[1]
    ds.sendall(X.request("/desync/1") + X.request("/desync/2"))
    got = read_until(ds, b"no status line\r\n\r\n")
    expect(got.endswith(b"GARBAGE-LINE that is no status line\r\n\r\n"), f"desync: server sent {got!r}")

    # shutdown: a request still waiting when the daemon stops
    sh = X.client(sp)
    sh_port = sh.getsockname()[1]
    sh.sendall(X.request("/silent/shutdown"))
    srv.wait_read("/silent/shutdown")  # else the server-role entry may not exist yet

    # Everything but the shutdown case is logged while the daemon runs:
    # closed ×2, process-exit + closed, upgrade: 101 ×2 and no-response ×2,
    # desync: 200 ×2, parse error ×2, no-response ×2.
    live = X.wait_entries(d.pid, sp, 14)
    log(f"{len(live)} entries before the shutdown")

    # the shutdown case needs the daemon to have seen the last request: the
    # stop drains the ring buffer first (manager.c), so stopping now is exact
    d.stop()
    entries = X.wait_entries(d.pid, sp, 24)
    for s in (pipe, up, ds, sh):
        s.close()

    cases = [
        ("closed (server)", "/close/1", "closed", "server", srv.proc.pid, closed_port),
        ("closed (client)", "/close/1", "closed", "client", ME, closed_port),
        ("process-exit (client)", "/silent/exit", "process-exit", "client", child.pid, exit_port),
        ("process-exit (server side closes)", "/silent/exit", "closed", "server", srv.proc.pid, exit_port),
        ("upgrade (server)", "/after-upgrade", "upgrade", "server", srv.proc.pid, up_port),
        ("upgrade (client)", "/after-upgrade", "upgrade", "client", ME, up_port),
        ("desync (server)", "/desync/2", "desync", "server", srv.proc.pid, ds_port),
        ("desync (client)", "/desync/2", "desync", "client", ME, ds_port),
        ("shutdown (server)", "/silent/shutdown", "shutdown", "server", srv.proc.pid, sh_port),
        ("shutdown (client)", "/silent/shutdown", "shutdown", "client", ME, sh_port),
    ]
    for i in range(2):
        cases.append((f"pipelined #{i} (server)", f"/silent/p{i}", "shutdown", "server", srv.proc.pid, pipe_port))
        cases.append((f"pipelined #{i} (client)", f"/silent/p{i}", "shutdown", "client", ME, pipe_port))
    for what, target, reason, role, pid, cport in cases:
        X.check_no_response(entries, what, target, reason, role, pid, sp, cport)
    # the two past the cap: counted and given up at shutdown like the others,
    # flagged, without the method and target that were not kept
    for role in ("server", "client"):
        over = [e for e in entries if e.get("HTTP_ROLE") == role and e.get("CLIENT_PORT") == str(pipe_port)
                and "pipeline-overflow" in e.get("HTTP_FLAGS", "").split(",")]
        expect(len(over) == 2, f"pipelined past the cap ({role}): {len(over)} flagged entries, expected 2: "
                               f"{[e.get('MESSAGE') for e in over]}")
        for e in over:
            X.expect_fields(e, f"pipelined past the cap ({role})", MESSAGE_ID=X.MID_NO_RESPONSE,
                            HTTP_NO_RESPONSE_REASON="shutdown")
            expect(not e.get("HTTP_TARGET"), f"pipelined past the cap ({role}): target {e.get('HTTP_TARGET')!r}")

    # the exchanges that did complete around them
    for role, pid in (("server", srv.proc.pid), ("client", ME)):
        e = X.one(entries, f"101 ({role})", HTTP_TARGET="/upgrade", HTTP_ROLE=role)
        X.expect_fields(e, f"101 ({role})", MESSAGE_ID=X.MID_COMPLETE, HTTP_STATUS="101",
                        PRIORITY="6", HTTP_FLAGS="upgrade", PROCESS_PID=str(pid))
        e = X.one(entries, f"desync/1 ({role})", HTTP_TARGET="/desync/1", HTTP_ROLE=role)
        X.expect_fields(e, f"desync/1 ({role})", MESSAGE_ID=X.MID_COMPLETE, HTTP_STATUS="200",
                        PRIORITY="6", HTTP_RESPONSE_BODY_BYTES="2")
        # the bad bytes: a parse error of the response stream at its byte 40
        # (the first response is 40 bytes), excerpt from there
        e = X.one(entries, f"desync parse error ({role})", MESSAGE_ID=X.MID_PARSE_ERROR,
                  HTTP_ROLE=role, CLIENT_PORT=str(ds_port))
        X.expect_fields(e, f"desync parse error ({role})", PRIORITY="4",
                        HTTP_PARSE_ERROR_DIRECTION="response", HTTP_PARSE_ERROR_OFFSET="40",
                        HTTP_PARSE_ERROR_EXCERPT="GARBAGE-LINE that is no status line\\x0d\\x0a\\x0d\\x0a")

    nr = [e for e in entries if e.get("MESSAGE_ID") == X.MID_NO_RESPONSE]
    expect(len(nr) == 18, f"no-response entries on our port: {len(nr)}, expected 18: "
                          f"{[e.get('MESSAGE') for e in nr]}")
    expect(len(entries) == 24, f"entries on our port: {len(entries)}, expected 24: "
                               f"{[e.get('MESSAGE') for e in entries]}")

    # ---- run 2: idle-timeout, with the priority setting moved
    d2 = htlib.Daemon(ctx, ["--idle-timeout=1s", "-s", "fields.priority.no_response=err"],
                      name="http-tracer-idle").start()
    idle = X.client(sp)
    idle_port = idle.getsockname()[1]
    idle.sendall(X.request("/silent/idle"))
    # a connection that goes idle with nothing pending expires without an entry
    ok = X.client(sp)
    ok_port = ok.getsockname()[1]
    ok.sendall(X.request("/ok/idle"))
    expect(read_until(ok, b"\r\n\r\nok").endswith(b"ok"), "the /ok server did not answer")
    entries = X.wait_entries(d2.pid, sp, 4, timeout=60)
    for role, pid in (("server", srv.proc.pid), ("client", ME)):
        X.check_no_response(entries, f"idle-timeout ({role})", "/silent/idle", "idle-timeout",
                            role, pid, sp, idle_port, priority="3")
        e = X.one(entries, f"/ok/idle ({role})", HTTP_TARGET="/ok/idle", HTTP_ROLE=role)
        X.expect_fields(e, f"/ok/idle ({role})", MESSAGE_ID=X.MID_COMPLETE, CLIENT_PORT=str(ok_port))
    d2.stop()
    idle.close()
    ok.close()
    entries = X.wait_entries(d2.pid, sp, 4)
    expect(len(entries) == 4, f"idle run: {len(entries)} entries on our port, expected 4 "
                              f"(no second entry at shutdown): {[e.get('MESSAGE') for e in entries]}")


htlib.run(test)
