#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A keep-alive connection opened, and used once, before the daemon starts
is traced once it runs: the requests sent on it afterwards get complete
server-role entries (nginx worker) and client-role entries (this process),
and the request from before the start leaves no entry. Durations: no
shorter than nginx's $request_time allows, no longer than this client's
round trip; the last request is slowed to ~0.6 s (nginx limit_rate) so
that those bounds would catch a wrong duration."""

import os

import htlib
from htlib import expect, ensure, log


def get(s, host, target, rtt, nth):
    """The nth request on connection s, timed by this client (rtt key: nginx's)."""
    with rtt.measure((s.local_port, nth)):
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        status, _, _, _ = htlib.read_response(s)
    ensure(status == 200, f"fixture: GET {target} returned {status}")


def test(ctx):
    htlib.require_tools("nginx")
    nginx = htlib.Nginx(ctx, extra_server=htlib.NGINX_SLOW_LOCATION)
    host = f"127.0.0.1:{nginx.port}"
    rtt = htlib.RoundTrips()
    s = htlib.connect(nginx.port)
    ctx.cleanup.callback(s.close)
    port = s.local_port
    get(s, host, "/index.html?before=1", rtt, 1)

    daemon = htlib.Daemon(ctx).start()
    get(s, host, "/index.html?after=1", rtt, 2)
    get(s, host, "/slow.bin?after=2", rtt, 3)
    s.close()

    log_lines = htlib.wait_log_lines(nginx, 3)
    ensure(len(log_lines) == 3, f"fixture: nginx logged {len(log_lines)} requests, sent 3")
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={nginx.port}")
    server = htlib.entries_for_server(entries, nginx.port, "server")
    client = htlib.entries_for_server(entries, nginx.port, "client")
    log(f"journal: {len(server)} server, {len(client)} client entries for the pre-existing connection")
    after = [l for l in log_lines if "after" in l["uri"]]
    htlib.check_nginx_pairs(after, server, nginx.port, rtt, min_slow=1)
    expect(all(e.get("CLIENT_PORT") == str(port) for e in server),
           f"server entries not on the pre-existing connection (client port {port}): "
           f"{[e.get('CLIENT_PORT') for e in server]}")
    others = [e for e in entries if "HTTP_ROLE" not in e or "HTTP_STATUS" not in e]
    expect(not others, f"incomplete/uncorrelated/parse-error entries for the port: "
                       f"{[e.get('MESSAGE') for e in others]}")
    mine = sorted(e.get("HTTP_TARGET") for e in client if e.get("PROCESS_PID") == str(os.getpid()))
    expect(mine == ["/index.html?after=1", "/slow.bin?after=2"],
           f"client-role entries of this process (pid {os.getpid()}) on the pre-existing connection: {mine}")


if __name__ == "__main__":
    htlib.run(test)
