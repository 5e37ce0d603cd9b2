#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""tls.follow_new_libraries=yes: libssl copies that appear after the daemon
started are found (bounded rescan of /proc/PID/maps) and traced.

- dlopen: a python server running before the daemon, with no libssl mapped,
  imports `ssl` only after the daemon is ready; LD_LIBRARY_PATH makes that
  dlopen() load a copy of libssl.so.3 from a directory of its own.
- exec: a second python server, started after the daemon, with another copy.

Each copy is another file (the host file's uprobes do not fire in it), so an
entry from either server proves the copy was attached after start. curl's
requests give exactly the server entries the servers answered, HTTPS, with
TLS_LIBRARY naming the copy. The daemon keeps CAP_SYS_ADMIN and
CAP_SYS_PTRACE (it must, to attach later) and nothing else.

`http-tracer status` (and --json) lists the attached files (the copies
included), a libssl-named file without the symbols, and counts a process
that maps GnuTLS among the processes using TLS it cannot see."""

import json
import os
import time

import htlib
import tlslib
from htlib import expect, ensure, log

SERVER = r'''
import os, sys, time
port, cert, key, go = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
# Not before the daemon is ready: `import ssl` (http.server imports it too) dlopen()s libssl.
while go != "now" and not os.path.exists(go):
    time.sleep(0.05)
import http.server, ssl

''' + tlslib.PY_SERVER_BODY

CAP_SYS_PTRACE, CAP_SYS_ADMIN = 19, 21

# Maps what the TLS source cannot trace: GnuTLS, and a file named like libssl without its symbols.
MAPPER = r'''
import ctypes, sys, time
for path in sys.argv[1:]:
    ctypes.CDLL(path)
print("mapped", flush=True)
time.sleep(3600)
'''


def copy_libssl(ctx, host_lib, name):
    d = os.path.join(ctx.tmp, name)
    os.makedirs(d)
    dst = os.path.join(d, os.path.basename(host_lib))
    with open(host_lib, "rb") as src, open(dst, "wb") as out:
        out.write(src.read())
    os.chmod(dst, 0o755)
    return d, dst


def start_server(ctx, script, port, cert, key, libdir, go, name):
    env = dict(os.environ, LD_LIBRARY_PATH=libdir)
    return htlib.Proc(ctx, ["/usr/bin/python3", script, str(port), cert, key, go], name, env=env)


def wait_log(daemon, text, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in daemon.proc.stderr_text():
            return True
        time.sleep(0.2)
    return False


def cap_eff(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return None


def test(ctx):
    htlib.require_tools("openssl", "curl")
    import ssl  # noqa: F401  (maps the host's libssl into this process)
    host_lib = tlslib.libssl_of(os.getpid())
    ensure(host_lib, "fixture: python maps no libssl")
    cert, key = tlslib.make_cert(ctx)
    script = os.path.join(ctx.tmp, "server.py")
    with open(script, "w") as f:
        f.write(SERVER)
    dir1, copy1 = copy_libssl(ctx, host_lib, "lib-dlopen")
    dir2, copy2 = copy_libssl(ctx, host_lib, "lib-exec")

    # dlopen: running before the daemon, libssl not yet loaded.
    go = os.path.join(ctx.tmp, "go")
    port1 = htlib.free_port()
    s1 = start_server(ctx, script, port1, cert, key, dir1, go, "tls-follow-dlopen")
    time.sleep(0.5)
    ensure(s1.poll() is None and tlslib.libssl_of(s1.pid) is None,
           "fixture: the dlopen server maps libssl before it was told to")

    daemon = htlib.Daemon(ctx, env=dict(os.environ, HTTP_TRACER_TLS_FOLLOW_NEW_LIBRARIES="yes")).start()
    eff = cap_eff(daemon.pid)
    expect(eff == (1 << CAP_SYS_ADMIN) | (1 << CAP_SYS_PTRACE),
           f"daemon following new libraries: CapEff={eff:#x}, expected CAP_SYS_ADMIN and CAP_SYS_PTRACE only")
    expect("now tracing" not in daemon.proc.stderr_text(), "a library was followed before any appeared")

    with open(go, "w"):
        pass
    htlib.wait_port(port1, s1.popen, what="dlopen server")
    ensure(tlslib.libssl_of(s1.pid) == copy1, f"fixture: the dlopen server maps {tlslib.libssl_of(s1.pid)}")

    port2 = htlib.free_port()
    s2 = start_server(ctx, script, port2, cert, key, dir2, "now", "tls-follow-exec")
    htlib.wait_port(port2, s2.popen, what="exec server")
    ensure(tlslib.libssl_of(s2.pid) == copy2, f"fixture: the exec server maps {tlslib.libssl_of(s2.pid)}")

    for path in (copy1, copy2):
        expect(wait_log(daemon, f"now tracing {path}"), f"the daemon did not follow {path}: stderr tail\n"
               f"{daemon.proc.stderr_text()[-2000:]}")

    # Status: the followed copies, a file without the symbols, a GnuTLS user. A process started
    # now is counted when the rescan's round over /proc ends (every few seconds here).
    zlib = "/usr/lib/x86_64-linux-gnu/libz.so.1"
    gnutls = "/usr/lib/x86_64-linux-gnu/libgnutls.so.30"
    if os.path.exists(zlib) and os.path.exists(gnutls):
        nosym = os.path.join(ctx.tmp, "libssl.so.3-nosym")
        with open(zlib, "rb") as src, open(nosym, "wb") as out:
            out.write(src.read())
        mapper_py = os.path.join(ctx.tmp, "mapper.py")
        with open(mapper_py, "w") as f:
            f.write(MAPPER)
        mapper = htlib.Proc(ctx, ["/usr/bin/python3", mapper_py, nosym, gnutls], "tls-follow-mapper")
        last = {}

        def tls_status():
            r = htlib.run_cmd(["nsenter", "-t", str(daemon.pid), "-m", htlib.HTTP_TRACER, "status", "--json"])
            last["tls"] = json.loads(r.stdout)["status"]["tls"]
            t = last["tls"]
            return nosym in t["without_symbols"] and t["unseen_processes"]["gnutls"] >= 1
        deadline = time.monotonic() + 90
        while not tls_status() and time.monotonic() < deadline:
            time.sleep(0.5)
        t = last["tls"]
        log(f"status.tls: {t}")
        paths = [lib["path"] for lib in t["libraries"]]
        expect(t["enabled"] is True and copy1 in paths and copy2 in paths and host_lib in paths
               and t["libraries_attached"] == len(paths),
               f"status.tls.libraries={paths}, expected {host_lib}, {copy1}, {copy2} among them")
        # 6 where the internal read/write functions are probed (docs/tls.md), 10 on the exported ones
        expect(all(lib["probes"] in (6, 10) for lib in t["libraries"] if lib["path"] in (copy1, copy2)),
               f"probes per followed copy: {t['libraries']}")
        expect(nosym in t["without_symbols"] and nosym not in paths,
               f"status.tls.without_symbols={t['without_symbols']}, expected {nosym}")
        expect(t["unseen_processes"]["gnutls"] >= 1 and t["processes_scanned"] > 0,
               f"status.tls.unseen_processes={t['unseen_processes']} of {t['processes_scanned']}")
        r = htlib.run_cmd(["nsenter", "-t", str(daemon.pid), "-m", htlib.HTTP_TRACER, "status"])
        text = r.stdout.decode()
        expect(copy1 in text and "without the SSL_* symbols" in text and "gnutls" in text,
               f"status text lacks the TLS lines:\n{text}")
        mapper.stop()
    else:
        log(f"no {zlib} or {gnutls}: status's unseen and without-symbols parts not checked")

    for port in (port1, port2):
        base = f"https://127.0.0.1:{port}"
        htlib.run_cmd(["curl", "-sk", "-o", "/dev/null", "-o", "/dev/null", f"{base}/ok", f"{base}/missing"])
    daemon.stop()

    for port, server, lib in ((port1, s1, copy1), (port2, s2, copy2)):
        entries = htlib.journal_final(daemon, f"SERVER_PORT={port}", "HTTP_ROLE=server")
        got = sorted((e.get("HTTP_TARGET"), e.get("HTTP_STATUS")) for e in entries)
        log(f"port {port}: server entries {got}")
        expect(got == [("/missing", "404"), ("/ok", "200")], f"server entries behind {lib}: {got}")
        for e in entries:
            expect(e.get("HTTP_SCHEME") == "https" and e.get("TLS_LIBRARY") == lib
                   and e.get("PROCESS_PID") == str(server.pid),
                   f"{e.get('MESSAGE')}: HTTP_SCHEME={e.get('HTTP_SCHEME')} TLS_LIBRARY={e.get('TLS_LIBRARY')} "
                   f"PROCESS_PID={e.get('PROCESS_PID')}")
    tlslib.log_untied(daemon)


if __name__ == "__main__":
    htlib.run(test)
