#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A socket driven through io_uring (issue #15 item 3): its bytes pass no
traced syscall, so it gives no entry; it is detected and counted instead
(io_uring_sockets, once per socket), as docs/sockets.md says. The client
(uring-client, liburing) sends and receives through IORING_OP_SEND/RECV on
a connection to socket_servers.py forkmixin, whose own
reads and writes are plain syscalls: the server-role entries are complete,
the client side is counted, not traced."""

import os
import subprocess
import sys

import htlib
from htlib import expect, ensure, log

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "socket_servers.py")


def test(ctx):
    client = os.environ.get("HT_URING_CLIENT", "")
    if not client or not os.access(client, os.X_OK):
        htlib.skip("uring-client not built (liburing-dev missing)")
    port = htlib.free_port()
    proc = htlib.Proc(ctx, [sys.executable, SERVERS, "forkmixin", str(port)], "server-forkmixin")
    htlib.wait_port(port, proc.popen, what="forkmixin server")
    daemon = htlib.Daemon(ctx).start()
    r = subprocess.run([client, str(port), "3"], capture_output=True, text=True, timeout=30)
    ensure(r.returncode == 0 and "done 3" in r.stdout, f"fixture: uring-client: {r.returncode} {r.stderr}")
    for _ in range(300):
        if proc.stderr_text().count("served ") >= 3:
            break
        htlib.time.sleep(0.1)
    daemon.stop()
    n = daemon.stat("io_uring_sockets")
    log(f"io_uring_sockets={n}")
    expect(n == 1, f"io_uring_sockets={n}, want 1 (the client's socket, counted once)")
    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    server = [e for e in entries if e.get("HTTP_ROLE") == "server" and e.get("HTTP_STATUS") == "200"]
    client_e = [e for e in entries if e.get("HTTP_ROLE") == "client"]
    expect(len(server) == 3, f"server-role entries: {[e.get('MESSAGE') for e in server]}")
    expect(not client_e, f"client-role entries for an io_uring client: {[e.get('MESSAGE') for e in client_e]}")


if __name__ == "__main__":
    htlib.run(test)
