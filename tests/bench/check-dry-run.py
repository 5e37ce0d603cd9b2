# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/run --quick --dry-run: exits 0, plans every section, renders a report with every
section heading and no measured figure; the tools it drives answer --help / bad usage, and the
floor variant's loader reads http-tracer's tracepoints from the built BPF object."""

import os
import subprocess
import sys
import tempfile

run, loadgen, flood, floor, bystander, bpf_object = sys.argv[1:7]
failures = []


def expect(cond, msg):
    if not cond:
        failures.append(msg)
        print(f"FAIL: {msg}")


with tempfile.TemporaryDirectory() as out:
    r = subprocess.run([run, "--quick", "--dry-run", "--out", out], capture_output=True, text=True, timeout=50)
    expect(r.returncode == 0, f"bench/run --quick --dry-run exited {r.returncode}: {r.stderr[-2000:]}")
    for n in range(1, 9):
        expect(f"[{n}]" in r.stderr, f"the plan has no step for section {n}:\n{r.stderr}")
    reports = [f for f in os.listdir(out) if f.endswith(".md")]
    expect(len(reports) == 1, f"expected one report in {out}, found {reports}")
    if reports:
        with open(os.path.join(out, reports[0])) as f:
            text = f.read()
        for h in ("## 1. Overhead on a saturated server", "## 2. Completeness at fixed rates",
                  "## 3. journald's ceiling", "## 4. User-space cost per exchange",
                  "## 5. Kernel-side cost per traced syscall", "## 6. Memory", "## 7. The seed's requirements",
                  "## 8. Cost to bystanders", "floor: a counting BPF program", "÷ floor's ratio",
                  "ns/syscall above the floor", "added ÷ floor's added", "Machine: ", "dry run"):
            expect(h in text, f"report lacks '{h}'")
        expect("yes |" not in text and "**no**" not in text, "a dry run must not claim a requirement met or missed")

    expect("[8] rep 1: bystander pipe / file / tcp: none / floor / floor-raw / tracer" in r.stderr,
           f"the plan has no bystander step with every variant:\n{r.stderr}")
    expect(" / floor / floor-raw / tracer-none" in r.stderr, f"section 1 plans no floor variant:\n{r.stderr}")

# --unpinned: its own report name, and the report says nothing is pinned (the pinned one says it is).
with tempfile.TemporaryDirectory() as out:
    r = subprocess.run([run, "--quick", "--dry-run", "--unpinned", "--sections", "1", "--out", out],
                       capture_output=True, text=True, timeout=50)
    expect(r.returncode == 0, f"bench/run --dry-run --unpinned exited {r.returncode}: {r.stderr[-2000:]}")
    reports = [f for f in os.listdir(out) if f.endswith("-unpinned.md")]
    expect(len(reports) == 1, f"expected one ...-unpinned.md report in {out}, found {os.listdir(out)}")
    if reports:
        with open(os.path.join(out, reports[0])) as f:
            text = f.read()
        expect("not pinned (`--unpinned`)" in text and "pinned to CPU 0" not in text,
               "the --unpinned report does not say that nothing is pinned")

r = subprocess.run([run, "--sections", "99", "--dry-run"], capture_output=True, text=True, timeout=50)
expect(r.returncode == 2 and "unknown section 99" in r.stderr, f"a bad section is not refused: {r.returncode} {r.stderr}")

# The floor attaches where http-tracer does: every tracepoint program of the object, no fewer.
r = subprocess.run([floor, "--list", "--object", bpf_object], capture_output=True, text=True, timeout=30)
expect(r.returncode == 0, f"ht-bench-floor --list: {r.returncode} {r.stderr}")
tps = r.stdout.split()
expect("syscalls/sys_enter_read" in tps and "syscalls/sys_exit_write" in tps and "sched/sched_process_exit" in tps,
       f"ht-bench-floor --list misses tracepoints http-tracer uses: {tps}")
with open(bpf_object, "rb") as f:
    obj = f.read()
for tp in tps:
    expect(b"tracepoint/" + tp.encode() + b"\0" in obj, f"{tp} is no section of {bpf_object}")
expect(len(tps) == obj.count(b"\0tracepoint/"), f"{len(tps)} tracepoints listed, the object has "
       f"{obj.count(chr(0).encode() + b'tracepoint/')} tracepoint sections")
r = subprocess.run([floor, "--bogus"], capture_output=True, text=True, timeout=10)
expect(r.returncode == 2 and "usage" in r.stderr, f"ht-bench-floor --bogus exited {r.returncode}, expected 2")
r = subprocess.run([floor, "--list", "--object", "/nonexistent.bpf.o"], capture_output=True, text=True, timeout=10)
expect(r.returncode == 1, f"ht-bench-floor with a missing object exited {r.returncode}, expected 1")

r = subprocess.run([loadgen, "--help"], capture_output=True, text=True, timeout=10)
expect(r.returncode == 0 and "--rate" in r.stdout, f"ht-bench-loadgen --help: {r.returncode} {r.stdout}")
r = subprocess.run([loadgen, "--port", "1"], capture_output=True, text=True, timeout=10)
expect(r.returncode == 2, f"ht-bench-loadgen without --rate/--idle exited {r.returncode}, expected 2")
r = subprocess.run([flood], capture_output=True, text=True, timeout=10)
expect(r.returncode == 2 and "usage" in r.stderr, f"ht-bench-journal-flood without arguments: {r.returncode}")

r = subprocess.run([bystander, "--help"], capture_output=True, text=True, timeout=10)
expect(r.returncode == 0 and "pipe|file|tcp" in r.stdout, f"ht-bench-bystander --help: {r.returncode} {r.stdout}")
r = subprocess.run([bystander, "fifo", "1"], capture_output=True, text=True, timeout=10)
expect(r.returncode == 2, f"ht-bench-bystander with an unknown mode exited {r.returncode}, expected 2")
# No root and no BPF needed: a short run of each mode must count syscalls and time.
for mode in ("pipe", "file", "tcp"):
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([bystander, mode, "0.05", d], capture_output=True, text=True, timeout=30)
        kv = dict(t.split("=", 1) for t in r.stdout.split() if "=" in t)
        expect(r.returncode == 0 and kv.get("mode") == mode and int(kv.get("syscalls", 0)) >= 2048
               and float(kv.get("ns_per_syscall", 0)) > 0 and not os.listdir(d),
               f"ht-bench-bystander {mode}: {r.returncode} {r.stdout} {r.stderr} (left {os.listdir(d)})")

sys.exit(1 if failures else 0)
