/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>
#include <string.h>

#include "basic/block-pool.h"

#if defined(__SANITIZE_ADDRESS__)
#  define BLOCK_POOL_OFF 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#    define BLOCK_POOL_OFF 1
#  endif
#endif
#ifdef BLOCK_POOL_OFF
#  define BLOCK_POOL_PER_CLASS 0u
#else
#  define BLOCK_POOL_PER_CLASS 64u
#endif
#define BLOCK_POOL_CLASSES 4u
#define BLOCK_POOL_CLASS_MIN 64u        /* class c holds blocks of 64 << c bytes */

typedef struct PoolBlock {
        struct PoolBlock *next;
} PoolBlock;

static struct {
        PoolBlock *head[BLOCK_POOL_CLASSES];
        unsigned n[BLOCK_POOL_CLASSES];
} pool;

/* The class for @size bytes, or BLOCK_POOL_CLASSES when larger than the largest. */
static unsigned pool_class(size_t size) {
        unsigned c = 0;

        while (c < BLOCK_POOL_CLASSES && size > (size_t) BLOCK_POOL_CLASS_MIN << c)
                c++;
        return c;
}

bool block_pool_pooled(size_t size) {
        return pool_class(size) < BLOCK_POOL_CLASSES;
}

bool block_pool_same_class(size_t a, size_t b) {
        return pool_class(a) == pool_class(b);
}

void *block_pool_alloc(size_t size) {
        unsigned c = pool_class(size);
        PoolBlock *b;

        /* without a pool the exact size, so that ASan sees a write past it */
        if (c == BLOCK_POOL_CLASSES || BLOCK_POOL_PER_CLASS == 0)
                return malloc(size);
        b = pool.head[c];
        if (b) {
                pool.head[c] = b->next;
                pool.n[c]--;
                return b;
        }
        return malloc((size_t) BLOCK_POOL_CLASS_MIN << c);
}

void block_pool_free(void *p, size_t size) {
        unsigned c = pool_class(size);
        PoolBlock *b = p;

        if (!p)
                return;
        if (c == BLOCK_POOL_CLASSES || pool.n[c] >= BLOCK_POOL_PER_CLASS) {
                free(p);
                return;
        }
        b->next = pool.head[c];
        pool.head[c] = b;
        pool.n[c]++;
}

size_t block_pool_waiting(void) {
        size_t n = 0;

        for (unsigned c = 0; c < BLOCK_POOL_CLASSES; c++)
                n += pool.n[c];
        return n;
}

static void __attribute__((destructor)) pool_trim(void) {
        for (unsigned c = 0; c < BLOCK_POOL_CLASSES; c++)
                while (pool.head[c]) {
                        PoolBlock *b = pool.head[c];

                        pool.head[c] = b->next;
                        free(b);
                }
        memset(&pool, 0, sizeof(pool));
}
