/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Any bytes as a request-target, with and without templates: the route is
 * at most ROUTE_LEN_MAX bytes of printable ASCII without '"' or '\', starts
 * with '/' (or is "*"), names a template exactly when one matched, and
 * folding a route again gives the same route (a label is a fixed point).
 * The same bytes as a template are checked, and when valid, matched.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "select/route-fold.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const RouteFold *f, const char *t, size_t n) {
        char buf[ROUTE_BUF_SIZE], again[ROUTE_BUF_SIZE];
        size_t len;
        int r;

        memset(buf, 0x55, sizeof(buf));
        r = route_fold(f, t, n, buf);
        len = strnlen(buf, sizeof(buf));
        if (len == 0 || len > ROUTE_LEN_MAX)
                abort();
        if (buf[0] != '/' && strcmp(buf, "*") != 0)
                abort();
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) buf[i] <= 0x20 || (unsigned char) buf[i] >= 0x7f || buf[i] == '"' || buf[i] == '\\')
                        abort();
        if (r >= (int) route_fold_templates(f) || r < -1)
                abort();
        /* A route folds to itself (a template's text matches that template, or one before it). */
        (void) route_fold(f, buf, len, again);
        if (strcmp(buf, again) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static RouteFold *f;
        char *t;

        if (!f) {
                char *templates[] = { "/api/users/*", "/api/users/*/orders/*", "/static/**", "/", "/a//b" };
                if (route_fold_new(templates, 5, &f) < 0)
                        abort();
        }
        check(NULL, (const char *) data, size);
        check(f, (const char *) data, size);

        /* The bytes as a template: checked, and when valid it must match a path equal to itself. */
        t = malloc(size + 1);
        if (!t)
                return 0;
        memcpy(t, data, size);
        t[size] = 0;
        if (!route_template_check(t) && strlen(t) == size) {
                RouteFold *g;
                char buf[ROUTE_BUF_SIZE];

                if (route_fold_new(&t, 1, &g) < 0)
                        abort();
                /* "*" and "**" segments match themselves as paths; literals match exactly */
                if (route_fold(g, t, size, buf) != 0 || strcmp(buf, t) != 0)
                        abort();
                route_fold_free(g);
        }
        free(t);
        return 0;
}
