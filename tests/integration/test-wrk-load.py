#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""wrk against nginx for a few seconds at a moderate, paced rate: the
server-role entries equal nginx's access log (then each one is checked like
the nginx test), or, if some are missing, every missing one is accounted
for by the daemon's Statistics counters (ring buffer drops, dropped
entries, no-response/uncorrelated/parse-error entries). Never more entries
than requests. Kept below ~9000 journal entries unless journald's rate
limit is lifted."""

import glob
import os
import re

import htlib
from htlib import expect, ensure, log

DURATION_S = 3


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
    script = os.path.join(ctx.tmp, "pace.lua")
    with open(script, "w") as f:
        f.write(f"function delay() return {delay_ms} end\n")
    daemon = htlib.Daemon(ctx).start()
    wrk = htlib.Proc(ctx, ["wrk", "-t1", f"-c{conns}", f"-d{DURATION_S}s", "-s", script,
                           nginx.url("/index.html")], "wrk")
    wrk.popen.wait(DURATION_S + 30)
    ensure(wrk.popen.returncode == 0, f"wrk failed: {wrk.stderr_text()}")
    log("wrk: " + " | ".join(l.strip() for l in wrk.stdout_text().splitlines() if "requests" in l))
    nginx.stop()  # closes wrk's leftovers; every request is logged by now
    log_lines = nginx.log_lines()
    n = len(log_lines)
    ensure(n > 100, f"fixture: nginx logged only {n} requests under wrk")
    daemon.stop(timeout=60)

    entries = htlib.journal_wait(daemon.pid, f"SERVER_PORT={nginx.port}", "HTTP_ROLE=server",
                                 expected=n, timeout=60)
    complete = [e for e in entries if "HTTP_STATUS" in e and "HTTP_METHOD" in e]
    no_resp = [e for e in entries if "HTTP_STATUS" not in e and "HTTP_METHOD" in e]
    rest = len(entries) - len(complete) - len(no_resp)
    client = [e for e in htlib.journal_query(daemon.pid, f"SERVER_PORT={nginx.port}", "HTTP_ROLE=client")
              if e.get("OBJECT_PID") == str(wrk.pid)]
    log(f"rate limit lifted: {lifted}; nginx logged {n}; journal: {len(complete)} complete, "
        f"{len(no_resp)} no-response, {rest} other server entries, {len(client)} wrk client entries")

    expect(len(complete) <= n, f"more complete entries ({len(complete)}) than requests nginx logged ({n})")
    missing = n - len(complete)
    if missing == 0:
        htlib.check_nginx_pairs(log_lines, complete, nginx.port)
    else:
        counters = {k: daemon.stat(k) for k in ("ringbuf_drops", "entries_dropped", "uncorrelated",
                                                "parse_errors")}
        accounted = sum(counters.values()) + len(no_resp)
        expect(missing <= accounted,
               f"{missing} of {n} requests have no complete entry and only {accounted} are accounted for "
               f"({counters}, no-response entries {len(no_resp)})")
        sup = htlib.journald_suppressions(0)
        if sup:
            log("journald suppressed messages: " + "; ".join(sup[-3:]))
    # wrk's side: one client entry per request it completed (it abandons at
    # most one in-flight request per connection when it stops).
    wrk_complete = [e for e in client if "HTTP_STATUS" in e]
    expect(n - conns - daemon.stat("ringbuf_drops") - daemon.stat("entries_dropped")
           <= len(wrk_complete) <= n,
           f"wrk client-role complete entries {len(wrk_complete)} vs {n} requests ({conns} connections)")


if __name__ == "__main__":
    htlib.run(test)
