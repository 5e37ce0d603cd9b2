#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Under systemd each drop warning is in the journal once (issue 15 item 14).

Under systemd the daemon's stderr is a stream to journald, and systemd says
so in $JOURNAL_STREAM (stderr's device:inode). A drop warning went out both
as a stderr line and as the structured entry (MESSAGE_ID 5178c989...), so
`journalctl -u http-tracer` showed each one twice. Now, when stderr is the
journal and the journal output is on, only the structured entry is written.

Reproduced with real parts: the daemon runs under systemd-cat (a real
journald stream on stderr, as a service has) with JOURNAL_STREAM set the
way systemd sets it, a ring-buffer overflow is forced (64 KiB ring, daemon
SIGSTOPped during 40 exchanges of 64 KiB, as test-ringbuf-drops.py), and
journald is asked what the daemon's pid wrote: the structured warnings,
and no stdout-transport copy of them. The same run without JOURNAL_STREAM
(a terminal, or a stream systemd did not announce) keeps the stderr line:
that proves the check can fail.
"""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htlib  # noqa: E402
import htlib_extra as X  # noqa: E402
from htlib import expect, log  # noqa: E402

BURST = 40
BODY = 65536
TEXT = "records dropped in the kernel since the last report"


class StreamDaemon(htlib.Daemon):
    """The daemon with stderr on a journald stream (systemd-cat), JOURNAL_STREAM set or not."""

    def __init__(self, ctx, args, announce):
        super().__init__(ctx, args, name="http-tracer-stream" if announce else "http-tracer-plain")
        self.announce = announce

    def start(self):
        wrapper = os.path.join(self.ctx.tmp, f"{self.name}.sh")
        export = 'export JOURNAL_STREAM="$(stat -L -c %d:%i /proc/self/fd/2)"; ' if self.announce else ""
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\n"
                    "exec systemd-cat -t http-tracer --level-prefix=true /bin/sh -c "
                    f"'{export}exec \"$0\" \"$@\"' '{htlib.HTTP_TRACER}' \"$@\"\n")
        os.chmod(wrapper, 0o755)
        real = htlib.HTTP_TRACER
        htlib.HTTP_TRACER = wrapper
        try:
            return super().start()
        finally:
            htlib.HTTP_TRACER = real

    def stop(self, timeout=120):
        # The Statistics line went to the journal, not to a file: only the exit is checked here.
        if self.stopped:
            return
        self.stopped = True
        self.proc.popen.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.stop(signal.SIGKILL)
            raise htlib.Failure(f"daemon did not exit within {timeout}s of SIGTERM")
        expect(rc == 0, f"daemon exit status {rc} after SIGTERM")
        htlib.check_no_bpf_left(self.prog_ids)


def exchange(port, target):
    with X.client(port) as c:
        c.sendall(X.request(target))
        buf = b""
        while b"\r\n\r\n" not in buf or len(buf.partition(b"\r\n\r\n")[2]) < BODY:
            b = c.recv(65536)
            if not b:
                break
            buf += b


def stream_lines(pid):
    """What the daemon wrote on its stderr stream, as journald stored it."""
    r = htlib.run_cmd(["journalctl", "-o", "cat", "--no-pager", f"_PID={pid}", "_TRANSPORT=stdout"], check=False)
    return r.stdout.decode("utf-8", "replace").splitlines()


def overflow(ctx, srv, announce):
    d = StreamDaemon(ctx, ["-s", "capture.ring_buffer_size=64KiB",
                           "-s", f"filter.include.local_ports={srv.port}"], announce).start()
    os.kill(d.pid, signal.SIGSTOP)
    try:
        for i in range(BURST):
            exchange(srv.port, f"/eat/{int(announce)}/{i}?size={BODY}")
    finally:
        os.kill(d.pid, signal.SIGCONT)
    X.poll(lambda: htlib.journal_query(d.pid, f"MESSAGE_ID={X.MID_DROPS}"), "a drop warning after the overflow")
    d.stop()
    structured = htlib.journal_query(d.pid, f"MESSAGE_ID={X.MID_DROPS}")
    # The last lines ("Statistics: ...") are in the journal once the stream is closed.
    lines = X.poll(lambda: [l for l in stream_lines(d.pid) if l.startswith("Statistics:")] and stream_lines(d.pid),
                   "the daemon's stderr stream in the journal")
    copies = [l for l in lines if TEXT in l]
    log(f"JOURNAL_STREAM {'set' if announce else 'unset'}: {len(structured)} structured drop warnings, "
        f"{len(copies)} stderr copies, {len(lines)} stderr lines")
    expect(structured, "no structured drop warning")
    return structured, copies


def test(ctx):
    htlib.require_tools("systemd-cat")
    srv = X.RawServer(ctx)

    structured, copies = overflow(ctx, srv, announce=True)
    expect(not copies, f"with JOURNAL_STREAM set, the drop warning is also on the stderr stream: {copies}")

    structured, copies = overflow(ctx, srv, announce=False)
    expect(len(copies) >= 1, "without JOURNAL_STREAM (a terminal), the drop warning should be on stderr too")


if __name__ == "__main__":
    htlib.run(test)
