/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * top's arithmetic over `services` snapshots (the shape of
 * docs/control-protocol.md): the rows of an interval are the differences of
 * two cumulative snapshots, rates over the monotonic clock, percentiles from
 * the histograms' difference; a restart starts over; sorting by rate,
 * errors and latency; malformed answers are refused.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/json-build.h"
#include "views/top-model.h"

typedef struct Svc {
        const char *unit, *role;
        uint64_t requests, s2, s4, s5;
        uint64_t latency_value;         /* every request took this long */
} Svc;

static void counts(JsonBuild *b, const Svc *s) {
        Histogram *h = calloc(1, sizeof(Histogram));

        assert_non_null(h);
        histogram_record_n(h, s->latency_value, s->requests);
        json_build_u64(b, "requests", s->requests);
        json_build_object_begin(b, "status");
        json_build_u64(b, "1xx", 0);
        json_build_u64(b, "2xx", s->s2);
        json_build_u64(b, "3xx", 0);
        json_build_u64(b, "4xx", s->s4);
        json_build_u64(b, "5xx", s->s5);
        json_build_object_end(b);
        json_build_u64(b, "no_response", 0);
        json_build_u64(b, "request_bytes", 10 * s->requests);
        json_build_u64(b, "response_bytes", 90 * s->requests);
        json_build_u64(b, "duration_usec_sum", s->latency_value * s->requests);
        histogram_to_json(h, b, "latency");
        free(h);
}

/* A snapshot at @mono seconds after a daemon start at realtime 1000 s; @envelope: as the control socket answers. */
static char *snapshot(uint64_t mono, const Svc *svcs, size_t n, bool envelope) {
        char *out = NULL;
        JsonBuild b;

        json_build_init(&b, 1 << 20);
        json_build_object_begin(&b, NULL);
        if (envelope) {
                json_build_u64(&b, "version", 1);
                json_build_bool(&b, "ok", true);
                json_build_object_begin(&b, "services");
        }
        json_build_u64(&b, "since_usec", 1000 * USEC_PER_SEC);
        json_build_u64(&b, "now_usec", (1000 + mono) * USEC_PER_SEC);
        json_build_u64(&b, "monotonic_usec", mono * USEC_PER_SEC);
        json_build_object_begin(&b, "health");
        json_build_u64(&b, "exchanges", 0);
        json_build_u64(&b, "ringbuf_drops", 1);
        json_build_u64(&b, "entries_dropped", 2);
        json_build_u64(&b, "ringbuf_used_bytes", 25);
        json_build_u64(&b, "ringbuf_size_bytes", 100);
        json_build_u64(&b, "cpu_usec", mono * 10000);        /* 1 % of a core */
        json_build_object_end(&b);
        histogram_params_to_json(&b, "histogram");
        json_build_array_begin(&b, "services");
        for (size_t i = 0; i < n; i++) {
                Svc route = svcs[i];

                json_build_object_begin(&b, NULL);
                json_build_string(&b, "unit", svcs[i].unit);
                json_build_string(&b, "role", svcs[i].role);
                counts(&b, &svcs[i]);
                json_build_u64(&b, "routes_folded", 0);
                json_build_array_begin(&b, "routes");
                json_build_object_begin(&b, NULL);
                json_build_string(&b, "route", "/api/*");
                counts(&b, &route);
                json_build_object_end(&b);
                json_build_array_end(&b);
                json_build_object_end(&b);
        }
        json_build_array_end(&b);
        if (envelope)
                json_build_object_end(&b);
        json_build_object_end(&b);
        assert_int_equal(json_build_finish(&b, true, &out, NULL), 0);
        return out;
}

static TopSnapshot *parse(char *text) {
        TopSnapshot *s = NULL;

        assert_int_equal(top_snapshot_parse(text, strlen(text), &s), 0);
        free(text);
        return s;
}

static void test_interval(void **state) {
        const Svc before[] = {
                { "nginx.service", "server", 100, 100, 0, 0, 200 },
                { "comm:curl", "client", 10, 10, 0, 0, 5000 },
        };
        /* 10 s later: nginx +50 (20 of them 5xx, 10 4xx) at 3000 µs; curl idle; a new service. */
        const Svc after_h[] = {
                { "nginx.service", "server", 150, 120, 10, 20, 200 },
                { "comm:curl", "client", 10, 10, 0, 0, 5000 },
                { "api.service", "server", 30, 30, 0, 0, 100000 },
        };
        _cleanup_(top_snapshot_freep) TopSnapshot *a = parse(snapshot(5, before, 2, false));
        _cleanup_(top_snapshot_freep) TopSnapshot *b = NULL;
        TopView v;

        /* The nginx histogram after: 100 at 200 µs, then 50 at 3000 µs. Built by hand. */
        b = parse(snapshot(15, after_h, 3, true));
        histogram_reset(&b->services[0].c.latency);
        histogram_record_n(&b->services[0].c.latency, 200, 100);
        histogram_record_n(&b->services[0].c.latency, 3000, 50);

        assert_int_equal(top_view_build(a, b, SIZE_MAX, &v), 0);
        assert_false(v.restarted);
        assert_true(v.interval_sec == 10.0);
        assert_int_equal(v.n_rows, 3);
        top_view_sort(&v, TOP_SORT_RATE);
        assert_string_equal(v.rows[0].name, "nginx.service");
        assert_int_equal(v.rows[0].requests, 50);
        assert_true(v.rows[0].requests_per_sec == 5.0);
        assert_true(v.rows[0].pct_5xx == 40.0);
        assert_true(v.rows[0].pct_4xx == 20.0);
        assert_true(v.rows[0].bytes_per_sec == 500.0);
        /* Only the interval's 50 exchanges: all at 3000 µs, not the 100 earlier ones at 200. */
        assert_int_equal(v.rows[0].p50, histogram_bucket_value(histogram_index(3000)));
        assert_int_equal(v.rows[0].p99, histogram_bucket_value(histogram_index(3000)));
        assert_string_equal(v.rows[1].name, "api.service");   /* new: counted from zero */
        assert_int_equal(v.rows[1].requests, 30);
        assert_string_equal(v.rows[2].name, "comm:curl");
        assert_int_equal(v.rows[2].requests, 0);
        assert_int_equal(v.rows[2].p99, 0);
        assert_true(v.cpu_pct > 0.99 && v.cpu_pct < 1.01);
        assert_true(v.ringbuf_pct == 25.0);
        assert_int_equal(v.drops, 3);

        top_view_sort(&v, TOP_SORT_ERRORS);
        assert_string_equal(v.rows[0].name, "nginx.service");
        top_view_sort(&v, TOP_SORT_LATENCY);
        assert_string_equal(v.rows[0].name, "api.service");
        top_view_done(&v);

        /* Routes of nginx. */
        assert_int_equal(top_view_build(a, b, 0, &v), 0);
        assert_int_equal(v.n_rows, 1);
        assert_string_equal(v.rows[0].name, "/api/*");
        assert_int_equal(v.rows[0].requests, 50);
        top_view_done(&v);

        /* No previous snapshot: since the daemon started (15 s). */
        assert_int_equal(top_view_build(NULL, b, SIZE_MAX, &v), 0);
        assert_true(v.interval_sec == 15.0);
        top_view_sort(&v, TOP_SORT_RATE);
        assert_int_equal(v.rows[0].requests, 150);
        assert_true(v.rows[0].requests_per_sec == 10.0);
        top_view_done(&v);

        /* Backwards (a restart): start over from @now, flagged. */
        assert_int_equal(top_view_build(b, a, SIZE_MAX, &v), 0);
        assert_true(v.restarted);
        top_view_done(&v);
}

static void test_bad(void **state) {
        static const char *bad[] = {
                "", "[]", "{}", "{\"since_usec\":1,\"now_usec\":2,\"monotonic_usec\":3}",
                "{\"since_usec\":1,\"now_usec\":2,\"monotonic_usec\":3,\"health\":{},\"services\":[],"
                "\"histogram\":{\"scheme\":\"log-linear\",\"unit\":\"usec\",\"sub_bucket_bits\":4,"
                "\"value_bits\":36,\"buckets\":1024}}",
                "{\"since_usec\":1,\"now_usec\":2,\"monotonic_usec\":3,\"health\":{},\"services\":[{\"unit\":\"x\"}],"
                "\"histogram\":{\"scheme\":\"log-linear\",\"unit\":\"usec\",\"sub_bucket_bits\":5,"
                "\"value_bits\":36,\"buckets\":1024}}",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                TopSnapshot *s = NULL;
                int r = top_snapshot_parse(bad[i], strlen(bad[i]), &s);

                assert_true(r == -EBADMSG || r == -EPROTO);
                assert_null(s);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_interval),
                cmocka_unit_test(test_bad),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
