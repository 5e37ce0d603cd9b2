#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Start-up diagnostics (docs/operating.md, the checks in
src/capture/bpf-tracer.c): when the kernel side cannot work, the daemon
says why in one clear line, exits non-zero, and leaves no BPF program.

Each case runs the real binary in a mount namespace of its own (with
private configuration directories, so a real service's control socket is
never touched) where the test breaks one thing; the host is untouched:

- tracefs unmounted (and debugfs, whose tracing/ libbpf would use);
- BTF missing (a tmpfs over /sys/kernel/btf), empty, or not BTF (4 KiB of
  random bytes bind-mounted over /sys/kernel/btf/vmlinux), and unreadable
  (mode 0000 for a root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH);
- privileges short: root without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN
  (setpriv drops them from the bounding set), and an unprivileged user.
"""

import os

import htlib
import htlib_extra
from htlib import expect, ensure, log

SETPRIV = "setpriv"


def case(ctx, dirs, name, want, pre="", priv=(), forbid=("Failed to load BPF programs",)):
    """Run the daemon broken as `pre`/`priv` say; expect exit != 0 and one error line holding `want`."""
    before = {i for i, n in htlib.bpf_progs().items() if n.startswith("ht_")}
    args = ["-o", "none"]
    if priv:
        r = dirs.run(*priv, os.path.abspath(htlib.HTTP_TRACER), *args, exe=SETPRIV, pre=pre, timeout=120)
    else:
        r = dirs.run(*args, pre=pre, timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    lines = [l for l in err.splitlines() if l.strip()]
    log(f"{name}: exit {r.returncode}: {lines}")
    expect(r.returncode not in (0, 99), f"{name}: exit status {r.returncode}, expected a failure; stderr:\n{err}")
    expect(len(lines) == 1, f"{name}: {len(lines)} lines on stderr, expected one clear one:\n{err}")
    for w in want:
        expect(w in err, f"{name}: stderr does not say {w!r}:\n{err}")
    for f in forbid:
        expect(f not in err, f"{name}: stderr says {f!r}, not what is wrong:\n{err}")
    leaked = htlib.ht_progs_leaked(before)
    expect(not leaked, f"{name}: BPF programs left behind (held by no process): {leaked}")


def test(ctx):
    htlib.require_tools("unshare", "mount", SETPRIV)
    ensure(os.path.exists("/sys/kernel/btf/vmlinux"), "this kernel has no /sys/kernel/btf/vmlinux to break")
    dirs = htlib_extra.PrivateConfigDirs(ctx, "diag")
    # The control: in the same kind of namespace with nothing broken, it starts (READY=1) and stops cleanly.
    htlib_extra.PrivateConfigDaemon(ctx, dirs, ["-o", "none"], name="diag-control").start().stop()

    case(ctx, dirs, "tracefs unmounted",
         ["tracefs is not mounted", "mount -t tracefs nodev /sys/kernel/tracing"],
         pre="{ umount -l /sys/kernel/debug 2>/dev/null; umount -l /sys/kernel/tracing 2>/dev/null; "
             "! test -e /sys/kernel/tracing/events; }")
    case(ctx, dirs, "BTF missing",
         ["This kernel has no BTF", "/sys/kernel/btf/vmlinux is missing", "CONFIG_DEBUG_INFO_BTF=y"],
         pre="mount -t tmpfs tmpfs /sys/kernel/btf")
    empty = os.path.join(ctx.tmp, "empty-btf")
    open(empty, "w").close()
    case(ctx, dirs, "BTF empty", ["/sys/kernel/btf/vmlinux is not valid BTF", "CONFIG_DEBUG_INFO_BTF=y"],
         pre=f"mount --bind {empty} /sys/kernel/btf/vmlinux")
    garbage = os.path.join(ctx.tmp, "garbage-btf")
    with open(garbage, "wb") as f:
        f.write(os.urandom(4096))
    case(ctx, dirs, "BTF not BTF", ["/sys/kernel/btf/vmlinux is not valid BTF"],
         pre=f"mount --bind {garbage} /sys/kernel/btf/vmlinux")
    locked = os.path.join(ctx.tmp, "locked-btf")
    with open("/sys/kernel/btf/vmlinux", "rb") as src, open(locked, "wb") as dst:
        dst.write(src.read())
    os.chmod(locked, 0)
    case(ctx, dirs, "BTF unreadable", ["Cannot read /sys/kernel/btf/vmlinux: Permission denied"],
         pre=f"mount --bind {locked} /sys/kernel/btf/vmlinux",
         priv=["--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"])
    case(ctx, dirs, "no CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN",
         ["Loading BPF programs was refused", "Operation not permitted", "CAP_BPF and CAP_PERFMON"],
         priv=["--inh-caps=-all", "--bounding-set=-bpf,-perfmon,-sys_admin"])
    case(ctx, dirs, "unprivileged user",
         ["Permission denied", "Run http-tracer as root"],
         priv=["--reuid=65534", "--regid=65534", "--clear-groups"])


if __name__ == "__main__":
    htlib.run(test)
