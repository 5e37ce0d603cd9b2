/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bounded byte FIFO shared by the JSON and syslog writers; see byte-queue.h. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/byte-queue.h"
#include "basic/macro.h"

int byte_queue_reserve(ByteQueue *q, size_t need) {
        size_t used = byte_queue_used(q), size;
        char *p;

        if (need <= q->allocated - q->tail)
                return 0;

        /* Reclaim the consumed front before growing. */
        if (q->head > 0) {
                memmove(q->buf, q->buf + q->head, used);
                q->head = 0;
                q->tail = used;
                if (need <= q->allocated - q->tail)
                        return 0;
        }

        if (need > q->max || used > q->max - need)
                return -ENOBUFS;
        size = MAX(MAX(q->allocated, q->initial), (size_t) 1);
        while (size < used + need)
                size *= 2;
        size = MIN(size, q->max);
        p = realloc(q->buf, size);
        if (!p)
                return -ENOBUFS;
        q->buf = p;
        q->allocated = size;
        return 0;
}

void byte_queue_consume(ByteQueue *q, size_t n) {
        q->head += MIN(n, byte_queue_used(q));
        if (q->head == q->tail)
                q->head = q->tail = 0;
}

void byte_queue_clear(ByteQueue *q) {
        q->head = q->tail = 0;
}

void byte_queue_done(ByteQueue *q) {
        free(q->buf);
        q->buf = NULL;
        q->allocated = q->head = q->tail = 0;
}
