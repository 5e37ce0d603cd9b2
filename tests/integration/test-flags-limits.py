#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""HTTP_FLAGS and the documented value limits, through the real daemon.

docs/journal-fields.md and docs/configuration.md:
  - capture.payload_size (--payload-size, minimum 256): bytes copied per
    syscall, the rest is a gap. A gap inside a body of known length is
    consumed as body: flag `gap`, body size still exact. A gap over chunk
    framing loses the message's end: `gap,truncated`. A head longer than
    the payload: `gap,truncated,head-truncated`.
  - HTTP_TARGET and HTTP_PATH are cut at 4 KiB, the target inside MESSAGE
    at 1 KiB, other values from the traffic (User-Agent here) at 512 B,
    in bytes after escaping, ending with "…"; the entry gets
    `fields-truncated`.
  - limits.fields_max (128): header fields beyond it are not kept: a
    User-Agent sent as the 141st field is not logged, `head-truncated`.
  - at most 16 asked-for header fields (fields.request_headers) per entry,
    in configuration order: the 17th is left out, `fields-dropped`.
Flags are comma-separated in the documented order. Each case is checked
in both roles (the server, tests/integration/raw-server.py, and this
script as the client).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htlib  # noqa: E402
import htlib_extra as X  # noqa: E402
from htlib import expect  # noqa: E402

ME = os.getpid()
ELL = "\u2026"


def exchange(port, data, end):
    with X.client(port) as c:
        cport = c.getsockname()[1]
        c.sendall(data)
        buf = b""
        while not buf.endswith(end):
            b = c.recv(65536)
            if not b:
                break
            buf += b
        expect(buf.endswith(end), f"response to {data[:40]!r}... ends {buf[-20:]!r}, expected {end!r}")
    return cport


def both_roles(entries, srv, cport, what):
    out = []
    for role, pid in (("server", srv.proc.pid), ("client", ME)):
        e = X.one(entries, f"{what} ({role})", CLIENT_PORT=str(cport), HTTP_ROLE=role)
        X.expect_fields(e, f"{what} ({role})", MESSAGE_ID=X.MID_COMPLETE, HTTP_STATUS="200",
                        PROCESS_PID=str(pid))
        out.append((f"{what} ({role})", e))
    return out


def wait_all(d, srv, n):
    X.wait_entries(d.pid, srv.port, n)  # polls until they are there and stable
    return X.journal_query_all(d.pid, f"SERVER_PORT={srv.port}")


def test(ctx):
    srv = X.RawServer(ctx)

    # ---- capture.payload_size at its minimum: gaps
    d = htlib.Daemon(ctx, ["--payload-size=256"], name="http-tracer-256").start()
    gap_port = exchange(srv.port, X.request("/eat?size=4000"), b"x" * 100)
    chunk_port = exchange(srv.port, X.request("/chunked?size=4096"), b"\r\n0\r\n\r\n")
    head_port = exchange(srv.port, X.request("/ok/bighead", headers=[("X-Fill", "f" * 400)]), b"ok")
    entries = wait_all(d, srv, 6)
    for what, e in both_roles(entries, srv, gap_port, "4000-byte body past a 256-byte payload"):
        X.expect_fields(e, what, HTTP_FLAGS="gap", HTTP_RESPONSE_BODY_BYTES="4000")
    for what, e in both_roles(entries, srv, chunk_port, "chunked body past a 256-byte payload"):
        X.expect_fields(e, what, HTTP_FLAGS="gap,truncated")
    for what, e in both_roles(entries, srv, head_port, "a 450-byte head past a 256-byte payload"):
        X.expect_fields(e, what, HTTP_FLAGS="gap,truncated,head-truncated", HTTP_TARGET="/ok/bighead")
    expect(len(entries) == 6, f"payload run: {len(entries)} entries, expected 6: "
                              f"{[e.get('MESSAGE') for e in entries]}")
    d.stop()

    # ---- value limits, default payload
    asked = [f"H{i}" for i in range(17)]
    d = htlib.Daemon(ctx, ["-s", "fields.request_headers=" + ",".join(asked)]).start()
    long_target = "/" + "a" * 5000 + "?q=1"
    long_port = exchange(srv.port, X.request(long_target, headers=[("User-Agent", "u" * 600)]), b"ok")
    many = [(f"X-Fill{i}", "v") for i in range(140)] + [("User-Agent", "sent-as-field-141")]
    many_port = exchange(srv.port, X.request("/ok/many", headers=many), b"ok")
    h17_port = exchange(srv.port, X.request("/ok/h17", headers=[(h, f"v-{h}") for h in asked]), b"ok")
    short_port = exchange(srv.port, X.request("/ok/plain", headers=[("User-Agent", "u" * 512)]), b"ok")
    entries = wait_all(d, srv, 8)

    for what, e in both_roles(entries, srv, long_port, "5000-byte target, 600-byte User-Agent"):
        X.expect_fields(e, what, HTTP_FLAGS="fields-truncated",
                        HTTP_TARGET=long_target[:4096 - len(ELL.encode())] + ELL,
                        HTTP_PATH=long_target[:4096 - len(ELL.encode())] + ELL,
                        HTTP_USER_AGENT="u" * (512 - len(ELL.encode())) + ELL)
        msg = e.get("MESSAGE", "")
        in_msg = msg[len("GET "):msg.find(" \u2192 ")]
        expect(in_msg == long_target[:1024 - len(ELL.encode())] + ELL,
               f"{what}: target in MESSAGE is {len(in_msg.encode())} bytes ending {in_msg[-8:]!r}, "
               f"expected 1 KiB ending with …")
    for what, e in both_roles(entries, srv, many_port, "141 header fields"):
        X.expect_fields(e, what, HTTP_FLAGS="head-truncated", HTTP_TARGET="/ok/many")
        X.absent(e, what, "HTTP_USER_AGENT")
    for what, e in both_roles(entries, srv, h17_port, "17 asked-for headers"):
        X.expect_fields(e, what, HTTP_FLAGS="fields-dropped",
                        **{f"HTTP_REQUEST_HEADER_{h}": f"v-{h}" for h in asked[:16]})
        X.absent(e, what, "HTTP_REQUEST_HEADER_H16")
    for what, e in both_roles(entries, srv, short_port, "values at their limit"):
        # exactly 512 bytes is within the limit: kept whole, no flag
        X.expect_fields(e, what, HTTP_USER_AGENT="u" * 512)
        X.absent(e, what, "HTTP_FLAGS")
    d.stop()


htlib.run(test)
