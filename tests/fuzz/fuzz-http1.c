/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes protocol_http1_ops (both parsers and the correlation) with the
 * input read as a small script, so that directions, gaps, segment starts
 * and chunking are fuzzed along with the bytes:
 *
 *   byte 0: bits 0-1 role (enum ht_role), bit 2 CONN_SEEN_START,
 *           bits 3-5 pick a set of limits (tiny caps exercise the overflow,
 *           memory and pipeline paths)
 *   then records: op byte, length byte, payload
 *     op bit 0: direction; bits 1-2: 0 data + segment start, 1 data,
 *     2 gap of length * 7 bytes (no payload), 3 data split in single bytes
 *
 * Invariants checked: every exchange is well formed; after finish, every
 * request and every final response is in exactly one exchange, nothing is
 * pending, memory() is 0 and, after free, the global budget is back to 0.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "conn/protocol.h"
#include "protocols/http1/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(expr)                                                                  \
        do {                                                                         \
                if (!(expr)) {                                                       \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,       \
                                __LINE__, #expr);                                    \
                        abort();                                                     \
                }                                                                    \
        } while (0)

static void check_message(const HttpMessage *m, HttpMessageKind kind) {
        check(m->kind == kind);
        check(m->method && m->target && m->reason);
        (void) strlen(m->method);
        (void) strlen(m->target);
        (void) strlen(m->reason);
        check(m->n_headers == 0 || m->headers);
        for (size_t i = 0; i < m->n_headers; i++) {
                check(strlen(m->headers[i].name) == m->headers[i].name_len);
                check(strlen(m->headers[i].value) == m->headers[i].value_len);
                check(m->headers[i].name_len > 0);
        }
        check(m->gap_bytes <= m->wire_bytes);
        check(m->head_bytes <= m->wire_bytes);
        check(m->first_ns <= m->last_ns);
        if (kind == HTTP_MESSAGE_RESPONSE)
                check(m->status >= 100 && m->status <= 999);
}

static int sink(void *userdata, const Exchange *x) {
        switch (x->kind) {
        case EXCHANGE_COMPLETE:
                check(x->request && x->response);
                check_message(x->request, HTTP_MESSAGE_REQUEST);
                check_message(x->response, HTTP_MESSAGE_RESPONSE);
                break;
        case EXCHANGE_NO_RESPONSE:
                check(x->request && !x->response);
                check_message(x->request, HTTP_MESSAGE_REQUEST);
                check(x->reason != EXCHANGE_END_NONE);
                break;
        case EXCHANGE_UNCORRELATED:
                check(!x->request && x->response);
                check_message(x->response, HTTP_MESSAGE_RESPONSE);
                break;
        case EXCHANGE_PARSE_ERROR:
                check(!x->request && !x->response);
                check(x->error && x->excerpt_len <= 64);
                check(x->excerpt_len == 0 || x->excerpt);
                check(x->error_direction <= CONN_DIR_EGRESS);
                /* touch every byte of the excerpt */
                for (size_t i = 0; i < x->excerpt_len; i++)
                        *(volatile uint8_t *) userdata ^= x->excerpt[i];
                break;
        default:
                check(false);
        }
        return 0;
}

/* Limit sets: HTTP/1's own caps and the connection layer's per-connection memory cap, side by side. */
static const struct {
        Http1Limits h1;
        Limits conn;
} limit_sets[8] = {
        { { .head_max = 16384, .fields_max = 100, .pipeline_max = 32 }, { .conn_memory_max = 1 << 20 } },
        { { .head_max = 64,    .fields_max = 3,   .pipeline_max = 2  }, { .conn_memory_max = 1 << 20 } },
        { { .head_max = 16384, .fields_max = 100, .pipeline_max = 1  }, { .conn_memory_max = 600 } },
        { { .head_max = 1,     .fields_max = 0,   .pipeline_max = 0  }, { .conn_memory_max = 0 } },
        { { .head_max = 0,     .fields_max = 1,   .pipeline_max = 4  }, { .conn_memory_max = 1 << 20 } },
        { { .head_max = 300,   .fields_max = 8,   .pipeline_max = 8  }, { .conn_memory_max = 2000 } },
        { { .head_max = 16384, .fields_max = 100, .pipeline_max = 32 }, { .conn_memory_max = 1 << 20 } },
        { { .head_max = 2048,  .fields_max = 16,  .pipeline_max = 3  }, { .conn_memory_max = 1 << 20 } },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t scratch = 0;
        ConnInfo conn = {};
        Stats stats = {};
        MemBudget budget = {};
        ExchangeSink s = { .emit = sink, .userdata = &scratch };
        ProtocolContext ctx;
        uint64_t ts = 1;
        void *h = NULL;
        size_t i = 1;

        if (size < 1)
                return 0;

        conn.role = data[0] & 3;
        conn.flags = data[0] & 4 ? CONN_SEEN_START : 0;
        /* the global budget is tight in one set, to reach the global refusal path */
        budget.max = (data[0] >> 3 & 7) == 6 ? 700 : 64 << 20;
        ctx = (ProtocolContext) {
                .conn = &conn,
                .sink = &s,
                .stats = &stats,
                .budget = &budget,
                .limits = &limit_sets[data[0] >> 3 & 7].conn,
                .protocol_limits = &limit_sets[data[0] >> 3 & 7].h1,
        };
        check(protocol_http1_ops.new(&ctx, &h) >= 0);

        while (i + 2 <= size) {
                uint8_t op = data[i], dir = op & 1, kind = (op >> 1) & 3;
                size_t n = data[i + 1];

                i += 2;
                ts += 1 + (op >> 3);
                if (kind == 2) {
                        check(protocol_http1_ops.gap(h, dir, (uint64_t) n * 7, ts) >= 0);
                        continue;
                }
                n = MIN(n, size - i);
                if (kind == 3)
                        for (size_t k = 0; k < n; k++)
                                check(protocol_http1_ops.data(h, dir, data + i + k, 1, ts, op, k == 0) >= 0);
                else
                        check(protocol_http1_ops.data(h, dir, data + i, n, ts, op, kind == 0) >= 0);
                i += n;
                (void) protocol_http1_ops.pending(h);
                check(protocol_http1_ops.memory(h) <= budget.used);
        }

        check(protocol_http1_ops.finish(h, ts + 1, EXCHANGE_END_CLOSED) >= 0);
        check(!protocol_http1_ops.pending(h));
        check(protocol_http1_ops.memory(h) == 0);
        /* every message ended up in exactly one exchange */
        check(stats.messages_requests == stats.exchanges_complete + stats.exchanges_no_response);
        check(stats.messages_responses == stats.exchanges_complete + stats.exchanges_uncorrelated);

        /* nothing more is parsed after finish */
        check(protocol_http1_ops.data(h, 0, (const uint8_t *) "GET / HTTP/1.1\r\n\r\n", 18, ts + 2, 0, true) >= 0);
        check(stats.messages_requests == stats.exchanges_complete + stats.exchanges_no_response);

        protocol_http1_ops.free(h);
        check(budget.used == 0);
        return 0;
}
