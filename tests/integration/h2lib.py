# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared by the HTTP/2 integration tests (test-http2-*.py, test-grpc*.py):
a minimal HTTP/2 client that writes exactly the frames a test asks for, in
the writes it asks for (HPACK literals only: no dynamic table, so every
header block decodes the same whenever a tracer joins)."""

import socket
import struct

import htlib

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE = range(9)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def window_update(stream=0, increment=65535):
    return frame(WINDOW_UPDATE, 0, stream, struct.pack(">I", increment))


def ping(data=b"h2join!!", ack=False):
    return frame(PING, ACK if ack else 0, 0, data)


def priority(stream, weight=15):
    return frame(PRIORITY, 0, stream, struct.pack(">IB", 0, weight))


def _literal(name_index, value):
    """HPACK literal without indexing, indexed name (RFC 7541 §6.2.2): never enters a table."""
    value = value.encode()
    assert name_index < 15 and len(value) < 127
    return bytes([name_index, len(value)]) + value


def get_block(path, authority):
    """:method GET, :scheme http (static), :path and :authority as literals."""
    return b"\x82\x86" + _literal(4, path) + _literal(1, authority)


def headers(stream, block, end_stream=True):
    return frame(HEADERS, END_HEADERS | (END_STREAM if end_stream else 0), stream, block)


class Client:
    """A prior-knowledge h2c connection from address src to (host, port)."""

    def __init__(self, host, port, src="127.0.0.1", timeout=30):
        self.authority = f"{host}:{port}"
        self.sock = socket.create_connection((host, port), timeout=timeout, source_address=(src, 0))
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
        self.buf = b""

    def _frame(self):
        while True:
            if len(self.buf) >= 9:
                n = int.from_bytes(self.buf[:3], "big")
                if len(self.buf) >= 9 + n:
                    f = self.buf[:9 + n]
                    self.buf = self.buf[9 + n:]
                    return f[3], f[4], int.from_bytes(f[5:9], "big") & 0x7fffffff, f[9:]
            chunk = self.sock.recv(65536)
            htlib.ensure(chunk, "h2 client: the server closed the connection")
            self.buf += chunk

    def response(self, stream):
        """Reads frames until stream's END_STREAM (acknowledging SETTINGS): (status byte, frames seen)."""
        status = None
        while True:
            ftype, flags, sid, payload = self._frame()
            if ftype == SETTINGS and not flags & ACK:
                self.sock.sendall(frame(SETTINGS, ACK, 0))
            if ftype == GOAWAY or (ftype == RST_STREAM and sid == stream):
                raise htlib.Failure(f"h2 client: stream {stream} ended by frame type {ftype}")
            if sid == stream and ftype == HEADERS and status is None:
                status = payload[0]
            if sid == stream and ftype in (HEADERS, DATA) and flags & END_STREAM:
                return status

    def get(self, stream, path, before=b""):
        """GET path on stream, its HEADERS in one write after the frames `before`; the response's first
        header byte (0x88 is :status 200 from the static table)."""
        self.sock.sendall(before + headers(stream, get_block(path, self.authority)))
        return self.response(stream)

    def close(self):
        self.sock.close()
