#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""One tracer per host (issue 15 item 10).

A second daemon used to start anyway: it could not take the control socket
("continuing without it") and traced everything a second time, unreachable.
Now it refuses before loading anything, in one line naming the running
one's pid; a socket left behind by a daemon killed with SIGKILL must not
block the restart.

All daemons run with private configuration directories (PrivateConfigDirs,
a mount namespace each) that bind the same test directory over
/run/http-tracer, so they meet on one control socket of their own and a
real service on the host is never touched:
- A runs; B is started: B exits non-zero before READY=1, its one error line
  names A's pid, it leaves no BPF program, and A still answers `status`;
- A is killed with SIGKILL: its socket file stays (stale); C starts over
  it (READY=1), answers `status`, and stops cleanly.
"""

import os
import signal

import htlib
import htlib_extra as X
from htlib import expect, ensure, log


def test(ctx):
    htlib.require_tools("unshare", "mount", "nsenter")
    dirs = X.PrivateConfigDirs(ctx, "single")
    sock = dirs.path("/run/http-tracer", "control")

    a = X.PrivateConfigDaemon(ctx, dirs, ["-o", "none"], name="first").start()
    ensure(os.path.exists(sock), f"the first daemon made no control socket at {sock}")

    before = {i for i, n in htlib.bpf_progs().items() if n.startswith("ht_")}
    b = X.PrivateConfigDaemon(ctx, dirs, ["-o", "none"], name="second")
    try:
        b.start()
        expect(False, "a second daemon started (READY=1) beside a running one")
        b.stop()
    except htlib.Failure as f:
        err = b.proc.stderr_text()
        lines = [l for l in err.splitlines() if l.strip()]
        log(f"second daemon: {lines}")
        expect(b.proc.popen.returncode not in (0, None), f"second daemon: exit status {b.proc.popen.returncode}")
        expect(len(lines) == 1, f"second daemon: {len(lines)} lines on stderr, expected one clear one:\n{err}")
        expect(f"pid {a.pid}" in err and "already running" in err,
               f"second daemon: the refusal does not name the running one (pid {a.pid}):\n{err}\n({f})")
    leaked = htlib.ht_progs_leaked(before)
    expect(not leaked, f"second daemon: BPF programs left behind: {leaked}")
    r = a.ctl("status")
    expect(r.returncode == 0, f"the first daemon no longer answers status after the refusal: {r.stderr!r}")

    # kill -9: the socket file stays, nobody answers on it.
    os.kill(a.pid, signal.SIGKILL)
    a.proc.popen.wait(60)
    a.stopped = True
    htlib.check_no_bpf_left(a.prog_ids)
    expect(os.path.exists(sock), "the killed daemon's socket file is gone: the stale case is not tested")

    c = X.PrivateConfigDaemon(ctx, dirs, ["-o", "none"], name="restart").start()
    r = c.ctl("status")
    expect(r.returncode == 0, f"the restarted daemon does not answer status: {r.stderr!r}")
    c.stop()


if __name__ == "__main__":
    htlib.run(test)
