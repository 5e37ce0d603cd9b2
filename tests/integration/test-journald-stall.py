#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The journal output survives a stalled and a restarted journald.

docs/architecture.md and src/journal-writer.h: the daemon speaks journald's
native protocol on its own non-blocking socket; what journald cannot take
now waits in a bounded queue (16384 entries) drained from the event loop,
a lost journald is reconnected from a timer, and what does not fit is
dropped and counted (entries_dropped). The event loop never blocks.

With a REAL journald of our own (a journald namespace instance,
`systemd-journald NAME`, read with `journalctl --namespace=NAME`; the
shared journald is never touched), nginx as the server and keep-alive
requests with unique targets as the client:

  1. baseline: every exchange is in the journal;
  2. journald SIGSTOPped while 1000 exchanges happen: the daemon's control
     socket answers `status` throughout, its counters show every exchange
     processed and entries queued (the stall is real); after SIGCONT every
     exchange is in the journal exactly once;
  3. journald SIGKILLed (after it stored everything, so nothing dies in
     its socket queue) while 300 exchanges happen, then started again:
     status answers, entries are queued, and after the restart every
     exchange is in the journal exactly once.
Throughout: journal entries + entries_dropped = requests nginx logged, and
with a queue this size, entries_dropped = 0.

The daemon runs in a private mount namespace with its own /run/http-tracer
(a tmpfs), so its control socket is ours even when other daemons run on
the host; `status` is asked there through nsenter. A kernel filter on
nginx's port keeps the host's other traffic out of the counters.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htlib  # noqa: E402
import htlib_extra as X  # noqa: E402
from htlib import Failure, ensure, expect, log  # noqa: E402

N_STALL = 1000
N_RESTART = 300


def requests(port, tag, n):
    with htlib.connect(port) as c:
        for i in range(n):
            c.sendall(f"GET /index.html?{tag}={i} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
            status, _, _, _ = htlib.read_response(c)
            ensure(status == 200, f"{tag} #{i}: nginx answered {status}")
    return [f"/index.html?{tag}={i}" for i in range(n)]


def test(ctx):
    htlib.require_tools("nsenter", "unshare", htlib.JOURNALD)
    ns = X.JournaldNamespace(ctx, f"httest{os.getpid()}")
    ns.start()

    nginx = htlib.Nginx(ctx)
    d = X.PrivateRunDaemon(ctx, ["-s", f"filter.include.local_ports={nginx.port}"],
                           env=dict(os.environ, HTTP_TRACER_JOURNAL_SOCKET=ns.socket)).start()

    def status():
        return d.status()["counters"]

    def journal_targets(expected):
        entries = ns.wait(d.pid, expected, f"SERVER_PORT={nginx.port}", "HTTP_ROLE=server")
        targets = [e.get("HTTP_TARGET") for e in entries]
        dup = {t for t in targets if targets.count(t) > 1}
        expect(not dup, f"entries logged twice: {sorted(dup)[:10]}")
        return set(targets)

    sent = requests(nginx.port, "base", 20)
    got = journal_targets(len(sent))
    expect(got == set(sent), f"baseline: missing {sorted(set(sent) - got)[:10]}")

    # ---- 2. stall
    ns.stop_signal(signal.SIGSTOP)
    try:
        base = status()["exchanges_complete"]
        sent_stall = requests(nginx.port, "stall", N_STALL)
        # the event loop goes on: every exchange is processed while journald sleeps
        c = X.poll(lambda: (lambda s: s if s["exchanges_complete"] >= base + N_STALL else None)(status()),
                   "the daemon to process the exchanges made while journald is stopped")
        log(f"during the stall: {c['exchanges_complete'] - base} exchanges processed, "
            f"{c['entries_queued']} entries queued, {c['entries_dropped']} dropped")
        expect(c["entries_queued"] > 0, "journald stopped, yet the daemon queued nothing: no stall happened")
        expect(c["entries_dropped"] == 0, f"entries_dropped={c['entries_dropped']} during a short stall")
    finally:
        ns.stop_signal(signal.SIGCONT)
    sent += sent_stall
    got = journal_targets(len(sent))
    expect(got == set(sent), f"after the stall: {len(set(sent) - got)} missing, "
                             f"e.g. {sorted(set(sent) - got)[:10]}")
    X.poll(lambda: status()["entries_queued"] == 0, "the daemon's journal queue to empty")

    # ---- 3. restart (everything so far is stored: nothing can die in journald's socket)
    ns.kill()
    sent_restart = requests(nginx.port, "restart", N_RESTART)
    base = len(sent)
    c = X.poll(lambda: (lambda s: s if s["exchanges_complete"] >= base + N_RESTART else None)(status()),
               "the daemon to process the exchanges made while journald is gone")
    log(f"journald gone: {c['entries_queued']} entries queued, {c['entries_dropped']} dropped")
    expect(c["entries_queued"] > 0, "journald killed, yet the daemon queued nothing")
    ns.start()
    sent += sent_restart
    got = journal_targets(len(sent))
    expect(got == set(sent), f"after the restart: {len(set(sent) - got)} missing, "
                             f"e.g. {sorted(set(sent) - got)[:10]}")

    stats = d.stop()
    lines = htlib.wait_log_lines(nginx, len(sent))
    final = ns.query(d.pid, f"SERVER_PORT={nginx.port}", "HTTP_ROLE=server")
    dropped = d.stat("entries_dropped")
    expect(len(final) + dropped == len(lines),
           f"journal entries {len(final)} + entries_dropped {dropped} != requests nginx logged {len(lines)}")
    expect(dropped == 0 and d.stat("ringbuf_drops") == 0,
           f"drops with a queue far larger than the backlog: {stats}")
    expect(len(final) == len(sent), f"journal has {len(final)} entries, {len(sent)} requests were sent")


htlib.run(test)
