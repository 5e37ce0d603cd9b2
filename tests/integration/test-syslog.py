#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The syslog output against a real rsyslog (its own config, ports, unix
socket, pid file; see syslogd.py), with the JSON output to a file on at the
same time (the reference: same fields, same formatting).

- UDP, TCP and unix socket, RFC 5424: rsyslog's file holds every exchange
  the JSON output holds, with its structured data parsed by mmpstrucdata into
  the same values as the JSON/journal fields (method, target redacted the same
  way, status, pid, addresses, duration), MSGID, APP-NAME and PRI
  (facility local3, severity from the entry's PRIORITY).
- TCP, rsyslog killed mid-stream and restarted: the daemon keeps tracing
  (the JSON file gets every exchange while rsyslog is down), queues what fits
  in output.syslog.queue_size, reconnects, delivers the queue, counts what
  did not fit: received + dropped == sent, with nothing received twice.

The daemon traces the whole host: other traffic (other tests running at the
same time) goes through the same sinks. The exact equalities are asserted
when the daemon saw only this test's exchanges; on a busy host, that every
message of ours that did not arrive is covered by the counted drops.
"""

import json
import os
import time

import htlib
import syslogd
from htlib import expect, ensure, log

LOCAL3 = 19


def write_config(ctx, name, port, target, queue="4MiB"):
    path = os.path.join(ctx.tmp, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"""output:
  types: [json, syslog]
  json_path: {json_path(ctx, name)}
  syslog:
    target: "{target}"
    format: rfc5424
    facility: local3
    queue_size: {queue}
filter:
  include:
    local_ports: [{port}]
""")
    return path


def send_requests(srv, prefix, n):
    targets = []
    for i in range(n):
        target = f"/{prefix}/{i}?token=secret{i}&x=1"
        resp = htlib.raw_exchange(srv.port, f"GET {target} HTTP/1.0\r\nHost: t\r\n\r\n".encode())
        ensure(resp.startswith(b"HTTP/1.0 404"), f"fixture: {target}: {resp[:40]!r}")
        targets.append(f"/{prefix}/{i}?token=***&x=1")
    return targets


def json_path(ctx, name):
    return os.path.join(ctx.tmp, f"{name}.entries.json")


def json_entries(ctx, name, prefix):
    """Server-side JSON lines of this part of the test, values as text (the journal's form)."""
    out = []
    with open(json_path(ctx, name), encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            if e.get("HTTP_ROLE") == "server" and e.get("HTTP_TARGET", "").startswith(f"/{prefix}/"):
                out.append({k: str(v) for k, v in e.items()})
    return out


def quiet(daemon, ours_sent):
    """Whether the daemon saw only this test's exchanges (both sides of each)."""
    return daemon.stat("exchanges") <= 2 * ours_sent + 10


def ours(prefix):
    """Server-side messages of this part of the test (the client side, this script, is traced too)."""
    return lambda m: (syslogd.sd(m).get("role") == "server" and
                      syslogd.sd(m).get("target", "").startswith(f"/{prefix}/"))


def check_transport(ctx, rs, srv, transport, n=15):
    log(f"-- {transport}")
    cfg = write_config(ctx, transport, srv.port, rs.target(transport))
    daemon = htlib.Daemon(ctx, ["--config", cfg], name=f"http-tracer-{transport}").start()
    prefix = f"syslog-{transport}"
    targets = send_requests(srv, prefix, n)
    # The deadline only bounds a failure: what arrived is checked below.
    got = rs.wait_messages(transport, ours(prefix), n, timeout=60)
    daemon.stop()
    entries = json_entries(ctx, transport, prefix)

    expect(len(entries) == n, f"{transport}: the JSON file has {len(entries)} entries, sent {n}")
    received = sorted(syslogd.sd(m).get("target") for m in got)
    missing = len(targets) - len(set(received))
    expect(set(received) <= set(targets) and len(received) == len(set(received)),
           f"{transport}: rsyslog got {received}, expected {sorted(targets)}")
    if quiet(daemon, n):
        expect(missing == 0, f"{transport}: {missing} of {n} messages never reached rsyslog")
        expect(daemon.stat("entries_dropped") == 0, f"{transport}: entries_dropped={daemon.stat('entries_dropped')}")
    else:
        log(f"{transport}: busy host ({daemon.stat('exchanges')} exchanges traced); {missing} of ours missing, "
            f"{daemon.stat('entries_dropped')} counted as dropped")
        expect(missing <= daemon.stat("entries_dropped"), f"{transport}: {missing} lost, only "
                                                          f"{daemon.stat('entries_dropped')} counted")
    journal = {e["HTTP_TARGET"]: e for e in entries}
    for m in got:
        p = syslogd.sd(m)
        e = journal.get(p.get("target"))
        if not expect(e is not None, f"{transport}: {p.get('target')} is in rsyslog but not in the JSON file"):
            continue
        what = f"{transport} {p.get('target')}"
        # Every journal field but the header ones is a parameter with the same value.
        for field, value in e.items():
            if field.startswith("_") or field.startswith("__") or field in (
                    "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER") or field.startswith("OBJECT_") and field != "PROCESS_PID":
                continue
            name = "pid" if field == "PROCESS_PID" else field.lower().removeprefix("http_")
            expect(p.get(name) == value, f"{what}: parameter {name}={p.get(name)!r}, JSON {field}={value!r}")
        expect("secret" not in str(m), f"{what}: a redacted secret reached syslog: {m}")
        expect(m.get("msg") == e.get("MESSAGE"), f"{what}: MSG {m.get('msg')!r} != MESSAGE {e.get('MESSAGE')!r}")
        expect(m.get("msgid") == "exchange", f"{what}: MSGID {m.get('msgid')}")
        expect(m.get("appname") == "http-tracer", f"{what}: APP-NAME {m.get('appname')}")
        expect(m.get("procid") == str(daemon.pid), f"{what}: PROCID {m.get('procid')} != {daemon.pid}")
        expect(m.get("pri") == str(LOCAL3 * 8 + int(e["PRIORITY"])),
               f"{what}: PRI {m.get('pri')} for local3 and PRIORITY {e['PRIORITY']}")


def check_tcp_restart(ctx, rs, srv):
    log("-- tcp, rsyslog killed and restarted mid-stream")
    # 64 KiB holds ~100 of these messages: phase 2 overflows it on purpose.
    cfg = write_config(ctx, "tcp-restart", srv.port, rs.target("tcp"), queue="64KiB")
    daemon = htlib.Daemon(ctx, ["--config", cfg], name="http-tracer-tcp-restart").start()
    prefix = "restart"
    is_ours = ours(prefix)

    sent = send_requests(srv, f"{prefix}/a", 20)
    got = rs.wait_messages("tcp", is_ours, 20, timeout=60)
    log(f"before the restart rsyslog got {len(got)} of 20")

    rs.kill()
    t0 = time.monotonic()
    sent += send_requests(srv, f"{prefix}/b", 300)
    elapsed = time.monotonic() - t0
    # Nothing blocks: the JSON output (same daemon, same loop) gets every one
    # of them while rsyslog is still down (it is started only after this).
    # The deadline only bounds a failure: a stalled tracer never gets there.
    deadline = time.monotonic() + 60
    while len(json_entries(ctx, "tcp-restart", prefix)) < len(sent) and time.monotonic() < deadline:
        time.sleep(0.1)
    n_json = len(json_entries(ctx, "tcp-restart", prefix))
    expect(n_json == len(sent), f"with rsyslog down the JSON output got {n_json} of {len(sent)}: the tracer stalled")
    log(f"300 exchanges with rsyslog down took {elapsed:.2f}s")

    rs.start()
    # The reconnect backoff is at most 5 s; the deadline only bounds a failure.
    got = rs.wait_messages("tcp", lambda m: is_ours(m) and "/b/" in syslogd.sd(m)["target"], 1, timeout=60)
    queued_arrived = bool(got)
    sent += send_requests(srv, f"{prefix}/c", 20)
    rs.wait_messages("tcp", lambda m: is_ours(m) and "/c/" in syslogd.sd(m)["target"], 20, timeout=60)
    daemon.stop()

    # Exact accounting over every entry the daemon made, not only our
    # exchanges: its own entries (drop warnings while rsyslog was down, the
    # final statistics) go through the same queue and are dropped when it is
    # full, counted apart: exchange entries in entries_dropped, the daemon's
    # own in daemon_entries_dropped (one meaning per counter: served =
    # logged + entries_dropped speaks of exchanges only). The JSON output (same
    # daemon, never full) holds every one of them; its last line is the
    # final statistics entry, the daemon's last frame on the TCP stream.
    # rsyslog writes a stream in order: once that entry is in its file, so
    # is everything else it received (the daemon only waits for TCP's
    # acknowledgement, not for rsyslog's file). The deadline bounds a failure.
    with open(json_path(ctx, "tcp-restart"), encoding="utf-8") as f:
        all_json = [json.loads(l) for l in f]
    ensure(all_json and all_json[-1].get("MESSAGE_ID") == htlib.STATISTICS_MESSAGE_ID,
           f"the JSON output's last entry is not the final statistics: {all_json[-1:] }")
    final_msg = all_json[-1].get("MESSAGE")
    mine = lambda m: m.get("procid") == str(daemon.pid)  # noqa: E731
    deadline = time.monotonic() + 60
    while not any(mine(m) and m.get("msg") == final_msg for m in rs.messages("tcp")):
        ensure(time.monotonic() < deadline, "the daemon's final statistics entry never reached rsyslog's file")
        time.sleep(0.1)

    # The kernel filter (local_ports: the server's) leaves only the server side of each exchange;
    # anything else arriving is a filter failure.
    both = lambda m: syslogd.sd(m).get("target", "").startswith(f"/{prefix}/")  # noqa: E731
    received = [(syslogd.sd(m).get("role"), syslogd.sd(m)["target"]) for m in rs.messages("tcp") if both(m)]
    unique = set(received)
    sent = [("server", t) for t in sent]
    dropped = daemon.stat("entries_dropped")
    own_dropped = daemon.stat("daemon_entries_dropped")
    expect("daemon_entries_dropped" in (daemon.stats or {}), "the Statistics line has no daemon_entries_dropped")
    log(f"sent {len(sent)}, rsyslog got {len(received)} ({len(unique)} distinct), daemon counted {dropped} "
        f"exchange entries and {own_dropped} of its own dropped")
    expect(len(received) == len(unique), f"{len(received) - len(unique)} messages arrived twice")
    expect(unique <= set(sent), f"rsyslog got targets never sent: {sorted(unique - set(sent))[:5]}")
    expect(dropped > 0, "the queue bound was never hit: the test did not exercise drops")
    all_rs = [json.dumps(m, sort_keys=True) for m in rs.messages("tcp") if mine(m)]
    exchanges_json = len([e for e in all_json if e.get("HTTP_ROLE")])
    own_json = len(all_json) - exchanges_json
    own_rs = len([m for m in rs.messages("tcp") if mine(m) and m.get("msgid") == "-"])
    log(f"all entries: {len(all_json)} made ({own_json} the daemon's own), rsyslog got {len(all_rs)} "
        f"({own_rs} own)")
    expect(len(all_rs) == len(set(all_rs)), f"{len(all_rs) - len(set(all_rs))} messages arrived twice")
    if quiet(daemon, len(sent)):
        # On a busy host other traffic may fill the queue first: only then is this certain.
        expect(queued_arrived, "no queued message arrived after rsyslog came back")
        expect(len(set(all_rs)) + dropped + own_dropped == len(all_json),
               f"received {len(set(all_rs))} (of them {len(unique)} of our {len(sent)} exchanges, {own_rs} "
               f"own entries) + dropped {dropped} + {own_dropped} != {len(all_json)} entries made ({own_json} own): "
               "a loss went uncounted")
        # Each kind apart: the exchange entries rsyslog got + entries_dropped = the exchange
        # entries made, and the same for the daemon's own entries.
        expect(len(set(all_rs)) - own_rs + dropped == exchanges_json,
               f"exchange entries: received {len(set(all_rs)) - own_rs} + entries_dropped {dropped} != "
               f"{exchanges_json} made (entries_dropped counts the daemon's own entries too?)")
        expect(own_rs + own_dropped == own_json,
               f"the daemon's own entries: received {own_rs} + daemon_entries_dropped {own_dropped} != {own_json} made")
        for t in sent[:20] + sent[-20:]:
            expect(t in unique, f"{t} (sent while rsyslog was up) never arrived")
    else:
        log(f"busy host ({daemon.stat('exchanges')} exchanges traced): checking that our losses are counted")
        expect(len(sent) - len(unique) <= dropped,
               f"{len(sent) - len(unique)} of ours lost but only {dropped} counted as dropped")
    # The drop warning is also an entry (MESSAGE_ID drops) in the outputs: here the JSON file.
    with open(json_path(ctx, "tcp-restart"), encoding="utf-8") as f:
        warnings = [e for e in map(json.loads, f) if e.get("MESSAGE_ID") == "5178c98922794d619bfcbf3dd749dfbd"]
    expect(sum(int(e.get("HTTP_TRACER_DROPPED", 0)) for e in warnings if e.get("HTTP_TRACER_OUTPUT") == "syslog")
           == dropped, f"drop warning entries in the JSON output: {warnings}, the daemon counted {dropped} dropped")
    err = daemon.proc.stderr_text()
    expect("is reachable again" in err, "the daemon did not log its reconnect")
    expect("of the daemon's own entries dropped since the last report: the syslog output" in err or dropped == 0,
           "the drop warning did not name the syslog output; stderr:\n" + err[-3000:])


def test(ctx):
    htlib.require_tools(syslogd.RSYSLOGD)
    srv = htlib.PythonHttpServer(ctx)
    rs = syslogd.Rsyslog(ctx).start()
    for transport in ("udp", "tcp", "unix"):
        check_transport(ctx, rs, srv, transport)
    check_tcp_restart(ctx, rs, srv)


if __name__ == "__main__":
    htlib.run(test)
