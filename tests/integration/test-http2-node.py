#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""node's http2 module at both ends, cleartext with prior knowledge
(tests/integration/http2-node.js): one session, WAVES waves of STREAMS
concurrent streams (GET 200, GET 404, POST 3000 bytes, GET 2 KiB, GET
64 KiB in turn), on loopback addresses of their own (a kernel address filter
keeps other traffic out), with the default capture.payload_size (16 KiB).
node answers a wave's streams in one writev() of about three iovecs per
stream (61 for 20), more than the kernel walked before HT_IOV_CAP was raised
to every iovec; node's server reads a wave's requests (~20 KB) and its
client the 64 KiB bodies in reads of many frames, longer than payload_size:
on HTTP/2 the kernel sends such a buffer in payload_size records instead of
one record and a gap over frame headers. Server and client entries each equal
the server's own log exactly (stream id, client port, method, target,
status, response and request body sizes), with HTTP_VERSION=2 and no flag;
no desync, no iovec left unwalked."""

import json
import os

import h2lib
import htlib
from htlib import expect, ensure, log

HERE = os.path.dirname(os.path.abspath(__file__))
WAVES, STREAMS = 3, 25


def test(ctx):
    htlib.require_tools("node")
    daemon = htlib.Daemon(ctx, ["--set", "filter.include.addresses=127.0.0.15/32,127.0.0.16/32"]).start()

    port = htlib.free_port()
    logpath = os.path.join(ctx.tmp, "access.jsonl")
    script = os.path.join(HERE, "http2-node.js")
    n = WAVES * STREAMS
    server, client_view, lines, elapsed_us = htlib.node_exchange(
        ctx, script, port, [], [str(WAVES), str(STREAMS)], logpath, n, "http2-node-server")
    # The client's own view agrees with the server's log (else the fixture, not the tracer, is wrong).
    ensure(sorted((c["id"], c["path"], c["status"], c["resp"]) for c in client_view) ==
           sorted((l["id"], l["path"], l["status"], l["resp"]) for l in lines),
           "fixture: the client's view of its streams differs from the server's log")
    # The kernel's counters, over the daemon's own control socket (the Statistics line has the
    # daemon's): every response was read by the client, so every writev() has returned. The filter
    # keeps only this test's connection: the counters are its own.
    r = htlib.run_cmd(["nsenter", "-t", str(daemon.pid), "-m", htlib.HTTP_TRACER, "status", "--json"])
    kernel = json.loads(r.stdout)["status"]["kernel"]
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    srv = htlib.entries_for_server(entries, port, "server")
    cli = htlib.entries_for_server(entries, port, "client")
    log(f"server logged {len(lines)} streams; journal: {len(srv)} server, {len(cli)} client entries; "
        f"desyncs={daemon.stat('desyncs')}; kernel: iov_truncated={kernel.get('iov_truncated')} "
        f"gap_bytes={kernel.get('gap_bytes')} records={kernel.get('records')}")

    want = sorted((str(l["id"]), str(l["port"]), l["method"], l["path"], str(l["status"]), str(l["resp"]),
                   str(l["req"])) for l in lines)

    def view(e):
        return (e.get("HTTP_STREAM_ID"), e.get("CLIENT_PORT"), e.get("HTTP_METHOD"), e.get("HTTP_TARGET"),
                e.get("HTTP_STATUS"), e.get("HTTP_RESPONSE_BODY_BYTES", "0"), e.get("HTTP_REQUEST_BODY_BYTES", "0"))

    for role, es in (("server", srv), ("client", cli)):
        expect(len(es) == n, f"{role} entries {len(es)} != {n} streams the server logged")
        h2lib.expect_same(f"{role} (stream, port, method, target, status, body sizes)",
                          sorted(view(e) for e in es), want)
        for e in es:
            what = f"{role} {e.get('HTTP_METHOD')} {e.get('HTTP_TARGET')}"
            expect(e.get("HTTP_VERSION") == "2", f"{what}: HTTP_VERSION={e.get('HTTP_VERSION')}")
            expect(e.get("HTTP_FLAGS", "") == "", f"{what}: HTTP_FLAGS={e.get('HTTP_FLAGS')}")
            htlib.check_common_fields(e, port, what, addrs=("127.0.0.16", "127.0.0.15"))
            htlib.expect_duration(what, e, high_us=elapsed_us, why_high="the whole client run")
    expect(daemon.stat("desyncs") == 0, f"desyncs={daemon.stat('desyncs')}")
    expect(kernel.get("iov_truncated") == 0, f"kernel iov_truncated={kernel.get('iov_truncated')}")
    expect(kernel.get("gap_bytes") == 0, f"kernel gap_bytes={kernel.get('gap_bytes')}")


if __name__ == "__main__":
    htlib.run(test, tools=("bpftool", "journalctl", "node"))
