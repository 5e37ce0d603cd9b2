#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Redaction and selection apply to HTTP/2 entries exactly as to HTTP/1's:
h2lib's client to nginx h2c (`listen ... http2`) on the test's own
loopback addresses (a kernel address filter), the daemon with
`fields.request_headers=authorization,cookie,x-trace` and
`filter.exclude.paths=/skip`. A GET whose :path carries `?token=SECRET`
and whose header block (HPACK literals) carries `authorization: Bearer
SECRET` and `cookie: sid=SECRET` gives one entry per end with HTTP_TARGET
`/a?token=***&x=1`, HTTP_REQUEST_HEADER_AUTHORIZATION and _COOKIE `***`,
X_TRACE as sent, and no secret byte in anything journald stored for the
run (`journalctl -o export`). Two GETs under /skip have no entry at either
end and are counted in `filtered` (4); one more GET is logged. nginx logged
all four."""

import secrets

import htlib
import h2lib
from htlib import expect, ensure, log

SERVER_ADDR, CLIENT_ADDR = "127.0.13.7", "127.0.13.8"


def test(ctx):
    htlib.require_tools("nginx")
    port = htlib.free_port()
    srv = htlib.Nginx(ctx, extra_server=f"listen {SERVER_ADDR}:{port} http2;")
    daemon = htlib.Daemon(ctx, ["-s", "fields.request_headers=authorization,cookie,x-trace",
                                "-s", "filter.exclude.paths=/skip",
                                "-s", f"filter.include.addresses={SERVER_ADDR}/32,{CLIENT_ADDR}/32"]).start()
    secret = "s3cret" + secrets.token_hex(8)
    c = h2lib.Client(SERVER_ADDR, port, src=CLIENT_ADDR)
    ctx.cleanup.callback(c.close)
    block = h2lib.get_block(f"/a?token={secret}T&x=1", f"{SERVER_ADDR}:{port}",
                            [("authorization", f"Bearer {secret}A"), ("cookie", f"sid={secret}C"),
                             ("x-trace", "visible-1")])
    c.sock.sendall(h2lib.headers(1, block))
    c.response(1)
    c.get(3, "/skip/one")
    c.get(5, "/skip/two?token=x")
    c.get(7, "/b")
    ensure(len(htlib.wait_log_lines(srv, 4)) == 4, "fixture: nginx did not log the four requests")
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    for role in ("server", "client"):
        es = htlib.entries_for_server(entries, port, role)
        log(f"{role}: " + ", ".join(f"{e.get('HTTP_TARGET')} auth={e.get('HTTP_REQUEST_HEADER_AUTHORIZATION')} "
                                    f"cookie={e.get('HTTP_REQUEST_HEADER_COOKIE')} "
                                    f"trace={e.get('HTTP_REQUEST_HEADER_X_TRACE')}" for e in es))
        targets = sorted(e.get("HTTP_TARGET", "") for e in es)
        expect(targets == ["/a?token=***&x=1", "/b"], f"{role}: targets {targets}")
        a = [e for e in es if e.get("HTTP_PATH") == "/a"]
        if a:
            e = a[0]
            expect(e.get("HTTP_VERSION") == "2", f"{role}: HTTP_VERSION={e.get('HTTP_VERSION')}")
            expect(e.get("HTTP_REQUEST_HEADER_AUTHORIZATION") == "***",
                   f"{role}: HTTP_REQUEST_HEADER_AUTHORIZATION={e.get('HTTP_REQUEST_HEADER_AUTHORIZATION')!r}")
            expect(e.get("HTTP_REQUEST_HEADER_COOKIE") == "***",
                   f"{role}: HTTP_REQUEST_HEADER_COOKIE={e.get('HTTP_REQUEST_HEADER_COOKIE')!r}")
            expect(e.get("HTTP_REQUEST_HEADER_X_TRACE") == "visible-1",
                   f"{role}: HTTP_REQUEST_HEADER_X_TRACE={e.get('HTTP_REQUEST_HEADER_X_TRACE')!r}")
            expect(secret not in str(e.get("MESSAGE", "")), f"{role}: the secret in MESSAGE")
    st = daemon.stats or {}
    expect(st.get("filtered") == 4, f"filtered={st.get('filtered')}, want 4 (two /skip GETs at both ends)")
    export = htlib.run_cmd(["journalctl", f"_PID={daemon.pid}", "-o", "export", "--no-pager"]).stdout
    expect(secret.encode() not in export, "the secret appears in journalctl -o export output")


if __name__ == "__main__":
    htlib.run(test, tools=("bpftool", "journalctl", "nginx"))
