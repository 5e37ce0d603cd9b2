#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Capabilities, not uid 0, decide whether the daemon can start (issue 15 item 11).

docs/security.md: at uid 0 the daemon needs CAP_BPF and CAP_PERFMON; a
non-root uid needs CAP_DAC_READ_SEARCH as well (the tracefs id files are
root's, mode 0440). The start-up checks used access(), which judges the
real uid and ignores capabilities, so such a non-root daemon was refused;
and uid 0 with only CAP_BPF was told "Run http-tracer as root".

With setpriv, in a mount namespace with private configuration directories
(PrivateConfigDirs; its /run/http-tracer given to the uid):
- uid 65534 with CAP_DAC_READ_SEARCH, CAP_BPF and CAP_PERFMON as ambient
  capabilities starts (READY=1), traces an exchange (exit statistics), and
  leaves no BPF program;
- uid 0 with only CAP_BPF exits with one line naming CAP_PERFMON;
- uid 0 with only CAP_PERFMON exits with one line naming CAP_BPF;
- uid 65534 with no capability exits with one line naming all three.
"""

import os

import htlib
import htlib_extra as X
from htlib import expect, log

SETPRIV = "setpriv"
NOBODY = 65534


class NonRootDaemon(htlib.Daemon):
    """The daemon as uid 65534 with ambient capabilities, in PrivateConfigDirs."""

    private_run = False     # PrivateConfigDirs binds its own /run/http-tracer

    def __init__(self, ctx, dirs, args, caps):
        super().__init__(ctx, args, name="nonroot")
        self.dirs = dirs
        self.caps = caps

    def start(self):
        priv = [f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                f"--inh-caps={self.caps}", f"--ambient-caps={self.caps}", os.path.abspath(htlib.HTTP_TRACER)]
        wrapper = os.path.join(self.ctx.tmp, "nonroot.sh")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec " + " ".join(X._sh_quote(a) for a in self.dirs.argv(*priv, exe=SETPRIV))
                    + " \"$@\"\n")
        os.chmod(wrapper, 0o755)
        real = htlib.HTTP_TRACER
        htlib.HTTP_TRACER = wrapper
        # The readiness socket Daemon.start() binds must accept uid 65534's datagrams.
        old = os.umask(0)
        try:
            return super().start()
        finally:
            os.umask(old)
            htlib.HTTP_TRACER = real


def refused(ctx, dirs, name, priv, want):
    before = {i for i, n in htlib.bpf_progs().items() if n.startswith("ht_")}
    r = dirs.run(*priv, os.path.abspath(htlib.HTTP_TRACER), "-o", "none", exe=SETPRIV, timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    lines = [l for l in err.splitlines() if l.strip()]
    log(f"{name}: exit {r.returncode}: {lines}")
    expect(r.returncode not in (0, 99), f"{name}: exit status {r.returncode}, expected a refusal:\n{err}")
    expect(len(lines) == 1, f"{name}: {len(lines)} lines on stderr, expected one clear one:\n{err}")
    for w in want:
        expect(w in err, f"{name}: stderr does not name {w!r}:\n{err}")
    leaked = htlib.ht_progs_leaked(before)
    expect(not leaked, f"{name}: BPF programs left behind: {leaked}")


def test(ctx):
    htlib.require_tools("unshare", "mount", SETPRIV)
    dirs = X.PrivateConfigDirs(ctx, "nonroot")
    os.chown(dirs.path("/run/http-tracer"), NOBODY, NOBODY)
    srv = X.RawServer(ctx)

    d = NonRootDaemon(ctx, dirs, ["-o", "none", "-s", f"filter.include.local_ports={srv.port}"],
                      "+dac_read_search,+bpf,+perfmon").start()
    with X.client(srv.port) as c:
        c.sendall(X.request("/eat/nonroot?size=10"))
        buf = b""
        while not buf.endswith(b"x" * 10):
            b = c.recv(4096)
            if not b:
                break
            buf += b
    stats = d.stop()
    err = d.proc.stderr_text()
    expect("BPF programs attached" in err, f"the non-root daemon did not say it traces:\n{err[-2000:]}")
    expect("control socket" not in err, f"the non-root daemon could not make its control socket:\n{err[-2000:]}")
    expect(d.stat("exchanges") >= 1, f"the non-root daemon logged no exchange: {stats}")

    refused(ctx, dirs, "uid 0, CAP_BPF only", ["--inh-caps=-all", "--bounding-set=-all,+bpf"],
            ["Loading BPF programs was refused", "lacks CAP_PERFMON"])
    refused(ctx, dirs, "uid 0, CAP_PERFMON only", ["--inh-caps=-all", "--bounding-set=-all,+perfmon"],
            ["Loading BPF programs was refused", "lacks CAP_BPF"])
    refused(ctx, dirs, "uid 65534, no capability", [f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"],
            ["Permission denied", "CAP_DAC_READ_SEARCH and CAP_BPF and CAP_PERFMON"])


if __name__ == "__main__":
    htlib.run(test)
