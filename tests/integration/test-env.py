#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""HTTP_TRACER_<SECTION>_<KEY> environment overrides, end to end
(docs/configuration.md "Where settings come from", layer 4).

The same nginx traffic is traced twice: once with a plain environment
(the defaults show), once with variables that each visibly change the
entries in the journal -- a list (filter.exclude.methods), sampling rules
in their PATTERN=RATE form, a nested key (fields.priority.2xx), a boolean
(fields.referer), a header list (fields.request_headers) and a string
(redaction.mask, over a --config file's value: the environment beats the
file). A variable the daemon does not know is warned about and ignored,
and -s on the command line beats the environment. Every run is restricted
(filter.include.paths, on the command line) to a random path prefix, so
the counts are exact on a busy host; they are read after the stopped
daemon's final entry is in the journal."""

import os
import secrets

import htlib
import htlib_extra
from htlib import expect, ensure, log

MID_COMPLETE = htlib_extra.MID_COMPLETE


def traffic(port, prefix):
    """5 GETs (200), one 404, 2 POSTs, 3 GETs under /drop; one keep-alive connection."""
    reqs = ([("GET", f"{prefix}/a?token=s3cret", ("Referer: http://r.example/x", "X-Env-Test: yes"))] * 5
            + [("GET", f"{prefix}/missing", ())]
            + [("POST", f"{prefix}/a", ())] * 2
            + [("GET", f"{prefix}/drop/x", ())] * 3)
    with htlib.connect(port) as c:
        for method, target, headers in reqs:
            h = "".join(f"{x}\r\n" for x in headers)
            c.sendall(f"{method} {target} HTTP/1.1\r\nHost: t\r\n{h}Content-Length: 0\r\n\r\n".encode())
            htlib.read_response(c)
    return len(reqs)


def clean_env():
    """This environment without any HTTP_TRACER_* variable (the harness's HTTP_TRACER stays)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("HTTP_TRACER_")}


def run_once(ctx, nginx, prefix, name, env, args=()):
    daemon = htlib.Daemon(ctx, ["-s", f"filter.include.paths={prefix}/"] + list(args),
                          name=name, env=env).start()
    n = traffic(nginx.port, prefix)
    htlib.wait_log_lines(nginx, len(nginx.log_lines()) + 0)
    daemon.stop()
    expect(daemon.stat("entries_dropped") == 0, f"{name}: entries_dropped={daemon.stat('entries_dropped')}")
    # Entries made at the stop (this traffic's, flushed after the event loop ended) once
    # counted an output error each while all were delivered.
    expect(daemon.stat("output_errors") == 0, f"{name}: output_errors={daemon.stat('output_errors')} "
                                              "with nothing dropped")
    got = htlib.journal_final(daemon, f"SERVER_PORT={nginx.port}", f"MESSAGE_ID={MID_COMPLETE}",
                              "HTTP_ROLE=server")
    return daemon, got, n


def test(ctx):
    htlib.require_tools("nginx")
    prefix = "/env-" + secrets.token_hex(4)
    nginx = htlib.Nginx(ctx, extra_server=f'location {prefix}/ {{ return 200 "ok\\n"; }} '
                                          f'location = {prefix}/missing {{ return 404; }}')

    # Without the variables: the defaults.
    _, base, n = run_once(ctx, nginx, prefix, "plain", clean_env())
    expect(len(base) == n, f"plain: {len(base)} server entries, expected all {n}")
    ok = [e for e in base if e.get("HTTP_STATUS") == "200" and e.get("HTTP_METHOD") == "GET"]
    expect(len(ok) == 8 and all(e.get("PRIORITY") == "6" for e in ok),
           f"plain: 200 GETs {len(ok)} with priorities {sorted({e.get('PRIORITY') for e in ok})}, expected 8 at 6")
    sec = [e for e in base if "token=" in e.get("HTTP_TARGET", "")]
    expect(sec and all(e.get("HTTP_TARGET") == f"{prefix}/a?token=***" for e in sec),
           f"plain: targets {[e.get('HTTP_TARGET') for e in sec][:2]}, expected the default mask ***")
    expect(not any("HTTP_REFERER" in e or "HTTP_REQUEST_HEADER_X_ENV_TEST" in e for e in base),
           "plain: HTTP_REFERER or HTTP_REQUEST_HEADER_X_ENV_TEST without being asked for")

    # With them.
    conf = os.path.join(ctx.tmp, "env-test.yaml")
    with open(conf, "w") as f:
        f.write('redaction:\n  mask: "FILEMASK"\nfields:\n  priority:\n    4xx: warning\n')
    env = clean_env()
    env.update({
        "HTTP_TRACER_FILTER_EXCLUDE_METHODS": "POST,DELETE",
        "HTTP_TRACER_SAMPLING_RULES": f"{prefix}/drop=0,{prefix}/=1",
        "HTTP_TRACER_FIELDS_PRIORITY_2XX": "err",
        "HTTP_TRACER_FIELDS_PRIORITY_4XX": "alert",        # -s below says crit
        "HTTP_TRACER_FIELDS_REFERER": "yes",
        "HTTP_TRACER_FIELDS_REQUEST_HEADERS": "X-Env-Test",
        "HTTP_TRACER_REDACTION_MASK": "ENVMASK",           # the file says FILEMASK
        "HTTP_TRACER_NO_SUCH_SETTING": "1",
    })
    daemon, got, n = run_once(ctx, nginx, prefix, "env", env,
                              ["--config", conf, "-s", "fields.priority.4xx=crit"])
    err = daemon.proc.stderr_text()
    expect("HTTP_TRACER_NO_SUCH_SETTING" in err and "ignoring" in err,
           f"env: no warning naming the unknown HTTP_TRACER_NO_SUCH_SETTING; stderr:\n{err[-2000:]}")
    methods = sorted({e.get("HTTP_METHOD") for e in got})
    expect(not any(e.get("HTTP_METHOD") == "POST" for e in got),
           f"env: HTTP_TRACER_FILTER_EXCLUDE_METHODS=POST,DELETE left POST entries; methods {methods}")
    expect(not any(e.get("HTTP_PATH", "").startswith(f"{prefix}/drop") for e in got),
           f"env: HTTP_TRACER_SAMPLING_RULES={prefix}/drop=0 left entries of {prefix}/drop")
    expect(len(got) == 6, f"env: {len(got)} server entries, expected 6 (5 GETs and the 404)")
    a = [e for e in got if e.get("HTTP_PATH") == f"{prefix}/a"]
    expect(len(a) == 5, f"env: {len(a)} entries of {prefix}/a, expected 5")
    for e in a:
        what = f"env: GET {e.get('HTTP_TARGET')}"
        expect(e.get("PRIORITY") == "3", f"{what}: PRIORITY={e.get('PRIORITY')}, "
                                         "HTTP_TRACER_FIELDS_PRIORITY_2XX=err gives 3")
        expect(e.get("HTTP_TARGET") == f"{prefix}/a?token=ENVMASK",
               f"{what}: HTTP_TARGET, expected the mask of HTTP_TRACER_REDACTION_MASK (not the file's)")
        expect(e.get("HTTP_REFERER") == "http://r.example/x", f"{what}: HTTP_REFERER={e.get('HTTP_REFERER')!r}")
        expect(e.get("HTTP_REQUEST_HEADER_X_ENV_TEST") == "yes",
               f"{what}: HTTP_REQUEST_HEADER_X_ENV_TEST={e.get('HTTP_REQUEST_HEADER_X_ENV_TEST')!r}")
    missing = [e for e in got if e.get("HTTP_STATUS") == "404"]
    expect(len(missing) == 1 and missing[0].get("PRIORITY") == "2",
           f"env: the 404's PRIORITY {[e.get('PRIORITY') for e in missing]}, expected 2 "
           "(-s fields.priority.4xx=crit beats HTTP_TRACER_FIELDS_PRIORITY_4XX=alert)")
    stats = daemon.stats
    # 2 POSTs x 2 roles filtered, 3 /drop x 2 roles sampled out.
    expect(stats.get("sampled_out") == 6, f"env: sampled_out={stats.get('sampled_out')}, expected 6")
    log(f"env: {len(got)} entries, each override visible")


if __name__ == "__main__":
    htlib.run(test)
