# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared by the HTTP/2 integration tests (test-http2-*.py, test-grpc*.py):
a minimal HTTP/2 client that writes exactly the frames a test asks for, in
the writes it asks for (HPACK literals only: no dynamic table, so every
header block decodes the same whenever a tracer joins)."""

import os
import socket
import struct
import subprocess

import htlib

GRPC_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grpc-server.py")


def expect_same(what, got, want):
    """One check that the journal's tuples (got) are the server log's (want), as sorted lists;
    the message names what only one side has."""
    return htlib.expect(got == want, f"{what}: journal differs from the server's log ({len(got)} vs {len(want)}):\n"
                                     f"  only journal: {sorted(set(got) - set(want))[:10]}\n"
                                     f"  only the server's log: {sorted(set(want) - set(got))[:10]}")


def grpc_server(ctx):
    """grpc-server.py's server on a free port (skips without python3-grpcio): (Proc, port, its call log)."""
    r = htlib.run_cmd(["/usr/bin/python3", "-c", "import grpc"], check=False)
    if r.returncode != 0:
        htlib.skip("python3-grpcio is not installed (scripts/install-deps installs it)")
    port = htlib.free_port()
    log_path = os.path.join(ctx.tmp, "grpc-calls.log")
    srv = htlib.Proc(ctx, ["/usr/bin/python3", GRPC_SCRIPT, str(port), log_path], "grpc-server")
    htlib.wait_port(port, srv.popen, what="grpc server")
    return srv, port, log_path


def grpc_client(ctx, mode, port, calls):
    """grpc-server.py's client in mode client-wait or client-later, started and waiting for a
    line on stdin (send one with .communicate()) once it printed "ready"."""
    cli = subprocess.Popen(["/usr/bin/python3", GRPC_SCRIPT, mode, str(port)] + calls,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
    ctx.cleanup.callback(cli.kill)
    htlib.ensure(cli.stdout.readline().strip() == b"ready", f"fixture: the gRPC client ({mode}) did not get ready")
    return cli

class Held:
    """A client command started before the daemon and held until run(): its pid, known in advance,
    goes into the daemon's kernel filter (filter.include.pids), so that other traffic on the host
    can neither add to nor crowd out a test's exact counts. `sh` waits for a line on stdin, then
    execs the command in the same process (same pid)."""

    def __init__(self, ctx, argv):
        self.argv = list(argv)
        self.proc = subprocess.Popen(["/bin/sh", "-c", 'read go && exec "$@"', "sh"] + self.argv,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        ctx.cleanup.callback(self.proc.kill)
        self.pid = self.proc.pid

    def run(self, timeout=60):
        """Let it go; its stdout once it exited 0."""
        out, err = self.proc.communicate(b"go\n", timeout=timeout)
        if self.proc.returncode != 0:
            raise htlib.Failure(f"{' '.join(self.argv)} exited {self.proc.returncode}: "
                                f"{err.decode('utf-8', 'replace').strip()[-2000:]}")
        return out


def pid_filter(*pids):
    """The daemon's arguments limiting it, in the kernel, to these processes."""
    return ["--set", "filter.include.pids=" + ",".join(str(p) for p in pids)]


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
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
    return hpack_int(0, 4, name_index) + hpack_int(0, 7, len(value)) + value


def get_block(path, authority, fields=()):
    """:method GET, :scheme http (static), :path and :authority as literals, then (name, value) fields."""
    return b"\x82\x86" + _literal(4, path) + _literal(1, authority) + b"".join(literal(n, v) for n, v in fields)


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
            if not chunk:
                raise ConnectionError("h2 client: the server closed the connection")
            self.buf += chunk

    def response(self, stream, tolerate_end=False):
        """Reads frames until stream's END_STREAM (acknowledging SETTINGS): the first byte of its
        response header block. With tolerate_end, an RST_STREAM, a GOAWAY or the connection's
        close also end it (None)."""
        status = None
        while True:
            try:
                ftype, flags, sid, payload = self._frame()
            except OSError:
                if tolerate_end:
                    return None
                raise
            if ftype == SETTINGS and not flags & ACK:
                self.sock.sendall(frame(SETTINGS, ACK, 0))
            if ftype == GOAWAY or (ftype == RST_STREAM and sid == stream):
                if tolerate_end:
                    return None
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


def hpack_int(first, prefix_bits, value):
    """An HPACK integer (RFC 7541 §5.1): first holds the pattern bits above the prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    return bytes(out + [value])


def literal(name, value):
    """A field as a literal without indexing, new name (RFC 7541 §6.2.2)."""
    name, value = name.encode(), value.encode()
    return b"\x00" + hpack_int(0, 7, len(name)) + name + hpack_int(0, 7, len(value)) + value


def header_frames(stream, block, continuations=None, max_frame=16384):
    """HEADERS (END_STREAM) + CONTINUATION frames carrying block: split at max_frame, or into
    1 + continuations frames when given (END_HEADERS on the last)."""
    if continuations is None:
        parts = [block[i:i + max_frame] for i in range(0, len(block), max_frame)] or [b""]
    else:
        step = -(-len(block) // (continuations + 1))
        parts = [block[i * step:(i + 1) * step] for i in range(continuations + 1)]
    out = b""
    for i, part in enumerate(parts):
        last = END_HEADERS if i == len(parts) - 1 else 0
        if i == 0:
            out += frame(HEADERS, END_STREAM | last, stream, part)
        else:
            out += frame(CONTINUATION, last, stream, part)
    return out
