#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""python3 -m http.server (HTTP/1.0 responses, recvfrom/sendto): each
request in its stderr access log has one server-role entry with the same
method, target, status and request version, the server's pid, and the body
size the client received. Requests: HTTP/1.0 and HTTP/1.1 GET, HEAD, a 404,
a 501 POST with a body, and curl --http1.0."""

import os

import htlib
from htlib import expect, ensure, log


def test(ctx):
    htlib.require_tools("curl")
    srv = htlib.PythonHttpServer(ctx)
    host = f"127.0.0.1:{srv.port}"
    daemon = htlib.Daemon(ctx).start()

    body_seen = {}
    raw = [
        ("GET /index.html HTTP/1.0", b"", "/index.html"),
        ("GET /index.html?v=11 HTTP/1.1", b"", "/index.html?v=11"),
        ("HEAD /index.html HTTP/1.0", b"", "/index.html#head"),
        ("GET /no/such/file HTTP/1.0", b"", "/no/such/file"),
        ("POST /upload HTTP/1.0", b"p" * 300, "/upload"),
    ]
    for line, body, key in raw:
        head = f"{line}\r\nHost: {host}\r\nUser-Agent: ht-itest/1.0\r\n"
        if body:
            head += f"Content-Length: {len(body)}\r\n"
        resp = htlib.raw_exchange(srv.port, head.encode() + b"\r\n" + body)
        ensure(resp.startswith(b"HTTP/1.0 "), f"fixture: {line}: response {resp[:30]!r}")
        h, _, b = resp.partition(b"\r\n\r\n")
        body_seen[key] = len(b)
    htlib.curl("--http1.0", "-o", "/dev/null", srv.url("/big.bin"))
    body_seen["/big.bin"] = 1 << 20

    n = len(raw) + 1
    log_lines = htlib.wait_log_lines(srv, n)
    ensure(len(log_lines) == n, f"fixture: http.server logged {len(log_lines)} requests, sent {n}")
    daemon.stop()

    # An exact count: read once journald holds the run's final entry, not
    # after "the count stopped growing for 0.5 s" (a guess on a busy machine).
    entries = htlib.journal_final(daemon, f"SERVER_PORT={srv.port}")
    server = htlib.entries_for_server(entries, srv.port, "server")
    log(f"http.server logged {n}, journal has {len(server)} server entries")
    expect(len(server) == n, f"server entries {len(server)} != access log lines {n}")
    want = sorted((l["method"], l["uri"], l["status"], l["protocol"].split("/")[1]) for l in log_lines)
    got = sorted((e.get("HTTP_METHOD"), e.get("HTTP_TARGET"), e.get("HTTP_STATUS"), e.get("HTTP_VERSION"))
                 for e in server)
    expect(got == want, f"journal (method, target, status, version) {got}\n  != access log {want}")
    for e in server:
        what = f"{e.get('HTTP_METHOD')} {e.get('HTTP_TARGET')}"
        htlib.check_common_fields(e, srv.port, what)
        expect(e.get("PROCESS_PID") == str(srv.proc.pid), f"{what}: PROCESS_PID={e.get('PROCESS_PID')}, "
                                                         f"server pid {srv.proc.pid}")
        key = e.get("HTTP_TARGET", "") + ("#head" if e.get("HTTP_METHOD") == "HEAD" else "")
        if key in body_seen:
            expect(e.get("HTTP_RESPONSE_BODY_BYTES") == str(body_seen[key]),
                   f"{what}: HTTP_RESPONSE_BODY_BYTES={e.get('HTTP_RESPONSE_BODY_BYTES')}, "
                   f"the client received {body_seen[key]}")
        if e.get("HTTP_METHOD") == "POST":
            expect(e.get("HTTP_REQUEST_BODY_BYTES") == "300",
                   f"{what}: HTTP_REQUEST_BODY_BYTES={e.get('HTTP_REQUEST_BODY_BYTES')}, sent 300")
            expect(e.get("PRIORITY") == "4", f"{what}: 501 must have PRIORITY=4, got {e.get('PRIORITY')}")


if __name__ == "__main__":
    htlib.run(test)
