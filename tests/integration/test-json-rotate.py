#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""JSON lines to a file under logrotate-style rotation: while exchanges
flow, the file is renamed and the daemon sent SIGUSR1 (what a postrotate
script does), five times. Every exchange must be in exactly one of the
files, each file must hold whole JSON lines only, and the daemon must
count no drop and no error."""

import glob
import json
import os
import signal
import time

import htlib
from htlib import expect, ensure, log


def targets_written(path):
    """/rotate/ targets of the server-side entries in the whole lines of every file so far."""
    out = set()
    for fn in glob.glob(path + "*"):
        try:
            with open(fn, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue
        for line in data.split(b"\n")[:-1]:
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                continue
            if e.get("HTTP_ROLE") == "server" and str(e.get("HTTP_TARGET", "")).startswith("/rotate/"):
                out.add(e["HTTP_TARGET"])
    return out


def test(ctx):
    srv = htlib.PythonHttpServer(ctx)
    path = os.path.join(ctx.tmp, "entries.json")
    cfg = os.path.join(ctx.tmp, "json.yaml")
    with open(cfg, "w") as f:
        f.write(f"output:\n  types: [json]\n  json_path: {path}\n")
    daemon = htlib.Daemon(ctx, ["--config", cfg]).start()

    n = 400
    rotations = []
    for i in range(n):
        resp = htlib.raw_exchange(srv.port, f"GET /rotate/{i} HTTP/1.0\r\nHost: t\r\n\r\n".encode())
        ensure(resp.startswith(b"HTTP/1.0 404"), f"fixture: /rotate/{i}: {resp[:40]!r}")
        # Rotate while records are still on their way through the daemon.
        if i % 80 == 79:
            k = len(rotations) + 1
            os.rename(path, f"{path}.{k}")
            os.kill(daemon.pid, signal.SIGUSR1)
            rotations.append(k)
    # Stop once every exchange is in some file, not after a fixed 0.5 s (on
    # a loaded machine the last records may take longer to be written).
    # Only whole lines count: the daemon may be writing the last one. The
    # deadline only bounds a failure; the checks below say what is missing.
    deadline = time.monotonic() + 60
    while len(targets_written(path)) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    daemon.stop()

    files = sorted(glob.glob(path + "*"))
    log(f"{len(rotations)} rotations, files: {[os.path.basename(x) for x in files]}")
    expect(len(rotations) >= 3, f"only {len(rotations)} rotations happened during the traffic")
    seen = {}
    for fn in files:
        with open(fn, "rb") as f:
            data = f.read()
        expect(not data or data.endswith(b"\n"), f"{fn} ends in a partial line")
        count = 0
        for line in data.splitlines():
            try:
                e = json.loads(line)
            except json.JSONDecodeError as err:
                expect(False, f"{fn}: not a JSON line ({err}): {line[:200]!r}")
                continue
            if e.get("HTTP_ROLE") == "server" and e.get("HTTP_TARGET", "").startswith("/rotate/"):
                seen.setdefault(e["HTTP_TARGET"], []).append(fn)
                count += 1
        log(f"  {os.path.basename(fn)}: {count} of our exchanges")
    missing = [i for i in range(n) if f"/rotate/{i}" not in seen]
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    expect(not missing, f"{len(missing)} exchanges in no file, e.g. {missing[:5]}")
    expect(not twice, f"exchanges in two files: {list(twice.items())[:3]}")
    expect(len([f for f in files if seen and any(f in v for v in seen.values())]) >= 3,
           "our exchanges did not spread over the rotated files: SIGUSR1 did not reopen")
    expect(daemon.stat("entries_dropped") == 0, f"entries_dropped={daemon.stat('entries_dropped')}")
    expect(daemon.stat("output_errors") == 0, f"output_errors={daemon.stat('output_errors')}")


if __name__ == "__main__":
    htlib.run(test)
