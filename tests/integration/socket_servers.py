#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Small HTTP/1.1 servers whose sockets are not "one process, one fd", for
the test-socket-*.py tests. Run as: socket_servers.py MODE PORT [ARGS].

  acceptor PORT       inetd / systemd Accept=yes: accept, fork, the child
                      dup2()s the socket to fds 0 and 1, closes it and execs
                      `socket_servers.py stdio`; the parent closes its copy
  stdio               the exec'ed service: requests on stdin (fd 0),
                      responses on stdout (fd 1), keep-alive until EOF
  forkbyte PORT       accept, fork; the child (which did not accept) reads
                      each request one byte per read() and writes each
                      response in one write(); the parent closes its copy
  forkmixin PORT      socketserver.ForkingMixIn + BaseHTTPRequestHandler
  bytewise PORT       one process: reads one byte per read(), a response
                      per request in one write() (for a connection accepted
                      before the tracer started)
  splice PORT         request bodies taken off the socket with splice()
                      into a pipe, response bodies put on it with splice()
                      from a pipe; heads with recv()/send()

Each response: 200, Content-Length, a body of the size asked for with
?n=N (default 5), "X-Served-By: <mode>". Every request served is logged
on stderr as "served METHOD TARGET BODYLEN".
"""

import os
import select
import socket
import sys

BODY_BYTE = b"b"


def log(method, target, n):
    os.write(2, f"served {method} {target} {n}\n".encode())


def body_size(target):
    if "n=" in target:
        return int(target.split("n=")[1].split("&")[0])
    return 5


def response(target, mode):
    n = body_size(target)
    head = (f"HTTP/1.1 200 OK\r\nContent-Length: {n}\r\nX-Served-By: {mode}\r\n\r\n").encode()
    return head, n


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    length = 0
    for l in lines[1:]:
        k, _, v = l.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    return method, target, length


def read1(fd):
    """One byte, waiting in poll() first (as an event loop does): no read() is blocked when a tracer starts."""
    select.select([fd], [], [])
    return os.read(fd, 1)


def read_head_bytewise(fd):
    """A request head, read one byte per read(); None at EOF."""
    buf = b""
    while not buf.endswith(b"\r\n\r\n"):
        b = read1(fd)
        if not b:
            return None
        buf += b
    return buf


def serve_bytewise(rfd, wfd, mode):
    while True:
        head = read_head_bytewise(rfd)
        if head is None:
            return
        method, target, length = parse_head(head)
        got = 0
        while got < length:
            b = read1(rfd)
            if not b:
                return
            got += 1
        h, n = response(target, mode)
        os.write(wfd, h + BODY_BYTE * n)
        log(method, target, n)


def serve_stdio():
    rf = os.fdopen(0, "rb", buffering=65536)
    while True:
        line = rf.readline()
        if not line:
            return
        head = line
        while not head.endswith(b"\r\n\r\n"):
            l = rf.readline()
            if not l:
                return
            head += l
        method, target, length = parse_head(head)
        if length:
            rf.read(length)
        h, n = response(target, "stdio")
        os.write(1, h + BODY_BYTE * n)
        log(method, target, n)


def listener(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    return s


def reap():
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def acceptor(port):
    s = listener(port)
    while True:
        c, _ = s.accept()
        reap()
        if os.fork() == 0:
            s.close()
            os.dup2(c.fileno(), 0)
            os.dup2(c.fileno(), 1)
            c.close()
            os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), "stdio"])
        c.close()


def forkbyte(port):
    s = listener(port)
    while True:
        c, _ = s.accept()
        reap()
        if os.fork() == 0:
            s.close()
            serve_bytewise(c.fileno(), c.fileno(), "forkbyte")
            c.close()
            os._exit(0)
        c.close()


def forkmixin(port):
    import http.server
    import socketserver

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            h, n = response(self.path, "forkmixin")
            self.wfile.write(h + BODY_BYTE * n)
            log("GET", self.path, n)

        def log_message(self, *a):
            pass

    class Server(socketserver.ForkingMixIn, http.server.HTTPServer):
        allow_reuse_address = True

    Server(("127.0.0.1", port), Handler).serve_forever()


def bytewise(port):
    s = listener(port)
    while True:
        c, _ = s.accept()
        serve_bytewise(c.fileno(), c.fileno(), "bytewise")
        c.close()


def splice_server(port):
    s = listener(port)
    while True:
        c, _ = s.accept()
        fd = c.fileno()
        rbuf = b""
        while True:
            while b"\r\n\r\n" not in rbuf:
                # Heads only: peek so that no body byte is taken with recv().
                b = c.recv(65536, socket.MSG_PEEK)
                if not b:
                    break
                i = b.find(b"\r\n\r\n")
                take = len(b) if i < 0 else i + 4
                rbuf += c.recv(take)
            if b"\r\n\r\n" not in rbuf:
                break
            head, rbuf = rbuf.split(b"\r\n\r\n", 1)
            method, target, length = parse_head(head + b"\r\n\r\n")
            r, w = os.pipe()
            left = length
            while left > 0:
                k = os.splice(fd, w, left)
                if k <= 0:
                    break
                left -= k
                os.read(r, k)
            os.close(r)
            os.close(w)
            h, n = response(target, "splice")
            c.sendall(h)
            r, w = os.pipe()
            left = n
            while left > 0:
                chunk = min(left, 32768)
                os.write(w, BODY_BYTE * chunk)
                while chunk > 0:
                    k = os.splice(r, fd, chunk)
                    chunk -= k
                    left -= k
            os.close(r)
            os.close(w)
            log(method, target, n)
        c.close()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "stdio":
        serve_stdio()
    else:
        {"acceptor": acceptor, "forkbyte": forkbyte, "forkmixin": forkmixin, "bytewise": bytewise,
         "splice": splice_server}[mode](int(sys.argv[2]))
