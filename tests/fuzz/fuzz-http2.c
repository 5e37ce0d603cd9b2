/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes the HTTP/2 frame parser and HPACK decoding together, both
 * directions of a connection, as the protocol layer will drive them: every
 * complete header block goes to its direction's HPACK decoder, an incomplete
 * block or a loss of sync resets it, and each direction's SETTINGS set the
 * other direction's frame size limit. The input is read as a small script,
 * so that directions, gaps, segment starts and chunking are fuzzed along
 * with the bytes:
 *
 *   byte 0: bit 0 client side seen from its start (else joined mid-stream),
 *           bit 1 the same for the server side, bits 2-4 pick a set of
 *           limits (tiny caps reach the overflow and memory paths)
 *   then records: op byte, length byte, payload
 *     op bit 0: direction (0 client to server, 1 server to client);
 *     bits 1-2: 0 data + segment start, 1 data, 2 gap of length * 7 bytes
 *     (no payload), 3 data split in single bytes
 *
 * Invariants checked: every frame and header list is well formed and within
 * its caps; memory stays within the caps; offsets add up; and, differential,
 * whatever http2_hpack_peek_static() reads from a block without the dynamic
 * table equals what libnghttp2 decoded from it.
 *
 * tests/fuzz/make-http2-corpus.py writes the seeds (real traffic recorded
 * between curl/h2load and nginx, plus hand-made hostile cases).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "protocols/http2/frame.h"
#include "protocols/http2/hpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(expr)                                                                  \
        do {                                                                         \
                if (!(expr)) {                                                       \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,       \
                                __LINE__, #expr);                                    \
                        abort();                                                     \
                }                                                                    \
        } while (0)

typedef struct LimitSet {
        Http2Limits frame;
        Http2HpackLimits hpack;
} LimitSet;

static const LimitSet limit_sets[8] = {
        { {}, {} },
        { { .header_block_max = 16, .continuation_max = 1 }, { .fields_max = 1, .list_bytes_max = 8 } },
        { { .header_block_max = 200, .continuation_max = 2 }, { .memory_max = 2048 } },
        { { .header_block_max = 1, .continuation_max = 1 }, { .memory_max = 4096, .fields_max = 1, .list_bytes_max = 1 } },
        { { .header_block_max = 4096 }, { .memory_max = 8192, .fields_max = 4, .list_bytes_max = 100 } },
        { {}, { .list_bytes_max = 64 * 1024 } },
        { { .continuation_max = 100 }, {} },
        { { .header_block_max = 300 }, { .fields_max = 3 } },
};

typedef struct Side {
        Http2FrameParser *p;
        Http2Hpack *hpack;
        struct Side *other;
        const LimitSet *limits;
        uint64_t last_offset;         /* frames come out in stream order */
        uint8_t scratch;
} Side;

static void check_list(Side *s, const Http2HeaderList *l) {
        size_t fields_max = s->limits->hpack.fields_max ?: HTTP2_HPACK_FIELDS_MAX_DEFAULT;

        check(l->n_fields <= fields_max);
        check(l->n_fields == 0 || l->fields);
        for (size_t i = 0; i < l->n_fields; i++) {
                check(l->fields[i].name[l->fields[i].name_len] == 0);
                check(l->fields[i].value[l->fields[i].value_len] == 0);
                for (size_t k = 0; k < l->fields[i].value_len; k++)
                        s->scratch ^= (uint8_t) l->fields[i].value[k];
        }
        for (Http2Pseudo p = 0; p < _HTTP2_PSEUDO_MAX; p++)
                if (l->pseudo[p])
                        check(l->pseudo[p][l->pseudo_len[p]] == 0);
                else
                        check(l->pseudo_len[p] == 0);
        check(l->status == 0 || (l->status >= 100 && l->status <= 999));
        check(!!(l->flags & HTTP2_HEADERS_FIELDS_DROPPED) == (l->n_dropped > 0));
}

static int on_frame(Http2FrameParser *p, const Http2Frame *f, void *userdata) {
        Side *s = userdata;
        size_t block_max = s->limits->frame.header_block_max ?: HTTP2_HEADER_BLOCK_MAX_DEFAULT;

        check(f->offset >= s->last_offset);
        s->last_offset = f->offset;
        check(f->gap_bytes <= f->wire_bytes);
        check(f->first_ns <= f->last_ns);
        check(f->wire_bytes >= HTTP2_FRAME_HEADER_LEN + (uint64_t) f->length);
        check(f->offset + f->wire_bytes <= http2_frame_parser_offset(p));
        check(f->type != HTTP2_CONTINUATION);
        check(!(f->stream_id & 0x80000000u));

        switch (f->type) {
        case HTTP2_DATA:
                check(f->stream_id != 0);
                check((uint64_t) f->data_bytes + f->pad_len <= f->length);
                break;
        case HTTP2_HEADERS:
        case HTTP2_PUSH_PROMISE:
                check(f->block && f->block_len <= block_max);
                check(f->flags & HTTP2_FLAG_END_HEADERS);
                if (f->parser_flags & HTTP2_FRAME_BLOCK_INCOMPLETE) {
                        check(http2_hpack_reset(s->hpack) >= 0);
                } else {
                        Http2HeaderList *l = NULL;
                        int r = http2_hpack_decode(s->hpack, f->block, f->block_len, &l);

                        Http2StaticPeek k;

                        check(r == 0 || r == -EBADMSG || r == -ENOBUFS);
                        check((r == 0) == !!l);
                        /* differential: what the static peek finds, the decoder decoded too */
                        http2_hpack_peek_static(f->block, f->block_len, &k);
                        if (l) {
                                check_list(s, l);
                                if (!(l->flags & (HTTP2_HEADERS_PSEUDO_DUPLICATE | HTTP2_HEADERS_FIELDS_DROPPED)))
                                        for (Http2Pseudo ps = 0; ps < _HTTP2_PSEUDO_MAX; ps++) {
                                                if (!k.pseudo[ps])
                                                        continue;
                                                check(l->pseudo[ps] && l->pseudo_len[ps] == k.pseudo_len[ps]);
                                                check(memcmp(l->pseudo[ps], k.pseudo[ps], k.pseudo_len[ps]) == 0);
                                        }
                                if (k.status != 0)
                                        check(l->status == k.status ||
                                              (l->flags & (HTTP2_HEADERS_PSEUDO_DUPLICATE | HTTP2_HEADERS_FIELDS_DROPPED)));
                        }
                        http2_header_list_free(l);
                }
                break;
        case HTTP2_GOAWAY:
                check(f->debug_len <= HTTP2_GOAWAY_DEBUG_MAX);
                for (size_t k = 0; k < f->debug_len; k++)
                        s->scratch ^= f->debug[k];
                break;
        case HTTP2_SETTINGS:
                if (f->settings.has[HTTP2_SETTINGS_MAX_FRAME_SIZE])
                        http2_frame_parser_set_max_frame_size(s->other->p,
                                                              f->settings.value[HTTP2_SETTINGS_MAX_FRAME_SIZE]);
                /* only raising it is safe for an observer (hpack.h) */
                if (f->settings.has[HTTP2_SETTINGS_HEADER_TABLE_SIZE] &&
                    f->settings.value[HTTP2_SETTINGS_HEADER_TABLE_SIZE] >= HTTP2_HPACK_TABLE_SIZE_MAX)
                        check(http2_hpack_set_table_size_max(s->other->hpack,
                                                             f->settings.value[HTTP2_SETTINGS_HEADER_TABLE_SIZE]) >= 0);
                break;
        default:
                break;
        }
        return 0;
}

static int on_desync(Http2FrameParser *p, void *userdata) {
        Side *s = userdata;

        check(http2_hpack_reset(s->hpack) >= 0);
        return 0;
}

static int on_error(Http2FrameParser *p, const Http2Error *e, void *userdata) {
        check(e->error && strlen(e->error) > 0);
        check(e->offset <= http2_frame_parser_offset(p));
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const Http2FrameCallbacks cb = { .frame = on_frame, .desync = on_desync, .error = on_error };
        Http2FrameStats stats = {};
        Http2HpackStats hstats = {};
        Side sides[2] = {};
        uint64_t fed[2] = {}, ts = 1;
        size_t i = 1;

        if (size < 1)
                return 0;

        for (unsigned d = 0; d < 2; d++) {
                Side *s = &sides[d];

                s->other = &sides[!d];
                s->limits = &limit_sets[data[0] >> 2 & 7];
                check(http2_frame_parser_new(d == 0 ? HTTP2_FROM_CLIENT : HTTP2_FROM_SERVER, &s->limits->frame,
                                             &stats, &cb, s, data[0] >> d & 1, &s->p) >= 0);
                check(http2_hpack_new(&s->limits->hpack, &hstats, &s->hpack) >= 0);
        }

        while (i + 2 <= size) {
                uint8_t op = data[i], dir = op & 1, kind = (op >> 1) & 3;
                Side *s = &sides[dir];
                size_t n = data[i + 1];
                size_t block_max = s->limits->frame.header_block_max ?: HTTP2_HEADER_BLOCK_MAX_DEFAULT;
                size_t hpack_max = s->limits->hpack.memory_max ?: HTTP2_HPACK_MEMORY_MAX_DEFAULT;

                i += 2;
                ts += 1 + (op >> 3);
                if (kind == 2) {
                        check(http2_frame_parser_gap(s->p, (uint64_t) n * 7, ts) >= 0);
                        fed[dir] += (uint64_t) n * 7;
                } else {
                        n = MIN(n, size - i);
                        if (kind == 3)
                                for (size_t k = 0; k < n; k++)
                                        check(http2_frame_parser_feed(s->p, data + i + k, 1, ts, op, k == 0) >= 0);
                        else
                                check(http2_frame_parser_feed(s->p, data + i, n, ts, op, kind == 0) >= 0);
                        i += n;
                        fed[dir] += n;
                }
                check(http2_frame_parser_offset(s->p) == fed[dir]);
                check(http2_frame_parser_memory(s->p) <= block_max);
                /* the inflater's own cap, plus the scratch copies bounded by the list caps */
                check(http2_hpack_memory(s->hpack) <= hpack_max + 2 * (64u << 10) + 64 * 1024);
        }

        check(stats.protocol_errors <= stats.desyncs);
        check(stats.resyncs <= stats.desyncs + 2);
        for (unsigned d = 0; d < 2; d++) {
                http2_frame_parser_free(sides[d].p);
                http2_hpack_free(sides[d].hpack);
        }
        return 0;
}
