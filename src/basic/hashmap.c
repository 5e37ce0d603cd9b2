/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Open-addressing uint64 -> pointer map; see hashmap.h. */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "basic/hashmap.h"

/* Grow at 70 % load: linear probing degrades quickly beyond that. */
#define HASHMAP_LOAD_NUM 7
#define HASHMAP_LOAD_DEN 10
#define HASHMAP_MIN_BUCKETS 64

typedef struct Bucket {
        uint64_t key;
        void *value;     /* NULL marks an empty bucket */
} Bucket;

struct HashMap {
        Bucket *buckets;
        size_t n_buckets;  /* power of two */
        size_t n_items;
};

static inline size_t hash64(uint64_t k) {
        /* splitmix64 finaliser: keys are sequential ids and (tgid << 32 | fd) pairs. */
        k ^= k >> 30;
        k *= UINT64_C(0xbf58476d1ce4e5b9);
        k ^= k >> 27;
        k *= UINT64_C(0x94d049bb133111eb);
        k ^= k >> 31;
        return (size_t) k;
}

HashMap *hashmap_new(void) {
        HashMap *h = calloc(1, sizeof(*h));

        if (!h)
                return NULL;
        h->buckets = calloc(HASHMAP_MIN_BUCKETS, sizeof(Bucket));
        if (!h->buckets) {
                free(h);
                return NULL;
        }
        h->n_buckets = HASHMAP_MIN_BUCKETS;
        return h;
}

HashMap *hashmap_free(HashMap *h) {
        if (!h)
                return NULL;
        free(h->buckets);
        free(h);
        return NULL;
}

static Bucket *find(const HashMap *h, uint64_t key) {
        size_t mask = h->n_buckets - 1;

        for (size_t i = hash64(key) & mask;; i = (i + 1) & mask) {
                Bucket *b = &h->buckets[i];

                if (!b->value || b->key == key)
                        return b;
        }
}

static int resize(HashMap *h, size_t n) {
        Bucket *old = h->buckets;
        size_t old_n = h->n_buckets;

        h->buckets = calloc(n, sizeof(Bucket));
        if (!h->buckets) {
                h->buckets = old;
                return -ENOMEM;
        }
        h->n_buckets = n;
        for (size_t i = 0; i < old_n; i++)
                if (old[i].value)
                        *find(h, old[i].key) = old[i];
        free(old);
        return 0;
}

int hashmap_put(HashMap *h, uint64_t key, void *value) {
        Bucket *b;

        if (!value)
                return -EINVAL;
        if ((h->n_items + 1) * HASHMAP_LOAD_DEN > h->n_buckets * HASHMAP_LOAD_NUM) {
                int r = resize(h, h->n_buckets * 2);
                if (r < 0)
                        return r;
        }
        b = find(h, key);
        if (b->value)
                return -EEXIST;
        b->key = key;
        b->value = value;
        h->n_items++;
        return 0;
}

void *hashmap_get(const HashMap *h, uint64_t key) {
        return find(h, key)->value;
}

void *hashmap_remove(HashMap *h, uint64_t key) {
        size_t mask = h->n_buckets - 1, i, j;
        Bucket *b = find(h, key);
        void *v = b->value;

        if (!v)
                return NULL;

        /* Backward-shift: move later members of the probe run into the hole. */
        i = (size_t) (b - h->buckets);
        j = i;
        for (;;) {
                size_t home;

                j = (j + 1) & mask;
                if (!h->buckets[j].value)
                        break;
                home = hash64(h->buckets[j].key) & mask;
                /* Can bucket j move to i? Only if its home is not in (i, j] cyclically. */
                if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
                        h->buckets[i] = h->buckets[j];
                        i = j;
                }
        }
        h->buckets[i].value = NULL;
        h->buckets[i].key = 0;
        h->n_items--;

        if (h->n_buckets > HASHMAP_MIN_BUCKETS && h->n_items * 8 < h->n_buckets)
                (void) resize(h, h->n_buckets / 2);
        return v;
}

size_t hashmap_size(const HashMap *h) {
        return h ? h->n_items : 0;
}

size_t hashmap_memory(const HashMap *h) {
        return h ? sizeof(*h) + h->n_buckets * sizeof(Bucket) : 0;
}

size_t hashmap_memory_empty(void) {
        return sizeof(HashMap) + HASHMAP_MIN_BUCKETS * sizeof(Bucket);
}

size_t hashmap_memory_per_item_max(void) {
        return 8 * sizeof(Bucket);
}
