#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Slowloris against nginx, accounted exactly (#15, suite).

CONNS connections send their request heads one byte per write, all at
once, interleaved (a head takes ~1.5 s), each then reads its response and
sends a second request the same way on the same keep-alive connection.
Every byte is its own syscall on both sides of nginx's read loop, so the
parser reassembles heads from single bytes while the other connections'
bytes arrive in between. Asserted against nginx's access log: each of
the 2 x CONNS requests has exactly one server entry, with its own target
and nginx's status and body size; nothing dropped, no parse error, no
desync, no uncorrelated or no-response entry. Bounded: the writes are
paced, every wait has a deadline."""

import socket
import threading
import time

import htlib
from htlib import expect, ensure, log

CONNS = 24
PACE_S = 0.02


def slow_client(port, i, errors):
    try:
        c = htlib.connect(port, timeout=60)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for k in range(2):
            req = f"GET /index.html?loris={i}.{k} HTTP/1.1\r\nHost: t\r\nX-Slow: {'z' * 20}\r\n\r\n".encode()
            for b in req:
                c.sock.send(bytes([b]))
                time.sleep(PACE_S)
            htlib.read_response(c)
        c.close()
    except Exception as e:  # reported by the main thread
        errors.append(f"client {i}: {e!r}")


def test(ctx):
    htlib.require_tools("nginx")
    nginx = htlib.Nginx(ctx)
    d = htlib.Daemon(ctx, ["-s", f"filter.include.local_ports={nginx.port}"]).start()
    errors = []
    threads = [threading.Thread(target=slow_client, args=(nginx.port, i, errors)) for i in range(CONNS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    ensure(not errors and not any(t.is_alive() for t in threads), f"fixture: slow clients failed: {errors[:3]}")
    served = nginx.log_lines()
    ensure(len(served) == 2 * CONNS, f"fixture: nginx logged {len(served)} of {2 * CONNS} requests")
    htlib.journal_wait(d.pid, f"SERVER_PORT={nginx.port}", expected=2 * CONNS, timeout=60)
    d.stop()
    entries = htlib.journal_final(d, f"SERVER_PORT={nginx.port}")
    by_target = {}
    for e in entries:
        by_target.setdefault(e.get("HTTP_TARGET"), []).append(e)
    log(f"{len(entries)} entries for {len(served)} slowloris requests")
    for l in served:
        got = by_target.get(l["uri"], [])
        if not expect(len(got) == 1, f"{l['uri']}: {len(got)} entries, expected 1"):
            continue
        e = got[0]
        expect(e.get("HTTP_STATUS") == l["status"] and e.get("HTTP_RESPONSE_BODY_BYTES") == l["body_bytes_sent"]
               and e.get("HTTP_FLAGS") in (None, "gap"),   # gap: the body went by sendfile
               f"{l['uri']}: status {e.get('HTTP_STATUS')} body {e.get('HTTP_RESPONSE_BODY_BYTES')} "
               f"flags {e.get('HTTP_FLAGS')}, nginx: {l['status']} {l['body_bytes_sent']}")
    expect(len(entries) == len(served), f"{len(entries)} entries for {len(served)} requests")
    for k in ("ringbuf_drops", "entries_dropped", "parse_errors", "no_response", "uncorrelated", "desyncs"):
        expect(d.stat(k) == 0, f"{k}={d.stat(k)}, expected 0")


htlib.run(test)
