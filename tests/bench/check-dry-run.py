# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/run --quick --dry-run: exits 0, plans every section, renders a report with every
section heading and no measured figure; the tools it drives answer --help / bad usage."""

import os
import subprocess
import sys
import tempfile

run, loadgen, flood = sys.argv[1:4]
failures = []


def expect(cond, msg):
    if not cond:
        failures.append(msg)
        print(f"FAIL: {msg}")


with tempfile.TemporaryDirectory() as out:
    r = subprocess.run([run, "--quick", "--dry-run", "--out", out], capture_output=True, text=True, timeout=50)
    expect(r.returncode == 0, f"bench/run --quick --dry-run exited {r.returncode}: {r.stderr[-2000:]}")
    for n in range(1, 8):
        expect(f"[{n}]" in r.stderr, f"the plan has no step for section {n}:\n{r.stderr}")
    reports = [f for f in os.listdir(out) if f.endswith(".md")]
    expect(len(reports) == 1, f"expected one report in {out}, found {reports}")
    if reports:
        with open(os.path.join(out, reports[0])) as f:
            text = f.read()
        for h in ("## 1. Overhead on a saturated server", "## 2. Completeness at fixed rates",
                  "## 3. journald's ceiling", "## 4. User-space cost per exchange",
                  "## 5. Kernel-side cost per traced syscall", "## 6. Memory", "## 7. The seed's requirements",
                  "Machine: ", "dry run"):
            expect(h in text, f"report lacks '{h}'")
        expect("yes |" not in text and "**no**" not in text, "a dry run must not claim a requirement met or missed")

r = subprocess.run([run, "--sections", "9", "--dry-run"], capture_output=True, text=True, timeout=50)
expect(r.returncode == 2 and "unknown section 9" in r.stderr, f"a bad section is not refused: {r.returncode} {r.stderr}")

r = subprocess.run([loadgen, "--help"], capture_output=True, text=True, timeout=10)
expect(r.returncode == 0 and "--rate" in r.stdout, f"ht-bench-loadgen --help: {r.returncode} {r.stdout}")
r = subprocess.run([loadgen, "--port", "1"], capture_output=True, text=True, timeout=10)
expect(r.returncode == 2, f"ht-bench-loadgen without --rate/--idle exited {r.returncode}, expected 2")
r = subprocess.run([flood], capture_output=True, text=True, timeout=10)
expect(r.returncode == 2 and "usage" in r.stderr, f"ht-bench-journal-flood without arguments: {r.returncode}")

sys.exit(1 if failures else 0)
