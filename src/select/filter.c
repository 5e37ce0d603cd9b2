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

void filter_target_path(const char *target, size_t len, const char **ret_path, size_t *ret_len) {
        const char *p = target, *end = target + len;

        /* absolute-form: skip "scheme://authority" */
        for (const char *s = target; s + 2 < end && *s != '/' && *s != '?' && *s != '#'; s++)
                if (s[0] == ':' && s[1] == '/' && s[2] == '/') {
                        p = s + 3;
                        while (p < end && *p != '/' && *p != '?' && *p != '#')
                                p++;
                        break;
                }
        const char *e = p;
        while (e < end && *e != '?' && *e != '#')
                e++;
        *ret_path = p;
        *ret_len = (size_t) (e - p);
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

        if (target)
                filter_target_path(target, strlen(target), &path, &len);

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
