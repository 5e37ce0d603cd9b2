#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A socket reached through several fds or processes is one connection
(issue #15 item 1): every exchange gets one complete entry, none is split
into "no response" + "uncorrelated" halves.

  - inetd / systemd Accept=yes: the accepted socket dup2'ed to fds 0 and 1
    of an exec'ed service (socket_servers.py acceptor); keep-alive
  - a forked child that did not accept the connection serves it, reading
    one byte per read() (socket_servers.py forkbyte)
  - socketserver.ForkingMixIn (socket_servers.py forkmixin)
  - a bash client: exec 3<>/dev/tcp/...; printf ... >&3; cat <&3 (bash
    writes through fd 1 dup'ed from 3, cat reads fd 0 in another process)
  - fd reuse (issue #14's per-(task, fd) verdict cache): an fd number that
    was a pipe, used, then freed by close(), dup2() over it, close_range()
    or exec, becomes a TCP socket without accept()/connect() in that
    process (dup()); its HTTP is traced. The verdicts are kept per thread
    too: in the thread-* steps a second thread uses the pipe (so it has
    its own verdict on the number), the main thread frees the number by
    close() or dup2() and makes it the socket, and the second thread speaks
    HTTP on it."""

import os
import subprocess
import sys

import htlib
from htlib import expect, ensure, log

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "socket_servers.py")


def start_server(ctx, mode):
    port = htlib.free_port()
    proc = htlib.Proc(ctx, [sys.executable, SERVERS, mode, str(port)], f"server-{mode}")
    htlib.wait_port(port, proc.popen, what=mode)
    return port, proc


def keepalive(port, targets):
    with htlib.connect(port) as c:
        for t in targets:
            c.sendall(f"GET {t} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status, _, body, _ = htlib.read_response(c)
            ensure(status == 200, f"fixture: GET {t} returned {status}")


def served(proc, n):
    """The server's own log: (method, target) of each request it served."""
    for _ in range(600):
        lines = [l.split() for l in proc.stderr_text().splitlines() if l.startswith("served ")]
        if len(lines) >= n:
            return sorted((l[1], l[2]) for l in lines)
        htlib.time.sleep(0.1)
    raise htlib.Failure(f"fixture: {proc.name} served {len(lines)} of {n} requests: {proc.stderr_text()[-500:]}")


def check_server(entries, port, want, what):
    mine = [e for e in entries if e.get("SERVER_PORT") == str(port)]
    server = [e for e in mine if e.get("HTTP_ROLE") == "server"]
    got = sorted((e.get("HTTP_METHOD"), e.get("HTTP_TARGET")) for e in server if e.get("HTTP_STATUS") == "200")
    log(f"{what}: served {len(want)}, {len(server)} server entries, {len(got)} complete")
    expect(got == want, f"{what}: complete server entries {got}\n  != served {want}")
    halves = [e.get("MESSAGE") for e in server if not e.get("HTTP_STATUS") or not e.get("HTTP_METHOD")]
    expect(not halves, f"{what}: split or incomplete entries: {halves}")
    for e in server:
        if e.get("HTTP_STATUS") == "200":
            expect(e.get("HTTP_RESPONSE_BODY_BYTES") == "5",
                   f"{what}: {e.get('HTTP_TARGET')}: HTTP_RESPONSE_BODY_BYTES={e.get('HTTP_RESPONSE_BODY_BYTES')}")


BASH_CLIENT = r'''exec 3<>/dev/tcp/127.0.0.1/$1
printf 'GET /bash-devtcp HTTP/1.0\r\nHost: x\r\n\r\n' >&3
cat <&3 > "$2"
'''

# Each step: an fd that was a pipe (used, so its verdict is cached) becomes
# the socket by dup() (no accept/connect in this process), then one request.
FDREUSE = r'''
import os, socket, sys
port = int(sys.argv[1]); step = sys.argv[2]
def pipe_at_lowest():
    r, w = os.pipe()
    for _ in range(3):
        os.write(w, b"x" * 64); os.read(r, 64)
    return r, w
def get(fd, target):
    os.write(fd, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    out = b""
    while True:
        b = os.read(fd, 65536)
        if not b:
            break
        out += b
    assert out.startswith(b"HTTP/1.0 404"), out[:40]
if step == "after-exec":
    # After the exec: the pipe's fd number (close-on-exec) is free again.
    sfd, was = int(sys.argv[3]), int(sys.argv[4])
    fd = os.dup(sfd)
    assert fd == was, (fd, was)
    get(fd, "/reuse-exec")
    sys.exit(0)
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
sfd = os.dup(s.fileno())  # keep the socket at a high fd: move it out of the way
os.dup2(sfd, 40)
s.close(); os.close(sfd); sfd = 40
r, w = pipe_at_lowest()
if step == "close":
    os.close(r); fd = os.dup(sfd); assert fd == r, (fd, r)
elif step == "dup2":
    os.dup2(sfd, r); fd = r
elif step == "close_range":
    os.closerange(r, r + 1); fd = os.dup(sfd); assert fd == r, (fd, r)
elif step in ("thread-close", "thread-dup2"):
    import threading
    used, freed = threading.Event(), threading.Event()
    def worker():
        for _ in range(3):  # this thread's own verdict on r: a pipe
            os.write(w, b"x" * 64); os.read(r, 64)
        used.set(); freed.wait()
        get(r, "/reuse-" + step)
    t = threading.Thread(target=worker); t.start()
    used.wait()
    if step == "thread-close":
        os.close(r); fd = os.dup(sfd); assert fd == r, (fd, r)
    else:
        os.dup2(sfd, r)
    freed.set(); t.join()
    sys.exit(0)
elif step == "exec":
    os.set_inheritable(sfd, True)
    os.execv(sys.executable, [sys.executable, __file__, str(port), "after-exec", str(sfd), str(r)])
get(fd, "/reuse-" + step)
'''


REUSE_STEPS = ("close", "dup2", "close_range", "exec", "thread-close", "thread-dup2")


def test(ctx):
    htlib.require_tools("bash", "cat")
    a_port, a_proc = start_server(ctx, "acceptor")
    f_port, f_proc = start_server(ctx, "forkbyte")
    m_port, m_proc = start_server(ctx, "forkmixin")
    py = htlib.PythonHttpServer(ctx)
    daemon = htlib.Daemon(ctx).start()

    keepalive(a_port, ["/acc-1", "/acc-2", "/acc-3"])
    keepalive(a_port, ["/acc-4"])
    keepalive(f_port, ["/fork-1", "/fork-2", "/fork-3"])
    keepalive(m_port, ["/mixin-1", "/mixin-2"])

    script = os.path.join(ctx.tmp, "devtcp.sh")
    with open(script, "w") as f:
        f.write(BASH_CLIENT)
    out = os.path.join(ctx.tmp, "devtcp.out")
    bash = subprocess.run(["bash", script, str(py.port), out], timeout=30)
    ensure(bash.returncode == 0, f"fixture: bash /dev/tcp client exited {bash.returncode}")
    ensure(open(out, "rb").read().startswith(b"HTTP/1.0 404"), "fixture: bash got no 404 response")

    fdreuse = os.path.join(ctx.tmp, "fdreuse.py")
    with open(fdreuse, "w") as f:
        f.write(FDREUSE)
    for step in REUSE_STEPS:
        r = subprocess.run([sys.executable, fdreuse, str(py.port), step], timeout=30,
                           capture_output=True, text=True)
        ensure(r.returncode == 0, f"fixture: fd reuse step {step} failed: {r.stderr[-800:]}")

    want_a = served(a_proc, 4)
    want_f = served(f_proc, 3)
    want_m = served(m_proc, 2)
    htlib.wait_log_lines(py, 1 + len(REUSE_STEPS))
    daemon.stop()

    entries = htlib.journal_final(daemon)
    check_server(entries, a_port, want_a, "Accept=yes style (fds 0 and 1, exec)")
    check_server(entries, f_port, want_f, "forked child, one byte per read()")
    check_server(entries, m_port, want_m, "ForkingMixIn")

    client = [e for e in entries if e.get("SERVER_PORT") == str(py.port) and e.get("HTTP_ROLE") == "client"]
    bash_e = [e for e in client if e.get("HTTP_TARGET") == "/bash-devtcp"]
    log(f"bash /dev/tcp: {len(bash_e)} client entries: {[e.get('MESSAGE') for e in bash_e]}")
    expect(len(bash_e) == 1 and bash_e[0].get("HTTP_STATUS") == "404",
           f"bash /dev/tcp client: want one complete 404 entry, got {[e.get('MESSAGE') for e in bash_e]}")
    halves = [e.get("MESSAGE") for e in client if not e.get("HTTP_METHOD") or not e.get("HTTP_STATUS")]
    expect(not halves, f"split client entries on the http.server port: {halves}")
    for step in REUSE_STEPS:
        t = "/reuse-" + step
        got = [e for e in client if e.get("HTTP_TARGET") == t and e.get("HTTP_STATUS") == "404"]
        expect(len(got) == 1, f"fd reuse by {step}: {len(got)} complete client entries for {t}")


if __name__ == "__main__":
    htlib.run(test)
