#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the daemon decides in user space, against real nginx traffic seen
through the real BPF programs, with entries read back from journald:

- filters: filter.include.comms / methods and filter.exclude.paths keep
  exactly the matching exchanges; filter.include.exes (the executable the
  kernel named at connection time) keeps a python client that has exited
  and this test process, and nothing of nginx's worker;
- sampling: sampling.rate=20% logs a share within a wide binomial tolerance,
  and every 5xx (sampling.keep_errors) -- sampled out + logged is exact;
- rate limit: logged + rate-limited is exactly every exchange, and the
  rate-limit summary entries add up to exactly the rate-limited count; the
  statistics entry written at stop carries the same counts.

Each run restricts itself with filter.include.paths to a random path prefix,
so traffic of other programs on the host is filtered and cannot disturb the
exact counts."""

import os
import secrets

import htlib
from htlib import expect, ensure, log


def requests(port, paths, method="GET"):
    """One keep-alive connection from this (python3) process; returns the statuses."""
    statuses = []
    with htlib.connect(port) as c:
        for p in paths:
            c.sendall(f"{method} {p} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".encode())
            statuses.append(htlib.read_response(c)[0])
    return statuses


def entries(daemon, port, kind="d0a21e5e3f34fda1ea3a6c8d562c83a1"):
    """Every entry of a stopped daemon run for the port: exact, read after its final entry."""
    return htlib.journal_final(daemon, f"SERVER_PORT={port}", f"MESSAGE_ID={kind}")


def run_filters(ctx, nginx, prefix):
    daemon = htlib.Daemon(ctx, ["-s", "filter.include.comms=nginx", "-s", "filter.include.methods=GET",
                                "-s", f"filter.exclude.paths={prefix}/skip"], name="filters").start()
    requests(nginx.port, [f"{prefix}/a"] * 5 + [f"{prefix}/skip/x"] * 3)
    requests(nginx.port, [f"{prefix}/a"] * 2, method="POST")
    htlib.wait_log_lines(nginx, 10)
    stats = daemon.stop()
    got = entries(daemon, nginx.port)
    expect(len(got) == 5, f"filters: {len(got)} entries, expected the 5 GETs outside {prefix}/skip on nginx's side")
    expect(all(e.get("HTTP_ROLE") == "server" and e.get("HTTP_METHOD") == "GET" and
               e.get("HTTP_TARGET") == f"{prefix}/a" for e in got),
           f"filters: an entry that should have been filtered: {[(e.get('HTTP_ROLE'), e.get('HTTP_TARGET')) for e in got]}")
    # 10 exchanges seen twice (nginx and this client), 5 kept.
    expect(stats.get("filtered", 0) >= 15, f"filters: filtered={stats.get('filtered')}, expected >= 15")


CLIENT = """
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
for _ in range(int(sys.argv[3])):
    s.sendall(("GET %s HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n" % sys.argv[2]).encode())
    n = 0
    while True:
        line = f.readline()
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
        if line in (b"\\r\\n", b""):
            break
    f.read(n)
"""


def run_exes(ctx, nginx, prefix):
    """The kernel names the executable when it first sees a connection, so
    the include list matches whatever /proc would hide by then: a client that
    has exited before its exchanges are parsed, and this test process (root
    with capabilities). nginx's worker is another executable: filtered."""
    daemon = htlib.Daemon(ctx, ["-s", "filter.include.exes=/usr/bin/python3*",
                                "-s", f"filter.include.paths={prefix}/"], name="exes").start()
    client = htlib.Proc(ctx, ["/usr/bin/python3", "-c", CLIENT, str(nginx.port), f"{prefix}/e", "4"],
                        "exes-client")
    ensure(client.popen.wait(60) == 0, f"the python client failed: {client.stderr_text()[-2000:]}")
    requests(nginx.port, [f"{prefix}/e"] * 3)
    daemon.stop()
    got = entries(daemon, nginx.port)
    roles = sorted(e.get("HTTP_ROLE") for e in got)
    expect(roles == ["client"] * 7,
           f"exes: roles {roles}, expected 7 client entries (the exited python client's 4 and this "
           f"process's 3) and none from nginx's worker")


def run_sampling(ctx, nginx, prefix):
    n, m = 400, 20
    daemon = htlib.Daemon(ctx, ["-s", "sampling.rate=20%", "-s", f"filter.include.paths={prefix}/"],
                          name="sampling").start()
    statuses = requests(nginx.port, [f"{prefix}/s"] * n + [f"{prefix}/err"] * m)
    ensure(statuses.count(503) == m, f"fixture: {statuses.count(503)} 503s from nginx, expected {m}")
    stats = daemon.stop()
    got = entries(daemon, nginx.port)
    errors = [e for e in got if e.get("HTTP_STATUS") == "503"]
    sampled = [e for e in got if e.get("HTTP_STATUS") == "404"]
    expect(len(errors) == 2 * m, f"sampling: {len(errors)} 5xx entries, expected all {2 * m} (keep_errors)")
    # 2n exchanges at 20 %: mean 160, standard deviation 11.3; +-60 is over 5 sigma.
    expect(100 <= len(sampled) <= 220, f"sampling: {len(sampled)} of {2 * n} logged, expected about {2 * n // 5}")
    expect(len(sampled) + stats.get("sampled_out", -1) == 2 * n,
           f"sampling: logged {len(sampled)} + sampled_out {stats.get('sampled_out')} != {2 * n}")
    log(f"sampling: {len(sampled)} of {2 * n} logged at 20 %, all {2 * m} errors kept")


def run_rate_limit(ctx, nginx, prefix):
    n = 600
    daemon = htlib.Daemon(ctx, ["-s", "rate_limit.per_second=50", "-s", "rate_limit.burst=20",
                                "-s", "rate_limit.summary_interval=1s", "-s", "stats.interval=1s",
                                "-s", f"filter.include.paths={prefix}/"], name="ratelimit").start()
    requests(nginx.port, [f"{prefix}/r"] * n)
    stats = daemon.stop()
    got = entries(daemon, nginx.port)
    limited = stats.get("rate_limited", -1)
    expect(limited > 0, f"rate limit: nothing refused ({stats})")
    expect(len(got) + limited == 2 * n,
           f"rate limit: logged {len(got)} + rate_limited {limited} != {2 * n} exchanges")
    summaries = htlib.journal_final(daemon, "MESSAGE_ID=087dbf698cfc445a8defe71b8b00d0ef")
    total = sum(int(e.get("HTTP_TRACER_RATE_LIMITED", 0)) for e in summaries)
    expect(total == limited, f"rate limit: summaries add up to {total}, the daemon refused {limited}")
    expect(all(e.get("HTTP_TRACER_RATE_LIMIT") == "50" and e.get("PRIORITY") == "5" for e in summaries),
           f"rate limit: summary fields {summaries[:1]}")
    log(f"rate limit: {len(got)} logged, {limited} refused, reported in {len(summaries)} summary entries")
    # The statistics entry written at stop carries the same final counts.
    stats_entries = htlib.journal_final(daemon, "MESSAGE_ID=e64806dfcd6b4de8b4ea199f678fad44")
    ensure(stats_entries, "no statistics entry (stats.interval=1s, and one at stop)")
    last = max(stats_entries, key=lambda e: int(e["__MONOTONIC_TIMESTAMP"]))
    expect(last.get("HTTP_TRACER_RATE_LIMITED") == str(limited) and
           last.get("HTTP_TRACER_FILTERED") == str(stats.get("filtered")),
           f"last statistics entry: rate_limited={last.get('HTTP_TRACER_RATE_LIMITED')} "
           f"filtered={last.get('HTTP_TRACER_FILTERED')}, the daemon counted {limited} and {stats.get('filtered')}")


def test(ctx):
    htlib.require_tools("nginx")
    nginx = htlib.Nginx(ctx, extra_server="location ~ /err$ { return 503; }")
    prefix = "/sel-" + secrets.token_hex(4)
    run_filters(ctx, nginx, prefix)
    run_exes(ctx, nginx, prefix)
    run_sampling(ctx, nginx, prefix)
    run_rate_limit(ctx, nginx, prefix)


if __name__ == "__main__":
    htlib.run(test)
