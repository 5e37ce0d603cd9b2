#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The service under a real systemd as PID 1: boots a debootstrapped Debian
# bookworm in systemd-nspawn with http-tracer installed (meson install into
# a staging tree, copied in at boot), runs tests/container/run.sh inside as
# a oneshot unit, and exits with its status.
#
#   - The rootfs is built once and cached under $HTTP_TRACER_TEST_CACHE
#     (default /var/cache/http-tracer-tests); it is rebuilt when the
#     package list below changes. The container boots with
#     --volatile=overlay: everything it writes goes to a tmpfs, the cache
#     stays pristine and nothing needs cleaning up after a failure.
#   - Every step is bounded (debootstrap, boot, the whole run).
#   - Needs root, systemd-nspawn (systemd-container) and debootstrap;
#     skips (77) with a reason otherwise.
#
# Usage: run-container-test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=$(realpath "$1")
src=$(realpath "$2")
here="$src/tests/container"
cache=${HTTP_TRACER_TEST_CACHE:-/var/cache/http-tracer-tests}
suite="bookworm"
mirror=${HTTP_TRACER_TEST_MIRROR:-http://deb.debian.org/debian}
# What the tests inside need: systemd as PID 1, python3's http.server as a
# traffic target, curl, bpftool to check for leftover programs, and the
# daemon's shared libraries. Changing this list rebuilds the cache.
packages="systemd,systemd-sysv,dbus,procps,python3,curl,bpftool,libbpf1,libelf1,zlib1g,libyaml-0-2,libcap-ng0,libsystemd0"
rootfs="$cache/rootfs-$suite"
stamp="$rootfs/.http-tracer-rootfs"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
log() { echo "[$(date +%T)] $*"; }

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, systemd-nspawn, BPF)"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn missing: apt-get install systemd-container"
command -v debootstrap >/dev/null || skip "debootstrap missing: apt-get install debootstrap"
[ -e /sys/kernel/btf/vmlinux ] || skip "kernel without BTF"

start=$(date +%s)
mkdir -p "$cache"

# ---- the cached rootfs ----
# One builder at a time; others wait for it (bounded) and reuse the result.
exec 9>"$cache/.lock"
flock -w 1200 9 || fail "timed out waiting for another run to build $rootfs"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$packages" ]; then
        log "building the rootfs in $rootfs (first run: about 2 minutes)"
        tmp="$cache/rootfs.tmp.$$"
        rm -rf "$tmp" "$rootfs"
        if ! timeout 1200 debootstrap --variant=minbase --include="$packages" "$suite" "$tmp" "$mirror" \
                >"$cache/debootstrap.log" 2>&1; then
                tail -20 "$cache/debootstrap.log"
                rm -rf "$tmp"
                fail "debootstrap failed (log: $cache/debootstrap.log)"
        fi
        # No getty or network waits in the way of a fast, headless boot.
        rm -f "$tmp"/etc/systemd/system/getty.target.wants/* 2>/dev/null || true
        echo "$packages" > "$tmp/.http-tracer-rootfs"
        mv "$tmp" "$rootfs"
        log "rootfs ready after $(( $(date +%s) - start )) s"
else
        log "reusing the cached rootfs $rootfs"
fi
flock -u 9

# ---- what goes in ----
work=$(mktemp -d /tmp/http-tracer-container.XXXXXX)
cleanup() {
        local rc=$?
        # nspawn removes its own overlay; only our staging tree is left.
        [ -n "${nspawn_pid:-}" ] && kill "$nspawn_pid" 2>/dev/null || true
        if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -s "$work/out/journal.txt" ]; then
                mkdir -p "$build/meson-logs"
                cp "$work/out/journal.txt" "$build/meson-logs/container-journal.txt" || true
                echo "The container's journal: $build/meson-logs/container-journal.txt"
        fi
        rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/install" "$work/out"
meson install -C "$build" --no-rebuild --destdir "$work/install" --quiet >/dev/null \
        || fail "meson install into the staging tree failed"
cp "$here/run.sh" "$work/run.sh"
chmod 0755 "$work/run.sh"

# The daemon's libraries must exist in the rootfs (a new dependency needs
# its package added to the list above).
cp "$build/src/http-tracer" "$rootfs/tmp/.http-tracer-probe"
missing=$(chroot "$rootfs" ldd /tmp/.http-tracer-probe | grep 'not found' || true)
rm -f "$rootfs/tmp/.http-tracer-probe"
[ -z "$missing" ] || fail "the rootfs lacks libraries the daemon needs (add their packages): $missing"

# ---- boot ----
# --register=no --keep-unit: no machined here. --system-call-filter: nspawn's
# own seccomp filter would refuse bpf and perf_event_open. --capability:
# nspawn's default set lacks CAP_BPF and CAP_PERFMON, and the unit's
# CapabilityBoundingSet= can only keep what the container has.
# systemd.wants= (read from PID 1's command line in a container) pulls in
# the test unit without touching the rootfs.
log "booting the container"
set +e
timeout --kill-after=15 "${HTTP_TRACER_CONTAINER_TIMEOUT:-600}" \
        systemd-nspawn --quiet --register=no --keep-unit -D "$rootfs" -b \
        --volatile=overlay --private-network \
        --system-call-filter='bpf perf_event_open' \
        --capability=CAP_BPF,CAP_PERFMON \
        --bind-ro="$work/install:/tests/install" \
        --bind-ro="$work/run.sh:/tests/run.sh" \
        --bind-ro="$here/http-tracer-test.service:/etc/systemd/system/http-tracer-test.service" \
        --bind="$work/out:/tests/out" \
        --console=read-only \
        -- systemd.wants=http-tracer-test.service systemd.show_status=0 \
        >"$work/out/console.txt" 2>&1 &
nspawn_pid=$!
wait $nspawn_pid
rc=$?
nspawn_pid=
set -e

# The script's own report, then the verdict.
[ -f "$work/out/report.txt" ] && cat "$work/out/report.txt"
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        tail -30 "$work/out/console.txt"
        fail "the container did not finish in time"
fi
if [ ! -f "$work/out/report.txt" ]; then
        tail -40 "$work/out/console.txt"
        fail "the test script never ran (boot failed? console above)"
fi
log "container exited with $rc after $(( $(date +%s) - start )) s in total"
[ $rc -eq 0 ] || fail "checks failed inside the container (report above)"
echo "OK"
