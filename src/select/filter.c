/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Filters: the user-space half, checked per exchange; see filter.h. */

#define _GNU_SOURCE 1  /* asprintf */

#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "select/filter.h"

/* --- user space -------------------------------------------------------------------------------- */

static bool strings_contain(const StringList *l, const char *s) {
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->items[i], s) == 0)
                        return true;
        return false;
}

static bool globs_match(const StringList *l, const char *s) {
        for (size_t i = 0; i < l->n; i++)
                if (fnmatch(l->items[i], s, 0) == 0)
                        return true;
        return false;
}

/*
 * One list of n entries: known says the value is known, match that it is in
 * the list. Unknown values match nothing, so they fail a non-empty include
 * and pass an exclude.
 */
static bool include_ok(size_t n, bool known, bool match) {
        return n == 0 || (known && match);
}

static bool exclude_hit(size_t n, bool known, bool match) {
        return n > 0 && known && match;
}

bool filter_match_process(const Config *c, const char *comm, const char *exe) {
        const FilterSet *in = &c->filter.include, *ex = &c->filter.exclude;

        if (!include_ok(in->comms.n, comm, comm && strings_contain(&in->comms, comm)) ||
            !include_ok(in->exes.n, exe, exe && globs_match(&in->exes, exe)))
                return false;
        if (exclude_hit(ex->comms.n, comm, comm && strings_contain(&ex->comms, comm)) ||
            exclude_hit(ex->exes.n, exe, exe && globs_match(&ex->exes, exe)))
                return false;
        return true;
}

/* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). Length of "scheme://" at t, or 0. */
static size_t scheme_authority_prefix(const char *t, size_t n) {
        size_t i = 0;

        if (n == 0 || !((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
                return 0;
        while (i < n && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
                         (t[i] >= '0' && t[i] <= '9') || t[i] == '+' || t[i] == '-' || t[i] == '.'))
                i++;
        if (n - i < 3 || memcmp(t + i, "://", 3) != 0)
                return 0;
        return i + 3;
}

bool filter_target_path(const char *target, size_t len, const char **ret_path, size_t *ret_len) {
        const char *p = target, *end = target + len, *e;
        size_t k;

        if (len > 0 && target[0] == '/')
                ;                                       /* origin-form */
        else if ((k = scheme_authority_prefix(target, len)) > 0) {
                /* absolute-form: skip "scheme://authority" */
                p = target + k;
                while (p < end && *p != '/' && *p != '?' && *p != '#')
                        p++;
                if (p == end || *p != '/') {
                        /* RFC 3986 §6.2.3, RFC 9110 §4.2.3: an empty path is "/". */
                        *ret_path = "/";
                        *ret_len = 1;
                        return true;
                }
        } else
                return false;                           /* authority-form, asterisk-form, garbage */

        for (e = p; e < end && *e != '?' && *e != '#'; e++)
                ;
        *ret_path = p;
        *ret_len = (size_t) (e - p);
        return true;
}

bool filter_path_match(const char *pattern, const char *path, size_t len) {
        size_t n;

        if (string_is_glob(pattern)) {
                char buf[4096];
                char *copy = len < sizeof(buf) ? buf : malloc(len + 1);
                bool m;

                if (!copy)
                        return false;
                memcpy(copy, path, len);
                copy[len] = 0;
                m = fnmatch(pattern, copy, 0) == 0;
                if (copy != buf)
                        free(copy);
                return m;
        }
        n = strlen(pattern);
        if (len < n || memcmp(pattern, path, n) != 0)
                return false;
        /* A prefix ends at a segment boundary, unless it already ends in '/'. */
        return len == n || (n > 0 && pattern[n - 1] == '/') || path[n] == '/';
}

static bool paths_match(const StringList *l, const char *path, size_t len) {
        for (size_t i = 0; i < l->n; i++)
                if (filter_path_match(l->items[i], path, len))
                        return true;
        return false;
}

static bool statuses_match(const StatusRangeList *l, unsigned status) {
        for (size_t i = 0; i < l->n; i++)
                if (status >= l->items[i].first && status <= l->items[i].last)
                        return true;
        return false;
}

bool filter_match_exchange(const Config *c, const char *method, const char *target, unsigned status) {
        const FilterSet *in = &c->filter.include, *ex = &c->filter.exclude;
        const char *path = NULL;
        size_t len = 0;

        if (target && !filter_target_path(target, strlen(target), &path, &len))
                path = NULL;            /* no path (CONNECT, OPTIONS *): unknown, as without a request */

        if (!include_ok(in->methods.n, method, method && strings_contain(&in->methods, method)) ||
            !include_ok(in->paths.n, path, path && paths_match(&in->paths, path, len)) ||
            !include_ok(in->statuses.n, status > 0, statuses_match(&in->statuses, status)))
                return false;
        if (exclude_hit(ex->methods.n, method, method && strings_contain(&ex->methods, method)) ||
            exclude_hit(ex->paths.n, path, path && paths_match(&ex->paths, path, len)) ||
            exclude_hit(ex->statuses.n, status > 0, statuses_match(&ex->statuses, status)))
                return false;
        return true;
}
