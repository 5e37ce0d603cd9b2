#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""HTTP/2 connections joined mid-stream at a HEADERS frame that follows
control frames in the same write, as gRPC and nghttp2 send them. Four h2c
connections to nginx (`listen ... http2`) from h2lib's client, each with a
warm-up request before the daemon starts; then, on each, one GET whose
HEADERS share a send() with: a WINDOW_UPDATE; a PING; a WINDOW_UPDATE and a
PING (gRPC's pair); a PRIORITY; nothing (the control). Then a second, plain
GET on each. The kernel must recognise each connection at that first
write, at both ends: every request nginx logged after the start has
exactly one server entry and one client entry, complete, with method,
exact path (h2lib's header blocks are literals: decodable whenever one
joins) and status; the warm-ups have none. Before the kernel looked past
control frames, the first GET of each prefixed connection was missed at
both ends (the server's response recognised it as an uncorrelated
response at best). A kernel filter on the test's own loopback addresses
keeps other traffic out."""

import htlib
import h2lib
from htlib import expect, ensure, log

SERVER_ADDR, CLIENT_ADDR = "127.0.13.1", "127.0.13.2"
COMPLETE = "d0a21e5e3f34fda1ea3a6c8d562c83a1"   # docs/journal-fields.md

PREFIXES = {
    "window-update": h2lib.window_update(),
    "ping": h2lib.ping(),
    "window-update-ping": h2lib.window_update() + h2lib.ping(),
    "priority": h2lib.priority(3),
    "none": b"",
}


def test(ctx):
    htlib.require_tools("nginx")
    port = htlib.free_port()
    srv = htlib.Nginx(ctx, extra_server=f"listen {SERVER_ADDR}:{port} http2;")

    conns = {}
    for name in PREFIXES:
        c = h2lib.Client(SERVER_ADDR, port, src=CLIENT_ADDR)
        ctx.cleanup.callback(c.close)
        c.get(1, f"/warm-{name}")
        conns[name] = c
    warm = len(PREFIXES)
    ensure(len(htlib.wait_log_lines(srv, warm)) == warm, "fixture: nginx did not log the warm-up requests")

    daemon = htlib.Daemon(ctx, ["-s", f"filter.include.addresses={SERVER_ADDR}/32,{CLIENT_ADDR}/32"]).start()
    for name, before in PREFIXES.items():
        conns[name].get(3, f"/join-{name}", before=before)
    for name in PREFIXES:
        conns[name].get(5, f"/after-{name}")
    n = warm + 2 * len(PREFIXES)
    lines = htlib.wait_log_lines(srv, n)
    ensure(len(lines) == n, f"fixture: nginx logged {len(lines)} requests, sent {n}")
    daemon.stop()

    lines = [l for l in lines if not l["uri"].startswith("/warm-")]
    want = sorted((l["method"], l["uri"], l["status"]) for l in lines)
    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    for role in ("server", "client"):
        es = htlib.entries_for_server(entries, port, role)
        log(f"{role}: " + ", ".join(f"{e.get('HTTP_STREAM_ID')} {e.get('HTTP_PATH')} {e.get('HTTP_STATUS')} "
                                    f"[{e.get('HTTP_FLAGS', '')}]" for e in es))
        got = sorted((str(e.get("HTTP_METHOD")), str(e.get("HTTP_TARGET")), str(e.get("HTTP_STATUS"))) for e in es)
        h2lib.expect_same(f"{role} (method, target, status)", got, want)
        for e in es:
            what = f"{role} {e.get('HTTP_TARGET')}"
            expect(e.get("HTTP_VERSION") == "2", f"{what}: HTTP_VERSION={e.get('HTTP_VERSION')}")
            want_id = "3" if e.get("HTTP_TARGET", "").startswith("/join-") else "5"
            expect(e.get("HTTP_STREAM_ID") == want_id, f"{what}: HTTP_STREAM_ID={e.get('HTTP_STREAM_ID')}")
            expect(e.get("MESSAGE_ID") == COMPLETE, f"{what}: MESSAGE_ID={e.get('MESSAGE_ID')}, not a complete exchange")
    bad = [e.get("HTTP_PARSE_ERROR") for e in entries if "HTTP_PARSE_ERROR" in e]
    expect(not bad, f"parse errors on port {port}: {bad}")


if __name__ == "__main__":
    htlib.run(test, tools=("bpftool", "journalctl", "nginx"))
