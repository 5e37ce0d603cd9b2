/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The histogram of basic/histogram.h (same buckets, same JSON), stored
 * sparsely: only the buckets that were hit, as sorted (index, count)
 * pairs. A full Histogram is 8 KiB; the metrics keep one per route of each
 * service (thousands, worst case), while one route's latencies hit a few
 * dozen buckets. Memory grows with the buckets hit, at most
 * HISTOGRAM_BUCKETS pairs (10 KiB); recording into a bucket already hit
 * never allocates.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "basic/histogram.h"
#include "basic/json-build.h"

_Static_assert(HISTOGRAM_BUCKETS <= UINT16_MAX + 1u, "bucket indexes fit uint16_t");

typedef struct SparseHistogram {
        uint32_t n, allocated;
        uint32_t last;                /* position of the bucket recorded last: checked first */
        uint16_t *index;              /* ascending */
        uint64_t *count;
} SparseHistogram;

/* 0, or -ENOMEM when a new bucket could not be added (nothing recorded: the caller counts it). */
int sparse_histogram_record(SparseHistogram *h, uint64_t value);
void sparse_histogram_done(SparseHistogram *h);

/* @dst's counts += @h's (its sum and clamped stay: not kept here). */
void sparse_histogram_add_to(const SparseHistogram *h, Histogram *dst);
/* [[index,count],...] as histogram_to_json() writes it. */
void sparse_histogram_to_json(const SparseHistogram *h, JsonBuild *b, const char *key);
static inline size_t sparse_histogram_memory(const SparseHistogram *h) {
        return (size_t) h->allocated * (sizeof(uint16_t) + sizeof(uint64_t));
}
