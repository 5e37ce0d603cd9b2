#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Each of HTTP/2's caps, set small through its configuration key, hit by
one h2c connection to nginx (`listen ... http2`) from h2lib's client, and
counted exactly (both ends are traced, so each hit counts twice):

- limits.http2_streams_max=4: six GETs in one write; the two streams past
  the cap have no entry at either end: streams_overflows = 4, the other
  four one entry per end.
- limits.fields_max=8: a GET with 12 fields (4 dropped per end) and
  limits.http2_header_list_max=1KiB: a GET whose last field carries
  2000 bytes (1 dropped per end): header_fields_dropped = 10, both entries
  flagged head-truncated, path and status still there.
- limits.http2_hpack_memory_max=16KiB: a GET with a 17000-byte field (HEADERS +
  CONTINUATION):
  hpack_memory_refused = 2, its entries headers-incomplete.
- limits.http2_header_block_max=20KiB: a GET whose block is 24000 bytes
  (HEADERS + CONTINUATION): header_block_overflows = 2.
(capture.payload_size=31KiB: each of those writes and reads is captured
whole, so no byte is lost and only the caps are at work.)
- limits.http2_continuations_max=2: a GET split into HEADERS + 3 tiny
  CONTINUATION frames: continuation_floods = 2, a parse error entry per
  end.
A plain GET on a connection of its own is logged whole under these caps.
A kernel filter on the test's own loopback addresses keeps other traffic
out."""

import htlib
import h2lib
from htlib import expect, ensure, log

SERVER_ADDR, CLIENT_ADDR = "127.0.13.3", "127.0.13.4"
CAPS = {
    "limits.http2_streams_max": "4",
    "limits.fields_max": "8",
    "limits.http2_header_list_max": "1KiB",
    "limits.http2_hpack_memory_max": "16KiB",
    "limits.http2_header_block_max": "20KiB",
    # every write and read here whole in one record (the largest is 24 KB)
    "capture.payload_size": "31KiB",
    "limits.http2_continuations_max": "2",
}


def test(ctx):
    htlib.require_tools("nginx")
    port = htlib.free_port()
    # nginx's own header caps well above ours: it answers every request here
    srv = htlib.Nginx(ctx, extra_server=f"listen {SERVER_ADDR}:{port} http2;",
                      extra_http="http2_max_field_size 64k; http2_max_header_size 128k;")
    args = []
    for k, v in CAPS.items():
        args += ["-s", f"{k}={v}"]
    daemon = htlib.Daemon(ctx, args + ["-s", f"filter.include.addresses={SERVER_ADDR}/32,{CLIENT_ADDR}/32"]).start()

    def client():
        c = h2lib.Client(SERVER_ADDR, port, src=CLIENT_ADDR)
        ctx.cleanup.callback(c.close)
        return c

    def block(path, fields=()):
        return h2lib.get_block(path, f"{SERVER_ADDR}:{port}", fields)

    client().get(1, "/plain")
    c = client()
    c.sock.sendall(b"".join(h2lib.headers(s, block(f"/streams-{s}")) for s in range(1, 13, 2)))
    for s in range(1, 13, 2):
        c.response(s)
    c = client()
    c.sock.sendall(h2lib.headers(1, block("/fields", [(f"x-f{i}", "v") for i in range(12)])))
    c.response(1)
    c = client()
    c.sock.sendall(h2lib.headers(1, block("/list", [("x-big", "b" * 2000)])))
    c.response(1)
    c = client()
    c.sock.sendall(h2lib.header_frames(1, block("/hpack-memory", [("x-huge", "h" * 17000)])))
    c.response(1, tolerate_end=True)
    c = client()
    c.sock.sendall(h2lib.header_frames(1, block("/block", [("x-a", "a" * 12000), ("x-b", "b" * 12000)])))
    c.response(1, tolerate_end=True)
    c = client()
    c.sock.sendall(h2lib.header_frames(1, block("/flood"), continuations=3))
    c.response(1, tolerate_end=True)
    lines = htlib.wait_log_lines(srv, 1 + 6 + 2)
    daemon.stop()

    st = daemon.stats or {}
    log("nginx logged: " + ", ".join(f"{l['uri'][:20]} {l['status']}" for l in lines))
    log("caps counted: " + ", ".join(f"{k}={st.get(k)}" for k in (
        "streams_overflows", "header_fields_dropped", "hpack_memory_refused", "header_block_overflows",
        "continuation_floods", "headers_incomplete", "parse_errors")))
    expect(st.get("streams_overflows") == 4, f"streams_overflows={st.get('streams_overflows')}, want 4")
    expect(st.get("header_fields_dropped") == 10, f"header_fields_dropped={st.get('header_fields_dropped')}, want 10")
    expect(st.get("hpack_memory_refused") == 2, f"hpack_memory_refused={st.get('hpack_memory_refused')}, want 2")
    expect(st.get("header_block_overflows") == 2, f"header_block_overflows={st.get('header_block_overflows')}, want 2")
    expect(st.get("continuation_floods") == 2, f"continuation_floods={st.get('continuation_floods')}, want 2")

    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    for role in ("server", "client"):
        es = htlib.entries_for_server(entries, port, role)
        log(f"{role}: " + ", ".join(f"{e.get('HTTP_STREAM_ID')} {str(e.get('HTTP_PATH'))[:20]} {e.get('HTTP_STATUS')} "
                                    f"[{e.get('HTTP_FLAGS', '')}] {e.get('HTTP_PARSE_ERROR', '')}" for e in es))
        by_path = htlib.group_by(es, lambda e: e.get("HTTP_PATH"))
        plain = by_path.get("/plain", [])
        expect(len(plain) == 1 and plain[0].get("HTTP_STATUS") == "404" and "HTTP_FLAGS" not in plain[0],
               f"{role}: /plain entries {plain}")
        streams = sorted(p for p in by_path if p and p.startswith("/streams-"))
        expect(len(streams) == 4 and all(len(by_path[p]) == 1 for p in streams),
               f"{role}: stream entries {streams}, want 4 of the 6 (2 over limits.http2_streams_max)")
        for path in ("/fields", "/list"):
            es_p = by_path.get(path, [])
            expect(len(es_p) == 1 and "head-truncated" in es_p[0].get("HTTP_FLAGS", "") and
                   es_p[0].get("HTTP_STATUS") == "404",
                   f"{role}: {path} entries {[(e.get('HTTP_STATUS'), e.get('HTTP_FLAGS')) for e in es_p]}")
        incomplete = [e for e in es if "headers-incomplete" in e.get("HTTP_FLAGS", "")]
        expect(len(incomplete) >= 2, f"{role}: {len(incomplete)} headers-incomplete entries, want the "
                                     f"hpack-memory and the block ones")
        errors = [e.get("HTTP_PARSE_ERROR") for e in es if "HTTP_PARSE_ERROR" in e]
        expect(len(errors) == 1 and "CONTINUATION" in (errors or [""])[0],
               f"{role}: parse errors {errors}, want the CONTINUATION flood's")


if __name__ == "__main__":
    htlib.run(test, tools=("bpftool", "journalctl", "nginx"))
