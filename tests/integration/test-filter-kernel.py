#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Filters enforced in the kernel, applied atomically on reload, and PIDs in the daemon's namespace.

- units: two python http.servers in two cgroups made here; with
  filter.include.units naming A's only A's exchanges reach the journal, the
  recording (every ring buffer record) holds no CONN_OPEN for B's port, and the
  kernel counted the filtered connections and syscalls.
- cgroups: include one server's cgroup path; exclude the slice above both
  (sub-cgroups included).
- local ports include/exclude, peer addresses (127.0.0.2/32, ::1/128), roles.
- pids: include one server's PID (its side only, curl's filtered), then
  exclude it (curl's side stays).
- a dual-stack socket ([::], IPV6_V6ONLY off) with IPv4 peers: the peer
  ::ffff:127.0.0.3 is excluded by 127.0.0.3/32 and ::ffff:127.0.0.1
  included by 127.0.0.1/32 (a real ::1 peer is not), and CLIENT_ADDR /
  SERVER_ADDR show 127.0.0.1, not the mapped form.
- reload under steady load: a client makes requests all the time while SIGHUP
  swaps the filter five times; every request of the still-included server has
  its server and client entry.
- a keep-alive connection traced, then excluded by a reload (no entry for the
  request made meanwhile, nothing left pending), then included again (traced
  again from the next request).
- PID namespace: the daemon under unshare --pid reports the server's PID in
  that namespace as PROCESS_PID, and does not trace tasks outside it.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htlib  # noqa: E402
from htlib import Daemon, Proc, curl, ensure, expect, journal_query, log  # noqa: E402

PY = "/usr/bin/python3"


# ---------------------------------------------------------------- helpers

def start_server(ctx, addr, name):
    """python3 -m http.server on addr and a free port; waits until it accepts."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        port = s.getsockname()[1]
    www = htlib.make_docroot(ctx)
    p = Proc(ctx, [PY, "-m", "http.server", "--bind", addr, "--directory", www, str(port)], name)
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection((addr, port), timeout=0.5):
                break
        except OSError:
            if p.poll() is not None or time.monotonic() > deadline:
                raise htlib.Failure(f"{name} does not listen on {addr}:{port}")
            time.sleep(0.05)
    return p, port


def url(addr, port, path="/index.html"):
    return f"http://[{addr}]:{port}{path}" if ":" in addr else f"http://{addr}:{port}{path}"


def get(addr, port, n=3, *extra):
    for i in range(n):
        curl("-g", "-o", "/dev/null", *extra, url(addr, port, f"/index.html?n={i}"))


def roles(daemon, port):
    """{'server': k, 'client': m} entries of a stopped daemon run for this server port.

    Read once journald holds the run's final entry (htlib.journal_final), so
    that an absence is a fact rather than a guess about how long to wait.
    """
    out = {"server": 0, "client": 0}
    for e in htlib.journal_final(daemon, f"SERVER_PORT={port}"):
        out[e.get("HTTP_ROLE", "?")] = out.get(e.get("HTTP_ROLE", "?"), 0) + 1
    return out


def write_config(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def start_daemon(ctx, config, name, extra=()):
    return Daemon(ctx, ["--config", config, "--log-level", "info"] + list(extra), name=name).start()


def reloads_done(daemon):
    return daemon.proc.stderr_text().count("Kernel filter in force")


def reload(daemon, text, config):
    """Rewrite the config, SIGHUP, and wait until the daemon says the new filter is in force."""
    before = reloads_done(daemon)
    write_config(config, text)
    os.kill(daemon.pid, signal.SIGHUP)
    deadline = time.monotonic() + 60
    while reloads_done(daemon) <= before:
        ensure(time.monotonic() < deadline, "the daemon did not apply the reloaded filter within 60 s")
        time.sleep(0.02)


def recorded_conn_ports(path):
    """(local_port, remote_port) of every CONN_OPEN record in a --record file."""
    return [(r["local_port"], r["remote_port"]) for r in htlib.read_recording(path)
            if r["type"] == htlib.HT_EVENT_CONN_OPEN]


def cgroup2_root(ctx):
    for p in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if os.path.exists(os.path.join(p, "cgroup.procs")) and os.path.exists(os.path.join(p, "cgroup.controllers")):
            return p
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, d, typ = line.split()[:3]
            if typ == "cgroup2":
                return d
    # None mounted: mount the (one) v2 hierarchy privately for this test; the daemon finds it in /proc/self/mounts.
    d = os.path.join(ctx.tmp, "cgroup2")
    os.makedirs(d)
    htlib.run_cmd(["mount", "-t", "cgroup2", "none", d])
    ctx.cleanup.callback(lambda: subprocess.run(["umount", "-l", d]))
    return d


def make_cgroup(ctx, path):
    os.makedirs(path)

    def remove():
        # The members are killed by then; a dying task may take a moment to leave.
        for _ in range(50):
            try:
                os.rmdir(path)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)
        log(f"  could not remove cgroup {path}")
    ctx.cleanup.callback(remove)


def move_to_cgroup(pid, path):
    with open(os.path.join(path, "cgroup.procs"), "w") as f:
        f.write(str(pid))


# ---------------------------------------------------------------- parts

def test_units(ctx):
    log("== units: only server A's cgroup is traced")
    root = cgroup2_root(ctx)
    me = os.getpid()
    slice_dir = os.path.join(root, f"ht-test-{me}.slice")
    unit_a, unit_b = f"ht-a-{me}.service", f"ht-b-{me}.service"
    # Registered first, removed last: after the servers in them are gone.
    make_cgroup(ctx, slice_dir)
    make_cgroup(ctx, os.path.join(slice_dir, unit_a))
    make_cgroup(ctx, os.path.join(slice_dir, unit_b))
    a, port_a = start_server(ctx, "127.0.0.1", "server-a")
    b, port_b = start_server(ctx, "127.0.0.1", "server-b")
    move_to_cgroup(a.pid, os.path.join(slice_dir, unit_a))
    move_to_cgroup(b.pid, os.path.join(slice_dir, unit_b))

    config = os.path.join(ctx.tmp, "units.yaml")
    write_config(config, f"filter:\n  include:\n    units: [{unit_a}]\n")
    record = os.path.join(ctx.tmp, "units.rec")
    d = start_daemon(ctx, config, "tracer-units", ["--record", record])
    get("127.0.0.1", port_a)
    get("127.0.0.1", port_b)
    d.stop()
    got_a = roles(d, port_a)
    got_b = roles(d, port_b)
    expect(got_a["server"] == 3, f"server A (in {unit_a}): {got_a['server']} server entries, expected 3")
    # curl runs in our cgroup, not A's: its side is filtered too.
    expect(got_a["client"] == 0, f"curl is outside {unit_a} but got {got_a['client']} client entries")
    expect(got_b == {"server": 0, "client": 0}, f"server B (in {unit_b}) was traced: {got_b}")
    ports = recorded_conn_ports(record)
    expect(any(lp == port_a for lp, rp in ports), "the recording has no CONN_OPEN of server A")
    leaked = [p for p in ports if port_b in p]
    expect(not leaked, f"records of server B's connections left the kernel: {leaked}")
    # B's 3 accepted connections and 6 curl connections at least; other hosts' traffic only adds.
    expect(d.stat("filtered_conns") >= 9, f"filtered_conns={d.stat('filtered_conns')}, expected >= 9")
    expect(d.stat("filtered_syscalls") >= 3, f"filtered_syscalls={d.stat('filtered_syscalls')}, expected >= 3")

    log("== cgroups: include A's cgroup path, then exclude the slice holding both")
    write_config(config, f"filter:\n  include:\n    cgroups: [/ht-test-{me}.slice/{unit_a}]\n")
    d = start_daemon(ctx, config, "tracer-cgroups-in")
    get("127.0.0.1", port_a)
    get("127.0.0.1", port_b)
    d.stop()
    got_a, got_b = roles(d, port_a), roles(d, port_b)
    expect(got_a == {"server": 3, "client": 0},
           f"include.cgroups /ht-test-{me}.slice/{unit_a}: server A {got_a}, expected server 3 client 0")
    expect(got_b == {"server": 0, "client": 0}, f"include.cgroups of A only: server B was traced: {got_b}")
    # A cgroup includes its sub-cgroups: excluding the slice excludes both
    # servers, and curl (in this test's cgroup) is still traced.
    write_config(config, f"filter:\n  exclude:\n    cgroups: [/ht-test-{me}.slice]\n")
    d = start_daemon(ctx, config, "tracer-cgroups-ex")
    get("127.0.0.1", port_a)
    get("127.0.0.1", port_b)
    d.stop()
    got_a, got_b = roles(d, port_a), roles(d, port_b)
    expect(got_a == {"server": 0, "client": 3} and got_b == {"server": 0, "client": 3},
           f"exclude.cgroups /ht-test-{me}.slice: A {got_a}, B {got_b}, expected server 0 client 3 each")

    log("== units: a unit that appears later is picked up without a reload")
    late = f"ht-late-{me}.service"
    write_config(config, f"filter:\n  include:\n    units: [{late}]\n")
    d = start_daemon(ctx, config, "tracer-late")
    get("127.0.0.1", port_a, 1)
    make_cgroup(ctx, os.path.join(slice_dir, late))
    move_to_cgroup(a.pid, os.path.join(slice_dir, late))
    deadline = time.monotonic() + 60
    while f"{late} is cgroup" not in d.proc.stderr_text():
        ensure(time.monotonic() < deadline, f"the daemon did not find {late} within 60 s (documented: "
                                            f"within a second):\n{d.proc.stderr_text()[-2000:]}")
        time.sleep(0.1)
    get("127.0.0.1", port_a, 2)
    d.stop()
    got = roles(d, port_a)
    err = d.proc.stderr_text()
    expect(err.count(f"Filter unit {late}: no such cgroup") == 1,
           f"the missing unit should be reported exactly once:\n{err[-2000:]}")
    expect(got["server"] == 2, f"after {late} appeared: {got['server']} server entries, expected 2 (0 before)")
    a.stop()
    b.stop()


def test_ports_addresses_roles(ctx):
    s1, p1 = start_server(ctx, "127.0.0.1", "s1")
    s2, p2 = start_server(ctx, "127.0.0.2", "s2")
    s3, p3 = start_server(ctx, "::1", "s3")
    s4, p4 = start_server(ctx, "127.0.0.1", "s4")
    config = os.path.join(ctx.tmp, "ports.yaml")

    log("== exclude a local port and a peer address")
    write_config(config, f"filter:\n  exclude:\n    local_ports: [{p4}]\n    addresses: [127.0.0.2/32]\n")
    d = start_daemon(ctx, config, "tracer-exclude")
    get("127.0.0.1", p4)
    get("127.0.0.2", p2)                                    # client's peer is 127.0.0.2; server's is 127.0.0.1
    get("127.0.0.1", p1, 3, "--interface", "127.0.0.2")   # server's peer is 127.0.0.2
    get("::1", p3)
    d.stop()
    r4, r2, r1, r3 = (roles(d, p) for p in (p4, p2, p1, p3))
    expect(r4 == {"server": 0, "client": 3}, f"local port {p4} excluded: {r4}, expected server 0 client 3")
    expect(r2 == {"server": 3, "client": 0}, f"peer 127.0.0.2 excluded (server on 127.0.0.2): {r2}")
    expect(r1 == {"server": 0, "client": 3}, f"peer 127.0.0.2 excluded (client from 127.0.0.2): {r1}")
    expect(r3 == {"server": 3, "client": 3}, f"::1 untouched by IPv4 excludes: {r3}")
    expect(d.stat("filtered_conns") >= 9, f"filtered_conns={d.stat('filtered_conns')}, expected >= 9")

    log("== include local ports and the server role")
    write_config(config, f"filter:\n  include:\n    local_ports: [{p3}, {p4}]\n    roles: [server]\n")
    d = start_daemon(ctx, config, "tracer-include")
    get("127.0.0.1", p1)
    get("::1", p3)
    get("127.0.0.1", p4)
    d.stop()
    r3, r4, r1 = (roles(d, p) for p in (p3, p4, p1))
    expect(r3 == {"server": 3, "client": 0}, f"include ports {p3},{p4} + role server, [::1]:{p3}: {r3}")
    expect(r4 == {"server": 3, "client": 0}, f"include ports {p3},{p4} + role server, port {p4}: {r4}")
    expect(r1 == {"server": 0, "client": 0}, f"port {p1} not included: {r1}")

    log("== include an IPv6 peer prefix, exclude the client role")
    write_config(config, "filter:\n  include:\n    addresses: [\"::1/128\"]\n  exclude:\n    roles: [client]\n")
    d = start_daemon(ctx, config, "tracer-v6")
    get("::1", p3)
    get("127.0.0.1", p1)
    d.stop()
    r3, r1 = (roles(d, p) for p in (p3, p1))
    expect(r3 == {"server": 3, "client": 0}, f"include ::1/128, exclude client, [::1]:{p3}: {r3}")
    expect(r1 == {"server": 0, "client": 0}, f"127.0.0.1 not in ::1/128: {r1}")
    return s1, p1, s4, p4


def test_pids(ctx, s1, p1, s4, p4):
    log("== pids: include one server's PID, then exclude it")
    config = os.path.join(ctx.tmp, "pids.yaml")
    write_config(config, f"filter:\n  include:\n    pids: [{s1.pid}]\n")
    d = start_daemon(ctx, config, "tracer-pids-in")
    get("127.0.0.1", p1)
    get("127.0.0.1", p4)
    d.stop()
    r1, r4 = roles(d, p1), roles(d, p4)
    # curl's pid is not in the list: its side is filtered too.
    expect(r1 == {"server": 3, "client": 0}, f"include.pids [{s1.pid}]: port {p1} {r1}, expected server 3 client 0")
    expect(r4 == {"server": 0, "client": 0}, f"include.pids [{s1.pid}]: port {p4} (pid {s4.pid}) traced: {r4}")

    write_config(config, f"filter:\n  exclude:\n    pids: [{s1.pid}]\n")
    d = start_daemon(ctx, config, "tracer-pids-ex")
    get("127.0.0.1", p1)
    get("127.0.0.1", p4)
    d.stop()
    r1, r4 = roles(d, p1), roles(d, p4)
    expect(r1 == {"server": 0, "client": 3}, f"exclude.pids [{s1.pid}]: port {p1} {r1}, expected server 0 client 3")
    expect(r4 == {"server": 3, "client": 3}, f"exclude.pids [{s1.pid}]: port {p4} {r4}, expected server 3 client 3")
    expect(d.stat("filtered_conns") >= 3, f"filtered_conns={d.stat('filtered_conns')}, expected >= 3")


def test_dual_stack(ctx):
    log("== dual-stack: an IPv4 peer of a [::] socket is filtered and shown as IPv4")
    # python's http.server binds "::" with IPV6_V6ONLY off: IPv4 clients
    # arrive as ::ffff:a.b.c.d (checked below in the recording).
    srv, port = start_server(ctx, "::", "dual")
    config = os.path.join(ctx.tmp, "dual.yaml")
    record = os.path.join(ctx.tmp, "dual.rec")
    write_config(config, "filter:\n  exclude:\n    addresses: [127.0.0.3/32]\n")
    d = start_daemon(ctx, config, "tracer-dual-ex", ["--record", record])
    get("127.0.0.1", port)                                 # server's peer ::ffff:127.0.0.1: traced
    get("127.0.0.1", port, 3, "--interface", "127.0.0.3")  # server's peer ::ffff:127.0.0.3: excluded
    d.stop()
    opens = [r for r in htlib.read_recording(record)
             if r["type"] == htlib.HT_EVENT_CONN_OPEN and r["role"] == htlib.HT_ROLE_SERVER and r["local_port"] == port]
    ensure(opens and all(r["family"] == socket.AF_INET6 and r["remote_addr"][:12] == b"\0" * 10 + b"\xff\xff"
                         for r in opens),
           f"fixture: the server's connections are not IPv4-mapped on an IPv6 socket: "
           f"{[(r['family'], r['remote_addr'].hex()) for r in opens]}")
    entries = htlib.journal_final(d, f"SERVER_PORT={port}")
    server = [e for e in entries if e.get("HTTP_ROLE") == "server"]
    client = [e for e in entries if e.get("HTTP_ROLE") == "client"]
    expect(len(server) == 3, f"exclude 127.0.0.3/32 on a dual-stack server: {len(server)} server entries, "
                             f"expected the 3 from 127.0.0.1 (the mapped peer matched as IPv4)")
    expect(all(e.get("CLIENT_ADDR") == "127.0.0.1" and e.get("SERVER_ADDR") == "127.0.0.1" for e in server),
           f"IPv4-mapped peers shown as IPv4: CLIENT_ADDR/SERVER_ADDR "
           f"{[(e.get('CLIENT_ADDR'), e.get('SERVER_ADDR')) for e in server]}, expected 127.0.0.1/127.0.0.1")
    # curl's side: its peer is 127.0.0.1 either way, so all 6 are traced.
    expect(sorted(e.get("CLIENT_ADDR") for e in client) == ["127.0.0.1"] * 3 + ["127.0.0.3"] * 3,
           f"curl's client entries: CLIENT_ADDR {sorted(e.get('CLIENT_ADDR') for e in client)}, "
           "expected 127.0.0.1 x3 and 127.0.0.3 x3")

    write_config(config, "filter:\n  include:\n    addresses: [127.0.0.1/32]\n    roles: [server]\n")
    d = start_daemon(ctx, config, "tracer-dual-in")
    get("127.0.0.1", port)   # mapped ::ffff:127.0.0.1: inside 127.0.0.1/32
    get("::1", port)         # a real IPv6 peer: not
    d.stop()
    entries = htlib.journal_final(d, f"SERVER_PORT={port}")
    got = sorted((e.get("HTTP_ROLE"), e.get("CLIENT_ADDR")) for e in entries)
    expect(got == [("server", "127.0.0.1")] * 3,
           f"include 127.0.0.1/32 + role server on a dual-stack server: {got}, expected 3 server entries "
           "from 127.0.0.1 and none from ::1")
    srv.stop()


def test_reload_under_load(ctx, p1, p4):
    log("== reload under steady load: no exchange of the included server is lost")
    config = os.path.join(ctx.tmp, "reload.yaml")
    filters = [
        f"filter:\n  exclude:\n    local_ports: [{p4}]\n",
        "filter:\n  include:\n    addresses: [127.0.0.0/8]\n    roles: [server, client]\n"
        "  exclude:\n    addresses: [10.0.0.0/8]\n",
        f"filter:\n  exclude:\n    remote_ports: [{p4}]\n    pids: [1]\n",
        "filter:\n  exclude:\n    addresses: [\"fd00::/8\", 192.168.0.0/16]\n",
        "{}\n",
        f"filter:\n  exclude:\n    local_ports: [{p4}]\n",
    ]
    write_config(config, filters[0])
    d = start_daemon(ctx, config, "tracer-reload")
    stop = threading.Event()
    done = []
    errors = []

    def client():
        i = 0
        while not stop.is_set():
            i += 1
            try:
                with socket.create_connection(("127.0.0.1", p1), timeout=60) as s:
                    s.sendall(f"GET /index.html?load={i} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
                    data = b""
                    while True:
                        b = s.recv(65536)
                        if not b:
                            break
                        data += b
                if data.startswith(b"HTTP/1.0 200"):
                    done.append(i)
                else:
                    errors.append(data[:40])
            except OSError as e:
                errors.append(str(e))

    def requests_made(k, timeout=60):
        """Until the client has made k more requests: traffic on both sides of each reload."""
        want = len(done) + len(errors) + k
        deadline = time.monotonic() + timeout
        while len(done) + len(errors) < want:
            ensure(time.monotonic() < deadline, f"the load client made fewer than {k} requests in {timeout} s")
            time.sleep(0.01)

    t = threading.Thread(target=client)
    t.start()
    try:
        for f in filters[1:] + filters[:1]:
            requests_made(5)
            reload(d, f, config)
        requests_made(5)
    finally:
        stop.set()
        t.join(60)
    ensure(not errors, f"the load client failed: {errors[:3]}")
    n = len(done)
    d.stop()
    got = roles(d, p1)
    log(f"  {n} requests during 6 reloads")
    expect(n >= 20, f"only {n} requests were made during the reloads")
    expect(got == {"server": n, "client": n}, f"{n} requests made, journal has {got}")


def test_excluded_then_included(ctx):
    log("== a traced keep-alive connection excluded by a reload, then included again")
    ng = htlib.Nginx(ctx)
    config = os.path.join(ctx.tmp, "flip.yaml")
    write_config(config, "{}\n")
    d = start_daemon(ctx, config, "tracer-flip")
    with htlib.connect(ng.port) as c:
        for step in (1, 2, 3):
            if step == 2:
                reload(d, f"filter:\n  exclude:\n    local_ports: [{ng.port}]\n", config)
            if step == 3:
                reload(d, "{}\n", config)
            c.sendall(f"GET /index.html?step={step} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status, _, _, _ = htlib.read_response(c)
            ensure(status == 200, f"step {step}: status {status}")
        lport = c.local_port
    d.stop()
    entries = [e for e in htlib.journal_final(d, f"SERVER_PORT={ng.port}", "HTTP_ROLE=server")
               if e.get("CLIENT_PORT") == str(lport)]
    targets = sorted(e.get("HTTP_TARGET", "-") for e in entries)
    expect(targets == ["/index.html?step=1", "/index.html?step=3"],
           f"server entries on the flipped connection: {targets}, expected steps 1 and 3")
    incomplete = [e.get("MESSAGE") for e in entries if e.get("HTTP_STATUS") != "200"]
    expect(not incomplete, f"entries without their response: {incomplete}")
    ng.stop()


def exited(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1].startswith(("Z", "X"))
    except (FileNotFoundError, ProcessLookupError):
        return True


class PidOnly:
    """What htlib.journal_final() needs of a Daemon: its pid and exit statistics."""

    def __init__(self, pid, stats):
        self.pid = pid
        self.stats = stats
        self.stopped = True


def test_pid_namespace(ctx):
    log("== PID namespace: PROCESS_PID is the server's PID in the daemon's namespace")
    if subprocess.run(["unshare", "--help"], capture_output=True).returncode != 0:
        htlib.skip("unshare missing")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    www = htlib.make_docroot(ctx)
    outer, outer_port = start_server(ctx, "127.0.0.1", "outer-server")
    # The server is PID 1 of the new namespace, the daemon its child (so that SIGTERM reaches it).
    script = (f"{htlib.HTTP_TRACER} --output journal --log-level info & "
              f"exec {PY} -m http.server --bind 127.0.0.1 --directory {www} {port}")
    env = dict(os.environ, NOTIFY_SOCKET="")
    p = Proc(ctx, ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script], "pidns", env=env)
    # Bounds only a failure (as htlib.Daemon's READY=1 wait: loading the
    # programs took 5.5 s beside stress-ng).
    deadline = time.monotonic() + 120
    while "Tracing HTTP" not in p.stderr_text():
        ensure(p.poll() is None and time.monotonic() < deadline,
               f"daemon in the PID namespace did not start:\n{p.stderr_text()[-2000:]}")
        time.sleep(0.1)
    server_host = htlib.children_of(p.pid)
    ensure(len(server_host) == 1, f"unshare has children {server_host}")
    server_host = server_host[0]
    daemon_host = htlib.children_of(server_host)
    ensure(len(daemon_host) == 1, f"namespace init has children {daemon_host}")
    daemon_host = daemon_host[0]
    with open(f"/proc/{server_host}/status") as f:
        nspid = re.search(r"^NSpid:\s+(.*)$", f.read(), re.M).group(1).split()
    ensure(len(nspid) == 2 and nspid[1] == "1", f"server NSpid {nspid}")
    prog_ids = htlib.prog_ids_held_by(daemon_host)
    ensure(prog_ids, "the daemon in the namespace holds no BPF program")

    get("127.0.0.1", port)            # the server is inside, curl outside
    get("127.0.0.1", outer_port, 2)   # both outside
    os.kill(daemon_host, signal.SIGTERM)
    # Its exit is seen by its last words (its parent, the namespace's init,
    # does not reap it): the Statistics line, then no task left but a zombie.
    deadline = time.monotonic() + 60
    while "Statistics:" not in p.stderr_text() or not exited(daemon_host):
        ensure(time.monotonic() < deadline, f"the daemon in the PID namespace did not exit within 60 s of "
                                            f"SIGTERM:\n{p.stderr_text()[-2000:]}")
        time.sleep(0.1)
    err = p.stderr_text()
    stats = htlib.parse_statistics(err) or {}
    p.stop(signal.SIGKILL)
    htlib.check_no_bpf_left(prog_ids)
    ensure(stats, f"no Statistics line from the daemon in the PID namespace:\n{err[-2000:]}")
    d = PidOnly(daemon_host, stats)
    got = roles(d, port)
    entries = htlib.journal_final(d, f"SERVER_PORT={port}")
    outer_entries = htlib.journal_final(d, f"SERVER_PORT={outer_port}")
    expect(got == {"server": 3, "client": 0}, f"inside server / outside curl: {got}, expected 3 server entries only")
    pids = {e.get("PROCESS_PID") for e in entries if e.get("HTTP_ROLE") == "server"}
    expect(pids == {"1"}, f"PROCESS_PID of the server in the namespace: {pids}, expected {{'1'}} (host pid {server_host})")
    expect(not outer_entries, f"tasks outside the namespace were traced: {[e.get('MESSAGE') for e in outer_entries]}")
    expect(stats.get("other_pidns", 0) > 0, f"other_pidns={stats.get('other_pidns')}: outside tasks not counted")


def test(ctx):
    htlib.require_tools("curl", "nginx", "unshare")
    test_units(ctx)
    s1, p1, s4, p4 = test_ports_addresses_roles(ctx)
    test_pids(ctx, s1, p1, s4, p4)
    test_dual_stack(ctx)
    test_reload_under_load(ctx, p1, p4)
    test_excluded_then_included(ctx)
    test_pid_namespace(ctx)


if __name__ == "__main__":
    htlib.run(test)
