#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""--record FILE while nginx serves traffic (output --output json on
stdout), then --replay FILE --output json as an unprivileged user
(nobody, no capabilities): the replay prints exactly the exchanges the live
run printed, field for field, and the live run matches nginx's access log
(durations between nginx's $request_time and this client's own round trip,
one request slowed to ~0.6 s so that those bounds have teeth)."""

import os
import time

import htlib
from htlib import expect, ensure, log

FIELDS = ("MESSAGE_ID", "PRIORITY", "MESSAGE", "HTTP_METHOD", "HTTP_TARGET", "HTTP_PATH", "HTTP_VERSION",
          "HTTP_STATUS", "HTTP_HOST", "HTTP_USER_AGENT", "HTTP_REQUEST_BODY_BYTES",
          "HTTP_RESPONSE_BODY_BYTES", "HTTP_DURATION_USEC", "HTTP_ROLE", "CLIENT_ADDR", "CLIENT_PORT",
          "SERVER_ADDR", "SERVER_PORT", "PROCESS_PID", "TRACE_ID", "SPAN_ID")


def norm(o):
    return {k: str(o[k]) for k in FIELDS if k in o}


def test(ctx):
    htlib.require_tools("nginx", "setpriv")
    nginx = htlib.Nginx(ctx, extra_server=htlib.NGINX_SLOW_LOCATION)
    host = f"127.0.0.1:{nginx.port}"
    rtt = htlib.RoundTrips()
    rec = os.path.join(ctx.tmp, "trace.htrec")
    daemon = htlib.Daemon(ctx, ["--record", rec, "--output", "json"]).start()
    targets = ("/index.html", "/index.html?r=2", "/missing", "/big.bin", "/slow.bin")
    with htlib.connect(nginx.port) as s:
        for i, t in enumerate(targets):
            with rtt.measure((s.local_port, i + 1)):
                s.sendall(f"GET {t} HTTP/1.1\r\nHost: {host}\r\ntraceparent: {htlib.TRACEPARENT}\r\n\r\n".encode())
                htlib.read_response(s)
        with rtt.measure((s.local_port, len(targets) + 1)):
            s.sendall(f"POST /post HTTP/1.1\r\nHost: {host}\r\nContent-Length: 4\r\n\r\nbody".encode())
            htlib.read_response(s)
    pipe = "".join(f"GET /index.html?pipe={i} HTTP/1.1\r\nHost: {host}\r\n"
                   f"{'Connection: close' + chr(13) + chr(10) if i == 2 else ''}\r\n" for i in range(3))
    with htlib.connect(nginx.port) as s:
        t0 = time.monotonic()
        s.sendall(pipe.encode())
        for i in range(3):
            htlib.read_response(s)
            # Each pipelined exchange lies between the one send and the read of its own response.
            rtt.add((s.local_port, i + 1), (time.monotonic() - t0) * 1e6)
    n = len(targets) + 1 + 3
    log_lines = htlib.wait_log_lines(nginx, n)
    ensure(len(log_lines) == n, f"fixture: nginx logged {len(log_lines)}, sent {n}")
    daemon.stop()

    ensure(os.path.exists(rec) and os.path.getsize(rec) > 0, f"--record wrote nothing to {rec}")
    live_all = htlib.parse_json_lines(daemon.proc.stdout_text())
    live = [o for o in live_all if str(o.get("SERVER_PORT")) == str(nginx.port)]
    live_server = [norm(o) for o in live if o.get("HTTP_ROLE") == "server"]
    log(f"live --output json: {len(live_all)} objects, {len(live_server)} server-side for our nginx")
    htlib.check_nginx_pairs(log_lines, live_server, nginx.port, rtt, min_slow=1)

    # Replay without privileges: no root, no capabilities.
    os.chmod(rec, 0o644)
    r = htlib.run_cmd(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                       "--bounding-set=-all", htlib.HTTP_TRACER, "--replay", rec, "--output", "json"],
                      timeout=120, check=False)
    err = r.stderr.decode("utf-8", "replace")
    expect(r.returncode == 0, f"--replay as nobody exited {r.returncode}: {err[-2000:]}")
    expect(not any(htlib.SANITIZER_RE.search(l) for l in err.splitlines()), f"sanitizer report in replay:\n{err}")
    replay_all = htlib.parse_json_lines(r.stdout.decode("utf-8", "replace"))
    replay = [o for o in replay_all if str(o.get("SERVER_PORT")) == str(nginx.port)]
    log(f"replay: {len(replay_all)} objects, {len(replay)} for our nginx")
    key = lambda o: sorted(o.items())
    a = sorted((norm(o) for o in live), key=key)
    b = sorted((norm(o) for o in replay), key=key)
    expect(len(a) == len(b), f"replay printed {len(b)} exchanges for our nginx, the live run {len(a)}")
    diffs = [(x, y) for x, y in zip(a, b) if x != y]
    for x, y in diffs[:5]:
        expect(False, "replay differs from live run:\n  live:   "
               + str({k: v for k, v in x.items() if y.get(k) != v})
               + "\n  replay: " + str({k: v for k, v in y.items() if x.get(k) != v}))
    # The daemon's own entries (the statistics entry a live run writes at stop; drop warnings)
    # describe the run, not the traffic: compare traffic entries only.
    own = {"e64806dfcd6b4de8b4ea199f678fad44", "5178c98922794d619bfcbf3dd749dfbd"}
    traffic = lambda objs: [o for o in objs if o.get("MESSAGE_ID") not in own]  # noqa: E731
    expect(len(traffic(replay_all)) == len(traffic(live_all)),
           f"replay printed {len(traffic(replay_all))} traffic entries in all, the live run {len(traffic(live_all))}")


if __name__ == "__main__":
    htlib.run(test)
