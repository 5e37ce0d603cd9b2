#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Client side: curl's requests (one keep-alive invocation with three URLs,
one POST) give HTTP_ROLE=client entries with curl's pid as PROCESS_PID, the
same client port, target and status as nginx logged, curl's User-Agent, and
a duration no shorter than the server's own entry for the same request."""

import htlib
from htlib import expect, ensure, log


def test(ctx):
    htlib.require_tools("nginx", "curl")
    nginx = htlib.Nginx(ctx)
    daemon = htlib.Daemon(ctx).start()

    urls = [nginx.url("/index.html"), nginx.url("/missing"), nginx.url("/index.html?c=3")]
    pid_ka, _ = htlib.curl(*sum((["-o", "/dev/null", u] for u in urls), []))
    pid_post, out = htlib.curl("-o", "/dev/null", "--data-binary", "x" * 2000,
                               nginx.url("/post"))
    expected = {pid_ka: [("GET", "/index.html", "200"), ("GET", "/missing", "404"),
                         ("GET", "/index.html?c=3", "200")],
                pid_post: [("POST", "/post", "200")]}
    log_lines = htlib.wait_log_lines(nginx, 4)
    ensure(len(log_lines) == 4, f"fixture: nginx logged {len(log_lines)} requests, curl sent 4")
    ensure(len({l["remote_port"] for l in log_lines[:3]}) == 1,
           "fixture: curl did not reuse its connection for the three URLs")
    daemon.stop()

    # Exact counts: read once journald holds the run's final entry.
    entries = htlib.journal_final(daemon, f"SERVER_PORT={nginx.port}")
    client = sorted(htlib.entries_for_server(entries, nginx.port, "client"), key=htlib.entry_order)
    server = htlib.entries_for_server(entries, nginx.port, "server")
    log(f"journal: {len(client)} client and {len(server)} server entries")
    for pid, want in expected.items():
        got = [(e.get("HTTP_METHOD"), e.get("HTTP_TARGET"), e.get("HTTP_STATUS"))
               for e in client if e.get("PROCESS_PID") == str(pid)]
        expect(got == want, f"client entries of curl pid {pid}: {got}, expected {want}")
    expect(len(client) == 4, f"{len(client)} client-role entries, expected 4 (one per curl request)")

    by_key = {(e.get("CLIENT_PORT"), e.get("HTTP_TARGET")): e for e in server}
    for e in client:
        what = f"client {e.get('HTTP_METHOD')} {e.get('HTTP_TARGET')}"
        expect(e.get("CLIENT_ADDR") == "127.0.0.1" and e.get("SERVER_ADDR") == "127.0.0.1",
               f"{what}: addresses {e.get('CLIENT_ADDR')} -> {e.get('SERVER_ADDR')}")
        expect(str(e.get("HTTP_USER_AGENT", "")).startswith("curl/"),
               f"{what}: HTTP_USER_AGENT={e.get('HTTP_USER_AGENT')}")
        ports = {l["remote_port"] for l in log_lines if l["uri"] == e.get("HTTP_TARGET")}
        expect(e.get("CLIENT_PORT") in ports, f"{what}: CLIENT_PORT={e.get('CLIENT_PORT')}, nginx saw {ports}")
        s = by_key.get((e.get("CLIENT_PORT"), e.get("HTTP_TARGET")))
        if expect(s is not None, f"{what}: no server-role entry for the same request"):
            # Same clock: the client's write->read spans the server's read->write.
            # One-sided, with the scheduling slack: each side is stamped when
            # its syscall returns, and on a loaded machine curl's write may
            # return after nginx's read did (or nginx's write after curl's
            # read), by a scheduler slice or more. A fixed 1 ms flaked there.
            sd = htlib.duration_usec(s)
            htlib.expect_duration(what, e, low_us=sd - htlib.SCHED_SLACK_US,
                                  why_low=f"the server's side of it took {sd} us, "
                                          f"-{htlib.SCHED_SLACK_US} us scheduling slack")
            expect(e.get("HTTP_REQUEST_BODY_BYTES") == s.get("HTTP_REQUEST_BODY_BYTES") and
                   e.get("HTTP_RESPONSE_BODY_BYTES") == s.get("HTTP_RESPONSE_BODY_BYTES"),
                   f"{what}: body sizes differ between client and server entries")
    post = [e for e in client if e.get("HTTP_METHOD") == "POST"]
    expect(post and post[0].get("HTTP_REQUEST_BODY_BYTES") == "2000",
           f"client POST: HTTP_REQUEST_BODY_BYTES={post[0].get('HTTP_REQUEST_BODY_BYTES') if post else None}")


if __name__ == "__main__":
    htlib.run(test)
