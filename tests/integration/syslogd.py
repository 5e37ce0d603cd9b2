# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private rsyslogd for the output tests (Python 3 stdlib only).

Started by the test with its own config, work directory and pid file, on
free loopback ports and a unix socket in the test's temp dir; it never
touches /dev/log (SysSock.Use off) or the system's rsyslog. Each input has
its own ruleset that runs mmpstrucdata (RFC 5424 STRUCTURED-DATA into JSON)
and writes one JSON object per message to <name>.json:
  {"rfc5424-sd": {"http@32473": {...}}, "msgid", "appname", "procid",
   "pri", "hostname", "msg"}
"""

import contextlib
import json
import os
import signal
import time

import htlib
from htlib import Failure

RSYSLOGD = "/usr/sbin/rsyslogd"


class Rsyslog:
    def __init__(self, ctx, name="rsyslog"):
        self.ctx = ctx
        self.dir = os.path.join(ctx.tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.udp_port = htlib.free_port()
        self.tcp_port = htlib.free_port()
        self.unix_path = os.path.join(self.dir, "log.sock")
        self.pid_file = os.path.join(self.dir, "rsyslogd.pid")
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        self.proc = None
        rules = []
        for inp in ("udp", "tcp", "unix"):
            out = self.out_path(inp)
            rules.append(f"""
ruleset(name="{inp}") {{
  action(type="mmpstrucdata")
  set $!msgid = $msgid;
  set $!appname = $app-name;
  set $!procid = $procid;
  set $!pri = $pri;
  set $!hostname = $hostname;
  set $!msg = $msg;
  action(type="omfile" file="{out}" template="htjson")
}}""")
        with open(self.conf, "w") as f:
            f.write(f"""
global(workDirectory="{self.dir}" maxMessageSize="64k")
module(load="imuxsock" SysSock.Use="off")
module(load="imudp")
module(load="imtcp")
module(load="mmpstrucdata")
template(name="htjson" type="string" string="%$!%\\n")
{''.join(rules)}
input(type="imudp" address="127.0.0.1" port="{self.udp_port}" ruleset="udp" rcvbufSize="16m")
input(type="imtcp" address="127.0.0.1" port="{self.tcp_port}" ruleset="tcp")
input(type="imuxsock" Socket="{self.unix_path}" UseSpecialParser="off" ruleset="unix")
""")
        r = htlib.run_cmd([RSYSLOGD, "-N1", "-f", self.conf], check=False)
        if r.returncode != 0:
            raise Failure(f"rsyslog config check failed: {r.stderr.decode()[-2000:]}")

    def out_path(self, inp):
        return os.path.join(self.dir, f"{inp}.json")

    def target(self, inp):
        return {"udp": f"udp://127.0.0.1:{self.udp_port}",
                "tcp": f"tcp://127.0.0.1:{self.tcp_port}",
                "unix": self.unix_path}[inp]

    def start(self):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.pid_file)
        self.proc = htlib.Proc(self.ctx, [RSYSLOGD, "-n", "-f", self.conf, "-i", self.pid_file], "rsyslogd")
        htlib.wait_port(self.tcp_port, self.proc.popen, what="rsyslogd")
        deadline = time.monotonic() + 10
        while not os.path.exists(self.unix_path):
            if time.monotonic() > deadline:
                raise Failure("rsyslogd did not create its unix socket")
            time.sleep(0.05)
        return self

    def kill(self):
        """SIGKILL, as a crash would: no goodbye on the connections."""
        self.proc.stop(signal.SIGKILL)

    def messages(self, inp):
        out = []
        try:
            with open(self.out_path(inp), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return out
        # rsyslog may be in the middle of writing the last line: only whole lines count.
        for line in data.split(b"\n")[:-1]:
            if line.strip():
                out.append(json.loads(line))
        return out

    def wait_messages(self, inp, pred, expected, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            got = [m for m in self.messages(inp) if pred(m)]
            if len(got) >= expected or time.monotonic() > deadline:
                return got
            time.sleep(0.1)


def sd(msg):
    """The http@32473 parameters of a message, as rsyslog's mmpstrucdata parsed them."""
    return msg.get("rfc5424-sd", {}).get("http@32473", {})
