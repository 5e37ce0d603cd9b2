#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hostile request heads against real nginx, accounted exactly (issue 15, suite).

Each hostile request goes on a connection of its own to nginx (kernel
filter on nginx's port: the daemon sees only this traffic, so its counters
speak of it alone): a head past the 16 KiB capture size, a header flood
past limits.fields_max, bad request lines (one with a secret in its
target), conflicting Content-Length, Content-Length with
Transfer-Encoding, a Transfer-Encoding that is not chunked, a body
smuggling a second request, bare LF line ends, a NUL in a field value,
bytes that are no HTTP at all, and a lower-case method.
Then one plain request, to show the daemon still traces exactly.

Asserted, after the stopped daemon's final entry is in the journal:
 - never a crash: the daemon exits 0 (htlib checks), no sanitizer report;
 - requests sent = entries + conns_other: a connection whose first bytes
   are no message start the kernel recognises is not traced and counted
   (conns_other, once per connection), every other one has exactly one
   entry, matched to nginx's access log line by client port, with nginx's
   status when the exchange is complete;
 - each case gives the entry kind, flags and parse error it should;
 - exact counters: parse_errors, requests_invalid, head_overflows, desyncs
   (the figures each case stands for are in CASES), no uncorrelated
   response (a rejected request was seen: nginx's 400/505 pairs with it,
   flagged request-invalid), no drops.
"""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htlib  # noqa: E402
import htlib_extra as X  # noqa: E402
from htlib import expect, ensure, log  # noqa: E402

H = b"Host: hostile\r\n"


def big_head():
    # 15 fields of 2000 bytes: a 30 KB head, past the 16 KiB capture size
    # (the rest is a gap of known length), under nginx's 256k buffers
    return (b"GET /hostile/big-head HTTP/1.1\r\n" + H +
            b"".join(b"X-Big-%02d: " % i + b"b" * 2000 + b"\r\n" for i in range(15)) +
            b"Connection: close\r\n\r\n")


def flood():
    # 200 small fields: past limits.fields_max (128); nginx takes them
    return (b"GET /hostile/flood HTTP/1.1\r\n" + H +
            b"".join(b"X-F%03d: v\r\n" % i for i in range(200)) + b"Connection: close\r\n\r\n")


# name, bytes sent, the entries the daemon gives for it, in kinds:
#   complete, parse-error, uncorrelated; [] when the first bytes are no
#   message start the kernel recognises (not traced: conns_other);
# plus flags the exchange entry must carry, the parse error's text, and
# nginx's status (asserted: the fixture is what we think it is).
CASES = [
    # gap inside the head: cut, flagged, the stream resyncs (desyncs 1)
    ("big-head", big_head(), "404", ["complete"], dict(flags={"gap", "truncated", "head-truncated"})),
    # past limits.fields_max: kept fields only, flagged (head_overflows 1)
    ("flood", flood(), "404", ["complete"], dict(flags={"head-truncated"})),
    # a request line that does not parse: the error, and nginx's answer
    # paired with the request it answers (seen, rejected: flagged
    # request-invalid), with the method and the target up to the first byte
    # that is not visible ASCII
    ("space-in-target", b"GET /hostile/bad target HTTP/1.1\r\n" + H + b"\r\n", "400",
     ["parse-error", "complete"], dict(error="invalid request target", flags={"request-invalid", "truncated"},
                                       method="GET", target="/hostile/bad")),
    ("bad-version", b"GET /hostile/version HTTP/9.x\r\n" + H + b"\r\n", "505",
     ["parse-error", "complete"], dict(error="invalid request line", flags={"request-invalid", "truncated"},
                                       method="GET", target="/hostile/version")),
    # what is kept of a rejected line is redacted like any target
    ("secret-in-bad-line", b"GET /hostile/secret?token=hunter2&a=1 HTTP/9.x\r\n" + H + b"\r\n", "505",
     ["parse-error", "complete"], dict(error="invalid request line", flags={"request-invalid", "truncated"},
                                       method="GET", target="/hostile/secret?token=***&a=1")),
    # framing the parser refuses: the error, and the head salvaged into a
    # truncated exchange with nginx's answer
    ("cl-conflict", b"POST /hostile/cl-conflict HTTP/1.1\r\n" + H +
     b"Content-Length: 5\r\nContent-Length: 10\r\n\r\nhello", "400",
     ["parse-error", "complete"], dict(error="conflicting Content-Length",
                                       flags={"request-invalid", "truncated", "head-truncated"})),
    ("te-gzip", b"POST /hostile/te-gzip HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\nxxxx", "501",
     ["parse-error", "complete"], dict(error="Transfer-Encoding without chunked in request",
                                       flags={"request-invalid", "truncated", "head-truncated"})),
    ("nul", b"GET /hostile/nul HTTP/1.1\r\n" + H + b"X-Nul: a\x00b\r\n\r\n", "400",
     ["parse-error", "complete"], dict(error="invalid character in header field value",
                                       flags={"request-invalid", "truncated", "head-truncated"})),
    # RFC 9112 6.3: Transfer-Encoding overrides Content-Length (nginx refuses both)
    ("cl-and-te", b"POST /hostile/cl-te HTTP/1.1\r\n" + H +
     b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400", ["complete"], {}),
    # a second request hidden in a body: one exchange, as nginx saw it
    ("smuggle", b"GET /hostile/smuggle HTTP/1.1\r\n" + H + b"Content-Length: 36\r\nConnection: close\r\n\r\n"
     b"GET /hostile/smuggled HTTP/1.1\r\nX: y\r\n", "404", ["complete"], {}),
    ("bare-lf", b"GET /hostile/bare-lf HTTP/1.1\nHost: hostile\nConnection: close\n\n", "404", ["complete"], {}),
    # no message start in the first 16 bytes: not HTTP, not traced
    ("garbage", b"\x01\x02\x03 this is no HTTP at all, not even close\r\n\r\n", "400", [], {}),
    ("lower-method", b"get /hostile/lower HTTP/1.1\r\n" + H + b"\r\n", "400", [], {}),
]

KIND = {X.MID_COMPLETE: "complete", X.MID_PARSE_ERROR: "parse-error", X.MID_UNCORRELATED: "uncorrelated",
        X.MID_NO_RESPONSE: "no-response"}


def send_case(port, data):
    """One connection: send, half-close, read until nginx closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        cport = s.getsockname()[1]
        s.sendall(data)
        got = b""
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            got += b
    return cport, got


def flags(e):
    return set(filter(None, e.get("HTTP_FLAGS", "").split(",")))


def test(ctx):
    htlib.require_tools("nginx")
    nginx = htlib.Nginx(ctx, extra_server="large_client_header_buffers 8 256k;")
    sp = nginx.port
    # PrivateRunDaemon: its own control socket, for the kernel's conns_other
    d = X.PrivateRunDaemon(ctx, ["-s", f"filter.include.local_ports={sp}"]).start()
    kernel0 = d.status().get("kernel", {})

    sent = []
    for name, data, status, kinds, want in CASES:
        cport, got = send_case(sp, data)
        ensure(got.startswith(b"HTTP/1.1 " + status.encode() + b" "),
               f"fixture: {name}: nginx answered {got[:40]!r}, expected {status}")
        sent.append((name, cport, status, kinds, want))
    # the daemon still traces exactly after all of it
    cport, got = send_case(sp, X.request("/index.html?after-hostile", headers=[("Connection", "close")]))
    ensure(got.startswith(b"HTTP/1.1 200 "), f"fixture: nginx answered {got[:40]!r} to the plain request")
    sent.append(("after", cport, "200", ["complete"], dict(flags=set())))

    lines = htlib.wait_log_lines(nginx, len(sent))
    ensure(len(lines) == len(sent), f"fixture: nginx logged {len(lines)} of {len(sent)} requests")
    # kernel counters are counted in the syscall itself: final once nginx has answered
    kernel = d.status().get("kernel", {})
    conns_other = kernel.get("conns_other", -1) - kernel0.get("conns_other", 0)
    d.stop()
    htlib.wait_daemon_flushed(d)
    entries = X.journal_query_all(d.pid, f"SERVER_PORT={sp}")
    logged = {l["remote_port"]: l for l in lines}
    st = {k: d.stat(k) for k in ("exchanges", "complete", "parse_errors", "head_overflows", "desyncs",
                                 "uncorrelated", "no_response", "ringbuf_drops", "entries_dropped",
                                 "requests_invalid")}
    st["conns_other"] = conns_other
    log(f"statistics: {st}")

    ours = {str(c) for _, c, _, _, _ in sent}
    expect(set(logged) == ours, f"nginx's log and our connections differ: {sorted(set(logged) ^ ours)}")
    expect(all(e.get("HTTP_ROLE") == "server" for e in entries),
           f"roles {sorted(set(e.get('HTTP_ROLE') for e in entries))}: the kernel filter keeps the server side only")

    n_other = n_errors = n_exchanges = 0
    for name, cport, status, kinds, want in sent:
        es = sorted((e for e in entries if e.get("CLIENT_PORT") == str(cport)), key=htlib.entry_order)
        line = logged.get(str(cport), {})
        what = f"{name} (client port {cport}, nginx {status})"
        got_kinds = sorted(KIND.get(e.get("MESSAGE_ID"), e.get("MESSAGE_ID")) for e in es)
        if not expect(got_kinds == sorted(kinds), f"{what}: entries {got_kinds}, expected {sorted(kinds)}: "
                                                  f"{[e.get('MESSAGE') for e in es]}"):
            continue
        if not kinds:
            n_other += 1    # in nginx's log, counted in conns_other
            continue
        n_exchanges += 1
        for e in es:
            kind = KIND.get(e.get("MESSAGE_ID"))
            X.expect_fields(e, f"{what} {kind}", PROCESS_PID=str(nginx.worker_pids[0]))
            if kind == "parse-error":
                n_errors += 1
                X.expect_fields(e, what, HTTP_PARSE_ERROR=want["error"], HTTP_PARSE_ERROR_DIRECTION="request")
                continue
            # the exchange entry: nginx's status; the method and target as sent when the request was parsed
            X.expect_fields(e, what, HTTP_STATUS=line.get("status"))
            if kind == "complete" and "target" in want:
                # a rejected request line: what was sane of it (nginx logs no request for it)
                X.expect_fields(e, what, HTTP_METHOD=want["method"], HTTP_TARGET=want["target"])
            elif kind == "complete":
                X.expect_fields(e, what, HTTP_METHOD=line.get("method"),
                                HTTP_PATH=line.get("uri", "").split("?")[0])
            if kind == "complete":
                fl = flags(e)
                wf = want.get("flags", set())
                # nginx sends its files with sendfile(): a gap on the server's side
                expect(wf <= fl <= wf | {"gap"}, f"{what}: HTTP_FLAGS {sorted(fl)}, expected {sorted(wf)} (+ gap)")

    leaked = [e.get("MESSAGE") for e in entries if "hunter2" in str(e)]
    expect(not leaked, f"a secret in a rejected request line reached the journal: {leaked}")

    # The accounting: every request sent (and logged by nginx) has its one
    # exchange entry or is counted as a connection that is not HTTP; parse
    # errors are entries of their own beside their exchanges.
    n_exchange_entries = sum(1 for e in entries if KIND.get(e.get("MESSAGE_ID")) != "parse-error")
    log(f"requests sent {len(sent)} = exchange entries {n_exchange_entries} + conns_other {conns_other}; "
        f"parse-error entries {n_errors}")
    expect(len(sent) == n_exchange_entries + conns_other,
           f"requests sent {len(sent)} != exchange entries {n_exchange_entries} + conns_other {conns_other}")
    expect(conns_other == n_other, f"conns_other={conns_other}, expected {n_other}")
    expect(st["exchanges"] == n_exchange_entries, f"exchanges={st['exchanges']}, entries {n_exchange_entries}")
    expect(st["parse_errors"] == n_errors == sum(k.count("parse-error") for _, _, _, k, _ in CASES),
           f"parse_errors={st['parse_errors']}, parse-error entries {n_errors}")
    # every answer nginx gave pairs with the request it answered, even one the parser rejected
    expect(st["uncorrelated"] == 0, f"uncorrelated={st['uncorrelated']}, expected 0")
    n_invalid = sum(1 for _, _, _, k, _ in CASES if "parse-error" in k)
    expect(st["requests_invalid"] == n_invalid, f"requests_invalid={st['requests_invalid']}, expected {n_invalid}")
    expect(st["head_overflows"] == 1, f"head_overflows={st['head_overflows']}, expected 1 (the flood)")
    expect(st["desyncs"] == 1, f"desyncs={st['desyncs']}, expected 1 (the gap inside the big head)")
    for k in ("no_response", "ringbuf_drops", "entries_dropped"):
        expect(st[k] == 0, f"{k}={st[k]}, expected 0")


htlib.run(test)
