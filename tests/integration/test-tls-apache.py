#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""HTTPS from apache2 with mod_ssl (event MPM, its own libssl calls) to curl
and to this process, against apache's own access log.

- A keep-alive TLS connection (python `ssl`) opened and used before the
  daemon starts is traced from its next request after it.
- curl (libcurl over OpenSSL) makes, on one keep-alive connection: GET 200,
  GET 404 (twice, with a query), HEAD, a POST with a 3000-byte body (405 from
  the static handler), a 64 KiB file.

Every request apache logged has exactly one server entry with its method,
target, status, response body bytes and request body bytes, and one client
entry (curl or this process) with the same method, target and status; all
HTTP_SCHEME=https. `journalctl HTTP_SCHEME=https HTTP_STATUS=404` (this
daemon's entries) returns exactly the 404s apache logged, once per side.
A kernel address filter (apache on 127.0.0.9, clients from 127.0.0.10) keeps
other traffic out."""

import os

import htlib
import tlslib
from htlib import expect, ensure, log

APACHE_MODULES = "/usr/lib/apache2/modules"
# Server and clients on loopback addresses of their own: the kernel address filter (it matches
# the peer's address) keeps other traffic on this host out, and lets both sides in.
ADDR, CLIENT_ADDR = "127.0.0.9", "127.0.0.10"
FIELDS = ("method", "target", "status", "resp", "req_len", "client_port")


def start_apache(ctx, www, port, cert, key):
    d = os.path.join(ctx.tmp, "apache-tls")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "httpd.conf")
    access = os.path.join(d, "access.log")
    with open(conf, "w") as f:
        f.write(f"""
ServerRoot "{d}"
ServerName localhost
Listen {ADDR}:{port}
PidFile {d}/httpd.pid
ErrorLog {d}/error.log
DefaultRuntimeDir {d}
Mutex file:{d} default
LoadModule mpm_event_module {APACHE_MODULES}/mod_mpm_event.so
LoadModule authz_core_module {APACHE_MODULES}/mod_authz_core.so
LoadModule mime_module {APACHE_MODULES}/mod_mime.so
LoadModule dir_module {APACHE_MODULES}/mod_dir.so
LoadModule socache_shmcb_module {APACHE_MODULES}/mod_socache_shmcb.so
LoadModule ssl_module {APACHE_MODULES}/mod_ssl.so
User www-data
Group www-data
TypesConfig /etc/mime.types
Timeout 60
KeepAlive On
KeepAliveTimeout 60
MaxKeepAliveRequests 1000
SSLEngine on
SSLCertificateFile {cert}
SSLCertificateKeyFile {key}
SSLSessionCache none
DocumentRoot "{www}"
<Directory "{www}">
    Require all granted
</Directory>
LogFormat "%m\\t%U%q\\t%>s\\t%B\\t%{{Content-Length}}i\\t%{{remote}}p" ht
CustomLog {access} ht
""")
    proc = htlib.Proc(ctx, ["/usr/sbin/apache2", "-X", "-f", conf], "apache2-tls")
    return proc, access


class AccessLog:
    """apache's log, in the shape htlib.wait_log_lines() reads."""

    def __init__(self, path):
        self.path = path

    def log_lines(self):
        return htlib.read_tsv(self.path, FIELDS)


def wait_listen(port, proc):
    """htlib.wait_port() knows 127.0.0.1 only."""
    import socket
    import time
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection((ADDR, port), timeout=1).close()
            return
        except OSError:
            ensure(proc.poll() is None, f"apache2 exited: {proc.stderr_text()[-1500:]}")
            time.sleep(0.1)
    ensure(False, "apache2 (mod_ssl) did not listen")


def tls_connect(port):
    import socket
    import ssl
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((ADDR, port), timeout=30, source_address=(CLIENT_ADDR, 0))
    return c.wrap_socket(raw, server_hostname="localhost")


def test(ctx):
    htlib.require_tools("curl", "openssl")
    if not os.path.exists(os.path.join(APACHE_MODULES, "mod_ssl.so")) or not os.path.exists("/usr/sbin/apache2"):
        htlib.skip("apache2 with mod_ssl is not installed (scripts/install-deps installs apache2)")
    cert, key = tlslib.make_cert(ctx)
    www = htlib.make_docroot(ctx)
    with open(os.path.join(www, "big.txt"), "wb") as f:
        f.write(b"x" * 65535 + b"\n")
    port = htlib.free_port()
    apache, access = start_apache(ctx, www, port, cert, key)
    wait_listen(port, apache)
    ensure(tlslib.libssl_of(apache.pid), "fixture: apache2 maps no libssl")

    early = tls_connect(port)
    status, _ = tlslib.get(early, port, "/index.html?early=before")
    ensure(status == 200, f"fixture: request before the daemon: {status}")

    daemon = htlib.Daemon(ctx, ["--set", f"filter.include.addresses={ADDR}/32,{CLIENT_ADDR}/32"]).start()
    status, _ = tlslib.get(early, port, "/index.html?early=after")
    ensure(status == 200, f"request on the early connection after the daemon: {status}")

    body = os.path.join(ctx.tmp, "post.bin")
    with open(body, "wb") as f:
        f.write(b"p" * 3000)
    base = f"https://{ADDR}:{port}"
    curl = ["curl", "-sk", "--interface", CLIENT_ADDR]
    htlib.run_cmd(curl + ["-o", "/dev/null", f"{base}/index.html",
                   "-o", "/dev/null", f"{base}/missing",
                   "-o", "/dev/null", f"{base}/missing/again?x=1",
                   "-o", "/dev/null", f"{base}/big.txt"])
    htlib.run_cmd(curl + ["-I", "-o", "/dev/null", f"{base}/index.html"])
    htlib.run_cmd(curl + ["-o", "/dev/null", "--data-binary", f"@{body}", f"{base}/index.html"])
    status, _ = tlslib.get(early, port, "/nothing-here")
    ensure(status == 404, f"fixture: /nothing-here answered {status}")
    early.close()
    htlib.wait_log_lines(AccessLog(access), 9)
    daemon.stop()

    logged = [l for l in htlib.read_tsv(access, FIELDS) if l["target"] != "/index.html?early=before"]
    log(f"apache logged {len(logged)} requests after the daemon started")
    ensure(len(logged) == 8, f"fixture: apache logged {[(l['method'], l['target']) for l in logged]}")
    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    srv = [e for e in entries if e.get("HTTP_ROLE") == "server"]
    cli = [e for e in entries if e.get("HTTP_ROLE") == "client"]

    def key(method, target, status):
        return (method, target, str(status))
    want = sorted(key(l["method"], l["target"], l["status"]) for l in logged)
    expect(sorted(key(e.get("HTTP_METHOD"), e.get("HTTP_TARGET"), e.get("HTTP_STATUS")) for e in srv) == want,
           f"server entries {[(e.get('HTTP_METHOD'), e.get('HTTP_TARGET'), e.get('HTTP_STATUS')) for e in srv]}, "
           f"apache logged {want}")
    expect(sorted(key(e.get("HTTP_METHOD"), e.get("HTTP_TARGET"), e.get("HTTP_STATUS")) for e in cli) == want,
           f"client entries {[(e.get('HTTP_METHOD'), e.get('HTTP_TARGET'), e.get('HTTP_STATUS')) for e in cli]}")
    by_target = {(e.get("HTTP_METHOD"), e.get("HTTP_TARGET")): e for e in srv}
    for l in logged:
        e = by_target.get((l["method"], l["target"]))
        if not e:
            continue
        resp = "0" if l["resp"] == "-" else l["resp"]
        if l["method"] != "HEAD":
            expect(e.get("HTTP_RESPONSE_BODY_BYTES") == resp,
                   f"{l['method']} {l['target']}: HTTP_RESPONSE_BODY_BYTES={e.get('HTTP_RESPONSE_BODY_BYTES')}, "
                   f"apache sent {resp}")
        req = None if l["req_len"] == "-" else l["req_len"]
        expect(e.get("HTTP_REQUEST_BODY_BYTES") == req,
               f"{l['method']} {l['target']}: HTTP_REQUEST_BODY_BYTES={e.get('HTTP_REQUEST_BODY_BYTES')}, "
               f"Content-Length {req}")
        expect(e.get("CLIENT_PORT") == l["client_port"],
               f"{l['target']}: CLIENT_PORT={e.get('CLIENT_PORT')}, apache logged {l['client_port']}")
        expect(e.get("PROCESS_PID") == str(apache.pid), f"{l['target']}: PROCESS_PID={e.get('PROCESS_PID')}")
    for e in entries:
        expect(e.get("HTTP_SCHEME") == "https" and e.get("TLS_LIBRARY"),
               f"{e.get('MESSAGE')}: HTTP_SCHEME={e.get('HTTP_SCHEME')} TLS_LIBRARY={e.get('TLS_LIBRARY')}")

    # The done-when query: exactly the 404s apache logged, one entry per side.
    got404 = htlib.journal_final(daemon, "HTTP_SCHEME=https", "HTTP_STATUS=404")
    want404 = sorted(l["target"] for l in logged if l["status"] == "404")
    expect(sorted(e.get("HTTP_TARGET") for e in got404 if e.get("HTTP_ROLE") == "server") == want404,
           f"journalctl HTTP_SCHEME=https HTTP_STATUS=404 (server): {[e.get('HTTP_TARGET') for e in got404]}, "
           f"apache logged {want404}")
    expect(sorted(e.get("HTTP_TARGET") for e in got404 if e.get("HTTP_ROLE") == "client") == want404,
           f"journalctl HTTP_SCHEME=https HTTP_STATUS=404 (client): {[e.get('HTTP_TARGET') for e in got404]}")
    expect(len(got404) == 2 * len(want404), f"{len(got404)} 404 entries for {len(want404)} logged 404s")
    tlslib.log_untied(daemon)


if __name__ == "__main__":
    htlib.run(test)
