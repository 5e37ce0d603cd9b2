#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A request's bytes may come in any number of syscalls ("the parser decides
what a message is from the bytes, not from which syscall carried them"):
requests whose first write is 1, 2, 3, 4 or 8 bytes long (then the rest),
and one written a byte at a time, each on a new connection to nginx, get one
complete server-role and one complete client-role entry like any other.

That nginx really read each request in pieces is not assumed from a sleep:
the client sends the next piece only once the previous one has left nginx's
socket (acknowledged, and nginx's receive queue empty in /proc/net/tcp), and
the daemon's --record file must show that nginx read each request in
several recvfrom() calls: the first piece alone, and the dribbled request a
byte at a time once HTTP was recognised.

Durations: inside the client's own round trip, no shorter than nginx's
$request_time allows, and no shorter than the time the client held back the
rest of the request after nginx had read its first piece (0.6 s for one
request, so that a duration of 0 cannot pass)."""

import os
import time

import htlib
from htlib import expect, ensure, log

SPLITS = (1, 2, 3, 4, 8)
# Held back after the first piece of the split=8 request, so that its
# server-side duration is known to exceed this much (minus the slack).
PAUSE_S = {8: 0.6}


def tcp_queues(local_port, remote_port):
    """(tx_queue, rx_queue) of the 127.0.0.1 TCP socket local_port -> remote_port, or None."""
    want_l = f"0100007F:{local_port:04X}"
    want_r = f"0100007F:{remote_port:04X}"
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[1] == want_l and parts[2] == want_r:
                tx, rx = parts[4].split(":")
                return int(tx, 16), int(rx, 16)
    return None


def wait_consumed(server_port, client_port, timeout=60):
    """Until what the client sent is acknowledged and read by nginx.

    An acknowledged segment has advanced the receiver's rcv_nxt, so an empty
    receive queue on nginx's socket then means nginx has read it: the next
    piece cannot join it in the same recvfrom(). The deadline only bounds a
    failure.
    """
    deadline = time.monotonic() + timeout
    while True:
        c = tcp_queues(client_port, server_port)
        s = tcp_queues(server_port, client_port)
        if c is not None and s is not None and c[0] == 0 and s[1] == 0:
            return time.monotonic()
        ensure(time.monotonic() < deadline,
               f"nginx did not read the first piece within {timeout}s (client tx/rx {c}, nginx tx/rx {s})")
        time.sleep(0.0005)


def ingress_syscalls(records, server_port, client_port):
    """Bytes of each syscall with which the server side read the connection client_port."""
    conns = {r["conn_id"] for r in records
             if r["type"] == htlib.HT_EVENT_CONN_OPEN and r["role"] == htlib.HT_ROLE_SERVER
             and r["local_port"] == server_port and r["remote_port"] == client_port}
    return [r["syscall_bytes"] for r in records
            if r["type"] == htlib.HT_EVENT_DATA and r["conn_id"] in conns
            and r["direction"] == htlib.HT_DIR_INGRESS and r["flags"] & htlib.HT_DATA_SEGMENT_START], conns


def test(ctx):
    htlib.require_tools("nginx")
    nginx = htlib.Nginx(ctx)
    host = f"127.0.0.1:{nginx.port}"
    rec = os.path.join(ctx.tmp, "split.htrec")
    daemon = htlib.Daemon(ctx, ["--record", rec]).start()
    rtt = htlib.RoundTrips()
    held_us = {}     # client port -> µs the rest was held back after nginx read the first piece
    pieces = {}      # client port -> the sizes sent, in order
    for split in SPLITS:
        with htlib.connect(nginx.port) as c:
            r = f"GET /index.html?split={split} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
            with rtt.measure((c.local_port, 1)):
                c.sendall(r[:split])
                t_read = wait_consumed(nginx.port, c.local_port)
                time.sleep(PAUSE_S.get(split, 0))  # a lower bound, not a wait for anything
                t_rest = time.monotonic()
                c.sendall(r[split:])
                htlib.read_response(c)
            held_us[c.local_port] = (t_rest - t_read) * 1e6
            pieces[c.local_port] = [split, len(r) - split]
    with htlib.connect(nginx.port) as c:
        r = f"GET /index.html?dribble=1 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        with rtt.measure((c.local_port, 1)):
            for i in range(len(r)):
                c.sendall(r[i:i + 1])
                if i < len(r) - 1:
                    wait_consumed(nginx.port, c.local_port)
            htlib.read_response(c)
        pieces[c.local_port] = [1] * len(r)
    n = len(SPLITS) + 1
    log_lines = htlib.wait_log_lines(nginx, n)
    ensure(len(log_lines) == n, f"fixture: nginx logged {len(log_lines)}, sent {n}")
    daemon.stop()

    # The premise: nginx read every request in the pieces it was sent in.
    # The kernel side holds the bytes of a new connection until it has
    # enough (HT_INFER_BYTES) to recognise HTTP, then sends them ahead as one
    # record: the syscalls before that are merged in the recording, every
    # later one has its own record.
    records = htlib.read_recording(rec)
    for port, want in pieces.items():
        got, conns = ingress_syscalls(records, nginx.port, port)
        ensure(len(conns) == 1, f"fixture: {len(conns)} server-side connections recorded for client port {port}")
        what = (f"client port {port}: nginx's reads recorded as {got} bytes, the client sent pieces of "
                f"{want} and waited for each to be read")
        expect(len(got) >= 2 and sum(got) == sum(want), what)
        if len(want) == 2:
            expect(got == want, what)                    # the first piece was read alone
        else:
            expect(all(k == 1 for k in got[1:]) and len(got) >= len(want) - htlib.HT_INFER_BYTES, what)

    entries = htlib.journal_final(daemon, f"SERVER_PORT={nginx.port}")
    for role in ("server", "client"):
        got = sorted(e.get("HTTP_TARGET", f"<no request: {e.get('MESSAGE')}>")
                     for e in htlib.entries_for_server(entries, nginx.port, role))
        want = sorted(l["uri"] for l in log_lines)
        missing = sorted(set(want) - set(got))
        expect(got == want, f"{role}-role entries {got}\n  expected {want}\n  missing {missing}")
    server = [e for e in htlib.entries_for_server(entries, nginx.port, "server") if "HTTP_TARGET" in e]
    htlib.check_nginx_pairs(log_lines, server, nginx.port, rtt)
    for e in server:
        held = held_us.get(int(e.get("CLIENT_PORT", 0)))
        if held is not None:
            # nginx read the first piece before the clock started and could
            # answer only after the rest was sent when it stopped.
            htlib.expect_duration(f"{e.get('HTTP_TARGET')}", e, low_us=held - htlib.SCHED_SLACK_US,
                                  why_low=f"the client held back the rest for {held:.0f} us after nginx "
                                          f"had read the first piece, -{htlib.SCHED_SLACK_US} us slack")


if __name__ == "__main__":
    htlib.run(test)
