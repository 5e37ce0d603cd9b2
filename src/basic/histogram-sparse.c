/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A sparse histogram over basic/histogram.h's buckets; see histogram-sparse.h. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/histogram-sparse.h"
#include "basic/macro.h"

/* Pairs allocated first: a route's latencies usually fall in fewer buckets. */
#define SPARSE_INITIAL 8u

/* The position of @i, or where it would be inserted. */
static uint32_t find(const SparseHistogram *h, uint16_t i) {
        uint32_t lo = 0, hi = h->n;

        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;

                if (h->index[mid] < i)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static int grow(SparseHistogram *h) {
        uint32_t n = h->allocated ? MIN(h->allocated * 2, (uint32_t) HISTOGRAM_BUCKETS) : SPARSE_INITIAL;
        uint16_t *index;
        uint64_t *count;

        index = realloc(h->index, n * sizeof(uint16_t));
        if (!index)
                return -ENOMEM;
        h->index = index;
        count = realloc(h->count, n * sizeof(uint64_t));
        if (!count)
                return -ENOMEM;
        h->count = count;
        h->allocated = n;
        return 0;
}

int sparse_histogram_record(SparseHistogram *h, uint64_t value) {
        uint16_t i = (uint16_t) histogram_index(value);
        uint32_t p = h->last;
        int r;

        /* A route's latencies mostly fall in the bucket of the one before: no search then. */
        if (p >= h->n || h->index[p] != i)
                p = find(h, i);
        if (p < h->n && h->index[p] == i) {
                if (h->count[p] < UINT64_MAX)
                        h->count[p]++;
                h->last = p;
                return 0;
        }
        if (h->n == h->allocated) {
                r = grow(h);
                if (r < 0)
                        return r;
        }
        memmove(h->index + p + 1, h->index + p, (h->n - p) * sizeof(uint16_t));
        memmove(h->count + p + 1, h->count + p, (h->n - p) * sizeof(uint64_t));
        h->index[p] = i;
        h->count[p] = 1;
        h->n++;
        h->last = p;
        return 0;
}

void sparse_histogram_done(SparseHistogram *h) {
        free(h->index);
        free(h->count);
        *h = (SparseHistogram) {};
}

void sparse_histogram_add_to(const SparseHistogram *h, Histogram *dst) {
        /* Counts only: the sum of the samples is not kept here (the caller keeps its own, exact). */
        for (uint32_t k = 0; k < h->n; k++) {
                uint64_t c = h->count[k];

                dst->counts[h->index[k]] = dst->counts[h->index[k]] > UINT64_MAX - c ? UINT64_MAX : dst->counts[h->index[k]] + c;
                dst->count = dst->count > UINT64_MAX - c ? UINT64_MAX : dst->count + c;
        }
}

void sparse_histogram_to_json(const SparseHistogram *h, JsonBuild *b, const char *key) {
        json_build_array_begin(b, key);
        for (uint32_t k = 0; k < h->n; k++) {
                json_build_array_begin(b, NULL);
                json_build_u64(b, NULL, h->index[k]);
                json_build_u64(b, NULL, h->count[k]);
                json_build_array_end(b);
        }
        json_build_array_end(b);
}
