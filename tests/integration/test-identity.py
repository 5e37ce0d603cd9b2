#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The traced process's identity comes from the kernel, never through
journald's enrichment (#15 items 8 and 13).

A curl with ?token=SECRET in its argv stays alive (a second, rate-limited
download) while its first exchange is written. The daemon must not send
OBJECT_PID (journald would then add OBJECT_CMDLINE with the secret) and
names the process itself: no output (the journal with every field,
`journalctl -o export`; the JSON file) contains the secret; curl's
client entry has OBJECT_COMM=curl, OBJECT_EXE=curl's path and PROCESS_PID;
nginx's server entry has its worker's comm, exe and pid.

filter.include.exes names nginx's and curl's executables: the nginx worker
(another uid than the capability-less daemon, so /proc/PID/exe is closed
to it) is matched through the executable the kernel captured."""

import json
import os
import secrets
import shutil
import subprocess

import htlib
from htlib import expect, ensure, log


def test(ctx):
    htlib.require_tools("nginx", "curl")
    nginx = htlib.Nginx(ctx, extra_server="location = /big.bin { limit_rate 512k; }")
    secret = "SECRET" + secrets.token_hex(8)
    nginx_exe = os.path.realpath(shutil.which("nginx"))
    curl_exe = os.path.realpath(shutil.which("curl"))
    json_path = os.path.join(ctx.tmp, "out.json")
    d = htlib.Daemon(ctx, ["-s", "output.types=journal,json", "-s", f"output.json_path={json_path}",
                           "-s", f"filter.include.exes={nginx_exe},{curl_exe}"]).start()
    # curl runs in a unit's cgroup of its own: OBJECT_SYSTEMD_UNIT, and `journalctl -u` finds it
    roots = [p for p in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified")
             if os.path.exists(os.path.join(p, "cgroup.controllers"))]
    ensure(roots, "fixture: no cgroup v2 at /sys/fs/cgroup or /sys/fs/cgroup/unified")
    root = roots[0]
    unit = f"ht-curl-{os.getpid()}.service"
    slice_dir = os.path.join(root, f"ht-id-{os.getpid()}.slice")
    cg = os.path.join(slice_dir, unit)
    os.makedirs(cg)
    ctx.cleanup.callback(lambda: [os.rmdir(p) for p in (cg, slice_dir) if os.path.isdir(p)])
    url = nginx.url("/index.html") + f"?token={secret}"
    r = subprocess.run(["sh", "-c", f'echo $$ > {cg}/cgroup.procs && exec curl -s -o /dev/null "$0" '
                                    f'-o /dev/null "$1"', url, nginx.url("/big.bin")],
                       capture_output=True, timeout=60)
    ensure(r.returncode == 0, f"curl failed: {r.stderr.decode()}")
    entries = htlib.journal_wait(d.pid, f"SERVER_PORT={nginx.port}", expected=4, timeout=60)
    d.stop()
    entries = htlib.journal_final(d, f"SERVER_PORT={nginx.port}")

    # Every field of every entry the daemon wrote, as journald stored it.
    export = subprocess.run(["journalctl", "-o", "export", "--no-pager", f"_PID={d.pid}"],
                            capture_output=True, timeout=60).stdout
    ensure(export, "journalctl -o export gave nothing for the daemon")
    expect(secret.encode() not in export, "the secret from curl's argv reached the journal")
    expect(b"\nOBJECT_CMDLINE=" not in export and b"\nOBJECT_PID=" not in export,
           "OBJECT_PID/OBJECT_CMDLINE in the journal: journald enriched from /proc")
    with open(json_path, "rb") as f:
        out = f.read()
    expect(secret.encode() not in out, "the secret from curl's argv reached the JSON output")

    worker = [str(p) for p in nginx.worker_pids]
    server = [e for e in entries if e.get("HTTP_ROLE") == "server"]
    client = [e for e in entries if e.get("HTTP_ROLE") == "client"]
    log(f"{len(server)} server, {len(client)} client entries; e.g. "
        f"{[(e.get('OBJECT_COMM'), e.get('OBJECT_EXE'), e.get('PROCESS_PID'), e.get('OBJECT_SYSTEMD_UNIT')) for e in entries[:4]]}")
    # filter.include.exes matched the nginx worker by its kernel-captured executable
    expect(len(server) == 2, f"{len(server)} server entries, expected 2 (the worker matched by filter.include.exes)")
    for e in server:
        expect(e.get("OBJECT_COMM") == "nginx" and e.get("OBJECT_EXE") == nginx_exe and
               e.get("PROCESS_PID") in worker,
               f"server entry: OBJECT_COMM={e.get('OBJECT_COMM')} OBJECT_EXE={e.get('OBJECT_EXE')} "
               f"PROCESS_PID={e.get('PROCESS_PID')}, expected nginx, {nginx_exe}, one of {worker}")
    expect(len(client) == 2, f"{len(client)} client entries, expected curl's 2")
    for e in client:
        expect(e.get("OBJECT_COMM") == "curl" and e.get("OBJECT_EXE") == curl_exe and e.get("PROCESS_PID"),
               f"curl's entry: OBJECT_COMM={e.get('OBJECT_COMM')} OBJECT_EXE={e.get('OBJECT_EXE')} "
               f"PROCESS_PID={e.get('PROCESS_PID')}")
    for e in entries:
        expect("OBJECT_CMDLINE" not in e, f"OBJECT_CMDLINE in {e.get('MESSAGE')!r}")
    for e in client:
        expect(e.get("OBJECT_SYSTEMD_UNIT") == unit,
               f"curl's OBJECT_SYSTEMD_UNIT={e.get('OBJECT_SYSTEMD_UNIT')}, expected {unit} (its cgroup {cg})")
    # journalctl -u matches OBJECT_SYSTEMD_UNIT from uid-0 senders: the documented query works
    r = subprocess.run(["journalctl", "-o", "json", "--no-pager", "-u", unit], capture_output=True, timeout=60)
    by_unit = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
    by_unit = [e for e in by_unit if e.get("_PID") == str(d.pid) and e.get("HTTP_ROLE") == "client"]
    expect(len(by_unit) == 2, f"journalctl -u {unit}: {len(by_unit)} of curl's 2 entries")

htlib.run(test)
