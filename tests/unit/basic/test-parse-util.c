/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Value parsers: sizes, durations, fractions, ports, CIDRs, statuses, names, globs, and their inverses. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "basic/parse-util.h"

static void test_size(void **state) {
        uint64_t v;
        char buf[32];

        assert_int_equal(parse_size("16384", &v), 0);
        assert_int_equal(v, 16384);
        assert_int_equal(parse_size("64K", &v), 0);
        assert_int_equal(v, 65536);
        assert_int_equal(parse_size("16MiB", &v), 0);
        assert_int_equal(v, 16u << 20);
        assert_int_equal(parse_size("1 GB", &v), 0);
        assert_int_equal(v, 1u << 30);
        assert_int_equal(parse_size("1.5M", &v), -EINVAL);
        assert_int_equal(parse_size("-1", &v), -EINVAL);
        assert_int_equal(parse_size("", &v), -EINVAL);
        assert_int_equal(parse_size("16 furlongs", &v), -EINVAL);
        assert_int_equal(parse_size("99999999999T", &v), -ERANGE);
        assert_int_equal(format_size(16u << 20, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "16MiB");
        assert_int_equal(format_size(32512, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "32512");
}

static void test_duration(void **state) {
        uint64_t v;
        char buf[32];

        assert_int_equal(parse_duration_ns("30s", &v), 0);
        assert_int_equal(v, 30 * NSEC_PER_SEC);
        assert_int_equal(parse_duration_ns("5min", &v), 0);
        assert_int_equal(v, 300 * NSEC_PER_SEC);
        assert_int_equal(parse_duration_ns("250ms", &v), 0);
        assert_int_equal(v, 250 * NSEC_PER_MSEC);
        assert_int_equal(parse_duration_ns("1h 30min", &v), 0);
        assert_int_equal(v, 5400 * NSEC_PER_SEC);
        assert_int_equal(parse_duration_ns("10", &v), 0);
        assert_int_equal(v, 10 * NSEC_PER_SEC);
        assert_int_equal(parse_duration_ns("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(parse_duration_ns("1min 30", &v), -EINVAL);
        assert_int_equal(parse_duration_ns("5 fortnights", &v), -EINVAL);
        assert_int_equal(parse_duration_ns("", &v), -EINVAL);
        assert_int_equal(parse_duration_ns("ms", &v), -EINVAL);
        assert_int_equal(parse_duration_ns("99999999999999d", &v), -ERANGE);
        assert_int_equal(format_duration_ns(300 * NSEC_PER_SEC, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "5min");
        assert_int_equal(format_duration_ns(1500 * NSEC_PER_MSEC, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1500ms");
}

static void test_fraction_decimal(void **state) {
        double d;
        char buf[32];

        assert_int_equal(parse_fraction("0.25", &d), 0);
        assert_true(d == 0.25);
        assert_int_equal(parse_fraction("10%", &d), 0);
        assert_true(d > 0.0999 && d < 0.1001);
        assert_int_equal(parse_fraction("1", &d), 0);
        assert_true(d == 1);
        assert_int_equal(parse_fraction("1.01", &d), -ERANGE);
        assert_int_equal(parse_fraction("101%", &d), -ERANGE);
        assert_int_equal(parse_fraction(".5", &d), -EINVAL);
        assert_int_equal(parse_fraction("0.", &d), -EINVAL);
        assert_int_equal(parse_fraction("nan", &d), -EINVAL);
        assert_int_equal(format_decimal(0.1, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0.1");
        assert_int_equal(format_decimal(1, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1");
        assert_int_equal(format_decimal(0.00001, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0.00001");
        assert_int_equal(parse_fraction("0.0000000001", &d), -ERANGE);  /* below one in a billion */
        assert_int_equal(parse_fraction("0.000", &d), 0);

        /* Found by fuzzing: "74%" and its printed form must be the same double, or
         * --cat-config output would not read back to the same configuration. */
        static const char *const texts[] = { "74%", "7.4%", "0.74", "33.333333%", "0.000000001", "99.999999999%",
                                             "0.12345678901234567890123", "0.0001%" };
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
                double a, b;
                assert_int_equal(parse_fraction(texts[i], &a), 0);
                assert_int_equal(format_decimal(a, buf, sizeof(buf)), 0);
                assert_int_equal(parse_fraction(buf, &b), 0);
                if (a != b)
                        fail_msg("%s -> %.17g -> %s -> %.17g", texts[i], a, buf, b);
        }
}

static void test_ports_status(void **state) {
        PortRange p;
        StatusRange s;

        assert_int_equal(parse_port_range("80", &p), 0);
        assert_int_equal(p.first, 80);
        assert_int_equal(p.last, 80);
        assert_int_equal(parse_port_range("8000-8100", &p), 0);
        assert_int_equal(p.last, 8100);
        assert_int_equal(parse_port_range("0", &p), -ERANGE);
        assert_int_equal(parse_port_range("65536", &p), -ERANGE);
        assert_int_equal(parse_port_range("9-8", &p), -ERANGE);
        assert_int_equal(parse_port_range("80-", &p), -EINVAL);
        assert_int_equal(parse_port_range("http", &p), -EINVAL);

        assert_int_equal(parse_status_range("5xx", &s), 0);
        assert_int_equal(s.first, 500);
        assert_int_equal(s.last, 599);
        assert_int_equal(parse_status_range("4XX", &s), 0);
        assert_int_equal(parse_status_range("404", &s), 0);
        assert_int_equal(s.first, 404);
        assert_int_equal(s.last, 404);
        assert_int_equal(parse_status_range("500-504", &s), 0);
        assert_int_equal(parse_status_range("6xx", &s), -EINVAL);
        assert_int_equal(parse_status_range("99", &s), -ERANGE);
        assert_int_equal(parse_status_range("600", &s), -ERANGE);
}

static void test_cidr(void **state) {
        Cidr c, m;
        char buf[64];
        uint8_t a[16] = { 10, 1, 2, 3 };

        assert_int_equal(parse_cidr("10.0.0.0/8", &c, NULL), 0);
        assert_int_equal(c.family, AF_INET);
        assert_int_equal(c.prefixlen, 8);
        assert_true(cidr_contains(&c, AF_INET, a));
        a[0] = 11;
        assert_false(cidr_contains(&c, AF_INET, a));
        assert_false(cidr_contains(&c, AF_INET6, a));
        assert_int_equal(parse_cidr("192.168.1.1", &c, NULL), 0);
        assert_int_equal(c.prefixlen, 32);
        assert_int_equal(parse_cidr("fe80::/10", &c, NULL), 0);
        assert_int_equal(c.family, AF_INET6);
        assert_int_equal(parse_cidr("::", &c, NULL), 0);
        assert_int_equal(parse_cidr("0.0.0.0/0", &c, NULL), 0);
        assert_int_equal(parse_cidr("10.0.0.1/8", &c, &m), -EADDRNOTAVAIL);
        assert_int_equal(format_cidr(&m, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "10.0.0.0/8");
        assert_int_equal(parse_cidr("10.0.0.0/33", &c, NULL), -ERANGE);
        assert_int_equal(parse_cidr("10.0.0.0/", &c, NULL), -EINVAL);
        assert_int_equal(parse_cidr("10.0.0/8", &c, NULL), -EINVAL);
        assert_int_equal(parse_cidr("/8", &c, NULL), -EINVAL);
        assert_int_equal(parse_cidr("fe80::1%eth0", &c, NULL), -EINVAL);
}

static void test_checkers(void **state) {
        assert_null(check_unit_name("nginx.service"));
        assert_null(check_unit_name("getty@tty1.service"));
        assert_null(check_unit_name("user-1000.slice"));
        assert_null(check_unit_name("session-3.scope"));
        assert_non_null(check_unit_name("nginx"));
        assert_non_null(check_unit_name("foo@.service"));
        assert_non_null(check_unit_name("a.timer"));
        assert_non_null(check_unit_name("bad name.service"));
        assert_non_null(check_unit_name(".service"));
        assert_non_null(check_unit_name("@x.service"));

        assert_null(check_glob("/usr/bin/*"));
        assert_null(check_glob("/v[12]/x"));
        assert_null(check_glob("/[]]x"));
        assert_null(check_glob("a\\*"));
        assert_non_null(check_glob("/a/[x"));
        assert_non_null(check_glob("a\\"));

        assert_null(check_cgroup_path("/system.slice/nginx.service"));
        assert_null(check_cgroup_path("/"));
        assert_non_null(check_cgroup_path("system.slice"));
        assert_non_null(check_cgroup_path("/a/../b"));
        assert_non_null(check_cgroup_path("/a//b"));

        assert_null(check_comm("nginx"));
        assert_null(check_comm("123456789012345"));
        assert_non_null(check_comm("1234567890123456"));
        assert_null(check_http_token("X-Api-Key"));
        assert_non_null(check_http_token("X Api"));
}

static void test_edit_distance(void **state) {
        assert_int_equal(edit_distance("level", "level", 3), 0);
        assert_int_equal(edit_distance("levle", "level", 3), 2);
        assert_int_equal(edit_distance("LEVEL", "level", 3), 0);
        assert_int_equal(edit_distance("payload_sise", "payload_size", 3), 1);
        assert_int_equal(edit_distance("abc", "xyzxyzxyz", 3), 4);
        assert_int_equal(edit_distance("", "ab", 3), 2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_size),
                cmocka_unit_test(test_duration),
                cmocka_unit_test(test_fraction_decimal),
                cmocka_unit_test(test_ports_status),
                cmocka_unit_test(test_cidr),
                cmocka_unit_test(test_checkers),
                cmocka_unit_test(test_edit_distance),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
