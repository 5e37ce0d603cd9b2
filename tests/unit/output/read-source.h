/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * For tests that hold the code to a shipped file (catalog, docs): read a
 * file of the source tree, found through HT_SOURCE_ROOT (set by meson) or
 * the SOURCE_ROOT the test was built with. Include after <cmocka.h>.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

/* The whole file (at most 1 MiB), NUL-terminated; fails the test if it cannot be read. */
static inline char *read_source(const char *relative) {
        const char *root = getenv("HT_SOURCE_ROOT");
        char path[4096];
        char *buf = NULL;
        size_t n = 0;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root ?: SOURCE_ROOT, relative);
        f = fopen(path, "re");
        if (!f)
                fail_msg("cannot open %s: %m", path);
        buf = malloc(1024 * 1024);
        assert_non_null(buf);
        n = fread(buf, 1, 1024 * 1024 - 1, f);
        buf[n] = 0;
        fclose(f);
        return buf;
}
