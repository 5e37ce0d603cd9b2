#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The syslog output on unix sockets through the daemon (docs/outputs.md
"Syslog", docs/configuration.md output.syslog.*), with the JSON output to a
file at the same time as the reference for every entry:

- format auto to journald's own syslog socket (/run/systemd/journal/dev-log,
  what /dev/log is on a systemd host): RFC 3164, which journald parses --
  one journal entry per exchange with _TRANSPORT=syslog,
  SYSLOG_IDENTIFIER=http-tracer, SYSLOG_PID = the daemon, SYSLOG_FACILITY
  local5, PRIORITY = the entry's PRIORITY (severity entry: 6/5/4 for
  200/404/503, 3 for the 200s with fields.priority.2xx=err), MESSAGE = the
  JSON MESSAGE. Had auto picked RFC 5424, journald would store it unparsed.
- format rfc3164, severity fixed (err), facility local2, to a unix datagram
  socket this test reads: `<147>Mmm dd hh:mm:ss http-tracer[PID]: MESSAGE`
  byte for byte (no HOSTNAME on a unix socket), PRI the same whatever the
  status.
- format rfc5424, message_max 2KiB, to the same kind of socket: each
  message at most 2048 bytes; short entries whole (every parameter equal
  to its JSON field); an entry with a 4000-byte target and a long
  User-Agent rebuilt with values cut ending in `…`, the MSG (the MESSAGE) too;
  the sink's `truncated` counter (status over the daemon's own control
  socket) says 1.

A kernel filter on nginx's port keeps the host's other traffic out, so
only the server side of this test's exchanges is traced: counts are exact."""

import json
import os
import re
import socket
import time

import htlib
import htlib_extra
from htlib import expect, ensure, log

DEV_LOG = "/run/systemd/journal/dev-log"
LOCAL5, LOCAL2 = 21, 18


def config(ctx, name, port, syslog):
    path = os.path.join(ctx.tmp, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"output:\n  types: [json, syslog]\n  json_path: {json_lines_path(ctx, name)}\n"
                f"  syslog:\n" + "".join(f"    {k}: {v}\n" for k, v in syslog.items()) +
                f"filter:\n  include:\n    local_ports: [{port}]\n")
    return path


def json_lines_path(ctx, name):
    return os.path.join(ctx.tmp, f"{name}.json")


def json_entries(ctx, name):
    with open(json_lines_path(ctx, name), encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def traffic(port, prefix, extra=()):
    """200, 404 and 503 on one keep-alive connection, plus `extra` (target, headers) requests."""
    reqs = [(f"{prefix}/ok", ()), (f"{prefix}/missing", ()), (f"{prefix}/err", ()), (f"{prefix}/ok?b", ())]
    reqs += list(extra)
    with htlib.connect(port) as c:
        for target, headers in reqs:
            h = "".join(f"{k}: {v}\r\n" for k, v in headers)
            c.sendall(f"GET {target} HTTP/1.1\r\nHost: t\r\n{h}\r\n".encode())
            htlib.read_response(c)
    return len(reqs)


class DgramReceiver:
    """A unix datagram socket in the temp dir: every message exactly as sent."""

    def __init__(self, ctx, name):
        self.path = os.path.join(ctx.tmp, f"{name}.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.setblocking(False)
        ctx.cleanup.callback(self.sock.close)
        self.msgs = []

    def drain(self):
        while True:
            try:
                self.msgs.append(self.sock.recv(1 << 17))
            except BlockingIOError:
                return self.msgs

    def wait(self, pred, expected, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            got = [m for m in self.drain() if pred(m)]
            if len(got) >= expected or time.monotonic() > deadline:
                return got
            time.sleep(0.1)


def journal_syslog(daemon_pid, facility):
    r = htlib.run_cmd(["journalctl", "-o", "json", "--all", "--no-pager", f"_PID={daemon_pid}",
                       "_TRANSPORT=syslog", f"SYSLOG_FACILITY={facility}"], check=False)
    return [{k: htlib._field(v) for k, v in json.loads(l).items()}
            for l in r.stdout.decode("utf-8", "replace").splitlines() if l.strip()]


def run_auto(ctx, nginx, prefix):
    if not os.path.exists(DEV_LOG):
        htlib.skip(f"{DEV_LOG} is missing (journald without its syslog socket)")
    conf = config(ctx, "auto", nginx.port, {"target": DEV_LOG, "format": "auto", "facility": "local5"})
    daemon = htlib.Daemon(ctx, ["--config", conf], name="auto").start()
    n = traffic(nginx.port, prefix)
    daemon.stop()
    ref = [e for e in json_entries(ctx, "auto") if e.get("HTTP_TARGET", "").startswith(prefix)]
    ensure(len(ref) == n, f"auto: {len(ref)} JSON entries, expected {n} (server side)")
    # journald holds the syslog datagrams once it has read them: poll until all are there.
    deadline = time.monotonic() + 60
    while True:
        got = [e for e in journal_syslog(daemon.pid, LOCAL5) if prefix in e.get("MESSAGE", "")]
        if len(got) >= n or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    expect(len(got) == n, f"auto: {len(got)} syslog entries in the journal, expected {n}: "
                          f"{[e.get('MESSAGE') for e in got][:3]}")
    by_msg = {e.get("MESSAGE"): e for e in got}
    for r in ref:
        e = by_msg.get(r["MESSAGE"])
        what = f"auto: {r['HTTP_TARGET']}"
        if not expect(e is not None, f"{what}: no journal entry from syslog with MESSAGE {r['MESSAGE']!r} "
                                     f"(RFC 5424 would be stored unparsed: {[x.get('MESSAGE') for x in got][:2]})"):
            continue
        expect(e.get("SYSLOG_IDENTIFIER") == "http-tracer", f"{what}: SYSLOG_IDENTIFIER={e.get('SYSLOG_IDENTIFIER')}")
        expect(e.get("SYSLOG_PID") == str(daemon.pid), f"{what}: SYSLOG_PID={e.get('SYSLOG_PID')}, daemon {daemon.pid}")
        expect(e.get("PRIORITY") == str(r["PRIORITY"]),
               f"{what}: PRIORITY={e.get('PRIORITY')}, the entry's PRIORITY is {r['PRIORITY']}")
        expect(e.get("HTTP_TARGET") is None, f"{what}: fields besides MESSAGE arrived through RFC 3164?")
    expect(sorted(str(r["PRIORITY"]) for r in ref) == ["4", "5", "6", "6"],
           f"auto: JSON priorities {sorted(str(r['PRIORITY']) for r in ref)}, expected 200/404/503 as 6/5/4")
    log(f"auto: {len(got)} RFC 3164 messages parsed by journald")


RFC3164_RE = re.compile(rb"^<(\d+)>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) http-tracer\[(\d+)\]: (.*)$", re.S)


def run_rfc3164(ctx, nginx, prefix):
    recv = DgramReceiver(ctx, "rfc3164")
    conf = config(ctx, "rfc3164", nginx.port, {"target": recv.path, "format": "rfc3164",
                                                "facility": "local2", "severity": "err"})
    t0 = time.time()
    daemon = htlib.Daemon(ctx, ["--config", conf], name="rfc3164").start()
    n = traffic(nginx.port, prefix)
    daemon.stop()
    t1 = time.time()
    ref = {e["MESSAGE"]: e for e in json_entries(ctx, "rfc3164") if e.get("HTTP_TARGET", "").startswith(prefix)}
    ensure(len(ref) == n, f"rfc3164: {len(ref)} JSON entries, expected {n}")
    got = recv.wait(lambda m: prefix.encode() in m, n)
    expect(len(got) == n, f"rfc3164: {len(got)} messages received, expected {n}")
    days = {time.strftime("%b %e", time.localtime(t)) for t in (t0, t1)}
    for raw in got:
        m = RFC3164_RE.match(raw)
        if not expect(m is not None, f"rfc3164: not '<PRI>Mmm dd hh:mm:ss http-tracer[PID]: MSG': {raw[:200]!r}"):
            continue
        expect(int(m[1]) == LOCAL2 * 8 + 3, f"rfc3164: PRI {m[1]}, expected {LOCAL2 * 8 + 3} "
                                            "(local2, severity err for every entry)")
        expect(m[2].decode()[:6] in days, f"rfc3164: timestamp {m[2]!r}, expected local time of {days}")
        expect(int(m[3]) == daemon.pid, f"rfc3164: PID {m[3]}, daemon {daemon.pid}")
        msg = m[4].decode("utf-8")
        expect(msg in ref, f"rfc3164: MSG {msg!r} is no entry's MESSAGE")
    log(f"rfc3164: {len(got)} messages, byte for byte")


SD_RE = re.compile(rb'^<(\d+)>1 (\S+) (\S+) http-tracer (\d+) (\S+) \[http@32473((?: [a-z0-9_]+="(?:[^"\\]|\\.)*")*)\] (.*)$', re.S)
PARAM_RE = re.compile(r'([a-z0-9_]+)="((?:[^"\\]|\\.)*)"')


def sd_params(text):
    return {k: re.sub(r'\\(["\\\]])', r"\1", v) for k, v in PARAM_RE.findall(text)}


def param_name(field):
    return "pid" if field == "PROCESS_PID" else field.lower().removeprefix("http_")


def run_message_max(ctx, nginx, prefix):
    recv = DgramReceiver(ctx, "rfc5424")
    conf = config(ctx, "rfc5424", nginx.port, {"target": recv.path, "format": "rfc5424",
                                                "facility": "local2", "message_max": "2KiB"})
    daemon = htlib_extra.PrivateRunDaemon(ctx, ["--config", conf], name="rfc5424").start()
    long_target = f"{prefix}/long?" + "q" * 4000
    n = traffic(nginx.port, prefix, [(long_target, [("User-Agent", "ua-" + "u" * 700)])])
    got = recv.wait(lambda m: prefix.encode() in m, n)
    st = daemon.status()
    daemon.stop()
    ref = [e for e in json_entries(ctx, "rfc5424") if e.get("HTTP_TARGET", "").startswith(prefix)]
    ensure(len(ref) == n, f"rfc5424: {len(ref)} JSON entries, expected {n}")
    expect(len(got) == n, f"rfc5424: {len(got)} messages received, expected {n}")
    sink = [o for o in st.get("outputs", []) if o.get("name") == "syslog"]
    expect(len(sink) == 1 and sink[0].get("truncated") == 1 and sink[0].get("target") == f"unix:{recv.path}",
           f"rfc5424: status outputs {st.get('outputs')}, expected the syslog sink unix:{recv.path} with truncated 1")
    by_target = {}
    for raw in got:
        expect(len(raw) <= 2048, f"rfc5424: a message of {len(raw)} bytes, message_max is 2048")
        m = SD_RE.match(raw)
        if not expect(m is not None, f"rfc5424: unparsable message: {raw[:300]!r}"):
            continue
        expect(m[3] == b"-" or m[3] == socket.gethostname().encode(), f"rfc5424: HOSTNAME {m[3]!r}")
        params = sd_params(m[6].decode("utf-8"))
        by_target.setdefault(params.get("target", "")[:60], []).append((int(m[1]), params, m[7].decode("utf-8")))
    for r in ref:
        key = r["HTTP_TARGET"][:60]
        items = by_target.get(key, [])
        what = f"rfc5424: {r['HTTP_TARGET'][:50]}"
        if not expect(len(items) == 1, f"{what}: {len(items)} messages"):
            continue
        pri, params, msg = items[0]
        expect(pri == LOCAL2 * 8 + int(r["PRIORITY"]), f"{what}: PRI {pri}, expected local2 + {r['PRIORITY']}")
        fields = {param_name(k): str(v) for k, v in r.items()
                  if k not in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER")}
        if r["HTTP_TARGET"] != long_target[:len(r["HTTP_TARGET"])] or len(r["HTTP_TARGET"]) < 1000:
            expect(msg == r["MESSAGE"], f"{what}: MSG {msg[:80]!r} != MESSAGE {r['MESSAGE'][:80]!r}")
            diff = {k: (v, params.get(k)) for k, v in fields.items() if params.get(k) != v}
            expect(not diff, f"{what}: parameters differ from the JSON fields: {diff}")
        else:
            t = params.get("target", "")
            expect(t.endswith("\u2026") and len(t.encode()) < 2048 and r["HTTP_TARGET"].startswith(t[:-1]),
                   f"{what}: target parameter of {len(t.encode())} bytes ending {t[-5:]!r}: expected "
                   "the JSON target cut, ending in …")
            expect(msg.endswith("\u2026") and r["MESSAGE"].startswith(msg[:-1]) and len(msg) < len(r["MESSAGE"]),
                   f"{what}: MSG of {len(msg)} characters ending {msg[-5:]!r}: expected the MESSAGE cut, ending in …")
            ua = params.get("user_agent", "")
            expect(ua.endswith("\u2026") and r["HTTP_USER_AGENT"].startswith(ua[:-1]),
                   f"{what}: user_agent parameter {ua[:40]!r}…{ua[-5:]!r}, expected the User-Agent cut")
            expect(params.get("status") == str(r["HTTP_STATUS"]) and params.get("method") == "GET",
                   f"{what}: short parameters must stay whole: {params.get('status')} {params.get('method')}")
    log(f"rfc5424: {len(got)} messages within 2048 bytes, one truncated")


def test(ctx):
    htlib.require_tools("nginx", "nsenter", "unshare")
    prefix = "/slu-" + os.urandom(4).hex()
    nginx = htlib.Nginx(ctx, extra_server=(
        f'location {prefix}/ {{ return 200 "ok\\n"; }} '
        "location ~ /err$ { return 503; } location ~ /missing$ { return 404; }"))
    run_auto(ctx, nginx, prefix)
    run_rfc3164(ctx, nginx, prefix)
    run_message_max(ctx, nginx, prefix)


if __name__ == "__main__":
    htlib.run(test)
