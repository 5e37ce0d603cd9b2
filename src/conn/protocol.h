/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The interface between a connection and the application protocol spoken
 * on it. The connection layer (conn.c) owns reassembly bookkeeping, memory
 * caps and lifetimes and feeds each protocol handler bytes and gaps per
 * direction; the handler turns them into exchanges. Each protocol lives in
 * its own folder under protocols/ and is found through protocols/registry.h
 * by its ConnProtocol id; HTTP/1 is the first, HTTP/2 plugs in beside it
 * through the same operations, and a second data source (TLS plaintext)
 * feeds the same connection layer.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "conn/conn-info.h"
#include "conn/exchange.h"
#include "conn/stats.h"

/*
 * The connection layer's caps, the same for every protocol; the defaults are
 * in conn.c's limits_default. A protocol's own caps are its own
 * (ProtocolOps.limits_size), e.g. protocols/http1/limits.h.
 */
typedef struct Limits {
        size_t conn_memory_max;       /* bytes one connection may hold in buffers and queued requests */
        size_t global_memory_max;     /* bytes all connections together may hold */
        size_t conns_max;             /* connections tracked in user space */
        uint64_t idle_timeout_ns;     /* no bytes for this long: pending requests become no-response */
} Limits;

/*
 * Freed blocks of one size (HTTP/1's message allocation, HTTP1_ALLOC_INITIAL)
 * kept for the next message of any connection: a malloc() and a free() fewer
 * per message (~130 instructions, callgrind). At most MEM_SPARE_MAX of them
 * (64 KiB), table-wide, so an idle connection still holds nothing; they are
 * free memory as the allocator's own cache is, counted apart (spare_bytes()),
 * not in used. Off (spare_max 0) unless the owner turns it on, and the owner
 * frees them with mem_budget_spare_free().
 */
#define MEM_SPARE_MAX 64u

/* Global accounting of buffered bytes, shared by all connections. */
typedef struct MemBudget {
        size_t used;
        size_t max;
        size_t spare_max;             /* blocks kept at most: 0 (none) or up to MEM_SPARE_MAX */
        size_t spare_size;            /* their size: set by the first block kept, others are freed */
        size_t n_spare;
        uint64_t *spare_reused;       /* where allocations served from spare[] are counted (Stats.spare_reused), or NULL */
        void *spare[MEM_SPARE_MAX];
} MemBudget;

/* A kept block of exactly size bytes, or NULL (then malloc()). */
static inline void *mem_budget_spare_take(MemBudget *b, size_t size) {
        if (!b || b->n_spare == 0 || b->spare_size != size)
                return NULL;
        if (b->spare_reused)
                (*b->spare_reused)++;
        return b->spare[--b->n_spare];
}

/* Keeps p (size bytes) for reuse: true, or false and the caller frees it. */
static inline bool mem_budget_spare_put(MemBudget *b, void *p, size_t size) {
        if (!b || b->n_spare >= b->spare_max || (b->spare_size != size && b->n_spare > 0))
                return false;
        b->spare_size = size;
        b->spare[b->n_spare++] = p;
        return true;
}

static inline size_t mem_budget_spare_bytes(const MemBudget *b) {
        return b ? b->n_spare * b->spare_size : 0;
}

static inline void mem_budget_spare_free(MemBudget *b) {
        while (b && b->n_spare > 0)
                free(b->spare[--b->n_spare]);
}

/* Reserve n bytes; false when that would exceed the cap (nothing is reserved then). */
static inline bool mem_budget_reserve(MemBudget *b, size_t n) {
        if (!b)
                return true;
        if (n > b->max || b->used > b->max - n)
                return false;
        b->used += n;
        return true;
}

static inline void mem_budget_release(MemBudget *b, size_t n) {
        if (!b)
                return;
        b->used = n > b->used ? 0 : b->used - n;
}

/* What the kernel lost on a connection before a record, by ConnDirection. */
typedef struct ConnLoss {
        uint64_t bytes[2];
        uint32_t starts[2];           /* lost records that began with a request or status line */
} ConnLoss;

static inline bool conn_loss_any(const ConnLoss *l) {
        return l->bytes[0] || l->bytes[1] || l->starts[0] || l->starts[1];
}

typedef struct ProtocolContext {
        const ConnInfo *conn;         /* valid for the handler's whole life */
        const ExchangeSink *sink;     /* where exchanges go */
        Stats *stats;
        MemBudget *budget;            /* global cap; the handler enforces limits->conn_memory_max itself */
        const Limits *limits;         /* the connection layer's caps; may change while the handler lives (reload) */
        const void *protocol_limits;  /* the handler's own caps (ProtocolOps.limits_size bytes), likewise */
} ProtocolContext;

typedef struct ProtocolOps {
        ConnProtocol id;              /* the connections this handler parses (registry.c checks it) */
        const char *name;
        const char *title;            /* for people: "HTTP/1.x" (help text, start-up log) */
        size_t limits_size;           /* bytes of the protocol's own caps struct */
        /*
         * Bytes new() allocates for one connection whatever its traffic (the
         * handler's struct, its parsers): the connection layer counts them
         * against limits.global_memory_max when the connection opens.
         */
        size_t state_size;
        const void *limits_default;   /* its defaults, used until conn_table_set_protocol_limits() */

        /*
         * The protocol's own counters, beside the shared ones of Stats: their
         * names (control socket, "Statistics:" line), n_counters <=
         * PROTOCOL_COUNTERS_MAX; the handler counts in
         * ctx->stats->protocols[id][i].
         */
        const char *const *counter_names;
        size_t n_counters;

        int (*new)(const ProtocolContext *ctx, void **ret);
        void *(*free)(void *p);

        /*
         * Bytes in one direction, in order. segment_start is true when buf
         * begins a syscall's bytes: a hint a handler may use only to find its
         * way back after lost bytes, never to decide where messages end.
         */
        int (*data)(void *p, uint8_t direction, const uint8_t *buf, size_t n, uint64_t ts_ns,
                    uint32_t tid, bool segment_start);

        /* n bytes in one direction that were not captured. */
        int (*gap)(void *p, uint8_t direction, uint64_t n, uint64_t ts_ns);

        /*
         * Optional. Records lost in the kernel (ring buffer full) before the
         * record being handled, in both directions: their bytes, and how
         * many of them began a message (ConnLoss). The handler counts the
         * exchanges the loss took (Stats.exchanges_lost), flags the ones it
         * touched and keeps requests and responses paired. Without it, the
         * connection layer reports the bytes as gaps.
         */
        int (*loss)(void *p, const ConnLoss *loss, uint64_t ts_ns);

        /* No more bytes will come: complete what can be, report the rest with reason. */
        int (*finish)(void *p, uint64_t ts_ns, ExchangeEndReason reason);

        /* Bytes currently held (buffers, queued requests), for caps and stats. */
        size_t (*memory)(const void *p);

        /* True when requests are waiting for responses or a message is partly parsed. */
        bool (*pending)(const void *p);
} ProtocolOps;

