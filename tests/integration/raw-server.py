#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A raw-socket HTTP/1.1 server whose misbehaviour the tests choose.

    raw-server.py PORT [greet STATUS]

Listens on 127.0.0.1:PORT, one thread per connection. What it does depends
on the first request's target (its first path segment); the tests use it
to provoke the entries that well-behaved servers never cause:

  /silent...    never answers; reads until the client closes, then closes
  /close...     reads one request head, closes without answering
  /ok...        answers every request head with 200 and a 2-byte body
  /upgrade...   answers the first request with 101 Switching Protocols
                (websocket), then never speaks HTTP again; reads until EOF
  /desync...    answers the first request with a valid 200, directly
                followed by bytes that are not HTTP (GARBAGE-LINE...)
  /status-NNN...  answers each request head with status NNN
  /chunked...   answers each request head with a chunked 200 whose one
                chunk is ?size=N bytes (default 4096), in one write
  /eat...       reads one head plus Content-Length body, answers 200 with a
                body of the size given as ?size=N (default 2)

With "greet STATUS" it reads nothing: every connection gets a response
with that status at once, before any request (uncorrelated), and is closed.

It prints "read TARGET" on stdout when it has read a request head (the
first of a connection), so a test can wait until the server really read
a request before it stops the daemon.
"""

import re
import socket
import sys
import threading

PRINT_LOCK = threading.Lock()


def read_head(conn, buf):
    while b"\r\n\r\n" not in buf:
        b = conn.recv(65536)
        if not b:
            return None, buf
        buf += b
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def drain(conn):
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def respond(conn, status, body=b"ok", extra=b""):
    conn.sendall(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n%s\r\n" % (status, len(body), extra) + body)


def handle(conn, greet):
    try:
        if greet:
            respond(conn, greet, b"hi")
            # wait for the client's close: ours first would leave the
            # client a reset instead of the response
            drain(conn)
            return
        buf = b""
        head, buf = read_head(conn, buf)
        if head is None:
            return
        target = head.split(b"\r\n")[0].split(b" ")[1].decode("latin-1")
        with PRINT_LOCK:
            print(f"read {target}", flush=True)
        if target.startswith("/silent"):
            drain(conn)
        elif target.startswith("/close"):
            return
        elif target.startswith("/upgrade"):
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\n\r\n")
            drain(conn)
        elif target.startswith("/desync"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                         b"GARBAGE-LINE that is no status line\r\n\r\n")
            drain(conn)
        elif target.startswith("/status-"):
            while head is not None:
                t = head.split(b"\r\n")[0].split(b" ")[1].decode("latin-1")
                respond(conn, int(t[len("/status-"):][:3]))
                head, buf = read_head(conn, buf)
        elif target.startswith("/chunked"):
            while head is not None:
                t = head.split(b"\r\n")[0].split(b" ")[1].decode("latin-1")
                sm = re.search(r"size=(\d+)", t)
                n = int(sm.group(1)) if sm else 4096
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             + b"%x\r\n" % n + b"c" * n + b"\r\n0\r\n\r\n")
                head, buf = read_head(conn, buf)
        elif target.startswith("/eat"):
            while head is not None:
                t = head.split(b"\r\n")[0].split(b" ")[1].decode("latin-1")
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                need = int(m.group(1)) if m else 0
                while len(buf) < need:
                    b = conn.recv(65536)
                    if not b:
                        return
                    buf += b
                buf = buf[need:]
                sm = re.search(r"size=(\d+)", t)
                respond(conn, 200, b"x" * (int(sm.group(1)) if sm else 2))
                head, buf = read_head(conn, buf)
        else:  # /ok and anything else
            while head is not None:
                respond(conn, 200)
                head, buf = read_head(conn, buf)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    port = int(sys.argv[1])
    greet = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "greet" else 0
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=handle, args=(conn, greet), daemon=True).start()


if __name__ == "__main__":
    main()
