#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`http-tracer report` over real entries in the real journal: nginx serves a
known mix (200s on several routes, 404s, 500s, POST bodies, one slow body),
the daemon (filtered in the kernel to nginx's port) writes the entries, and
`report --json --since=@START _PID=<daemon>` must say exactly what nginx's
access log says per route: request count, status classes, response bytes;
request bytes what this client sent; p50/p90/p99 the histogram bucket of the
exact sample of that rank among the entries' HTTP_DURATION_USEC (clamped to
the max), max exact; the slowest exchange's cursor opens that very entry.
The text form names the service with its count; `--html` renders in
headless chromium with the expected titles and both plots drawn (their
colours present in the screenshot)."""

import http.client
import json
import math
import os
import struct
import time
import zlib

import htlib
from htlib import expect, ensure, log

EXTRA = (htlib.NGINX_SLOW_LOCATION +
         ' location /api/ { return 200 "user\\n"; }'
         ' location = /err { return 500; }')


def hindex(v):
    if v > (1 << 36) - 1:
        return 1023
    if v < 64:
        return v
    shift = v.bit_length() - 1 - 5
    return shift * 32 + (v >> shift)


def bucket_value(i):
    if i < 64:
        return i
    shift = i // 32 - 1
    lo = ((i % 32) + 32) << shift
    hi = lo + (1 << shift) - 1
    return lo + (hi - lo) // 2


def expected_quantile(durations, q):
    s = sorted(durations)
    rank = min(max(math.ceil(q * len(s)), 1), len(s))
    return min(bucket_value(hindex(s[rank - 1])), s[-1])


def route_of(uri):
    """select/route-fold.h's heuristic, for the paths this test sends: digits fold to "*"."""
    path = uri.split("?", 1)[0]
    return "/".join("*" if seg.isdigit() else seg for seg in path.split("/"))


def png_pixels(path):
    """RGB(A) rows of a non-interlaced 8-bit PNG (chromium's screenshots), stdlib only."""
    data = open(path, "rb").read()
    ensure(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            ensure(depth == 8 and ctype in (2, 6) and interlace == 0, f"unexpected PNG format {depth}/{ctype}")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    colours = set()
    i = 0
    while i < len(raw):
        ft = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, bpp):
            colours.add(bytes(line[x:x + 3]))
        prev = line
    return colours


def test(ctx):
    htlib.require_tools("nginx")
    nginx = htlib.Nginx(ctx, extra_server=EXTRA)
    daemon = htlib.Daemon(ctx, ["-s", f"filter.include.local_ports={nginx.port}"]).start()
    start = time.time()

    plan = ([("GET", f"/api/users/{i % 5}", b"") for i in range(40)] +
            [("GET", "/missing.html", b"")] * 7 +
            [("GET", "/err", b"")] * 5 +
            [("GET", "/index.html", b""), ("GET", "/index.html?x=1", b"")] * 5 +
            [("POST", "/post", b"p" * (1000 + i)) for i in range(3)] +
            [("GET", "/slow.bin", b"")])
    sent_body = {}
    conn = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=30)
    for method, target, body in plan:
        conn.request(method, target, body=body or None)
        r = conn.getresponse()
        r.read()
        sent_body[route_of(target)] = sent_body.get(route_of(target), 0) + len(body)
    conn.close()

    lines = htlib.wait_log_lines(nginx, len(plan))
    ensure(len(lines) == len(plan), f"fixture: nginx logged {len(lines)} requests, sent {len(plan)}")
    daemon.stop()
    entries = htlib.journal_final(daemon, f"MESSAGE_ID=d0a21e5e3f34fda1ea3a6c8d562c83a1")
    ensure(len(entries) == len(plan), f"journal has {len(entries)} complete entries, nginx logged {len(plan)}")

    r = htlib.run_cmd([htlib.HTTP_TRACER, "report", "--json", f"--since=@{start - 1:.3f}", f"_PID={daemon.pid}"])
    rep = json.loads(r.stdout)
    e0 = entries[0]
    unit = e0.get("OBJECT_SYSTEMD_UNIT") or "comm:" + e0.get("OBJECT_COMM", "?")
    ensure(len(rep["services"]) == 1, f"report has {len(rep['services'])} services, expected 1: "
                                      f"{[s['unit'] for s in rep['services']]}")
    svc = rep["services"][0]
    expect(svc["unit"] == unit and svc["role"] == "server", f"service {svc['unit']}/{svc['role']}, expected {unit}/server")

    def expected_counts(log_lines, ents):
        st = {k: 0 for k in ("1xx", "2xx", "3xx", "4xx", "5xx")}
        for l in log_lines:
            st[l["status"][0] + "xx"] += 1
        d = [htlib.duration_usec(e) for e in ents]
        return {
            "requests": len(log_lines), "status": st, "no_response": 0,
            "response_bytes": sum(int(l["body_bytes_sent"]) for l in log_lines),
            "duration_usec": {"p50": expected_quantile(d, 0.5), "p90": expected_quantile(d, 0.9),
                              "p99": expected_quantile(d, 0.99), "max": max(d)},
            "duration_usec_sum": sum(d),
        }

    def compare(what, got, want):
        for k, v in want.items():
            expect(got.get(k) == v, f"{what}: {k} = {got.get(k)}, expected {v}")

    compare("(all)", svc, dict(expected_counts(lines, entries), request_bytes=sum(sent_body.values())))
    by_route_log = htlib.group_by(lines, lambda l: route_of(l["uri"]))
    by_route_ent = htlib.group_by(entries, lambda e: route_of(e.get("HTTP_PATH")))
    got_routes = {rt["route"]: rt for rt in svc["routes"]}
    expect(sorted(got_routes) == sorted(by_route_log), f"routes {sorted(got_routes)}, nginx logged {sorted(by_route_log)}")
    expect(svc["routes_folded"] == 0, f"routes_folded={svc['routes_folded']}")
    for route, ls in by_route_log.items():
        if route in got_routes:
            compare(route, got_routes[route],
                    dict(expected_counts(ls, by_route_ent.get(route, [])), request_bytes=sent_body.get(route, 0)))
    # Routes: most requests first.
    counts = [rt["requests"] for rt in svc["routes"]]
    expect(counts == sorted(counts, reverse=True), f"routes not sorted by requests: {counts}")

    # Slowest: the five longest durations, slowest first; the cursor opens that entry.
    want = sorted((htlib.duration_usec(e) for e in entries), reverse=True)[:5]
    expect([s["duration_usec"] for s in svc["slowest"]] == want,
           f"slowest {[s['duration_usec'] for s in svc['slowest']]}, journal's {want}")
    if svc["slowest"]:
        s = svc["slowest"][0]
        expect(s["target"] == "/slow.bin", f"slowest exchange is {s['target']}, expected /slow.bin")
        j = htlib.run_cmd(["journalctl", "-o", "json", "-n", "1", "-c", s["cursor"]])
        e = json.loads(j.stdout)
        expect(e.get("HTTP_DURATION_USEC") == str(s["duration_usec"]) and e.get("HTTP_TARGET") == s["target"],
               f"cursor of the slowest opens {e.get('HTTP_TARGET')} in {e.get('HTTP_DURATION_USEC')} µs")

    # A match narrows it: only the 500s.
    r = htlib.run_cmd([htlib.HTTP_TRACER, "report", "--json", f"--since=@{start - 1:.3f}", f"_PID={daemon.pid}",
                       "HTTP_STATUS=500"])
    only = json.loads(r.stdout)
    expect(only["services"] and only["services"][0]["requests"] == 5 and
           [rt["route"] for rt in only["services"][0]["routes"]] == ["/err"],
           f"HTTP_STATUS=500 report: {[(s['requests'], [r['route'] for r in s['routes']]) for s in only['services']]}")
    # A route template names the route as configured.
    r = htlib.run_cmd([htlib.HTTP_TRACER, "report", "--json", f"--since=@{start - 1:.3f}", f"_PID={daemon.pid}",
                       "--route=/api/**"])
    routes = {rt["route"]: rt["requests"] for rt in json.loads(r.stdout)["services"][0]["routes"]}
    expect(routes.get("/api/**") == 40 and "/api/users/*" not in routes, f"--route=/api/**: routes {routes}")
    # --until before the traffic: nothing.
    r = htlib.run_cmd([htlib.HTTP_TRACER, "report", "--json", f"--since=@{start - 60:.3f}",
                       f"--until=@{start - 30:.3f}", f"_PID={daemon.pid}"])
    expect(json.loads(r.stdout)["services"] == [], "--until before the traffic still reports services")

    # Text form.
    r = htlib.run_cmd([htlib.HTTP_TRACER, "report", f"--since=@{start - 1:.3f}", f"_PID={daemon.pid}"])
    text = r.stdout.decode()
    expect(f"{unit} (server): {len(plan)} requests" in text and "/api/users/*" in text,
           f"text report lacks the service line or a route:\n{text[:800]}")

    # HTML, rendered by headless chromium.
    html = os.path.join(ctx.tmp, "report.html")
    htlib.run_cmd([htlib.HTTP_TRACER, "report", f"--since=@{start - 1:.3f}", f"_PID={daemon.pid}", f"--html={html}"])
    page = open(html, encoding="utf-8").read()
    expect("http://" not in page and "https://" not in page and "<script" not in page,
           "the HTML page refers to something outside itself")
    check_html_render(ctx, html, unit)


def check_html_render(ctx, html, unit):
    htlib.require_tools("chromium")
    shot = os.path.join(ctx.tmp, "report.png")
    prof = os.path.join(ctx.tmp, "chromium-profile")
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={prof}",
            "--window-size=1000,1100", "--hide-scrollbars"]
    htlib.run_cmd(base + [f"--screenshot={shot}", "file://" + html], timeout=120)
    dom = htlib.run_cmd(base + ["--dump-dom", "file://" + html], timeout=120).stdout.decode()
    for title in ("http-tracer report", f"{unit} (server)", "Latency over time", "Status classes over time",
                  "Slowest exchanges"):
        expect(title in dom, f"rendered page lacks the title {title!r}")
    expect(dom.count("<polyline") >= 2 and "points=\"\"" not in dom and "points=''" not in dom,
           "the latency plot has an empty line")
    colours = png_pixels(shot)
    # report-html.c's colours: 2xx green, 4xx orange, 5xx red bars; mean (blue) and max (orange) lines.
    for name, rgb in (("2xx", "2ca02c"), ("4xx", "ff7f0e"), ("5xx", "d62728"), ("mean", "1f77b4")):
        expect(bytes.fromhex(rgb) in colours, f"screenshot has no {name} pixel (#{rgb}): a plot is empty")
    log(f"screenshot {shot}: {len(colours)} colours")
    dest = os.environ.get("HT_REPORT_SCREENSHOT")
    if dest:
        os.replace(shot, dest)


if __name__ == "__main__":
    htlib.run(test)
