/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small blocks recycled instead of handed back to malloc. For allocators that
 * free blocks of a few dozen bytes right after taking them, many times per
 * exchange (libnghttp2's HPACK inflater through protocols/http2/hpack.c):
 * glibc's per-thread cache holds 7 blocks per size and overflows there, and
 * a malloc()/free() pair then costs ~300 instructions against ~20 here.
 *
 * Size classes of 64, 128, 256 and 512 bytes; at most BLOCK_POOL_PER_CLASS
 * freed blocks wait in each: 60 KiB at worst for the whole process. Larger
 * blocks go straight to malloc()/free(). The caller remembers each block's
 * size (it passes it to block_pool_free()). One list per class for the
 * process: not thread-safe; all users live on the one event loop.
 *
 * Sanitizer builds allocate and free every block afresh, so that ASan still
 * sees a use after free. At exit the waiting blocks are freed, so that leak
 * checkers see nothing held.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A block of at least @size bytes, aligned as malloc()'s; NULL when out of memory. */
void *block_pool_alloc(size_t size);

/* Give back a block from block_pool_alloc(@size); NULL is ignored. */
void block_pool_free(void *p, size_t size);

/* Whether a block of @size comes from the pool (else from malloc() directly). */
bool block_pool_pooled(size_t size);

/* Whether blocks of @a and @b bytes are of one class (then one holds the other's bytes). */
bool block_pool_same_class(size_t a, size_t b);

/* Blocks waiting in the pool now, all classes. */
size_t block_pool_waiting(void);
