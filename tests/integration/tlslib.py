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
