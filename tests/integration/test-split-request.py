#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A request's bytes may come in any number of syscalls ("the parser decides
what a message is from the bytes, not from which syscall carried them"):
requests whose first write is 1, 2, 3, 4 or 8 bytes long (then the rest),
and one written a byte at a time, each on a new connection to nginx, get one
complete server-role and one complete client-role entry like any other."""

import time

import htlib
from htlib import expect, ensure, log

SPLITS = (1, 2, 3, 4, 8)


def test(ctx):
    htlib.require_tools("nginx")
    nginx = htlib.Nginx(ctx)
    host = f"127.0.0.1:{nginx.port}"
    daemon = htlib.Daemon(ctx).start()
    for split in SPLITS:
        with htlib.connect(nginx.port) as c:
            r = f"GET /index.html?split={split} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
            c.sendall(r[:split])
            time.sleep(0.02)  # nginx reads the first piece on its own
            c.sendall(r[split:])
            htlib.read_response(c)
    with htlib.connect(nginx.port) as c:
        r = f"GET /index.html?dribble=1 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        for i in range(len(r)):
            c.sendall(r[i:i + 1])
            time.sleep(0.001)
        htlib.read_response(c)
    n = len(SPLITS) + 1
    log_lines = htlib.wait_log_lines(nginx, n)
    ensure(len(log_lines) == n, f"fixture: nginx logged {len(log_lines)}, sent {n}")
    daemon.stop()

    entries = htlib.journal_wait(daemon.pid, f"SERVER_PORT={nginx.port}", expected=2 * n)
    for role in ("server", "client"):
        got = sorted(e.get("HTTP_TARGET", f"<no request: {e.get('MESSAGE')}>")
                     for e in htlib.entries_for_server(entries, nginx.port, role))
        want = sorted(l["uri"] for l in log_lines)
        missing = sorted(set(want) - set(got))
        expect(got == want, f"{role}-role entries {got}\n  expected {want}\n  missing {missing}")
    server = htlib.entries_for_server(entries, nginx.port, "server")
    htlib.check_nginx_pairs(log_lines, [e for e in server if "HTTP_TARGET" in e], nginx.port, 0.005)


if __name__ == "__main__":
    htlib.run(test)
