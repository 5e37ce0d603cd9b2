/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control protocol's JSON builder and parser, and that they agree. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/json-build.h"
#include "basic/json-value.h"

static void test_build(void **state) {
        _cleanup_(freep) char *s = NULL;
        JsonBuild b;
        size_t len;

        json_build_init(&b, 1024);
        json_build_object_begin(&b, NULL);
        json_build_u64(&b, "a", UINT64_MAX);
        json_build_i64(&b, "n", -5);
        json_build_string(&b, "s", "q\"\\\n\x01\x7f é \xff");
        json_build_array_begin(&b, "l");
        json_build_bool(&b, NULL, true);
        json_build_null(&b, NULL);
        json_build_object_begin(&b, NULL);
        json_build_object_end(&b);
        json_build_array_end(&b);
        json_build_object_end(&b);
        assert_int_equal(json_build_finish(&b, true, &s, &len), 0);
        assert_string_equal(s, "{\"a\":18446744073709551615,\"n\":-5,"
                               "\"s\":\"q\\\"\\\\\\u000a\\u0001\\u007f é \\ufffd\","
                               "\"l\":[true,null,{}]}\n");
        assert_int_equal(len, strlen(s));
}

static void test_build_errors(void **state) {
        char *s = NULL;
        JsonBuild b;

        /* Over the cap: sticky -ENOBUFS, nothing returned. */
        json_build_init(&b, 16);
        json_build_object_begin(&b, NULL);
        json_build_string(&b, "key", "a value longer than sixteen bytes");
        json_build_object_end(&b);
        assert_int_equal(json_build_finish(&b, false, &s, NULL), -ENOBUFS);
        assert_null(s);

        /* Unbalanced. */
        json_build_init(&b, 1024);
        json_build_object_begin(&b, NULL);
        assert_int_equal(json_build_finish(&b, false, &s, NULL), -EINVAL);
        json_build_init(&b, 1024);
        json_build_object_end(&b);
        assert_int_equal(json_build_finish(&b, false, &s, NULL), -EINVAL);
}

static void test_parse(void **state) {
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        const char *text = " {\"version\": 1, \"x\": [1.5e3, -0, true, false, null],"
                           " \"s\": \"\\u00e9\\ud83d\\ude00\\n\\/\", \"version\": 2,"
                           " \"big\": 18446744073709551615, \"over\": 18446744073709551616}\n";
        uint64_t u;

        assert_int_equal(json_parse(text, strlen(text), &v), 0);
        /* Repeated keys: the last wins. */
        assert_int_equal(json_value_u64(json_object_get(v, "version"), &u), 0);
        assert_int_equal(u, 2);
        assert_int_equal(json_object_get(v, "x")->n, 5);
        assert_int_equal(json_value_u64(json_object_get(v, "x")->items[0], &u), -EINVAL);
        assert_string_equal(json_value_string(json_object_get(v, "s")), "é😀\n/");
        assert_int_equal(json_value_u64(json_object_get(v, "big"), &u), 0);
        assert_true(u == UINT64_MAX);
        assert_int_equal(json_value_u64(json_object_get(v, "over"), &u), -ERANGE);
        assert_null(json_object_get(v, "missing"));
        assert_null(json_value_string(json_object_get(v, "version")));
}

static void test_parse_invalid(void **state) {
        static const char *const bad[] = {
                "", " ", "{", "}", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a:1}", "01", "1.", "-", "1e",
                "\"unterminated", "\"bad \\x escape\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\u0000\"",
                "\"ctl \x01\"", "tru", "nul", "{} {}", "[1] x",
        };
        char deep[200];
        JsonValue *v = NULL;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(json_parse(bad[i], strlen(bad[i]), &v), -EINVAL);
                assert_null(v);
        }

        /* Nesting beyond the cap is refused without recursing further. */
        memset(deep, '[', sizeof(deep));
        assert_int_equal(json_parse(deep, sizeof(deep), &v), -E2BIG);
}

static void test_round_trip(void **state) {
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        _cleanup_(freep) char *s = NULL;
        JsonBuild b;
        char all[256];

        /* Every byte value but NUL survives build -> parse (invalid UTF-8 as U+FFFD). */
        for (int i = 1; i < 128; i++)
                all[i - 1] = (char) i;
        all[127] = 0;
        json_build_init(&b, 4096);
        json_build_object_begin(&b, NULL);
        json_build_string(&b, "all", all);
        json_build_object_end(&b);
        assert_int_equal(json_build_finish(&b, false, &s, NULL), 0);
        assert_int_equal(json_parse(s, strlen(s), &v), 0);
        assert_string_equal(json_value_string(json_object_get(v, "all")), all);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_build),
                cmocka_unit_test(test_build_errors),
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_invalid),
                cmocka_unit_test(test_round_trip),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
