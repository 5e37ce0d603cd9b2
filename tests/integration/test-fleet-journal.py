#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""docs/fleet.md, followed word for word: a web host's http-tracer entries
shipped by systemd-journal-upload to a central systemd-journal-remote across a
real link, over HTTPS (certificates made by the doc's recipe) and plain HTTP.

Two network namespaces, "central" and "web", joined by a veth pair with
addresses the test assigns; the doc's host name central.example.org resolves
to the central end through an /etc/hosts bind-mounted for the uploader only.
On the web side:
  - a journald of our own (a journal namespace instance, as LogNamespace=
    starts one), configured by the doc's journald@http-tracer.conf, under
    the host name web3 (a UTS namespace);
  - http-tracer, with that instance's socket directory bind-mounted over
    /run/systemd/journal in its mount namespace: what LogNamespace= does;
    a kernel filter on nginx's port keeps every other exchange out;
  - nginx on the web address, and a client beside it (over the web side's
    own loopback route, so that the veth carries the upload and nothing else);
  - journal-upload run with the ExecStart= of the doc's drop-in.
On the central side: journal-remote with the ExecStart= of the doc's drop-in.

What the test changes in the doc's text, and only that: paths under /etc/ssl,
/var/log/journal/remote, the uploader's state file and %d (credentials; the
test copies each LoadCredential= source there as systemd would) point into
the test's directory; %m.http-tracer is the test's namespace (another name, so
as never to meet a real one); `-3` (the socket systemd passes) is the central
address and port 19532 of the socket unit.

Checks, in each mode:
  1. every entry of the web host's namespace journal is in the central store,
     every field equal but __CURSOR (a cursor names a position in the file
     that holds the entry; the central file is another);
  2. journal-remote SIGKILLed while the uploader is idle, traffic goes on: the
     uploader exits 1 at its next upload (the unit's Restart= brings it back;
     here the test does), and after both restart nothing is lost, and the
     only entry stored twice is the one at the uploader's saved cursor (a
     restarted journal-upload 252 sends it again);
  3. journal-remote SIGKILLed in the middle of a stream of HT_FLEET_STREAM
     (1500) exchanges: the uploader resends from the cursor it saved at the
     last acknowledged POST; nothing is lost, and exactly the entry at that
     cursor and the k entries journal-remote stored from the interrupted POST
     (counted in its files while it is dead) are there twice, equal in every
     field (at-least-once, as docs/fleet.md says);
  4. the central server entries on nginx's port, deduplicated, are exactly
     the requests nginx logged (pid, method, target, status, body bytes,
     client port); the doc's query (HTTP_STATUS=500 _HOSTNAME=web3) finds
     exactly nginx's 500s (plus their duplicates among the k).
It prints the measured sizes docs/fleet.md quotes: bytes per exchange entry
in the web host's and the central journal files, in the export format, and on
the veth (HTTP or HTTPS, TCP/IP and Ethernet included).
"""

import collections
import json
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htlib  # noqa: E402
import htlib_extra as X  # noqa: E402
from htlib import Failure, ensure, expect, log  # noqa: E402

REMOTE = "/lib/systemd/systemd-journal-remote"
UPLOAD = "/lib/systemd/systemd-journal-upload"
DOC = os.path.join(htlib.SOURCE_ROOT, "docs", "fleet.md")
CENTRAL_NAME = "central.example.org"
WEB_HOST = "web3"
REMOTE_PORT = 19532          # systemd-journal-remote.socket's ListenStream=
QUERY = "journalctl -D /var/log/journal/remote HTTP_STATUS=500 _HOSTNAME=web3"
# What journal-remote changes in an entry: only its cursor (see above).
REMOTE_CHANGES = ("__CURSOR",)
N_FIRST, N_IDLE_KILL = 300, 100
# The stream killed into; docs/fleet.md's sizes were measured with HT_FLEET_STREAM=20000.
N_STREAM = int(os.environ.get("HT_FLEET_STREAM", "1500"))


# ---------------------------------------------------------------- the doc

def doc_blocks():
    """docs/fleet.md's fenced blocks whose first line is a '# name' comment, by name."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    blocks = {}
    for m in re.finditer(r"^```\n(.*?)^```$", text, re.S | re.M):
        lines = m.group(1).splitlines()
        if lines and lines[0].startswith("# "):
            blocks[lines[0][2:]] = "\n".join(lines[1:]) + "\n"
    ensure(QUERY in text, f"docs/fleet.md no longer shows `{QUERY}`: update this test")
    return blocks


def block(blocks, name):
    if name not in blocks:
        raise Failure(f"docs/fleet.md has no block starting '# {name}': update this test")
    return blocks[name]


def unit_values(text, key):
    return [line.partition("=")[2] for line in text.splitlines() if line.startswith(key + "=")]


def exec_start(text):
    """The command of a drop-in that resets ExecStart= and sets its own."""
    v = unit_values(text, "ExecStart")
    ensure(len(v) == 2 and v[0] == "", f"drop-in should reset ExecStart= and set one: {v}")
    return v[1]


class Host:
    """One host's view of the doc's paths: where they live in the test."""

    def __init__(self, ctx, name, extra=()):
        self.root = os.path.join(ctx.tmp, name)
        self.creds = os.path.join(self.root, "credentials")
        os.makedirs(self.creds, mode=0o700)
        self.subs = [("/etc/ssl/", os.path.join(self.root, "ssl") + "/"), ("%d/", self.creds + "/")]
        self.subs += list(extra)

    def sub(self, s):
        for real, ours in self.subs:
            s = s.replace(real, ours)
        return s

    def load_credentials(self, dropin):
        """LoadCredential=NAME:PATH, as systemd does it: a copy, readable by the service only."""
        for v in unit_values(dropin, "LoadCredential"):
            name, _, path = v.partition(":")
            dst = os.path.join(self.creds, name)
            shutil.copyfile(self.sub(path), dst)
            os.chmod(dst, 0o400)


# ---------------------------------------------------------------- network

class Link:
    """Two network namespaces and a veth pair; removed at the end whatever happens."""

    def __init__(self, ctx):
        tag = os.getpid() % 100000
        self.central, self.web = f"htf-central-{tag}", f"htf-web-{tag}"
        self.cdev, self.wdev = f"htfc{tag}", f"htfw{tag}"
        net = f"10.213.{tag % 250}"
        self.central_addr, self.web_addr = f"{net}.1", f"{net}.2"
        ctx.cleanup.callback(self.remove)   # registered first: runs after every process is gone
        for ns in (self.central, self.web):
            htlib.run_cmd(["ip", "netns", "add", ns])
            htlib.run_cmd(["ip", "-n", ns, "link", "set", "lo", "up"])
        htlib.run_cmd(["ip", "link", "add", self.cdev, "netns", self.central, "type", "veth",
                       "peer", "name", self.wdev, "netns", self.web])
        for ns, dev, addr in ((self.central, self.cdev, self.central_addr), (self.web, self.wdev, self.web_addr)):
            htlib.run_cmd(["ip", "-n", ns, "addr", "add", f"{addr}/30", "dev", dev])
            htlib.run_cmd(["ip", "-n", ns, "link", "set", dev, "up"])

    def remove(self):
        for ns in (self.central, self.web):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        expect(self.central not in left and self.web not in left, f"network namespaces left: {left}")
        links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
        expect(self.cdev not in links and self.wdev not in links, f"veth left on the host: {links}")

    @staticmethod
    def argv(ns, argv, hosts=None):
        """argv run in network namespace ns (ip netns exec: a mount namespace of its own too)."""
        if hosts is None:
            return ["ip", "netns", "exec", ns] + list(argv)
        return ["ip", "netns", "exec", ns, "/bin/sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"',
                hosts] + list(argv)

    def web_veth_bytes(self):
        r = htlib.run_cmd(["ip", "-n", self.web, "-s", "-j", "link", "show", self.wdev])
        st = json.loads(r.stdout)[0]["stats64"]
        return st["tx"]["bytes"] + st["rx"]["bytes"]

    def wait_listening(self, ns, port, proc, what, timeout=60):
        deadline = time.monotonic() + timeout   # bounds only a failure
        while True:
            r = htlib.run_cmd(["ss", "-N", ns, "-Hltn", f"sport = :{port}"], check=False)
            if r.stdout.strip():
                return
            ensure(proc.poll() is None, f"{what} exited {proc.popen.returncode}: {proc.stderr_text()[-2000:]}")
            ensure(time.monotonic() < deadline, f"{what} does not listen on {port} after {timeout} s")
            time.sleep(0.05)


# ---------------------------------------------------------------- nginx and its client

NGINX_FIELDS = ("pid", "method", "uri", "status", "body_bytes_sent", "remote_port")

CLIENT = r"""
import http.client, sys, time
addr, port, tag, n, pause = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
c = None
for i in range(n):
    if i % 50 == 0:          # a new connection now and then: more client ports
        if c: c.close()
        c = http.client.HTTPConnection(addr, port, timeout=30)
    kind = i % 10
    path = {8: "/boom/", 6: "/missing/", 7: "/missing/"}.get(kind, "/fleet/") + f"{tag}/{i}?q={i}"
    if kind == 9:
        c.request("POST", path, body=b"x" * 100)
    else:
        c.request("GET", path)
    r = c.getresponse(); r.read()
    if pause: time.sleep(pause)
c.close()
"""


class WebNginx:
    def __init__(self, ctx, link, port):
        d = os.path.join(ctx.tmp, "nginx")
        os.makedirs(d)
        self.port, self.link, self.ctx = port, link, ctx
        self.access_log = os.path.join(d, "access.log")
        conf = os.path.join(d, "nginx.conf")
        temps = "".join(f"    {k}_temp_path {d}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 256; }}
http {{
    log_format fleet '$pid\\t$request_method\\t$request_uri\\t$status\\t$body_bytes_sent\\t$remote_port';
    access_log {self.access_log} fleet;
{temps}    server {{
        listen {link.web_addr}:{port};
        location /fleet/ {{ return 200 "ok\\n"; }}
        location /boom/ {{ return 500; }}
        location / {{ return 404; }}
    }}
}}
""")
        self.proc = htlib.Proc(ctx, link.argv(link.web, ["nginx", "-p", d, "-e", f"{d}/error.log", "-c", conf]),
                               "nginx")
        link.wait_listening(link.web, port, self.proc, "nginx")

    def client(self, tag, n, pause=0.0):
        return htlib.Proc(self.ctx, self.link.argv(self.link.web, [
            "/usr/bin/python3", "-c", CLIENT, self.link.web_addr, str(self.port), tag, str(n), str(pause)]),
            f"client-{tag}")

    def run_client(self, tag, n, timeout=300):
        p = self.client(tag, n)
        rc = p.popen.wait(timeout)
        ensure(rc == 0, f"client {tag} exited {rc}: {p.stderr_text()[-2000:]}")

    def log_lines(self):
        return htlib.read_tsv(self.access_log, NGINX_FIELDS)


# ---------------------------------------------------------------- journals

def journal(*args):
    r = htlib.run_cmd(["journalctl", "-o", "json", "--all", "--no-pager"] + list(args), check=False)
    if r.returncode not in (0, 1):
        raise Failure(f"journalctl {' '.join(args)} failed: {r.stderr.decode().strip()}")
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]


def key(e):
    """An entry's identity across the link: every field but those journal-remote changes."""
    return json.dumps({k: v for k, v in e.items() if k not in REMOTE_CHANGES}, sort_keys=True)


def journal_used_bytes(directory):
    """(bytes the journal files of a directory use beyond their fixed hash tables, entries).

    From each file's header (systemd's journal-def.h): the end of the tail
    object minus the end of the field hash table; the files are
    preallocated, so their sizes say nothing.
    """
    used = entries = 0
    for name in os.listdir(directory):
        if not (name.endswith(".journal") or name.endswith(".journal~")):
            continue
        with open(os.path.join(directory, name), "rb") as f:
            h = f.read(160)
            field_off, field_size, tail = struct.unpack_from("<QQQ", h, 120)
            n_entries = struct.unpack_from("<Q", h, 152)[0]
            f.seek(tail + 8)
            tail_size = struct.unpack("<Q", f.read(8))[0]
        used += ((tail + tail_size + 7) & ~7) - (field_off + field_size)
        entries += n_entries
    return used, entries


# ---------------------------------------------------------------- one mode

class Fleet:
    def __init__(self, ctx, mode, blocks, link, ns_dir):
        self.ctx, self.mode, self.link = ctx, mode, link
        base = os.path.join(ctx.tmp, mode)
        self.central_out = os.path.join(base, "remote")
        self.state = os.path.join(base, "upload-state")
        os.makedirs(self.central_out)
        mid = open("/etc/machine-id").read().strip()
        self.central = Host(ctx, f"{mode}/central", [("/var/log/journal/remote/", self.central_out + "/")])
        self.web = Host(ctx, f"{mode}/web", [(f"/var/log/journal/%m.http-tracer", ns_dir)])
        self.ns_dir = ns_dir
        self.hosts = os.path.join(base, "hosts")
        with open(self.hosts, "w") as f:
            f.write(f"127.0.0.1 localhost\n{link.central_addr} {CENTRAL_NAME}\n")
        if mode == "https":
            pki = os.path.join(base, "pki")
            os.makedirs(pki)
            for name in ("certificates for journal-upload → journal-remote", "central host: its certificate",
                         "web host: its certificate and the CA"):
                host = self.web if name.startswith("web") else self.central
                script = block(blocks, name) if name.startswith("cert") else host.sub(block(blocks, name))
                htlib.run_cmd(["/bin/bash", "-euo", "pipefail", "-c", script], cwd=pki)
            remote_dropin = block(blocks, "journal-remote over HTTPS")
            upload_dropin = block(blocks, "journal-upload over HTTPS")
        else:
            remote_dropin = block(blocks, "journal-remote over plain HTTP (lab)")
            upload_dropin = block(blocks, "journal-upload over plain HTTP (lab)")
        self.central.load_credentials(remote_dropin)
        self.web.load_credentials(upload_dropin)
        listen = f"--listen-{mode}="
        cmd = exec_start(remote_dropin)
        ensure(f"{listen}-3" in cmd, f"the doc's journal-remote command lacks {listen}-3: {cmd}")
        self.remote_argv = shlex.split(self.central.sub(cmd.replace(f"{listen}-3",
                                                                    f"{listen}{link.central_addr}:{REMOTE_PORT}")))
        cmd = exec_start(upload_dropin)
        for needle in ("--save-state ", "--directory=/var/log/journal/%m.http-tracer", f"{mode}://{CENTRAL_NAME}:"):
            ensure(needle in cmd, f"the doc's journal-upload command lacks {needle!r}: {cmd}")
        self.upload_argv = shlex.split(self.web.sub(cmd.replace("--save-state ", f"--save-state={self.state} ")))
        ensure(self.remote_argv[0] == REMOTE and self.upload_argv[0] == UPLOAD,
               f"commands: {self.remote_argv[0]}, {self.upload_argv[0]}")
        self.remote = self.upload = None
        self.n_remote = self.n_upload = 0
        self.diagnose = lambda: ""      # what the test knows of the web host's other parts
        # entries the central store holds twice, by key: those a restarted
        # uploader sent again (the one at its saved cursor, and those journal-remote
        # stored from an interrupted POST)
        self.resent = collections.Counter()

    def start_remote(self):
        self.n_remote += 1
        self.remote = htlib.Proc(self.ctx, self.link.argv(self.link.central, self.remote_argv),
                                 f"{self.mode}-journal-remote-{self.n_remote}")
        self.link.wait_listening(self.link.central, REMOTE_PORT, self.remote, "journal-remote")

    def start_upload(self):
        self.n_upload += 1
        self.upload = htlib.Proc(self.ctx, self.link.argv(self.link.web, self.upload_argv, hosts=self.hosts),
                                 f"{self.mode}-journal-upload-{self.n_upload}")

    def local(self, *args):
        return journal("-D", self.ns_dir, *args)

    def store(self, *args):
        return journal("-D", self.central_out, *args)

    def wait_uploaded(self, what, timeout=120):
        """Until every entry of the web host's journal is in the central store."""
        deadline = time.monotonic() + timeout   # bounds only a failure
        while True:
            want = {key(e) for e in self.local()}
            have = {key(e) for e in self.store()}
            if want <= have:
                return
            ensure(self.upload.poll() is None,
                   f"{what}: the uploader exited {self.upload.popen.returncode}: {self.upload.stderr_text()[-2000:]}")
            ensure(time.monotonic() < deadline,
                   f"{what}: {len(want - have)} of {len(want)} entries not in the central store after {timeout} s; "
                   f"uploader: {self.upload.stderr_text()[-1500:]}; remote: {self.remote.stderr_text()[-1500:]}")
            time.sleep(0.2)

    def saved_cursor(self):
        with open(self.state) as f:
            for line in f:
                if line.startswith("LAST_CURSOR="):
                    return line.strip().partition("=")[2]
        raise Failure(f"no LAST_CURSOR in {self.state}")

    def kill_remote(self):
        os.killpg(self.remote.pid, signal.SIGKILL)
        self.remote.popen.wait(30)
        self.remote.kill_group()

    def wait_upload_failed(self, what, timeout=120):
        """The uploader exits at its first failed upload (docs/fleet.md)."""
        try:
            rc = self.upload.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            local = self.local()
            at = [i for i, e in enumerate(local) if e["__CURSOR"] == self.saved_cursor()]
            raise Failure(f"{what}: the uploader still runs {timeout} s after journal-remote died, "
                          f"{len(local) - at[0] - 1 if at else '?'} entries after its saved cursor; "
                          f"{self.diagnose()}; uploader: {self.upload.stderr_text()[-1500:]}")
        err = self.upload.stderr_text()
        expect(rc == 1 and "Upload to" in err and "failed" in err,
               f"{what}: the uploader exited {rc}, expected 1 and 'Upload to … failed': {err[-1500:]}")

    def stored_after_cursor(self, cursor):
        """While journal-remote is dead (its files do not change): the keys of the
        entries after the uploader's saved cursor that it stored all the same,
        checking that everything up to the cursor is there exactly once."""
        local = self.local()
        at = [i for i, e in enumerate(local) if e["__CURSOR"] == cursor]
        ensure(len(at) == 1, f"the saved cursor {cursor} is not one of the web host's entries")
        before = {key(e) for e in local[:at[0] + 1]}
        after = {key(e) for e in local[at[0] + 1:]}
        store = collections.Counter(key(e) for e in self.store())
        ensure(not set(store) - before - after, "the central store holds entries the web host never had")
        more = [k for k in before if store[k] != 1 + self.resent[k]]
        expect(not more, f"{len(more)} entries up to the saved cursor stored other than once (or as resent)")
        stored = [k for k in after if store[k]]
        expect(all(store[k] == 1 for k in stored), "an entry after the cursor stored twice before the resend")
        return stored, key(local[at[0]])

    def restart(self, what):
        """Account for what the uploader will send again, then start journal-remote
        and the uploader (systemd's Restart= does the latter on a real host)."""
        stored, at_cursor = self.stored_after_cursor(self.saved_cursor())
        log(f"{what}: journal-remote had stored {len(stored)} entries after the uploader's saved cursor")
        self.resent[at_cursor] += 1     # journal-upload 252 sends the entry at its cursor again
        self.resent.update(stored)
        self.start_remote()
        self.start_upload()
        return stored

    def check_store(self, what):
        """The central store: every entry of the web host once, plus what was resent."""
        local, store = self.local(), self.store()
        counts = collections.Counter(key(e) for e in store)
        want = collections.Counter(key(e) for e in local) + self.resent
        expect(counts == want, f"{what}: central store != the web host's entries once + the "
                               f"{sum(self.resent.values())} resent twice: {sum((counts - want).values())} extra, "
                               f"{sum((want - counts).values())} missing")
        return local, store


def run_mode(ctx, mode, blocks, link, ns, nginx, daemon):
    log(f"---- {mode}")
    f = Fleet(ctx, mode, blocks, link, ns.dir_path)

    def diagnose():
        alive = {"journald": ns.popen.poll(), "http-tracer": daemon.proc.poll(), "nginx": nginx.proc.poll()}
        try:
            c = daemon.status()["counters"]
            counters = {k: c.get(k) for k in ("exchanges_complete", "entries_written", "entries_queued",
                                               "entries_dropped", "output_errors")}
        except Exception as e:  # noqa: BLE001 - a diagnosis must not hide the failure
            counters = str(e)
        return f"exit status (None: running) {alive}; daemon counters {counters}; daemon stderr {daemon.proc.stderr_text()[-800:]}"
    f.diagnose = diagnose
    veth0 = link.web_veth_bytes()
    used0 = journal_used_bytes(ns.dir_path)
    n_local0 = len(f.local())
    f.start_remote()
    f.start_upload()

    # 1. a first batch, all of it uploaded, every field equal
    nginx.run_client(f"{mode}-first", N_FIRST)
    f.wait_uploaded("first batch")
    local = {key(e): e for e in f.local()}
    store = f.store()
    expect(len(store) == len(local), f"central store has {len(store)} entries, the web host {len(local)}")
    by_cursorless = {key(e): e for e in store}
    for k, e in list(local.items())[:1]:
        c = by_cursorless[k]
        differ = sorted(x for x in set(e) | set(c) if e.get(x) != c.get(x))
        log(f"fields that differ between the host's and the central copy: {differ}")
        expect(differ == list(REMOTE_CHANGES), f"fields journal-remote changed: {differ}")

    # 2. journal-remote killed while the uploader is idle (all acknowledged)
    last = f.local()[-1]["__CURSOR"]
    X.poll(lambda: os.path.exists(f.state) and f.saved_cursor() == last,
           "the uploader to save the cursor of the last entry", timeout=120)
    f.kill_remote()
    nginx.run_client(f"{mode}-idle-kill", N_IDLE_KILL)
    f.wait_upload_failed("idle kill")
    stored = f.restart("idle kill")
    expect(not stored, f"idle kill: journal-remote stored {len(stored)} entries it never acknowledged")
    f.wait_uploaded("after the idle kill")
    f.check_store("after the idle kill")

    # 3. journal-remote killed in the middle of a stream
    n_before = len(f.store())
    client = nginx.client(f"{mode}-stream", N_STREAM, pause=0.002)
    X.poll(lambda: len(f.store()) >= n_before + 100 or client.poll() is not None,
           "the stream to reach the central store", timeout=120, interval=0.05)
    ensure(client.poll() is None, "the client finished before the kill: no stream to kill into")
    f.kill_remote()
    f.wait_upload_failed("stream kill")
    dup = f.restart("stream kill")
    rc = client.popen.wait(300)
    ensure(rc == 0, f"stream client exited {rc}: {client.stderr_text()[-2000:]}")
    f.wait_uploaded("after the stream kill")
    local, store = f.check_store("after the stream kill")

    # 4. the exchanges: exactly nginx's requests
    lines = [l for l in nginx.log_lines() if f"/{mode}-" in l["uri"]]
    expect(len(lines) == N_FIRST + N_IDLE_KILL + N_STREAM, f"nginx logged {len(lines)} requests")
    unique = {key(e): e for e in store}.values()
    ex = [e for e in unique if e.get("HTTP_ROLE") == "server" and e.get("SERVER_PORT") == str(nginx.port)
          and f"/{mode}-" in e.get("HTTP_TARGET", "")]
    got = collections.Counter((e.get("PROCESS_PID"), e.get("HTTP_METHOD"), e.get("HTTP_TARGET"), e.get("HTTP_STATUS"),
                               e.get("HTTP_RESPONSE_BODY_BYTES"), e.get("CLIENT_PORT")) for e in ex)
    logged = collections.Counter((l["pid"], l["method"], l["uri"], l["status"], l["body_bytes_sent"], l["remote_port"])
                                 for l in lines)
    expect(got == logged, f"{mode}: central exchanges != nginx's log: {sum((logged - got).values())} missing, "
                          f"{sum((got - logged).values())} extra, e.g. {list((logged - got).items())[:3]} / "
                          f"{list((got - logged).items())[:3]}")
    expect(all(e.get("_HOSTNAME") == WEB_HOST and e.get("SERVER_ADDR") == link.web_addr for e in ex),
           f"{mode}: an exchange without _HOSTNAME={WEB_HOST} or SERVER_ADDR={link.web_addr}")
    q = shlex.split(QUERY.replace("/var/log/journal/remote", f.central_out))
    r = htlib.run_cmd(q + ["-o", "json", "--all"])
    q500 = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
    mine = [e for e in q500 if f"/{mode}-" in e.get("HTTP_TARGET", "")]
    dup_set = set(f.resent)
    want500 = sum(1 for l in lines if l["status"] == "500") + sum(1 for e in ex if e["HTTP_STATUS"] == "500"
                                                                  and key(e) in dup_set)
    expect(len(mine) == want500 and want500 > 0, f"{QUERY}: {len(mine)} entries, expected {want500}")

    # sizes
    ents = [e for e in local if e.get("SERVER_PORT") == str(nginx.port) and f"/{mode}-" in e.get("HTTP_TARGET", "")]
    r = htlib.run_cmd(["journalctl", "-D", f.ns_dir, "-o", "export", f"SERVER_PORT={nginx.port}"])
    export = [b for b in r.stdout.split(b"\n\n") if b.strip()]
    used1 = journal_used_bytes(ns.dir_path)
    central_used = journal_used_bytes(f.central_out)
    veth = link.web_veth_bytes() - veth0
    n_sent = len(store)   # everything this mode's uploaders sent, resent entries included
    log(f"SIZES {mode}: entries {len(local) - n_local0} (+{sum(f.resent.values())} resent), exchange entries {len(ents)}; "
        f"web journal {(used1[0] - used0[0]) / max(1, used1[1] - used0[1]):.0f} B/entry; "
        f"central journal {central_used[0] / max(1, central_used[1]):.0f} B/entry; "
        f"export format {sum(map(len, export)) / max(1, len(export)):.0f} B/exchange entry; "
        f"veth {veth / max(1, n_sent):.0f} B/entry uploaded")
    f.upload.stop()
    f.remote.stop()


def test(ctx):
    htlib.require_tools(REMOTE, UPLOAD, "ip", "ss", "nginx", "openssl", "unshare")
    blocks = doc_blocks()
    link = Link(ctx)
    ns = X.JournaldNamespace(ctx, f"htfleet{os.getpid()}",
                             wrap=["unshare", "-u", "/bin/sh", "-c", f'hostname {WEB_HOST} && exec "$@"', "sh"])
    os.makedirs(ns.dropin_dir, exist_ok=True)
    with open(os.path.join(ns.dropin_dir, "60-fleet-doc.conf"), "w") as fh:
        fh.write(block(blocks, "journald@http-tracer.conf"))
    # A journald namespace instance exits once idle (no stream or varlink
    # client, the event loop free for its idle-priority timer of 30 s):
    # measured here, between two modes. On a real host systemd's socket
    # activation starts it again at the next entry; here nothing would.
    # MaxRetentionSec= above 30 s turns the idle logic off (journald's
    # server_is_idle()).
    with open(os.path.join(ns.dropin_dir, "70-fleet-test-keep-running.conf"), "w") as fh:
        fh.write("[Journal]\nMaxRetentionSec=1d\n")
    ns.start()
    mid = open("/etc/machine-id").read().strip()
    ns.dir_path = f"/var/log/journal/{mid}.{ns.name}"
    ensure(os.path.isdir(ns.dir_path), f"journald@{ns.name} with the doc's Storage=persistent made no {ns.dir_path}")
    ensure("LogNamespace=http-tracer" in block(blocks, "http-tracer in its own journal namespace"),
           "docs/fleet.md no longer puts http-tracer in a journal namespace: update this test")

    nginx = WebNginx(ctx, link, htlib.free_port())
    daemon = X.PrivateRunDaemon(ctx, ["-s", f"filter.include.local_ports={nginx.port}", "-s", "stats.interval=0"],
                                name="http-tracer-fleet")
    daemon.mounts = f"mount --bind {ns.dir} /run/systemd/journal && "   # what LogNamespace= does
    daemon.start()
    for mode in ("https", "http"):
        run_mode(ctx, mode, blocks, link, ns, nginx, daemon)
    daemon.stop()


if __name__ == "__main__":
    htlib.run(test)
