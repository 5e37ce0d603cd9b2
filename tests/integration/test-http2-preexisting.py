#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""An HTTP/2 connection opened before the daemon started (joined
mid-stream): a python3-grpcio client makes one call, then the daemon
starts, then the client makes three more calls on the same connection
(grpc-server.py). The kernel recognises the connection at a HEADERS frame
(its preface and SETTINGS went by before the daemon) at the first
operation that begins with one; from then on each call gets exactly one
server and one client entry on that connection (at least the last call at
each end: the kernel looks past a WINDOW_UPDATE or PING written ahead of a
HEADERS in the same buffer, not across a sendmsg()'s iovecs, and gRPC's
client's request blocks begin with dynamic-table references, which name no
side):
stream id, HTTP_STATUS 200 (a static-table entry: known even when the
compression table is not), POST, and either the exact path or the flag
headers-incomplete (a header block that refers to compression-table
entries inserted before we joined cannot be decoded: counted in
headers_incomplete). The warm-up call is not logged."""

import json

import htlib
import h2lib
from htlib import expect, ensure, log


def test(ctx):
    srv, port, _ = h2lib.grpc_server(ctx)
    calls = ["unary:one", "unary:status:NOT_FOUND", "unary:three"]
    cli = h2lib.grpc_client(ctx, "client-wait", port, calls)   # "ready": its warm-up call is done
    # filtered in the kernel to the two processes: other traffic on the host stays out
    daemon = htlib.Daemon(ctx, ["-s", f"filter.include.pids={srv.pid},{cli.pid}"]).start()
    out, _ = cli.communicate(b"go\n", timeout=120)
    got_client = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    ensure([c["code"] for c in got_client] == [0, 5, 0], f"fixture: client saw {got_client}")
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    for role in ("server", "client"):
        es = htlib.entries_for_server(entries, port, role)
        log(f"{role}: " + ", ".join(f"{e.get('HTTP_STREAM_ID')} {e.get('HTTP_METHOD')} {e.get('HTTP_PATH')} "
                                    f"{e.get('HTTP_STATUS')} grpc {e.get('GRPC_STATUS')} [{e.get('HTTP_FLAGS', '')}]"
                                    for e in es))
        # Recognised at the first operation that begins with a request's or response's HEADERS
        # (behind control frames in the same buffer). Measured since the kernel looks past
        # those: 3 of 3 at both ends (before: the server end 3 of 3, the client end 1 to 3).
        expect(1 <= len(es) <= len(calls), f"{role}: {len(es)} entries for the {len(calls)} calls after the start")
        ids = sorted(int(e.get("HTTP_STREAM_ID", "0")) for e in es)
        expect(ids and ids[0] > 1 and len(set(ids)) == len(ids) and all(i % 2 for i in ids),
               f"{role}: stream ids {ids} (the warm-up call was stream 1)")
        expect(ids and ids[-1] == 7, f"{role}: stream ids {ids}: the last call (stream 7) must be seen")
        for e in es:
            what = f"{role} stream {e.get('HTTP_STREAM_ID')}"
            expect(e.get("HTTP_STATUS") == "200", f"{what}: HTTP_STATUS={e.get('HTTP_STATUS')}")
            expect(e.get("HTTP_VERSION") == "2", f"{what}: HTTP_VERSION={e.get('HTTP_VERSION')}")
            expect(e.get("HTTP_PATH") == "/pkg.Echo/Unary" or "headers-incomplete" in e.get("HTTP_FLAGS", ""),
                   f"{what}: HTTP_PATH={e.get('HTTP_PATH')} HTTP_FLAGS={e.get('HTTP_FLAGS')}")
    log(f"headers_incomplete={daemon.stats.get('headers_incomplete')} parse_errors={daemon.stats.get('parse_errors')}")
    expect(daemon.stats.get("parse_errors", 0) == 0, f"parse_errors={daemon.stats.get('parse_errors')}")


if __name__ == "__main__":
    htlib.run(test)
