#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""HTTP/2 streams lost in a full ring buffer, counted at the level people
count: exchanges (docs/http2.md, "Streams opened in lost bytes").

nginx h2c; h2load, one connection, POSTs of 4 KiB at a steady 150 requests
a second (-n 1200 --rps 150, up to 4 streams at once), started before the
daemon and held so that the daemon traces, through a kernel pid filter,
only h2load and nginx's worker (the host's other traffic can neither add
to nor crowd out the counts), with the smallest ring
(capture.ring_buffer_size=64KiB). Once its first entry is written, the
daemon is SIGSTOPped for 1.5 s: about 900 KiB of request bodies each way
for a 64 KiB ring, so whole streams (HEADERS and DATA) are lost at both
ends; then SIGCONT, and h2load goes on on the same connection, so the next
streams tell by their ids how many were opened in the lost bytes.

Asserted, exactly: twice nginx's HTTP/2 requests (both ends) = the
daemon's server and client entries for the port (complete, no-response,
uncorrelated) + exchanges_lost; streams were lost indeed (ringbuf_drops >
0, streams_lost > 0) and streams_lost is a part of exchanges_lost; per
connection and end, no stream id has two entries."""

import os
import signal
import subprocess
import time

import h2lib
import htlib
import htlib_extra as X
from htlib import expect, ensure, log

N = 1200
RPS = 150
BODY = 4096
STOP_S = 1.5


def test(ctx):
    htlib.require_tools("h2load", "nginx")
    h2port = htlib.free_port()
    srv = htlib.Nginx(ctx, extra_server=f"listen 127.0.0.1:{h2port} http2;")
    body = os.path.join(ctx.tmp, "body.bin")
    with open(body, "wb") as f:
        f.write(b"x" * BODY)

    held = h2lib.Held(ctx, ["h2load", "-n", str(N), "-c", "1", "-m", "4", f"--rps={RPS}", "-d", body,
                            f"http://127.0.0.1:{h2port}/post"])
    h2load = held.proc
    daemon = htlib.Daemon(ctx, ["-s", "capture.ring_buffer_size=64KiB",
                                *h2lib.pid_filter(*srv.worker_pids, held.pid)]).start()
    h2load.stdin.write(b"go\n")
    h2load.stdin.close()

    # the connection is known to the daemon (its open record consumed) before the ring fills
    X.poll(lambda: htlib.journal_query(daemon.pid, f"SERVER_PORT={h2port}"), "a first entry from h2load's connection")
    os.kill(daemon.pid, signal.SIGSTOP)
    try:
        time.sleep(STOP_S)
    finally:
        os.kill(daemon.pid, signal.SIGCONT)
    # the streams after the loss must come on the same connection: h2load at 150/s has seconds left
    ensure(h2load.poll() is None, "fixture: h2load ended while the daemon was stopped; nothing followed the loss")

    out, err = h2load.stdout.read(), h2load.stderr.read()
    h2load.wait(timeout=300)
    out = out.decode()
    ensure(h2load.returncode == 0 and f"{N} succeeded" in out,
           f"fixture: h2load did not complete {N} requests ({h2load.returncode}):\n{out}\n{err.decode()}")
    lines = [l for l in htlib.wait_log_lines(srv, N) if l["protocol"] == "HTTP/2.0"]
    ensure(len(lines) == N, f"fixture: nginx logged {len(lines)} HTTP/2 requests, h2load sent {N}")
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={h2port}")
    server = htlib.entries_for_server(entries, h2port, "server")
    client = htlib.entries_for_server(entries, h2port, "client")
    kinds = {}
    for e in server + client:
        kinds[e.get("MESSAGE_ID")] = kinds.get(e.get("MESSAGE_ID"), 0) + 1
    lost, streams_lost = daemon.stat("exchanges_lost"), daemon.stat("streams_lost")
    log(f"nginx served {N}; server entries {len(server)}, client entries {len(client)} (complete {kinds.get(X.MID_COMPLETE, 0)}, "
        f"no response {kinds.get(X.MID_NO_RESPONSE, 0)}, uncorrelated {kinds.get(X.MID_UNCORRELATED, 0)}); "
        f"exchanges_lost={lost} streams_lost={streams_lost} ringbuf_drops={daemon.stat('ringbuf_drops')} "
        f"bytes_lost={daemon.stat('bytes_lost')} desyncs={daemon.stat('desyncs')} "
        f"headers_incomplete={daemon.stat('headers_incomplete')} streams_overflows={daemon.stat('streams_overflows')}")
    expect(daemon.stat("ringbuf_drops") > 0, "no ring buffer drop: the test did not test anything")
    expect(streams_lost > 0, "streams_lost=0: no stream was lost whole, or its loss was not counted")
    expect(streams_lost <= lost, f"streams_lost={streams_lost} is not a part of exchanges_lost={lost}")
    expect(len(server) + len(client) + lost == 2 * N,
           f"nginx served {N}, twice (both ends) != server entries {len(server)} + client entries {len(client)} "
           f"+ exchanges_lost {lost} (= {len(server) + len(client) + lost})")
    for cid, ce in htlib.group_by(server + client, lambda e: (e.get("HTTP_ROLE"), e.get("HTTP_CONNECTION_ID"))).items():
        ids = [e.get("HTTP_STREAM_ID") for e in ce]
        expect(len(ids) == len(set(ids)), f"connection {cid}: a stream id with two entries")
    bad = [e.get("HTTP_PARSE_ERROR") for e in entries if "HTTP_PARSE_ERROR" in e]
    log(f"parse errors: {bad[:5]}")


if __name__ == "__main__":
    htlib.run(test, tools=("bpftool", "journalctl", "h2load", "nginx"))
