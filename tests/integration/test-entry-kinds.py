#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Uncorrelated and parse-error entries from real traffic; HTTP_CONNECTION_ID.

docs/journal-fields.md:
  - uncorrelated response (MESSAGE_ID 3a960665229ef4a45319e09fd58fd44f):
    PRIORITY the more severe of fields.priority.uncorrelated (6) and the
    status class's (6/5/4); HTTP_STATUS, HTTP_VERSION from the response,
    the response body size, no request fields; MESSAGE "→ STATUS (request
    not seen) (comm[pid] client → server)".
  - parse error (df6d6308c46f1b4ef9bd8c390d550907): PRIORITY 4,
    HTTP_PARSE_ERROR, _DIRECTION (what a server reads and a client writes
    is the request stream), _OFFSET (byte offset in that stream), _EXCERPT
    (up to 64 bytes from the start of the rejected line or in a chunked
    body, secrets masked: a secret header keeps "Name:" and loses its
    value; secret parameters are masked in a request line's target, a form
    body, a URL in another header), MESSAGE "parse error
    in STREAM stream: ERROR at byte OFFSET (comm[pid] client → server)".
  - HTTP_CONNECTION_ID: the same on every exchange of one keep-alive
    connection; another connection gets another id.

Run twice: with the default priorities, and with
fields.priority.uncorrelated=notice and parse_error=err to see the rules
follow the settings.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htlib  # noqa: E402
import htlib_extra as X  # noqa: E402
from htlib import expect  # noqa: E402

ME = os.getpid()
# a header line without a colon, then a secret header within the 64-byte excerpt
PE1_HEAD = b"GET /silent/pe1 HTTP/1.1\r\nHost: test\r\n"
PE1 = PE1_HEAD + b"no colon in this line\r\nCookie: c=hunter2\r\n\r\n"
PE1_EXCERPT = "no colon in this line\\x0d\\x0aCookie: ***\\x0d\\x0a\\x0d\\x0a"
# a request line with an unknown version and a secret in its target
PE2 = b"GET /silent/pe2?password=hunter2&x=1 HTTP/7.5\r\nHost: test\r\n\r\n"
# "up to 64 bytes": the parser may stop at the rejected line; at least that line, masked
PE2_LINE = "GET /silent/pe2?password=***&x=1 HTTP/7.5"
PE2_EXCERPT = PE2_LINE + "\\x0d\\x0aHost: test\\x0d\\x0a\\x0d\\x0a"
# a URL in another header inside the excerpt: its secret parameter masked
PE3_HEAD = b"GET /silent/pe3 HTTP/1.1\r\nHost: test\r\n"
PE3 = PE3_HEAD + b"no colon\r\nReferer: http://h/p?token=hunter2&b=2\r\n\r\n"
PE3_EXCERPT = "no colon\\x0d\\x0aReferer: http://h/p?token=***&b=2\\x0d\\x0a\\x0d\\x0a"
# a chunked form body whose chunk size is no number: the documented "invalid chunk size"
PE4_HEAD = b"POST /silent/pe4 HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
PE4 = PE4_HEAD + b"zz\r\npassword=hunter2&a=1\r\n0\r\n\r\n"
PE4_EXCERPT = "zz\\x0d\\x0apassword=***&a=1\\x0d\\x0a0\\x0d\\x0a\\x0d\\x0a"


def read_greeting(sock):
    buf = b""
    while not buf.endswith(b"\r\n\r\nhi"):
        b = sock.recv(65536)
        if not b:
            return buf
        buf += b
    return buf


def read_responses(sock, n):
    buf = b""
    while buf.count(b"\r\n\r\nok") < n:
        b = sock.recv(65536)
        if not b:
            break
        buf += b
    return buf


def one_run(ctx, name, args, prio_unc, prio_pe):
    greeters = {st: X.RawServer(ctx, greet=st, name=f"greet-{st}-{name}") for st in (200, 404, 503)}
    srv = X.RawServer(ctx, name=f"raw-server-{name}")
    d = htlib.Daemon(ctx, args, name=name).start()

    # uncorrelated: each greeter answers before any request was sent
    unc_ports = {}
    for st, g in greeters.items():
        with X.client(g.port) as c:
            unc_ports[st] = c.getsockname()[1]
            got = read_greeting(c)
            expect(got.startswith(b"HTTP/1.1 %d " % st), f"greeter {st} sent {got!r}")

    # parse errors in the request stream
    with X.client(srv.port) as c:
        pe1_port = c.getsockname()[1]
        c.sendall(PE1)
    with X.client(srv.port) as c:
        pe2_port = c.getsockname()[1]
        c.sendall(PE2)
    with X.client(srv.port) as c:
        pe3_port = c.getsockname()[1]
        c.sendall(PE3)
    with X.client(srv.port) as c:
        pe4_port = c.getsockname()[1]
        c.sendall(PE4)

    # connection ids: two keep-alive connections, three exchanges each
    ka_ports = []
    for k in range(2):
        with X.client(srv.port) as c:
            ka_ports.append(c.getsockname()[1])
            c.sendall(b"".join(X.request(f"/ok/ka{k}/{i}") for i in range(3)))
            got = read_responses(c, 3)
            expect(got.count(b"HTTP/1.1 200 ") == 3, f"keep-alive {k}: {got!r}")

    for st, g in greeters.items():
        entries = X.wait_entries(d.pid, g.port, 2)
        expect(len(entries) == 2, f"{name}: {len(entries)} entries for greeter {st}, expected 2: "
                                  f"{[e.get('MESSAGE') for e in entries]}")
        for role, pid in (("server", g.proc.pid), ("client", ME)):
            what = f"{name}: uncorrelated {st} ({role})"
            e = X.one(entries, what, HTTP_ROLE=role)
            comm = e.get("OBJECT_COMM", "python3")
            X.expect_fields(e, what, MESSAGE_ID=X.MID_UNCORRELATED,
                            PRIORITY=str(min(prio_unc, int(htlib.expected_priority(st)))),
                            HTTP_STATUS=str(st), HTTP_VERSION="1.1", HTTP_RESPONSE_BODY_BYTES="2",
                            PROCESS_PID=str(pid), CLIENT_PORT=str(unc_ports[st]),
                            SERVER_PORT=str(g.port), CLIENT_ADDR="127.0.0.1", SERVER_ADDR="127.0.0.1",
                            MESSAGE=f"\u2192 {st} (request not seen) ({comm}[{pid}] "
                                    f"127.0.0.1:{unc_ports[st]} \u2192 127.0.0.1:{g.port})")
            X.absent(e, what, "HTTP_METHOD", "HTTP_TARGET", "HTTP_PATH", "HTTP_HOST",
                     "HTTP_DURATION_USEC", "HTTP_NO_RESPONSE_REASON", "HTTP_USER_AGENT")

    # 4 parse errors + 6 exchanges, each in both roles (and no-response
    # entries for the requests cut by the errors, not counted here)
    entries = X.wait_entries(d.pid, srv.port, 20)
    for pport, off, excerpt in ((pe1_port, len(PE1_HEAD), PE1_EXCERPT), (pe2_port, 0, PE2_EXCERPT),
                                (pe3_port, len(PE3_HEAD), PE3_EXCERPT),
                                (pe4_port, len(PE4_HEAD), PE4_EXCERPT)):
        for role, pid in (("server", srv.proc.pid), ("client", ME)):
            what = f"{name}: parse error on port {pport} ({role})"
            e = X.one(entries, what, MESSAGE_ID=X.MID_PARSE_ERROR, CLIENT_PORT=str(pport),
                      HTTP_ROLE=role)
            err = e.get("HTTP_PARSE_ERROR", "")
            expect(bool(err), f"{what}: HTTP_PARSE_ERROR missing or empty")
            if pport == pe4_port:
                expect(err == "invalid chunk size", f"{what}: HTTP_PARSE_ERROR={err!r}, "
                                                    "expected the documented 'invalid chunk size'")
            comm = e.get("OBJECT_COMM", "python3")
            got = e.get("HTTP_PARSE_ERROR_EXCERPT", "")
            if excerpt == PE2_EXCERPT:
                expect(got.startswith(PE2_LINE) and excerpt.startswith(got),
                       f"{what}: HTTP_PARSE_ERROR_EXCERPT={got!r}, expected a prefix of "
                       f"{excerpt!r} holding at least the rejected line")
            else:
                expect(got == excerpt, f"{what}: HTTP_PARSE_ERROR_EXCERPT={got!r}, expected {excerpt!r}")
            X.expect_fields(e, what, PRIORITY=str(prio_pe), HTTP_PARSE_ERROR_DIRECTION="request",
                            HTTP_PARSE_ERROR_OFFSET=str(off),
                            PROCESS_PID=str(pid), SERVER_PORT=str(srv.port),
                            MESSAGE=f"parse error in request stream: {err} at byte {off} "
                                    f"({comm}[{pid}] 127.0.0.1:{pport} \u2192 127.0.0.1:{srv.port})")
            expect("hunter2" not in str(e), f"{what}: the secret reached the journal: {e}")

    for role in ("server", "client"):
        ids = []
        for k, port in enumerate(ka_ports):
            ex = [e for e in entries if e.get("HTTP_ROLE") == role and e.get("CLIENT_PORT") == str(port)]
            what = f"{name}: keep-alive connection {k} ({role})"
            expect(sorted(e.get("HTTP_TARGET") for e in ex) == [f"/ok/ka{k}/{i}" for i in range(3)],
                   f"{what}: targets {sorted(e.get('HTTP_TARGET') for e in ex)}")
            cid = {e.get("HTTP_CONNECTION_ID") for e in ex}
            expect(len(cid) == 1 and str(next(iter(cid))).isdigit(),
                   f"{what}: HTTP_CONNECTION_ID values {cid}, expected one number for the connection")
            ids.append(cid)
        expect(ids[0] != ids[1], f"{name} ({role}): both connections have HTTP_CONNECTION_ID {ids[0]}")
    d.stop()


def test(ctx):
    one_run(ctx, "defaults", [], 6, 4)
    one_run(ctx, "settings", ["-s", "fields.priority.uncorrelated=notice",
                              "-s", "fields.priority.parse_error=err"], 5, 3)


htlib.run(test)
