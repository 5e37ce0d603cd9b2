#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Writes the seed corpus of fuzz-http1 (see the script format at the top of
# fuzz-http1.c). Run from this directory: ./make-http1-corpus.py
import os

IN, OUT = 0, 1
SERVER, CLIENT, UNKNOWN = 1, 2, 0
SEEN = 4


def header(role, limits=0, seen=True):
    return bytes([role | (SEEN if seen else 0) | (limits << 3)])


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


seeds = {
    'keep-alive': header(SERVER) + data(IN, b'GET / HTTP/1.1\r\nHost: a\r\n\r\n') +
        data(OUT, b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello') +
        data(IN, b'GET /2 HTTP/1.1\r\n\r\n') + data(OUT, b'HTTP/1.1 304 Not Modified\r\n\r\n'),
    'pipelined': header(SERVER) +
        data(IN, b'GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\nPOST /3 HTTP/1.1\r\nContent-Length: 2\r\n\r\nxy') +
        data(OUT, b'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n'
                  b'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'),
    'chunked': header(CLIENT) + data(OUT, b'GET /c HTTP/1.1\r\n\r\n') +
        data(IN, b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n') +
        data(IN, b'1a\r\n' + bytes(range(26)) + b'\r\n0\r\nTrailer: x\r\n\r\n', seg=False),
    'chunked-bytewise': header(SERVER) + data(IN, b'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
                                              bytewise=True) +
        data(OUT, b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', bytewise=True),
    'close-delimited': header(CLIENT) + data(OUT, b'GET / HTTP/1.0\r\n\r\n') +
        data(IN, b'HTTP/1.0 200 OK\r\nServer: x\r\n\r\n<html>') + gap(IN, 70) + data(IN, b'</html>', seg=False),
    'continue': header(SERVER) + data(IN, b'PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n') +
        data(OUT, b'HTTP/1.1 100 Continue\r\n\r\n') + data(IN, b'data') + data(OUT, b'HTTP/1.1 204 No Content\r\n\r\n'),
    'upgrade': header(SERVER) + data(IN, b'GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n') +
        data(OUT, b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n') +
        data(IN, b'\x81\x85\x01\x02\x03\x04hello') + data(OUT, b'\x81\x02hi'),
    'connect': header(CLIENT) + data(OUT, b'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n\x16\x03\x01') +
        data(IN, b'HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00'),
    'sendfile-gap': header(SERVER) + data(IN, b'GET /f HTTP/1.1\r\n\r\n') +
        data(OUT, b'HTTP/1.1 200 OK\r\nContent-Length: 700\r\n\r\n') + gap(OUT, 700) +
        data(IN, b'GET /g HTTP/1.1\r\n\r\n') + data(OUT, b'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'),
    'desync-resync': header(SERVER) + data(IN, b'GET /a HTTP/1.1\r\nHo') + gap(IN, 14) +
        data(IN, b'st: x\r\n\r\n', seg=False) + data(IN, b'GET /b HTTP/1.1\r\n\r\n') +
        data(OUT, b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nab') + gap(OUT, 35) +
        data(OUT, b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
    'malformed': header(SERVER) + data(IN, b'GET  / HTTP/1.1\r\nBad Header: 1\r\n\r\n') +
        data(IN, b'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n') +
        data(OUT, b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n'),
    'head-overflow': header(SERVER, limits=1) +
        data(IN, b'GET /long HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nX-Pad: ' + b'p' * 300 +
             b'\r\nContent-Length: 3\r\n\r\nabcGET /n HTTP/1.1\r\n\r\n') +
        data(OUT, b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
    'memory-tight': header(SERVER, limits=6) + data(IN, b'GET /m HTTP/1.1\r\nHost: h\r\n\r\n' * 4) +
        data(OUT, b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' * 4),
    'role-unknown': header(UNKNOWN, seen=False) + data(IN, b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n') +
        data(OUT, b'GET / HTTP/1.1\r\n\r\n') + data(IN, b'HTTP/1.1 200 OK\r\n\r\n'),
    'bare-lf-obs-fold': header(SERVER) + data(IN, b'GET / HTTP/1.1\nX: a\n  b\nHost: h\n\n') +
        data(OUT, b'HTTP/1.0 200 OK\nConnection: keep-alive\nContent-Length: 2\n\nok'),
    'pipeline-full': header(SERVER, limits=7) + data(IN, b'GET / HTTP/1.1\r\n\r\n' * 6) +
        data(OUT, b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
    'early-response': header(SERVER) + data(IN, b'POST /big HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345') +
        data(OUT, b'HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n') + data(IN, b'67890'),
    # issue 15 #5: past pipeline_max requests are counted in runs (HEAD apart) and still paired
    'pipeline-overflow': header(SERVER, limits=7) +
        data(IN, b'GET / HTTP/1.1\r\n\r\n' * 4 + b'HEAD /h HTTP/1.1\r\n\r\n' + b'GET /g HTTP/1.1\r\n\r\n' * 3) +
        data(OUT, b'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx' * 4 + b'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n' +
             b'HTTP/1.1 204 No Content\r\n\r\n' * 3),
    # issue 15 #4: a start line cut by the capture cap still names its request; a response head cut likewise
    'start-line-cut': header(SERVER) + data(IN, b'GET /' + b'a' * 600) + gap(IN, 700) +
        data(IN, b'GET /n HTTP/1.1\r\n\r\n') + data(OUT, b'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n' * 2),
    'start-line-cut-small': header(SERVER, limits=1) + data(IN, b'POST /' + b'q' * 400) + gap(IN, 70) +
        data(OUT, b'HTTP/1.1 414 URI Too Long\r\nContent-Length: 0\r\n\r\n'),
    'response-head-cut': header(CLIENT) + data(OUT, b'GET /big HTTP/1.1\r\n\r\n') +
        data(IN, b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Big: ' + b'b' * 400) + gap(IN, 140) +
        data(OUT, b'GET /n HTTP/1.1\r\n\r\n') + data(IN, b'HTTP/1.1 204 No Content\r\n\r\n'),
    # a request line the parser rejects keeps its place: its answer, then the next request's
    'rejected-request': header(SERVER) + data(IN, b'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n') +
        data(IN, b'HEAD /v HTTP/9.x\r\n\r\n') + data(IN, b'GET /ok HTTP/1.1\r\n\r\n') +
        data(OUT, b'HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad'
                  b'HTTP/1.1 505 Version Not Supported\r\nContent-Length: 0\r\n\r\n'
                  b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
    'rejected-request-client': header(CLIENT, limits=2) + data(OUT, b'\x01GET / HTTP/1.1\r\n\r\n') +
        data(OUT, b'GET /x\x00 HTTP/1.1\r\n\r\n') + data(IN, b'HTTP/1.1 400 Bad Request\r\n\r\n'),
}

os.makedirs('corpus/http1', exist_ok=True)
for name, blob in seeds.items():
    with open(os.path.join('corpus/http1', name), 'wb') as f:
        f.write(blob)
