#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Writes the seed corpus of fuzz-http2 (see the script format at the top of
# fuzz-http2.c). Run from this directory:
#
#   ./make-http2-corpus.py           hand-made seeds only
#   ./make-http2-corpus.py --record  also record real traffic: nginx serving
#                                    h2c (prior knowledge) to curl, h2load and
#                                    nghttp through a recording proxy; each
#                                    recv() of the proxy is one segment
#
# The recorded seeds are committed; --record needs nginx (with http_v2),
# curl, h2load and nghttp (Debian: nginx-light, curl, nghttp2-client).
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

C2S, S2C = 0, 1
PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
DATA, HEADERS, PRIORITY, RST, SETTINGS, PUSH, PING, GOAWAY, WU, CONT = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 1, 1, 4, 8, 0x20


def header(client_synced=True, server_synced=True, limits=0):
    return bytes([(1 if client_synced else 0) | (2 if server_synced else 0) | limits << 2])


def data(d, b, seg=True, bytewise=False):
    out = b''
    first = True
    while b or first:
        piece, b = b[:255], b[255:]
        kind = 3 if bytewise else (0 if (seg and first) else 1)
        out += bytes([d | kind << 1, len(piece)]) + piece
        first = False
    return out


def gap(d, n):
    return bytes([d | 2 << 1, n // 7])


def frame(t, flags, sid, payload=b''):
    n = len(payload)
    return bytes([n >> 16 & 255, n >> 8 & 255, n & 255, t, flags]) + struct.pack('>I', sid) + payload


def settings(**kv):
    ids = {'table': 1, 'push': 2, 'streams': 3, 'window': 4, 'frame': 5, 'list': 6}
    return frame(SETTINGS, 0, 0, b''.join(struct.pack('>HI', ids[k], v) for k, v in kv.items()))


# HPACK blocks from RFC 7541 C.3 (requests) and C.5 (responses)
REQ1 = bytes.fromhex('828684410f7777772e6578616d706c652e636f6d')
REQ2 = bytes.fromhex('828684be58086e6f2d6361636865')
RESP1 = bytes.fromhex('4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54'
                      '6e1768747470733a2f2f7777772e6578616d706c652e636f6d')
RESP2 = bytes.fromhex('4803333037c1c0bf')

hand = {
    'exchange': header() +
        data(C2S, PREFACE + settings(table=4096, frame=32768) + frame(HEADERS, END_HEADERS | END_STREAM, 1, REQ1)) +
        data(S2C, settings(streams=100) + frame(SETTINGS, ACK, 0) +
             frame(HEADERS, END_HEADERS, 1, RESP1) + frame(DATA, END_STREAM, 1, b'hello')) +
        data(C2S, frame(SETTINGS, ACK, 0) + frame(HEADERS, END_HEADERS | END_STREAM, 3, REQ2)) +
        data(S2C, frame(HEADERS, END_HEADERS | END_STREAM, 3, RESP2)),
    'continuation-padding': header() +
        data(C2S, PREFACE + frame(HEADERS, PADDED | PRIO | END_STREAM, 1, b'\x03' + b'\x80\0\0\0\x10' + REQ1[:5] + b'\0\0\0') +
             frame(CONT, 0, 1, REQ1[5:9]) + frame(CONT, END_HEADERS, 1, REQ1[9:])) +
        data(S2C, frame(HEADERS, END_HEADERS | PADDED, 1, b'\x02' + RESP1 + b'\0\0') +
             frame(DATA, PADDED, 1, b'\x04abc\0\0\0\0') + frame(HEADERS, END_HEADERS | END_STREAM, 1, b'\x88')),
    'control-frames': header() +
        data(C2S, PREFACE + frame(PRIORITY, 0, 3, b'\0\0\0\x01\x10') + frame(PING, 0, 0, b'12345678') +
             frame(WU, 0, 0, b'\0\x01\0\0') + frame(RST, 0, 1, b'\0\0\0\x08') + frame(0xee, 0xff, 7, b'unknown')) +
        data(S2C, frame(PING, ACK, 0, b'12345678') + frame(PUSH, END_HEADERS, 1, b'\0\0\0\x02' + REQ1) +
             frame(GOAWAY, 0, 0, b'\0\0\0\x01\0\0\0\x02' + b'debug data ' * 10)),
    'continuation-flood': header() +
        data(C2S, PREFACE + frame(HEADERS, 0, 1, REQ1[:3]) + frame(CONT, 0, 1) * 40 + frame(CONT, END_HEADERS, 1, REQ1[3:])),
    'bad-padding-and-size': header() +
        data(S2C, frame(DATA, PADDED, 1, b'\x09abc') + frame(DATA, 0, 1, b'x' * 20)) +
        data(S2C, frame(DATA, 0, 1, b'y' * 3)) +
        data(C2S, PREFACE + b'\0\x50\0' + bytes([DATA, 0, 0, 0, 0, 1]) + b'z' * 200),
    'gaps': header() +
        data(C2S, PREFACE + frame(HEADERS, END_HEADERS, 1, REQ1)[:12]) + gap(C2S, 7) +
        data(C2S, frame(HEADERS, END_HEADERS, 1, REQ1)[19:], seg=False) +
        data(S2C, frame(DATA, 0, 1, b'd' * 100)[:30]) + gap(S2C, 49) + data(S2C, b'd' * 30, seg=False) +
        gap(S2C, 70) + data(S2C, b'garbage, no frame') + data(S2C, frame(HEADERS, END_HEADERS, 1, RESP2)),
    'joined-midstream': header(False, False) +
        data(C2S, b'\x01\x02 middle of a frame') + data(C2S, frame(HEADERS, END_HEADERS, 5, REQ2)) +
        data(S2C, frame(DATA, 0, 1, b'x' * 50)[20:]) + data(S2C, frame(HEADERS, END_HEADERS, 5, RESP1)),
    'bytewise-tiny-limits': header(limits=1) +
        data(C2S, PREFACE + frame(HEADERS, END_HEADERS, 1, REQ1), bytewise=True) +
        data(S2C, frame(HEADERS, 0, 1, RESP1[:10]) + frame(CONT, END_HEADERS, 1, RESP1[10:]), bytewise=True),
    'table-size-update': header(limits=2) +
        data(C2S, PREFACE + frame(HEADERS, END_HEADERS, 1, bytes.fromhex('3fe1ff03') + REQ1) +
             frame(HEADERS, END_HEADERS, 3, bytes.fromhex('3fe2ff03') + REQ1) + frame(HEADERS, END_HEADERS, 5, b'\xbe')),
}


# ---- recording real traffic ----

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Recorder:
    """A TCP proxy that keeps, per connection, every recv() with its direction."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.conns = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            u = socket.create_connection(('127.0.0.1', self.upstream))
            rec = []
            with self.lock:
                self.conns.append(rec)
            for src, dst, d in ((c, u, C2S), (u, c, S2C)):
                threading.Thread(target=self.pump, args=(src, dst, d, rec), daemon=True).start()

    def pump(self, src, dst, d, rec):
        while True:
            try:
                b = src.recv(65536)
            except OSError:
                b = b''
            if not b:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            with self.lock:
                rec.append((d, b))
            dst.sendall(b)

    def take(self):
        time.sleep(0.5)   # let the pumps finish: only a recording tool, not a test
        with self.lock:
            conns, self.conns = self.conns, []
        return conns


def record():
    tmp = tempfile.mkdtemp(prefix='h2corpus-')
    os.chmod(tmp, 0o755)
    port = free_port()
    root = os.path.join(tmp, 'www')
    os.mkdir(root)
    with open(os.path.join(root, 'index.html'), 'w') as f:
        f.write('<html>hello</html>\n')
    with open(os.path.join(root, 'big.txt'), 'w') as f:
        f.write('x' * 40000)
    conf = os.path.join(tmp, 'nginx.conf')
    with open(conf, 'w') as f:
        f.write(f'''worker_processes 1; daemon off; pid {tmp}/nginx.pid; error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{ access_log {tmp}/access.log; client_body_temp_path {tmp};
  server {{ listen 127.0.0.1:{port} http2; root {root}; location /post {{ return 200 "posted\\n"; }} }} }}
''')
    nginx = subprocess.Popen(['nginx', '-c', conf, '-p', tmp], stdout=subprocess.DEVNULL)
    out = {}
    try:
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.1', port)).close()
                break
            except OSError:
                time.sleep(0.05)
        rec = Recorder(port)
        base = f'http://127.0.0.1:{rec.port}'
        runs = {
            # one URL per curl: curl 7.88.1 (Debian 12) fails a second request on a
            # reused h2c prior-knowledge connection (exit 16; curl/curl#10634)
            'nginx-curl': ['curl', '-s', '-o', '/dev/null', '--http2-prior-knowledge', base + '/'],
            'nginx-curl-404': ['curl', '-s', '-o', '/dev/null', '--http2-prior-knowledge', base + '/missing'],
            'nginx-curl-big': ['curl', '-s', '-o', '/dev/null', '--http2-prior-knowledge', base + '/big.txt'],
            'nginx-curl-post': ['curl', '-s', '-o', '/dev/null', '--http2-prior-knowledge', '-H', 'Cookie: a=b',
                                '--data-binary', 'x' * 3000, base + '/post'],
            'nginx-h2load': ['h2load', '-n', '20', '-c', '1', '-m', '10', base + '/index.html'],
            'nginx-nghttp': ['nghttp', '-n', base + '/', base + '/big.txt', base + '/missing'],
        }
        for name, cmd in runs.items():
            if not shutil.which(cmd[0]):
                print(f'skipping {name}: {cmd[0]} missing', file=sys.stderr)
                continue
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, timeout=60)
            for i, conn in enumerate(rec.take()):
                seed = header()
                for d, b in conn:
                    seed += data(d, b)
                out[f'{name}-{i}' if i else name] = seed
    finally:
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(tmp)
    return out


BUDGET_SEEDS = ('exchange', 'nginx-curl-post', 'nginx-h2load')


def main():
    os.makedirs('corpus/http2', exist_ok=True)
    seeds = dict(hand)
    if '--record' in sys.argv[1:]:
        seeds.update(record())
    for name, b in seeds.items():
        with open(os.path.join('corpus/http2', name), 'wb') as f:
            f.write(b)
        print(f'{name}: {len(b)} bytes')
    # fuzz-http2-protocol reads bits 5-7 of the first byte as a global memory
    # budget (its budgets[]; fuzz-http2 ignores them): these conversations
    # again under budgets of 600 bytes, 2 KiB and 8 KiB, which refuse parts of them
    for name in BUDGET_SEEDS:
        with open(os.path.join('corpus/http2', name), 'rb') as f:
            b = f.read()
        for k in (2, 3, 4):
            v = bytes([b[0] & 0x1f | k << 5]) + b[1:]
            with open(os.path.join('corpus/http2', f'{name}-budget{k}'), 'wb') as f:
                f.write(v)
            print(f'{name}-budget{k}: {len(v)} bytes')


if __name__ == '__main__':
    main()
