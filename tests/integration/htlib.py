# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared harness for http-tracer's integration tests (Python 3 stdlib only).

Each test is a script that calls run(test_fn). The harness:
  - skips (exit 77, "SKIP: reason" on stdout) when not root or a tool is
    missing, unless a check already failed (then exit 1); scripts/test
    turns a skip under CI=true into a failure (tests/README.md);
  - mounts tracefs and starts journald when they are absent (and undoes what
    it started);
  - starts real servers on free 127.0.0.1 ports in a private temp dir, with
    their own config and access log, and tears them down (whole process
    group) at the end, so no process is left behind;
  - starts and stops the daemon: READY=1 over our own NOTIFY_SOCKET, SIGTERM,
    exit status 0, the Statistics line, no sanitizer report, and none of the
    daemon's BPF programs left loaded afterwards;
  - queries the journal entries of one daemon run.

Failures are collected with expect() and reported together; ensure() stops
the test at once. Any failure exits 1.
"""

import contextlib
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

SKIP_EXIT = 77

HTTP_TRACER = os.environ.get("HTTP_TRACER", "")
SOURCE_ROOT = os.environ.get(
    "HT_SOURCE_ROOT",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
HERE = os.path.dirname(os.path.abspath(__file__))

JOURNAL_SOCKET = "/run/systemd/journal/socket"
JOURNALD = "/lib/systemd/systemd-journald"
JOURNALD_DROPIN_DIR = "/run/systemd/journald.conf.d"
JOURNALD_DROPIN = os.path.join(JOURNALD_DROPIN_DIR, "50-http-tracer-tests.conf")

# Keys the daemon's exit "Statistics:" line must carry (the contract).
STATS_KEYS = ("records", "exchanges", "no_response", "uncorrelated",
              "parse_errors", "ringbuf_drops", "entries_dropped")

# Matches W3C example ids used by tests.
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"


class Skip(Exception):
    pass


class Failure(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def skip(reason):
    raise Skip(reason)


# ---------------------------------------------------------------- checks

class Checks:
    def __init__(self):
        self.failures = []
        self.passed = 0

    def expect(self, cond, msg):
        if cond:
            self.passed += 1
        else:
            self.failures.append(msg)
            log(f"  FAIL: {msg}")
        return cond

    def ensure(self, cond, msg):
        if not self.expect(cond, msg):
            raise Failure(msg)


CHECKS = Checks()
expect = CHECKS.expect
ensure = CHECKS.ensure


# ---------------------------------------------------------------- environment

def require_root():
    if os.geteuid() != 0:
        skip("needs root (BPF programs, tracefs, journald, servers as root)")


def require_tools(*tools):
    for t in tools:
        if shutil.which(t) is None and not os.path.exists(t):
            skip(f"required tool '{t}' is missing (scripts/install-deps installs it)")


def require_daemon():
    if not HTTP_TRACER or not os.access(HTTP_TRACER, os.X_OK):
        skip(f"HTTP_TRACER not set to an executable (got '{HTTP_TRACER}'); run through 'meson test'")


def ensure_tracefs():
    if os.path.exists("/sys/kernel/tracing/events"):
        return
    r = subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"],
                       capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists("/sys/kernel/tracing/events"):
        raise Failure(f"cannot mount tracefs on /sys/kernel/tracing: {r.stderr.strip()}")


def journald_running():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.connect(JOURNAL_SOCKET)
        return True
    except OSError:
        return False
    finally:
        s.close()


def start_journald(cleanup):
    """Start journald with the rate limit lifted if its socket is absent."""
    if journald_running():
        return
    os.makedirs(JOURNALD_DROPIN_DIR, exist_ok=True)
    wrote_dropin = not os.path.exists(JOURNALD_DROPIN)
    if wrote_dropin:
        with open(JOURNALD_DROPIN, "w") as f:
            f.write("# Written by http-tracer's tests: load tests must not be cut by the rate limit.\n"
                    "[Journal]\nRateLimitIntervalSec=0\n")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(JOURNAL_SOCKET)  # stale socket of a dead journald
    p = subprocess.Popen([JOURNALD], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    log(f"started journald (pid {p.pid})")

    def stop():
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        if wrote_dropin:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(JOURNALD_DROPIN)
        # journald leaves its sockets behind; a dead socket file would make
        # the next "is journald there?" check (ours or a user's) lie.
        for name in ("socket", "dev-log", "stdout", "io.systemd.journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(os.path.dirname(JOURNAL_SOCKET), name))
    cleanup.callback(stop)
    deadline = time.monotonic() + 60  # bounds only a failure
    while not journald_running():
        if p.poll() is not None or time.monotonic() > deadline:
            raise Failure("journald did not come up")
        time.sleep(0.05)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=60, what="server", host="127.0.0.1"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Failure(f"{what} exited with status {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise Failure(f"{what} does not listen on {host}:{port} after {timeout}s")


# ---------------------------------------------------------------- processes

class Proc:
    """A child in its own process group; stopping it kills the whole group."""

    def __init__(self, ctx, argv, name, stdout=None, stderr=None, env=None, cwd=None):
        self.name = name
        self.out_path = stdout or os.path.join(ctx.tmp, f"{name}.stdout")
        self.err_path = stderr or os.path.join(ctx.tmp, f"{name}.stderr")
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._out,
                                      stderr=self._err, env=env, cwd=cwd,
                                      start_new_session=True)
        self.pid = self.popen.pid
        ctx.cleanup.callback(self.kill_group)

    def poll(self):
        return self.popen.poll()

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"  {self.name} ignored signal {sig}, killing it")
        self.kill_group()
        return self.popen.returncode

    def kill_group(self):
        # The leader may be gone while workers live on (nginx): kill the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.popen.wait(5)
        for f in (self._out, self._err):
            with contextlib.suppress(Exception):
                f.close()

    def stderr_text(self):
        self._err.flush()
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stdout_text(self):
        self._out.flush()
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def run_cmd(argv, timeout=60, check=True, **kw):
    r = subprocess.run(argv, capture_output=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise Failure(f"{' '.join(map(str, argv))} exited {r.returncode}: "
                      f"{r.stderr.decode('utf-8', 'replace').strip()[-2000:]}")
    return r


# ---------------------------------------------------------------- BPF

def bpf_progs():
    r = run_cmd(["bpftool", "prog", "show", "-j"])
    return {p["id"]: p.get("name", "") for p in json.loads(r.stdout or b"[]")}


def prog_ids_held_by(pid):
    """BPF program ids behind the fds (programs and links) a process holds."""
    ids = set()
    fddir = f"/proc/{pid}/fdinfo"
    try:
        fds = os.listdir(fddir)
    except (FileNotFoundError, PermissionError):
        # Gone, or not ours to read (pid 1 of the host seen from a container).
        return ids
    for fd in fds:
        try:
            with open(os.path.join(fddir, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
            pass
    return ids


def prog_ids_held_by_any():
    """BPF program ids held (through a program or link fd) by any live process."""
    ids = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            ids |= prog_ids_held_by(pid)
    return ids


def ht_progs_leaked(before, timeout=30):
    """ht_* programs loaded since `before` (a set of ids) that no live process holds.

    Another test's daemon may run beside this one (another suite, another
    helper's build): its programs are held by its own fds, so they are not
    counted, yet a program of ours left loaded by nothing (pinned, or a
    leaked attach) is. Programs are freed after their last fd closes
    (deferred, RCU), and a daemon beside us may exit meanwhile: poll until
    every new one is gone or held; the deadline only bounds a failure.
    """
    deadline = time.monotonic() + timeout
    while True:
        new = {i: n for i, n in bpf_progs().items() if n.startswith("ht_") and i not in before}
        leaked = {i: n for i, n in new.items() if i not in prog_ids_held_by_any()} if new else {}
        if not leaked or time.monotonic() > deadline:
            return leaked
        time.sleep(0.1)


# ---------------------------------------------------------------- daemon

def parse_statistics(stderr):
    """The 'Statistics: k=v ...' line the daemon prints at exit, as a dict."""
    stats = None
    for line in stderr.splitlines():
        if line.startswith("Statistics:"):
            stats = {}
            for tok in line[len("Statistics:"):].split():
                k, sep, v = tok.partition("=")
                if sep:
                    try:
                        stats[k] = int(v)
                    except ValueError:
                        stats[k] = v
    return stats


SANITIZER_RE = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer")


class Daemon:
    """One run of http-tracer: start() waits for READY=1, stop() checks the exit."""

    # Deadlines that only bound a failure: loading and verifying ~60 BPF
    # programs took 5.5 s beside stress-ng --cpu 2 and other builds (the
    # normal build; ASan's is slower), and the exit waits for the outputs'
    # bounded flushes and, under ASan, the leak check.
    def __init__(self, ctx, args=(), name="http-tracer", env=None, ready_timeout=120):
        self.ctx = ctx
        self.args = list(args)
        self.name = name
        self.env = env
        self.ready_timeout = ready_timeout
        self.proc = None
        self.stats = None
        self.prog_ids = set()
        self.stopped = False

    @property
    def pid(self):
        return self.proc.pid

    # One tracer per host: a daemon refuses to start while another answers on
    # /run/http-tracer/control. So that tests (and other daemons on the host)
    # never meet there, each test daemon gets a tmpfs of its own over
    # /run/http-tracer in a private mount namespace. Subclasses that arrange
    # their own /run/http-tracer set this to False.
    private_run = True

    def start(self):
        global HTTP_TRACER
        if not self.private_run:
            return self._start()
        os.makedirs("/run/http-tracer", exist_ok=True)  # the mount point
        wrapper = os.path.join(self.ctx.tmp, f"{self.name}-own-run.sh")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\n"
                    "exec unshare -m --propagation private /bin/sh -c "
                    "'mount -t tmpfs -o mode=0755 tmpfs /run/http-tracer && exec \"$0\" \"$@\"' "
                    f"'{HTTP_TRACER}' \"$@\"\n")
        os.chmod(wrapper, 0o755)
        real = HTTP_TRACER
        HTTP_TRACER = wrapper
        try:
            return self._start()
        finally:
            HTTP_TRACER = real

    def _start(self):
        sock_path = os.path.join(self.ctx.tmp, f"{self.name}.notify")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(sock_path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        env = dict(os.environ if self.env is None else self.env)
        env["NOTIFY_SOCKET"] = sock_path
        t0 = time.monotonic()
        self.proc = Proc(self.ctx, [HTTP_TRACER] + self.args, self.name, env=env)
        self.ctx.cleanup.callback(self._stop_if_running)
        ready = False
        try:
            while time.monotonic() - t0 < self.ready_timeout:
                r, _, _ = select.select([sock], [], [], 0.1)
                if r:
                    msg = sock.recv(4096).decode("utf-8", "replace")
                    if "READY=1" in msg.split("\n"):
                        ready = True
                        break
                    continue
                if self.proc.poll() is not None:
                    raise Failure(f"daemon exited with status {self.proc.popen.returncode} "
                                  f"before READY=1; stderr:\n{self.proc.stderr_text()[-3000:]}")
        finally:
            sock.close()
        if not ready:
            raise Failure(f"no READY=1 from the daemon within {self.ready_timeout}s; "
                          f"stderr:\n{self.proc.stderr_text()[-3000:]}")
        log(f"daemon {' '.join(self.args) or '(defaults)'} ready in "
            f"{time.monotonic() - t0:.2f}s (pid {self.pid})")
        # What it has attached, read from its own fds: exact even when other
        # tracers run on the host.
        self.prog_ids = prog_ids_held_by(self.pid)
        progs = bpf_progs()
        ensure(self.prog_ids, "daemon holds no BPF program after READY=1")
        bad = {i: progs.get(i) for i in self.prog_ids if not str(progs.get(i, "")).startswith("ht_")}
        expect(not bad, f"BPF programs not named ht_*: {bad}")
        return self

    def _stop_if_running(self):
        if self.proc and self.proc.poll() is None:
            self.proc.stop(signal.SIGKILL)

    def stop(self, timeout=120):
        """SIGTERM; expect exit 0 with a Statistics line and nothing left loaded."""
        if self.stopped:
            return self.stats
        self.stopped = True
        self.proc.popen.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.stop(signal.SIGKILL)
            raise Failure(f"daemon did not exit within {timeout}s of SIGTERM")
        err = self.proc.stderr_text()
        expect(rc == 0, f"daemon exit status {rc} after SIGTERM (expected 0); stderr tail:\n{err[-3000:]}")
        san = [l for l in err.splitlines() if SANITIZER_RE.search(l)]
        expect(not san, "sanitizer report in daemon stderr:\n" + "\n".join(san[:20]))
        self.stats = parse_statistics(err)
        if expect(self.stats is not None, "no 'Statistics:' line on daemon stderr at exit"):
            missing = [k for k in STATS_KEYS if k not in self.stats]
            expect(not missing, f"Statistics line lacks {missing}: {self.stats}")
            log(f"daemon statistics: {self.stats}")
        check_no_bpf_left(self.prog_ids)
        return self.stats

    def stat(self, key):
        return (self.stats or {}).get(key, 0)


def check_no_bpf_left(prog_ids, timeout=30):
    # Programs are freed after the last fd closes (deferred, RCU): poll; the
    # deadline only bounds a failure.
    deadline = time.monotonic() + timeout
    while True:
        progs = bpf_progs()
        left = {i: progs[i] for i in prog_ids if i in progs}
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    expect(not left, f"BPF programs still loaded after the daemon exited: {left}")


# ---------------------------------------------------------------- journal

# docs/journal-fields.md: the statistics entry, the last one a daemon run writes.
STATISTICS_MESSAGE_ID = "e64806dfcd6b4de8b4ea199f678fad44"

def _field(v):
    # journalctl -o json: binary values are byte arrays, repeated fields lists.
    if isinstance(v, list) and v and all(isinstance(x, int) for x in v):
        return bytes(v).decode("utf-8", "replace")
    if isinstance(v, list):
        return [_field(x) for x in v]
    return v


def journal_query(daemon_pid, *matches):
    argv = ["journalctl", "-o", "json", "--no-pager", f"_PID={daemon_pid}",
            "SYSLOG_IDENTIFIER=http-tracer"] + list(matches)
    r = run_cmd(argv, check=False)
    if r.returncode not in (0, 1):  # 1: no entries
        raise Failure(f"journalctl failed: {r.stderr.decode().strip()}")
    out = []
    for line in r.stdout.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line:
            e = json.loads(line)
            out.append({k: _field(v) for k, v in e.items()})
    return out


def journal_wait(daemon_pid, *matches, expected=None, pred=None, timeout=60, settle=0.5):
    """While the daemon runs: poll until at least `expected` entries (after
    pred) appear, then until the count is stable over `settle` seconds.

    Good for "at least these arrived". It cannot prove that nothing more
    will come: for an absence or an exact count, stop the daemon and use
    journal_final() instead.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        entries = journal_query(daemon_pid, *matches)
        if pred:
            entries = [e for e in entries if pred(e)]
        if expected is None or len(entries) >= expected:
            if last is not None and len(entries) == len(last):
                return entries
            last = entries
            time.sleep(settle)
            continue
        if time.monotonic() > deadline:
            return entries
        time.sleep(0.2)


def wait_daemon_flushed(daemon, timeout=120):
    """After daemon.stop(): wait until journald has stored the daemon's last entry.

    At exit the daemon flushes every entry, then writes its final statistics
    entry, all on one datagram socket; journald reads a socket in order. So
    once the statistics entry that carries the exit's final record count is
    in the journal, every entry the daemon wrote before it is there too, and
    an absence asserted afterwards is a fact, not a guess. The deadline only
    bounds a failure (journald is alive: it is reading).
    """
    ensure(daemon.stopped and daemon.stats is not None,
           "wait_daemon_flushed() needs a daemon stopped with its Statistics line")
    want = str(daemon.stats.get("records"))
    deadline = time.monotonic() + timeout
    while True:
        final = [e for e in journal_query(daemon.pid, f"MESSAGE_ID={STATISTICS_MESSAGE_ID}")
                 if e.get("HTTP_TRACER_RECORDS") == want]
        if final:
            return
        ensure(time.monotonic() < deadline,
               f"the daemon's final statistics entry (HTTP_TRACER_RECORDS={want}) is not in the journal "
               f"{timeout}s after it exited (stats.interval=0 writes none: use journal_wait)")
        time.sleep(0.1)


def journal_final(daemon, *matches, pred=None):
    """Every entry a stopped daemon run wrote that matches, once journald has all of them."""
    wait_daemon_flushed(daemon)
    entries = journal_query(daemon.pid, *matches)
    return [e for e in entries if pred(e)] if pred else entries


def journald_suppressions(since_usec):
    """journald's own 'Suppressed N messages' notes, to explain a shortfall."""
    r = run_cmd(["journalctl", "-o", "cat", "--no-pager", "_COMM=systemd-journal",
                 f"--since=@{since_usec / 1e6:.0f}"], check=False)
    return [l for l in r.stdout.decode("utf-8", "replace").splitlines() if "uppress" in l]


def parse_json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                CHECKS.expect(False, f"--output json line is not JSON ({e}): {line[:200]}")
    return out


# ---------------------------------------------------------------- recordings

HT_EVENT_CONN_OPEN, HT_EVENT_DATA, HT_EVENT_CONN_CLOSE, HT_EVENT_PROC_EXIT = 1, 2, 3, 4
HT_ROLE_SERVER, HT_ROLE_CLIENT = 1, 2
HT_DIR_INGRESS, HT_DIR_EGRESS = 0, 1
HT_DATA_SEGMENT_START = 1
HT_INFER_BYTES = 16


def read_recording(path):
    """The records of a --record file (bpf/abi.h layout), as dicts.

    Every record: type, ts_ns, conn_id, tgid, fd. CONN_OPEN adds family,
    local_port, remote_port, role, local_addr, remote_addr (16 bytes each,
    network order, IPv4 in the first 4); DATA adds syscall_bytes, length,
    captured, direction, syscall, flags and data (the captured bytes).
    """
    with open(path, "rb") as f:
        raw = f.read()
    ensure(raw[:8] == b"HTTRACE\0", f"{path}: no HTTRACE header")
    off = struct.unpack_from("<I", raw, 12)[0]   # header_size
    out = []
    while off + 4 <= len(raw):
        (n,) = struct.unpack_from("<I", raw, off)
        rec = raw[off + 4:off + 4 + n]
        off += 4 + n
        ensure(len(rec) == n and n >= 40, f"{path}: truncated record at offset {off - 4 - n}")
        typ, _, size, ts, conn_id, tgid, tid, fd = struct.unpack_from("<HHIQQIIi", rec, 0)
        r = {"type": typ, "ts_ns": ts, "conn_id": conn_id, "tgid": tgid, "fd": fd}
        if typ == HT_EVENT_CONN_OPEN and n >= 80:
            r["family"], r["local_port"], r["remote_port"], r["role"] = struct.unpack_from("<HHHB", rec, 40)
            r["local_addr"], r["remote_addr"] = rec[48:64], rec[64:80]
        elif typ == HT_EVENT_DATA and n >= 80:
            # struct ht_data_event: syscall_bytes, lost_before, lost_other,
            # length, captured, lost_starts[2], direction, syscall, flags, pad;
            # data at 80 (asserted in src/capture/records.c).
            (r["syscall_bytes"], r["lost_before"], r["lost_other"], r["length"], r["captured"],
             _, _, r["direction"], r["syscall"], r["flags"]) = struct.unpack_from("<QQQIIHHBBB", rec, 40)
            r["data"] = rec[80:80 + r["captured"]]
        out.append(r)
    return out


# ---------------------------------------------------------------- servers

class Server:
    port = None
    proc = None

    def stop(self):
        if self.proc:
            self.proc.stop()

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"


def make_docroot(ctx):
    """Static files shared by the server fixtures (readable by www-data/nobody)."""
    www = os.path.join(ctx.tmp, "www")
    os.makedirs(os.path.join(www, "gz"), exist_ok=True)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("<html><body>http-tracer integration test</body></html>\n")
    with open(os.path.join(www, "big.bin"), "wb") as f:
        f.write(bytes(range(256)) * 4096)  # 1 MiB
    with open(os.path.join(www, "gz", "text.txt"), "w") as f:
        for i in range(6000):  # ~200 KiB of compressible text
            f.write(f"line {i:05d}: the quick brown fox jumps over the lazy dog\n")
    for root, dirs, files in os.walk(ctx.tmp):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for fn in files:
            os.chmod(os.path.join(root, fn), 0o644)
    return www


NGINX_LOG_FIELDS = ("pid", "msec", "method", "uri", "status", "request_time",
                    "body_bytes_sent", "request_length", "remote_port", "connection",
                    "connection_requests", "protocol")


class Nginx(Server):
    """nginx 1 worker, daemon off, tab-separated access log (NGINX_LOG_FIELDS)."""

    def __init__(self, ctx, extra_server="", extra_http="", connections=512, keepalive_timeout=60,
                 listen_options=""):
        """connections: worker_connections, and the worker's fd limit (with room for its files)
        when more than the default; listen_options: appended to the listen directive."""
        self.ctx = ctx
        self.port = free_port()
        self.dir = os.path.join(ctx.tmp, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.www = make_docroot(ctx)
        self.access_log = os.path.join(self.dir, "access.log")
        self.error_log = os.path.join(self.dir, "error.log")
        conf = os.path.join(self.dir, "nginx.conf")
        t = self.dir
        with open(conf, "w") as f:
            f.write(f"""
worker_processes 1;
{f"worker_rlimit_nofile {connections + 100};" if connections > 512 else ""}
daemon off;
master_process on;
pid {t}/nginx.pid;
error_log {self.error_log} info;
events {{ worker_connections {connections}; }}
http {{
    types {{ text/html html; text/plain txt; application/octet-stream bin; }}
    default_type application/octet-stream;
    log_format ht '$pid\\t$msec\\t$request_method\\t$request_uri\\t$status\\t$request_time\\t'
                  '$body_bytes_sent\\t$request_length\\t$remote_port\\t$connection\\t'
                  '$connection_requests\\t$server_protocol';
    access_log {self.access_log} ht;
    client_body_temp_path {t}/client_body;
    proxy_temp_path {t}/proxy;
    fastcgi_temp_path {t}/fastcgi;
    uwsgi_temp_path {t}/uwsgi;
    scgi_temp_path {t}/scgi;
    sendfile on;
    keepalive_timeout {keepalive_timeout};
    keepalive_requests 100000;
    large_client_header_buffers 4 16k;
    {extra_http}
    server {{
        listen 127.0.0.1:{self.port}{listen_options};
        root {self.www};
        location /gz/ {{
            gzip on;
            gzip_types text/plain;
            gzip_min_length 0;
            chunked_transfer_encoding on;
        }}
        location = /post {{
            client_body_buffer_size 1m;
            client_max_body_size 10m;
            return 200 "posted\\n";
        }}
        {extra_server}
    }}
}}
""")
        r = run_cmd(["nginx", "-t", "-q", "-p", self.dir, "-e", self.error_log, "-c", conf], check=False)
        if r.returncode != 0:
            raise Failure(f"nginx config test failed: {r.stderr.decode()}")
        self.proc = Proc(ctx, ["nginx", "-p", self.dir, "-e", self.error_log, "-c", conf], "nginx")
        wait_port(self.port, self.proc.popen, what="nginx")
        self.worker_pids = self._workers()

    def _workers(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            kids = children_of(self.proc.pid)
            if kids:
                return kids
            time.sleep(0.05)
        raise Failure("nginx started no worker")

    def log_lines(self):
        return read_tsv(self.access_log, NGINX_LOG_FIELDS)


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def read_tsv(path, fields):
    out = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == len(fields):
                    out.append(dict(zip(fields, parts)))
                elif line.strip():
                    CHECKS.expect(False, f"unparsable access log line in {path}: {line!r}")
    except FileNotFoundError:
        pass
    return out


def wait_log_lines(server, n, timeout=60):
    """Access logs are written after the response; wait until n lines are there.

    The deadline only bounds a failure: callers check the count they get.
    """
    deadline = time.monotonic() + timeout
    while True:
        lines = server.log_lines()
        if len(lines) >= n or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


class PythonHttpServer(Server):
    """python3 -m http.server: HTTP/1.0, its access log on stderr."""

    LINE_RE = re.compile(r'"(\S+) (\S+) (HTTP/\d\.\d)" (\d{3}) ')

    def __init__(self, ctx):
        self.port = free_port()
        self.www = make_docroot(ctx)
        self.proc = Proc(ctx, ["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                               "--directory", self.www, str(self.port)], "python-http-server")
        wait_port(self.port, self.proc.popen, what="python http.server")

    def log_lines(self):
        out = []
        for line in self.proc.stderr_text().splitlines():
            m = self.LINE_RE.search(line)
            if m:
                out.append({"method": m[1], "uri": m[2], "protocol": m[3], "status": m[4]})
        return out


class NodeHttpServer(Server):
    """tests/integration/node-server.js: read/writev, chunked, JSON access log."""

    def __init__(self, ctx):
        self.port = free_port()
        self.access_log = os.path.join(ctx.tmp, "node-access.log")
        self.proc = Proc(ctx, ["node", os.path.join(HERE, "node-server.js"), str(self.port),
                               self.access_log], "node-server")
        wait_port(self.port, self.proc.popen, what="node server")

    def log_lines(self):
        out = []
        try:
            with open(self.access_log) as f:
                for line in f:
                    if line.strip():
                        out.append(json.loads(line))
        except FileNotFoundError:
            pass
        return out


LIGHTTPD_LOG_FIELDS = ("time", "method", "path", "query", "status", "usec", "body_bytes",
                       "protocol", "remote_addr")


class Lighttpd(Server):
    """lighttpd -D with mod_accesslog: tab-separated LIGHTTPD_LOG_FIELDS.

    Query string "slow": the response is paced by
    connection.kbytes-per-second (the 1 MiB big.bin takes ~0.7 s).
    """

    def __init__(self, ctx):
        self.port = free_port()
        self.dir = os.path.join(ctx.tmp, "lighttpd")
        os.makedirs(self.dir, exist_ok=True)
        self.www = make_docroot(ctx)
        self.access_log = os.path.join(self.dir, "access.log")
        conf = os.path.join(self.dir, "lighttpd.conf")
        with open(conf, "w") as f:
            f.write(f"""
server.modules = ("mod_accesslog")
server.document-root = "{self.www}"
server.bind = "127.0.0.1"
server.port = {self.port}
server.errorlog = "{self.dir}/error.log"
server.pid-file = "{self.dir}/lighttpd.pid"
server.max-keep-alive-requests = 1000
mimetype.assign = (".html" => "text/html", ".txt" => "text/plain", ".bin" => "application/octet-stream")
accesslog.filename = "{self.access_log}"
accesslog.format = "%{{%s}}t\\t%m\\t%U\\t%q\\t%s\\t%D\\t%b\\t%H\\t%h"
$HTTP["querystring"] == "slow" {{ connection.kbytes-per-second = 1536 }}
""")
        self.proc = Proc(ctx, ["lighttpd", "-D", "-f", conf], "lighttpd")
        wait_port(self.port, self.proc.popen, what="lighttpd")

    def log_lines(self):
        return read_tsv(self.access_log, LIGHTTPD_LOG_FIELDS)


# ---------------------------------------------------------------- clients

def raw_exchange(port, data, read_until_close=True, timeout=10):
    """Send data in one send() on a fresh connection; return what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if not read_until_close:
            return s.recv(65536)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)


def read_response(conn, head_only=False):
    """Read one HTTP/1.x response (Content-Length, chunked or bodyless).

    conn is a Conn: its buffered reader keeps pipelined responses that
    arrive together.
    Returns (status, headers dict lower-case, body bytes, body length; for
    chunked, the decoded chunk payload length).
    """
    f = conn.reader
    status_line = f.readline()
    if not status_line:
        raise Failure("connection closed before a response")
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = f.readline()
        if not line:
            raise Failure("connection closed inside a response head")
        if line in (b"\r\n", b"\n"):
            break
        k, _, v = line.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    if head_only or status in (204, 304) or 100 <= status < 200:
        return status, headers, b"", 0
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                break
            body += _read_exact(f, size)
            f.readline()
        return status, headers, body, len(body)
    if "content-length" in headers:
        n = int(headers["content-length"])
        return status, headers, _read_exact(f, n), n
    body = f.read()  # delimited by close
    return status, headers, body, len(body)


class Conn:
    """A client TCP connection with a buffered reader for responses.

    close() really closes the fd (a socket's makefile() otherwise keeps it
    open, and the server then waits for the client: nginx's lingering close).
    """

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.reader = self.sock.makefile("rb")
        self.local_port = self.sock.getsockname()[1]

    def sendall(self, data):
        self.sock.sendall(data)

    def close(self):
        self.reader.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def connect(port, timeout=10):
    return Conn(port, timeout)


def _read_exact(f, n):
    b = f.read(n)
    if len(b) != n:
        raise Failure(f"connection closed inside a response body ({len(b)} of {n} bytes)")
    return b


def curl(*args, timeout=30):
    """Run curl (its pid is the client's PROCESS_PID); returns (pid, CompletedProcess-like)."""
    p = subprocess.Popen(["curl", "-sS", "--noproxy", "*"] + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=timeout)
    if p.returncode != 0:
        raise Failure(f"curl {' '.join(args)} exited {p.returncode}: {err.decode().strip()}")
    return p.pid, out


# ---------------------------------------------------------------- comparison

def entries_for_server(entries, port, role="server"):
    return [e for e in entries
            if e.get("SERVER_PORT") == str(port) and e.get("HTTP_ROLE") == role]


def group_by(items, key):
    out = {}
    for it in items:
        out.setdefault(key(it), []).append(it)
    return out


def expected_priority(status):
    s = int(status)
    return "4" if s >= 500 else "5" if s >= 400 else "6"


def check_common_fields(e, port, what, addrs=("127.0.0.1", "127.0.0.1")):
    """Fields every complete server-side exchange on port must carry; addrs: (client, server)."""
    expect(e.get("CLIENT_ADDR") == addrs[0], f"{what}: CLIENT_ADDR={e.get('CLIENT_ADDR')}")
    expect(e.get("SERVER_ADDR") == addrs[1], f"{what}: SERVER_ADDR={e.get('SERVER_ADDR')}")
    expect(e.get("SERVER_PORT") == str(port), f"{what}: SERVER_PORT={e.get('SERVER_PORT')}")
    expect(str(e.get("CLIENT_PORT", "")).isdigit(), f"{what}: CLIENT_PORT={e.get('CLIENT_PORT')}")
    expect(re.fullmatch(r"[0-9a-f]{32}", str(e.get("MESSAGE_ID", ""))) is not None,
           f"{what}: MESSAGE_ID={e.get('MESSAGE_ID')}")
    if "HTTP_STATUS" in e:
        expect(e.get("PRIORITY") == expected_priority(e["HTTP_STATUS"]),
               f"{what}: PRIORITY={e.get('PRIORITY')} for status {e['HTTP_STATUS']}")
    msg = e.get("MESSAGE", "")
    expect(isinstance(msg, str) and msg and "\n" not in msg, f"{what}: MESSAGE={msg!r}")
    expect(str(e.get("HTTP_DURATION_USEC", "")).isdigit(),
           f"{what}: HTTP_DURATION_USEC={e.get('HTTP_DURATION_USEC')}")


def match_in_order(log_lines, entries, log_key, entry_key):
    """Pair log lines with entries of the same connection, in order.

    log_key/entry_key give the connection identity (the client port).
    Returns (pairs, unmatched_log, unmatched_entries).
    """
    lg = group_by(log_lines, log_key)
    eg = group_by(entries, entry_key)
    pairs, ul, ue = [], [], []
    for k in set(lg) | set(eg):
        a, b = lg.get(k, []), eg.get(k, [])
        pairs += list(zip(a, b))
        ul += a[len(b):]
        ue += b[len(a):]
    return pairs, ul, ue


# ---------------------------------------------------------------- durations
#
# HTTP_DURATION_USEC is the time from the syscall that read the request's
# first byte to the one that wrote the response's last byte (bpf_ktime, i.e.
# CLOCK_MONOTONIC, at each syscall's exit). Each oracle is compared for what
# it is (docs: /work/shared/ENVIRONMENT.md "Oracles"):
#
# - the client's own round trip (CLOCK_MONOTONIC before its send and after
#   its last read) brackets the server's exchange: an upper bound;
# - nginx's $request_time is ms from a clock cached once per event-loop
#   iteration: a lower bound only;
# - lighttpd's %D is µs from a real clock: both ways, with a tolerance.
#
# SCHED_SLACK_US is what a busy 2-core machine may add between two events
# that are simultaneous for the oracle: a process preempted after its
# syscall did its work but before the syscall-exit tracepoint fires (the
# woken client runs first on loopback), or nginx preempted between its clock
# refresh and its recvfrom. Several scheduler slices of CPU hogs (stress-ng
# --cpu 2 with builds beside it) fit in it. It is the same in both
# directions and says nothing about the daemon: what gives the oracles their
# teeth is a request that takes far longer than it (SLOW_REQUEST_US), where
# a duration of 0, or a doubled one, lands outside the bounds.
SCHED_SLACK_US = 50000

# Responses the tests slow down on purpose (the 1 MiB big.bin through nginx's
# limit_rate or lighttpd's connection.kbytes-per-second), so that a wrong
# duration cannot hide in SCHED_SLACK_US: each takes over SLOW_REQUEST_US.
# nginx lets a full second's worth go at once (limit = rate * (elapsed + 1
# s) - sent): 1 MiB at 640 KiB/s ends after ~0.6 s.
SLOW_REQUEST_US = 500000
NGINX_SLOW_LOCATION = ("location = /slow.bin { limit_rate 640k; limit_rate_after 0; "
                       "try_files /big.bin =404; }")

# nginx's $request_time: the difference of two cached times, each truncated
# to the millisecond.
NGINX_RESOLUTION_US = 1000


def duration_usec(e):
    v = str(e.get("HTTP_DURATION_USEC", ""))
    return int(v) if v.isdigit() else -1


def expect_duration(what, e, low_us=None, high_us=None, why_low="", why_high=""):
    """HTTP_DURATION_USEC within [low_us, high_us] (either may be None: one-sided)."""
    d = duration_usec(e)
    ok_low = d >= 0 and (low_us is None or d >= low_us)
    ok_high = d >= 0 and (high_us is None or d <= high_us)
    expect(ok_low, f"{what}: HTTP_DURATION_USEC={e.get('HTTP_DURATION_USEC')}, expected >= {low_us:.0f} us "
                   f"({why_low})" if low_us is not None else
                   f"{what}: HTTP_DURATION_USEC={e.get('HTTP_DURATION_USEC')} is not a duration")
    if high_us is not None:
        expect(ok_high, f"{what}: HTTP_DURATION_USEC={e.get('HTTP_DURATION_USEC')}, expected <= {high_us:.0f} us "
                        f"({why_high})")
    return d


def expect_within_round_trip(what, e, rtt_us):
    """Server-role duration inside the client's own round trip (plus the slack)."""
    return expect_duration(what, e, high_us=rtt_us + SCHED_SLACK_US,
                           why_high=f"the client measured the whole exchange in {rtt_us:.0f} us, "
                                    f"+{SCHED_SLACK_US} us scheduling slack")


def expect_nginx_lower_bound(what, e, request_time):
    """nginx's $request_time as the lower bound it is (cached ms clock)."""
    rt_us = float(request_time) * 1e6
    return expect_duration(what, e, low_us=rt_us - NGINX_RESOLUTION_US - SCHED_SLACK_US,
                           why_low=f"nginx $request_time={request_time} s, cached ms clock: "
                                   f"-{NGINX_RESOLUTION_US} us resolution, -{SCHED_SLACK_US} us slack")


class RoundTrips:
    """A client's own CLOCK_MONOTONIC round trip per request, in µs.

    with rtt.measure(key): around the send of a request and the read of its
    whole response; the key is whatever identifies the request in the
    server's log (nginx: (client port, $connection_requests)).
    """

    def __init__(self):
        self.us = {}

    @contextlib.contextmanager
    def measure(self, *keys):
        t0 = time.monotonic()
        yield
        dt = (time.monotonic() - t0) * 1e6
        for k in keys:
            self.us[k] = dt

    def add(self, key, us):
        self.us[key] = us

    def get(self, key):
        return self.us.get(key)


def curl_timed(*args, timeout=60):
    """curl with -w time_total per transfer (curl's own monotonic clock, µs).

    Returns (pid, [round trip in µs per URL, in order]). time_total includes
    the connect: an upper bound of the server's exchange all the same.
    """
    pid, out = curl("-w", "\\nHT_TIME_TOTAL %{time_total}\\n", *args, timeout=timeout)
    times = [float(l.split()[1]) * 1e6 for l in out.decode("utf-8", "replace").splitlines()
             if l.startswith("HT_TIME_TOTAL ")]
    return pid, times


def nginx_request_key(l):
    return int(l["remote_port"]), int(l["connection_requests"])


def check_nginx_pairs(log_lines, entries, port, rtt=None, upper_us=None, upper_why="",
                      body_from_log=True, min_slow=0, addrs=("127.0.0.1", "127.0.0.1")):
    """Generic comparison of server-role entries with nginx's access log.

    Pairs them by client port and order; every log line needs one entry with
    the same method, target, path, status, version, worker pid, body size
    (unless body_from_log is False), and a duration bounded below by nginx's
    $request_time and above by the client's own round trip (rtt: a
    RoundTrips keyed by nginx_request_key()). Where the client cannot time
    each request (wrk), pass upper_us, a sanity bound, and upper_why, its
    reason, instead. min_slow: how many requests must be long enough
    (SLOW_REQUEST_US by nginx's clock) for the bounds to catch a wrong
    duration. addrs: the (client, server) addresses every entry carries.
    Returns the pairs for test-specific checks.
    """
    ensure((rtt is None) != (upper_us is None),
           "check_nginx_pairs: give the client's round trips (rtt) or a sanity bound (upper_us), one of them")
    entries = sorted(entries, key=entry_order)
    expect(len(entries) == len(log_lines),
           f"server entries {len(entries)} != nginx access log lines {len(log_lines)}")
    pairs, lonely_log, lonely_entries = match_in_order(
        log_lines, entries, lambda l: l["remote_port"], lambda e: e.get("CLIENT_PORT"))
    for l in lonely_log[:20]:
        expect(False, f"nginx logged {l['method']} {l['uri']} {l['status']} (port {l['remote_port']}) "
                      "but the journal has no entry for it")
    for e in lonely_entries[:20]:
        expect(False, f"journal entry without an nginx log line: {e.get('MESSAGE')}")
    slow = 0
    for l, e in pairs:
        what = f"{l['method']} {l['uri']} (client port {l['remote_port']}, #{l['connection_requests']})"
        check_common_fields(e, port, what, addrs)
        expect(e.get("HTTP_METHOD") == l["method"], f"{what}: HTTP_METHOD={e.get('HTTP_METHOD')}")
        expect(e.get("HTTP_TARGET") == l["uri"], f"{what}: HTTP_TARGET={e.get('HTTP_TARGET')}")
        expect(e.get("HTTP_PATH") == l["uri"].split("?")[0], f"{what}: HTTP_PATH={e.get('HTTP_PATH')}")
        expect(e.get("HTTP_STATUS") == l["status"],
               f"{what}: HTTP_STATUS={e.get('HTTP_STATUS')} but nginx logged {l['status']}")
        expect(e.get("HTTP_VERSION") == l["protocol"].split("/")[-1],
               f"{what}: HTTP_VERSION={e.get('HTTP_VERSION')}, nginx saw {l['protocol']}")
        expect(e.get("PROCESS_PID") == l["pid"],
               f"{what}: PROCESS_PID={e.get('PROCESS_PID')}, nginx worker pid {l['pid']}")
        if body_from_log:
            expect(e.get("HTTP_RESPONSE_BODY_BYTES") == l["body_bytes_sent"],
                   f"{what}: HTTP_RESPONSE_BODY_BYTES={e.get('HTTP_RESPONSE_BODY_BYTES')}, "
                   f"nginx $body_bytes_sent={l['body_bytes_sent']}")
        # Lower bound: nginx's own figure, which is never late by more than
        # its resolution (and the slack: see SCHED_SLACK_US).
        expect_nginx_lower_bound(what, e, l["request_time"])
        if float(l["request_time"]) * 1e6 >= SLOW_REQUEST_US:
            slow += 1
        # Upper bound: the client saw the whole exchange inside its round trip.
        if rtt is not None:
            r = rtt.get(nginx_request_key(l))
            if expect(r is not None, f"{what}: the client did not time this request (test bug)"):
                expect_within_round_trip(what, e, r)
        else:
            expect_duration(what, e, high_us=upper_us, why_high=upper_why)
    expect(slow >= min_slow, f"only {slow} request(s) took >= {SLOW_REQUEST_US} us by nginx's clock, "
                             f"expected {min_slow}: the duration bounds would not catch a wrong duration")
    return pairs


def entry_order(e):
    return int(e.get("__MONOTONIC_TIMESTAMP", 0) or 0), int(e.get("__SEQNUM", 0) or 0)


# ---------------------------------------------------------------- running

class Context:
    def __init__(self):
        self.cleanup = contextlib.ExitStack()
        self.tmp = None


def run(test_fn, needs_root=True, tools=("bpftool", "journalctl")):
    """Run test_fn(ctx) with the environment prepared; exit 0/1/77."""
    ctx = Context()
    code = 0
    try:
        with ctx.cleanup:
            require_daemon()
            if needs_root:
                require_root()
                require_tools(*tools)
                ensure_tracefs()
                start_journald(ctx.cleanup)
            ctx.tmp = tempfile.mkdtemp(prefix="ht-itest-")
            os.chmod(ctx.tmp, 0o755)  # nginx/lighttpd workers run as nobody/www-data
            ctx.cleanup.callback(shutil.rmtree, ctx.tmp, ignore_errors=True)
            test_fn(ctx)
    except Skip as s:
        # A skip half-way through must not hide checks that already failed.
        if not CHECKS.failures:
            log(f"SKIP: {s}")
            sys.exit(SKIP_EXIT)
        log(f"  FAIL: skipped half-way ({s}) after {len(CHECKS.failures)} failed check(s)")
        code = 1
    except Failure as f:
        if str(f) not in CHECKS.failures:
            CHECKS.failures.append(str(f))
            log(f"  FAIL: {f}")
        code = 1
    except subprocess.TimeoutExpired as t:
        CHECKS.failures.append(f"timeout: {t}")
        log(f"  FAIL: timeout: {t}")
        code = 1
    if CHECKS.failures:
        log(f"FAILED: {len(CHECKS.failures)} check(s) failed, {CHECKS.passed} passed")
        sys.exit(1)
    log(f"OK: {CHECKS.passed} checks passed")
    sys.exit(code)


def node_exchange(ctx, script, port, server_args, client_args, logpath, n, name):
    """A node server (`node SCRIPT server PORT SERVER_ARGS... LOGPATH`, one JSON line per request
    in LOGPATH) and then its client (`node SCRIPT client PORT CLIENT_ARGS...`, one JSON line per
    request on stdout) making n requests. The listening socket is awaited in /proc/net/tcp,
    without connecting (a connection of the test's own would be traced too). Returns
    (server Proc, the client's lines, the server's n log lines, the client's run in µs)."""
    open(logpath, "w").close()
    server = Proc(ctx, ["node", script, "server", str(port), *server_args, logpath], name)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and f":{port:04X}" not in open("/proc/net/tcp").read():
        ensure(server.poll() is None, "fixture: the node server exited")
        time.sleep(0.05)

    t0 = time.monotonic()
    r = run_cmd(["node", script, "client", str(port), *client_args], timeout=120)
    elapsed_us = (time.monotonic() - t0) * 1e6
    client_view = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
    ensure(len(client_view) == n, f"fixture: the client made {len(client_view)} requests, planned {n}")

    deadline = time.monotonic() + 60
    while True:
        with open(logpath) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        if len(lines) >= n or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    ensure(len(lines) == n, f"fixture: the server logged {len(lines)} requests, the client made {n}")
    return server, client_view, lines, elapsed_us
