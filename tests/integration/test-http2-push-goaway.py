#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Two HTTP/2 stream ends that real peers produce, against nginx h2c
(`listen ... http2`):

- Server push: nginx's `http2_push /pushed.css` on /page.html, fetched by
  `nghttp` (which accepts pushes): nginx logs both the page and the pushed
  response; each has exactly one server entry and one client entry, the
  pushed one with HTTP_PATH /pushed.css (from the PUSH_PROMISE), an even
  stream id and flag `pushed`, the page neither; streams_pushed counts the
  promise at both ends.
- GOAWAY: nginx reloaded (SIGHUP) while h2load keeps 4 connections x 10
  streams busy: the old worker sends GOAWAY and finishes the streams it
  took. Every request nginx logged has exactly one complete server entry
  and one complete client entry (method, target, status, body size); every
  other entry on the port, at either end, is a request without response
  whose reason is `goaway`: sent above the GOAWAY's last stream id before
  h2load read it, and dropped by nginx (before, the server end logged
  those it had read as `closed`); goaways counts nginx's GOAWAY frames,
  seen at both ends."""

import os
import signal
import threading
import time

import htlib
import h2lib
from htlib import expect, ensure, log

NO_RESPONSE = "8258a1a3fa938aa1b6d4ff9487ebf2cb"   # docs/journal-fields.md
COMPLETE = "d0a21e5e3f34fda1ea3a6c8d562c83a1"


def test(ctx):
    htlib.require_tools("nginx", "nghttp", "h2load")
    port = htlib.free_port()
    srv = htlib.Nginx(ctx, extra_server=f"""listen 127.0.0.1:{port} http2;
        location = /page.html {{ http2_push /pushed.css; }}""")
    with open(os.path.join(srv.www, "page.html"), "w") as f:
        f.write("<html><link rel=stylesheet href=/pushed.css></html>\n")
    with open(os.path.join(srv.www, "pushed.css"), "w") as f:
        f.write("body { color: black }\n")
    for fn in ("page.html", "pushed.css"):
        os.chmod(os.path.join(srv.www, fn), 0o644)
    daemon = htlib.Daemon(ctx).start()

    base = f"http://127.0.0.1:{port}"
    r = htlib.run_cmd(["nghttp", "-nv", f"{base}/page.html"])
    ensure(b"PUSH_PROMISE" in r.stdout, "fixture: nginx pushed nothing to nghttp")
    push_lines = 2
    ensure(len(htlib.wait_log_lines(srv, push_lines)) == push_lines, "fixture: nginx did not log page and push")

    # h2load in the background; nginx reloaded while it runs
    out = {}

    def load():
        r = htlib.run_cmd(["h2load", "-n", "4000", "-c", "4", "-m", "10", f"{base}/index.html"],
                          timeout=180, check=False)
        out["text"] = r.stdout.decode()
    t = threading.Thread(target=load)
    t.start()
    deadline = time.monotonic() + 60
    while len(srv.log_lines()) < push_lines + 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(srv.proc.pid, signal.SIGHUP)
    t.join(200)
    text = out.get("text", "")
    log(next((l for l in text.splitlines() if l.startswith("requests:")), "h2load: no summary"))
    time.sleep(1)   # the old worker finishes its streams, then logs them
    lines = srv.log_lines()
    daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    st = daemon.stats or {}
    log(f"nginx logged {len(lines)}; goaways={st.get('goaways')} streams_pushed={st.get('streams_pushed')}")
    expect(st.get("streams_pushed", 0) >= 2, f"streams_pushed={st.get('streams_pushed')}, want the promise at both ends")
    expect(st.get("goaways", 0) >= 2, f"goaways={st.get('goaways')}: nginx's reload sent no GOAWAY seen at both ends")

    want = sorted((l["method"], l["uri"], l["status"], l["body_bytes_sent"]) for l in lines)
    for role in ("server", "client"):
        es = htlib.entries_for_server(entries, port, role)
        done = [e for e in es if e.get("MESSAGE_ID") == COMPLETE]
        got = sorted((e.get("HTTP_METHOD"), e.get("HTTP_TARGET"), e.get("HTTP_STATUS"),
                      e.get("HTTP_RESPONSE_BODY_BYTES", "0")) for e in done)
        h2lib.expect_same(f"{role} complete entries (method, target, status, body)", got, want)
        # the rest: requests above the GOAWAY's last stream id, sent before the client read it;
        # nginx read some of them and dropped them, as RFC 9113 §6.8 lets it
        rest = [e for e in es if e.get("MESSAGE_ID") != COMPLETE]
        bad = [e for e in rest if e.get("MESSAGE_ID") != NO_RESPONSE or e.get("HTTP_NO_RESPONSE_REASON") != "goaway"]
        expect(not bad, f"{role}: entries neither complete nor refused by GOAWAY: "
                        f"{[(e.get('MESSAGE_ID'), e.get('HTTP_NO_RESPONSE_REASON')) for e in bad][:5]}")
        log(f"{role}: {len(done)} complete, {len(rest)} requests without response, reason goaway")
        pushed = [e for e in done if "pushed" in e.get("HTTP_FLAGS", "")]
        expect(len(pushed) == 1 and pushed[0].get("HTTP_PATH") == "/pushed.css" and
               int(pushed[0].get("HTTP_STREAM_ID", "1")) % 2 == 0,
               f"{role}: pushed entries {[(e.get('HTTP_PATH'), e.get('HTTP_STREAM_ID')) for e in pushed]}")
        page = [e for e in done if e.get("HTTP_PATH") == "/page.html"]
        expect(len(page) == 1 and "pushed" not in page[0].get("HTTP_FLAGS", ""),
               f"{role}: page entries {[(e.get('HTTP_FLAGS'), e.get('HTTP_STREAM_ID')) for e in page]}")
    bad = [e.get("HTTP_PARSE_ERROR") for e in entries if "HTTP_PARSE_ERROR" in e]
    expect(not bad, f"parse errors on port {port}: {bad}")


if __name__ == "__main__":
    htlib.run(test, tools=("bpftool", "journalctl", "nghttp", "h2load"))
