/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes HTTP/2 streams -> exchanges (src/protocols/http2/protocol.c and
 * stream.c) through protocol_http2_ops, as the connection layer drives it,
 * and formats every exchange as an entry (output/fields.c: HTTP/2's and
 * gRPC's fields). The input is the same small script as fuzz-http2.c (its
 * corpus is this target's too):
 *
 *   byte 0: bit 0 seen from the start (else joined mid-stream), bit 1 role
 *           (0 server, 1 client), bits 2-4 pick a set of limits, bits 5-7
 *           the global memory budget (budgets[])
 *   then records: op byte, length byte, payload
 *     op bit 0: direction (0 client to server, 1 server to client);
 *     bits 1-2: 0 data + segment start, 1 data, 2 gap of length * 7 bytes
 *     (no payload), 3 data split in single bytes
 *
 * Invariants: every exchange is well formed for its kind (a stream id on
 * all but parse errors, HTTP/2 messages, a duration only for complete
 * ones) and formats; memory stays bounded by the caps, equals what is
 * charged to the global budget, and stays within it but for what is
 * charged without asking (protocols/http2/memory.h); finish() leaves
 * nothing pending, everything is freed (ASan/LSan) and the budget is back
 * to zero.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "conn/protocol.h"
#include "output/entry.h"
#include "output/fields.h"
#include "protocols/http2/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(expr)                                                                  \
        do {                                                                         \
                if (!(expr)) {                                                       \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,       \
                                __LINE__, #expr);                                    \
                        abort();                                                     \
                }                                                                    \
        } while (0)

static const Http2ConnLimits limit_sets[8] = {
        { .streams_max = 256 },
        { .streams_max = 1, .header_block_max = 16, .fields_max = 1, .list_bytes_max = 8 },
        { .streams_max = 2, .header_block_max = 200 },
        { .streams_max = 3, .header_block_max = 1, .fields_max = 1, .list_bytes_max = 1 },
        { .streams_max = 8, .header_block_max = 4096, .fields_max = 4, .list_bytes_max = 100 },
        { .streams_max = 256, .list_bytes_max = 64 * 1024 },
        { .streams_max = 16 },
        { .streams_max = 4, .header_block_max = 300, .fields_max = 3 },
};

/* Global budgets, from none at all to more than any input can take. */
static const size_t budgets[8] = { SIZE_MAX / 2, 0, 600, 2048, 8192, 32768, 256 * 1024, SIZE_MAX / 2 };

/*
 * Charged past the caps without asking, per stream: its struct and three
 * pseudo-header prefixes of HTTP2_PSEUDO_CAPPED_MAX (stream.h).
 */
#define STREAM_UNASKED_MAX (2048u + 3u * 257u)

static FormatEntry entry;
static Stats stats;

static int on_exchange(void *userdata, const Exchange *x) {
        switch (x->kind) {
        case EXCHANGE_COMPLETE:
                check(x->request && x->response);
                break;
        case EXCHANGE_NO_RESPONSE:
                check(x->request && !x->response && x->duration_ns == 0);
                break;
        case EXCHANGE_UNCORRELATED:
                check(!x->request && x->response && x->duration_ns == 0);
                break;
        case EXCHANGE_PARSE_ERROR:
                check(x->error && !x->request && !x->response);
                break;
        default:
                check(false);
        }
        if (x->kind != EXCHANGE_PARSE_ERROR)
                check(x->stream_id != 0);
        if (x->request)
                check(x->request->version == 20 && x->request->kind == HTTP_MESSAGE_REQUEST);
        if (x->response)
                check(x->response->version == 20 && x->response->kind == HTTP_MESSAGE_RESPONSE);
        for (const HttpMessage *m = x->request; m; m = m == x->request ? x->response : NULL)
                for (size_t i = 0; i < m->n_headers; i++)
                        check(m->headers[i].name && m->headers[i].value &&
                              strlen(m->headers[i].name) <= m->headers[i].name_len);
        check(format_exchange(&entry, x, NULL, &stats) >= 0);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ExchangeSink sink = { .emit = on_exchange };
        Limits limits = { .conn_memory_max = 1 << 20, .global_memory_max = 1 << 24, .conns_max = 1 };
        const Http2ConnLimits *l;
        ConnInfo conn = { .id = 1, .protocol = CONN_PROTOCOL_HTTP2 };
        MemBudget budget = {};
        ProtocolContext ctx = { .conn = &conn, .sink = &sink, .stats = &stats, .limits = &limits, .budget = &budget };
        uint64_t ts = 1;
        size_t i = 1, list_max, cap;
        void *h;

        if (size < 1)
                return 0;
        conn.flags = data[0] & 1 ? CONN_SEEN_START : 0;
        conn.role = data[0] & 2 ? CONN_ROLE_CLIENT : CONN_ROLE_SERVER;
        l = &limit_sets[data[0] >> 2 & 7];
        ctx.protocol_limits = l;
        budget.max = budgets[data[0] >> 5];
        list_max = l->list_bytes_max ?: 16 * 1024;
        /* per stream two messages, each a head and trailers (each a list, its copies, a field array) */
        cap = l->streams_max * (512 + 2 * 2 * (3 * list_max + 64 * (l->fields_max ?: 128) + 4096)) +
              2 * (64 * 1024 + 2 * 1024 * 1024);
        check(protocol_http2_ops.new(&ctx, &h) >= 0);

        while (i + 2 <= size) {
                uint8_t op = data[i], dir = op & 1, kind = (op >> 1) & 3;
                uint8_t cdir = conn.role == CONN_ROLE_CLIENT ? CONN_DIR_EGRESS : CONN_DIR_INGRESS;
                uint8_t d = dir == 0 ? cdir : !cdir;
                size_t n = data[i + 1];

                i += 2;
                ts += 1 + (op >> 3);
                if (kind == 2)
                        check(protocol_http2_ops.gap(h, d, (uint64_t) n * 7, ts) >= 0);
                else {
                        n = MIN(n, size - i);
                        if (kind == 3)
                                for (size_t k = 0; k < n; k++)
                                        check(protocol_http2_ops.data(h, d, data + i + k, 1, ts, op, k == 0) >= 0);
                        else
                                check(protocol_http2_ops.data(h, d, data + i, n, ts, op, kind == 0) >= 0);
                        i += n;
                }
                check(protocol_http2_ops.memory(h) <= cap);
                check(protocol_http2_ops.memory(h) == budget.used);
                check(budget.used <= MIN(budget.max, limits.conn_memory_max) + l->streams_max * STREAM_UNASKED_MAX);
        }

        check(protocol_http2_ops.finish(h, ts + 1, EXCHANGE_END_CLOSED) >= 0);
        check(!protocol_http2_ops.pending(h) || protocol_http2_ops.memory(h) > 0 || budget.max < 8192);
        protocol_http2_ops.free(h);
        check(budget.used == 0);
        return 0;
}
