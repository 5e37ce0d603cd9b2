/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sampling decisions with an injected RNG, and token-bucket arithmetic. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "select/sampling.h"

/* Returns the next value of a fixed sequence. */
typedef struct Seq {
        const uint64_t *v;
        size_t n, i;
} Seq;

static uint64_t seq_next(void *userdata) {
        Seq *s = userdata;
        assert_true(s->i < s->n);
        return s->v[s->i++];
}

#define HALF (UINT64_C(1) << 63)

static void test_fraction(void **state) {
        const uint64_t v[] = { 0, HALF - 1, HALF, UINT64_MAX };
        Seq seq = { v, 4, 0 };
        Sampler *s;
        uint64_t kept, dropped;

        assert_int_equal(sampler_new(0.5, NULL, 0, true, seq_next, &seq, &s), 0);
        assert_true(sampler_keep(s, "/x", 200));
        assert_true(sampler_keep(s, "/x", 200));
        assert_false(sampler_keep(s, "/x", 200));
        assert_false(sampler_keep(s, "/x", 200));
        /* 5xx kept without a draw */
        assert_true(sampler_keep(s, "/x", 503));
        assert_int_equal(seq.i, 4);
        sampler_take_counts(s, &kept, &dropped);
        assert_int_equal(kept, 3);
        assert_int_equal(dropped, 2);
        sampler_take_counts(s, &kept, &dropped);
        assert_int_equal(kept + dropped, 0);
        sampler_free(s);
}

static void test_rules_and_extremes(void **state) {
        SamplingRule rules[] = { { "/health", 0 }, { "/api/*", 1 }, { "/api", 0.25 } };
        const uint64_t v[] = { UINT64_MAX / 4 - 1, UINT64_MAX / 4 + 1 };
        Seq seq = { v, 2, 0 };
        Sampler *s;

        assert_int_equal(sampler_new(0.0, rules, 3, false, seq_next, &seq, &s), 0);
        /* rate 0 and 1 never draw */
        assert_false(sampler_keep(s, "/health?x=1", 200));
        assert_false(sampler_keep(s, "/health/deep", 200));
        assert_true(sampler_keep(s, "/api/users", 200));
        assert_false(sampler_keep(s, "/other", 200));
        /* keep_errors off: 5xx sampled like the rest */
        assert_false(sampler_keep(s, "/other", 500));
        assert_false(sampler_keep(s, NULL, 0));
        assert_int_equal(seq.i, 0);
        /* first match wins: "/api" itself is not matched by the glob rule */
        assert_true(sampler_rate_for(s, "/api", 4) == 0.25);
        assert_true(sampler_keep(s, "/api", 200));
        assert_false(sampler_keep(s, "/api?x", 200));
        assert_int_equal(seq.i, 2);
        sampler_free(s);
}

static void test_statistics(void **state) {
        /* With the real generator, 10% is 10% within a generous tolerance. */
        uint64_t st = 42, kept, dropped;
        Sampler *s;

        assert_int_equal(sampler_new(0.1, NULL, 0, true, sampling_splitmix64, &st, &s), 0);
        for (int i = 0; i < 100000; i++)
                (void) sampler_keep(s, "/", 200);
        sampler_take_counts(s, &kept, &dropped);
        assert_true(kept > 9500 && kept < 10500);
        assert_int_equal(kept + dropped, 100000);
        sampler_free(s);
        assert_int_equal(sampler_new(1.5, NULL, 0, true, sampling_splitmix64, &st, &s), -EINVAL);
}

#define S NSEC_PER_SEC

static void test_bucket_burst_and_refill(void **state) {
        TokenBucket b;
        uint64_t passed, refused;

        token_bucket_init(&b, 10, 5, 1000 * S);
        for (int i = 0; i < 5; i++)
                assert_true(token_bucket_take(&b, 1000 * S));
        assert_false(token_bucket_take(&b, 1000 * S));
        /* 10/s: one token per 100 ms, exactly */
        assert_false(token_bucket_take(&b, 1000 * S + 99999999));
        assert_true(token_bucket_take(&b, 1000 * S + 100000000));
        assert_false(token_bucket_take(&b, 1000 * S + 100000000));
        /* fractions accumulate across calls: 4 x 25 ms = one token */
        for (int i = 1; i <= 3; i++)
                assert_false(token_bucket_take(&b, 1000 * S + 100000000 + i * 25000000));
        assert_true(token_bucket_take(&b, 1000 * S + 200000000));
        token_bucket_take_counts(&b, &passed, &refused);
        assert_int_equal(passed, 7);
        assert_int_equal(refused, 6);
        token_bucket_take_counts(&b, &passed, &refused);
        assert_int_equal(passed + refused, 0);
        assert_int_equal(b.passed_total, 7);
        assert_int_equal(b.refused_total, 6);
}

static void test_bucket_long_idle_and_clock(void **state) {
        TokenBucket b;

        token_bucket_init(&b, 1000000, 3, 0);
        for (int i = 0; i < 3; i++)
                assert_true(token_bucket_take(&b, 0));
        assert_false(token_bucket_take(&b, 0));
        /* A very long idle fills to burst, no more, and does not overflow. */
        for (int i = 0; i < 3; i++)
                assert_true(token_bucket_take(&b, UINT64_MAX - 10));
        assert_false(token_bucket_take(&b, UINT64_MAX - 10));
        assert_int_equal(b.refused_total, 2);

        /* Clock going backwards: no refill, and time must pass the latest seen again. */
        token_bucket_init(&b, 1, 1, 100 * S);
        assert_true(token_bucket_take(&b, 100 * S));
        assert_false(token_bucket_take(&b, 50 * S));
        assert_false(token_bucket_take(&b, 100 * S + S / 2));
        assert_true(token_bucket_take(&b, 101 * S));
}

static void test_bucket_unlimited_default_burst_reconfigure(void **state) {
        TokenBucket b;

        token_bucket_init(&b, 0, 0, 0);
        for (int i = 0; i < 1000; i++)
                assert_true(token_bucket_take(&b, 0));
        assert_int_equal(b.passed, 1000);

        /* burst 0: same as the rate */
        token_bucket_init(&b, 4, 0, 0);
        assert_int_equal(b.burst, 4);
        for (int i = 0; i < 4; i++)
                assert_true(token_bucket_take(&b, 0));
        assert_false(token_bucket_take(&b, 0));

        /* reconfigure keeps counts and clamps stored tokens */
        token_bucket_init(&b, 100, 100, 0);
        assert_true(token_bucket_take(&b, 0));
        token_bucket_reconfigure(&b, 1, 2, 0);
        assert_int_equal(b.passed, 1);
        assert_true(token_bucket_take(&b, 0));
        assert_true(token_bucket_take(&b, 0));
        assert_false(token_bucket_take(&b, 0));
        assert_int_equal(b.refused, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fraction),
                cmocka_unit_test(test_rules_and_extremes),
                cmocka_unit_test(test_statistics),
                cmocka_unit_test(test_bucket_burst_and_refill),
                cmocka_unit_test(test_bucket_long_idle_and_clock),
                cmocka_unit_test(test_bucket_unlimited_default_burst_reconfigure),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
