#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""HTTP/2 cleartext with prior knowledge (h2c): nginx `listen ... http2` and
the clients of nghttp2 (Debian nghttp2-client): `nghttp` with two GETs on one
connection (one a 404), `nghttp -d` POSTing a body, and `h2load -n 200 -c 2
-m 10` (10 concurrent streams interleaved per connection). Every request
nginx logs as HTTP/2.0 has exactly one server entry (nginx's pid) with its
method, target, status and body size, HTTP_VERSION=2 and an HTTP_STREAM_ID,
and exactly one client entry (nghttp's or h2load's side of the same
streams), no flag but `gap` (nginx's sendfile DATA payloads); the POST's request
body size is the file's; per connection, stream ids are distinct and odd.
The clients are started before the daemon and held, so that the daemon is
limited in the kernel to their pids and nginx's worker (as test-grpc): its
counters (exchanges 2 x 203; parse errors, desyncs 0) are this test's own."""

import os

import htlib
import h2lib
from htlib import expect, ensure, log


def test(ctx):
    htlib.require_tools("nghttp", "h2load", "nginx")
    h2port = htlib.free_port()
    srv = htlib.Nginx(ctx, extra_server=f"listen 127.0.0.1:{h2port} http2;")

    base = f"http://127.0.0.1:{h2port}"
    body = os.path.join(ctx.tmp, "post-body.txt")
    with open(body, "wb") as f:
        f.write(b"x" * 3000)

    # The clients exist before the daemon (held), so that it is limited in the kernel to them and
    # nginx's worker: other traffic on the host (other tests, benchmarks) is not traced at all.
    clients = [h2lib.Held(ctx, ["nghttp", "-n", f"{base}/index.html", f"{base}/missing.html"]),
               h2lib.Held(ctx, ["nghttp", "-n", "-d", body, f"{base}/post"]),
               h2lib.Held(ctx, ["h2load", "-n", "200", "-c", "2", "-m", "10", f"{base}/index.html"])]
    daemon = htlib.Daemon(ctx, h2lib.pid_filter(*srv.worker_pids, *(c.pid for c in clients))).start()

    clients[0].run()
    clients[1].run()
    out = clients[2].run(timeout=120).decode()
    log(out.strip().splitlines()[-4] if out.strip() else "h2load: no output")
    ensure("200 succeeded" in out, f"fixture: h2load did not complete 200 requests:\n{out}")

    n = 2 + 1 + 200
    lines = [l for l in htlib.wait_log_lines(srv, n) if l["protocol"] == "HTTP/2.0"]
    ensure(len(lines) == n, f"fixture: nginx logged {len(lines)} HTTP/2 requests, sent {n}")
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={h2port}")
    server = htlib.entries_for_server(entries, h2port, "server")
    client = htlib.entries_for_server(entries, h2port, "client")
    log(f"nginx logged {n} HTTP/2 requests; journal: {len(server)} server, {len(client)} client entries")

    want = sorted((l["method"], l["uri"], l["status"], l["body_bytes_sent"]) for l in lines)
    for role, es in (("server", server), ("client", client)):
        expect(len(es) == n, f"{role} entries {len(es)} != nginx's {n}")
        got = sorted((e.get("HTTP_METHOD"), e.get("HTTP_TARGET"), e.get("HTTP_STATUS"),
                      e.get("HTTP_RESPONSE_BODY_BYTES", "0")) for e in es)
        h2lib.expect_same(f"{role} (method, target, status, body)", got, want)
        for e in es:
            what = f"{role} {e.get('HTTP_METHOD')} {e.get('HTTP_TARGET')}"
            expect(e.get("HTTP_VERSION") == "2", f"{what}: HTTP_VERSION={e.get('HTTP_VERSION')}")
            sid = e.get("HTTP_STREAM_ID", "")
            expect(sid.isdigit() and int(sid) % 2 == 1, f"{what}: HTTP_STREAM_ID={sid!r}")
            expect(e.get("HTTP_HOST") == f"127.0.0.1:{h2port}", f"{what}: HTTP_HOST={e.get('HTTP_HOST')}")
            # nginx writes DATA payloads with sendfile(), whose bytes are not captured: a gap inside
            # the frame, counted as body (the size is exact), frame sync kept
            flags_ok = ("", "gap") if role == "server" else ("",)
            expect(e.get("HTTP_FLAGS", "") in flags_ok, f"{what}: HTTP_FLAGS={e.get('HTTP_FLAGS')}")
            htlib.check_common_fields(e, h2port, what)
        posts = [e for e in es if e.get("HTTP_METHOD") == "POST"]
        expect(len(posts) == 1 and posts[0].get("HTTP_REQUEST_BODY_BYTES") == "3000",
               f"{role}: POST entries {[(e.get('HTTP_TARGET'), e.get('HTTP_REQUEST_BODY_BYTES')) for e in posts]}")
        # per connection, each stream is one entry
        by_conn = htlib.group_by(es, lambda e: e.get("HTTP_CONNECTION_ID"))
        for cid, ce in by_conn.items():
            ids = [e.get("HTTP_STREAM_ID") for e in ce]
            expect(len(ids) == len(set(ids)), f"{role}: connection {cid} repeats stream ids {sorted(ids)}")
        expect(len(by_conn) == 4, f"{role}: {len(by_conn)} connections, want 4 (nghttp x2, h2load -c 2)")
    pids = {e.get("PROCESS_PID") for e in server}
    expect(pids == set(str(p) for p in srv.worker_pids), f"server entries' pids {pids} != nginx workers {srv.worker_pids}")
    # Limited to this test's processes, the daemon's counters are this test's own.
    for key in ("parse_errors", "desyncs", "headers_incomplete", "streams_overflows"):
        expect(daemon.stat(key) == 0, f"{key}={daemon.stat(key)}")
    bad = [e.get("HTTP_PARSE_ERROR") for e in entries if "HTTP_PARSE_ERROR" in e]
    expect(not bad, f"parse errors on port {h2port}: {bad}")
    # Nothing but this port's HTTP/2 (nginx's own HTTP/1 port had no traffic): exactly its entries.
    expect(daemon.stat("exchanges") == 2 * n, f"exchanges={daemon.stat('exchanges')}, want {2 * n}")


if __name__ == "__main__":
    htlib.run(test, tools=("bpftool", "journalctl", "nghttp", "h2load"))
