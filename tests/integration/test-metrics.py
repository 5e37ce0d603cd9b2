#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""docs/metrics.md, followed word for word: RED metrics through a real
node_exporter's textfile collector, against nginx's own access log.

The configuration is the page's "Turn it on" snippet, as a drop-in in the
daemon's (private) configuration directories; the command line only points
the textfile at the test's own directory, writes it every second and
filters the daemon in the kernel to this nginx's port, so other tests'
traffic cannot change a count. node_exporter runs with the page's
--collector.textfile.directory flag (the test's directory) on a loopback
port of its own; the page's `curl ... | grep http_` is run against it.

- Known traffic (methods GET, HEAD, POST, DELETE and a non-standard one;
  statuses 200, 201, 204, 404, 500; templated, folded and plain routes;
  a query string with a token): every http_tracer_requests_total series of
  nginx's row equals the count computed from nginx's access log (method,
  status class, route folded by the documented rules), no more series;
  histogram _count and +Inf equal the requests per route, buckets are
  cumulative; body byte counters equal nginx's $body_bytes_sent sum and
  the POST bodies sent; routes_folded 0; every dropped_total reason there;
  start_time_seconds is the daemon's start; node_textfile_scrape_error 0.
- A reload in the middle: the counters go on from where they were.
- `http-tracer services`: the same requests and status classes as JSON.
- A hostile client, 10,000 distinct random paths: the routes of the row
  stay at metrics.routes_max (its default, 32) plus the templates and
  "other"; exactly the paths past the cap are in routes_folded_total and
  in route="other", and every series still equals nginx's log.
- Stop: the textfile is removed, no BPF program is left.
"""

import http.client
import json
import os
import random
import re
import string
import subprocess
import time

import htlib
import htlib_extra
from htlib import Failure, ensure, expect, log

DOC = os.path.join(htlib.SOURCE_ROOT, "docs", "metrics.md")
NODE_EXPORTER = "prometheus-node-exporter"
ROUTES_MAX = 32            # metrics.routes_max's default (docs/configuration.md)
BUCKETS = 11               # metrics.buckets's default: 5ms ... 10s
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE")
SERIES = re.compile(r'^(\w+)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


# ---------------------------------------------------------------- the page

def doc_section(text, heading):
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start:end if end >= 0 else len(text)]


def fenced(section, lang=""):
    return re.findall(r"```" + lang + r"\n(.*?)```", section, re.S)


def doc_recipe():
    """The page's configuration snippet, node_exporter flag and quick-look command."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    yaml = fenced(doc_section(text, "## Turn it on"), "yaml")
    ensure(yaml, "docs/metrics.md: no ```yaml block under '## Turn it on': update this test")
    conf = yaml[0]
    for needle in ("enabled: yes", "textfile_directory:", "routes:"):
        ensure(needle in conf, f"docs/metrics.md's snippet no longer has {needle!r}: update this test")
    m = re.search(r"routes:\s*\[(.*?)\]", conf)
    templates = [t.strip().strip('"') for t in m.group(1).split(",")]
    blocks = fenced(doc_section(text, "## Collect it with node_exporter"))
    cmd = [b.strip() for b in blocks if b.strip().startswith(NODE_EXPORTER)]
    ensure(cmd, "docs/metrics.md: no node_exporter command under '## Collect it': update this test")
    flags = cmd[0].split()[1:]
    ensure(any(f.startswith("--collector.textfile.directory=") for f in flags),
           "docs/metrics.md: the node_exporter command lost --collector.textfile.directory")
    quick = [b.strip() for b in blocks if "| grep http_" in b]
    ensure(quick and quick[0] == "curl -s localhost:9100/metrics | grep http_",
           "docs/metrics.md: the quick look changed: update this test")
    return conf, templates, flags, quick[0]


# ---------------------------------------------------------------- the oracle: docs/metrics.md "Routes"

HEX = set(string.hexdigits)
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def template_match(t, path):
    ts, ps = t.split("/")[1:], path.split("/")[1:]
    for i, s in enumerate(ts):
        if s == "**" and i == len(ts) - 1:
            return True
        if i >= len(ps):
            return False
        if s == "*" and ps[i] == "" or s != "*" and s != ps[i]:
            return False
    return len(ps) == len(ts)


def segment_folds(s):
    if not s:
        return False
    if len(s) > 64 or any(not (0x20 < ord(c) < 0x7f) or c in '"\\' for c in s):
        return True
    digits = sum(c.isdigit() for c in s)
    alphas = sum(c.isascii() and c.isalpha() for c in s)
    return (digits == len(s) or UUID.match(s) is not None
            or (len(s) >= 8 and digits > 0 and all(c in HEX for c in s))
            or (len(s) >= 16 and digits > 0 and alphas > 0 and digits + alphas == len(s)))


def fold(templates, uri):
    """(route, from a template?) of a request URI, by the documented rules."""
    path = re.split(r"[?#]", uri, 1)[0]
    for t in templates:
        if template_match(t, path):
            return t, True
    out = ""
    for i, s in enumerate(path.split("/")[1:]):
        s = "*" if segment_folds(s) else s
        if i == 16 or len(out) + 1 + len(s) + 3 > 128:
            return out + "/**", False
        out += "/" + s
    return out or "/", False


def status_class(code):
    code = int(code)
    return f"{code // 100}xx" if 100 <= code <= 599 else "other"


def expected_requests(lines, templates):
    """{(method, status_class, route): n} and the routes folded, assigning routes in log order with the cap."""
    counts, heuristic, folded = {}, [], 0
    for l in lines:
        route, templated = fold(templates, l["uri"])
        if not templated and route not in heuristic:
            if len(heuristic) < ROUTES_MAX:
                heuristic.append(route)
            else:
                route = "other"
                folded += 1
        k = (l["method"] if l["method"] in METHODS else "OTHER", status_class(l["status"]), route)
        counts[k] = counts.get(k, 0) + 1
    return counts, heuristic, folded


# ---------------------------------------------------------------- the scrape

def scrape(port):
    r = htlib.run_cmd(["curl", "-sS", "--max-time", "20", f"http://127.0.0.1:{port}/metrics"], timeout=30)
    out = []
    for line in r.stdout.decode("utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = SERIES.match(line)
        ensure(m, f"unparsable exposition line: {line!r}")
        labels = {k: re.sub(r"\\(.)", lambda x: "\n" if x.group(1) == "n" else x.group(1), v)
                  for k, v in LABEL.findall(m.group(2) or "")}
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def ours(series, unit, name):
    return [(l, v) for n, l, v in series if n == name and l.get("unit") == unit and l.get("role") == "server"]


def unit_of(pid):
    """The documented `unit` of a process: its .service, else comm:NAME."""
    with open(f"/proc/{pid}/cgroup") as f:
        path = [l.split(":", 2)[2].strip() for l in f if l.startswith("0::")][0]
    for comp in path.split("/"):
        if comp and not comp.endswith(".slice"):
            if comp.endswith(".service"):
                return comp
            break
    with open(f"/proc/{pid}/comm") as f:
        return "comm:" + f.read().strip()


def wait_scrape(port, unit, n_requests, timeout=120):
    """Scrapes until the row counts n_requests (the deadline only bounds a failure)."""
    deadline = time.monotonic() + timeout
    while True:
        s = scrape(port)
        got = sum(v for _, v in ours(s, unit, "http_tracer_requests_total"))
        if got >= n_requests or time.monotonic() > deadline:
            expect(got == n_requests, f"scrape: {got} requests in {unit}'s row, nginx logged {n_requests}")
            return s
        time.sleep(0.5)


def check_series(s, unit, lines, templates, bounds_n, what):
    want, heuristic, folded = expected_requests(lines, templates)
    got = {(l["method"], l["status_class"], l["route"]): int(v) for l, v in ours(s, unit, "http_tracer_requests_total")}
    expect(got == want, f"{what}: requests_total differs from nginx's log:\n"
                        f"  only scraped: { {k: v for k, v in got.items() if want.get(k) != v} }\n"
                        f"  only logged:  { {k: v for k, v in want.items() if got.get(k) != v} }")
    per_route = {}
    for (_, _, route), n in want.items():
        per_route[route] = per_route.get(route, 0) + n
    counts = {l["route"]: int(v) for l, v in ours(s, unit, "http_tracer_request_duration_seconds_count")}
    expect(counts == per_route, f"{what}: duration _count per route {counts} != requests per route {per_route}")
    buckets = {}
    for l, v in ours(s, unit, "http_tracer_request_duration_seconds_bucket"):
        buckets.setdefault(l["route"], []).append((float("inf") if l["le"] == "+Inf" else float(l["le"]), v))
    for route, b in buckets.items():
        b.sort()
        expect(len(b) == bounds_n + 1 and b[-1][0] == float("inf") and b[-1][1] == per_route.get(route),
               f"{what}: {route}: buckets {b} do not end in +Inf = {per_route.get(route)}")
        expect(all(b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)), f"{what}: {route}: buckets not cumulative: {b}")
    body = sum(int(l["body_bytes_sent"]) for l in lines)
    got_body = [v for _, v in ours(s, unit, "http_tracer_response_body_bytes_total")]
    expect(got_body == [body], f"{what}: response_body_bytes_total {got_body}, nginx sent {body}")
    folded_got = [v for n, l, v in s if n == "http_tracer_routes_folded_total" and l.get("unit") == unit]
    expect(folded_got == [folded], f"{what}: routes_folded_total {folded_got}, expected {folded}")
    return heuristic, folded


# ---------------------------------------------------------------- traffic

class Client:
    """A keep-alive HTTP/1.1 connection; every response read whole."""

    def __init__(self, port):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def req(self, method, path, body=None):
        self.c.request(method, path, body=body, headers={"Content-Type": "text/plain"} if body else {})
        r = self.c.getresponse()
        r.read()
        return r.status

    def close(self):
        self.c.close()


def known_traffic(port, rounds):
    a, b = Client(port), Client(port)
    uuid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    for i in range(rounds):
        a.req("GET", f"/api/users/{i + 1}")
        b.req("GET", f"/api/users/{i + 7}/orders/{i * 13 + 2}")
        a.req("GET", "/static/css/site.css")
        b.req("GET", "/static/missing.js")
        a.req("GET", f"/items/{uuid}")
        b.req("POST", "/api/items", body=b"x" * 1000)
        a.req("GET", "/boom")
        b.req("GET", f"/health?token=s3cr3t{i}")
        a.req("HEAD", "/")
        b.req("GET", "/")
        if i % 2 == 0:
            a.req("DELETE", f"/api/users/{i}")
            b.req("BREW", "/api/users/9")
    a.close()
    b.close()
    # one more client: curl, its own connection
    htlib.run_cmd(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/index.html"])


NGINX_LOCATIONS = r"""
        location ~ ^/api/users/ {
            if ($request_method = DELETE) { return 204; }
            return 200 "user\n";
        }
        location = /api/items {
            client_body_buffer_size 64k;
            return 201 "created\n";
        }
        location /items/ { return 200 "item\n"; }
        location = /boom { return 500; }
        location = /health { return 200 "ok\n"; }
"""


def test(ctx):
    htlib.require_tools("nginx", "curl", "nsenter", "unshare", NODE_EXPORTER)
    conf, templates, flags, quick = doc_recipe()

    textdir = os.path.join(ctx.tmp, "textfile")
    os.makedirs(textdir)
    os.chmod(textdir, 0o755)
    nginx = htlib.Nginx(ctx, extra_server=NGINX_LOCATIONS)
    os.makedirs(os.path.join(nginx.www, "static", "css"))
    with open(os.path.join(nginx.www, "static", "css", "site.css"), "w") as f:
        f.write("body { color: black }\n")
    for root, dirs, files in os.walk(os.path.join(nginx.www, "static")):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for fn in files:
            os.chmod(os.path.join(root, fn), 0o644)
    os.chmod(os.path.join(nginx.www, "static"), 0o755)
    unit = unit_of(nginx.worker_pids[0])
    log(f"nginx on port {nginx.port}, unit label {unit!r}")

    dirs = htlib_extra.PrivateConfigDirs(ctx)
    dirs.dropin("/etc/http-tracer", "50-metrics.yaml", conf)
    t0 = time.time()
    daemon = htlib_extra.PrivateConfigDaemon(ctx, dirs, args=[
        "--output", "none",
        "--set", f"metrics.textfile_directory={textdir}",
        "--set", "metrics.interval=1s",
        "--set", f"filter.include.local_ports={nginx.port}",
    ]).start()
    textfile = os.path.join(textdir, "http-tracer.prom")

    ne_port = htlib.free_port()
    ne_flags = [f"--collector.textfile.directory={textdir}" if f.startswith("--collector.textfile.directory=") else f
                for f in flags]
    ne = htlib.Proc(ctx, [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{ne_port}",
                          "--collector.disable-defaults", "--collector.textfile"] + ne_flags, "node_exporter")
    htlib.wait_port(ne_port, ne.popen, what="node_exporter")

    # -- known traffic, a reload, more of it
    known_traffic(nginx.port, 6)
    # 10 requests a round, 2 more every other round, and curl's
    lines = htlib.wait_log_lines(nginx, 6 * 10 + 3 * 2 + 1)
    s = wait_scrape(ne_port, unit, len(lines))
    bounds = BUCKETS
    check_series(s, unit, lines, templates, bounds, "before the reload")

    r = daemon.ctl("reload")
    expect(r.returncode == 0, f"reload failed: {r.stderr.decode()[-500:]}")
    known_traffic(nginx.port, 4)
    lines = htlib.wait_log_lines(nginx, len(lines) + 4 * 10 + 2 * 2 + 1)
    s = wait_scrape(ne_port, unit, len(lines))
    heuristic, _ = check_series(s, unit, lines, templates, bounds, "after the reload")
    posts = sum(1 for l in lines if l["method"] == "POST")
    got = [v for _, v in ours(s, unit, "http_tracer_request_body_bytes_total")]
    expect(got == [posts * 1000], f"request_body_bytes_total {got}, sent {posts} x 1000")
    errs = [v for n, l, v in s if n == "node_textfile_scrape_error"]
    expect(errs == [0.0], f"node_textfile_scrape_error {errs}: node_exporter could not parse the file")
    reasons = {l["reason"] for n, l, v in s if n == "http_tracer_dropped_total"}
    for want in ("ring_buffer", "connections_refused", "exchanges_lost", "parse_errors", "output_entries"):
        expect(want in reasons, f"http_tracer_dropped_total has no reason={want}: {sorted(reasons)}")
    start = [v for n, l, v in s if n == "http_tracer_start_time_seconds"]
    expect(len(start) == 1 and t0 - 5 <= start[0] <= time.time(), f"start_time_seconds {start}, daemon started at {t0}")
    # the token in /health?token= never reaches a label
    expect(not any("s3cr3t" in json.dumps(l) for _, l, _ in s), "a query value reached a label")

    # -- the page's quick look
    r = subprocess.run(["sh", "-c", quick.replace("localhost:9100", f"127.0.0.1:{ne_port}")],
                       capture_output=True, timeout=30)
    out = r.stdout.decode()
    # node_exporter writes labels sorted by name
    boom = f'http_tracer_requests_total{{method="GET",role="server",route="/boom",status_class="5xx",unit="{unit}"}}'
    expect(any(l.startswith(boom + " ") for l in out.splitlines()),
           f"the quick look shows no {boom}:\n{out[:2000]}")

    # -- services, as JSON
    r = daemon.ctl("services")
    expect(r.returncode == 0, f"http-tracer services failed: {r.stderr.decode()[-500:]}")
    ans = json.loads(r.stdout)
    rows = [x for x in ans["services"] if x["unit"] == unit and x["role"] == "server"]
    expect(len(rows) == 1, f"services: {len(rows)} rows for {unit}/server")
    if rows:
        want = {}
        for l in lines:
            want[status_class(l["status"])] = want.get(status_class(l["status"]), 0) + 1
        got = {k: v for k, v in rows[0]["status"].items() if v}
        expect(rows[0]["requests"] == len(lines) and got == want,
               f"services: requests {rows[0]['requests']} {got}, nginx logged {len(lines)} {want}")

    # -- a hostile client: 10,000 distinct paths
    rng = random.Random(16)
    hostile = Client(nginx.port)
    for i in range(10000):
        hostile.req("GET", "/q" + "".join(rng.choice(string.ascii_lowercase) for _ in range(10)))
    hostile.close()
    lines = htlib.wait_log_lines(nginx, len(lines) + 10000)
    s = wait_scrape(ne_port, unit, len(lines))
    heuristic2, folded = check_series(s, unit, lines, templates, bounds, "after 10,000 hostile paths")
    expect(folded == 10000 - (ROUTES_MAX - len(heuristic)),
           f"{folded} requests folded, expected 10000 - ({ROUTES_MAX} - {len(heuristic)})")
    routes = {l["route"] for l, _ in ours(s, unit, "http_tracer_requests_total")}
    expect(len(routes) <= ROUTES_MAX + len(templates) + 1, f"{len(routes)} routes after the hostile client")
    n_series = sum(1 for n, l, v in s if n.startswith("http_tracer_") and l.get("unit") == unit)
    bound = len(routes) * (bounds + 3) + len(routes) * 10 * 7 + 3
    log(f"after 10,000 hostile paths: {len(routes)} routes, {n_series} series of {unit} (bound {bound}), "
        f"{folded} requests folded into 'other'")
    expect(n_series <= bound, f"{n_series} series for {unit}, over {bound}")
    other = [v for l, v in ours(s, unit, "http_tracer_requests_total") if l["route"] == "other"]
    expect(other == [folded], f"route=\"other\" {other}, folded {folded}")

    # -- stop: the file goes with the daemon
    ensure(os.path.exists(textfile), "no textfile while running")
    daemon.stop()
    expect(not os.path.exists(textfile), "the textfile is still there after the daemon stopped")
    ne.stop()


htlib.run(test)
