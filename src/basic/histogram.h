/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fixed-memory latency histogram over microseconds, log-linear like
 * HdrHistogram: values below 64 µs each have a bucket of their own; above,
 * every power of two [2^k, 2^(k+1)) is cut into 32 equal sub-buckets. Bucket
 * i holds the values [histogram_bucket_low(i), histogram_bucket_high(i)].
 *
 * Error bound: a bucket's width is at most 1/32 of its lower bound, and a
 * quantile is reported as its bucket's midpoint, so a quantile differs from
 * the exact sample of the same rank by at most 1/64 of that sample
 * (HISTOGRAM_RELATIVE_ERROR, 1.5625 %), and is exact below 64 µs.
 *
 * Range: 0 .. 2^36-1 µs (19 h). A larger value is recorded in the last
 * bucket and counted in `clamped`, so nothing is dropped silently.
 *
 * Memory: HISTOGRAM_BUCKETS (1024) uint64_t counters, 8 KiB, no allocation.
 * Everything here is pure; the JSON forms are the control protocol's
 * (docs: the `services` command) and the report's.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/json-build.h"
#include "basic/json-value.h"

/* 2^5 = 32 linear sub-buckets per power of two: 1/64 relative error. */
#define HISTOGRAM_SUB_BUCKET_BITS 5u
#define HISTOGRAM_SUB_BUCKETS (1u << HISTOGRAM_SUB_BUCKET_BITS)
/* Powers of two covered: values up to 2^36-1 µs, about 19 hours. */
#define HISTOGRAM_VALUE_BITS 36u
#define HISTOGRAM_VALUE_MAX ((UINT64_C(1) << HISTOGRAM_VALUE_BITS) - 1)
/* (36 - 5 + 1) groups of 32 buckets. */
#define HISTOGRAM_BUCKETS ((HISTOGRAM_VALUE_BITS - HISTOGRAM_SUB_BUCKET_BITS + 1) * HISTOGRAM_SUB_BUCKETS)
/* The relative error of a quantile, as a fraction: 1/(2 * 32). */
#define HISTOGRAM_RELATIVE_ERROR (1.0 / (2.0 * HISTOGRAM_SUB_BUCKETS))

typedef struct Histogram {
        uint64_t count;                         /* samples recorded, the sum of counts[] */
        uint64_t sum;                           /* their sum in µs (saturating) */
        uint64_t clamped;                       /* samples above HISTOGRAM_VALUE_MAX, in the last bucket */
        uint64_t counts[HISTOGRAM_BUCKETS];
} Histogram;

void histogram_reset(Histogram *h);

/* The bucket a value falls in (values above the range: the last bucket). */
unsigned histogram_index(uint64_t value);
/* The smallest and largest value of bucket @i (< HISTOGRAM_BUCKETS). */
uint64_t histogram_bucket_low(unsigned i);
uint64_t histogram_bucket_high(unsigned i);
/* The value reported for bucket @i: its midpoint, rounded down. */
uint64_t histogram_bucket_value(unsigned i);

void histogram_record(Histogram *h, uint64_t value);
void histogram_record_n(Histogram *h, uint64_t value, uint64_t n);

/* @dst += @src (counts saturate at UINT64_MAX). */
void histogram_merge(Histogram *dst, const Histogram *src);

/**
 * histogram_subtract() - the samples recorded between two snapshots
 * @dst: written with @now - @before on success only
 * @now: the later cumulative snapshot
 * @before: the earlier one
 *
 * Return: 0, or -ERANGE when a bucket of @before holds more than the same
 * bucket of @now (the counters were reset, e.g. the daemon restarted).
 * @dst may be @now.
 */
int histogram_subtract(Histogram *dst, const Histogram *now, const Histogram *before);

/**
 * histogram_quantile() - the value at quantile @q
 * @q: 0.0 .. 1.0; the sample of rank ceil(q * count) (1-based, at least 1)
 *
 * Return: that sample's bucket value (within HISTOGRAM_RELATIVE_ERROR of
 * the exact sample), or 0 for an empty histogram.
 */
uint64_t histogram_quantile(const Histogram *h, double q);

/* The highest non-empty bucket's high bound, 0 if empty: an upper bound of the max. */
uint64_t histogram_max(const Histogram *h);

/*
 * Bucket iteration: the first non-empty bucket at or after @i, or
 * HISTOGRAM_BUCKETS if none.
 *   for (unsigned i = histogram_next(h, 0); i < HISTOGRAM_BUCKETS; i = histogram_next(h, i + 1))
 */
unsigned histogram_next(const Histogram *h, unsigned i);
#define HISTOGRAM_FOREACH(i, h) \
        for (unsigned i = histogram_next((h), 0); i < HISTOGRAM_BUCKETS; i = histogram_next((h), i + 1))

/*
 * The sparse form, [[index,count],...] in increasing index order, only the
 * non-empty buckets; @key as for json_build_*(). count and clamped are not
 * part of it (count is the sum of the counts; sum travels beside it).
 */
void histogram_to_json(const Histogram *h, JsonBuild *b, const char *key);

/*
 * The parameters a reader needs to rebuild the bucket bounds:
 * {"scheme":"log-linear","unit":"usec","sub_bucket_bits":5,"value_bits":36,
 *  "buckets":1024,"relative_error_denominator":64}.
 */
void histogram_params_to_json(JsonBuild *b, const char *key);
/* 0 if @v (a params object) describes this histogram, -EPROTO if not. */
int histogram_params_check(const JsonValue *v);

/**
 * histogram_from_json() - parse the sparse form back
 * @v: an array of [index,count] pairs
 * @ret: reset, then filled; written only on success (sum stays 0)
 *
 * Return: 0; -EINVAL if @v is not an array of pairs of non-negative
 * integers, or the indexes are out of range or not strictly increasing; -ERANGE if a count
 * overflows.
 */
int histogram_from_json(const JsonValue *v, Histogram *ret);
