#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""h2c by Upgrade from HTTP/1.1 (RFC 7540 §3.2): apache2 with mod_http2
(`Protocols h2c http/1.1`, Debian apache2-bin) and `nghttp -u` with two
URLs: the first is the HTTP/1.1 request that asks for the upgrade (it
becomes stream 1, answered in HTTP/2 after the 101), the second an ordinary
HTTP/2 stream on the same connection (a 404; when a busy apache ends the
connection with GOAWAY(last_stream_id=1) first, a no-response entry with
reason goaway at both ends instead). Every request apache logs has
exactly one server entry (apache's PROCESS_PID) and one client entry (nghttp's):
GET /index.html 200 on stream 1 (flag upgrade, the file's size) and GET
/missing.html 404 on stream 13 (nghttp's next), HTTP_VERSION=2; no entry for the 101
itself. (nghttpd cannot serve here: it sends its SETTINGS at accept and
answers no Upgrade.)"""

import os

import htlib
from htlib import expect, ensure, log

APACHE_MODULES = "/usr/lib/apache2/modules"


def start_apache(ctx, www, port):
    d = os.path.join(ctx.tmp, "apache")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "httpd.conf")
    access = os.path.join(d, "access.log")
    with open(conf, "w") as f:
        f.write(f"""
ServerRoot "{d}"
ServerName localhost
Listen 127.0.0.1:{port}
PidFile {d}/httpd.pid
ErrorLog {d}/error.log
DefaultRuntimeDir {d}
Mutex file:{d} default
LoadModule mpm_event_module {APACHE_MODULES}/mod_mpm_event.so
LoadModule authz_core_module {APACHE_MODULES}/mod_authz_core.so
LoadModule mime_module {APACHE_MODULES}/mod_mime.so
LoadModule dir_module {APACHE_MODULES}/mod_dir.so
LoadModule http2_module {APACHE_MODULES}/mod_http2.so
User www-data
Group www-data
TypesConfig /etc/mime.types
Protocols h2c http/1.1
H2Upgrade on
Timeout 60
KeepAliveTimeout 30
DocumentRoot "{www}"
<Directory "{www}">
    Require all granted
</Directory>
LogFormat "%P\t%m\t%U\t%>s\t%B\t%H" ht
CustomLog {access} ht
""")
    proc = htlib.Proc(ctx, ["/usr/sbin/apache2", "-X", "-f", conf], "apache2")
    htlib.wait_port(port, proc.popen, what="apache2")
    return proc, access


def test(ctx):
    htlib.require_tools("nghttp")
    if not os.path.exists(os.path.join(APACHE_MODULES, "mod_http2.so")) or not os.path.exists("/usr/sbin/apache2"):
        htlib.skip("apache2 with mod_http2 is not installed (scripts/install-deps installs apache2-bin)")
    www = htlib.make_docroot(ctx)
    port = htlib.free_port()
    srv, access = start_apache(ctx, www, port)
    daemon = htlib.Daemon(ctx).start()

    base = f"http://127.0.0.1:{port}"
    r = htlib.run_cmd(["nghttp", "-u", "-v", f"{base}/index.html", f"{base}/missing.html"])
    out = r.stdout.decode("utf-8", "replace")
    ensure("HTTP Upgrade success" in out, f"fixture: nghttp did not upgrade:\n{out[-2000:]}")
    # apache logs the upgrading request twice: its 101 (HTTP/1.1) and its HTTP/2 answer
    fields = ("pid", "method", "uri", "status", "bytes", "protocol")
    # On a busy machine apache sometimes ends the upgraded connection with GOAWAY(last_stream_id=1,
    # "timeout") right after stream 1: then the second request was sent but never processed.
    goaway = "recv GOAWAY" in out and "last_stream_id=1," in out
    n_want = 1 if goaway else 2
    deadline = htlib.time.monotonic() + 60   # bounds a failure only
    while True:
        lines = [l for l in htlib.read_tsv(access, fields) if l["status"] != "101"]
        if len(lines) >= n_want or htlib.time.monotonic() > deadline:
            break
        htlib.time.sleep(0.05)
    ensure(len(lines) == n_want, f"fixture: apache logged {lines}; nghttp said:\n{out[-3000:]}")
    daemon.stop()

    size = str(os.path.getsize(os.path.join(www, "index.html")))
    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    # nghttp opens idle streams 3..11 as its priority tree's anchors: its next request is 13
    want = [("GET", "/index.html", "200", "1"), ("GET", "/missing.html", "" if goaway else "404", "13")]
    expect(sorted((l["method"], l["uri"], l["status"]) for l in lines) == [w[:3] for w in want[:n_want]],
           f"fixture: apache logged {lines}")
    if goaway:
        log("apache sent GOAWAY after stream 1: stream 13 must be a no-response entry (goaway) at both ends")
    for role in ("server", "client"):
        es = htlib.entries_for_server(entries, port, role)
        got = sorted((e.get("HTTP_METHOD", ""), e.get("HTTP_TARGET", ""), e.get("HTTP_STATUS", ""),
                      e.get("HTTP_STREAM_ID", "")) for e in es)
        log(f"{role}: {got}")
        expect(got == want, f"{role}: entries {got} != {want}")
        for e in es:
            what = f"{role} {e.get('HTTP_TARGET')}"
            expect(e.get("HTTP_VERSION") == "2", f"{what}: HTTP_VERSION={e.get('HTTP_VERSION')}")
            if e.get("HTTP_STREAM_ID") == "1":
                expect(e.get("HTTP_FLAGS") == "upgrade", f"{what}: HTTP_FLAGS={e.get('HTTP_FLAGS')}")
                expect(e.get("HTTP_RESPONSE_BODY_BYTES") == size,
                       f"{what}: HTTP_RESPONSE_BODY_BYTES={e.get('HTTP_RESPONSE_BODY_BYTES')}, file {size}")
                expect(e.get("HTTP_HOST") == f"127.0.0.1:{port}", f"{what}: HTTP_HOST={e.get('HTTP_HOST')}")
                expect(str(e.get("HTTP_DURATION_USEC", "")).isdigit(), f"{what}: no duration")
            elif goaway:
                expect(e.get("HTTP_NO_RESPONSE_REASON") == "goaway",
                       f"{what}: HTTP_NO_RESPONSE_REASON={e.get('HTTP_NO_RESPONSE_REASON')}")
            else:
                expect("HTTP_FLAGS" not in e, f"{what}: HTTP_FLAGS={e.get('HTTP_FLAGS')}")
                expect(str(e.get("HTTP_DURATION_USEC", "")).isdigit(), f"{what}: no duration")
        if role == "server":
            pids = {e.get("PROCESS_PID") for e in es}
            expect(pids == {l["pid"] for l in lines}, f"server entries' PROCESS_PID {pids} != apache's {lines}")
    expect(daemon.stats.get("parse_errors", 0) == 0, f"parse_errors={daemon.stats.get('parse_errors')}")


if __name__ == "__main__":
    htlib.run(test, tools=("bpftool", "journalctl", "nghttp"))
