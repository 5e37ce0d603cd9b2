#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""splice() bodies (issue #15 item 3; HAProxy forwards bodies so): a server
(socket_servers.py splice) takes request bodies off the socket with
splice() into a pipe and puts response bodies on it with splice() from a
pipe, heads with recv()/send(). On one keep-alive connection: a POST with a
3000-byte body, a GET whose 70000-byte response body is spliced, then a
plain GET. Server-role entries: all three, complete, with the body sizes
the client sent and received (the spliced bytes are gaps of known length),
and no parse error or desync; client-role entries likewise."""

import os
import sys

import htlib
from htlib import expect, ensure, log

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "socket_servers.py")


def test(ctx):
    port = htlib.free_port()
    proc = htlib.Proc(ctx, [sys.executable, SERVERS, "splice", str(port)], "server-splice")
    htlib.wait_port(port, proc.popen, what="splice server")
    daemon = htlib.Daemon(ctx).start()

    want = {}
    with htlib.connect(port) as c:
        body = b"p" * 3000
        c.sendall(b"POST /up?n=7 HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n" + body)
        status, _, b, _ = htlib.read_response(c)
        ensure(status == 200 and len(b) == 7, f"fixture: POST: {status}, {len(b)} bytes")
        want["/up?n=7"] = ("POST", "3000", "7")
        for t, n in (("/big?n=70000", 70000), ("/after", 5)):
            c.sendall(f"GET {t} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status, _, b, _ = htlib.read_response(c)
            ensure(status == 200 and len(b) == n, f"fixture: GET {t}: {status}, {len(b)} bytes")
            want[t] = ("GET", None, str(n))
    for _ in range(300):
        if proc.stderr_text().count("served ") >= 3:
            break
        htlib.time.sleep(0.1)
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    for role in ("server", "client"):
        mine = [e for e in entries if e.get("HTTP_ROLE") == role]
        log(f"{role}: {[e.get('MESSAGE') for e in mine]}")
        got = {e.get("HTTP_TARGET"): e for e in mine if e.get("HTTP_STATUS") == "200"}
        expect(sorted(got) == sorted(want), f"{role}: complete entries for {sorted(got)}, want {sorted(want)}")
        for t, (method, req_body, resp_body) in want.items():
            e = got.get(t)
            if not e:
                continue
            expect(e.get("HTTP_METHOD") == method, f"{role} {t}: HTTP_METHOD={e.get('HTTP_METHOD')}")
            expect(e.get("HTTP_RESPONSE_BODY_BYTES") == resp_body,
                   f"{role} {t}: HTTP_RESPONSE_BODY_BYTES={e.get('HTTP_RESPONSE_BODY_BYTES')}, want {resp_body}")
            if req_body:
                expect(e.get("HTTP_REQUEST_BODY_BYTES") == req_body,
                       f"{role} {t}: HTTP_REQUEST_BODY_BYTES={e.get('HTTP_REQUEST_BODY_BYTES')}, want {req_body}")
        bad = [e.get("MESSAGE") for e in mine if e.get("HTTP_STATUS") != "200"]
        expect(not bad, f"{role}: entries other than the three exchanges (desync, parse error, split): {bad}")
    expect(daemon.stat("parse_errors") == 0 and daemon.stat("desyncs") == 0,
           f"parse_errors={daemon.stat('parse_errors')} desyncs={daemon.stat('desyncs')}")


if __name__ == "__main__":
    htlib.run(test)
