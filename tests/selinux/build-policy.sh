#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds selinux/http-tracer.{te,fc,if} into a policy package with the
# system's policy development Makefile (Debian: selinux-policy-dev). Skips
# when that is missing. The module is not loaded: this checks that it
# compiles against the reference policy's interfaces, and that it needs
# nothing but them.
#
# Usage: build-policy.sh SOURCE_DIR
set -euo pipefail

src=$1
makefile=/usr/share/selinux/devel/Makefile
if [ ! -f "$makefile" ]; then
        echo "SKIP: $makefile is missing (apt-get install selinux-policy-dev)"
        exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src"/http-tracer.te "$src"/http-tracer.fc "$src"/http-tracer.if "$tmp"/
cd "$tmp"
if ! make -f "$makefile" http-tracer.pp >build.log 2>&1; then
        cat build.log
        echo "FAIL: the policy module does not build"
        exit 1
fi
# checkmodule reports unknown interfaces as warnings only in some versions.
if grep -iE 'error|undefined|unknown' build.log; then
        echo "FAIL: the build reported problems"
        exit 1
fi
test -s http-tracer.pp
echo "OK: http-tracer.pp built ($(stat -c %s http-tracer.pp) bytes)"
