/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A bounded FIFO of bytes in one growable buffer, for writers that must not
 * block: append at the tail, send from the head, and reserve room before
 * writing in place. The buffer grows by doubling from @initial up to @max
 * bytes queued; consumed bytes are reclaimed by moving the rest to the
 * front when room is needed, so the data is always one contiguous run.
 *
 *   buf: [ consumed | head ..queued.. tail | free ) allocated
 */
#pragma once

#include <stddef.h>

typedef struct ByteQueue {
        char *buf;
        size_t allocated;
        size_t head;            /* first queued byte */
        size_t tail;            /* end of the queued bytes */
        size_t initial;         /* first allocation (> 0) */
        size_t max;             /* bytes queued at most: the bound on memory */
} ByteQueue;

/* An empty queue that will allocate @initial bytes first and hold at most @max. */
#define BYTE_QUEUE_INIT(initial_, max_) ((ByteQueue) { .initial = (initial_), .max = (max_) })

/**
 * byte_queue_reserve() - make room for @need bytes at the tail
 * @q: the queue
 * @need: bytes about to be written at q->buf + q->tail
 *
 * May move the queued bytes to the front (head becomes 0: offsets kept
 * relative to head stay valid) and grow the buffer. Nothing is queued
 * until the caller advances q->tail.
 *
 * Return: 0; -ENOBUFS when the queued bytes plus @need would exceed q->max,
 * or when memory ran out (the queue is left as it was).
 */
int byte_queue_reserve(ByteQueue *q, size_t need);

/* Bytes queued. */
static inline size_t byte_queue_used(const ByteQueue *q) {
        return q->tail - q->head;
}

/* Drops @n bytes from the head (at most what is queued); an emptied queue starts again at 0. */
void byte_queue_consume(ByteQueue *q, size_t n);

/* Drops everything queued, keeping the buffer. */
void byte_queue_clear(ByteQueue *q);

/* Frees the buffer; the queue is empty and reusable afterwards. */
void byte_queue_done(ByteQueue *q);
