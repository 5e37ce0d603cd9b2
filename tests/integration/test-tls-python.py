#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""HTTPS between two python3 processes (`_ssl`, libssl's SSL_read_ex /
SSL_write_ex): an HTTP/1.1 `http.server` wrapped in `ssl` with a
certificate made here, started after the daemon (the uprobes sit on the
library file, so new processes are covered), and `urllib` in this process as
the client: GET 200, GET 404, HEAD, POST with a 20000-byte body, and a
64 KiB response. Each request the server logs has exactly one server entry
(method, path, status, body sizes, the server's pid) and one client entry
from this process, all with HTTP_SCHEME=https and TLS_LIBRARY = the libssl
the server maps (exact: no chunk of ours untied; `tls_untied`
itself is host-wide, logged only). The server listens on 127.0.0.13 and the
client connects from 127.0.0.14: a kernel address filter (it matches the
peer) keeps other traffic on this host out of the exact counts."""

import functools
import http.client
import json
import os
import ssl
import time
import urllib.error
import urllib.request

import htlib
import tlslib
from htlib import expect, ensure, log

ADDR, CLIENT_ADDR = "127.0.0.13", "127.0.0.14"

SERVER = r'''
import http.server, json, ssl, sys
addr, port, cert, key, logpath = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
big = bytes(i % 256 for i in range(65536))

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body, head=False):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)
        with open(logpath, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "status": status,
                                "resp": 0 if head else len(body), "req": self.req_len,
                                "port": self.client_address[1]}) + "\n")

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.req_len = n
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self.body()
        if self.path == "/big":
            self.reply(200, big)
        elif self.path.startswith("/ok"):
            self.reply(200, b"ok\n")
        else:
            self.reply(404, b"not found\n")

    def do_HEAD(self):
        self.body()
        self.reply(200, b"ok\n", head=True)

    def do_POST(self):
        data = self.body()
        self.reply(200, b"got %d\n" % len(data))

    def log_message(self, *a):
        pass

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = http.server.HTTPServer((addr, port), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
'''


class FromClientAddr(urllib.request.HTTPSHandler):
    """urllib over HTTPS from CLIENT_ADDR (urlopen() has no source address)."""

    def https_open(self, req):
        conn = functools.partial(http.client.HTTPSConnection, source_address=(CLIENT_ADDR, 0))
        return self.do_open(conn, req, context=self._context)


def test(ctx):
    htlib.require_tools("openssl")
    cert, key = tlslib.make_cert(ctx)
    daemon = htlib.Daemon(ctx, ["--set", f"filter.include.addresses={ADDR}/32,{CLIENT_ADDR}/32"]).start()

    port = htlib.free_port()
    logpath = os.path.join(ctx.tmp, "access.jsonl")
    server = htlib.Proc(ctx, ["/usr/bin/python3", "-c", SERVER, ADDR, str(port), cert, key, logpath], "tls-python-server")
    htlib.wait_port(port, server.popen, what="python TLS server", host=ADDR)
    library = tlslib.libssl_of(server.pid)
    ensure(library, "fixture: the python server maps no libssl")

    sslctx = ssl.create_default_context()
    sslctx.check_hostname = False
    sslctx.verify_mode = ssl.CERT_NONE
    base = f"https://{ADDR}:{port}"
    opener = urllib.request.build_opener(FromClientAddr(context=sslctx))
    t0 = time.monotonic()
    plan = [("GET", "/ok?a=1", None), ("GET", "/missing", None), ("HEAD", "/ok", None),
            ("POST", "/post", bytes(i % 199 for i in range(20000))), ("GET", "/big", None)]
    for method, path, body in plan:
        r = urllib.request.Request(base + path, data=body, method=method)
        try:
            with opener.open(r, timeout=30) as resp:
                resp.read()
        except urllib.error.HTTPError as e:
            e.read()
            ensure(e.code == 404, f"fixture: {method} {path} gave {e.code}")
    elapsed_us = (time.monotonic() - t0) * 1e6

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open(logpath) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        if len(lines) >= len(plan):
            break
        time.sleep(0.05)
    ensure(len(lines) == len(plan), f"fixture: the server logged {len(lines)} requests, sent {len(plan)}")
    stats = daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    srv = sorted(htlib.entries_for_server(entries, port, "server"), key=htlib.entry_order)
    cli = [e for e in htlib.entries_for_server(entries, port, "client") if e.get("PROCESS_PID") == str(os.getpid())]
    log(f"server logged {len(lines)}; journal: {len(srv)} server, {len(cli)} client entries")
    expect(len(srv) == len(lines), f"server entries {len(srv)} != logged requests {len(lines)}")
    expect(len(cli) == len(lines), f"client entries of this process {len(cli)} != requests {len(lines)}")

    by_port = {str(l["port"]): l for l in lines}  # urllib: one connection per request
    for e in srv:
        l = by_port.get(e.get("CLIENT_PORT"))
        what = f"server entry {e.get('MESSAGE')}"
        if not expect(l is not None, f"{what}: no logged request from client port {e.get('CLIENT_PORT')}"):
            continue
        htlib.check_common_fields(e, port, what, (CLIENT_ADDR, ADDR))
        expect(e.get("HTTP_METHOD") == l["method"], f"{what}: HTTP_METHOD, server logged {l['method']}")
        expect(e.get("HTTP_TARGET") == l["path"], f"{what}: HTTP_TARGET, server logged {l['path']}")
        expect(e.get("HTTP_STATUS") == str(l["status"]), f"{what}: HTTP_STATUS, server logged {l['status']}")
        expect(e.get("HTTP_RESPONSE_BODY_BYTES") == str(l["resp"]),
               f"{what}: HTTP_RESPONSE_BODY_BYTES={e.get('HTTP_RESPONSE_BODY_BYTES')}, server sent {l['resp']}")
        expect(e.get("HTTP_REQUEST_BODY_BYTES", "0") == str(l["req"]),
               f"{what}: HTTP_REQUEST_BODY_BYTES={e.get('HTTP_REQUEST_BODY_BYTES')}, server read {l['req']}")
        expect(e.get("PROCESS_PID") == str(server.pid), f"{what}: PROCESS_PID={e.get('PROCESS_PID')}, server {server.pid}")
        htlib.expect_duration(what, e, high_us=elapsed_us, why_high="the whole client run")
    expect(sorted((e.get("HTTP_METHOD"), e.get("HTTP_TARGET"), e.get("HTTP_STATUS")) for e in cli) ==
           sorted((l["method"], l["path"], str(l["status"])) for l in lines),
           f"client entries {sorted((e.get('HTTP_METHOD'), e.get('HTTP_TARGET')) for e in cli)}")
    for e in entries:
        expect(e.get("HTTP_SCHEME") == "https", f"{e.get('MESSAGE')}: HTTP_SCHEME={e.get('HTTP_SCHEME')}")
        expect(e.get("TLS_LIBRARY") == library, f"{e.get('MESSAGE')}: TLS_LIBRARY={e.get('TLS_LIBRARY')}, not {library}")
    tlslib.log_untied(daemon)


if __name__ == "__main__":
    htlib.run(test)
