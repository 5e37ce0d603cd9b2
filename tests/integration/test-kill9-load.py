#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kill -9 under load, then a restart, with no leftovers (#15, suite).

wrk keeps nginx busy while the daemon is killed with SIGKILL. Asserted:
every BPF program the daemon held is gone; the control socket it left in
/run/http-tracer (shared by both daemons here: private configuration
directories, htlib_extra.PrivateConfigDirs) does not stop a new daemon from
starting (the single-instance check sees nobody answering); the new daemon
answers status on it, traces again (each of 10 new requests has its entry,
its kernel counters start from zero) and stops cleanly, leaving no program
and no socket. Bounded: wrk runs 4 s, every wait has a deadline."""

import os
import signal
import time

import htlib
import htlib_extra
from htlib import expect, ensure, log

N = 10


def test(ctx):
    htlib.require_tools("nginx", "wrk", "nsenter", "unshare")
    nginx = htlib.Nginx(ctx)
    dirs = htlib_extra.PrivateConfigDirs(ctx, "kill9")
    sock = dirs.path("/run/http-tracer", "control")
    args = ["-s", f"filter.include.local_ports={nginx.port}"]
    first = htlib_extra.PrivateConfigDaemon(ctx, dirs, args, name="kill9-first").start()
    wrk = htlib.Proc(ctx, ["wrk", "-t1", "-c8", "-d4s", nginx.url("/index.html")], "wrk")
    time.sleep(1.5)
    expect(wrk.poll() is None, "fixture: wrk ended before the kill")
    first.stopped = True
    first.proc.stop(signal.SIGKILL)
    htlib.check_no_bpf_left(first.prog_ids)
    wrk.popen.wait(60)
    log(f"killed under load; control socket left behind: {os.path.exists(sock)}")

    second = htlib_extra.PrivateConfigDaemon(ctx, dirs, args, name="kill9-second").start()
    r = second.ctl("status", "--json")
    expect(r.returncode == 0, f"status over the control socket after the restart: exit {r.returncode}: "
                              f"{r.stderr.decode()[-500:]}")
    for i in range(N):
        with htlib.connect(nginx.port) as c:
            c.sendall(f"GET /index.html?after={i} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            htlib.read_response(c)
    htlib.journal_wait(second.pid, f"SERVER_PORT={nginx.port}", expected=N, timeout=60)
    second.stop()
    got = htlib.journal_final(second, f"SERVER_PORT={nginx.port}")
    targets = sorted(e.get("HTTP_TARGET") for e in got)
    expect(targets == sorted(f"/index.html?after={i}" for i in range(N)),
           f"after kill -9 and a restart: {len(got)} entries {targets[:5]}..., expected the {N} new requests")
    expect(second.stat("ringbuf_drops") == 0 and second.stat("records_orphan") == 0,
           f"the new daemon: ringbuf_drops={second.stat('ringbuf_drops')} "
           f"records_orphan={second.stat('records_orphan')}, expected 0 (nothing of the old one)")
    expect(not os.path.exists(sock), "the control socket is still there after the new daemon stopped")


htlib.run(test)
