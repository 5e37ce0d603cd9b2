#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A journald restart is counted and said, once (issue 15 item 7).

The issue: after journald was killed and restarted, the journal output's
`reconnects` stayed 0 and nothing was logged. Here, with a journald of our
own (htlib_extra.JournaldNamespace; the shared one is never touched)
behind HTTP_TRACER_JOURNAL_SOCKET, the daemon in a private /run/http-tracer
(its own control socket) and a kernel filter on nginx's port:

 1. ROUND exchanges, all in the journal; the journal output's reconnects 0;
 2. journald SIGKILLed once it has stored them (nothing in flight is lost
    with it), started again; ROUND more exchanges: all in the new
    journald, each once;
 3. asserted: `status` says reconnects 1 and errors 1 (the lost connection;
    the reconnect is not an error) for the journal output, exactly;
    the daemon said "Reconnected to the journal output" once on stderr;
    no entry dropped, none written twice; the final statistics entry
    (in the restarted journald) agrees.
"""

import os
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htlib  # noqa: E402
import htlib_extra as X  # noqa: E402
from htlib import expect, ensure, log  # noqa: E402

ROUND = 5
NOTICE = "Reconnected to the journal output"


def exchanges(port, tag):
    with htlib.connect(port) as c:
        for i in range(ROUND):
            c.sendall(X.request(f"/index.html?{tag}={i}"))
            status, _, _, _ = htlib.read_response(c)
            ensure(status == 200, f"fixture: {tag} {i}: status {status}")


def keep_alive(ctx, jd):
    """A stdout stream held open to the namespace journald: such an instance
    exits after 30 s without a stream client (datagrams do not count), and
    then the daemon would meet a journald gone for good, not restarted."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(jd.dir, "stdout"))
    # the stream's header: identifier, unit, priority, level prefix, forward to syslog, kmsg, console
    s.sendall(b"ht-keepalive\n\n6\n0\n0\n0\n0\n")
    ctx.cleanup.callback(s.close)
    return s


def journal_output(d):
    outs = [o for o in d.status().get("outputs", []) if o.get("name") == "journal"]
    ensure(len(outs) == 1, f"status outputs: {d.status().get('outputs')}")
    return outs[0]


def test(ctx):
    htlib.require_tools("nginx")
    nginx = htlib.Nginx(ctx)
    jd = X.JournaldNamespace(ctx, f"ht-reconnect-{os.getpid()}")
    jd.start()
    keep_alive(ctx, jd)
    env = dict(os.environ, HTTP_TRACER_JOURNAL_SOCKET=jd.socket)
    d = X.PrivateRunDaemon(ctx, ["-s", f"filter.include.local_ports={nginx.port}"], env=env).start()
    sp = f"SERVER_PORT={nginx.port}"

    exchanges(nginx.port, "before")
    before = jd.wait(d.pid, ROUND, sp)
    expect(len(before) == ROUND, f"before the restart: {len(before)} entries, expected {ROUND}")
    out = journal_output(d)
    expect(out.get("reconnects") == 0, f"before the restart: journal output {out}")

    jd.stop_signal(signal.SIGKILL)
    jd.popen.wait(10)
    log("journald killed; starting it again")
    jd.start()
    keep_alive(ctx, jd)

    exchanges(nginx.port, "after")
    after = jd.wait(d.pid, ROUND, sp, "HTTP_TARGET=/index.html?after=0")
    out = journal_output(d)
    log(f"after the restart: journal output {out}")
    expect(out.get("reconnects") == 1, f"journal output reconnects={out.get('reconnects')}, expected 1: {out}")
    expect(out.get("dropped") == 0, f"journal output dropped={out.get('dropped')}: {out}")
    # docs/control-protocol.md: the lost connection is one error, the reconnect is not another
    expect(out.get("errors") == 1, f"journal output errors={out.get('errors')}, expected 1 (the lost connection): {out}")

    d.stop()
    err = d.proc.stderr_text()
    notices = [l for l in err.splitlines() if NOTICE in l]
    # HTTP_TRACER_JOURNAL_SOCKET is a known variable, not an unknown setting (docs/configuration.md)
    unknown = [l for l in err.splitlines() if "HTTP_TRACER_JOURNAL_SOCKET" in l]
    expect(not unknown, f"the daemon warned about HTTP_TRACER_JOURNAL_SOCKET: {unknown}")
    expect(len(notices) == 1, f"{len(notices)} '{NOTICE}' lines on stderr, expected 1: {notices}")
    # the final statistics entry is the last the daemon wrote: once it is
    # there, so is everything before it
    want = str(d.stat("records"))
    X.poll(lambda: [e for e in jd.query(d.pid, f"MESSAGE_ID={X.MID_STATISTICS}")
                    if e.get("HTTP_TRACER_RECORDS") == want],
           "the final statistics entry in the restarted journald", timeout=60)
    entries = jd.query(d.pid, sp)
    targets = sorted(e.get("HTTP_TARGET") for e in entries)
    want_targets = [f"/index.html?before={i}" for i in range(ROUND)] + \
        [f"/index.html?after={i}" for i in range(ROUND)]
    want_targets = sorted(want_targets)  # nginx's side only: the kernel filter is on its port
    expect(targets == want_targets, f"entries {targets}, expected each of {want_targets} once")
    for k in ("entries_dropped", "daemon_entries_dropped", "ringbuf_drops"):
        expect(d.stat(k) == 0, f"{k}={d.stat(k)}, expected 0")


htlib.run(test)
