#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""gRPC over h2c with Debian's python3-grpcio (grpc-server.py, both its
server and its client, each its own process): unary calls that succeed,
fail NOT_FOUND and fail UNAVAILABLE, and a server-streaming call of 5
messages. Every call the server logged has exactly one server entry and one
client entry with HTTP_PATH /pkg.Echo/<Method>, HTTP_STATUS 200,
HTTP_VERSION 2 and GRPC_STATUS = the code both ends saw; PRIORITY follows
the gRPC status (OK 6, NOT_FOUND 5, UNAVAILABLE 4), GRPC_MESSAGE carries the
server's message, and `journalctl HTTP_VERSION=2 GRPC_STATUS=14` returns
exactly the UNAVAILABLE calls. The daemon is filtered in the kernel to
the server's and the client's pids (the client starts first and waits),
so that other traffic on the host can neither add to nor crowd out these
exact counts."""

import json

import htlib
import h2lib
from htlib import expect, ensure, log


def test(ctx):
    srv, port, log_path = h2lib.grpc_server(ctx)
    calls = ["unary:hello", "unary:status:NOT_FOUND", "unary:again", "unary:status:UNAVAILABLE",
             "stream:5", "unary:status:UNAVAILABLE", "unary:bye"]
    cli = h2lib.grpc_client(ctx, "client-later", port, calls)
    daemon = htlib.Daemon(ctx, ["-s", f"filter.include.pids={srv.pid},{cli.pid}"]).start()
    out, _ = cli.communicate(b"go\n", timeout=120)
    got_client = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    want_codes = [0, 5, 0, 14, 0, 14, 0]
    ensure([c["code"] for c in got_client] == want_codes, f"fixture: client saw {got_client}")

    deadline_lines = []
    for _ in range(200):
        with open(log_path) as f:
            deadline_lines = [json.loads(l) for l in f if l.strip()]
        if len(deadline_lines) >= len(calls):
            break
        htlib.time.sleep(0.05)
    ensure(len(deadline_lines) == len(calls), f"fixture: server logged {deadline_lines}")
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    want = sorted((l["method"], str(l["code"])) for l in deadline_lines)
    prio = {"0": "6", "5": "5", "14": "4"}
    for role in ("server", "client"):
        es = htlib.entries_for_server(entries, port, role)
        log(f"{role}: {len(es)} entries for {len(calls)} calls")
        got = sorted((e.get("HTTP_PATH"), e.get("GRPC_STATUS")) for e in es)
        expect(got == want, f"{role}: journal (path, grpc status) {got}\n  != server's log {want}")
        for e in es:
            what = f"{role} {e.get('HTTP_PATH')} grpc-status {e.get('GRPC_STATUS')}"
            expect(e.get("HTTP_METHOD") == "POST" and e.get("HTTP_STATUS") == "200" and
                   e.get("HTTP_VERSION") == "2", f"{what}: {e.get('HTTP_METHOD')} {e.get('HTTP_STATUS')} "
                                                  f"version {e.get('HTTP_VERSION')}")
            expect(e.get("PRIORITY") == prio.get(e.get("GRPC_STATUS")), f"{what}: PRIORITY={e.get('PRIORITY')}")
            if e.get("GRPC_STATUS") != "0":
                expect("asked" in e.get("GRPC_MESSAGE", ""), f"{what}: GRPC_MESSAGE={e.get('GRPC_MESSAGE')!r}")
            expect(e.get("HTTP_STREAM_ID", "").isdigit(), f"{what}: HTTP_STREAM_ID={e.get('HTTP_STREAM_ID')}")
        streams = [e for e in es if e.get("HTTP_PATH") == "/pkg.Echo/Stream"]
        expect(len(streams) == 1 and int(streams[0].get("HTTP_RESPONSE_BODY_BYTES", "0")) >= 5 * (5 + 9),
               f"{role}: stream call body {[e.get('HTTP_RESPONSE_BODY_BYTES') for e in streams]}, "
               f"want 5 length-prefixed messages")

    unavailable = htlib.journal_query(daemon.pid, "HTTP_VERSION=2", "GRPC_STATUS=14", f"SERVER_PORT={port}")
    expect(len(unavailable) == 2 * 2, f"journalctl HTTP_VERSION=2 GRPC_STATUS=14: {len(unavailable)} entries, "
                                      f"want 4 (2 calls x server and client)")


if __name__ == "__main__":
    htlib.run(test)
