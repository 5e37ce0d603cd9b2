/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The selector: user-space filters, sampling and the rate limit together,
 * with real configurations (parsed as an operator writes them), injected
 * time and an injected executable lookup.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "output/daemon-entries.h"
#include "select/selector.h"

#define SEC NSEC_PER_SEC

static Config *config_with(const char *const *assignments) {
        Diagnostics diags = {};
        Config *c = NULL;

        assert_int_equal(config_new_defaults(&c), 0);
        for (const char *const *a = assignments; a && *a; a++)
                assert_int_equal(config_apply_assignment(c, *a, "test", &diags), 0);
        assert_int_equal(config_verify(c, &diags), 0);
        diagnostics_done(&diags);
        return c;
}

typedef struct Traffic {
        ConnInfo conn;
        HttpMessage req, resp;
        Exchange x;
} Traffic;

static void traffic_init(Traffic *t, const char *comm, uint32_t tgid, const char *method, const char *target,
                         unsigned status) {
        *t = (Traffic) {};
        t->conn.tgid = tgid;
        snprintf(t->conn.comm, sizeof(t->conn.comm), "%s", comm);
        t->req = (HttpMessage) { .kind = HTTP_MESSAGE_REQUEST, .method = (char *) method, .target = (char *) target };
        t->resp = (HttpMessage) { .kind = HTTP_MESSAGE_RESPONSE, .status = status };
        t->x = (Exchange) { .kind = EXCHANGE_COMPLETE, .conn = &t->conn, .request = &t->req, .response = &t->resp };
}

/* Executables by PID; counts lookups so the cache can be checked. */
static unsigned exe_calls;
static int fake_exe(void *userdata, uint32_t tgid, char *buf, size_t size) {
        exe_calls++;
        switch (tgid) {
        case 100:
                snprintf(buf, size, "/usr/sbin/nginx");
                return 0;
        case 200:
                snprintf(buf, size, "/usr/bin/python3.11");
                return 0;
        default:
                return -EACCES;   /* another user's process, without CAP_SYS_PTRACE */
        }
}

static void test_defaults_keep_everything(void **state) {
        _cleanup_(config_freep) Config *c = config_with(NULL);
        _cleanup_(selector_freep) Selector *s = NULL;
        Traffic t;

        assert_int_equal(selector_new(c, 0, fake_exe, NULL, 1, &s), 0);
        assert_true(selector_keeps_all(s));
        traffic_init(&t, "nginx", 100, "GET", "/", 200);
        for (unsigned i = 0; i < 1000; i++)
                assert_int_equal(selector_decide(s, &t.x, i), SELECT_KEEP);
        /* No executable filter: /proc is never read. */
        assert_int_equal(exe_calls, 0);
}

static void test_process_filters(void **state) {
        _cleanup_(config_freep) Config *c = config_with((const char *const[]) {
                "filter.include.exes=/usr/sbin/*", "filter.exclude.comms=curl", NULL });
        _cleanup_(selector_freep) Selector *s = NULL;
        Traffic t;

        exe_calls = 0;
        assert_int_equal(selector_new(c, 0, fake_exe, NULL, 1, &s), 0);
        assert_false(selector_keeps_all(s));

        traffic_init(&t, "nginx", 100, "GET", "/", 200);
        assert_int_equal(selector_decide(s, &t.x, 1), SELECT_KEEP);
        assert_int_equal(selector_decide(s, &t.x, 2), SELECT_KEEP);
        /* Cached: one lookup for two exchanges of the same process. */
        assert_int_equal(exe_calls, 1);
        /* ... and looked up again once the entry is old (the PID may have been reused). */
        assert_int_equal(selector_decide(s, &t.x, 11 * SEC), SELECT_KEEP);
        assert_int_equal(exe_calls, 2);

        traffic_init(&t, "python3", 200, "GET", "/", 200);
        assert_int_equal(selector_decide(s, &t.x, 1), SELECT_FILTERED);
        /* Unknown executable: fails the include list. */
        traffic_init(&t, "nginx", 300, "GET", "/", 200);
        assert_int_equal(selector_decide(s, &t.x, 1), SELECT_FILTERED);
        /* comm excluded even though the executable would match. */
        traffic_init(&t, "curl", 100, "GET", "/", 200);
        assert_int_equal(selector_decide(s, &t.x, 1), SELECT_FILTERED);
        assert_int_equal(selector_exe_cache_size(s), 3);
}

static void test_exchange_filters(void **state) {
        _cleanup_(config_freep) Config *c = config_with((const char *const[]) {
                "filter.include.methods=GET,POST", "filter.exclude.paths=/health", "filter.include.statuses=2xx,5xx",
                NULL });
        _cleanup_(selector_freep) Selector *s = NULL;
        Traffic t;

        assert_int_equal(selector_new(c, 0, fake_exe, NULL, 1, &s), 0);
        traffic_init(&t, "x", 1, "GET", "/api?q=1", 200);
        assert_int_equal(selector_decide(s, &t.x, 0), SELECT_KEEP);
        traffic_init(&t, "x", 1, "DELETE", "/api", 200);
        assert_int_equal(selector_decide(s, &t.x, 0), SELECT_FILTERED);
        traffic_init(&t, "x", 1, "GET", "/health/live", 200);
        assert_int_equal(selector_decide(s, &t.x, 0), SELECT_FILTERED);
        traffic_init(&t, "x", 1, "GET", "/healthz", 503);
        assert_int_equal(selector_decide(s, &t.x, 0), SELECT_KEEP);
        traffic_init(&t, "x", 1, "GET", "/a", 404);
        assert_int_equal(selector_decide(s, &t.x, 0), SELECT_FILTERED);
        /* No response: the status is unknown and fails a status include list. */
        t.x.kind = EXCHANGE_NO_RESPONSE;
        t.x.response = NULL;
        assert_int_equal(selector_decide(s, &t.x, 0), SELECT_FILTERED);
}

static void test_sampling(void **state) {
        _cleanup_(config_freep) Config *c = config_with((const char *const[]) { "sampling.rate=10%", NULL });
        _cleanup_(selector_freep) Selector *s = NULL;
        unsigned kept = 0, errors = 0;
        Traffic t, e;

        assert_int_equal(selector_new(c, 0, fake_exe, NULL, 42, &s), 0);
        traffic_init(&t, "x", 1, "GET", "/", 200);
        traffic_init(&e, "x", 1, "GET", "/", 502);
        for (unsigned i = 0; i < 100000; i++) {
                SelectVerdict v = selector_decide(s, &t.x, i);
                assert_true(v == SELECT_KEEP || v == SELECT_SAMPLED_OUT);
                kept += v == SELECT_KEEP;
                errors += selector_decide(s, &e.x, i) == SELECT_KEEP;
        }
        /* 10 % of 100000 with a generous tolerance (sd ~95). */
        assert_in_range(kept, 9000, 11000);
        /* keep_errors: every 5xx. */
        assert_int_equal(errors, 100000);

        /* Parse errors are never sampled out. */
        t.x = (Exchange) { .kind = EXCHANGE_PARSE_ERROR, .conn = &t.conn };
        for (unsigned i = 0; i < 100; i++)
                assert_int_equal(selector_decide(s, &t.x, i), SELECT_KEEP);
}

static void test_rate_limit_summary(void **state) {
        _cleanup_(config_freep) Config *c = config_with((const char *const[]) {
                "rate_limit.per_second=100", "rate_limit.summary_interval=10s", NULL });
        _cleanup_(selector_freep) Selector *s = NULL;
        RateLimitSummary sum;
        uint64_t kept = 0, limited = 0;
        Traffic t;

        assert_int_equal(selector_new(c, 0, fake_exe, NULL, 1, &s), 0);
        traffic_init(&t, "x", 1, "GET", "/", 200);
        /* 1000 exchanges per second for 10 s: 100/s pass (plus the initial burst of 100). */
        for (uint64_t i = 0; i < 10000; i++) {
                SelectVerdict v = selector_decide(s, &t.x, i * (SEC / 1000));
                kept += v == SELECT_KEEP;
                limited += v == SELECT_RATE_LIMITED;
        }
        assert_int_equal(kept + limited, 10000);
        assert_in_range(kept, 1099, 1101);

        assert_false(selector_take_summary(s, 9 * SEC, false, &sum));
        assert_true(selector_take_summary(s, 10 * SEC, false, &sum));
        /* Exact: the summary carries every refused exchange. */
        assert_int_equal(sum.refused, limited);
        assert_int_equal(sum.passed, kept);
        assert_int_equal(sum.interval_ns, 10 * SEC);
        assert_int_equal(sum.per_second, 100);
        /* Nothing refused since: no summary, even when forced. */
        assert_false(selector_take_summary(s, 30 * SEC, false, &sum));
        assert_false(selector_take_summary(s, 31 * SEC, true, &sum));
}

static void test_reload_keeps_counts(void **state) {
        _cleanup_(config_freep) Config *c1 = config_with((const char *const[]) { "rate_limit.per_second=10", NULL });
        _cleanup_(config_freep) Config *c2 = config_with((const char *const[]) { "rate_limit.per_second=20", NULL });
        _cleanup_(selector_freep) Selector *s1 = NULL, *s2 = NULL;
        RateLimitSummary sum;
        uint64_t limited = 0;
        Traffic t;

        traffic_init(&t, "x", 1, "GET", "/", 200);
        assert_int_equal(selector_new(c1, 0, fake_exe, NULL, 1, &s1), 0);
        for (unsigned i = 0; i < 50; i++)
                limited += selector_decide(s1, &t.x, 0) == SELECT_RATE_LIMITED;
        assert_int_equal(limited, 40);

        /* Reload: the bucket is empty and the 40 refused are still to be reported. */
        assert_int_equal(selector_new(c2, SEC / 2, fake_exe, NULL, 1, &s2), 0);
        selector_take_over(s2, s1, SEC / 2);
        s1 = selector_free(s1);
        /* Half a second at 10/s refilled 5 tokens before the switch (not a full bucket). */
        for (unsigned i = 0; i < 10; i++)
                limited += selector_decide(s2, &t.x, SEC / 2) == SELECT_RATE_LIMITED;
        assert_int_equal(limited, 45);
        assert_true(selector_take_summary(s2, 0, true, &sum));
        assert_int_equal(sum.refused, 45);
        assert_int_equal(sum.per_second, 20);
}

static void test_summary_entry(void **state) {
        static FormatEntry e;

        assert_int_equal(format_rate_limit_summary(&e, UINT64_MAX, 12345, 60 * SEC, UINT64_MAX, 7), 0);
        assert_string_equal(format_entry_get(&e, "MESSAGE_ID"), FORMAT_MESSAGE_ID_RATE_LIMITED);
        assert_string_equal(format_entry_get(&e, "HTTP_TRACER_RATE_LIMITED"), "18446744073709551615");
        assert_string_equal(format_entry_get(&e, "HTTP_TRACER_RATE_LIMIT_PASSED"), "12345");
        assert_string_equal(format_entry_get(&e, "HTTP_TRACER_INTERVAL_USEC"), "60000000");
        assert_string_equal(format_entry_get(&e, "HTTP_TRACER_RATE_LIMIT_BURST"), "7");
        assert_string_equal(format_entry_get(&e, "PRIORITY"), "5");
        assert_string_equal(format_entry_get(&e, "MESSAGE"),
                            "Rate limit: 18446744073709551615 exchanges not logged in the last 60.0 s "
                            "(12345 logged; limit 18446744073709551615/s, burst 7)");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults_keep_everything),
                cmocka_unit_test(test_process_filters),
                cmocka_unit_test(test_exchange_filters),
                cmocka_unit_test(test_sampling),
                cmocka_unit_test(test_rate_limit_summary),
                cmocka_unit_test(test_reload_keeps_counts),
                cmocka_unit_test(test_summary_entry),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
