#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The configuration commands of the real binary (docs/configuration.md):

- --cat-config: the main file, then drop-ins from the four directories in
  file-name order whatever the directory; a name in /etc hides the same
  name in /run, /usr/local/lib, /usr/lib; a symlink to /dev/null or an
  empty file masks; each value's source FILE:LINE:COLUMN; -s beats them
  all. Its output is YAML that, fed back with --config, gives the same
  values.
- --generate-config: the commented default file changes nothing; with
  every setting uncommented it still validates, and every value equals the
  built-in default.
- --validate-config: exit 0 and "Configuration is valid." for a good set;
  for bad ones each problem as FILE:LINE:COLUMN: message, exactly where
  the bad value is, in the main file and in a drop-in, and a non-zero exit.

The directories are the fixed ones under /etc, /run, /usr/local/lib and
/usr/lib, so each command runs in a mount namespace of its own with
private copies bind-mounted there (htlib_extra.PrivateConfigDirs): the
host's configuration is neither read nor touched."""

import os
import re

import htlib
import htlib_extra
from htlib import expect, ensure, log

VALUE_RE = re.compile(r"^(\s*)([a-z_]+): (.*?)  # (.*)$")


def parse_cat(text):
    """--cat-config output as {dotted.key: (value text, source)}."""
    out, stack = {}, []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        m = VALUE_RE.match(line)
        name = (m[2] if m else line.strip().rstrip(":"))
        stack = [s for s in stack if s[0] < indent]
        if m:
            out[".".join([s[1] for s in stack] + [name])] = (m[3], m[4])
        else:
            stack.append((indent, name))
    return out


def cat(dirs, *args):
    r = dirs.run(*args, "--cat-config")
    ensure(r.returncode == 0, f"--cat-config {' '.join(args)} exited {r.returncode}: "
                              f"{r.stderr.decode('utf-8', 'replace')[-1000:]}")
    return r.stdout.decode(), parse_cat(r.stdout.decode())


def expect_value(got, key, value, source, what):
    v = got.get(key)
    expect(v is not None and v[0] == value and v[1] == source,
           f"{what}: {key} = {v}, expected ({value!r}, {source!r})")


def check_dropin_order(ctx):
    dirs = htlib_extra.PrivateConfigDirs(ctx, "order")
    etc, run, ulocal, ulib = htlib_extra.CONFIG_DIRS
    main = os.path.join(ctx.tmp, "main.yaml")
    with open(main, "w") as f:
        f.write("log:\n  level: err\ncapture:\n  wakeup_delay: 2ms\nlimits:\n  fields_max: 100\n")
    # File-name order across directories: 10 (/etc) before 20 (/usr/lib).
    dirs.dropin(etc, "10-level.yaml", "log:\n  level: warning\n")
    p20 = dirs.dropin(ulib, "20-level.yaml", "log:\n  level: notice\n")
    # The same name: /etc hides /run, /run hides /usr/local/lib and /usr/lib.
    dirs.dropin(ulib, "30-same.yaml", "capture:\n  payload_size: 1KiB\n")
    dirs.dropin(ulocal, "30-same.yaml", "capture:\n  payload_size: 2KiB\n")
    p30 = dirs.dropin(run, "30-same.yaml", "\ncapture:\n    payload_size: 3KiB\n")
    dirs.dropin(ulib, "31-same.yaml", "capture:\n  connections_max: 2048\n")
    p31 = dirs.dropin(ulocal, "31-same.yaml", "capture:\n  connections_max: 4096\n")
    dirs.dropin(run, "32-same.yaml", "limits:\n  pipeline_max: 7\n")
    p32 = dirs.dropin(etc, "32-same.yaml", "limits:\n  pipeline_max: 9\n")
    # Masks: a symlink to /dev/null and an empty file in /etc.
    dirs.dropin(ulib, "40-masked.yaml", "limits:\n  fields_max: 50\n")
    dirs.dropin(etc, "40-masked.yaml", link="/dev/null")
    dirs.dropin(run, "41-masked.yaml", "limits:\n  head_max: 8KiB\n")
    dirs.dropin(etc, "41-masked.yaml", "")
    # Not *.yaml: ignored.
    dirs.dropin(etc, "50-ignored.conf", "log:\n  level: debug\n")
    # Appending to a list across layers.
    p60 = dirs.dropin(ulib, "60-list.yaml", "filter:\n  exclude:\n    comms: [aa]\n")
    p61 = dirs.dropin(etc, "61-list.yaml", "filter:\n  exclude:\n    comms+: [bb]\n")

    text, got = cat(dirs, "--config", main)
    what = "drop-in order"
    expect_value(got, "log.level", "notice", f"{p20}:2:3", what)
    expect_value(got, "capture.wakeup_delay", "2ms", f"{main}:4:3", what)
    expect_value(got, "capture.payload_size", "3KiB", f"{p30}:3:5", what)
    expect_value(got, "capture.connections_max", "4096", f"{p31}:2:3", what)
    expect_value(got, "limits.pipeline_max", "9", f"{p32}:2:3", what)
    expect_value(got, "limits.fields_max", "100", f"{main}:6:3", what + " (masked by a /dev/null symlink)")
    expect_value(got, "limits.head_max", "64KiB", "default", what + " (masked by an empty file)")
    expect(got.get("filter.exclude.comms", ("",))[0] == "[aa, bb]",
           f"{what}: filter.exclude.comms = {got.get('filter.exclude.comms')}, expected [aa, bb] "
           f"({p60} then comms+ in {p61})")
    # The header lists the files merged, in the order they were applied.
    sources, masked, section = [], [], None
    for l in text.splitlines():
        if l.startswith("#   "):
            (sources if section == "files" else masked if section == "masked" else []).append(l[1:].strip())
        elif l.startswith("# "):
            section = "files" if "applied" in l else "masked" if "Masked" in l else None
    want = [main, os.path.join(etc, "http-tracer.yaml.d/10-level.yaml"), p20, p30, p31, p32, p60, p61]
    expect(sources == want, f"{what}: files applied in the header {sources}, expected {want}")
    want_masked = {os.path.join(etc, "http-tracer.yaml.d", n) for n in ("40-masked.yaml", "41-masked.yaml")}
    expect(set(masked) == want_masked, f"{what}: masked drop-ins in the header {masked}, expected {want_masked}")
    # The command line beats every file.
    _, got = cat(dirs, "--config", main, "-s", "log.level=info", "-s", "limits.pipeline_max=11")
    expect(got.get("log.level", ("",))[0] == "info" and got.get("limits.pipeline_max", ("",))[0] == "11",
           f"{what}: -s did not override the drop-ins: {got.get('log.level')} {got.get('limits.pipeline_max')}")

    # --cat-config prints YAML the daemon reads back to the same values.
    again = os.path.join(ctx.tmp, "cat.yaml")
    with open(again, "w") as f:
        f.write(text)
    empty = htlib_extra.PrivateConfigDirs(ctx, "empty")
    _, back = cat(empty, "--config", again)
    diff = {k: (got_v[0], back.get(k, ("<missing>",))[0]) for k, got_v in parse_cat(text).items()
            if back.get(k, ("<missing>",))[0] != got_v[0]}
    expect(not diff, f"--cat-config output read back with --config gives other values: {diff}")
    expect(len(back) > 50, f"--cat-config read back: only {len(back)} values parsed")
    log(f"drop-in order: {len(got)} values, sources {len(sources)} files")


def check_generate(ctx):
    dirs = htlib_extra.PrivateConfigDirs(ctx, "generate")
    r = dirs.run("--generate-config")
    ensure(r.returncode == 0, f"--generate-config exited {r.returncode}")
    gen = r.stdout.decode()
    path = os.path.join(ctx.tmp, "generated.yaml")
    with open(path, "w") as f:
        f.write(gen)
    r = dirs.run("--config", path, "--validate-config")
    expect(r.returncode == 0, f"--validate-config of --generate-config's file exited {r.returncode}: "
                              f"{r.stdout.decode()[-1000:]}{r.stderr.decode()[-1000:]}")
    _, defaults = cat(dirs)
    expect(defaults and all(v[1] == "default" for v in defaults.values()),
           "--cat-config without files: values that are not defaults: "
           f"{[(k, v) for k, v in defaults.items() if v[1] != 'default'][:5]}")
    _, commented = cat(dirs, "--config", path)
    expect(all(v[1] == "default" for v in commented.values()),
           f"the generated file (all commented out) changed values: "
           f"{[(k, v) for k, v in commented.items() if v[1] != 'default'][:5]}")
    # Uncomment every setting: still valid, every value the default, now from the file.
    lines = gen.splitlines()
    setting = re.compile(r"^(\s*)#([a-z_]+): ")
    n = 0
    for i, l in enumerate(lines):
        m = setting.match(l)
        if m:
            lines[i] = m[1] + l[len(m[1]) + 1:]
            n += 1
    uncommented = os.path.join(ctx.tmp, "uncommented.yaml")
    with open(uncommented, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = dirs.run("--config", uncommented, "--validate-config")
    expect(r.returncode == 0, f"--generate-config with every setting uncommented does not validate "
                              f"(exit {r.returncode}): {r.stderr.decode()[-1500:]}{r.stdout.decode()[-500:]}")
    _, vals = cat(dirs, "--config", uncommented)
    expect(n == len(defaults), f"--generate-config names {n} settings, --cat-config {len(defaults)}")
    for k, (v, src) in sorted(defaults.items()):
        got = vals.get(k)
        expect(got is not None and got[0] == v and got[1].startswith(uncommented + ":"),
               f"generated file, uncommented: {k} = {got}, expected the default {v!r} from {uncommented}")
    log(f"--generate-config: {n} settings, all defaults, valid when uncommented")


def check_validate(ctx):
    dirs = htlib_extra.PrivateConfigDirs(ctx, "validate")
    etc = htlib_extra.CONFIG_DIRS[0]
    main = os.path.join(ctx.tmp, "bad-main.yaml")
    with open(main, "w") as f:
        f.write("log:\n"
                "  level: loud\n"                 # 2:10
                "capture:\n"
                "  payload_size: 12\n"            # 3:17 below the minimum
                "  wakeup_dellay: 5ms\n"          # 5:3 unknown key, with a suggestion
                "sampling:\n"
                "  rate: 150%\n")                 # 7:9
    drop = dirs.dropin(etc, "50-bad.yaml",
                       "# a comment first\n"
                       "filter:\n"
                       "  include:\n"
                       "    local_ports: [80, 70000]\n")   # 4:23
    r = dirs.run("--config", main, "--validate-config")
    out = (r.stdout + r.stderr).decode("utf-8", "replace")
    expect(r.returncode != 0, f"--validate-config of a bad configuration exited 0: {out}")
    want = [(main, 2, 10, "loud"), (main, 4, 17, "payload_size"), (main, 5, 3, "wakeup_dellay"),
            (main, 7, 9, "150%"), (drop, 4, 23, "70000")]
    lines = [l for l in out.splitlines() if re.match(r"^/\S+:\d+:\d+: ", l)]
    for path, line, col, word in want:
        hit = [l for l in lines if l.startswith(f"{path}:{line}:{col}: ")]
        expect(len(hit) == 1 and word in hit[0],
               f"--validate-config: expected one '{path}:{line}:{col}: ...{word}...' line, got {hit}; "
               f"all output:\n{out}")
    expect(len(lines) == len(want), f"--validate-config printed {len(lines)} FILE:LINE:COLUMN lines, "
                                    f"expected {len(want)}:\n{out}")
    expect("did you mean 'wakeup_delay'" in out, f"--validate-config suggests no key for wakeup_dellay:\n{out}")
    expect("nothing was started" in out, f"--validate-config does not say nothing was started:\n{out}")
    # A bad -s value is named as coming from the command line.
    r = dirs.run("-s", "capture.payload_size=12", "--validate-config")
    out = (r.stdout + r.stderr).decode("utf-8", "replace")
    expect(r.returncode != 0 and "command line: capture.payload_size: '12' is out of range" in out,
           f"--validate-config -s capture.payload_size=12: exit {r.returncode}, {out}")
    # A good configuration is valid.
    good = os.path.join(ctx.tmp, "good.yaml")
    with open(good, "w") as f:
        f.write("log:\n  level: debug\nsampling:\n  rules:\n    - {path: /x, rate: 0.5}\n")
    os.unlink(dirs.path(etc, "http-tracer.yaml.d/50-bad.yaml"))
    r = dirs.run("--config", good, "--validate-config")
    expect(r.returncode == 0 and "Configuration is valid." in r.stdout.decode() + r.stderr.decode(),
           f"--validate-config of a good file: exit {r.returncode}, {r.stdout.decode()}{r.stderr.decode()}")
    # A --config that does not exist is an error naming it.
    r = dirs.run("--config", os.path.join(ctx.tmp, "nope.yaml"), "--validate-config")
    expect(r.returncode != 0 and "nope.yaml" in r.stderr.decode() + r.stdout.decode(),
           f"--config of a missing file: exit {r.returncode}, {r.stderr.decode()}")
    log("--validate-config: every problem at its FILE:LINE:COLUMN")


def test(ctx):
    htlib.require_tools("unshare", "mount")
    check_dropin_order(ctx)
    check_generate(ctx)
    check_validate(ctx)


if __name__ == "__main__":
    htlib.run(test)
