/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The latency histogram: bucket bounds tile the range, quantiles stay within
 * the documented error of the exact sorted samples, merge/subtract agree with
 * recording, and the sparse JSON form survives a round trip.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/histogram.h"

static Histogram *hnew(void) {
        Histogram *h = malloc(sizeof(Histogram));

        assert_non_null(h);
        histogram_reset(h);
        return h;
}

static void test_bounds(void **state) {
        /* Buckets tile [0, HISTOGRAM_VALUE_MAX] without gap or overlap, each within the bound. */
        assert_int_equal(histogram_bucket_low(0), 0);
        for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) {
                uint64_t lo = histogram_bucket_low(i), hi = histogram_bucket_high(i);

                assert_true(lo <= hi);
                if (i + 1 < HISTOGRAM_BUCKETS)
                        assert_int_equal(histogram_bucket_low(i + 1), hi + 1);
                assert_int_equal(histogram_index(lo), i);
                assert_int_equal(histogram_index(hi), i);
                /* width <= lo / 32 */
                assert_true((hi - lo + 1) * HISTOGRAM_SUB_BUCKETS <= MAX(lo, (uint64_t) HISTOGRAM_SUB_BUCKETS));
        }
        assert_int_equal(histogram_bucket_high(HISTOGRAM_BUCKETS - 1), HISTOGRAM_VALUE_MAX);
        for (uint64_t v = 0; v < 64; v++)
                assert_int_equal(histogram_bucket_value(histogram_index(v)), v);
        assert_int_equal(histogram_index(HISTOGRAM_VALUE_MAX + 1), HISTOGRAM_BUCKETS - 1);
        assert_int_equal(histogram_index(UINT64_MAX), HISTOGRAM_BUCKETS - 1);
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* xorshift64*: reproducible, no libc state */
static uint64_t rnd(uint64_t *s) {
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        return *s * UINT64_C(2685821657736338717);
}

static void check_quantiles(const uint64_t *sorted, size_t n, const Histogram *h) {
        static const double qs[] = { 0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0 };

        for (size_t k = 0; k < ELEMENTSOF(qs); k++) {
                double r = qs[k] * (double) n;
                size_t rank = (size_t) r;
                uint64_t exact, got;
                double err;

                if ((double) rank < r)
                        rank++;
                rank = CLAMP(rank, (size_t) 1, n);
                exact = sorted[rank - 1];
                got = histogram_quantile(h, qs[k]);
                err = exact == 0 ? (double) got : ((double) got - (double) exact) / (double) exact;
                if (err < 0)
                        err = -err;
                if (exact < 64)
                        assert_int_equal(got, exact);
                if (err > HISTOGRAM_RELATIVE_ERROR)
                        fail_msg("q=%g exact=%ju got=%ju err=%g", qs[k], (uintmax_t) exact, (uintmax_t) got, err);
        }
}

static void test_quantiles(void **state) {
        /* Several distributions: uniform small, log-uniform over the whole range, bimodal. */
        static const size_t N = 100000;
        uint64_t seed = 0x9e3779b97f4a7c15ULL;
        uint64_t *v = malloc(N * sizeof(uint64_t));

        assert_non_null(v);
        for (int dist = 0; dist < 4; dist++) {
                Histogram *h = hnew();
                uint64_t sum = 0;

                for (size_t i = 0; i < N; i++) {
                        uint64_t r = rnd(&seed);

                        switch (dist) {
                        case 0: v[i] = r % 200; break;
                        case 1: v[i] = (r >> 28) >> (r % 36); break;
                        case 2: v[i] = (i % 10 == 0) ? 1000000 + r % 5000000 : 100 + r % 900; break;
                        default: v[i] = 12345; break;
                        }
                        histogram_record(h, v[i]);
                        sum += v[i];
                }
                assert_int_equal(h->count, N);
                assert_int_equal(h->sum, sum);
                assert_int_equal(h->clamped, 0);
                qsort(v, N, sizeof(uint64_t), cmp_u64);
                check_quantiles(v, N, h);
                assert_true(histogram_max(h) >= v[N - 1]);
                assert_int_equal(histogram_index(histogram_max(h)), histogram_index(v[N - 1]));
                free(h);
        }

        /* A few samples: rank rounding matches. */
        for (size_t n = 1; n < 20; n++) {
                Histogram *h = hnew();

                for (size_t i = 0; i < n; i++) {
                        v[i] = 1000 * (i + 1);
                        histogram_record(h, v[i]);
                }
                check_quantiles(v, n, h);
                free(h);
        }
        free(v);
}

static void test_empty_and_clamp(void **state) {
        Histogram *h = hnew();

        assert_int_equal(histogram_quantile(h, 0.5), 0);
        assert_int_equal(histogram_max(h), 0);
        assert_int_equal(histogram_next(h, 0), HISTOGRAM_BUCKETS);

        histogram_record(h, UINT64_MAX);
        histogram_record(h, HISTOGRAM_VALUE_MAX + 1);
        assert_int_equal(h->clamped, 2);
        assert_int_equal(h->counts[HISTOGRAM_BUCKETS - 1], 2);
        assert_int_equal(h->sum, UINT64_MAX);       /* saturates */
        assert_int_equal(histogram_max(h), HISTOGRAM_VALUE_MAX);
        free(h);
}

static void test_merge_subtract(void **state) {
        Histogram *a = hnew(), *b = hnew(), *all = hnew(), *d = hnew();
        uint64_t seed = 42;

        for (int i = 0; i < 5000; i++) {
                uint64_t x = rnd(&seed) % 100000;

                histogram_record(i < 2000 ? a : b, x);
                histogram_record(all, x);
        }
        /* merge(a, b) == all */
        histogram_merge(d, a);
        histogram_merge(d, b);
        assert_memory_equal(d, all, sizeof(Histogram));

        /* all - a == b: the interval delta of two cumulative snapshots */
        assert_int_equal(histogram_subtract(d, all, a), 0);
        assert_memory_equal(d, b, sizeof(Histogram));
        /* in place */
        memcpy(d, all, sizeof(Histogram));
        assert_int_equal(histogram_subtract(d, d, b), 0);
        assert_memory_equal(d, a, sizeof(Histogram));

        /* A counter that went down (restart): -ERANGE, @dst untouched. */
        memset(d, 0x5a, sizeof(Histogram));
        assert_int_equal(histogram_subtract(d, a, all), -ERANGE);
        assert_int_equal(d->count, 0x5a5a5a5a5a5a5a5aULL);

        free(a);
        free(b);
        free(all);
        free(d);
}

static void test_json(void **state) {
        _cleanup_(json_value_freep) JsonValue *v = NULL, *p = NULL;
        _cleanup_(freep) char *s = NULL, *ps = NULL;
        Histogram *h = hnew(), *back = hnew();
        JsonBuild b;

        histogram_record(h, 3);
        histogram_record_n(h, 3, 4);
        histogram_record(h, 100);
        histogram_record(h, UINT64_MAX);

        json_build_init(&b, 1 << 20);
        histogram_to_json(h, &b, NULL);
        assert_int_equal(json_build_finish(&b, false, &s, NULL), 0);
        assert_string_equal(s, "[[3,5],[82,1],[1023,1]]");

        assert_int_equal(json_parse(s, strlen(s), &v), 0);
        assert_int_equal(histogram_from_json(v, back), 0);
        assert_int_equal(back->count, 7);
        assert_memory_equal(back->counts, h->counts, sizeof(h->counts));

        /* Empty */
        json_build_init(&b, 1 << 20);
        histogram_reset(h);
        histogram_to_json(h, &b, NULL);
        s = mfree(s);
        assert_int_equal(json_build_finish(&b, false, &s, NULL), 0);
        assert_string_equal(s, "[]");

        /* Params */
        json_build_init(&b, 1 << 20);
        histogram_params_to_json(&b, NULL);
        assert_int_equal(json_build_finish(&b, false, &ps, NULL), 0);
        assert_string_equal(ps, "{\"scheme\":\"log-linear\",\"unit\":\"usec\",\"sub_bucket_bits\":5,"
                                "\"value_bits\":36,\"buckets\":1024,\"relative_error_denominator\":64}");
        assert_int_equal(json_parse(ps, strlen(ps), &p), 0);
        assert_int_equal(histogram_params_check(p), 0);
        p = json_value_free(p);
        {
                const char *other = "{\"scheme\":\"log-linear\",\"unit\":\"usec\",\"sub_bucket_bits\":4,"
                                    "\"value_bits\":36,\"buckets\":1024}";

                assert_int_equal(json_parse(other, strlen(other), &p), 0);
        }
        assert_int_equal(histogram_params_check(p), -EPROTO);

        free(h);
        free(back);
}

static void test_json_bad(void **state) {
        static const char *bad[] = {
                "{}", "[1]", "[[1]]", "[[1,2,3]]", "[[-1,2]]", "[[1024,1]]", "[[1,1.5]]",
                "[[\"1\",2]]", "[[2,1],[2,1]]", "[[3,1],[2,1]]",
        };
        Histogram *h = hnew();

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(json_value_freep) JsonValue *v = NULL;

                assert_int_equal(json_parse(bad[i], strlen(bad[i]), &v), 0);
                h->count = 77;
                assert_int_equal(histogram_from_json(v, h), -EINVAL);
                assert_int_equal(h->count, 77);         /* untouched */
        }

        {
                _cleanup_(json_value_freep) JsonValue *v = NULL;
                const char *s = "[[1,18446744073709551615],[2,1]]";

                assert_int_equal(json_parse(s, strlen(s), &v), 0);
                assert_int_equal(histogram_from_json(v, h), -ERANGE);
        }
        free(h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_quantiles),
                cmocka_unit_test(test_empty_and_clamp),
                cmocka_unit_test(test_merge_subtract),
                cmocka_unit_test(test_json),
                cmocka_unit_test(test_json_bad),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
