#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""lighttpd (read, writev + sendfile): each request in its access log has
one server-role entry with the same method, target, status, lighttpd's pid,
body size and a duration within a few ms of lighttpd's own %D. Keep-alive
via curl with several URLs, HEAD, 404 and a 1 MiB sendfile body."""

import htlib
from htlib import expect, ensure, log

DURATION_TOLERANCE_US = 5000


def test(ctx):
    htlib.require_tools("lighttpd", "curl")
    srv = htlib.Lighttpd(ctx)
    daemon = htlib.Daemon(ctx).start()

    urls = ["/index.html", "/index.html?q=1", "/missing", "/big.bin", "/gz/text.txt"]
    htlib.curl(*sum((["-o", "/dev/null", srv.url(u)] for u in urls), []))
    htlib.curl("-I", "-o", "/dev/null", srv.url("/index.html"))
    n = len(urls) + 1
    # lighttpd buffers its access log; stopping it flushes the log.
    srv.stop()
    log_lines = srv.log_lines()
    ensure(len(log_lines) == n, f"fixture: lighttpd logged {len(log_lines)} requests, sent {n}")
    daemon.stop()

    entries = htlib.journal_wait(daemon.pid, f"SERVER_PORT={srv.port}", expected=2 * n)
    server = sorted(htlib.entries_for_server(entries, srv.port, "server"), key=htlib.entry_order)
    log(f"lighttpd logged {n}, journal has {len(server)} server entries")
    expect(len(server) == n, f"server entries {len(server)} != lighttpd access log lines {n}")
    want = [(l["method"], l["path"] + ("?" + l["query"] if l["query"] not in ("", "-") else ""), l["status"])
            for l in log_lines]
    got = [(e.get("HTTP_METHOD"), e.get("HTTP_TARGET"), e.get("HTTP_STATUS")) for e in server]
    expect(sorted(got) == sorted(want), f"journal (method, target, status) {got}\n  != access log {want}")
    by_req = {}
    for e in server:
        by_req.setdefault((e.get("HTTP_METHOD"), e.get("HTTP_TARGET")), []).append(e)
    for l, key in zip(log_lines, want):
        es = by_req.get(key[:2], [])
        if not es:
            continue
        e = es.pop(0)
        what = f"{key[0]} {key[1]}"
        htlib.check_common_fields(e, srv.port, what)
        expect(e.get("OBJECT_PID") == str(srv.proc.pid), f"{what}: OBJECT_PID={e.get('OBJECT_PID')}, "
                                                         f"lighttpd pid {srv.proc.pid}")
        body = "0" if l["body_bytes"] == "-" else l["body_bytes"]
        expect(e.get("HTTP_RESPONSE_BODY_BYTES") == body,
               f"{what}: HTTP_RESPONSE_BODY_BYTES={e.get('HTTP_RESPONSE_BODY_BYTES')}, lighttpd %b={body}")
        d = int(e.get("HTTP_DURATION_USEC", "-1"))
        expect(abs(d - int(l["usec"])) <= DURATION_TOLERANCE_US,
               f"{what}: HTTP_DURATION_USEC={d}, lighttpd %D={l['usec']} us")


if __name__ == "__main__":
    htlib.run(test)
