#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""docs/forwarding.md recipe 2: a real rsyslog reading http-tracer's entries
from the journal with imjournal, through the recipe's filter and both of its
templates.

A private rsyslogd (own config, work directory, state file and pid file; no
imuxsock, so it never touches /dev/log or the system's rsyslog) reads the
journal the daemon writes to (the host's journald, or the one htlib
started) from its tail on. The recipe's filter ($!SYSLOG_IDENTIFIER ==
"http-tracer" and $!MESSAGE_ID != "") is narrowed to this test's random
marker in $!HTTP_TARGET: other tests' tracers write to the same journal.

- JSON template (%$!%): one object per exchange, and every field
  `journalctl -o json` shows for the entry (all but the __ address fields,
  trusted _ fields included) is there with the same value, a target with
  `"`, `\\` and `]` included.
- RFC 5424 template: one line per exchange; PRI is user (imjournal's
  default facility: the entries carry no SYSLOG_FACILITY) * 8 + PRIORITY,
  APP-NAME http-tracer, PROCID the daemon's pid, MSGID the entry's
  MESSAGE_ID, the structured data parameters the journal's values, MSG the
  MESSAGE. The documented caution holds: `:::json` leaves `]` unescaped.
"""

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time

import htlib
from htlib import Failure, ensure, expect, log

RSYSLOGD = "/usr/sbin/rsyslogd"
USER = 1

DOC = os.path.join(htlib.SOURCE_ROOT, "docs", "forwarding.md")
MODULE_LINE = 'module(load="imjournal" StateFile="imjournal.state" ratelimit.interval="0")'
FILTER = '$!MESSAGE_ID != ""'

# The SD as the recipe's template writes it: RFC 5424 PARAM-VALUEs, in its order.
VALUE = r'((?:[^"\\\]]|\\.)*)'
LINE_5424 = re.compile(
    r'<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) \[http@32473 '
    + " ".join(f'{p}="{VALUE}"' for p in ("method", "target", "status", "duration_usec", "client_addr",
                                           "server_addr", "server_port", "pid"))
    + r'\] (.*)')
PARAM_FIELDS = ("HTTP_METHOD", "HTTP_TARGET", "HTTP_STATUS", "HTTP_DURATION_USEC",
                "CLIENT_ADDR", "SERVER_ADDR", "SERVER_PORT", "PROCESS_PID")


def unescape_5424(v):
    return re.sub(r'\\(["\\\]])', r"\1", v)


def doc_recipe():
    """The rsyslog configuration of recipe 2, as docs/forwarding.md shows it."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("## 2. rsyslog `imjournal`"):text.index("## 3.")]
    block, started = [], False
    for line in section.splitlines():
        if line.startswith("    "):
            started = True
            block.append(line[4:])
        elif started and line.strip():
            break
        elif started:
            block.append("")
    conf = "\n".join(block)
    for needle in (MODULE_LINE, FILTER, "/var/log/http-tracer.json", "/var/log/http-tracer.5424"):
        if needle not in conf:
            raise Failure(f"docs/forwarding.md recipe 2 no longer contains {needle!r}: update this test")
    return conf


class ImjournalRsyslog:
    def __init__(self, ctx, marker):
        self.dir = os.path.join(ctx.tmp, "rsyslog-imjournal")
        os.makedirs(self.dir, exist_ok=True)
        self.json_out = os.path.join(self.dir, "http-tracer.json")
        self.rfc5424_out = os.path.join(self.dir, "http-tracer.5424")
        self.pid_file = os.path.join(self.dir, "rsyslogd.pid")
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        self.sentinel_free = {}
        # The doc's recipe with three changes: the output files are ours;
        # imjournal starts at the journal's tail (the host's journal holds
        # much else) and persists its state at once (readiness, below); the filter also wants this test's
        # marker (other tests' tracers write to the same journal).
        conf = doc_recipe()
        conf = conf.replace("/var/log/http-tracer.json", self.json_out)
        conf = conf.replace("/var/log/http-tracer.5424", self.rfc5424_out)
        conf = conf.replace(MODULE_LINE, MODULE_LINE[:-1] + ' IgnorePreviousMessages="on" PersistStateInterval="1")')
        conf = conf.replace(FILTER, f'{FILTER} and $!HTTP_TARGET contains "{marker}"')
        with open(self.conf, "w") as f:
            f.write(f'global(workDirectory="{self.dir}")\n{conf}\n')
        r = htlib.run_cmd([RSYSLOGD, "-N1", "-f", self.conf], check=False)
        if r.returncode != 0:
            raise Failure(f"rsyslog config check failed: {r.stderr.decode()[-2000:]}")

    def start(self, ctx):
        self.proc = htlib.Proc(ctx, [RSYSLOGD, "-n", "-f", self.conf, "-i", self.pid_file],
                               "rsyslogd-imjournal")
        # imjournal writes its state file (PersistStateInterval=1) once it has
        # read an entry after seeking to the tail; only entries written after
        # that are read. On a quiet journal nothing would come: write probes.
        state = os.path.join(self.dir, "imjournal.state")
        deadline = time.monotonic() + 120   # bounds only a failure
        while not os.path.exists(state):
            htlib.run_cmd(["systemd-cat", "-t", "ht-imjournal-probe", "echo", "probe"], check=False)
            if self.proc.poll() is not None:
                raise Failure(f"rsyslogd exited {self.proc.popen.returncode}: {self.proc.stderr_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise Failure("imjournal wrote no state file within 120 s: it never read the journal; "
                              f"stderr: {self.proc.stderr_text()[-2000:]}")
            time.sleep(0.1)
        return self

    @staticmethod
    def lines(path):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        # Only whole lines: rsyslog may be writing the last one.
        return [l.decode("utf-8") for l in data.split(b"\n")[:-1] if l.strip()]

    def wait_sentinel(self, sentinel, timeout=120):
        """Until rsyslog has written the sentinel entry to both files.

        imjournal reads the journal in order and the sentinel was written
        after journald held every entry of the daemon: once it is in both
        files, so is everything rsyslog will ever write for the daemon's
        entries (a duplicate included). Not a guess at how long rsyslog
        takes; the deadline only bounds a failure.
        """
        deadline = time.monotonic() + timeout
        while not all(any(sentinel in l for l in self.lines(p)) for p in (self.json_out, self.rfc5424_out)):
            ensure(time.monotonic() < deadline and self.proc.poll() is None,
                   f"rsyslog did not write the sentinel entry {sentinel} to both files within {timeout} s; "
                   f"stderr: {self.proc.stderr_text()[-2000:]}; JSON file: {self.lines(self.json_out)[-3:]}; "
                   f"RFC 5424 file: {self.lines(self.rfc5424_out)[-3:]}")
            time.sleep(0.1)
        for p in (self.json_out, self.rfc5424_out):
            self.sentinel_free[p] = [l for l in self.lines(p) if sentinel not in l]

    def output(self, path):
        """Whole lines of an output file, without the sentinel's."""
        return self.sentinel_free[path]


def write_sentinel(target):
    """A journal entry that passes the recipe's filter and the marker, sent
    by this test (native protocol, the journal's own socket)."""
    msg = "".join(f"{k}={v}\n" for k, v in (
        ("SYSLOG_IDENTIFIER", "http-tracer"), ("MESSAGE_ID", "0" * 31 + "1"),
        ("HTTP_TARGET", target), ("MESSAGE", f"imjournal test sentinel {target}")))
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(msg.encode(), htlib.JOURNAL_SOCKET)


def check_json(rs, journal, targets):
    objs = [json.loads(l) for l in rs.output(rs.json_out)]
    got = sorted(o.get("HTTP_TARGET") for o in objs)
    expect(got == sorted(targets), f"JSON template: one object per exchange expected; "
                                   f"targets {got}, sent {sorted(targets)}")
    by_target = {o.get("HTTP_TARGET"): o for o in objs}
    for t, e in journal.items():
        o = by_target.get(t)
        if o is None:
            continue
        fields = [k for k in e if not k.startswith("__")]
        missing = [k for k in fields if k not in o]
        expect(not missing, f"{t}: fields journalctl shows but rsyslog's JSON lacks: {missing}")
        differ = {k: (o[k], e[k]) for k in fields if k in o and o[k] != e[k]}
        expect(not differ, f"{t}: rsyslog value != journal value: {differ}")
        for k in ("HTTP_METHOD", "HTTP_TARGET", "HTTP_STATUS", "PROCESS_PID", "MESSAGE_ID", "MESSAGE"):
            expect(k in o, f"{t}: rsyslog's JSON lacks {k}")


def check_5424(rs, journal, targets, daemon_pid):
    lines = rs.output(rs.rfc5424_out)
    expect(len(lines) == len(targets), f"RFC 5424 template: {len(lines)} lines for {len(targets)} exchanges")
    seen = []
    for line in lines:
        m = LINE_5424.fullmatch(line)
        if not expect(m is not None, f"not an RFC 5424 line of the template: {line!r}"):
            continue
        pri, _ts, _host, app, procid, msgid, *params, msg = m.groups()
        values = dict(zip(PARAM_FIELDS, map(unescape_5424, params)))
        t = values["HTTP_TARGET"]
        seen.append(t)
        e = journal.get(t)
        if not expect(e is not None, f"RFC 5424 line for a target not in the journal: {line!r}"):
            continue
        for k, v in values.items():
            expect(v == e.get(k), f"{t}: parameter for {k} is {v!r}, the journal has {e.get(k)!r}")
        expect(pri == str(USER * 8 + int(e["PRIORITY"])),
               f"{t}: PRI {pri}, expected user*8 + PRIORITY {e['PRIORITY']}")
        expect(app == "http-tracer", f"{t}: APP-NAME {app}")
        expect(procid == str(daemon_pid) == e["_PID"], f"{t}: PROCID {procid}, daemon {daemon_pid}")
        expect(msgid == e["MESSAGE_ID"], f"{t}: MSGID {msgid}, MESSAGE_ID {e['MESSAGE_ID']}")
        expect(msg == e["MESSAGE"], f"{t}: MSG {msg!r}, MESSAGE {e['MESSAGE']!r}")
        if "]" in t:
            esc = t.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")
            expect(f'target="{esc}"' in line, f"{t}: not escaped as RFC 5424 says: {line!r}")
    expect(sorted(seen) == sorted(targets), f"RFC 5424 targets {sorted(seen)}, sent {sorted(targets)}")


def imjournal_path():
    """imjournal.so wherever this machine's rsyslog has it: the package's own
    file list first, then the multiarch module directory (any architecture)."""
    def out(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout
        except FileNotFoundError:
            return ""
    candidates = [l for l in out(["dpkg", "-L", "rsyslog"]).splitlines() if l.endswith("/imjournal.so")]
    triplet = getattr(sys.implementation, "_multiarch", None) or out(["gcc", "-print-multiarch"]).strip()
    if triplet:
        candidates.append(f"/usr/lib/{triplet}/rsyslog/imjournal.so")
    candidates += ["/usr/lib/rsyslog/imjournal.so", "/usr/lib64/rsyslog/imjournal.so"]
    return next((c for c in candidates if os.path.exists(c)), None)


def test(ctx):
    htlib.require_tools(RSYSLOGD)
    if imjournal_path() is None:
        htlib.skip("rsyslog's imjournal module is missing (Debian: in the rsyslog package)")
    marker = "imj-" + secrets.token_hex(6)
    srv = htlib.PythonHttpServer(ctx)
    rs = ImjournalRsyslog(ctx, marker).start(ctx)
    daemon = htlib.Daemon(ctx, ["-s", f"filter.include.local_ports={srv.port}"],
                          name="http-tracer-imjournal").start()

    sent = [f"/{marker}/{i}?q={i}" for i in range(8)]
    sent.append(f'/{marker}/odd"quote\\back]bracket')
    for t in sent:
        resp = htlib.raw_exchange(srv.port, f"GET {t} HTTP/1.0\r\nHost: t\r\n\r\n".encode())
        ensure(resp.startswith(b"HTTP/1.0 404"), f"fixture: {t}: {resp[:40]!r}")
    # HTTP_TARGET as docs/journal-fields.md says: a backslash becomes \\.
    targets = [t.replace("\\", "\\\\") for t in sent]

    daemon.stop()
    # Exact: read once journald holds the run's final entry.
    entries = htlib.journal_final(daemon, "HTTP_ROLE=server",
                                  pred=lambda e: marker in str(e.get("HTTP_TARGET", "")))
    journal = {e["HTTP_TARGET"]: e for e in entries}
    ensure(sorted(journal) == sorted(targets) and len(entries) == len(targets),
           f"journal: server entries {sorted(e.get('HTTP_TARGET') for e in entries)}, sent {sorted(targets)}")
    token = f"sentinel-{secrets.token_hex(4)}"   # no '/': the JSON template writes it as '\/'
    write_sentinel(f"/{marker}/{token}")
    rs.wait_sentinel(token)
    log(f"rsyslog wrote {len(rs.output(rs.json_out))} JSON objects, "
        f"{len(rs.output(rs.rfc5424_out))} RFC 5424 lines for {len(targets)} exchanges")
    check_json(rs, journal, targets)
    check_5424(rs, journal, targets, daemon.pid)
    rs.proc.stop()


if __name__ == "__main__":
    htlib.run(test)
