# SPDX-License-Identifier: LGPL-2.1-or-later
# Host set-up shared by scripts/start and scripts/test (sourced, not run).
# Measured facts behind each step: ../shared/ENVIRONMENT.md.

# Syscall tracepoints need tracefs: libbpf reads the event ids there.
host_mount_tracefs() {
        if [[ ! -e /sys/kernel/tracing/events ]]; then
                mount -t tracefs nodev /sys/kernel/tracing ||
                        { echo "cannot mount tracefs on /sys/kernel/tracing" >&2; return 1; }
        fi
}

# True when something accepts datagrams on journald's socket (a socket file
# left by a dead journald does not count).
host_journald_alive() {
        [[ -S /run/systemd/journal/socket ]] || return 1
        /usr/bin/python3 - <<'PY' 2>/dev/null
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect("/run/systemd/journal/socket")
PY
}

# Start journald when it is not running (no systemd on a fresh machine).
# $1 = "lift-rate-limit" writes a drop-in first so load tests are not cut
# by the per-unit rate limit (10000 entries / 30 s). Sets HOST_JOURNALD_PID
# (empty when journald was already running) and HOST_JOURNALD_DROPIN.
HOST_JOURNALD_PID=
HOST_JOURNALD_DROPIN=
host_start_journald() {
        host_journald_alive && return 0
        if [[ ${1:-} == lift-rate-limit ]]; then
                HOST_JOURNALD_DROPIN=/run/systemd/journald.conf.d/50-http-tracer-tests.conf
                mkdir -p "${HOST_JOURNALD_DROPIN%/*}"
                printf '# Written by http-tracer scripts/test.\n[Journal]\nRateLimitIntervalSec=0\n' \
                        >"$HOST_JOURNALD_DROPIN"
        fi
        rm -f /run/systemd/journal/socket
        setsid /lib/systemd/systemd-journald </dev/null >/dev/null 2>&1 &
        HOST_JOURNALD_PID=$!
        local i
        for i in $(seq 100); do
                host_journald_alive && return 0
                sleep 0.1
        done
        echo "journald did not start" >&2
        return 1
}

# Stop the journald host_start_journald started (if it did), undo its drop-in
# and remove the sockets it leaves behind.
host_stop_journald() {
        if [[ -n $HOST_JOURNALD_PID ]]; then
                kill "$HOST_JOURNALD_PID" 2>/dev/null && wait "$HOST_JOURNALD_PID" 2>/dev/null
                rm -f /run/systemd/journal/{socket,dev-log,stdout,io.systemd.journal}
                HOST_JOURNALD_PID=
        fi
        if [[ -n $HOST_JOURNALD_DROPIN ]]; then
                rm -f "$HOST_JOURNALD_DROPIN"
                HOST_JOURNALD_DROPIN=
        fi
}
