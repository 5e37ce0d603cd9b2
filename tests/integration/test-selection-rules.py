#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Selection rules the daemon applies in user space (docs/configuration.md
"Filters", "Sampling and rate limit"), against real nginx traffic through
the real BPF programs, entries read back from journald:

- filter.include.statuses (codes and classes) with filter.exclude.statuses
  (a code inside an included class): exactly the matching exchanges, both
  roles;
- filter.exclude.comms: nginx's worker and a client whose comm is
  `ht-excl-cli` are never traced; this test process (python3) is;
- filter.exclude.exes: executables as the kernel named them when the
  connection was first seen: a capability-less python client and this test
  process (root with capabilities, whose /proc/PID/exe the daemon cannot
  read) both run python3.x and are excluded; nginx's worker (another
  user) is known as /usr/sbin/nginx and stays; no 'cannot read' warning;
- sampling.rules from a YAML file, first match wins: rate 1 and rate 0
  rules are deterministic (exact counts); a path-prefix rule below a more
  specific one; the query string is not part of the path; keep_errors
  keeps a 5xx under a rate-0 rule (and does not when off); a rate-0.5 glob
  rule is checked statistically (bounds whose chance of a false failure is
  computed below and is under 1e-12); logged + sampled_out is exact.

Each run restricts itself with filter.include.paths to a random prefix, so
other traffic on the host cannot disturb the counts; every count is read
after the stopped daemon's final entry is in the journal."""

import math
import os
import secrets

import htlib
import htlib_extra
from htlib import expect, ensure, log

MID_COMPLETE = htlib_extra.MID_COMPLETE


def requests(port, paths, method="GET"):
    """Keep-alive requests from this (python3) process; returns the statuses.

    nginx closes the connection after a 500: the next request opens another."""
    statuses = []
    c = htlib.connect(port)
    try:
        for p in paths:
            c.sendall(f"{method} {p} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".encode())
            status, headers, _, _ = htlib.read_response(c)
            statuses.append(status)
            if headers.get("connection", "").lower() == "close":
                c.close()
                c = htlib.connect(port)
    finally:
        c.close()
    return statuses


def entries(daemon, port):
    """Complete-exchange entries of a stopped daemon run for the port (after its final entry)."""
    return htlib.journal_final(daemon, f"SERVER_PORT={port}", f"MESSAGE_ID={MID_COMPLETE}")


def summary(got):
    return sorted((e.get("HTTP_ROLE"), e.get("HTTP_PATH"), e.get("HTTP_STATUS")) for e in got)


def run_statuses(ctx, nginx, prefix):
    daemon = htlib.Daemon(ctx, ["-s", f"filter.include.paths={prefix}/",
                                "-s", "filter.include.statuses=404,5xx",
                                "-s", "filter.exclude.statuses=503"], name="statuses").start()
    paths = ([f"{prefix}/ok"] * 3 + [f"{prefix}/missing"] * 2 + [f"{prefix}/err"] * 2
             + [f"{prefix}/e500"] * 2 + [f"{prefix}/e502"])
    st = requests(nginx.port, paths)
    ensure(st == [200] * 3 + [404] * 2 + [503] * 2 + [500] * 2 + [502], f"fixture: nginx answered {st}")
    stats = daemon.stop()
    got = entries(daemon, nginx.port)
    want = sorted([(r, f"{prefix}/missing", "404") for r in ("server", "client")] * 2
                  + [(r, f"{prefix}/e500", "500") for r in ("server", "client")] * 2
                  + [(r, f"{prefix}/e502", "502") for r in ("server", "client")])
    expect(summary(got) == want, f"statuses: entries {summary(got)}, expected {want}")
    # 200s and 503s of both roles; other traffic on the host may add to it.
    expect(stats.get("filtered", 0) >= 10, f"statuses: filtered={stats.get('filtered')}, expected >= 10")


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
print("done", flush=True)
# Stay alive until the daemon has stopped: it reads /proc/PID (comm, exe)
# when an exchange completes. The test then opens the fifo.
open(sys.argv[4]).read()
"""


class HeldClient:
    """A python client making `n` requests, then alive until release()."""

    def __init__(self, ctx, name, argv_prefix, port, target, n):
        self.fifo = os.path.join(ctx.tmp, f"{name}.fifo")
        os.mkfifo(self.fifo)
        self.proc = htlib.Proc(ctx, argv_prefix + ["-c", CLIENT, str(port), target, str(n), self.fifo], name)
        htlib_extra.poll(lambda: "done" in self.proc.stdout_text() or self.proc.poll() is not None,
                         f"{name} to finish its requests", timeout=60)
        ensure(self.proc.poll() is None, f"{name} exited early: {self.proc.stderr_text()[-2000:]}")

    def release(self):
        with open(self.fifo, "w"):
            pass
        ensure(self.proc.popen.wait(60) == 0, f"{self.proc.name} failed: {self.proc.stderr_text()[-2000:]}")


def run_exclude_comms(ctx, nginx, prefix):
    # comm is the basename of the executed file: a symlink named ht-excl-cli.
    link = os.path.join(ctx.tmp, "ht-excl-cli")
    os.symlink("/usr/bin/python3", link)
    daemon = htlib.Daemon(ctx, ["-s", f"filter.include.paths={prefix}/",
                                "-s", "filter.exclude.comms=nginx,ht-excl-cli"], name="excomms").start()
    cli = HeldClient(ctx, "excomms-client", [link], nginx.port, f"{prefix}/c", 3)
    expect(htlib_extra.comm_of(cli.proc.pid) == "ht-excl-cli",
           f"fixture: the client's comm is {htlib_extra.comm_of(cli.proc.pid)!r}")
    requests(nginx.port, [f"{prefix}/t"] * 4)
    daemon.stop()
    cli.release()
    got = entries(daemon, nginx.port)
    want = [("client", f"{prefix}/t", "200")] * 4
    expect(summary(got) == want, f"exclude.comms: entries {summary(got)}, expected only this process's "
                                 f"4 client entries (nginx and ht-excl-cli excluded)")
    expect(all(e.get("PROCESS_PID") == str(os.getpid()) for e in got),
           f"exclude.comms: PROCESS_PIDs {sorted({e.get('PROCESS_PID') for e in got})}, expected {os.getpid()}")


def run_exclude_exes(ctx, nginx, prefix):
    htlib.require_tools("setpriv")
    daemon = htlib.Daemon(ctx, ["-s", f"filter.include.paths={prefix}/",
                                "-s", "filter.exclude.exes=/usr/bin/python3*"], name="exexes").start()
    cli = HeldClient(ctx, "exexes-client", ["setpriv", "--bounding-set=-all", "--inh-caps=-all",
                                            "/usr/bin/python3"], nginx.port, f"{prefix}/x", 3)
    requests(nginx.port, [f"{prefix}/t"] * 2)
    daemon.stop()
    cli.release()
    got = entries(daemon, nginx.port)
    want = sorted([("server", f"{prefix}/x", "200")] * 3 + [("server", f"{prefix}/t", "200")] * 2)
    expect(summary(got) == want,
           f"exclude.exes: entries {summary(got)}, expected {want}: both python clients (this process "
           f"too) excluded by their kernel-named executable; nginx's worker kept")
    clients = {e.get("PROCESS_PID") for e in got if e.get("HTTP_ROLE") == "client"}
    expect(not clients, f"exclude.exes: client entries of pids {clients}")
    err = daemon.proc.stderr_text()
    warned = [l for l in err.splitlines() if l.startswith("Cannot read the executable of PID ")]
    expect(not warned, f"exclude.exes: {len(warned)} 'Cannot read the executable' warnings, but the kernel "
                       f"named every executable; stderr:\n{err[-1500:]}")


def binomial_outside(n, p, lo, hi):
    """P(X < lo or X > hi) for X ~ Binomial(n, p), exactly."""
    inside = sum(math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(lo, hi + 1))
    return max(0.0, 1.0 - inside)


def run_sampling_rules(ctx, nginx, prefix, keep_errors=True):
    conf = os.path.join(ctx.tmp, f"rules-{keep_errors}.yaml")
    with open(conf, "w") as f:
        f.write(f"""sampling:
  rate: 0
  keep_errors: {'yes' if keep_errors else 'no'}
  rules:
    - {{path: {prefix}/keep/sub, rate: 1}}
    - {{path: {prefix}/keep, rate: 0}}
    - {{path: "{prefix}/half/*", rate: 0.5}}
    - {{path: {prefix}/all, rate: 100%}}
    - {{path: {prefix}/keep/never, rate: 1}}
filter:
  include:
    paths: [{prefix}/]
""")
    name = "rules" if keep_errors else "rules-noerr"
    daemon = htlib.Daemon(ctx, ["--config", conf], name=name).start()
    n_half = 300
    st = requests(nginx.port, [f"{prefix}/keep/sub/x"] * 10 + [f"{prefix}/keep/other"] * 10
                  + [f"{prefix}/keep/never"] * 5 + [f"{prefix}/keep/err"] * 3 + [f"{prefix}/zero"] * 10
                  + [f"{prefix}/all?x=1"] * 10 + [f"{prefix}/allx"] * 5 + [f"{prefix}/half/a/b"] * n_half)
    ensure(st.count(503) == 3, f"fixture: {st.count(503)} 503s from nginx, expected 3")
    total = 2 * len(st)
    stats = daemon.stop()
    got = entries(daemon, nginx.port)
    by_path = {}
    for e in got:
        by_path[e.get("HTTP_PATH")] = by_path.get(e.get("HTTP_PATH"), 0) + 1
    exact = {f"{prefix}/keep/sub/x": 20, f"{prefix}/all": 20,
             f"{prefix}/keep/err": 6 if keep_errors else 0}
    for path, want in exact.items():
        expect(by_path.get(path, 0) == want, f"{name}: {by_path.get(path, 0)} entries of {path}, expected {want}")
    for path in (f"{prefix}/keep/other", f"{prefix}/keep/never", f"{prefix}/zero", f"{prefix}/allx"):
        expect(path not in by_path, f"{name}: {by_path.get(path)} entries of {path}, its rate is 0 "
                                    "(first matching rule, or sampling.rate)")
    half = by_path.get(f"{prefix}/half/a/b", 0)
    # 600 independent draws at 0.5: mean 300, sd 12.2; [210, 390] is +-7.3 sd.
    lo, hi = 210, 390
    p_false = binomial_outside(2 * n_half, 0.5, lo, hi)
    expect(lo <= half <= hi, f"{name}: {half} of {2 * n_half} logged at rate 0.5, expected {lo}..{hi} "
                             f"(a correct sampler lands outside with probability {p_false:.1e})")
    expect(len(got) + stats.get("sampled_out", -1) == total,
           f"{name}: logged {len(got)} + sampled_out {stats.get('sampled_out')} != {total} exchanges")
    log(f"{name}: {half} of {2 * n_half} at 0.5 (false-failure probability {p_false:.1e}), {by_path}")


def test(ctx):
    htlib.require_tools("nginx")
    prefix = "/rules-" + secrets.token_hex(4)
    nginx = htlib.Nginx(ctx, extra_server=(
        f'location {prefix}/ {{ return 200 "ok\\n"; }} '
        "location ~ /err$ { return 503; } location ~ /e500$ { return 500; } "
        "location ~ /e502$ { return 502; } location ~ /missing$ { return 404; }"))
    run_statuses(ctx, nginx, prefix)
    run_exclude_comms(ctx, nginx, prefix)
    run_exclude_exes(ctx, nginx, prefix)
    run_sampling_rules(ctx, nginx, prefix)
    run_sampling_rules(ctx, nginx, prefix, keep_errors=False)


if __name__ == "__main__":
    htlib.run(test)
