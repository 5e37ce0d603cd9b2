#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""HTTP/2 inside TLS (h2 negotiated by ALPN): nginx `listen ... ssl http2`
with a self-signed certificate made here; clients `curl --http2` (two URLs
on one connection, one a 404), `curl --http2` POSTing a body, `nghttp` and
`h2load -n 100 -c 2 -m 10`, all through libssl. The TLS source's plaintext
starts with the client preface, so the connection is classified HTTP/2:
every request nginx logs has exactly one server entry with its method,
target, status and body size, HTTP_VERSION=2, HTTP_SCHEME=https,
TLS_LIBRARY and an HTTP_STREAM_ID, and exactly one client entry. The
client's POST entry has the body's size; nginx's view of it may instead be
flagged truncated,reset with HTTP2_RESET_ERROR=NO_ERROR (it answers and
ends the upload before reading the body). The clients are started before
the daemon and held, so that the daemon is limited in the kernel to their
pids and nginx's worker (as test-grpc): its counters (exchanges 2 x 104;
parse errors, desyncs 0) are this test's own; tls_untied, counted
before any filter, is only logged."""

import os

import htlib
import h2lib
import tlslib
from htlib import expect, ensure, log


def test(ctx):
    htlib.require_tools("nginx", "curl", "openssl", "nghttp", "h2load")
    cert, key = tlslib.make_cert(ctx)
    port = htlib.free_port()
    srv = htlib.Nginx(ctx, extra_http=f"""
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {os.path.join(ctx.tmp, "www")};
        location = /post {{
            client_body_buffer_size 1m;
            client_max_body_size 10m;
            return 200 "posted\\n";
        }}
    }}
""")
    htlib.wait_port(port, srv.proc.popen, what="nginx (TLS)")

    base = f"https://127.0.0.1:{port}"
    curl = ["curl", "-sS", "--noproxy", "*", "-k", "--http2", "-o", "/dev/null"]
    # The clients exist before the daemon (held), so that it is limited in the kernel to them and
    # nginx's worker: other traffic on the host (other tests, benchmarks) is not traced at all.
    clients = [h2lib.Held(ctx, curl + ["-o", "/dev/null", f"{base}/index.html", f"{base}/missing.html"]),
               h2lib.Held(ctx, curl + ["--data-binary", "@" + os.path.join(ctx.tmp, "www", "index.html"),
                                       f"{base}/post"]),
               h2lib.Held(ctx, ["nghttp", "-n", f"{base}/index.html"]),
               h2lib.Held(ctx, ["h2load", "-n", "100", "-c", "2", "-m", "10", f"{base}/index.html"])]
    daemon = htlib.Daemon(ctx, h2lib.pid_filter(*srv.worker_pids, *(c.pid for c in clients))).start()

    for c in clients[:3]:
        c.run()
    out = clients[3].run(timeout=120).decode()
    ensure("100 succeeded" in out, f"fixture: h2load did not complete 100 requests:\n{out}")

    n = 2 + 1 + 1 + 100
    lines = [l for l in htlib.wait_log_lines(srv, n) if l["protocol"] == "HTTP/2.0"]
    ensure(len(lines) == n, f"fixture: nginx logged {len(lines)} HTTP/2 requests, sent {n}")
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    server = htlib.entries_for_server(entries, port, "server")
    client = htlib.entries_for_server(entries, port, "client")
    log(f"nginx logged {n} HTTP/2 requests; journal: {len(server)} server, {len(client)} client entries")
    post_size = str(os.path.getsize(os.path.join(ctx.tmp, "www", "index.html")))

    want = sorted((l["method"], l["uri"], l["status"], l["body_bytes_sent"]) for l in lines)
    for role, es in (("server", server), ("client", client)):
        expect(len(es) == n, f"{role} entries {len(es)} != nginx's {n}")
        got = sorted((e.get("HTTP_METHOD"), e.get("HTTP_TARGET"), e.get("HTTP_STATUS"),
                      e.get("HTTP_RESPONSE_BODY_BYTES", "0")) for e in es)
        h2lib.expect_same(f"{role} (method, target, status, body)", got, want)
        for e in es:
            what = f"{role} {e.get('HTTP_METHOD')} {e.get('HTTP_TARGET')}"
            expect(e.get("HTTP_VERSION") == "2", f"{what}: HTTP_VERSION={e.get('HTTP_VERSION')}")
            expect(e.get("HTTP_SCHEME") == "https", f"{what}: HTTP_SCHEME={e.get('HTTP_SCHEME')}")
            expect(e.get("TLS_LIBRARY", "").startswith("/"), f"{what}: TLS_LIBRARY={e.get('TLS_LIBRARY')}")
            sid = e.get("HTTP_STREAM_ID", "")
            expect(sid.isdigit() and int(sid) % 2 == 1, f"{what}: HTTP_STREAM_ID={sid!r}")
            if role == "server" and e.get("HTTP_METHOD") == "POST" and "reset" in e.get("HTTP_FLAGS", ""):
                # nginx's `return 200` answers before reading the body, then ends the upload with
                # RST_STREAM(NO_ERROR) (RFC 9113 §8.1): the request it read was cut, and says so
                expect(e.get("HTTP_FLAGS") == "truncated,reset,tls" and e.get("HTTP2_RESET_ERROR") == "NO_ERROR",
                       f"{what}: HTTP_FLAGS={e.get('HTTP_FLAGS')} HTTP2_RESET_ERROR={e.get('HTTP2_RESET_ERROR')}")
                continue
            expect(e.get("HTTP_FLAGS", "") == "tls", f"{what}: HTTP_FLAGS={e.get('HTTP_FLAGS')}")
            htlib.check_common_fields(e, port, what)
        posts = [e for e in es if e.get("HTTP_METHOD") == "POST" and "reset" not in e.get("HTTP_FLAGS", "")]
        if role == "server" and not posts:
            continue
        expect(len(posts) == 1 and posts[0].get("HTTP_REQUEST_BODY_BYTES") == post_size,
               f"{role}: POST entries {[(e.get('HTTP_TARGET'), e.get('HTTP_REQUEST_BODY_BYTES')) for e in posts]}"
               f", want one with {post_size} bytes")
    # Limited to this test's processes, the daemon's counters are this test's own; not tls_untied,
    # counted before any filter (tlslib.log_untied).
    for key in ("parse_errors", "desyncs", "headers_incomplete"):
        expect(daemon.stat(key) == 0, f"{key}={daemon.stat(key)}")
    tlslib.log_untied(daemon)
    bad = [e.get("HTTP_PARSE_ERROR") for e in entries if "HTTP_PARSE_ERROR" in e]
    expect(not bad, f"parse errors on port {port}: {bad}")
    expect(daemon.stat("exchanges") == 2 * n, f"exchanges={daemon.stat('exchanges')}, want {2 * n}")


if __name__ == "__main__":
    htlib.run(test, tools=("bpftool", "journalctl", "nghttp", "h2load"))
