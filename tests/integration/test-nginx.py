#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""nginx, server side: every request nginx logs has exactly one journal entry
with the same method, target, status, worker pid, body sizes, and a duration
no shorter than nginx's own $request_time (a cached ms clock: a lower bound)
and no longer than this client's own round trip for the request. Covers
keep-alive, pipelining in one send, a gzip'd chunked response, 404, HEAD,
POST with a Content-Length and a chunked body, a 1 MiB sendfile body, one
slowed to ~0.5 s by limit_rate (so that a wrong duration cannot hide in the
scheduling slack), a 6 KiB header and HTTP/1.0; then `HTTP_STATUS=404`
returns exactly nginx's 404s. The raw socket client (this process) gets
client-role entries too, each inside its own round trip and no shorter
than the server's side of the same exchange."""

import os
import time

import htlib
from htlib import TRACEPARENT, TRACE_ID, SPAN_ID, expect, ensure, log

def req(method, target, host, headers=(), body=b""):
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"] + list(headers)
    if body and not any(h.lower().startswith("transfer-encoding") for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(body, n):
    step = (len(body) + n - 1) // n
    out = b""
    for i in range(0, len(body), step):
        part = body[i:i + step]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    return out + b"0\r\n\r\n"


def test(ctx):
    htlib.require_tools("nginx")
    nginx = htlib.Nginx(ctx, extra_server=htlib.NGINX_SLOW_LOCATION)
    host = f"127.0.0.1:{nginx.port}"
    # Limited in the kernel to nginx's worker and this process (both roles of every exchange
    # here): other traffic on the host cannot fill the ring or the output queue under the
    # exact counts below.
    pids = ",".join(str(p) for p in [*nginx.worker_pids, os.getpid()])
    daemon = htlib.Daemon(ctx, ["-s", f"filter.include.pids={pids}"]).start()

    # Per request: what the client saw, to check body sizes of chunked
    # responses (nginx's $body_bytes_sent counts the chunk framing).
    client_view = {}  # (client_port, index on connection) -> dict
    rtt = htlib.RoundTrips()  # same keys: this client's own round trip, µs

    # A. Keep-alive: ten requests, one connection, one at a time.
    post_body = bytes(i % 251 for i in range(10000))
    chunked_body = b"x" * 5000
    plan = [
        ("GET", "/index.html", [f"traceparent: {TRACEPARENT}", "User-Agent: ht-itest/1.0"], b"", {"trace": True}),
        ("GET", "/index.html?x=1&y=2", [], b"", {}),
        ("HEAD", "/index.html", [], b"", {"head": True}),
        ("GET", "/missing.html", [], b"", {}),
        ("GET", "/gz/text.txt", ["Accept-Encoding: gzip"], b"", {"gzip": True}),
        ("POST", "/post", ["Content-Type: application/octet-stream"], post_body, {"req_body": 10000}),
        ("POST", "/post", ["Transfer-Encoding: chunked"], chunked(chunked_body, 3), {"req_body": 5000}),
        ("GET", "/big.bin", [], b"", {}),
        ("GET", "/slow.bin", [], b"", {}),
        ("GET", "/index.html", ["X-Big: " + "b" * 6144], b"", {"big_header": True}),
        ("GET", "/nope/again", [], b"", {}),
    ]
    with htlib.connect(nginx.port) as s:
        ka_port = s.local_port
        for i, (method, target, headers, body, flags) in enumerate(plan):
            with rtt.measure((ka_port, i + 1)):
                s.sendall(req(method, target, host, headers, body))
                status, rh, rbody, payload = htlib.read_response(s, head_only=flags.get("head", False))
            if flags.get("gzip"):
                ensure(rh.get("content-encoding") == "gzip" and rh.get("transfer-encoding") == "chunked",
                       f"fixture: nginx did not send a gzip'd chunked response: {rh}")
            client_view[(ka_port, i + 1)] = {"status": status, "payload": payload, **flags}

    # B. Three pipelined requests in one send(); the last closes.
    pipe = (req("GET", "/index.html", host) + req("GET", "/missing-pipelined", host) +
            req("GET", "/index.html?p=3", host, ["Connection: close"]))
    with htlib.connect(nginx.port) as s:
        pipe_port = s.local_port
        t0 = time.monotonic()
        s.sendall(pipe)
        for i in range(3):
            status, rh, rbody, payload = htlib.read_response(s)
            # Each pipelined exchange lies between the one send and the read of its own response.
            rtt.add((pipe_port, i + 1), (time.monotonic() - t0) * 1e6)
            client_view[(pipe_port, i + 1)] = {"status": status, "payload": payload}

    # C. HTTP/1.0, closed by the server after the response.
    with htlib.connect(nginx.port) as s:
        with rtt.measure((s.local_port, 1)):
            s.sendall(f"GET /index.html HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            resp = s.reader.read()  # until nginx closes
    ensure(resp.startswith(b"HTTP/1.1 200"), f"HTTP/1.0 request: unexpected response {resp[:40]!r}")

    n_requests = len(plan) + 3 + 1
    log_lines = htlib.wait_log_lines(nginx, n_requests)
    ensure(len(log_lines) == n_requests, f"fixture: nginx logged {len(log_lines)} requests, sent {n_requests}")
    stats = daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={nginx.port}")
    server = htlib.entries_for_server(entries, nginx.port, "server")
    client = htlib.entries_for_server(entries, nginx.port, "client")
    log(f"nginx logged {len(log_lines)}, journal has {len(server)} server and {len(client)} client entries")

    pairs = htlib.check_nginx_pairs(log_lines, server, nginx.port, rtt, body_from_log=False, min_slow=1)
    message_ids = set()
    for l, e in pairs:
        what = f"{l['method']} {l['uri']} (client port {l['remote_port']}, #{l['connection_requests']})"
        view = client_view.get((int(l["remote_port"]), int(l["connection_requests"])), {})
        message_ids.add(e.get("MESSAGE_ID"))
        expect(e.get("HTTP_HOST") == host, f"{what}: HTTP_HOST={e.get('HTTP_HOST')}")
        if view.get("gzip"):
            # Chunked: the body size is the decoded chunk payload; nginx's
            # $body_bytes_sent also counts the chunk framing.
            expect(e.get("HTTP_RESPONSE_BODY_BYTES") == str(view["payload"]),
                   f"{what}: HTTP_RESPONSE_BODY_BYTES={e.get('HTTP_RESPONSE_BODY_BYTES')}, "
                   f"the client decoded {view['payload']} bytes of chunk payload")
        else:
            expect(e.get("HTTP_RESPONSE_BODY_BYTES") == l["body_bytes_sent"],
                   f"{what}: HTTP_RESPONSE_BODY_BYTES={e.get('HTTP_RESPONSE_BODY_BYTES')}, "
                   f"nginx $body_bytes_sent={l['body_bytes_sent']}")
        if "req_body" in view:
            expect(e.get("HTTP_REQUEST_BODY_BYTES") == str(view["req_body"]),
                   f"{what}: HTTP_REQUEST_BODY_BYTES={e.get('HTTP_REQUEST_BODY_BYTES')}, sent {view['req_body']}")
        else:
            expect(e.get("HTTP_REQUEST_BODY_BYTES", "0") == "0",
                   f"{what}: HTTP_REQUEST_BODY_BYTES={e.get('HTTP_REQUEST_BODY_BYTES')} for a bodyless request")
        if view.get("trace"):
            expect(e.get("TRACE_ID") == TRACE_ID, f"{what}: TRACE_ID={e.get('TRACE_ID')}")
            expect(e.get("SPAN_ID") == SPAN_ID, f"{what}: SPAN_ID={e.get('SPAN_ID')}")
            expect(e.get("HTTP_USER_AGENT") == "ht-itest/1.0", f"{what}: HTTP_USER_AGENT={e.get('HTTP_USER_AGENT')}")
        else:
            expect("TRACE_ID" not in e, f"{what}: TRACE_ID={e.get('TRACE_ID')} without a traceparent")
    expect(len(message_ids) == 1, f"complete exchanges carry several MESSAGE_IDs: {message_ids}")

    # Pipelined and keep-alive requests stayed on their one connection each.
    ports = {e.get("CLIENT_PORT") for e in server}
    expect(str(ka_port) in ports and str(pipe_port) in ports,
           f"keep-alive ({ka_port}) or pipelined ({pipe_port}) connection missing from {ports}")

    # The operator's query for 404s returns exactly nginx's 404s.
    nginx_404 = sorted(l["uri"] for l in log_lines if l["status"] == "404")
    ensure(len(nginx_404) == 3, f"fixture: expected 3 404s in nginx's log, got {nginx_404}")
    j404 = htlib.journal_query(daemon.pid, "HTTP_STATUS=404", f"SERVER_PORT={nginx.port}", "HTTP_ROLE=server")
    expect(sorted(e.get("HTTP_TARGET") for e in j404) == nginx_404,
           f"journalctl HTTP_STATUS=404 gives {sorted(e.get('HTTP_TARGET') for e in j404)}, nginx logged {nginx_404}")
    expect(all(e.get("PRIORITY") == "5" for e in j404), "404 entries must have PRIORITY=5")

    # This process was the raw-socket client: one client-role entry per request.
    mine = [e for e in client if e.get("PROCESS_PID") == str(os.getpid())]
    expect(len(mine) == n_requests,
           f"client-role entries for the raw-socket client (pid {os.getpid()}): {len(mine)}, sent {n_requests}")
    expect(sorted((e.get("HTTP_TARGET"), e.get("HTTP_STATUS")) for e in mine) ==
           sorted((l["uri"], l["status"]) for l in log_lines),
           "client-role entries do not carry the same targets and statuses as nginx's log")
    # The client's side of an exchange: inside its own round trip (it wrote
    # the request after the clock started and read the end before it
    # stopped), and no shorter than the server's side, which it encloses.
    server_by = {(int(l["remote_port"]), int(l["connection_requests"])): e for l, e in pairs}
    for port, es in htlib.group_by(mine, lambda e: e.get("CLIENT_PORT")).items():
        for i, e in enumerate(sorted(es, key=htlib.entry_order)):
            key = (int(port), i + 1)
            what = f"client-role {e.get('HTTP_METHOD')} {e.get('HTTP_TARGET')} (port {port}, #{i + 1})"
            if expect(rtt.get(key) is not None, f"{what}: no round trip measured for it"):
                htlib.expect_within_round_trip(what, e, rtt.get(key))
            if key in server_by:
                sd = htlib.duration_usec(server_by[key])
                htlib.expect_duration(what, e, low_us=sd - htlib.SCHED_SLACK_US,
                                      why_low=f"the server's side took {sd} us and lies inside the client's, "
                                              f"-{htlib.SCHED_SLACK_US} us scheduling slack")

    # What holds whatever the load: no byte lost without a counted drop (the entries above are
    # exact: none of ours was lost), and nothing dropped on the output side, which only this
    # test's exchanges reach.
    drops, lost = daemon.stat("ringbuf_drops"), daemon.stat("bytes_lost")
    expect(lost == 0 or drops > 0, f"bytes_lost={lost} with ringbuf_drops={drops}")
    expect(daemon.stat("entries_dropped") == 0, f"entries_dropped={daemon.stat('entries_dropped')}")


if __name__ == "__main__":
    htlib.run(test)
