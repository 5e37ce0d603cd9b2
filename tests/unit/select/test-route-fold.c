/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Route folding: templates first, then the documented heuristic; every route bounded. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select/route-fold.h"

static void expect_route(const RouteFold *f, const char *target, const char *want, int want_index) {
        char buf[ROUTE_BUF_SIZE];
        int r;

        r = route_fold(f, target, strlen(target), buf);
        if (strcmp(buf, want) != 0 || r != want_index)
                fail_msg("%s: got %s (%d), want %s (%d)", target, buf, r, want, want_index);
}

static void test_heuristic(void **state) {
        expect_route(NULL, "/", "/", -1);
        expect_route(NULL, "/index.html", "/index.html", -1);
        expect_route(NULL, "/api/users/12345", "/api/users/*", -1);
        expect_route(NULL, "/api/users/12345/orders/7?x=1&token=abc", "/api/users/*/orders/*", -1);
        expect_route(NULL, "/items/3f2504e0-4f89-11d3-9a0c-0305e82c3301", "/items/*", -1);
        expect_route(NULL, "/items/3F2504E0-4F89-11D3-9A0C-0305E82C3301/x", "/items/*/x", -1);
        /* hex with a digit, 8 or more: an id; without a digit or shorter: a word */
        expect_route(NULL, "/blob/5f2b9c1e", "/blob/*", -1);
        expect_route(NULL, "/blob/deadbeef", "/blob/deadbeef", -1);
        expect_route(NULL, "/blob/cafe12", "/blob/cafe12", -1);
        expect_route(NULL, "/commit/e83c5163316f89bfbde7d9ab23ca2e25604af290", "/commit/*", -1);
        /* letters and digits mixed, 16 or more: a token; words and versions stay */
        expect_route(NULL, "/reset/aZ9kq3Lm0pQ8x7Yt", "/reset/*", -1);
        expect_route(NULL, "/api/v2/status", "/api/v2/status", -1);
        expect_route(NULL, "/static/app.min.js", "/static/app.min.js", -1);
        expect_route(NULL, "/a-very-long-blog-post-title-2024", "/a-very-long-blog-post-title-2024", -1);
        /* empty segments and trailing slashes are kept */
        expect_route(NULL, "/api/", "/api/", -1);
        expect_route(NULL, "//x", "//x", -1);
        /* absolute-form: the path only; no path at all: "*" */
        expect_route(NULL, "http://example.com:8080/u/42?q", "/u/*", -1);
        expect_route(NULL, "http://example.com", "/", -1);
        expect_route(NULL, "example.com:443", "*", -1);
        expect_route(NULL, "*", "*", -1);
        expect_route(NULL, "", "*", -1);
        /* fragments go like queries */
        expect_route(NULL, "/page#section-12", "/page", -1);
}

static void test_unsafe_bytes(void **state) {
        char buf[ROUTE_BUF_SIZE];
        const char raw[] = "/a/\xff\xfe/b\"c/d\\e/f g/\x01/ok";

        route_fold(NULL, raw, sizeof(raw) - 1, buf);
        assert_string_equal(buf, "/a/*/*/*/*/*/ok");
        /* a NUL inside the target is a byte like any other (the target need not be a C string) */
        route_fold(NULL, "/x\0y/z", 6, buf);
        assert_string_equal(buf, "/*/z");
}

static void test_bounds(void **state) {
        char target[8192], buf[ROUTE_BUF_SIZE];
        size_t n = 0;

        /* deep: 16 segments kept, then the segment "**" */
        for (int i = 0; i < 40; i++)
                n += (size_t) snprintf(target + n, sizeof(target) - n, "/s%c", 'a' + i % 26);
        route_fold(NULL, target, n, buf);
        assert_string_equal(buf, "/sa/sb/sc/sd/se/sf/sg/sh/si/sj/sk/sl/sm/sn/so/sp/**");

        /* long segments: over 64 bytes, "*" */
        memset(target, 'x', 100);
        target[0] = '/';
        route_fold(NULL, target, 100, buf);
        assert_string_equal(buf, "/*");

        /* wide: cut at a segment boundary before 128 bytes, then "**" */
        n = 0;
        for (int i = 0; i < 6; i++) {
                target[n++] = '/';
                memset(target + n, 'a' + i, 60);
                n += 60;
        }
        route_fold(NULL, target, n, buf);
        assert_true(strlen(buf) <= ROUTE_LEN_MAX);
        assert_int_equal(strlen(buf), 2 * 61 + 3);
        assert_string_equal(buf + 2 * 61, "/**");
}

static void test_templates(void **state) {
        char *t[] = { "/api/users/*", "/static/**", "/api/users/*/orders/*", "/", "/exact/path" };
        RouteFold *f;

        assert_int_equal(route_fold_new(t, ELEMENTSOF(t), &f), 0);
        assert_int_equal(route_fold_templates(f), 5);
        expect_route(f, "/api/users/bob", "/api/users/*", 0);
        expect_route(f, "/api/users/bob?tab=1", "/api/users/*", 0);
        /* "*" is exactly one non-empty segment */
        expect_route(f, "/api/users/", "/api/users/", -1);
        expect_route(f, "/api/users/bob/x", "/api/users/bob/x", -1);
        expect_route(f, "/api/users/bob/orders/99", "/api/users/*/orders/*", 2);
        /* "**" matches zero or more segments */
        expect_route(f, "/static", "/static/**", 1);
        expect_route(f, "/static/", "/static/**", 1);
        expect_route(f, "/static/css/site.css", "/static/**", 1);
        expect_route(f, "/staticx", "/staticx", -1);
        expect_route(f, "/", "/", 3);
        expect_route(f, "/exact/path", "/exact/path", 4);
        expect_route(f, "/exact/path/", "/exact/path/", -1);
        expect_route(f, "/Exact/path", "/Exact/path", -1);
        /* the heuristic still folds what no template names */
        expect_route(f, "/other/42", "/other/*", -1);
        route_fold_free(f);
}

static void test_template_check(void **state) {
        char *bad[] = { "api", "/a?b", "/a b", "/a/**/b", "/a*", "/a/b*c", "/**x", "/a\"" };
        char *good[] = { "/", "/*", "/**", "/a/*/b/**", "/a//b" };
        char longt[ROUTE_LEN_MAX + 2];
        RouteFold *f;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_non_null(route_template_check(bad[i]));
                assert_int_equal(route_fold_new(&bad[i], 1, &f), -EINVAL);
        }
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (route_template_check(good[i]))
                        fail_msg("%s: %s", good[i], route_template_check(good[i]));
        memset(longt, 'a', sizeof(longt) - 1);
        longt[0] = '/';
        longt[sizeof(longt) - 1] = 0;
        assert_non_null(route_template_check(longt));
        longt[ROUTE_LEN_MAX] = 0;
        assert_null(route_template_check(longt));
        assert_non_null(route_template_check(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_heuristic),
                cmocka_unit_test(test_unsafe_bytes),
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_templates),
                cmocka_unit_test(test_template_check),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
