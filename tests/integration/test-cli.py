#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Command line: --help and --version succeed; --help lists every long
option of main.c's getopt_long table (read from the source, so a new option
missing from the help fails here), with its short form and "=ARG" where it
has them; a wrong option or value gets one specific error (not the whole
help) and a non-zero exit; with the journal socket missing
(HTTP_TRACER_JOURNAL_SOCKET=/nonexistent) the daemon says so plainly,
suggests --output json, exits non-zero and leaves no BPF program behind. The
last check needs root: without it the test skips (77) after the others."""

import os
import re
import subprocess

import htlib
from htlib import ensure, expect, log


def run(args, env=None, timeout=30):
    r = subprocess.run([htlib.HTTP_TRACER] + args, capture_output=True, timeout=timeout,
                       env=env, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def project_version():
    with open(os.path.join(htlib.SOURCE_ROOT, "meson.build")) as f:
        m = re.search(r"version\s*:\s*'([^']+)'", f.read())
    return m[1]


def main_options():
    """(name, has_arg, short) for each entry of the getopt_long table in the
    source file that calls getopt_long (found by content: files move)."""
    for d, _, files in sorted(os.walk(os.path.join(htlib.SOURCE_ROOT, "src"))):
        for name in sorted(files):
            if not name.endswith(".c"):
                continue
            with open(os.path.join(d, name)) as f:
                text = f.read()
            if "getopt_long(" not in text:
                continue
            table = re.search(r"struct option\s+\w+\[\]\s*=\s*\{(.*?)\n\s*\};", text, re.S)
            ensure(table is not None, f"{name}: calls getopt_long but no 'struct option NAME[] = {{...}};' found")
            opts = re.findall(r'\{\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*\w+\s*,\s*(\'.\'|\w+)\s*\}', table[1])
            entries = len(re.findall(r'\{\s*"', table[1]))
            ensure(len(opts) == entries and opts,
                   f"{name}: parsed {len(opts)} of the {entries} options in the getopt_long table")
            return [(o, arg, v[1] if v.startswith("'") else None) for o, arg, v in opts]
    ensure(False, "no source file under src/ calls getopt_long")


def test(ctx):
    rc, out, err = run(["--help"])
    expect(rc == 0, f"--help exited {rc}: {err}")
    options = main_options()
    log(f"options in the source: {' '.join('--' + o for o, _, _ in options)}")
    for opt, has_arg, short in options:
        line = next((l for l in out.splitlines() if re.search(rf"--{re.escape(opt)}(?![\w-])", l)), None)
        if not expect(line is not None, f"--help (stdout) does not list --{opt}"):
            continue
        if short:
            expect(re.search(rf"(^|\s)-{short}\s+--{re.escape(opt)}\b", line),
                   f"--help: --{opt} is -{short} in the source, the help line is {line.strip()!r}")
        if has_arg == "required_argument":
            expect(f"--{opt}=" in line, f"--help: --{opt} takes a value, the help line is {line.strip()!r}")
        elif has_arg == "no_argument":
            expect(f"--{opt}=" not in line, f"--help: --{opt} takes no value, the help line is {line.strip()!r}")

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
        htlib.skip("not root: the missing-journal-socket check needs root (BPF, tracefs); "
                   "the checks above ran")
    htlib.ensure_tracefs()
    before = {i for i, n in htlib.bpf_progs().items() if n.startswith("ht_")}
    env = dict(os.environ, HTTP_TRACER_JOURNAL_SOCKET="/nonexistent")
    rc, out, err = run([], env=env)
    expect(rc != 0, f"with the journal socket missing the daemon exited {rc}")
    expect("journal" in err.lower() and "--output json" in err,
           f"missing journal socket: the error must say so and suggest --output json: {err!r}")
    expect(len([l for l in err.splitlines() if l.strip()]) <= 3,
           f"missing journal socket: expected a short error, got: {err!r}")
    # Only new ht_ programs that no live process holds: a daemon of another
    # test running beside this one must neither fail this check (its
    # programs appear in the global list) nor hide a leak of ours.
    leaked = htlib.ht_progs_leaked(before)
    expect(not leaked, f"BPF programs left behind after the failed start (held by no process): {leaked}")


if __name__ == "__main__":
    htlib.run(test, needs_root=False)
