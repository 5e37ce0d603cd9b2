#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real ring-buffer drops: counted, warned about, and accounted for.

docs/architecture.md: a record the kernel cannot put in the full ring
buffer is counted (per CPU) and its length carried to user space.
docs/journal-fields.md: the daemon then writes a drop warning, MESSAGE_ID
5178c98922794d619bfcbf3dd749dfbd, PRIORITY 4, with HTTP_TRACER_DROPPED
(lost since the previous warning), HTTP_TRACER_DROPPED_TOTAL (since start)
and HTTP_TRACER_DROP_REASON=ring-buffer-full.

Deterministic overflow: the smallest ring (capture.ring_buffer_size=64KiB)
and a consumer that cannot read: the daemon is SIGSTOPped while 40
exchanges, each with a 64 KiB response (a 16 KiB record), happen on their
own connections, 640 KiB of records for a 64 KiB ring. A kernel filter on
the server's port keeps the host's other traffic out. Then SIGCONT.

Asserted: drops happened and were warned about with the documented
fields; the warnings add up (each DROPPED_TOTAL is the sum of the DROPPED
so far, the last one equals the exit statistics' ringbuf_drops); every
exchange is either logged complete and correct or lost with records
counted as dropped (no silent loss: missing exchanges ≤ dropped records),
and exactly: sent = logged + exchanges_lost, the exchanges whose whole
connection was lost (exchanges_lost_unseen) included;
and after the overflow, tracing goes on: 20 more exchanges made with the
daemon running are all logged.

test_forgotten: a kept-alive connection loses a whole exchange in the full
ring, then idles past limits.idle_timeout so that user space forgets it
(bpf_tracer_forget()) with the loss still unreported in its kernel entry:
the lost request is counted then (sent = logged + exchanges_lost, read in a
statistics entry, the connection still open), and not again when the
connection, traced anew, carries one more exchange and closes.
test_forgotten_exit: the same loss on a one-connection server's kept-alive
connection, forgotten because the server's process is killed (the kernel
entry deleted), the client's end still open: counted then, 32 = 23 + 9.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htlib  # noqa: E402
import htlib_extra as X  # noqa: E402
from htlib import expect, log  # noqa: E402

BURST = 40
AFTER = 20
BODY = 65536


def exchange(port, target):
    with X.client(port) as c:
        c.sendall(X.request(target))
        buf = b""
        while b"\r\n\r\n" not in buf or len(buf.partition(b"\r\n\r\n")[2]) < BODY:
            b = c.recv(65536)
            if not b:
                break
            buf += b
        htlib.ensure(buf.startswith(b"HTTP/1.1 200 ") and buf.endswith(b"x" * BODY),
                     f"{target}: short response ({len(buf)} bytes)")


def test(ctx):
    srv = X.RawServer(ctx)
    d = htlib.Daemon(ctx, ["-s", "capture.ring_buffer_size=64KiB",
                           "-s", f"filter.include.local_ports={srv.port}"]).start()

    os.kill(d.pid, signal.SIGSTOP)
    try:
        for i in range(BURST):
            exchange(srv.port, f"/eat/burst/{i}?size={BODY}")
    finally:
        os.kill(d.pid, signal.SIGCONT)

    warnings = X.poll(lambda: htlib.journal_query(d.pid, f"MESSAGE_ID={X.MID_DROPS}"),
                      "a drop warning after the overflow")
    for i in range(AFTER):
        exchange(srv.port, f"/eat/after/{i}?size={BODY}")
    after = X.wait_entries(d.pid, srv.port, AFTER,
                           pred=lambda e: str(e.get("HTTP_TARGET", "")).startswith("/eat/after/"))
    expect(sorted(e.get("HTTP_TARGET") for e in after) ==
           sorted(f"/eat/after/{i}?size={BODY}" for i in range(AFTER)),
           f"after the overflow: {len(after)} of {AFTER} exchanges logged")
    d.stop()

    warnings = htlib.journal_query(d.pid, f"MESSAGE_ID={X.MID_DROPS}")
    ring = [w for w in warnings if w.get("HTTP_TRACER_DROP_REASON") == "ring-buffer-full"]
    log(f"drop warnings: {[(w.get('HTTP_TRACER_DROP_REASON'), w.get('HTTP_TRACER_DROPPED'), w.get('HTTP_TRACER_DROPPED_TOTAL')) for w in warnings]}")
    htlib.ensure(ring, f"no ring-buffer-full drop warning; warnings: {[w.get('MESSAGE') for w in warnings]}")
    total = 0
    for w in sorted(ring, key=htlib.entry_order):
        what = f"drop warning {w.get('MESSAGE')!r}"
        X.expect_fields(w, what, PRIORITY="4", SYSLOG_IDENTIFIER="http-tracer")
        n = int(w.get("HTTP_TRACER_DROPPED", "-1"))
        expect(n > 0, f"{what}: HTTP_TRACER_DROPPED={n}, expected > 0")
        total += n
        expect(w.get("HTTP_TRACER_DROPPED_TOTAL") == str(total),
               f"{what}: HTTP_TRACER_DROPPED_TOTAL={w.get('HTTP_TRACER_DROPPED_TOTAL')}, "
               f"the warnings' DROPPED so far add up to {total}")
    drops = d.stat("ringbuf_drops")
    expect(total == drops, f"ring-buffer-full warnings add up to {total}, exit statistics ringbuf_drops={drops}")

    entries = X.wait_entries(d.pid, srv.port, 0)
    burst = [e for e in entries if str(e.get("HTTP_TARGET", "")).startswith("/eat/burst/")]
    complete = [e for e in burst if e.get("MESSAGE_ID") == X.MID_COMPLETE]
    for e in complete:
        what = f"burst entry {e.get('MESSAGE')!r}"
        X.expect_fields(e, what, HTTP_STATUS="200", HTTP_ROLE="server", PROCESS_PID=str(srv.proc.pid))
        if "gap" not in e.get("HTTP_FLAGS", ""):
            expect(False, f"{what}: a 64 KiB body past a 16 KiB payload without 'gap': {e.get('HTTP_FLAGS')}")
        # a body cut by a drop must say so; an exact size is only claimed when not truncated
        if "truncated" not in e.get("HTTP_FLAGS", ""):
            X.expect_fields(e, what, HTTP_RESPONSE_BODY_BYTES=str(BODY))
    targets = [e.get("HTTP_TARGET") for e in complete]
    expect(len(targets) == len(set(targets)), f"an exchange logged twice: {sorted(targets)}")
    missing = BURST - len(set(targets))
    log(f"burst: {len(set(targets))} of {BURST} logged complete, {len(burst) - len(complete)} other "
        f"entries, {drops} records dropped")
    expect(missing > 0, "no exchange of the burst was lost: the ring buffer never overflowed")
    expect(missing <= drops, f"{missing} exchanges missing but only {drops} records counted as dropped")
    # Exact: every exchange of the burst has one entry or is counted lost,
    # including those whose whole connection (open, data and close records)
    # was lost, which the kernel counts (exchanges_lost_unseen, a part of
    # exchanges_lost). The 20 exchanges after it are all logged (above), so
    # every counted loss is the burst's.
    # Logged: the burst's entries, and those of its responses whose request
    # was lost (uncorrelated: no target).
    logged = [e for e in entries if not str(e.get("HTTP_TARGET", "")).startswith("/eat/after/")]
    burst_targets = [e.get("HTTP_TARGET") for e in burst]
    expect(len(burst_targets) == len(set(burst_targets)), f"a burst exchange logged twice: {sorted(burst_targets)}")
    lost, unseen = d.stat("exchanges_lost"), d.stat("exchanges_lost_unseen")
    log(f"burst equation: sent={BURST} = logged={len(logged)} (complete={len(complete)}, "
        f"uncorrelated={len(logged) - len(burst)}) + exchanges_lost={lost} "
        f"(of which whole connection lost: exchanges_lost_unseen={unseen}); "
        f"messages_lost={d.stat('messages_lost')} closes_lost={d.stat('closes_lost')}")
    expect(BURST == len(logged) + lost,
           f"burst: sent {BURST} != logged {len(logged)} + exchanges_lost {lost} (= {len(logged) + lost}; "
           f"exchanges_lost_unseen={unseen})")
    expect(unseen <= lost, f"exchanges_lost_unseen={unseen} is not a part of exchanges_lost={lost}")
    # A response lost on a connection that then closes: the close record
    # carries the loss, so its request is "no response (lost)", flagged.
    # Not when the close record was lost too (the ring still full): the
    # connection then ends at exit ("shutdown"), its last loss unattached;
    # closes_lost counts those, at most one such entry each.
    unflagged = []
    for e in burst:
        if e.get("MESSAGE_ID") != X.MID_COMPLETE:
            if e.get("HTTP_NO_RESPONSE_REASON") == "lost":
                expect("lost" in e.get("HTTP_FLAGS", ""), f"{e.get('MESSAGE')!r}: no 'lost' in HTTP_FLAGS")
            else:
                unflagged.append(e.get("MESSAGE"))
    log(f"burst: {len(unflagged)} no-response entries whose close record was lost, closes_lost={d.stat('closes_lost')}")
    expect(len(unflagged) <= d.stat("closes_lost"),
           f"{len(unflagged)} burst entries not 'no response (lost)' but only {d.stat('closes_lost')} close "
           f"records lost: {unflagged[:3]}")
    expect(d.stat("bytes_lost") > 0, f"bytes_lost={d.stat('bytes_lost')} although records were dropped")
    expect(len(entries) <= BURST + AFTER,
           f"{len(entries)} entries on our port for {BURST + AFTER} exchanges")


# The exchange-level equation under wrk against nginx, keep-alive: files
# of 7 sizes around 5.5 KB (sendfile), each request a unique target naming
# its file, the daemon paused and resumed while wrk runs so that the 64 KiB
# ring overflows again and again in the middle of connections.
WRK_REQUESTS = 3000
SIZES = [5500 + 37 * k for k in range(7)]


def test_wrk_equation(ctx):
    htlib.require_tools("nginx", "wrk")
    nginx = htlib.Nginx(ctx)
    for k, size in enumerate(SIZES):
        with open(os.path.join(nginx.www, f"s{k}.html"), "wb") as f:
            f.write(b"y" * size)
        os.chmod(os.path.join(nginx.www, f"s{k}.html"), 0o644)
    script = os.path.join(ctx.tmp, "unique.lua")
    with open(script, "w") as f:
        f.write(f"local sent, n = 0, 0\n"
                f"request = function()\n"
                f"  sent = sent + 1\n"
                f"  return wrk.format('GET', '/s' .. (sent % 7) .. '.html?i=' .. sent)\n"
                f"end\n"
                f"function response(status, headers, body)\n"
                f"  n = n + 1\n"
                f"  if n >= {WRK_REQUESTS} then wrk.thread:stop() end\n"
                f"end\n")
    d = htlib.Daemon(ctx, ["-s", "capture.ring_buffer_size=64KiB",
                           "-s", f"filter.include.local_ports={nginx.port}"]).start()
    wrk = htlib.Proc(ctx, ["wrk", "-t1", "-c8", "-d60s", "-s", script, nginx.url("/")], "wrk")
    # Pause the consumer in bursts until nginx has logged wrk's requests.
    while wrk.poll() is None:
        os.kill(d.pid, signal.SIGSTOP)
        time.sleep(0.2)
        os.kill(d.pid, signal.SIGCONT)
        time.sleep(0.2)
        try:
            with open(nginx.access_log, "rb") as f:
                if f.read().count(b"\n") >= WRK_REQUESTS:
                    wrk.popen.send_signal(signal.SIGINT)
                    break
        except FileNotFoundError:
            pass
    wrk.popen.wait(120)
    nginx.stop()  # closes wrk's leftover connections: every close reaches the daemon running
    served = nginx.log_lines()
    htlib.ensure(len(served) > 100, f"fixture: nginx logged only {len(served)} requests")
    d.stop()

    entries = htlib.journal_final(d, f"SERVER_PORT={nginx.port}", "HTTP_ROLE=server")
    complete = [e for e in entries if e.get("MESSAGE_ID") == X.MID_COMPLETE]
    no_resp = [e for e in entries if "HTTP_METHOD" in e and "HTTP_STATUS" not in e]
    uncorr = [e for e in entries if "HTTP_STATUS" in e and "HTTP_METHOD" not in e]
    other = len(entries) - len(complete) - len(no_resp) - len(uncorr)
    lost = d.stat("exchanges_lost")
    logged = len(complete) + len(no_resp) + len(uncorr)
    log(f"wrk equation: served={len(served)} = logged={logged} (complete={len(complete)} "
        f"no_response={len(no_resp)} uncorrelated={len(uncorr)}) + counted exchanges_lost={lost}: "
        f"{logged + lost}; ringbuf_drops={d.stat('ringbuf_drops')} messages_lost={d.stat('messages_lost')} "
        f"other entries={other}")
    expect(d.stat("ringbuf_drops") > 0, "the 64 KiB ring never overflowed: the test proves nothing")
    expect(len(served) == logged + lost,
           f"served {len(served)} != logged {logged} + counted {lost} (= {logged + lost})")
    expect(other == 0, f"{other} server entries that are not exchanges (parse errors?)")
    size_of = {f"s{k}": size for k, size in enumerate(SIZES)}
    served_targets = {l["uri"] for l in served}
    targets = [e.get("HTTP_TARGET") for e in complete + no_resp]
    expect(len(targets) == len(set(targets)), "an exchange logged twice")
    expect(set(targets) <= served_targets, f"targets nginx never served: {sorted(set(targets) - served_targets)[:5]}")
    for e in complete:
        # each response paired with its own request: its size is the file's the target names
        want = size_of[e["HTTP_TARGET"][1:3]]
        if "truncated" not in e.get("HTTP_FLAGS", ""):
            expect(e.get("HTTP_RESPONSE_BODY_BYTES") == str(want),
                   f"{e.get('MESSAGE')!r}: body {e.get('HTTP_RESPONSE_BODY_BYTES')} for a {want}-byte file: mispaired")
    for e in no_resp + uncorr:
        expect("lost" in e.get("HTTP_FLAGS", ""), f"{e.get('MESSAGE')!r}: touched by a loss, not flagged 'lost'")
    for e in no_resp:
        X.expect_fields(e, f"{e.get('MESSAGE')!r}", HTTP_NO_RESPONSE_REASON="lost")


# A connection user space forgets (idle past limits.idle_timeout) while the
# kernel still holds its unreported loss: the request it lost is counted
# then (exchanges_lost_unseen, in exchanges_lost), once, and the connection
# traced again afterwards carries no stale loss.
FORGET_BURST = 20
FORGET_PADDED = 10


PAD = [("X-Pad", "p" * 1024)]
PAD_LARGER = [("X-Pad", "p" * 1200)]


def small_exchange(sock, target, pad=PAD):
    """One padded request on sock, its 2-byte answer read (RawServer's /eat, the one-shot server)."""
    sock.sendall(X.request(target, headers=pad))
    buf = b""
    while not buf.endswith(b"\r\n\r\nxx"):
        b = sock.recv(4096)
        htlib.ensure(b, f"{target}: the server closed the connection")
        buf += b


def fill_ring(port, tag):
    """With the daemon stopped: FORGET_BURST + FORGET_PADDED exchanges on their own connections."""
    for i in range(FORGET_BURST):
        exchange(port, f"/eat/{tag}burst/{i}?size={BODY}")
    # The 16 KiB records leave holes that smaller ones fill: requests padded to 1 KiB
    # until one does not fit; from then on no hole holds a PAD_LARGER one.
    for i in range(FORGET_PADDED):
        with X.client(port) as c:
            small_exchange(c, f"/eat/{tag}pad/{i}")


def settled_equation(d, ports, sent, since_usec, what):
    """Poll until a statistics entry after since_usec says 0 connections and nothing queued, and
    sent = logged (entries on ports) + its exchanges_lost; the deadline only bounds a failure."""
    last = {}

    def settled():
        stats = [e for e in htlib.journal_query(d.pid, f"MESSAGE_ID={htlib.STATISTICS_MESSAGE_ID}")
                 if int(e.get("__REALTIME_TIMESTAMP", 0)) > since_usec
                 and e.get("HTTP_TRACER_CONNECTIONS") == "0" and e.get("HTTP_TRACER_ENTRIES_QUEUED") == "0"]
        if not stats:
            return False
        last["entries"] = [e for p in ports for e in X.wait_entries(d.pid, p, 0)]
        last["lost"] = int(stats[-1].get("HTTP_TRACER_EXCHANGES_LOST", -1))
        last["unseen"] = int(stats[-1].get("HTTP_TRACER_EXCHANGES_LOST_UNSEEN", -1))
        return sent == len(last["entries"]) + last["lost"]
    try:
        X.poll(settled, f"sent = logged + exchanges_lost ({what})", timeout=60, interval=0.5)
    except htlib.Failure as f:
        expect(False, f"{f}: sent {sent}, logged {len(last.get('entries', []))}, exchanges_lost "
               f"{last.get('lost')} (unseen {last.get('unseen')}): the held connection's lost request not counted")
    log(f"{what}: sent={sent} logged={len(last.get('entries', []))} exchanges_lost={last.get('lost')} "
        f"exchanges_lost_unseen={last.get('unseen')}")
    return last.get("entries", [])


def test_forgotten(ctx):
    srv = X.RawServer(ctx, name="raw-server-forget")
    d = htlib.Daemon(ctx, ["-s", "capture.ring_buffer_size=64KiB", "-s", "limits.idle_timeout=2s",
                           "-s", "stats.interval=1s", "-s", f"filter.include.local_ports={srv.port}"],
                     name="http-tracer-forget").start()
    held = X.client(srv.port)
    ctx.cleanup.callback(held.close)

    small_exchange(held, "/eat/held/a")
    X.wait_entries(d.pid, srv.port, 1, pred=lambda e: e.get("HTTP_TARGET") == "/eat/held/a")
    os.kill(d.pid, signal.SIGSTOP)
    try:
        fill_ring(srv.port, "f")
        small_exchange(held, "/eat/held/b", PAD_LARGER)   # lost whole: request and response
    finally:
        os.kill(d.pid, signal.SIGCONT)
    resumed_usec = int(time.time() * 1e6)
    # The held connection idles past limits.idle_timeout: user space forgets it, the kernel
    # entry (its loss not reported) is kept for a re-announce; the connection stays open.
    entries = settled_equation(d, [srv.port], FORGET_BURST + FORGET_PADDED + 2, resumed_usec,
                               "forgotten idle, still open")
    held_b = [e for e in entries if e.get("HTTP_TARGET") == "/eat/held/b"]
    expect(not held_b, f"/eat/held/b was logged although the ring was full: {held_b}")

    # Traced again: the next exchange is logged as it was, with no stand-in for the old loss.
    small_exchange(held, "/eat/held/c")
    X.wait_entries(d.pid, srv.port, 1, pred=lambda e: e.get("HTTP_TARGET") == "/eat/held/c")
    held.close()
    d.stop()
    entries = X.wait_entries(d.pid, srv.port, 0)
    c = [e for e in entries if e.get("HTTP_TARGET") == "/eat/held/c"]
    expect(len(c) == 1 and c[0].get("MESSAGE_ID") == X.MID_COMPLETE and "lost" not in c[0].get("HTTP_FLAGS", ""),
           f"/eat/held/c after the re-announce: {[(e.get('MESSAGE'), e.get('HTTP_FLAGS')) for e in c]}")
    lost = d.stat("exchanges_lost")
    expect(FORGET_BURST + FORGET_PADDED + 3 == len(entries) + lost,
           f"forgotten, at exit: sent {FORGET_BURST + FORGET_PADDED + 3} != logged {len(entries)} + exchanges_lost {lost} "
           f"(unseen {d.stat('exchanges_lost_unseen')}): the held connection's loss counted twice or never")


# A server of one connection: answers each request head with a 2-byte 200 until killed.
ONE_CONNECTION_SERVER = r"""
import socket
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
print(ls.getsockname()[1], flush=True)
c, _ = ls.accept()
buf = b""
while True:
    b = c.recv(65536)
    if not b:
        break
    buf += b
    while b"\r\n\r\n" in buf:
        _, _, buf = buf.partition(b"\r\n\r\n")
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nxx")
"""


# The same loss, forgotten because the server's process exits: user space
# deletes the kernel entry (bpf_tracer_forget(), reannounce=false). The
# client keeps its end open, so the server's socket is not destroyed (FIN_WAIT2)
# and no close record can report the loss first.
def test_forgotten_exit(ctx):
    one = X.Proc(ctx, ["/usr/bin/python3", "-c", ONE_CONNECTION_SERVER], "one-connection-server")
    X.poll(lambda: one.stdout_text().strip(), "the one-connection server's port")
    one_port = int(one.stdout_text().split()[0])
    srv = X.RawServer(ctx, name="raw-server-exit")
    d = htlib.Daemon(ctx, ["-s", "capture.ring_buffer_size=64KiB", "-s", "stats.interval=1s",
                           "-s", f"filter.include.local_ports={srv.port},{one_port}"],
                     name="http-tracer-exit").start()
    held = X.client(one_port)
    ctx.cleanup.callback(held.close)

    small_exchange(held, "/held/a")
    X.wait_entries(d.pid, one_port, 1, pred=lambda e: e.get("HTTP_TARGET") == "/held/a")
    os.kill(d.pid, signal.SIGSTOP)
    try:
        fill_ring(srv.port, "x")
        small_exchange(held, "/held/b", PAD_LARGER)   # lost whole: request and response
    finally:
        os.kill(d.pid, signal.SIGCONT)
    # The ring drained (a statistics entry written after the resume), the server is killed:
    # its exit record reaches the daemon, which forgets the connection.
    resumed_usec = int(time.time() * 1e6)
    X.poll(lambda: [e for e in htlib.journal_query(d.pid, f"MESSAGE_ID={htlib.STATISTICS_MESSAGE_ID}")
                    if int(e.get("__REALTIME_TIMESTAMP", 0)) > resumed_usec],
           "a statistics entry after the resume")
    one.popen.kill()
    one.popen.wait(10)
    killed_usec = int(time.time() * 1e6)
    entries = settled_equation(d, [srv.port, one_port], FORGET_BURST + FORGET_PADDED + 2, killed_usec,
                               "forgotten at exit, client still open")
    held_b = [e for e in entries if e.get("HTTP_TARGET") == "/held/b"]
    expect(not held_b, f"/held/b was logged although the ring was full: {held_b}")
    held.close()
    d.stop()


def both(ctx):
    test(ctx)
    test_forgotten(ctx)
    test_forgotten_exit(ctx)
    test_wrk_equation(ctx)


htlib.run(both)
