#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The checks, run inside the test container by http-tracer-test.service
# with systemd as PID 1. Writes a report to /tests/out/report.txt and the
# journal to /tests/out/journal.txt; exits non-zero if any check failed.
# Every check is unconditional: the daemon has both the control socket and
# the capability drop, so a missing one is a failure, not "not wired yet".
set -uo pipefail

out=/tests/out
report=$out/report.txt
failures=0
exec > >(tee -a "$report") 2>&1

pass() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
# wait_for SECONDS COMMAND...: poll until COMMAND succeeds. SECONDS only bounds a
# failure: it is generous, because a busy machine (or a BPF object that takes
# seconds to load) must not fail a check that would pass given time.
wait_for() {
        local deadline=$((SECONDS + $1)); shift
        until "$@" >/dev/null 2>&1; do
                [ $SECONDS -lt $deadline ] || return 1
                sleep 0.2
        done
}
main_pid() { systemctl show -P MainPID http-tracer.service; }
# A PID to signal or inspect: never 0 or empty (kill -STOP 0 would stop us).
valid_pid() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -gt 1 ]; }
is_active() { [ "$(systemctl is-active "$1")" = active ]; }
journal_has() { journalctl -q --no-pager -u http-tracer.service "$@" -o cat | grep -q .; }

echo "=== http-tracer container checks ($(date -Is)) ==="

# ---- setup ----
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing \
        || bad "cannot mount tracefs"
# tar, not cp: the staged tree has lib/ where the rootfs has the /lib -> usr/lib symlink.
tar -C /tests/install -cf - . | tar -C / -xf - --keep-directory-symlink || bad "installing into / failed"
systemctl daemon-reload
journalctl --update-catalog

bin=$(command -v http-tracer || true)
[ -n "$bin" ] || { bad "http-tracer is not installed"; exit 1; }

systemd-run --quiet --unit=web --property=WorkingDirectory=/usr/share/doc \
        python3 -m http.server 8080 --bind 127.0.0.1
wait_for 60 curl -sf -o /dev/null http://127.0.0.1:8080/ || bad "the test web server did not start"

# ---- start and trace ----
if systemctl enable --now http-tracer.socket http-tracer.service; then
        pass "systemctl enable --now http-tracer"
else
        bad "systemctl enable --now http-tracer"
        systemctl status --no-pager http-tracer.service
fi
is_active http-tracer.service && pass "service is active (Type=notify: READY=1 was sent)" \
        || bad "service is not active"

curl -s -o /dev/null http://127.0.0.1:8080/
curl -s -o /dev/null -A 'container-test/1' http://127.0.0.1:8080/no-such-page
if wait_for 60 journal_has HTTP_STATUS=404 HTTP_PATH=/no-such-page; then
        pass "the exchange is in journalctl -u http-tracer"
        entry=$(journalctl -q --no-pager -u http-tracer.service HTTP_STATUS=404 -o export | head -100)
        for f in HTTP_METHOD=GET HTTP_STATUS=404 HTTP_PATH=/no-such-page HTTP_USER_AGENT=container-test/1 \
                 MESSAGE_ID=d0a21e5e3f34fda1ea3a6c8d562c83a1 SERVER_PORT=8080; do
                grep -qx "$f" <<<"$entry" && pass "entry has $f" || bad "entry lacks $f"
        done
        # PIDs are those of the daemon's PID namespace (the container's), and
        # the unit comes from the cgroup the kernel gave at connection time.
        server=$(journalctl -q --no-pager -u http-tracer.service HTTP_STATUS=404 HTTP_ROLE=server -o export | head -100)
        web_pid=$(systemctl show -P MainPID web.service)
        grep -qx "PROCESS_PID=$web_pid" <<<"$server" && pass "server entry has PROCESS_PID=$web_pid (web.service, container PID)" \
                || bad "server entry has $(grep '^PROCESS_PID=' <<<"$server" | head -1), web.service is PID $web_pid"
        grep -qx OBJECT_SYSTEMD_UNIT=web.service <<<"$server" && pass "server entry has OBJECT_SYSTEMD_UNIT=web.service" \
                || bad "server entry lacks OBJECT_SYSTEMD_UNIT=web.service"
else
        bad "no 404 exchange for /no-such-page in the journal within 15 s"
fi

# STATUS= reaches systemd (the housekeeping timer updates it every second).
if wait_for 30 sh -c 'systemctl show -P StatusText http-tracer.service | grep -q "^Tracing: [1-9][0-9]* exchanges"'; then
        pass "systemctl status shows: $(systemctl show -P StatusText http-tracer.service)"
else
        bad "no 'Tracing: N exchanges' status line: '$(systemctl show -P StatusText http-tracer.service)'"
fi
systemctl status --no-pager http-tracer.service | grep -q 'Status: "Tracing:' \
        && pass "systemctl status prints the Status line" || bad "systemctl status lacks the Status line"

# The catalog explains entries in journalctl -x.
if journalctl -x -q --no-pager -u http-tracer.service MESSAGE_ID=d0a21e5e3f34fda1ea3a6c8d562c83a1 \
        | grep -q 'seen by http-tracer at the socket'; then
        pass "journalctl -x shows the catalog text"
else
        bad "journalctl -x shows no catalog text"
fi

# ---- the daily report: http-tracer-report.service, started once by hand ----
# Installed, not enabled; run as a dynamic user that may only read the journal.
# Its summary for web.service must count exactly the entries journalctl finds.
summary_id=5d85a1a9d4de4f059528088c6c2d2629
summary() { journalctl -q --no-pager MESSAGE_ID=$summary_id REPORT_UNIT=web.service REPORT_ROLE=server -o export; }
web_count() { journalctl -q --no-pager -u http-tracer.service OBJECT_SYSTEMD_UNIT=web.service HTTP_ROLE=server \
                      MESSAGE_ID=d0a21e5e3f34fda1ea3a6c8d562c83a1 "$@" -o cat | grep -c .; }
[ "$(systemctl is-enabled http-tracer-report.timer 2>&1)" = disabled ] \
        && pass "http-tracer-report.timer is installed, not enabled" \
        || bad "http-tracer-report.timer: is-enabled says '$(systemctl is-enabled http-tracer-report.timer 2>&1)'"
curl -s -o /dev/null http://127.0.0.1:8080/report-missing
wait_for 60 journal_has HTTP_PATH=/report-missing HTTP_ROLE=server || bad "no entry for /report-missing"
want_all=$(web_count) want_4xx=$(web_count HTTP_STATUS=404)
if systemctl start http-tracer-report.service; then
        pass "systemctl start http-tracer-report.service"
else
        bad "systemctl start http-tracer-report.service failed"
        journalctl -q --no-pager -u http-tracer-report.service | tail -20
fi
s=$(summary)
if [ -n "$s" ]; then
        grep -qx "REPORT_REQUESTS=$want_all" <<<"$s" && grep -qx "REPORT_4XX=$want_4xx" <<<"$s" \
                && grep -qx "SYSLOG_IDENTIFIER=http-tracer-report" <<<"$s" && grep -q '^REPORT_P99_USEC=[0-9]' <<<"$s" \
                && pass "summary for web.service: $(sed -n 's/^MESSAGE=//p' <<<"$s")" \
                || bad "summary for web.service is not $want_all requests, $want_4xx 4xx: $(grep '^REPORT_\|^MESSAGE=' <<<"$s" | tr '\n' ' ')"
        grep -q "^REPORT_TOP_ERROR_ROUTES=.*/report-missing 5xx=0 4xx=1" <<<"$s" \
                && pass "the summary names the routes with errors" || bad "REPORT_TOP_ERROR_ROUTES: $(grep '^REPORT_TOP' <<<"$s")"
        journalctl -x -q --no-pager MESSAGE_ID=$summary_id REPORT_UNIT=web.service | grep -q 'run daily by http-tracer-report.timer' \
                && pass "journalctl -x explains the summary" || bad "no catalog text for the summary"
else
        bad "no summary entry for web.service after the report service ran"
fi
# The next run starts after the last entry the previous one read: one new exchange, one request.
curl -s -o /dev/null http://127.0.0.1:8080/report-again
wait_for 60 journal_has HTTP_PATH=/report-again HTTP_ROLE=server || bad "no entry for /report-again"
systemctl start http-tracer-report.service || bad "second start of http-tracer-report.service failed"
last=$(journalctl -q --no-pager MESSAGE_ID=$summary_id REPORT_UNIT=web.service REPORT_ROLE=server -n 1 -o export)
[ "$(summary | grep -c '^REPORT_REQUESTS=')" = 2 ] && grep -qx REPORT_REQUESTS=1 <<<"$last" \
        && pass "the second run counted only the exchange since the first" \
        || bad "second run: $(summary | grep -c '^REPORT_REQUESTS=') summaries, last $(grep '^REPORT_REQUESTS' <<<"$last")"

# ---- a socket unit with Accept=yes (issue 15 item 1, docs/sockets.md) ----
# systemd accepts, then the per-connection service gets the socket as fds 0
# and 1: one connection, each keep-alive exchange one complete entry (not a
# "request not seen" half for fd 1 and a "no response" half for fd 0).
cat >/run/ht-accept-server.py <<'PY'
import os, sys
rf = os.fdopen(0, "rb", buffering=65536)
while True:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = rf.readline()
        if not line:
            sys.exit(0)
        head += line
    os.write(1, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
PY
cat >/run/systemd/system/ht-accept.socket <<'UNIT'
[Socket]
ListenStream=127.0.0.1:8090
Accept=yes
UNIT
cat >/run/systemd/system/ht-accept@.service <<'UNIT'
[Service]
ExecStart=/usr/bin/python3 /run/ht-accept-server.py
StandardInput=socket
StandardOutput=socket
StandardError=journal
UNIT
systemctl daemon-reload
if systemctl start ht-accept.socket; then
        curl -s -o /dev/null -o /dev/null http://127.0.0.1:8090/accept-1 http://127.0.0.1:8090/accept-2 \
                || bad "curl to the Accept=yes service failed"
        acc() { journalctl -q --no-pager -u http-tracer.service SERVER_PORT=8090 HTTP_ROLE=server "$@" -o cat; }
        if wait_for 60 journal_has SERVER_PORT=8090 HTTP_ROLE=server HTTP_TARGET=/accept-2 HTTP_STATUS=200 &&
           [ "$(acc HTTP_STATUS=200 | wc -l)" -eq 2 ] && [ "$(acc | wc -l)" -eq 2 ] &&
           journal_has SERVER_PORT=8090 HTTP_ROLE=server HTTP_TARGET=/accept-1 HTTP_STATUS=200; then
                pass "Accept=yes service (socket on fds 0 and 1): one complete entry per exchange"
        else
                bad "Accept=yes service: server entries on port 8090: $(acc | tr '\n' '|')"
        fi
else
        bad "cannot start ht-accept.socket"
fi

# ---- journald ForwardToSyslog=yes (docs/forwarding.md recipe 1) ----
# Nothing is configured: Debian builds journald with ForwardToSyslog=yes,
# and journald sends each entry to /run/systemd/journal/syslog whenever
# something is bound there. A stand-in for a syslog daemon's imuxsock
# records each datagram as one line.
syslog_sock=/run/systemd/journal/syslog
syslog_got=/run/syslog-received.txt
systemd-run --quiet --unit=syslog-recv python3 -c "
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('$syslog_sock')
with open('$syslog_got', 'ab', buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b'\n')
"
wait_for 60 test -S "$syslog_sock" || bad "the syslog stand-in did not bind $syslog_sock"
curl -s -o /dev/null http://127.0.0.1:8080/forwarded-to-syslog
if wait_for 60 journal_has HTTP_PATH=/forwarded-to-syslog HTTP_ROLE=server; then
        fwd=$(journalctl -q --no-pager -u http-tracer.service HTTP_PATH=/forwarded-to-syslog HTTP_ROLE=server -o export)
        fwd_msg=$(sed -n 's/^MESSAGE=//p' <<<"$fwd" | head -1)
        fwd_prio=$(sed -n 's/^PRIORITY=//p' <<<"$fwd" | head -1)
        fwd_pid=$(sed -n 's/^_PID=//p' <<<"$fwd" | head -1)
        grep -q '^SYSLOG_FACILITY=' <<<"$fwd" && bad "the entry names a SYSLOG_FACILITY: the doc says it has none" \
                || pass "the entry names no SYSLOG_FACILITY (journald forwards it as user)"
        wait_for 60 grep -qF -- "http-tracer[$fwd_pid]: $fwd_msg" "$syslog_got"
        lines=$(grep -F -- "http-tracer[$fwd_pid]: $fwd_msg" "$syslog_got")
        re='^<([0-9]+)>[A-Z][a-z]{2} [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] http-tracer\[([0-9]+)\]: (.*)$'
        if [ "$(grep -c . <<<"$lines")" = 1 ] && [[ $lines =~ $re ]] && [ "${BASH_REMATCH[1]}" = $((8 + fwd_prio)) ] \
                && [ "${BASH_REMATCH[2]}" = "$fwd_pid" ] && [ "${BASH_REMATCH[3]}" = "$fwd_msg" ]; then
                pass "ForwardToSyslog: one classic line '$lines' (PRI user*8+$fwd_prio, the daemon's pid, MESSAGE only)"
        else
                bad "ForwardToSyslog: expected one '<$((8 + fwd_prio))>Mmm dd hh:mm:ss http-tracer[$fwd_pid]: $fwd_msg', got: '$lines'"
                tail -5 "$syslog_got"
        fi
else
        bad "no entry for /forwarded-to-syslog in the journal within 15 s"
fi
systemctl stop syslog-recv.service
rm -f "$syslog_sock"

# ---- privileges ----
pid=$(main_pid)
valid_pid "$pid" || pid=self   # keeps the checks below failing cleanly
capeff=$(awk '/^CapEff:/ { print $2 }' /proc/"$pid"/status)
[ "$capeff" = 0000000000000000 ] && pass "CapEff is 0 while tracing" || bad "CapEff is $capeff while tracing, expected 0"
capbnd=$(awk '/^CapBnd:/ { print $2 }' /proc/"$pid"/status)
# CAP_BPF (39) and CAP_PERFMON (38) only.
[ "$capbnd" = 000000c000000000 ] && pass "bounding set is CAP_BPF CAP_PERFMON" || bad "bounding set is $capbnd"
grep -q '^NoNewPrivs:[[:space:]]*1' /proc/"$pid"/status && pass "NoNewPrivs is set" || bad "NoNewPrivs is not set"
grep -q '^Seccomp:[[:space:]]*2' /proc/"$pid"/status && pass "a seccomp filter is active" || bad "no seccomp filter"

# ---- control socket, reload, socket activation ----
http-tracer status | grep -q 'Tracing: ' && pass "http-tracer status" || bad "http-tracer status"
http-tracer status --json | grep -q '"ok":true' && pass "http-tracer status --json" \
        || bad "http-tracer status --json"

# A drop-in that changes what is redacted: before the reload the
# parameter is logged as sent, after it (no restart) it is masked.
mkdir -p /etc/http-tracer/http-tracer.yaml.d
curl -s -o /dev/null 'http://127.0.0.1:8080/before-reload?visitor=abc'
wait_for 60 journal_has HTTP_PATH=/before-reload || bad "no entry before the reload"
journal_has HTTP_TARGET='/before-reload?visitor=abc' && pass "before the reload the parameter is logged as sent" \
        || bad "before the reload the parameter is not logged as sent"
printf 'redaction:\n  query_parameters+: ["visitor"]\n' >/etc/http-tracer/http-tracer.yaml.d/50-test.yaml
if systemctl reload http-tracer.service; then
        pass "systemctl reload with a good drop-in"
        curl -s -o /dev/null 'http://127.0.0.1:8080/after-reload?visitor=abc'
        if wait_for 60 journal_has HTTP_PATH=/after-reload; then
                journal_has HTTP_TARGET='/after-reload?visitor=***' && pass "the reloaded drop-in applies without a restart" \
                        || bad "the reloaded drop-in did not apply"
        else
                bad "no entry after the reload"
        fi
        reload_works=1
else
        bad "systemctl reload with a good drop-in failed"
        reload_works=0
fi
pid_before=$(main_pid)
printf 'filter: [this is: not valid\n' >/etc/http-tracer/http-tracer.yaml.d/60-bad.yaml
if systemctl reload http-tracer.service 2>"$out/reload-error.txt"; then
        bad "systemctl reload with a bad drop-in succeeded"
elif [ "$reload_works" = 1 ]; then
        # Only meaningful when a good reload succeeds: otherwise every reload fails.
        pass "systemctl reload with a bad drop-in fails visibly"
fi
journalctl -q --no-pager -u http-tracer.service -n 20 | grep -qi '60-bad.yaml' \
        && pass "the reload error names the bad file" || bad "the reload error does not name the bad file"
is_active http-tracer.service && [ "$(main_pid)" = "$pid_before" ] \
        && pass "still running after the failed reload" || bad "not running after the failed reload"
rm -f /etc/http-tracer/http-tracer.yaml.d/*.yaml

systemctl stop http-tracer.service
is_active http-tracer.socket && pass "the socket stays listening while the service is stopped" \
        || bad "http-tracer.socket is not active"
if timeout 60 http-tracer status >/dev/null && is_active http-tracer.service; then
        pass "http-tracer status starts the service through the socket"
else
        bad "socket activation did not start the service"
fi
is_active http-tracer.service || systemctl start http-tracer.service

# ---- a drop warning is in journalctl -u once (issue 15 item 14) ----
# Under systemd stderr is a journald stream ($JOURNAL_STREAM): a warning
# must be the structured entry alone, not that and a stderr line. A 64 KiB
# ring, and the daemon stopped while 40 responses of 64 KiB go by (well
# inside WatchdogSec), overflow it for real.
warn_id=5178c98922794d619bfcbf3dd749dfbd
head -c 65536 /dev/zero | tr '\0' x >/usr/share/doc/ht-64k.txt
printf 'capture:\n  ring_buffer_size: 64KiB\n' >/etc/http-tracer/http-tracer.yaml.d/70-small-ring.yaml
systemctl restart http-tracer.service
pid=$(main_pid)
if valid_pid "$pid" && is_active http-tracer.service; then
        kill -STOP "$pid"
        for i in $(seq 40); do
                curl -s -o /dev/null "http://127.0.0.1:8080/ht-64k.txt?drop=$i"
        done
        kill -CONT "$pid"
        if wait_for 60 journal_has _PID="$pid" MESSAGE_ID=$warn_id; then
                # the structured warnings, and every line of the unit that reads like one
                n=$(journalctl -q --no-pager -u http-tracer.service _PID="$pid" MESSAGE_ID=$warn_id -o cat | wc -l)
                like=$(journalctl -q --no-pager -u http-tracer.service _PID="$pid" -o cat \
                        | grep -c 'dropped in the kernel since the last report')
                stream=$(journalctl -q --no-pager -u http-tracer.service _PID="$pid" _TRANSPORT=stdout -o cat \
                        | grep -c 'dropped in the kernel' || true)
                if [ "$n" -ge 1 ] && [ "$like" -eq "$n" ] && [ "$stream" -eq 0 ]; then
                        pass "each drop warning is in journalctl -u http-tracer once ($n warning(s), no stderr copy)"
                else
                        bad "drop warnings in journalctl -u: $n structured, $like lines like one, $stream on the stderr stream"
                fi
        else
                bad "no drop warning after a forced ring buffer overflow"
        fi
else
        bad "the daemon did not restart with a 64 KiB ring buffer"
fi
rm -f /etc/http-tracer/http-tracer.yaml.d/70-small-ring.yaml /usr/share/doc/ht-64k.txt
systemctl restart http-tracer.service

# ---- restart on crash, watchdog ----
pid=$(main_pid)
if ! valid_pid "$pid"; then
        bad "no daemon to kill"
elif systemctl kill -s KILL http-tracer.service && wait_for 90 sh -c "[ \"\$(systemctl show -P MainPID http-tracer.service)\" != 0 ] &&
                      [ \"\$(systemctl show -P MainPID http-tracer.service)\" != $pid ] &&
                      [ \"\$(systemctl is-active http-tracer.service)\" = active ]"; then
        pass "a SIGKILLed daemon is restarted (NRestarts=$(systemctl show -P NRestarts http-tracer.service))"
else
        bad "the daemon was not restarted after SIGKILL"
fi

# A hung daemon: the shipped WatchdogSec, then stop the process. Not a
# shorter watchdog for the test: systemd arms it at the start, and loading
# the BPF programs (one blocking bpf() call each, no ping meanwhile) took
# more than the 3 s it used to be beside stress-ng --cpu 2, so the restart
# failed ("failed to send watchdog ping") with nothing hung. Only the abort
# is shortened (SIGABRT to a stopped process stays pending; SIGKILL then).
# The deadline bounds a failure: 30 s watchdog + 2 s abort + a slow start.
mkdir -p /run/systemd/system/http-tracer.service.d
printf '[Service]\nTimeoutAbortSec=2s\n' >/run/systemd/system/http-tracer.service.d/watchdog.conf
systemctl daemon-reload
systemctl restart http-tracer.service
pid=$(main_pid)
if ! valid_pid "$pid"; then
        bad "no daemon to hang for the watchdog test"
elif kill -STOP "$pid" && wait_for 150 sh -c "[ \"\$(systemctl show -P MainPID http-tracer.service)\" != $pid ] &&
                      [ \"\$(systemctl is-active http-tracer.service)\" = active ]"; then
        pass "the watchdog restarts a hung daemon"
        journalctl -q --no-pager -u http-tracer.service | grep -qi 'watchdog timeout' \
                && pass "systemd logged the watchdog timeout" || bad "no watchdog timeout in the log"
else
        bad "the watchdog did not restart the hung daemon"
        kill -CONT "$pid" 2>/dev/null
fi
rm -rf /run/systemd/system/http-tracer.service.d
systemctl daemon-reload

# ---- stop leaves no BPF program ----
pid=$(main_pid)
valid_pid "$pid" || pid=self
progs=$(grep -h '^prog_id:' /proc/"$pid"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -u)
[ -n "$progs" ] && pass "the daemon holds $(wc -w <<<"$progs") BPF programs" || bad "no BPF program fds in the daemon"
systemctl stop http-tracer.socket http-tracer.service
left=""
for id in $progs; do
        bpftool prog show id "$id" >/dev/null 2>&1 && left="$left $id"
done
[ -z "$left" ] && pass "systemctl stop leaves no BPF program" || bad "BPF programs left after stop:$left"

# ---- evidence ----
journalctl --no-pager -o short-monotonic >"$out/journal.txt" 2>&1
echo "=== $failures failure(s) ==="
[ $failures -eq 0 ]
