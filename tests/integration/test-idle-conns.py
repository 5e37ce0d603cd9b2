#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""10,000 idle keep-alive connections, within the memory cap, counted exactly (issue 15, suite).

Each of CONNS connections to nginx makes one request, reads its response
and then stays open, idle: a connection the kernel has recognised as HTTP
(an idle-after-connect socket is never announced to user space, so it
would prove nothing about user space's memory). The connections are made
one after another, so that when each one is announced every earlier one
is idle: what decides whether it is tracked is the memory cap alone. A
kernel filter on nginx's port keeps the daemon to nginx's ends of them.

With limits.global_memory_max=1MiB (its minimum), asserted while all are
open, over the daemon's own control socket:
 - tracked + refused = CONNS exactly (connections_tracked, conns_refused),
   refused > 0, memory_bytes <= the cap, and the cap has no room left for
   one more connection;
 - each idle connection holds exactly its fixed cost: (memory_bytes - the
   empty table's) is a whole multiple of the tracked count;
 - stopped while all are open, the final statistics entry says the same
   connections and memory (issue 15 item 7: not the emptied table's);
 - after the stop, the journal has exactly one complete entry per tracked
   connection: requests = entries + conns_refused.
With the defaults (64 MiB): all CONNS tracked, none refused, the same cost
per connection, one entry each; the daemon's RSS is printed (a figure for
the README's target, not asserted: RSS is not an exact count).

capture.connections_max=32768 in both runs: each connection has two
entries in the kernel's LRU map (nginx's end and this client's, filtered
but remembered), so the default 16384 would evict nginx's ends of idle
connections. Fd limits: nginx gets worker_rlimit_nofile, this process
raises its soft limit (CONNS + slack must fit under the hard one).
Connections are closed with an RST (SO_LINGER 0): nothing is left in
TIME_WAIT on a shared machine.
"""

import os
import resource
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htlib  # noqa: E402
import htlib_extra as X  # noqa: E402
from htlib import expect, ensure, log  # noqa: E402

CONNS = 10000
CAP = 1024 * 1024
NGINX_FDS = CONNS + 2000


def open_idle(port, tag, n):
    """n connections, each after one request answered; returned open."""
    socks = []
    req = b"GET /idle?%s=%d HTTP/1.1\r\nHost: idle\r\n\r\n"
    want = b"idle\n"
    try:
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            socks.append(s)
            s.sendall(req % (tag.encode(), i))
            buf = b""
            while not buf.endswith(want):
                b = s.recv(4096)
                ensure(b, f"fixture: nginx closed connection {i} before answering")
                buf += b
            ensure(buf.startswith(b"HTTP/1.1 200 "), f"fixture: connection {i}: {buf[:40]!r}")
    except BaseException:
        close_all(socks)
        raise
    return socks


def close_all(socks):
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    socks.clear()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run(ctx, nginx, tag, args):
    """One daemon run; returns (tracked, refused, memory, empty, rss KiB, memory_refused, entries memory-capped)."""
    d = X.PrivateRunDaemon(ctx, ["-s", f"filter.include.local_ports={nginx.port}",
                                 "-s", "capture.connections_max=32768"] + args, name=f"http-tracer-{tag}").start()
    st0 = d.status()
    empty = st0["memory_bytes"]
    socks = open_idle(nginx.port, tag, CONNS)
    try:
        def settled():
            st = d.status()
            c = st["counters"]
            return st if st["connections_tracked"] + c["conns_refused"] >= CONNS else None
        # every connection announced and taken or refused by user space (the deadline bounds a failure)
        st = X.poll(settled, f"{CONNS} connections tracked or refused ({tag})", timeout=120, interval=0.5)
        rss = rss_kib(d.pid)
        lines = htlib.wait_log_lines(nginx, 0)
        ours = [l for l in lines if l["uri"].startswith(f"/idle?{tag}=")]
        ensure(len(ours) == CONNS, f"fixture: nginx logged {len(ours)} of {CONNS} requests ({tag})")
        # stopped with every connection still open: its last statistics say
        # what was tracked then, not the empty table after finishing it
        d.stop()
    finally:
        close_all(socks)
    c = st["counters"]
    tracked, refused, memory = st["connections_tracked"], c["conns_refused"], st["memory_bytes"]
    log(f"{tag}: {tracked} tracked + {refused} refused of {CONNS}; memory_bytes {memory} "
        f"(empty table {empty}); daemon RSS {rss} KiB; memory_refused {c['memory_refused']}; "
        f"kernel conn_map_full {st['kernel'].get('conn_map_full')}")
    htlib.wait_daemon_flushed(d)
    final = [e for e in htlib.journal_query(d.pid, f"MESSAGE_ID={X.MID_STATISTICS}")
             if e.get("HTTP_TRACER_RECORDS") == str(d.stat("records"))]
    if expect(len(final) == 1, f"{tag}: {len(final)} final statistics entries"):
        X.expect_fields(final[0], f"{tag}: the final statistics entry", HTTP_TRACER_CONNECTIONS=str(tracked),
                        HTTP_TRACER_MEMORY_BYTES=str(memory))
    entries = htlib.journal_final(d, f"SERVER_PORT={nginx.port}",
                                  pred=lambda e: str(e.get("HTTP_TARGET", "")).startswith(f"/idle?{tag}="))
    complete = [e for e in entries if e.get("MESSAGE_ID") == X.MID_COMPLETE]
    targets = {e.get("HTTP_TARGET") for e in complete}
    expect(len(complete) == len(entries) == len(targets),
           f"{tag}: {len(entries)} entries, {len(complete)} complete, {len(targets)} distinct targets")
    # A head the cap had no room for is cut and flagged, never silently: at
    # most the last connection that fitted (the next ones did not open).
    capped = [e for e in complete if e.get("HTTP_FLAGS")]
    expect(all(e.get("HTTP_FLAGS") == "head-truncated,memory-capped" for e in capped) and len(capped) <= 1,
           f"{tag}: flagged entries {[(e.get('MESSAGE'), e.get('HTTP_FLAGS')) for e in capped]}")
    expect(tracked + refused == CONNS, f"{tag}: tracked {tracked} + refused {refused} != {CONNS}")
    expect(d.stat("conns_opened") == tracked, f"{tag}: conns_opened={d.stat('conns_opened')}, tracked {tracked}")
    expect(d.stat("conns_refused") == refused, f"{tag}: exit conns_refused={d.stat('conns_refused')}, "
                                               f"status said {refused}")
    # requests = entries + conns_refused: a refused connection's exchange is counted, not logged
    expect(CONNS == len(complete) + refused,
           f"{tag}: requests {CONNS} != complete entries {len(complete)} + conns_refused {refused}")
    expect(tracked > 0 and (memory - empty) % tracked == 0,
           f"{tag}: {memory - empty} bytes over the empty table for {tracked} idle connections: "
           f"not a whole cost each")
    for k in ("ringbuf_drops", "entries_dropped", "parse_errors", "uncorrelated", "records_invalid"):
        expect(d.stat(k) == 0, f"{tag}: {k}={d.stat(k)}, expected 0")
    return tracked, refused, memory, empty, rss, c["memory_refused"], len(capped)


def test(ctx):
    htlib.require_tools("nginx")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = CONNS + 1000
    if hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
        except (ValueError, OSError):
            htlib.skip(f"RLIMIT_NOFILE hard limit {hard} < {need} and cannot be raised")
    elif soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    # Room for CONNS idle keep-alive connections (the default nginx has 512).
    nginx = htlib.Nginx(ctx, extra_server='location /idle { return 200 "idle\\n"; }',
                        connections=NGINX_FDS - 100, keepalive_timeout=600, listen_options=" backlog=4096")

    tracked, refused, memory, empty, rss, mem_refused, n_capped = run(ctx, nginx, "capped", ["-s", f"limits.global_memory_max={CAP}"])
    per_conn = (memory - empty) // tracked if tracked else 0
    log(f"capped: {per_conn} bytes per idle connection")
    expect(refused > 0, f"capped: no connection refused under a {CAP}-byte cap")
    expect(memory <= CAP, f"capped: memory_bytes {memory} over the cap {CAP}")
    # memory_refused: the refused connections' costs, plus the head bytes
    # refused to the last connection that fitted when it was flagged
    head_refused = mem_refused - refused * per_conn
    log(f"capped: memory_refused {mem_refused} = {refused} x {per_conn} + {head_refused} head bytes "
        f"({n_capped} entry flagged memory-capped)")
    expect(head_refused >= 0 and (head_refused > 0) == (n_capped == 1),
           f"capped: memory_refused {mem_refused} for {refused} connections of {per_conn} bytes, "
           f"{n_capped} entries flagged memory-capped")
    expect(memory + per_conn > CAP, f"capped: {CAP - memory} bytes left under the cap, room for another "
                                    f"{per_conn}-byte connection, yet {refused} were refused")

    tracked2, refused2, memory2, empty2, rss2, _, n_capped2 = run(ctx, nginx, "defaults", [])
    expect(tracked2 == CONNS and refused2 == 0 and n_capped2 == 0,
           f"defaults: {tracked2} tracked, {refused2} refused, {n_capped2} entries memory-capped")
    expect(memory2 - empty2 == CONNS * per_conn,
           f"defaults: {memory2 - empty2} bytes for {CONNS} idle connections, "
           f"not {per_conn} each as under the cap")
    log(f"defaults: memory_bytes {memory2}, daemon RSS {rss2} KiB ({rss2 / 1024:.1f} MiB) with {CONNS} idle connections")


htlib.run(test)
