#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""node's http module (read/writev, chunked responses): every response the
server logs has one server-role entry with the same method, target, status,
node's pid, request and response body sizes (chunked: decoded payload), and
a duration no longer than the client's own round trip for the request
(raw socket: CLOCK_MONOTONIC around send and read; curl: its time_total)
and close to node's own measurement (node's 'finish' event can come after
the last write on a loaded machine, so its number is only a reference,
within the scheduling slack either way). Keep-alive on a raw socket (one response
held back 0.6 s so that the bounds have teeth), plus a separate curl."""


import htlib
from htlib import expect, ensure, log


def test(ctx):
    htlib.require_tools("node", "curl")
    srv = htlib.NodeHttpServer(ctx)
    host = f"127.0.0.1:{srv.port}"
    daemon = htlib.Daemon(ctx).start()

    plan = [("GET", "/json", b""), ("GET", "/chunked", b""), ("POST", "/echo", b"e" * 3000),
            ("GET", "/missing?x=y", b""), ("GET", "/error", b""), ("GET", "/chunked?again=1", b""),
            ("GET", "/slow", b"")]
    rtt = htlib.RoundTrips()   # (client port, target) -> µs
    with htlib.connect(srv.port) as s:
        ka_port = s.local_port
        for method, target, body in plan:
            head = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n"
            if body:
                head += f"Content-Length: {len(body)}\r\n"
            with rtt.measure((ka_port, target)):
                s.sendall(head.encode() + b"\r\n" + body)
                status, rh, _, _ = htlib.read_response(s)
            if target.startswith("/chunked"):
                ensure(rh.get("transfer-encoding") == "chunked", f"fixture: node did not chunk: {rh}")
    _, curl_times = htlib.curl_timed("-o", "/dev/null", srv.url("/chunked"))
    ensure(len(curl_times) == 1, f"fixture: curl timed {curl_times}")

    n = len(plan) + 1
    log_lines = htlib.wait_log_lines(srv, n)
    ensure(len(log_lines) == n, f"fixture: node logged {len(log_lines)} responses, sent {n}")
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={srv.port}")
    server = sorted(htlib.entries_for_server(entries, srv.port, "server"), key=htlib.entry_order)
    log(f"node logged {n}, journal has {len(server)} server entries")
    expect(len(server) == n, f"server entries {len(server)} != node access log lines {n}")
    pairs, lonely_log, lonely_entries = htlib.match_in_order(
        log_lines, server, lambda l: str(l["remote_port"]), lambda e: e.get("CLIENT_PORT"))
    for l in lonely_log:
        expect(False, f"node logged {l['method']} {l['uri']} {l['status']} but the journal has no entry")
    for e in lonely_entries:
        expect(False, f"journal entry without a node log line: {e.get('MESSAGE')}")
    slow = 0
    for l, e in pairs:
        what = f"{l['method']} {l['uri']}"
        htlib.check_common_fields(e, srv.port, what)
        for field, want in (("HTTP_METHOD", l["method"]), ("HTTP_TARGET", l["uri"]),
                            ("HTTP_PATH", l["uri"].split("?")[0]), ("HTTP_STATUS", str(l["status"])),
                            ("HTTP_VERSION", l["version"]), ("PROCESS_PID", str(l["pid"])),
                            ("HTTP_RESPONSE_BODY_BYTES", str(l["body_bytes"])),
                            ("HTTP_REQUEST_BODY_BYTES", str(l["req_body_bytes"]))):
            got = e.get(field, "0" if field == "HTTP_REQUEST_BODY_BYTES" else None)
            expect(got == want, f"{what}: {field}={got}, node says {want}")
        # Upper bound: the client's own round trip encloses the exchange.
        r = rtt.get((l["remote_port"], l["uri"])) if l["remote_port"] == ka_port else curl_times[0]
        htlib.expect_within_round_trip(what, e, r)
        # node's own figure: a real clock, but taken around its event loop's
        # work, so the scheduling slack applies either way.
        slow += l["uri"] == "/slow"
        htlib.expect_duration(what, e, low_us=l["usec"] - htlib.SCHED_SLACK_US,
                              high_us=l["usec"] + htlib.SCHED_SLACK_US,
                              why_low=f"node measured {l['usec']} us, -{htlib.SCHED_SLACK_US} us slack",
                              why_high=f"node measured {l['usec']} us, +{htlib.SCHED_SLACK_US} us slack")

    # /slow answers 0.6 s after its head, so the bounds above would catch a
    # duration of 0 or a doubled one.
    expect(slow == 1 and any(l["uri"] == "/slow" and l["usec"] >= htlib.SLOW_REQUEST_US for l in log_lines),
           f"fixture: /slow was not checked or not slow: {[l for l in log_lines if l['uri'] == '/slow']}")


if __name__ == "__main__":
    htlib.run(test)
