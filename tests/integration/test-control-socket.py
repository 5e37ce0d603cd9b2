#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The control socket and shutdown through the real daemon
(docs/control-protocol.md, docs/journal-fields.md "statistics"):

- `http-tracer status` and `status --json` over /run/http-tracer/control:
  version, pid, state, capabilities dropped (0), config_sources (the
  --config file and a drop-in, in order), programs attached (the daemon's
  own, as its fds show), the `outputs` member (journal, its socket,
  written), counters that count this test's exchanges exactly (a kernel
  filter on nginx's port keeps the host's other traffic out);
- `http-tracer reload` refused with the bad drop-in's FILE:LINE:COLUMN and
  exit 1, the old configuration kept; accepted once the file is fixed;
- `http-tracer stats-reset`: the cumulative counters read 0 at once, then
  count only what came after;
- SIGINT: exit 0, the Statistics line and the final statistics entry in
  the journal carry the counts since the reset, every exchange has its
  entry, no BPF program is left and the control socket is removed.

The socket path is fixed, so the daemon runs in a mount namespace of its
own with private configuration directories, /run/http-tracer among them
(htlib_extra.PrivateConfigDirs); the commands reach it through nsenter.
A real service on the same host is never disturbed."""

import json
import os
import signal
import socket
import subprocess

import htlib
import htlib_extra
from htlib import expect, ensure, log

MID_COMPLETE = htlib_extra.MID_COMPLETE
MID_STATISTICS = htlib_extra.MID_STATISTICS


def project_version():
    with open(os.path.join(htlib.SOURCE_ROOT, "meson.build")) as f:
        text = f.read()
    import re
    return re.search(r"version\s*:\s*'([^']+)'", text)[1]


def links_held_by(pid):
    """BPF links (attachments) behind the fds a process holds: one per
    tracepoint program, one per uprobe per library file."""
    n = 0
    fddir = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                n += any(line.startswith("link_type:") for line in f)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return n


def status(daemon):
    r = daemon.ctl("status", "--json")
    ensure(r.returncode == 0, f"status --json exited {r.returncode}: {r.stderr.decode()[-1000:]}")
    ans = json.loads(r.stdout)
    ensure(ans.get("ok") is True and ans.get("version") == 1 and ans.get("command") == "status",
           f"status answer: {str(ans)[:500]}")
    return ans["status"]


def requests(port, n, tag):
    with htlib.connect(port) as c:
        for i in range(n):
            c.sendall(f"GET /{tag}/{i} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            htlib.read_response(c)


def wait_counter(daemon, key, want, what):
    """Poll status until counters[key] == want (the deadline only bounds a failure)."""
    last = {}

    def cond():
        last["st"] = status(daemon)
        return last["st"]["counters"].get(key) == want
    try:
        htlib_extra.poll(cond, f"status counters.{key} == {want} ({what})", timeout=60, interval=0.2)
    except htlib.Failure as f:
        expect(False, f"{f}; last: {last.get('st', {}).get('counters', {}).get(key)}")
    return last.get("st")


def test(ctx):
    htlib.require_tools("nginx", "nsenter", "unshare")
    # /hold/ waits on an upstream that accepts nothing and answers nothing: a request pending at stop
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    ctx.cleanup.callback(silent.close)
    nginx = htlib.Nginx(ctx, extra_server='location /ctl/ { return 200 "ok\\n"; } '
                                          f'location /hold/ {{ proxy_pass http://127.0.0.1:{silent.getsockname()[1]}; }}')
    dirs = htlib_extra.PrivateConfigDirs(ctx, "ctl")
    etc = htlib_extra.CONFIG_DIRS[0]
    main = os.path.join(ctx.tmp, "ctl.yaml")
    with open(main, "w") as f:
        f.write(f"filter:\n  include:\n    local_ports: [{nginx.port}]\nstats:\n  interval: 1h\n")
    dropin = dirs.dropin(etc, "50-ctl.yaml", "log:\n  level: info\n")
    daemon = htlib_extra.PrivateConfigDaemon(ctx, dirs, ["--config", main], name="ctl").start()
    sock = dirs.path("/run/http-tracer", "control")
    expect(os.path.exists(sock), f"no control socket at /run/http-tracer/control ({sock} outside)")
    expect(os.path.exists(sock) and oct(os.stat(sock).st_mode & 0o777) == "0o600",
           f"control socket mode {oct(os.stat(sock).st_mode & 0o777) if os.path.exists(sock) else None}, "
           "expected 0600")

    st = status(daemon)
    expect(st.get("version") == project_version(), f"status.version={st.get('version')}, meson says {project_version()}")
    expect(st.get("pid") == daemon.pid, f"status.pid={st.get('pid')}, daemon pid {daemon.pid}")
    expect(st.get("state") == "running", f"status.state={st.get('state')}")
    expect(st.get("socket_activated") is False, f"status.socket_activated={st.get('socket_activated')}")
    expect(st.get("capabilities_effective") == 0,
           f"status.capabilities_effective={st.get('capabilities_effective')}, expected 0 (dropped)")
    expect(st.get("config_sources") == [main, dropin],
           f"status.config_sources={st.get('config_sources')}, expected {[main, dropin]}")
    # programs_attached counts attachments (BPF links): a TLS uprobe program
    # attached to libssl and to node counts twice, so compare with the link
    # fds the daemon holds, not with its distinct program ids.
    links = links_held_by(daemon.pid)
    expect(links > 0 and st.get("programs_attached") == links,
           f"status.programs_attached={st.get('programs_attached')}, the daemon holds {links} BPF links")
    outs = st.get("outputs")
    expect(isinstance(outs, list) and len(outs) == 1 and outs[0].get("name") == "journal"
           and outs[0].get("target") == htlib.JOURNAL_SOCKET,
           f"status.outputs={outs}, expected one journal output on {htlib.JOURNAL_SOCKET}")
    for k in ("records", "exchanges_complete", "exchanges_filtered", "exchanges_sampled_out",
              "exchanges_rate_limited", "fields_dropped", "conns_active", "entries_queued"):
        expect(k in st.get("counters", {}), f"status.counters lacks {k}: {sorted(st.get('counters', {}))}")
    expect("ringbuf_drops" in st.get("kernel", {}) and "filtered_conns" in st.get("kernel", {}),
           f"status.kernel: {sorted(st.get('kernel', {}))}")
    r = daemon.ctl("status")
    text = r.stdout.decode()
    expect(r.returncode == 0 and str(daemon.pid) in text and "running" in text,
           f"status (text): exit {r.returncode}, output:\n{text}{r.stderr.decode()}")

    # Counting: N exchanges, each on nginx's side only (the kernel filter).
    n, m = 12, 5
    requests(nginx.port, n, "ctl")
    st = wait_counter(daemon, "exchanges_complete", n, "before the reset")
    # An exchange is counted when it ends, its entry written when the output drains: poll.
    try:
        htlib_extra.poll(lambda: status(daemon).get("outputs", [{}])[0].get("written", 0) >= n,
                         f"status.outputs[0].written >= {n}", timeout=60, interval=0.2)
    except htlib.Failure as f:
        expect(False, f"{f}; last: {status(daemon).get('outputs')}")
    # A cost, not a loss: n messages a side on one connection, each after the last was freed,
    # so every one after the first takes the block its predecessor left (src/conn/protocol.h).
    reused = (st or {}).get("counters", {}).get("spare_reused")
    expect(isinstance(reused, int) and reused >= n - 1,
           f"status.counters.spare_reused={reused}, expected >= {n - 1} ({n} sequential exchanges)")

    # A reload with a bad drop-in is refused with its FILE:LINE:COLUMN; the old configuration stays.
    bad = dirs.dropin(etc, "60-bad.yaml", "capture:\n  wakeup_delay: 1h\n")
    r = daemon.ctl("reload")
    out = (r.stdout + r.stderr).decode("utf-8", "replace")
    expect(r.returncode == 1 and f"{bad}:2:17" in out,
           f"reload with a bad drop-in: exit {r.returncode}, expected 1 naming {bad}:2:17:\n{out}")
    expect(status(daemon).get("config_sources") == [main, dropin], "a refused reload changed config_sources")
    os.unlink(dirs.path(etc, "http-tracer.yaml.d/60-bad.yaml"))
    dirs.dropin(etc, "60-bad.yaml", "capture:\n  wakeup_delay: 2ms\n")
    r = daemon.ctl("reload")
    expect(r.returncode == 0, f"reload of a good configuration: exit {r.returncode}: {r.stderr.decode()[-1000:]}")
    expect(status(daemon).get("config_sources") == [main, dropin, bad],
           f"after the reload: config_sources={status(daemon).get('config_sources')}")

    # The reset must come after the last record of the first connection (nginx's close of its
    # side follows the client's, later): else that record would count after the reset.
    wait_counter(daemon, "conns_active", 0, "nginx closed the first connection")
    kernel_records_before = status(daemon)["kernel"].get("records", 0)
    r = daemon.ctl("stats-reset")
    expect(r.returncode == 0, f"stats-reset: exit {r.returncode}: {r.stderr.decode()[-1000:]}")
    st = status(daemon)
    nonzero = {k: v for k, v in st["counters"].items()
               if v and k not in ("conns_active", "entries_queued")}
    expect(not nonzero, f"after stats-reset, cumulative counters not 0: {nonzero}")
    # The reset covers the kernel's counters and each output's too (docs/control-protocol.md).
    expect(st.get("outputs", [{}])[0].get("written", -1) == 0,
           f"after stats-reset: outputs {st.get('outputs')}, expected written 0 (reset)")
    expect(st["kernel"].get("records", -1) < kernel_records_before,
           f"after stats-reset: kernel records {st['kernel'].get('records')}, before {kernel_records_before}")
    requests(nginx.port, m, "ctl2")
    wait_counter(daemon, "exchanges_complete", m, "after the reset")
    # One more connection stays open at the stop, its request waiting (nginx's upstream never answers).
    held = htlib.connect(nginx.port)
    ctx.cleanup.callback(held.close)
    held.sendall(b"GET /hold/1 HTTP/1.1\r\nHost: t\r\n\r\n")
    wait_counter(daemon, "messages_requests", m + 1, "the held request")

    # SIGINT: like SIGTERM, a clean stop.
    daemon.stopped = True
    daemon.proc.popen.send_signal(signal.SIGINT)
    try:
        rc = daemon.proc.popen.wait(60)
    except subprocess.TimeoutExpired:
        daemon.proc.stop(signal.SIGKILL)
        ensure(False, "daemon did not exit within 60 s of SIGINT")
    err = daemon.proc.stderr_text()
    expect(rc == 0, f"exit status {rc} after SIGINT, expected 0; stderr:\n{err[-2000:]}")
    daemon.stats = htlib.parse_statistics(err)
    ensure(daemon.stats is not None, f"no Statistics line after SIGINT; stderr:\n{err[-2000:]}")
    # "exchanges": every exchange, complete or not, in the Statistics line as in the entry and status
    expect(daemon.stats.get("exchanges") == m + 1 and daemon.stats.get("complete") == m and
           daemon.stats.get("no_response") == 1,
           f"Statistics line after SIGINT: exchanges={daemon.stats.get('exchanges')} "
           f"complete={daemon.stats.get('complete')} no_response={daemon.stats.get('no_response')}, "
           f"expected {m + 1}, {m}, 1 (since the reset; the held request has no response)")
    htlib.check_no_bpf_left(daemon.prog_ids)
    expect(not os.path.exists(sock), "the control socket is still there after the daemon exited")
    got = htlib.journal_final(daemon, f"SERVER_PORT={nginx.port}", f"MESSAGE_ID={MID_COMPLETE}")
    expect(len(got) == n + m, f"{len(got)} exchange entries in the journal, expected {n + m}")
    final = [e for e in htlib.journal_query(daemon.pid, f"MESSAGE_ID={MID_STATISTICS}")]
    expect(len(final) == 1, f"{len(final)} statistics entries (stats.interval=1h: only the final one, at exit)")
    if final:
        e = final[-1]
        expect(e.get("HTTP_TRACER_EXCHANGES") == str(m + 1) and e.get("HTTP_TRACER_LOGGED") == str(m + 1),
               f"final statistics entry: EXCHANGES={e.get('HTTP_TRACER_EXCHANGES')} "
               f"LOGGED={e.get('HTTP_TRACER_LOGGED')}, expected {m + 1} (since the reset)")
        # what was tracked when the daemon stopped: the held connection, not the emptied table
        expect(e.get("HTTP_TRACER_CONNECTIONS") == "1" and int(e.get("HTTP_TRACER_MEMORY_BYTES", 0)) > 0,
               f"final statistics entry: CONNECTIONS={e.get('HTTP_TRACER_CONNECTIONS')} "
               f"MEMORY_BYTES={e.get('HTTP_TRACER_MEMORY_BYTES')}, expected 1 connection (held) and its bytes")
        expect(e.get("HTTP_TRACER_RECORDS") == str(daemon.stats.get("records")),
               f"final statistics entry: RECORDS={e.get('HTTP_TRACER_RECORDS')}, "
               f"the Statistics line says {daemon.stats.get('records')}")
        expect(m + 1 <= int(e.get("HTTP_TRACER_OUTPUT_JOURNAL_WRITTEN", -1)) < n + m,
               f"final statistics entry: OUTPUT_JOURNAL_WRITTEN={e.get('HTTP_TRACER_OUTPUT_JOURNAL_WRITTEN')}, "
               f"expected the {m + 1} entries since the reset")
        expect(e.get("PRIORITY") == "6", f"final statistics entry: PRIORITY={e.get('PRIORITY')}")
        # One table (STATISTICS_ROWS): every counter of the Statistics line is in the entry, under
        # HTTP_TRACER_<KEY>, and equal but for what the final flush moves after the entry is built.
        moving = {"entries_written", "entries_queued", "entries_dropped", "dropped",
                  "daemon_entries_written", "daemon_entries_dropped", "output_errors"}
        missing = [k for k in daemon.stats if "HTTP_TRACER_" + k.upper() not in e]
        expect(not missing, f"final statistics entry lacks what the Statistics line has: {missing}")
        differ = {k: (v, e.get("HTTP_TRACER_" + k.upper())) for k, v in daemon.stats.items()
                  if k not in moving and "HTTP_TRACER_" + k.upper() in e and str(v) != e["HTTP_TRACER_" + k.upper()]}
        expect(not differ, f"Statistics line and final statistics entry differ (line, entry): {differ}")
        for k in ("exchanges_lost", "exchanges_lost_unseen", "messages_lost", "closes_lost", "spare_reused"):
            expect(k in daemon.stats, f"the Statistics line has no {k}")
    log(f"control socket: status, reload, stats-reset, SIGINT; {n}+{m} exchanges")


if __name__ == "__main__":
    htlib.run(test)
