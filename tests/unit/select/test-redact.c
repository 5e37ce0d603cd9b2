/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Redaction of headers and query parameters, including encoded, repeated and odd forms. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/configuration.h"
#include "select/redact.h"

static Redactor *defaults(void) {
        Config *c;
        Redactor *r;

        assert_int_equal(config_new_defaults(&c), 0);
        assert_int_equal(redactor_new_from_config(c, &r), 0);
        config_free(c);
        return r;
}

/* Redacts s; expect NULL means "unchanged". */
static void check_url(const Redactor *r, const char *s, const char *expect) {
        char *out = (char *) 0x1;
        size_t n = 0;
        int k;

        k = redactor_url(r, s, strlen(s), &out, &n);
        if (!expect) {
                if (k != 0)
                        fail_msg("'%s' should be unchanged, got '%s'", s, out);
                assert_null(out);
                assert_int_equal(n, strlen(s));
                return;
        }
        if (k != 1)
                fail_msg("'%s' should become '%s', was unchanged", s, expect);
        assert_string_equal(out, expect);
        assert_int_equal(n, strlen(expect));
        free(out);
}

static void test_query_parameters(void **state) {
        Redactor *r = defaults();

        check_url(r, "/a?token=abc", "/a?token=***");
        check_url(r, "/a?x=1&TOKEN=abc&y=2", "/a?x=1&TOKEN=***&y=2");
        check_url(r, "/login?user=bob&password=hunter2", "/login?user=bob&password=***");
        /* percent-encoded names, once (as a server decodes) */
        check_url(r, "/a?%74oken=abc", "/a?%74oken=***");
        check_url(r, "/a?%54%4F%4B%45%4E=abc", "/a?%54%4F%4B%45%4E=***");
        check_url(r, "/a?api%5Fkey=abc", "/a?api%5Fkey=***");
        check_url(r, "/a?%2574oken=abc", NULL);
        check_url(r, "/a?tok+en=abc", NULL);
        check_url(r, "/a?to%zzken=abc", NULL);
        /* repeated */
        check_url(r, "/a?token=1&token=2&token=3", "/a?token=***&token=***&token=***");
        /* empty values and names without '=' */
        check_url(r, "/a?token=", NULL);
        check_url(r, "/a?token", NULL);
        check_url(r, "/a?token&x=1", NULL);
        check_url(r, "/a?token=&secret=s", "/a?token=&secret=***");
        /* ';' separates too, and a masked value runs to the next '&' */
        check_url(r, "/a?x=1;token=abc&y=2", "/a?x=1;token=***&y=2");
        check_url(r, "/a?token=abc;def&y=2", "/a?token=***&y=2");
        /* brackets */
        check_url(r, "/a?token[]=1&user[password]=2&a[b][secret]=3", "/a?token[]=***&user[password]=***&a[b][secret]=***");
        /* fragments, absolute-form, no query */
        check_url(r, "/cb#access_token=xyz&state=1", "/cb#access_token=***&state=1");
        check_url(r, "/a?q=1#frag", NULL);
        check_url(r, "/a?q=1#sig=abc", "/a?q=1#sig=***");
        check_url(r, "/a#x?token=1", "/a#x?token=***");
        check_url(r, "http://h:8080/a?api_key=k", "http://h:8080/a?api_key=***");
        check_url(r, "/login?next=/x?token=s&y=1", "/login?next=/x?token=***&y=1");
        check_url(r, "/#/route?token=s", "/#/route?token=***");
        check_url(r, "/path/token=abc", NULL);
        check_url(r, "/a?", NULL);
        check_url(r, "?", NULL);
        check_url(r, "", NULL);
        check_url(r, "/a?=x&&=&token==", "/a?=x&&=&token=***");
        /* names are not substrings */
        check_url(r, "/a?tokens=1&mytoken=2", NULL);
        redactor_free(r);
}

static void test_headers(void **state) {
        Redactor *r = defaults();
        char *out;
        size_t n;

        assert_true(redactor_header_is_secret(r, "authorization", 13));
        assert_true(redactor_header_is_secret(r, "SET-COOKIE", 10));
        assert_false(redactor_header_is_secret(r, "Authorizatio", 12));
        assert_false(redactor_header_is_secret(r, "Host", 4));

        assert_int_equal(redactor_header(r, "Cookie", 6, "a=b", 3, &out, &n), 1);
        assert_string_equal(out, "***");
        assert_int_equal(n, 3);
        free(out);
        assert_int_equal(redactor_header(r, "referer", 7, "http://x/?token=t", 17, &out, &n), 1);
        assert_string_equal(out, "http://x/?token=***");
        free(out);
        assert_int_equal(redactor_header(r, "Location", 8, "/next", 5, &out, &n), 0);
        assert_null(out);
        assert_int_equal(redactor_header(r, "Host", 4, "x?token=1", 9, &out, &n), 0);
        assert_null(out);
        redactor_free(r);
}

static void test_disabled_and_custom(void **state) {
        char *h[] = { "X-Api-Key" }, *p[] = { "code" };
        Redactor *r;
        char *out;

        assert_int_equal(redactor_new(false, h, 1, p, 1, "[redacted]", &r), 0);
        assert_false(redactor_header_is_secret(r, "X-Api-Key", 9));
        assert_int_equal(redactor_url(r, "/?code=1", 8, &out, NULL), 0);
        redactor_free(r);

        assert_int_equal(redactor_new(true, h, 1, p, 1, "[redacted]", &r), 0);
        assert_true(redactor_header_is_secret(r, "x-api-key", 9));
        check_url(r, "/?code=1&token=2", "/?code=[redacted]&token=2");
        assert_string_equal(redactor_mask(r), "[redacted]");
        redactor_free(r);
}

static void test_bounded_output(void **state) {
        /* Worst case: every byte pair a masked one-byte value; output within len * (1 + mask). */
        char *p[] = { "a" };
        char mask[65];
        Redactor *r;
        size_t len = 1 + 4 * 10000;
        char *s = malloc(len + 1), *out;
        size_t n;

        memset(mask, 'M', 64);
        mask[64] = 0;
        s[0] = '?';
        for (size_t i = 0; i < 10000; i++)
                memcpy(s + 1 + 4 * i, "a=x&", 4);
        s[len] = 0;
        assert_int_equal(redactor_new(true, NULL, 0, p, 1, mask, &r), 0);
        assert_int_equal(redactor_url(r, s, len, &out, &n), 1);
        assert_true(n <= len * (1 + 64));
        assert_int_equal(n, 1 + 10000 * (2 + 64 + 1));
        assert_int_equal(strlen(out), n);
        assert_null(strstr(out, "=x"));
        free(out);
        free(s);
        redactor_free(r);
}

/* Redacts free text (one excerpt line); expect NULL means "unchanged". */
static void check_text(const Redactor *r, const char *s, const char *expect) {
        char *out = (char *) 0x1;
        size_t n = 0;
        int k;

        k = redactor_text(r, s, strlen(s), &out, &n);
        if (!expect) {
                if (k != 0)
                        fail_msg("'%s' should be unchanged, got '%s'", s, out);
                assert_null(out);
                return;
        }
        if (k != 1)
                fail_msg("'%s' should become '%s', but was left as it is", s, expect);
        if (strcmp(out, expect) != 0)
                fail_msg("'%s' became '%s', expected '%s'", s, out, expect);
        assert_int_equal(n, strlen(expect));
        free(out);
}

/*
 * Free text: the twelve shapes of issue 15 item 9 (8 of which leaked when
 * only line starts and '&;?' counted as a name's start), and the limits.
 */
static void test_text(void **state) {
        _cleanup_(redactor_freep) Redactor *r = defaults();

        /* the four that were already masked */
        check_text(r, "token=S1", "token=***");
        check_text(r, "a=1&token=S1&b=2", "a=1&token=***&b=2");
        check_text(r, "a=1;token=S1", "a=1;token=***");
        check_text(r, "/x?token=S1 HTTP/1.1", "/x?token=***");
        /* the eight that leaked */
        check_text(r, "ZZ token=S1", "ZZ token=***");
        check_text(r, "a=1,token=S1", "a=1,token=***");
        check_text(r, "{\"token\":\"S1\",\"a\":1}", "{\"token\":\"***\",\"a\":1}");
        check_text(r, "/x%20token=S1", "/x%20token=***");
        check_text(r, "f(token=S1)", "f(token=***");
        check_text(r, "{'password': 'S1'}", "{'password': '***'}");
        check_text(r, "x\ttoken = S1", "x\ttoken = ***");
        check_text(r, "<a href=\"/?api_key=S1\">", "<a href=\"/?api_key=***");
        /* secret headers anywhere on the line, not only at its start */
        check_text(r, "Cookie: a=1; b=2", "Cookie: ***");
        check_text(r, "zz Authorization: Bearer S1", "zz Authorization: ***");
        check_text(r, "proxy-authorization \t: Basic S1", "proxy-authorization \t: ***");
        check_text(r, "{\"authorization\" : \"Bearer S1\"}", "{\"authorization\" : \"***\"}");
        /* names: encoded, bracketed, dotted, any case */
        check_text(r, "%74oken=S1", "%74oken=***");
        check_text(r, "user[password]=S1&x=1", "user[password]=***&x=1");
        check_text(r, "db.password=S1", "db.password=***");
        check_text(r, "TOKEN=S1", "TOKEN=***");
        /* quoted values: escapes, cut by the window */
        check_text(r, "\"token\":\"a\\\"S1\",\"x\":2", "\"token\":\"***\",\"x\":2");
        check_text(r, "\"token\":\"S1", "\"token\":\"***");
        /* every repetition; overlapping values become one mask */
        check_text(r, "token=S1&sig=S2", "token=***&sig=***");
        check_text(r, "Cookie: token=S1", "Cookie: ***");
        /* a judgment on each separator, whatever came before (an unclosed or escaped quote) */
        check_text(r, "x=\"a\\\"password\":\"S1\"", "x=\"a\\\"password\":\"***\"");
        check_text(r, "token=\"a\\\"password\":\"S1\"", "token=\"***\":\"***\"");
        /* not masked: another name, empty values, encoded separators, non-secrets */
        check_text(r, "ZZtoken=S1", NULL);
        check_text(r, "tokens=S1", NULL);
        check_text(r, "token=&a=1", NULL);
        check_text(r, "\"token\":\"\"", NULL);
        check_text(r, "Authorization:", NULL);
        check_text(r, "token%3DS1", NULL);
        check_text(r, "Host: example.com", NULL);
        check_text(r, "Referer: http://x/?a=1", NULL);
        check_text(r, "Referer: http://x/?api_key=S1", "Referer: http://x/?api_key=***");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_query_parameters),
                cmocka_unit_test(test_headers),
                cmocka_unit_test(test_disabled_and_custom),
                cmocka_unit_test(test_bounded_output),
                cmocka_unit_test(test_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
