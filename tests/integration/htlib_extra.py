# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for the tests of documented entry kinds, flags and drops.

Kept apart from htlib.py (the shared harness) so the two can change
independently; everything here builds on htlib.
"""

import contextlib
import json
import os
import socket
import subprocess
import time

import htlib
from htlib import Failure, Proc, expect, free_port, wait_port

# The public contract, as docs/journal-fields.md writes it (literal on purpose:
# a changed id in the code must turn these tests red).
MID_COMPLETE = "d0a21e5e3f34fda1ea3a6c8d562c83a1"
MID_NO_RESPONSE = "8258a1a3fa938aa1b6d4ff9487ebf2cb"
MID_UNCORRELATED = "3a960665229ef4a45319e09fd58fd44f"
MID_PARSE_ERROR = "df6d6308c46f1b4ef9bd8c390d550907"
MID_STATISTICS = "e64806dfcd6b4de8b4ea199f678fad44"
MID_DROPS = "5178c98922794d619bfcbf3dd749dfbd"


class RawServer(htlib.Server):
    """tests/integration/raw-server.py: a server that misbehaves on request."""

    def __init__(self, ctx, greet=None, name="raw-server"):
        self.port = free_port()
        argv = ["/usr/bin/python3", os.path.join(htlib.HERE, "raw-server.py"), str(self.port)]
        if greet:
            argv += ["greet", str(greet)]
        self.proc = Proc(ctx, argv, name, cwd=ctx.tmp)
        wait_port(self.port, self.proc.popen, what=name)

    def wait_read(self, target, timeout=30):
        """Until the server has read a request head for `target` (its stdout says so)."""
        poll(lambda: f"read {target}\n" in self.proc.stdout_text(),
             f"{self.proc.name} to read the request for {target}", timeout=timeout)


def request(target, method="GET", headers=(), body=b"", version="1.1"):
    h = f"{method} {target} HTTP/{version}\r\nHost: test\r\n"
    for k, v in headers:
        h += f"{k}: {v}\r\n"
    if body:
        h += f"Content-Length: {len(body)}\r\n"
    return h.encode("latin-1") + b"\r\n" + body


def wait_entries(daemon_pid, port, expected, pred=None, timeout=30):
    """Entries of one daemon run on one server port, polled until `expected` are there."""
    return htlib.journal_wait(daemon_pid, f"SERVER_PORT={port}", expected=expected,
                              pred=pred, timeout=timeout)


def by_role(entries, role):
    return [e for e in entries if e.get("HTTP_ROLE") == role]


def one(entries, what, **match):
    """The single entry whose fields equal `match`; a failed check otherwise."""
    found = [e for e in entries if all(e.get(k) == v for k, v in match.items())]
    expect(len(found) == 1, f"{what}: expected exactly one entry with {match}, got {len(found)}"
                            + (f": {[x.get('MESSAGE') for x in found]}" if found else
                               f"; entries there: {[x.get('MESSAGE') for x in entries]}"))
    return found[0] if len(found) == 1 else {}


def expect_fields(e, what, **want):
    """Each field equal to its documented value; None means absent."""
    for k, v in want.items():
        got = e.get(k)
        expect(got == v, f"{what}: {k}={got!r}, expected {v!r}")


def absent(e, what, *names):
    for k in names:
        expect(k not in e, f"{what}: {k}={e.get(k)!r} present, the docs say it is absent here")


def comm_of(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def poll(cond, what, timeout=30, interval=0.1):
    """Wait for cond() to be true; Failure naming `what` if it never is."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def client(port, timeout=30):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def check_no_response(entries, what, target, reason, role, pid, server_port, client_port,
                      priority="5", method="GET"):
    """The one no-response entry for `target` in `role`, every documented field checked."""
    e = one(entries, what, HTTP_TARGET=target, HTTP_ROLE=role)
    if not e:
        return e
    comm = e.get("OBJECT_COMM") or "python3"
    expect_fields(e, what,
                  MESSAGE_ID=MID_NO_RESPONSE, PRIORITY=priority, HTTP_NO_RESPONSE_REASON=reason,
                  HTTP_METHOD=method, HTTP_PATH=target.split("?")[0], HTTP_VERSION="1.1",
                  HTTP_HOST="test", PROCESS_PID=str(pid), CLIENT_ADDR="127.0.0.1",
                  SERVER_ADDR="127.0.0.1", SERVER_PORT=str(server_port),
                  CLIENT_PORT=str(client_port), SYSLOG_IDENTIFIER="http-tracer",
                  MESSAGE=f"{method} {target} \u2192 no response ({reason}) ({comm}[{pid}] "
                          f"127.0.0.1:{client_port} \u2192 127.0.0.1:{server_port})")
    expect(str(e.get("HTTP_CONNECTION_ID", "")).isdigit(),
           f"{what}: HTTP_CONNECTION_ID={e.get('HTTP_CONNECTION_ID')!r}, expected a number")
    # docs/journal-fields.md: only a response gives these; only a complete exchange a duration
    absent(e, what, "HTTP_STATUS", "HTTP_DURATION_USEC", "HTTP_RESPONSE_BODY_BYTES",
           "HTTP_PARSE_ERROR")
    return e


def journal_query_all(daemon_pid, *matches):
    """htlib.journal_query with --all: values of 4096 bytes and more are
    otherwise shown as null by journalctl -o json (HTTP_TARGET's limit is
    4 KiB, exactly there)."""
    argv = ["journalctl", "-o", "json", "--all", "--no-pager", f"_PID={daemon_pid}",
            "SYSLOG_IDENTIFIER=http-tracer"] + list(matches)
    r = htlib.run_cmd(argv, check=False)
    if r.returncode not in (0, 1):
        raise Failure(f"journalctl failed: {r.stderr.decode().strip()}")
    out = []
    for line in r.stdout.decode("utf-8", "replace").splitlines():
        if line.strip():
            e = json.loads(line)
            out.append({k: htlib._field(v) for k, v in e.items()})
    return out


# ---------------------------------------------------------------- own journald

class JournaldNamespace:
    """A journald of our own: `systemd-journald NAME` (a journald namespace).

    It listens on /run/systemd/journal.NAME/socket and stores in
    /var/log/journal/MACHINE-ID.NAME; `journalctl --namespace=NAME` reads
    it. Tests may stop, stall and kill it; the shared journald is never
    touched. Everything it creates is removed at the end.
    """

    def __init__(self, ctx, name, wrap=()):
        self.name = name
        self.wrap = list(wrap)   # argv prefix, e.g. unshare -u to give it another hostname
        self.dir = f"/run/systemd/journal.{name}"
        self.socket = os.path.join(self.dir, "socket")
        self.dropin_dir = f"/run/systemd/journald@{name}.conf.d"
        self.popen = None
        ctx.cleanup.callback(self.cleanup)

    def start(self, timeout=20):
        os.makedirs(self.dropin_dir, exist_ok=True)
        with open(os.path.join(self.dropin_dir, "50-http-tracer-tests.conf"), "w") as f:
            f.write("# http-tracer's tests: no rate limit in this throw-away namespace\n"
                    "[Journal]\nRateLimitIntervalSec=0\n")
        self.popen = subprocess.Popen(self.wrap + [htlib.JOURNALD, self.name], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True)
        htlib.log(f"started journald namespace {self.name} (pid {self.popen.pid})")

        def up():
            if self.popen.poll() is not None:
                raise Failure(f"journald {self.name} exited with {self.popen.returncode}")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                s.connect(self.socket)
                return True
            except OSError:
                return False
            finally:
                s.close()
        poll(up, f"journald {self.name} to listen on {self.socket}", timeout=timeout)

    def stop_signal(self, sig):
        os.kill(self.popen.pid, sig)

    def kill(self):
        self.popen.kill()
        self.popen.wait(10)

    def cleanup(self):
        import shutil
        if self.popen and self.popen.poll() is None:
            import signal
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.popen.pid, signal.SIGCONT)
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        try:
            with open("/etc/machine-id") as f:
                mid = f.read().strip()
        except FileNotFoundError:
            mid = None
        paths = [self.dir, self.dropin_dir]
        if mid:
            paths += [f"/var/log/journal/{mid}.{self.name}", f"/run/log/journal/{mid}.{self.name}"]
        for p in paths:
            shutil.rmtree(p, ignore_errors=True)

    def query(self, daemon_pid, *matches):
        argv = ["journalctl", f"--namespace={self.name}", "-o", "json", "--all", "--no-pager",
                f"_PID={daemon_pid}", "SYSLOG_IDENTIFIER=http-tracer"] + list(matches)
        r = htlib.run_cmd(argv, check=False)
        if r.returncode not in (0, 1):
            raise Failure(f"journalctl --namespace={self.name} failed: {r.stderr.decode().strip()}")
        return [{k: htlib._field(v) for k, v in json.loads(line).items()}
                for line in r.stdout.decode("utf-8", "replace").splitlines() if line.strip()]

    def wait(self, daemon_pid, expected, *matches, timeout=60):
        """Poll until at least `expected` entries are there, then until their number is stable."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            entries = self.query(daemon_pid, *matches)
            if len(entries) >= expected:
                if last is not None and len(entries) == last:
                    return entries
                last = len(entries)
                time.sleep(0.5)
                continue
            if time.monotonic() > deadline:
                return entries
            time.sleep(0.2)


# ---------------------------------------------------------------- private control socket

class PrivateRunDaemon(htlib.Daemon):
    """htlib.Daemon in a private mount namespace with its own /run/http-tracer.

    The control socket path is fixed (/run/http-tracer/control) and a daemon
    refuses to displace a live one, so on a host where other daemons run a
    test cannot count on it; here it gets a tmpfs of its own there, and
    status() asks it through nsenter into that namespace.
    """

    private_run = False     # this class makes its own /run/http-tracer
    mounts = ""             # more shell commands run in the namespace first ("mount ... && ")

    def start(self):
        os.makedirs("/run/http-tracer", exist_ok=True)  # the mount point; the daemon makes it anyway
        wrapper = os.path.join(self.ctx.tmp, f"{self.name}-private-run.sh")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\n"
                    "exec unshare -m --propagation private /bin/sh -c "
                    f"'{self.mounts}mount -t tmpfs -o mode=0755 tmpfs /run/http-tracer && exec \"$0\" \"$@\"' "
                    f"'{htlib.HTTP_TRACER}' \"$@\"\n")
        os.chmod(wrapper, 0o755)
        real = htlib.HTTP_TRACER
        htlib.HTTP_TRACER = wrapper  # Daemon.start() runs [HTTP_TRACER] + args
        try:
            return super().start()
        finally:
            htlib.HTTP_TRACER = real

    def status(self, timeout=10):
        """`http-tracer status --json` over this daemon's own control socket."""
        r = htlib.run_cmd(["nsenter", "-t", str(self.pid), "-m", htlib.HTTP_TRACER, "status", "--json"],
                          timeout=timeout)
        ans = json.loads(r.stdout)
        return ans.get("status", ans)


# ---------------------------------------------------------------- private configuration directories

# Where the daemon looks for its configuration (docs/configuration.md), in the
# order of precedence for a drop-in name: /etc hides /run, which hides /usr/local/lib ...
CONFIG_DIRS = ("/etc/http-tracer", "/run/http-tracer", "/usr/local/lib/http-tracer",
               "/usr/lib/http-tracer")


class PrivateConfigDirs:
    """The daemon's fixed configuration directories, private to the test.

    Each of CONFIG_DIRS is a directory under ctx.tmp, bind-mounted over the
    real path in a mount namespace of its own (unshare -m, private
    propagation) for each command run through argv() or wrapper(): the
    daemon sees and reports the real paths, the host's files are never
    read or written. /run/http-tracer, the control socket's directory, is
    among them, so a daemon started this way has its own control socket
    too. A missing real directory is created as the mount point and removed
    again at the end (rmdir: only if still empty). Two runs of such tests at
    the same time on one host could remove a mount point the other still
    binds over (meson runs integration tests one at a time).
    """

    def __init__(self, ctx, name="confdirs"):
        self.ctx = ctx
        self.root = os.path.join(ctx.tmp, name)
        self.created = []
        for d in CONFIG_DIRS:
            os.makedirs(self.root + d, exist_ok=True)
            os.chmod(self.root + d, 0o755)
            try:
                os.mkdir(d, 0o755)   # the parents (/etc, /run, /usr/lib ...) exist
                self.created.append(d)
            except FileExistsError:
                pass
        ctx.cleanup.callback(self._cleanup)
        self._script = ("for d in " + " ".join(CONFIG_DIRS) + "; do "
                        f"mount --bind \"{self.root}$d\" \"$d\" || exit 99; done; "
                        "exec \"$0\" \"$@\"")

    def _cleanup(self):
        for d in reversed(self.created):
            with contextlib.suppress(OSError):
                os.rmdir(d)

    def path(self, real_dir, name=""):
        """Where a file of `real_dir` (one of CONFIG_DIRS) lives outside the namespace."""
        return os.path.join(self.root + real_dir, name) if name else self.root + real_dir

    def dropin(self, real_dir, name, text=None, link=None):
        """A drop-in http-tracer.yaml.d/NAME in real_dir: a file with `text`, or a symlink to `link`."""
        d = os.path.join(self.root + real_dir, "http-tracer.yaml.d")
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        p = os.path.join(d, name)
        if link is not None:
            os.symlink(link, p)
        else:
            with open(p, "w") as f:
                f.write(text)
        return os.path.join(real_dir, "http-tracer.yaml.d", name)

    def argv(self, *args, exe=None, pre=""):
        """argv running the daemon binary (or exe) with args in the private namespace;
        `pre`, shell commands run there first (more mounts), must succeed."""
        script = f"{pre} || exit 99; {self._script}" if pre else self._script
        return ["unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script,
                exe or htlib.HTTP_TRACER] + list(args)

    def run(self, *args, env=None, timeout=60, exe=None, pre=""):
        r = subprocess.run(self.argv(*args, exe=exe, pre=pre), capture_output=True, timeout=timeout, env=env)
        expect(r.returncode != 99, f"could not set up the private mount namespace: "
                                   f"{r.stderr.decode('utf-8', 'replace')[-500:]}")
        return r

    def wrapper(self, name="private-conf"):
        """A script that runs the daemon in the namespace: for htlib.Daemon, as PrivateRunDaemon does."""
        w = os.path.join(self.ctx.tmp, f"{name}.sh")
        with open(w, "w") as f:
            f.write("#!/bin/sh\nexec " + " ".join(
                _sh_quote(a) for a in self.argv(exe=htlib.HTTP_TRACER)) + " \"$@\"\n")
        os.chmod(w, 0o755)
        return w


def _sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


class PrivateConfigDaemon(htlib.Daemon):
    """htlib.Daemon inside PrivateConfigDirs: its own configuration directories and control socket."""

    private_run = False     # PrivateConfigDirs binds its own /run/http-tracer

    def __init__(self, ctx, dirs, args=(), **kw):
        super().__init__(ctx, args, **kw)
        self.dirs = dirs

    def start(self):
        wrapper = self.dirs.wrapper(f"{self.name}-private-conf")
        real = htlib.HTTP_TRACER
        htlib.HTTP_TRACER = wrapper  # Daemon.start() runs [HTTP_TRACER] + args
        try:
            return super().start()
        finally:
            htlib.HTTP_TRACER = real

    def ctl(self, *args, timeout=30):
        """`http-tracer ARGS` (status, stats-reset ...) in the daemon's own mount namespace."""
        return subprocess.run(["nsenter", "-t", str(self.pid), "-m", os.path.abspath(htlib.HTTP_TRACER)] + list(args),
                              capture_output=True, timeout=timeout)
