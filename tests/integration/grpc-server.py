#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A gRPC server for test-grpc.py (Debian's python3-grpcio, raw bytes, no
generated stubs) on 127.0.0.1:argv[1]: /pkg.Echo/Unary echoes, or fails with
the status its request names ("status:NOT_FOUND"); /pkg.Echo/Stream answers
a request "n" with n messages. One JSON line per call to argv[2]: method
and the status code it ended with.

`grpc-server.py client PORT CALL...` is the client: each CALL is
unary:PAYLOAD or stream:N, made in order on one channel; prints one JSON
line per call with the status code the client got. `client-wait` makes
one call first, prints "ready" and waits for a line on stdin before the
others (a connection older than a tracer started in between);
`client-later` prints "ready" and waits for that line before it opens
its channel (its pid known before a tracer filtered to it starts)."""

import json
import sys
from concurrent import futures

import grpc



def client(port, calls, wait=False, later=False):
    if later:
        print("ready", flush=True)
        sys.stdin.readline()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        if wait:
            # one call opens the connection; the rest go on it after a line on stdin
            ch.unary_unary("/pkg.Echo/Unary")(b"warm-up", timeout=30)
            print("ready", flush=True)
            sys.stdin.readline()
        un = ch.unary_unary("/pkg.Echo/Unary")
        st = ch.unary_stream("/pkg.Echo/Stream")
        for call in calls:
            kind, _, arg = call.partition(":")
            try:
                if kind == "unary":
                    un(arg.encode(), timeout=30)
                else:
                    n = sum(1 for _ in st(arg.encode(), timeout=30))
                    assert n == int(arg), f"stream gave {n} messages"
                code = 0
            except grpc.RpcError as e:
                code = e.code().value[0]
            print(json.dumps({"call": call, "code": code}), flush=True)


if sys.argv[1] in ("client", "client-wait", "client-later"):
    client(sys.argv[2], sys.argv[3:], wait=sys.argv[1] == "client-wait", later=sys.argv[1] == "client-later")
    sys.exit(0)

port, log_path = sys.argv[1], sys.argv[2]


def log(method, code):
    with open(log_path, "a") as f:
        f.write(json.dumps({"method": method, "code": code}) + "\n")


def unary(request, context):
    if request.startswith(b"status:"):
        code = grpc.StatusCode[request[7:].decode()]
        log("/pkg.Echo/Unary", code.value[0])
        context.abort(code, f"asked for {code.name}")
    log("/pkg.Echo/Unary", 0)
    return b"echo " + request


def stream(request, context):
    for i in range(int(request)):
        yield b"message %d" % i
    log("/pkg.Echo/Stream", 0)


handler = grpc.method_handlers_generic_handler("pkg.Echo", {
    "Unary": grpc.unary_unary_rpc_method_handler(unary),
    "Stream": grpc.unary_stream_rpc_method_handler(stream),
})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=(handler,))
server.add_insecure_port(f"127.0.0.1:{port}")
server.start()
print("ready", flush=True)
server.wait_for_termination()
