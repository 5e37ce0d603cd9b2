#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `meson install --destdir` puts everything under DESTDIR, nothing outside,
# and the installed files are the shipped ones: the daemon, units, catalog,
# man page, the default configuration under the prefix (PREFIX/lib/http-tracer,
# where the daemon reads it when /etc has none), and the example drop-ins
# under the documentation directory. The installed daemon accepts the
# installed configuration and each example. Installing never writes in
# /etc (nor sysconfdir): an operator's modified http-tracer.yaml there is
# the same after two installs.
#
# Usage: check-install.sh BUILD_DIR SOURCE_ROOT PREFIX SYSCONFDIR DATADIR SBINDIR
set -euo pipefail

build=$1 src=$2 prefix=$3 sysconfdir=$4 datadir=$5 sbindir=$6
fail() { echo "FAIL: $*"; exit 1; }
# meson gives sysconfdir/datadir/sbindir relative to the prefix unless absolute (/etc).
under_prefix() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }

dest=$(mktemp -d /tmp/ht-install-test.XXXXXX)
trap 'rm -rf "$dest"' EXIT
# Anything written outside DESTDIR would show up as a new file under the prefix.
stamp=$dest/.stamp
touch "$stamp"

# An operator's configuration, modified, where the daemon reads it (and in sysconfdir).
mine="# the operator's own
log:
  level: debug"
for d in "$dest/etc/http-tracer" "$dest$(under_prefix "$sysconfdir")/http-tracer"; do
        mkdir -p "$d" && printf '%s\n' "$mine" > "$d/http-tracer.yaml"
done

for i in 1 2; do
        meson install -C "$build" --no-rebuild --destdir "$dest" --quiet >/dev/null \
                || fail "meson install --destdir failed (install $i)"
done
for d in "$dest/etc/http-tracer" "$dest$(under_prefix "$sysconfdir")/http-tracer"; do
        [ "$(cat "$d/http-tracer.yaml")" = "$mine" ] || fail "an install overwrote the operator's ${d#$dest}/http-tracer.yaml"
        [ "$(ls -A "$d")" = http-tracer.yaml ] || fail "an install wrote into ${d#$dest}: $(ls -A "$d")"
done

conf=$dest$prefix/lib/http-tracer/http-tracer.yaml
doc=$dest$(under_prefix "$datadir")/doc/http-tracer
exe=$dest$(under_prefix "$sbindir")/http-tracer

[ -x "$exe" ] || fail "daemon not installed at ${exe#$dest}"
[ -f "$conf" ] || fail "default configuration not installed at ${conf#$dest}"
cmp -s "$conf" "$src/conf/http-tracer.yaml" || fail "${conf#$dest} differs from conf/http-tracer.yaml"
n=0
for ex in "$src"/conf/examples/*.yaml; do
        inst=$doc/examples/$(basename "$ex")
        [ -f "$inst" ] || fail "example $(basename "$ex") not installed under ${doc#$dest}/examples"
        cmp -s "$inst" "$ex" || fail "${inst#$dest} differs from its source"
        "$exe" --config "$inst" --validate-config >/dev/null 2>&1 \
                || fail "the installed daemon rejects the installed example ${inst#$dest}"
        n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "no examples in conf/examples"
"$exe" --config "$conf" --validate-config >/dev/null 2>&1 \
        || fail "the installed daemon rejects the installed default configuration"
[ -f "$doc/journal-fields.md" ] || fail "guides not installed under ${doc#$dest}"
find "$dest" -name http-tracer.catalog | grep -q . || fail "catalog not installed"
find "$dest" -name http-tracer.service | grep -q . || fail "service unit not installed"
find "$dest" -name http-tracer-report.service | grep -q . || fail "report service unit not installed"
find "$dest" -name http-tracer-report.timer | grep -q . || fail "report timer not installed"
find "$dest" -name 'http-tracer.8*' | grep -q . || fail "man page not installed"

# Nothing went outside DESTDIR: no file under the real prefix newer than our stamp. Files and
# links only: an integration test running at the same time may create an empty directory there
# as a mount point (htlib_extra.PrivateConfigDirs), and an install that leaked would write files.
leaked=$(find "$prefix" /etc/http-tracer -newer "$stamp" -path '*http-tracer*' \( -type f -o -type l \) \
        2>/dev/null | head -5 || true)
[ -z "$leaked" ] || fail "files written outside DESTDIR: $leaked"

echo "OK: two installs left the operator's /etc file alone; installed under DESTDIR: daemon, units, catalog, man page, guides, ${conf#$dest}, $n examples in ${doc#$dest}/examples"
