#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""lighttpd (read, writev + sendfile): each request in its access log has
one server-role entry with the same method, target, status, lighttpd's pid,
body size, and a duration close to lighttpd's own %D (µs from a real clock:
compared both ways) and no longer than curl's own time for the transfer.
Keep-alive via curl with several URLs, HEAD, 404, a 1 MiB sendfile body and
the same paced to ~0.7 s, so that a wrong duration cannot hide in the
scheduling slack."""

import htlib
from htlib import expect, ensure, log


def test(ctx):
    htlib.require_tools("lighttpd", "curl")
    srv = htlib.Lighttpd(ctx)
    daemon = htlib.Daemon(ctx).start()

    urls = ["/index.html", "/index.html?q=1", "/missing", "/big.bin", "/gz/text.txt", "/big.bin?slow"]
    _, times = htlib.curl_timed(*sum((["-o", "/dev/null", srv.url(u)] for u in urls), []))
    _, head_times = htlib.curl_timed("-I", "-o", "/dev/null", srv.url("/index.html"))
    ensure(len(times) == len(urls) and len(head_times) == 1, f"fixture: curl timed {times} {head_times}")
    # curl's time_total per transfer, by (method, target).
    curl_us = {("GET", u): t for u, t in zip(urls, times)}
    curl_us[("HEAD", "/index.html")] = head_times[0]
    n = len(urls) + 1
    # lighttpd buffers its access log; stopping it flushes the log.
    srv.stop()
    log_lines = srv.log_lines()
    ensure(len(log_lines) == n, f"fixture: lighttpd logged {len(log_lines)} requests, sent {n}")
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={srv.port}")
    server = sorted(htlib.entries_for_server(entries, srv.port, "server"), key=htlib.entry_order)
    log(f"lighttpd logged {n}, journal has {len(server)} server entries")
    expect(len(server) == n, f"server entries {len(server)} != lighttpd access log lines {n}")
    want = [(l["method"], l["path"] + ("?" + l["query"] if l["query"] not in ("", "-") else ""), l["status"])
            for l in log_lines]
    got = [(e.get("HTTP_METHOD"), e.get("HTTP_TARGET"), e.get("HTTP_STATUS")) for e in server]
    expect(sorted(got) == sorted(want), f"journal (method, target, status) {got}\n  != access log {want}")
    by_req = {}
    slow = 0
    for e in server:
        by_req.setdefault((e.get("HTTP_METHOD"), e.get("HTTP_TARGET")), []).append(e)
    for l, key in zip(log_lines, want):
        es = by_req.get(key[:2], [])
        if not es:
            continue
        e = es.pop(0)
        what = f"{key[0]} {key[1]}"
        htlib.check_common_fields(e, srv.port, what)
        expect(e.get("PROCESS_PID") == str(srv.proc.pid), f"{what}: PROCESS_PID={e.get('PROCESS_PID')}, "
                                                         f"lighttpd pid {srv.proc.pid}")
        body = "0" if l["body_bytes"] == "-" else l["body_bytes"]
        expect(e.get("HTTP_RESPONSE_BODY_BYTES") == body,
               f"{what}: HTTP_RESPONSE_BODY_BYTES={e.get('HTTP_RESPONSE_BODY_BYTES')}, lighttpd %b={body}")
        # lighttpd's %D is µs from a real clock, from the start of reading
        # the request to its log line after the last write: the same
        # interval but for lighttpd's own work at either end, which a busy
        # machine can stretch by the scheduling slack either way.
        usec = int(l["usec"])
        htlib.expect_duration(what, e, low_us=usec - htlib.SCHED_SLACK_US, high_us=usec + htlib.SCHED_SLACK_US,
                              why_low=f"lighttpd %D={usec} us, -{htlib.SCHED_SLACK_US} us slack",
                              why_high=f"lighttpd %D={usec} us, +{htlib.SCHED_SLACK_US} us slack")
        # curl's time_total (its own monotonic clock, connect included)
        # encloses the server's side of the exchange.
        htlib.expect_within_round_trip(what, e, curl_us[key[:2]])
        slow += usec >= htlib.SLOW_REQUEST_US
    expect(slow >= 1, f"no request took >= {htlib.SLOW_REQUEST_US} us by lighttpd's %D: the paced "
                      "/big.bin?slow was not slow, and the duration bounds would not catch a wrong duration")


if __name__ == "__main__":
    htlib.run(test)
