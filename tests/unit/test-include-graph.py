#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""
The shape of src/, checked from its #include lines (docs/architecture.md, "The tree"):

 (a) no include loop between modules (foo.c and foo.h are one module;
     HEADER_OWNER names the others), apart from loops closed by an include
     in ALLOWED_UPWARD;
 (b) no include from a folder to one above it in the data flow (FLOW below);
 (c) no file outside src/capture/ includes the kernel ABI (bpf/abi.h), and
     of the tests only those that test the ABI (TESTS_ABI);
 (d) no source file over MAX_LINES lines unless its top comment says why
     (a line containing "over 800 lines" in its first 40 lines);
 (e) every quoted include names its folder ("conn/exchange.h", resolved from
     src/), so the graph here is the graph the compiler sees, and every folder
     of src/ has a place in FLOW.
 (t) tests/unit/ has the folder shape of src/: every unit test (a .c file)
     sits in a folder of tests/unit/ that src/ has (conn/test-conn.c,
     protocols/http1/test-http1-parser.c), none at its top.

The ALLOWED_* tables list the violations the tree had when this test was
written, each with its reason. They may only shrink: a new violation fails, and
so does an entry that no longer applies (remove it when you fix it).

The kernel side, bpf/ (given as BPF_DIR), is checked by check_bpf():
 (k) the object's main file holds includes only; lib/ never includes
     sources/, a source never includes another source; lib/infer.h includes
     nothing (user space compiles it too); every include resolves; no loop;
     every header has #pragma once; every sources/ header is included by the
     main file (a forgotten one would drop its programs silently); and (d)'s
     line limit.

Usage: test-include-graph.py SRC_DIR [BPF_DIR]
"""

import os
import re
import sys

# The folders, bottom up. A folder may include its own headers and those of
# folders before it, never after it. This is the data flow (kernel -> capture
# -> connection -> protocol -> selection -> output) except for capture: the
# sources call the connection layer with decoded calls (as journald's inputs
# each call one dispatcher), so capture/ sits above conn/ and protocols/,
# which know no source. views/ (`report`, `top`) reads what the outputs wrote
# (the journal) or what the daemon answers; the daemon's main() runs them, so
# they sit below daemon/ and are handed the control-socket call.
FLOW = ['basic', 'config', 'conn', 'protocols', 'capture', 'select', 'output', 'views', 'daemon']

# Folders of src/ that hold no C (installed data).
NOT_CODE = {'catalog'}

# Headers generated at build time (not in src/).
GENERATED = {'http-tracer.skel.h'}

# The kernel ABI, included as "bpf/abi.h" (from the project root); only
# src/capture/ may include it, and of the tests those in TESTS_ABI.
ABI = 'bpf/abi.h'

# Tests (under tests/) that include the ABI -> why.
TESTS_ABI = {
    'unit/conn/test-conn.c': 'builds ring-buffer records for the records decoder in front of the connection table',
    'unit/select/test-filter.c': 'checks the kernel filter against the kernel\'s role bits',
}

MAX_LINES = 800
LENGTH_REASON = 'over 800 lines'

# Headers that belong to a module whose .c has another name. (Not here:
# config/configuration.h is the configuration layer's interface, implemented
# by config-value.c, config.c, config-table.c, config-diff.c and
# config-output.c, so it is a module of its own, below all of them.)
HEADER_OWNER = {
    # what parser.c, parser-head.c, parser-body.c and parser-resync.c share: the parser's insides
    'protocols/http1/parser-internal.h': 'protocols/http1/parser',
}

# (b) (including file, included header) -> why it is allowed for now.
ALLOWED_UPWARD = {
}

# (c) file outside src/capture/ -> why it includes the kernel ABI for now.
ALLOWED_ABI = {
}

# (d) file -> why it is over MAX_LINES without a reason at its top, for now.
ALLOWED_LONG = {
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(rel):
    return rel.split('/', 1)[0] if '/' in rel else None


def module_of(rel):
    return HEADER_OWNER.get(rel, os.path.splitext(rel)[0])


def find_cycle(graph):
    """One cycle in graph (dict node -> set of nodes) as a list, or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = {n: WHITE for n in graph}
    stack = []

    def visit(n):
        colour[n] = GREY
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if colour.get(m, WHITE) == GREY:
                return stack[stack.index(m):] + [m]
            if colour.get(m, WHITE) == WHITE:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        colour[n] = BLACK
        return None

    for n in sorted(graph):
        if colour[n] == WHITE:
            c = visit(n)
            if c:
                return c
    return None


# The kernel side: the BPF object's main file, the pure header user space
# compiles too, and what a bpf/ include may name outside bpf/.
BPF_MAIN = 'http-tracer.bpf.c'
BPF_PURE = 'lib/infer.h'
BPF_OUTSIDE = {'vmlinux.h'}


def check_unit_shape(unit, src):
    """(t) every .c of tests/unit/ in a folder that src/ has too."""
    errors = []
    for root, dirs, names in os.walk(unit):
        dirs.sort()
        rel_dir = os.path.relpath(root, unit)
        for name in sorted(names):
            if not name.endswith('.c'):
                continue
            if rel_dir == '.':
                errors.append(f'(t) tests/unit/{name}: expected it in the folder of its module '
                              f'(tests/unit/<folder of src/>/{name}), got it at the top of tests/unit/')
            elif not os.path.isdir(os.path.join(src, rel_dir)):
                errors.append(f'(t) tests/unit/{rel_dir}/{name}: expected a folder that src/ has, '
                              f'got {rel_dir}/, which src/ has not')
    return errors


def check_tests_abi(tests):
    """(c) for tests/: only TESTS_ABI include the kernel ABI."""
    errors, seen = [], set()
    for root, dirs, names in os.walk(tests):
        dirs.sort()
        for name in sorted(names):
            if not name.endswith(('.c', '.h')):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, tests)
            with open(path, encoding='utf-8') as f:
                if ABI not in INCLUDE.findall(f.read()):
                    continue
            seen.add(rel)
            if rel not in TESTS_ABI:
                errors.append(f'(c) tests/{rel} includes "{ABI}": expected only tests of the ABI '
                              f'({sorted(TESTS_ABI)}) to, got another; test through src/capture/ or conn/conn-info.h')
    for rel in sorted(set(TESTS_ABI) - seen):
        errors.append(f'(c) TESTS_ABI entry {rel} no longer applies: remove it')
    return errors


def check_bpf(bpf):
    errors = []
    files = {}
    for root, dirs, names in os.walk(bpf):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(('.c', '.h')):
                path = os.path.join(root, name)
                with open(path, encoding='utf-8') as f:
                    files[os.path.relpath(path, bpf)] = f.read()
    if BPF_MAIN not in files:
        return [f'(k) bpf/{BPF_MAIN}: expected the BPF object\'s main file, got none']

    graph = {rel: set() for rel in files}
    for rel, text in files.items():
        for inc in INCLUDE.findall(text):
            # The compiler looks beside the including file first, then in bpf/.
            here = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
            target = here if here in files else inc if inc in files else None
            if target is None:
                if inc not in BPF_OUTSIDE:
                    errors.append(f'(k) bpf/{rel}: #include "{inc}": expected a file of bpf/ '
                                  f'or one of {sorted(BPF_OUTSIDE)}, got neither')
                continue
            graph[rel].add(target)
            if rel.startswith('lib/') and target.startswith('sources/'):
                errors.append(f'(k) bpf/{rel} includes "{inc}": expected lib/ to serve every '
                              f'source and include none, got a source')
            if rel.startswith('sources/') and target.startswith('sources/'):
                errors.append(f'(k) bpf/{rel} includes "{inc}": expected each source over lib/ '
                              f'only, got another source')
        if rel == BPF_PURE and '#include' in text:
            errors.append(f'(k) bpf/{rel}: expected no #include (tests/unit/capture/test-infer.c '
                          f'compiles it as plain C), got one')
        if rel.endswith('.h') and '#pragma once' not in text:
            errors.append(f'(k) bpf/{rel}: expected #pragma once, got none')
        n = text.count('\n')
        if n > MAX_LINES and LENGTH_REASON not in '\n'.join(text.split('\n')[:40]):
            errors.append(f'(d) bpf/{rel}: expected at most {MAX_LINES} lines or "{LENGTH_REASON}" '
                          f'and why at its top, got {n} lines and no reason')

    cycle = find_cycle(graph)
    if cycle:
        errors.append('(k) include loop in bpf/: expected none, got ' + ' -> '.join(cycle))

    # The main file: comments, includes and the license, nothing that runs.
    code = re.sub(r'/\*.*?\*/|//[^\n]*', '', files[BPF_MAIN], flags=re.S)
    for line in code.split('\n'):
        line = line.strip()
        if line and not line.startswith('#include') and not line.startswith('char LICENSE[]'):
            errors.append(f'(k) bpf/{BPF_MAIN}: expected includes only, got "{line}"')
    for rel in sorted(files):
        if rel.startswith('sources/') and rel not in graph[BPF_MAIN]:
            errors.append(f'(k) bpf/{rel}: expected bpf/{BPF_MAIN} to include it, got no include')

    print(f'bpf/: {len(files)} files, {sum(len(v) for v in graph.values())} includes')
    return errors


def main():
    src = sys.argv[1]
    errors = []

    files = {}
    for root, dirs, names in os.walk(src):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(('.c', '.h')):
                path = os.path.join(root, name)
                rel = os.path.relpath(path, src)
                with open(path, encoding='utf-8') as f:
                    files[rel] = f.read()

    for d in sorted(os.listdir(src)):
        if os.path.isdir(os.path.join(src, d)) and d not in FLOW and d not in NOT_CODE:
            errors.append(f'(e) src/{d}/: folder not in FLOW; expected one of {FLOW}, got "{d}"')

    edges = []
    for rel, text in files.items():
        for inc in INCLUDE.findall(text):
            if inc in GENERATED or inc.startswith('../'):
                continue
            if inc == ABI:
                edges.append((rel, inc))
                continue
            if inc not in files:
                errors.append(f'(e) src/{rel}: #include "{inc}": expected a path from src/ '
                              f'(e.g. "basic/macro.h"), got one that names no file there')
                continue
            edges.append((rel, inc))

    # (a) loops between modules. An allowed upward include is left out: an
    # upward include closes a loop with any downward path back, and it is
    # reported (or allowed) once, under (b).
    graph = {}
    for a, b in edges:
        if (a, b) in ALLOWED_UPWARD:
            continue
        ma, mb = module_of(a), module_of(b)
        graph.setdefault(ma, set())
        graph.setdefault(mb, set())
        if ma != mb:
            graph[ma].add(mb)
    cycle = find_cycle(graph)
    if cycle:
        errors.append('(a) include loop: expected none, got ' + ' -> '.join(cycle))

    # (b) upward includes
    rank = {f: i for i, f in enumerate(FLOW)}
    seen_upward = set()
    for a, b in edges:
        fa, fb = folder_of(a), folder_of(b)
        if fa is None or fb is None or fa not in rank or fb not in rank:
            continue
        if rank[fb] > rank[fa]:
            seen_upward.add((a, b))
            if (a, b) not in ALLOWED_UPWARD:
                errors.append(f'(b) src/{a} includes "{b}": expected includes from {fa}/ '
                              f'only to {FLOW[:rank[fa] + 1]}, got {fb}/ (later in the flow)')
    for a, b in sorted(set(ALLOWED_UPWARD) - seen_upward):
        errors.append(f'(b) allow-list entry ({a}, {b}) no longer applies: remove it')

    # (c) the kernel ABI
    seen_abi = set()
    for a, b in edges:
        if b == ABI and folder_of(a) != 'capture':
            seen_abi.add(a)
            if a not in ALLOWED_ABI:
                errors.append(f'(c) src/{a} includes "{ABI}": expected only src/capture/ to, '
                              f'got src/{folder_of(a) or ""}')
    for a in sorted(set(ALLOWED_ABI) - seen_abi):
        errors.append(f'(c) allow-list entry {a} no longer applies: remove it')

    # (d) long files
    seen_long = set()
    for rel, text in files.items():
        n = text.count('\n')
        if n <= MAX_LINES:
            continue
        head = '\n'.join(text.split('\n')[:40])
        if LENGTH_REASON in head:
            continue
        seen_long.add(rel)
        if rel not in ALLOWED_LONG:
            errors.append(f'(d) src/{rel}: expected at most {MAX_LINES} lines or "{LENGTH_REASON}" '
                          f'and why at its top, got {n} lines and no reason')
    for rel in sorted(set(ALLOWED_LONG) - seen_long):
        errors.append(f'(d) allow-list entry {rel} no longer applies: remove it')

    if len(sys.argv) > 2:
        errors += check_bpf(sys.argv[2])
    errors += check_tests_abi(os.path.join(os.path.dirname(os.path.abspath(src)), 'tests'))
    errors += check_unit_shape(os.path.dirname(os.path.abspath(__file__)), src)

    print(f'{len(files)} files, {len(edges)} includes, {len(graph)} modules; '
          f'allowed for now: {len(ALLOWED_UPWARD)} upward, {len(ALLOWED_ABI)} ABI, {len(ALLOWED_LONG)} long')
    for e in errors:
        print('FAIL', e)
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
