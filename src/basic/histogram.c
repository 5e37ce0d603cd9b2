/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A log-linear latency histogram in fixed memory; see histogram.h. */

#include <errno.h>
#include <string.h>

#include "basic/histogram.h"

_Static_assert(HISTOGRAM_BUCKETS == 1024, "the documented memory and JSON index range");

void histogram_reset(Histogram *h) {
        memset(h, 0, sizeof(*h));
}

static uint64_t add_sat(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

unsigned histogram_index(uint64_t value) {
        unsigned k, shift;

        if (value > HISTOGRAM_VALUE_MAX)
                return HISTOGRAM_BUCKETS - 1;
        if (value < 2 * HISTOGRAM_SUB_BUCKETS)
                return (unsigned) value;        /* exact below 64 */

        k = 63u - (unsigned) __builtin_clzll(value);    /* 2^k <= value < 2^(k+1), k >= 6 */
        shift = k - HISTOGRAM_SUB_BUCKET_BITS;
        /* value >> shift is in [32, 64): the sub-bucket plus 32. */
        return shift * HISTOGRAM_SUB_BUCKETS + (unsigned) (value >> shift);
}

uint64_t histogram_bucket_low(unsigned i) {
        unsigned shift;

        if (i < 2 * HISTOGRAM_SUB_BUCKETS)
                return i;
        shift = i / HISTOGRAM_SUB_BUCKETS - 1;
        return (uint64_t) (i % HISTOGRAM_SUB_BUCKETS + HISTOGRAM_SUB_BUCKETS) << shift;
}

uint64_t histogram_bucket_high(unsigned i) {
        unsigned shift;

        if (i < 2 * HISTOGRAM_SUB_BUCKETS)
                return i;
        shift = i / HISTOGRAM_SUB_BUCKETS - 1;
        return histogram_bucket_low(i) + (UINT64_C(1) << shift) - 1;
}

uint64_t histogram_bucket_value(unsigned i) {
        uint64_t lo = histogram_bucket_low(i);

        return lo + (histogram_bucket_high(i) - lo) / 2;
}

void histogram_record_n(Histogram *h, uint64_t value, uint64_t n) {
        unsigned i = histogram_index(value);

        h->counts[i] = add_sat(h->counts[i], n);
        h->count = add_sat(h->count, n);
        h->sum = add_sat(h->sum, value > UINT64_MAX / (n ?: 1) ? UINT64_MAX : value * n);
        if (value > HISTOGRAM_VALUE_MAX)
                h->clamped = add_sat(h->clamped, n);
}

void histogram_record(Histogram *h, uint64_t value) {
        histogram_record_n(h, value, 1);
}

void histogram_merge(Histogram *dst, const Histogram *src) {
        for (unsigned i = histogram_next(src, 0); i < HISTOGRAM_BUCKETS; i = histogram_next(src, i + 1))
                dst->counts[i] = add_sat(dst->counts[i], src->counts[i]);
        dst->count = add_sat(dst->count, src->count);
        dst->sum = add_sat(dst->sum, src->sum);
        dst->clamped = add_sat(dst->clamped, src->clamped);
}

int histogram_subtract(Histogram *dst, const Histogram *now, const Histogram *before) {
        if (before->count > now->count || before->clamped > now->clamped)
                return -ERANGE;
        for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
                if (before->counts[i] > now->counts[i])
                        return -ERANGE;

        for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
                dst->counts[i] = now->counts[i] - before->counts[i];
        dst->count = now->count - before->count;
        /* A sum parsed from JSON is 0: never let it wrap. */
        dst->sum = now->sum >= before->sum ? now->sum - before->sum : 0;
        dst->clamped = now->clamped - before->clamped;
        return 0;
}

uint64_t histogram_quantile(const Histogram *h, double q) {
        uint64_t rank, seen = 0;

        if (h->count == 0)
                return 0;
        if (!(q > 0.0))                 /* also NaN */
                rank = 1;
        else if (q >= 1.0)
                rank = h->count;
        else {
                /* ceil() without libm */
                double r = q * (double) h->count;

                rank = r >= (double) h->count ? h->count : (uint64_t) r;
                if ((double) rank < r)
                        rank++;
                rank = CLAMP(rank, UINT64_C(1), h->count);
        }

        for (unsigned i = histogram_next(h, 0); i < HISTOGRAM_BUCKETS; i = histogram_next(h, i + 1)) {
                seen = add_sat(seen, h->counts[i]);
                if (seen >= rank)
                        return histogram_bucket_value(i);
        }
        /* count is larger than the buckets' sum: only if a caller broke the invariant. */
        return histogram_max(h);
}

uint64_t histogram_max(const Histogram *h) {
        for (unsigned i = HISTOGRAM_BUCKETS; i > 0; i--)
                if (h->counts[i - 1] > 0)
                        return histogram_bucket_high(i - 1);
        return 0;
}

unsigned histogram_next(const Histogram *h, unsigned i) {
        for (; i < HISTOGRAM_BUCKETS; i++)
                if (h->counts[i] > 0)
                        return i;
        return HISTOGRAM_BUCKETS;
}

void histogram_to_json(const Histogram *h, JsonBuild *b, const char *key) {
        json_build_array_begin(b, key);
        HISTOGRAM_FOREACH(i, h) {
                json_build_array_begin(b, NULL);
                json_build_u64(b, NULL, i);
                json_build_u64(b, NULL, h->counts[i]);
                json_build_array_end(b);
        }
        json_build_array_end(b);
}

void histogram_params_to_json(JsonBuild *b, const char *key) {
        json_build_object_begin(b, key);
        json_build_string(b, "scheme", "log-linear");
        json_build_string(b, "unit", "usec");
        json_build_u64(b, "sub_bucket_bits", HISTOGRAM_SUB_BUCKET_BITS);
        json_build_u64(b, "value_bits", HISTOGRAM_VALUE_BITS);
        json_build_u64(b, "buckets", HISTOGRAM_BUCKETS);
        /* The builder writes integers only: the bound as a fraction's denominator. */
        json_build_u64(b, "relative_error_denominator", 2 * HISTOGRAM_SUB_BUCKETS);
        json_build_object_end(b);
}

int histogram_params_check(const JsonValue *v) {
        static const struct {
                const char *key;
                uint64_t value;
        } want[] = {
                { "sub_bucket_bits", HISTOGRAM_SUB_BUCKET_BITS },
                { "value_bits", HISTOGRAM_VALUE_BITS },
                { "buckets", HISTOGRAM_BUCKETS },
        };
        const char *s;

        if (!v || v->type != JSON_OBJECT)
                return -EPROTO;
        s = json_value_string(json_object_get(v, "scheme"));
        if (!s || strcmp(s, "log-linear") != 0)
                return -EPROTO;
        s = json_value_string(json_object_get(v, "unit"));
        if (!s || strcmp(s, "usec") != 0)
                return -EPROTO;
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                uint64_t x;

                if (json_value_u64(json_object_get(v, want[i].key), &x) < 0 || x != want[i].value)
                        return -EPROTO;
        }
        return 0;
}

int histogram_from_json(const JsonValue *v, Histogram *ret) {
        Histogram h;
        uint64_t last = 0;

        if (!v || v->type != JSON_ARRAY)
                return -EINVAL;

        histogram_reset(&h);
        for (size_t k = 0; k < v->n; k++) {
                const JsonValue *pair = v->items[k];
                uint64_t i, c;

                if (pair->type != JSON_ARRAY || pair->n != 2)
                        return -EINVAL;
                if (json_value_u64(pair->items[0], &i) < 0 || i >= HISTOGRAM_BUCKETS)
                        return -EINVAL;
                if (json_value_u64(pair->items[1], &c) < 0)
                        return -EINVAL;
                if (k > 0 && i <= last)
                        return -EINVAL;         /* repeated, or out of order */
                last = i;
                if (h.count > UINT64_MAX - c)
                        return -ERANGE;
                h.counts[i] = c;
                h.count += c;
        }

        *ret = h;
        return 0;
}
