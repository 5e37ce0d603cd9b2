# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared by the TLS integration tests (test-tls-*.py): a self-signed
certificate made by the test, and the libssl file a process has mapped."""

import os

import htlib


def make_cert(ctx):
    """A self-signed certificate for CN=localhost in ctx.tmp: (cert, key).
    The key is world-readable: nginx workers (www-data) load it."""
    key = os.path.join(ctx.tmp, "tls-key.pem")
    cert = os.path.join(ctx.tmp, "tls-cert.pem")
    htlib.run_cmd(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                   "-out", cert, "-days", "2", "-subj", "/CN=localhost"])
    os.chmod(key, 0o644)
    return cert, key


def libssl_of(pid):
    """The libssl file process pid has mapped, as it names it, or None."""
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            path = line.rstrip("\n").partition("/")[2]
            if path and os.path.basename(path).startswith("libssl.so"):
                return "/" + path
    return None


def tls_connect(port, timeout=30):
    """A TLS client socket to 127.0.0.1:port that accepts the test's self-signed certificate."""
    import socket
    import ssl
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return c.wrap_socket(raw, server_hostname="localhost")


def get(s, port, target):
    """GET target on the keep-alive TLS socket s: (status, body). Content-Length framing only."""
    s.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        htlib.ensure(chunk, "server closed before a response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for l in lines[1:]:
        k, _, v = l.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        htlib.ensure(chunk, "server closed inside a response body")
        body += chunk
    return int(lines[0].split()[1]), body


# The rest of a python3 HTTPS server script (http.server over ssl) for the
# tests that need one in a process of its own: the script's head imports
# http.server and ssl (when it wants: test-tls-follow waits first) and sets
# port, cert and key. GET /ok... answers 200, anything else 404, keep-alive.
PY_SERVER_BODY = r'''
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        status = 200 if self.path.startswith("/ok") else 404
        body = b"hello\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = http.server.HTTPServer(("127.0.0.1", port), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
'''


def log_untied(daemon):
    """tls_untied is not a count of this test's traffic, so it is logged, never asserted: a chunk
    whose SSL* has no known socket has no address or port either, so it is counted in the kernel
    before any filter can look at it, for every process on the host using a traced TLS library
    (a daemon under a pid filter, with no TLS traffic of its own, saw 155 while other tests ran).
    A chunk of the test's own left untied is dropped, so its exchange's entry would be missing or
    wrong: the tests' exact entries are the check."""
    htlib.log(f"tls_untied={daemon.stat('tls_untied')} (host-wide, not asserted)")
