#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""HTTPS in node, whose OpenSSL is linked into /usr/bin/node and works on
memory BIOs (libuv does the socket I/O: no syscall inside any SSL_* call).
Its SSL* is tied to the socket its thread last read (docs/tls.md); this
measures how reliably that ties under concurrency: a node https server
(started after the daemon) and a node client with 4 keep-alive connections
at once, interleaving GET 200, 404, POST 3000 bytes, a 64 KiB body and HEAD,
5 rounds each. Every request the server logs has exactly one server entry
and one client entry, on the right connection (CLIENT_PORT = the port the
server logged), with the right method, target, status and body sizes,
TLS_LIBRARY=/usr/bin/node; tls_tied_by_read counted. Nothing of ours went untied (an
untied chunk is dropped: its entry would be missing or wrong); tls_untied itself is counted
before any filter, for the whole host, and only logged."""

import os

import htlib
import tlslib
from htlib import expect, ensure, log

HERE = os.path.dirname(os.path.abspath(__file__))
CONNS, ROUNDS = 4, 5


def test(ctx):
    htlib.require_tools("node", "openssl")
    node = os.path.realpath("/usr/bin/node")
    ensure(os.path.exists(node), "fixture: no /usr/bin/node")
    cert, key = tlslib.make_cert(ctx)
    # tls-node.js's own loopback addresses: other traffic on the host cannot crowd these entries out.
    daemon = htlib.Daemon(ctx, ["--set", "filter.include.addresses=127.0.0.7/32,127.0.0.8/32"]).start()

    port = htlib.free_port()
    logpath = os.path.join(ctx.tmp, "access.jsonl")
    script = os.path.join(HERE, "tls-node.js")
    n = CONNS * ROUNDS * 5
    server, client_view, lines, elapsed_us = htlib.node_exchange(
        ctx, script, port, [key, cert], [str(CONNS), str(ROUNDS)], logpath, n, "tls-node-server")
    stats = daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    srv = htlib.entries_for_server(entries, port, "server")
    cli = htlib.entries_for_server(entries, port, "client")
    log(f"server logged {len(lines)}; journal: {len(srv)} server, {len(cli)} client entries; "
        f"tls_tied_by_read={daemon.stat('tls_tied_by_read')} tls_untied={daemon.stat('tls_untied')}")
    expect(len(srv) == n, f"server entries {len(srv)} != {n} logged requests")
    expect(len(cli) == n, f"client entries {len(cli)} != {n} requests")

    want = sorted((str(l["port"]), l["method"], l["path"], str(l["status"]), str(l["resp"]), str(l["req"]))
                  for l in lines)

    def view(e):
        return (e.get("CLIENT_PORT"), e.get("HTTP_METHOD"), e.get("HTTP_TARGET"), e.get("HTTP_STATUS"),
                e.get("HTTP_RESPONSE_BODY_BYTES"), e.get("HTTP_REQUEST_BODY_BYTES", "0"))

    got_srv = sorted(view(e) for e in srv)
    got_cli = sorted(view(e) for e in cli)
    bad_srv = [g for g in got_srv if g not in want]
    bad_cli = [g for g in got_cli if g not in want]
    expect(got_srv == want, f"server entries differ from the server's log (first wrong: {bad_srv[:3]})")
    expect(got_cli == want, f"client entries differ from the server's log (first wrong: {bad_cli[:3]})")
    for e in entries:
        expect(e.get("HTTP_SCHEME") == "https" and e.get("TLS_LIBRARY") == node,
               f"{e.get('MESSAGE')}: HTTP_SCHEME={e.get('HTTP_SCHEME')} TLS_LIBRARY={e.get('TLS_LIBRARY')}")
        htlib.expect_duration(e.get("MESSAGE"), e, high_us=elapsed_us, why_high="the whole client run")
    tlslib.log_untied(daemon)
    # One tie per SSL* of each side: 2 x CONNS at least.
    expect(daemon.stat("tls_tied_by_read") >= 2 * CONNS, f"tls_tied_by_read={daemon.stat('tls_tied_by_read')}")


if __name__ == "__main__":
    htlib.run(test)
