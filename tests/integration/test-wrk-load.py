#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""wrk against nginx at a moderate, paced rate for a bounded number of
requests (a total the journal output's queue holds, see MAX_REQUESTS_*): the
server-role entries equal nginx's access log, each one checked like the
nginx test. The rate is paced well below what the daemon and journald
sustain on this machine, so nothing may be lost: zero ring-buffer drops,
zero dropped entries, zero missing entries (a daemon that dropped most of
its input used to pass here, its losses "accounted for" by the counters).
Durations: nginx's $request_time as a lower bound; wrk cannot time each
request, so the upper bound is a sanity one, wrk's whole run as this test
timed it. wrk's own side: one client entry per request it completed. Kept
below ~9000 journal entries unless journald's rate limit is lifted."""

import glob
import os
import re
import signal
import time

import htlib
from htlib import expect, ensure, log

# An upper bound only: wrk stops itself after MAX_REQUESTS (below).
DURATION_S = 30

# Why a total and not only a rate: the journal output's queue
# (JOURNAL_QUEUE_MAX_ENTRIES, 16384, behind an 8 MiB socket buffer) absorbs
# any burst of fewer entries, however slow journald is; a pace alone does
# not. Under stress-ng --cpu 2 journald gets a third of the machine and
# fell behind wrk's paced 8 x 1/ms, and a 3 s run then made more entries
# (~15000-48000, two per request) than the queue holds: entries_dropped=1944
# in a run last session, rightly counted by the daemon. With at most
# MAX_REQUESTS (two entries each, plus wrk's abandoned ones) the entries
# always fit, and the test waits for journald to take them before stopping
# the daemon (whose shutdown flush is bounded, SHUTDOWN_FLUSH_USEC).
# Unlifted: journald's default rate limit is 10000 entries / 30 s per unit.
MAX_REQUESTS_LIFTED = 6000
MAX_REQUESTS_LIMITED = 4000


def rate_limit_lifted():
    for f in sorted(glob.glob("/run/systemd/journald.conf.d/*.conf") +
                    glob.glob("/etc/systemd/journald.conf.d/*.conf") + ["/etc/systemd/journald.conf"]):
        try:
            if re.search(r"^\s*RateLimitIntervalSec\s*=\s*0\s*$", open(f).read(), re.M):
                return True
        except OSError:
            pass
    return False


def test(ctx):
    htlib.require_tools("nginx", "wrk")
    nginx = htlib.Nginx(ctx)
    lifted = rate_limit_lifted()
    # wrk's delay() paces each connection (ms between requests). Every
    # request makes two entries (nginx's and wrk's).
    conns, delay_ms = (8, 1) if lifted else (2, 2)
    max_requests = MAX_REQUESTS_LIFTED if lifted else MAX_REQUESTS_LIMITED
    script = os.path.join(ctx.tmp, "pace.lua")
    with open(script, "w") as f:
        # One thread (-t1): the count is wrk's whole run.
        f.write(f"local n = 0\n"
                f"function delay() return {delay_ms} end\n"
                f"function response(status, headers, body)\n"
                f"  n = n + 1\n"
                f"  if n >= {max_requests} then wrk.thread:stop() end\n"
                f"end\n")
    # The daemon traces only nginx's worker and wrk (filter.include.pids,
    # in the kernel): its counters then speak of this traffic alone, not of
    # whatever else runs on the host. wrk's pid is known before the daemon
    # starts: a shell waits on a fifo, then execs wrk under the same pid.
    go = os.path.join(ctx.tmp, "go.fifo")
    os.mkfifo(go)
    wrk = htlib.Proc(ctx, ["sh", "-c", f'read x < {go} && exec wrk -t1 -c{conns} -d{DURATION_S}s '
                                       f'-s {script} {nginx.url("/index.html")}'], "wrk")
    pids = ",".join(str(p) for p in nginx.worker_pids + [wrk.pid])
    daemon = htlib.Daemon(ctx, ["-s", f"filter.include.pids={pids}"]).start()
    t0 = time.monotonic()
    with open(go, "w") as f:
        f.write("go\n")
    # wrk's thread stops itself after max_requests, but wrk then sleeps out
    # its -d: once nginx has logged them, SIGINT ends that sleep (wrk prints
    # its summary and exits 0). Polled, not timed: on a slow machine wrk may
    # also just reach DURATION_S first.
    while wrk.poll() is None:
        try:
            with open(nginx.access_log, "rb") as f:
                logged = f.read().count(b"\n")
        except FileNotFoundError:
            logged = 0
        if logged >= max_requests:
            wrk.popen.send_signal(signal.SIGINT)
            break
        time.sleep(0.1)
    wrk.popen.wait(DURATION_S + 60)
    wrk_run_us = (time.monotonic() - t0) * 1e6
    ensure(wrk.popen.returncode == 0, f"wrk failed: {wrk.stderr_text()}")
    log("wrk: " + " | ".join(l.strip() for l in wrk.stdout_text().splitlines() if "requests" in l))
    nginx.stop()  # closes wrk's leftovers; every request is logged by now
    log_lines = nginx.log_lines()
    n = len(log_lines)
    ensure(n > 100, f"fixture: nginx logged only {n} requests under wrk")
    ensure(n <= max_requests + conns, f"fixture: nginx logged {n} requests, wrk was to stop after {max_requests}")
    # Stop the daemon once journald has taken its entries (a server entry per
    # request, a client one per request wrk completed), not after a guess:
    # its shutdown flush waits only so long. The deadline bounds a failure.
    htlib.journal_wait(daemon.pid, f"SERVER_PORT={nginx.port}", expected=2 * n - conns, timeout=300)
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={nginx.port}", "HTTP_ROLE=server")
    complete = [e for e in entries if "HTTP_STATUS" in e and "HTTP_METHOD" in e]
    no_resp = [e for e in entries if "HTTP_STATUS" not in e and "HTTP_METHOD" in e]
    rest = len(entries) - len(complete) - len(no_resp)
    client = [e for e in htlib.journal_query(daemon.pid, f"SERVER_PORT={nginx.port}", "HTTP_ROLE=client")
              if e.get("PROCESS_PID") == str(wrk.pid)]
    log(f"rate limit lifted: {lifted}; nginx logged {n}; journal: {len(complete)} complete, "
        f"{len(no_resp)} no-response, {rest} other server entries, {len(client)} wrk client entries")

    # At this paced rate nothing may be lost anywhere.
    for k in ("ringbuf_drops", "bytes_lost", "entries_dropped", "parse_errors", "uncorrelated"):
        expect(daemon.stat(k) == 0, f"{k}={daemon.stat(k)} at a paced {conns} x 1/{delay_ms} ms (expected 0)")
    expect(len(complete) == n, f"{len(complete)} complete server entries for the {n} requests nginx logged "
                               f"({n - len(complete)} missing)")
    expect(not no_resp and rest == 0, f"nginx answered every request it logged, yet the journal has "
                                      f"{len(no_resp)} no-response and {rest} other server entries")
    # Each exchange happened within wrk's run: the sanity upper bound
    # (wrk cannot time its requests one by one).
    htlib.check_nginx_pairs(log_lines, complete, nginx.port, upper_us=wrk_run_us,
                            upper_why=f"the whole wrk run took {wrk_run_us:.0f} us")
    # wrk's side: one client entry per request it completed (it abandons at
    # most one in-flight request per connection when it stops).
    wrk_complete = [e for e in client if "HTTP_STATUS" in e]
    expect(n - conns <= len(wrk_complete) <= n,
           f"wrk client-role complete entries {len(wrk_complete)} vs {n} requests ({conns} connections)")


if __name__ == "__main__":
    htlib.run(test)
