#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""fields.* through the real daemon: with a --config file asking for
X-Request-Id and Authorization (request), X-Ht-Cache (response), Referer
and Content-Type, and PRIORITY 3 (err) for 4xx, curl's requests to nginx
give entries (server and client side) carrying HTTP_REQUEST_HEADER_X_REQUEST_ID,
the Authorization value masked, the Referer's token masked, nginx's
response header and Content-Type, and a 404 at PRIORITY 3. Then the file
says crit (2) for 4xx, SIGHUP, and the next 404 is at PRIORITY 2: the
options are rebuilt on reload. No secret reaches journald."""

import os
import secrets
import signal
import time

import htlib
from htlib import expect, ensure, log

CONFIG = """\
fields:
  request_headers: [X-Request-Id, Authorization]
  response_headers: [X-Ht-Cache]
  referer: yes
  content_type: yes
  priority:
    4xx: {prio_4xx}
"""


def write_config(path, prio_4xx):
    with open(path + ".new", "w") as f:
        f.write(CONFIG.format(prio_4xx=prio_4xx))
    os.replace(path + ".new", path)


def wait_stderr(daemon, text, timeout=60):
    # The deadline only bounds a failure (a reload on a loaded machine may take seconds).
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in daemon.proc.stderr_text():
            return True
        time.sleep(0.05)
    return False


def test(ctx):
    htlib.require_tools("nginx", "curl")
    nginx = htlib.Nginx(ctx, extra_server="""
        location = /hdr {
            add_header X-Ht-Cache "hit-$connection" always;
            default_type text/plain;
            return 200 "ok\\n";
        }""")
    config = os.path.join(ctx.tmp, "fields.yaml")
    write_config(config, "err")
    daemon = htlib.Daemon(ctx, ["--config", config]).start()

    rid = "rid-" + secrets.token_hex(6)
    secret = "s3cret" + secrets.token_hex(8)
    missing = "/missing-" + secrets.token_hex(4)
    # From a file, not the command line: journald copies a live client's cmdline into OBJECT_CMDLINE.
    headers = os.path.join(ctx.tmp, "headers")
    with open(headers, "w") as f:
        f.write(f"X-Request-Id: {rid}\nAuthorization: Bearer {secret}A\n"
                f"Referer: http://ref.example/p?token={secret}R&a=1\n")
    htlib.curl("-o", "/dev/null", "-H", f"@{headers}", nginx.url("/hdr"))
    htlib.curl("-o", "/dev/null", nginx.url(missing))
    ensure(len(htlib.wait_log_lines(nginx, 2)) == 2, "fixture: nginx did not log the first two requests")
    # Options apply when an exchange is formatted: let these reach the journal before the reload.
    # At least 4 is what the reload must wait for; the exact count is checked after the stop.
    ensure(len(htlib.journal_wait(daemon.pid, f"SERVER_PORT={nginx.port}", expected=4)) >= 4,
           "the first two requests did not reach the journal")

    # Same file, a different priority for 4xx: a reload applies it.
    write_config(config, "crit")
    os.kill(daemon.pid, signal.SIGHUP)
    ensure(wait_stderr(daemon, "Configuration reloaded."), "the daemon did not report the reload")
    htlib.curl("-o", "/dev/null", nginx.url(missing + "-after-reload"))
    ensure(len(htlib.wait_log_lines(nginx, 3)) == 3, "fixture: nginx did not log the third request")
    daemon.stop()

    # An exact count and absences: read once journald holds the run's final entry.
    entries = htlib.journal_final(daemon, f"SERVER_PORT={nginx.port}")
    expect(len(entries) == 6, f"{len(entries)} entries, expected 6 (server and client side of 3 requests)")

    hdr = [e for e in entries if e.get("HTTP_TARGET") == "/hdr"]
    expect(sorted(e.get("HTTP_ROLE") for e in hdr) == ["client", "server"],
           f"/hdr entries: roles {[e.get('HTTP_ROLE') for e in hdr]}")
    for e in hdr:
        role = e.get("HTTP_ROLE")
        expect(e.get("HTTP_REQUEST_HEADER_X_REQUEST_ID") == rid,
               f"{role}: HTTP_REQUEST_HEADER_X_REQUEST_ID={e.get('HTTP_REQUEST_HEADER_X_REQUEST_ID')!r}")
        expect(e.get("HTTP_REQUEST_HEADER_AUTHORIZATION") == "***",
               f"{role}: HTTP_REQUEST_HEADER_AUTHORIZATION={e.get('HTTP_REQUEST_HEADER_AUTHORIZATION')!r}")
        expect(e.get("HTTP_REFERER") == "http://ref.example/p?token=***&a=1",
               f"{role}: HTTP_REFERER={e.get('HTTP_REFERER')!r}")
        expect(str(e.get("HTTP_RESPONSE_HEADER_X_HT_CACHE", "")).startswith("hit-"),
               f"{role}: HTTP_RESPONSE_HEADER_X_HT_CACHE={e.get('HTTP_RESPONSE_HEADER_X_HT_CACHE')!r}")
        expect(e.get("HTTP_RESPONSE_CONTENT_TYPE") == "text/plain",
               f"{role}: HTTP_RESPONSE_CONTENT_TYPE={e.get('HTTP_RESPONSE_CONTENT_TYPE')!r}")
        expect("HTTP_REQUEST_CONTENT_TYPE" not in e, f"{role}: a GET without Content-Type has HTTP_REQUEST_CONTENT_TYPE")
        expect(e.get("HTTP_USER_AGENT", "").startswith("curl/"), f"{role}: HTTP_USER_AGENT={e.get('HTTP_USER_AGENT')!r}")
        expect(e.get("PRIORITY") == "6", f"{role}: PRIORITY={e.get('PRIORITY')} for a 200")

    for target, prio in ((missing, "3"), (missing + "-after-reload", "2")):
        got = [e for e in entries if e.get("HTTP_TARGET") == target]
        expect(len(got) == 2, f"{target}: {len(got)} entries, expected 2")
        for e in got:
            expect(e.get("HTTP_STATUS") == "404", f"{target}: HTTP_STATUS={e.get('HTTP_STATUS')}")
            expect(e.get("PRIORITY") == prio, f"{target} ({e.get('HTTP_ROLE')}): PRIORITY={e.get('PRIORITY')}, "
                                              f"configured {prio}")
            expect("HTTP_REQUEST_HEADER_X_REQUEST_ID" not in e, f"{target}: a header field for a header not sent")

    export = htlib.run_cmd(["journalctl", f"_PID={daemon.pid}", "-o", "export", "--no-pager"]).stdout
    expect(secret.encode() not in export, "the secret appears in journalctl -o export output")
    log(f"request/response header fields logged, Authorization and the Referer's token masked, "
        f"4xx at the configured PRIORITY before and after a reload")


if __name__ == "__main__":
    htlib.run(test)
