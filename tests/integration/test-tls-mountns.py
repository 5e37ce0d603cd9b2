#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A TLS server in a mount namespace of its own whose libssl is a copy
(`unshare -m` + a bind mount over the library's path, as a container image
would bring its own): the daemon, started after it, finds the copy through
/proc/PID/maps and /proc/PID/root/... and attaches it as a file of its own
(the host file's uprobes do not fire in the copy). curl's requests give
server entries from the namespaced python server, client entries from curl
(host libssl), all HTTPS, with the statuses the server returned. Then a
daemon killed with SIGKILL leaves no program behind and a restarted one
traces the namespaced server again."""

import os
import signal

import htlib
import tlslib
from htlib import expect, ensure, log

SERVER = r'''
import http.server, ssl, sys
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]

''' + tlslib.PY_SERVER_BODY


def test(ctx):
    htlib.require_tools("openssl", "unshare", "curl")
    import ssl  # noqa: F401  (maps the host's libssl into this process)
    host_lib = tlslib.libssl_of(os.getpid())
    ensure(host_lib, "fixture: python maps no libssl")
    cert, key = tlslib.make_cert(ctx)
    copy = os.path.join(ctx.tmp, "libssl-copy.so")
    with open(host_lib, "rb") as src, open(copy, "wb") as dst:
        dst.write(src.read())
    os.chmod(copy, 0o755)

    port = htlib.free_port()
    script = os.path.join(ctx.tmp, "server.py")
    with open(script, "w") as f:
        f.write(SERVER)
    server = htlib.Proc(ctx, ["unshare", "-m", "--propagation", "private", "sh", "-c",
                              f'mount --bind "$0" "$1" && exec /usr/bin/python3 "$2" "$3" "$4" "$5"',
                              copy, host_lib, script, str(port), cert, key], "tls-mountns-server")
    htlib.wait_port(port, server.popen, what="python TLS server in its own mount namespace")
    # The server maps the copy: same path, another file.
    st_host = os.stat(host_lib)
    st_srv = os.stat(f"/proc/{server.pid}/root{host_lib}")
    ensure((st_srv.st_dev, st_srv.st_ino) != (st_host.st_dev, st_host.st_ino),
           "fixture: the namespaced server's libssl is the host's file")

    daemon = htlib.Daemon(ctx).start()
    base = f"https://127.0.0.1:{port}"
    htlib.run_cmd(["curl", "-sk", "-o", "/dev/null", "-o", "/dev/null", f"{base}/ok", f"{base}/missing"])
    stats = daemon.stop()

    entries = htlib.journal_final(daemon, f"SERVER_PORT={port}")
    srv = htlib.entries_for_server(entries, port, "server")
    cli = htlib.entries_for_server(entries, port, "client")
    log(f"journal: {len(srv)} server, {len(cli)} client entries")
    expect(sorted((e.get("HTTP_TARGET"), e.get("HTTP_STATUS")) for e in srv) == [("/missing", "404"), ("/ok", "200")],
           f"server entries of the namespaced server: {[(e.get('HTTP_TARGET'), e.get('HTTP_STATUS')) for e in srv]}")
    expect(all(e.get("PROCESS_PID") == str(server.pid) for e in srv), "server entries not from the namespaced server")
    expect(sorted((e.get("HTTP_TARGET"), e.get("HTTP_STATUS")) for e in cli) == [("/missing", "404"), ("/ok", "200")],
           f"curl's client entries: {[(e.get('HTTP_TARGET'), e.get('HTTP_STATUS')) for e in cli]}")
    for e in entries:
        expect(e.get("HTTP_SCHEME") == "https" and e.get("TLS_LIBRARY") == host_lib,
               f"{e.get('MESSAGE')}: HTTP_SCHEME={e.get('HTTP_SCHEME')} TLS_LIBRARY={e.get('TLS_LIBRARY')}")
    tlslib.log_untied(daemon)

    # kill -9: the uprobes go with the killed daemon's fds, and a new daemon starts and traces.
    killed = htlib.Daemon(ctx, name="http-tracer-killed").start()
    killed.stopped = True
    killed.proc.stop(signal.SIGKILL)
    htlib.check_no_bpf_left(killed.prog_ids)
    again = htlib.Daemon(ctx, name="http-tracer-again").start()
    htlib.run_cmd(["curl", "-sk", "-o", "/dev/null", f"{base}/ok?again=1"])
    again.stop()
    got = htlib.journal_final(again, f"SERVER_PORT={port}", "HTTP_ROLE=server")
    expect([e.get("HTTP_TARGET") for e in got] == ["/ok?again=1"],
           f"after kill -9 and a restart: server entries {[e.get('HTTP_TARGET') for e in got]}")


if __name__ == "__main__":
    htlib.run(test)
