#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Command line: --help and --version succeed; a wrong option or value gets
one specific error (not the whole help) and a non-zero exit; with the
journal socket missing (HTTP_TRACER_JOURNAL_SOCKET=/nonexistent) the daemon
says so plainly, suggests --output json, exits non-zero and leaves no BPF
program behind. The last check needs root and is skipped without it."""

import os
import re
import subprocess

import htlib
from htlib import expect, log


def run(args, env=None, timeout=30):
    r = subprocess.run([htlib.HTTP_TRACER] + args, capture_output=True, timeout=timeout,
                       env=env, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def project_version():
    with open(os.path.join(htlib.SOURCE_ROOT, "meson.build")) as f:
        m = re.search(r"version\s*:\s*'([^']+)'", f.read())
    return m[1]


def test(ctx):
    rc, out, err = run(["--help"])
    expect(rc == 0, f"--help exited {rc}: {err}")
    for opt in ("--output", "--record", "--replay", "--version", "--help"):
        expect(opt in out, f"--help (stdout) does not mention {opt}")

    rc, out, err = run(["--version"])
    expect(rc == 0, f"--version exited {rc}: {err}")
    expect(project_version() in out, f"--version prints {out.strip()!r}, project version {project_version()}")

    for args, word in ((["--no-such-option"], "no-such-option"), (["--output", "yaml"], "yaml"),
                       (["--payload-size", "lots"], "lots"), (["--log-level", "chatty"], "chatty")):
        rc, out, err = run(args)
        what = " ".join(args)
        lines = [l for l in err.splitlines() if l.strip()]
        expect(rc != 0, f"'{what}' exited 0")
        expect(word in err, f"'{what}': the error does not name '{word}': {err!r}")
        expect(1 <= len(lines) <= 2, f"'{what}': expected one specific error line, got {len(lines)}: {err!r}")
        expect("--replay" not in err, f"'{what}' printed the whole help instead of one error: {err!r}")
        expect(out == "", f"'{what}' wrote to stdout: {out!r}")

    if os.geteuid() != 0:
        log("not root: skipping the missing-journal-socket check")
        return
    htlib.ensure_tracefs()
    before = {i for i, n in htlib.bpf_progs().items() if n.startswith("ht_")}
    env = dict(os.environ, HTTP_TRACER_JOURNAL_SOCKET="/nonexistent")
    rc, out, err = run([], env=env)
    expect(rc != 0, f"with the journal socket missing the daemon exited {rc}")
    expect("journal" in err.lower() and "--output json" in err,
           f"missing journal socket: the error must say so and suggest --output json: {err!r}")
    expect(len([l for l in err.splitlines() if l.strip()]) <= 3,
           f"missing journal socket: expected a short error, got: {err!r}")
    after = {i for i, n in htlib.bpf_progs().items() if n.startswith("ht_")}
    expect(after <= before, f"BPF programs left behind after the failed start: {after - before}")


if __name__ == "__main__":
    htlib.run(test, needs_root=False)
