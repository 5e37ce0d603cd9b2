#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""HTTP/2 state under limits.global_memory_max (issue 15, "memory bounded everywhere").

CONNS h2c connections to nginx (`listen ... http2`) from h2lib's client, one
after another, each one GET whose header block carries a 15,000-byte field
(one HEADERS frame), answered (404) and then left open, idle. Each traced
end then holds its header block buffer (16 KiB) and its HPACK inflater's
scratch (16 KiB, limits.http2_header_list_max) until it closes: ~64 KiB per
connection, both ends traced (a kernel filter on the test's own loopback
addresses keeps other traffic out).

With limits.global_memory_max=1MiB (its minimum), asserted while all are
open, over the daemon's own control socket:
 - memory_bytes <= the cap; memory_refused > 0;
 - exact: every traced end of every connection is tracked with exactly one
   complete entry, or refused: entries + conns_refused = 2 * CONNS;
 - every entry has its method, exact path (h2lib's blocks are literals the
   static-table reading finds even when the block was refused) and status,
   and at least one is flagged memory-capped;
 - closed, the budget returns to the empty table's memory_bytes exactly.
With the defaults: nothing refused, no flag, 2 * CONNS entries, and the
open connections' HTTP/2 buffers are in memory_bytes (at least 32 KiB per
traced end: before, HTTP/2 state was outside the cap and memory_bytes
showed only the connections' fixed cost).
"""

import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import h2lib  # noqa: E402
import htlib  # noqa: E402
import htlib_extra as X  # noqa: E402
from htlib import expect, ensure, log  # noqa: E402

SERVER_ADDR, CLIENT_ADDR = "127.0.13.5", "127.0.13.6"
CONNS = 40
CAP = 1024 * 1024
FIELD = 15000


def open_clients(port, tag):
    clients = []
    try:
        for i in range(CONNS):
            c = h2lib.Client(SERVER_ADDR, port, src=CLIENT_ADDR)
            clients.append(c)
            block = h2lib.get_block(f"/{tag}-{i}", c.authority, [("x-big", "m" * FIELD)])
            c.sock.sendall(h2lib.headers(1, block))
            ensure(c.response(1) == 0x8d, f"fixture: connection {i}: not nginx's 404")
    except BaseException:
        close_all(clients)
        raise
    return clients


def close_all(clients):
    for c in clients:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
    clients.clear()


def run(ctx, nginx, port, tag, args):
    d = X.PrivateRunDaemon(ctx, ["-s", f"filter.include.addresses={SERVER_ADDR}/32,{CLIENT_ADDR}/32",
                                 # each write and read whole in one record
                                 "-s", "capture.payload_size=31KiB"] + args,
                           name=f"http-tracer-{tag}").start()
    empty = d.status()["memory_bytes"]
    clients = open_clients(port, tag)
    try:
        def settled():
            st = d.status()
            c = st["counters"]
            return st if c["exchanges_complete"] + c["conns_refused"] >= 2 * CONNS else None
        # every end announced and its exchange out, or refused (the deadline bounds a failure)
        st = X.poll(settled, f"{2 * CONNS} ends logged or refused ({tag})", timeout=120, interval=0.5)
        close_all(clients)
        after = X.poll(lambda: (lambda s: s if s["connections_tracked"] == 0 else None)(d.status()),
                       f"every connection closed ({tag})", timeout=60, interval=0.2)
        d.stop()
    finally:
        close_all(clients)
    c = st["counters"]
    log(f"{tag}: memory_bytes {st['memory_bytes']} open (empty table {empty}, cap {CAP}), "
        f"{after['memory_bytes']} closed; tracked {st['connections_tracked']}, conns_refused "
        f"{c['conns_refused']}, memory_refused {c['memory_refused']}")
    entries = htlib.journal_final(d, f"SERVER_PORT={port}",
                                  pred=lambda e: str(e.get("HTTP_TARGET", "")).startswith(f"/{tag}-"))
    bad = [e for e in entries if e.get("MESSAGE_ID") != X.MID_COMPLETE or e.get("HTTP_METHOD") != "GET" or
           e.get("HTTP_STATUS") != "404" or e.get("HTTP_VERSION") != "2"]
    expect(not bad, f"{tag}: entries not complete GET -> 404 over HTTP/2: "
                    f"{[(e.get('HTTP_TARGET'), e.get('HTTP_STATUS'), e.get('HTTP_FLAGS')) for e in bad[:5]]}")
    for role in ("server", "client"):
        es = htlib.entries_for_server(entries, port, role)
        targets = [e.get("HTTP_TARGET") for e in es]
        expect(len(targets) == len(set(targets)), f"{tag}: {role}: a target logged twice")
    capped = [e for e in entries if "memory-capped" in e.get("HTTP_FLAGS", "")]
    log(f"{tag}: {len(entries)} entries, {len(capped)} memory-capped")
    expect(after["memory_bytes"] == empty,
           f"{tag}: memory_bytes {after['memory_bytes']} after every connection closed, want {empty}")
    return st, entries, capped


def test(ctx):
    htlib.require_tools("nginx")
    port = htlib.free_port()
    nginx = htlib.Nginx(ctx, extra_server=f"listen {SERVER_ADDR}:{port} http2;",
                        extra_http="http2_max_field_size 64k; http2_max_header_size 128k;")

    st, entries, capped = run(ctx, nginx, port, "capped", ["-s", f"limits.global_memory_max={CAP}"])
    c = st["counters"]
    expect(st["memory_bytes"] <= CAP, f"capped: memory_bytes {st['memory_bytes']} over the cap {CAP}")
    expect(c["memory_refused"] > 0, "capped: memory_refused 0")
    expect(len(entries) + c["conns_refused"] == 2 * CONNS,
           f"capped: {len(entries)} entries + {c['conns_refused']} refused ends != {2 * CONNS}")
    expect(len(capped) > 0, "capped: no entry flagged memory-capped")

    st, entries, capped = run(ctx, nginx, port, "defaults", [])
    c = st["counters"]
    expect(c["memory_refused"] == 0 and c["conns_refused"] == 0,
           f"defaults: memory_refused {c['memory_refused']}, conns_refused {c['conns_refused']}")
    expect(len(entries) == 2 * CONNS, f"defaults: {len(entries)} entries, want {2 * CONNS}")
    expect(not [e for e in entries if e.get("HTTP_FLAGS")],
           f"defaults: flagged entries {[e.get('HTTP_FLAGS') for e in entries if e.get('HTTP_FLAGS')][:5]}")
    expect(st["memory_bytes"] >= 2 * CONNS * 32 * 1024,
           f"defaults: memory_bytes {st['memory_bytes']} with {CONNS} open connections, want their "
           f"HTTP/2 buffers counted (>= {2 * CONNS * 32 * 1024})")


htlib.run(test)
