/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the HTTP/2 frame parser (src/protocols/http2/frame.c).
 * Frames come from two places: built by hand here (every hostile case: sizes
 * past the limits, CONTINUATION floods, padding longer than the frame,
 * zero-length and unknown frames, gaps) and written by libnghttp2's own
 * client and server sessions (http2-peers.h), so that real framing choices
 * are parsed too. Every data-only input is also fed split at every byte
 * offset and byte by byte, and must give exactly the same events.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "protocols/http2/frame.h"
#include "http2-peers.h"

#define REC_LOG_MAX (1u << 20)
#define REC_FRAMES_MAX 512

typedef struct RecFrame {
        uint8_t type, flags;
        uint32_t stream_id, length, data_bytes, pad_len, error_code, promised, last_stream_id, increment;
        unsigned parser_flags, n_continuations;
        uint64_t offset, wire_bytes, gap_bytes, first_ns, last_ns;
        size_t block_len, debug_len;
        uint8_t block0;               /* first block byte */
        Http2Settings settings;
} RecFrame;

typedef struct Rec {
        char *log;
        size_t len;
        RecFrame frames[REC_FRAMES_MAX];
        size_t n_frames;
        const char *errors[16];
        uint64_t error_offsets[16];
        size_t n_errors;
        unsigned n_desyncs, n_resyncs, n_prefaces;
        uint64_t resync_offset;
} Rec;

static void rec_printf(Rec *r, const char *fmt, ...) _printf_(2, 3);
static void rec_printf(Rec *r, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(r->log + r->len, REC_LOG_MAX - r->len, fmt, ap);
        va_end(ap);
        assert_true(n >= 0 && (size_t) n < REC_LOG_MAX - r->len);
        r->len += n;
}

static int on_frame(Http2FrameParser *p, const Http2Frame *f, void *userdata) {
        Rec *r = userdata;
        const char *name = http2_frame_type_to_string(f->type);

        rec_printf(r, "%s#%u f=%#x s=%u l=%u pf=%#x off=%" PRIu64 " wb=%" PRIu64 " gb=%" PRIu64
                   " pad=%u data=%u blk=%zu cont=%u err=%u ts=%" PRIu64 "-%" PRIu64 "\n",
                   name ? name : "?", f->type, f->flags, f->stream_id, f->length, f->parser_flags, f->offset,
                   f->wire_bytes, f->gap_bytes, f->pad_len, f->data_bytes, f->block_len, f->n_continuations,
                   f->error_code, f->first_ns, f->last_ns);
        for (size_t i = 0; i < f->block_len; i++)
                rec_printf(r, "%02x", f->block[i]);
        rec_printf(r, "\n");
        assert_true(r->n_frames < REC_FRAMES_MAX);
        r->frames[r->n_frames++] = (RecFrame) {
                .type = f->type,
                .flags = f->flags,
                .stream_id = f->stream_id,
                .length = f->length,
                .data_bytes = f->data_bytes,
                .pad_len = f->pad_len,
                .error_code = f->error_code,
                .promised = f->promised_stream_id,
                .last_stream_id = f->last_stream_id,
                .increment = f->window_increment,
                .parser_flags = f->parser_flags,
                .n_continuations = f->n_continuations,
                .offset = f->offset,
                .wire_bytes = f->wire_bytes,
                .gap_bytes = f->gap_bytes,
                .first_ns = f->first_ns,
                .last_ns = f->last_ns,
                .block_len = f->block_len,
                .debug_len = f->debug_len,
                .block0 = f->block_len > 0 ? f->block[0] : 0,
                .settings = f->settings,
        };
        return 0;
}

static int on_error(Http2FrameParser *p, const Http2Error *e, void *userdata) {
        Rec *r = userdata;

        rec_printf(r, "ERROR %s at %" PRIu64 "\n", e->error, e->offset);
        if (r->n_errors < ELEMENTSOF(r->errors)) {
                r->errors[r->n_errors] = e->error;
                r->error_offsets[r->n_errors++] = e->offset;
        }
        return 0;
}

static int on_desync(Http2FrameParser *p, void *userdata) {
        Rec *r = userdata;

        rec_printf(r, "DESYNC\n");
        r->n_desyncs++;
        return 0;
}

static int on_resync(Http2FrameParser *p, uint64_t offset, void *userdata) {
        Rec *r = userdata;

        rec_printf(r, "RESYNC %" PRIu64 "\n", offset);
        r->n_resyncs++;
        r->resync_offset = offset;
        return 0;
}

static int on_preface(Http2FrameParser *p, uint64_t offset, void *userdata) {
        Rec *r = userdata;

        rec_printf(r, "PREFACE %" PRIu64 "\n", offset);
        r->n_prefaces++;
        return 0;
}

static const Http2FrameCallbacks callbacks = {
        .frame = on_frame,
        .error = on_error,
        .desync = on_desync,
        .resync = on_resync,
        .preface = on_preface,
};

static void rec_init(Rec *r) {
        memset(r, 0, sizeof(*r));
        r->log = malloc(REC_LOG_MAX);
        assert_non_null(r->log);
        r->log[0] = 0;
}

static void rec_done(Rec *r) {
        free(r->log);
}

static Http2FrameParser *parser(Http2Direction dir, const Http2Limits *limits, Http2FrameStats *stats, Rec *r,
                                bool synced) {
        Http2FrameParser *p = NULL;

        assert_int_equal(http2_frame_parser_new(dir, limits, stats, &callbacks, r, synced, &p), 0);
        return p;
}

/* Feeds buf in pieces of at most step bytes (0: split once at split); one timestamp per piece. */
static void feed_split(Http2Direction dir, const Http2Limits *limits, const uint8_t *buf, size_t n, size_t split,
                       size_t step, Rec *r, Http2FrameStats *stats) {
        _cleanup_(http2_frame_parser_freep) Http2FrameParser *p = parser(dir, limits, stats, r, true);

        if (step == 0) {
                assert_int_equal(http2_frame_parser_feed(p, buf, split, 1, 7, true), 0);
                assert_int_equal(http2_frame_parser_feed(p, buf + split, n - split, 1, 7, false), 0);
        } else
                for (size_t i = 0; i < n; i += step)
                        assert_int_equal(http2_frame_parser_feed(p, buf + i, MIN(step, n - i), 1, 7, i == 0), 0);
        assert_false(http2_frame_parser_busy(p));
        assert_int_equal(http2_frame_parser_offset(p), n);
}

/* The events of buf fed whole equal those of every split and of byte-by-byte feeding. */
static void check_splits(Http2Direction dir, const Http2Limits *limits, const uint8_t *buf, size_t n,
                         bool every_offset) {
        Rec whole, other;

        rec_init(&whole);
        feed_split(dir, limits, buf, n, n, 0, &whole, NULL);
        if (every_offset)
                for (size_t s = 0; s <= n; s++) {
                        rec_init(&other);
                        feed_split(dir, limits, buf, n, s, 0, &other, NULL);
                        if (strcmp(whole.log, other.log) != 0)
                                fail_msg("split at %zu differs:\n%s\n--- vs whole:\n%s", s, other.log, whole.log);
                        rec_done(&other);
                }
        rec_init(&other);
        feed_split(dir, limits, buf, n, 0, 1, &other, NULL);
        assert_string_equal(whole.log, other.log);
        rec_done(&other);
        rec_init(&other);
        feed_split(dir, limits, buf, n, 0, 7, &other, NULL);
        assert_string_equal(whole.log, other.log);
        rec_done(&other);
        rec_done(&whole);
}

/* ---- building frames by hand ---- */

typedef struct Buf {
        uint8_t b[1 << 17];
        size_t n;
} Buf;

static void put(Buf *b, const void *data, size_t n) {
        assert_true(b->n + n <= sizeof(b->b));
        if (n > 0)
                memcpy(b->b + b->n, data, n);
        b->n += n;
}

static void put_frame(Buf *b, uint8_t type, uint8_t flags, uint32_t stream_id, const void *payload, size_t len) {
        uint8_t h[9] = {
                (uint8_t) (len >> 16), (uint8_t) (len >> 8), (uint8_t) len, type, flags,
                (uint8_t) (stream_id >> 24), (uint8_t) (stream_id >> 16), (uint8_t) (stream_id >> 8),
                (uint8_t) stream_id,
        };

        put(b, h, sizeof(h));
        put(b, payload, len);
}

/* A frame header announcing len payload bytes, without them. */
static void put_header(Buf *b, uint8_t type, uint8_t flags, uint32_t stream_id, size_t len) {
        size_t before = b->n;

        put_frame(b, type, flags, stream_id, NULL, 0);
        b->b[before] = (uint8_t) (len >> 16);
        b->b[before + 1] = (uint8_t) (len >> 8);
        b->b[before + 2] = (uint8_t) len;
}

static void put_preface(Buf *b) {
        put(b, HTTP2_PREFACE, HTTP2_PREFACE_LEN);
}

static Buf *buf_new(void) {
        Buf *b = calloc(1, sizeof(Buf));

        assert_non_null(b);
        return b;
}

/* Feeds a whole buffer as one segment to a fresh parser. */
static void run(Http2Direction dir, const Http2Limits *limits, const Buf *b, Rec *r, Http2FrameStats *stats) {
        _cleanup_(http2_frame_parser_freep) Http2FrameParser *p = parser(dir, limits, stats, r, true);

        assert_int_equal(http2_frame_parser_feed(p, b->b, b->n, 5, 1, true), 0);
}

/* ---- tests ---- */

static void test_every_type(void **state) {
        static const uint8_t settings[] = { 0, 1, 0, 0, 0x10, 0, 0, 5, 0, 0, 0x40, 0, 0, 0x42, 0, 0, 0, 1,
                                            0, 4, 0, 1, 0, 0 };
        static const uint8_t prio[] = { 0x80, 0, 0, 3, 15 };
        static const uint8_t rst[] = { 0, 0, 0, 8 };
        static const uint8_t ping[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        static const uint8_t wu[] = { 0x80, 0, 0x10, 0 };
        static const uint8_t hdr_padded_prio[] = { 3, 0, 0, 0, 1, 200, 0x82, 0x86, 0, 0, 0 };
        static const uint8_t data_padded[] = { 2, 'a', 'b', 'c', 0, 0 };
        static const uint8_t pp[] = { 1, 0, 0, 0, 2, 0x88, 0 };
        uint8_t goaway[8 + 100];
        Http2FrameStats stats = {};
        Buf *b = buf_new();
        Rec r;

        put_preface(b);
        put_frame(b, HTTP2_SETTINGS, 0, 0, settings, sizeof(settings));
        put_frame(b, HTTP2_SETTINGS, HTTP2_FLAG_ACK, 0, NULL, 0);
        put_frame(b, HTTP2_PRIORITY, 0, 3, prio, sizeof(prio));
        put_frame(b, HTTP2_HEADERS, HTTP2_FLAG_END_HEADERS | HTTP2_FLAG_PADDED | HTTP2_FLAG_PRIORITY, 1,
                  hdr_padded_prio, sizeof(hdr_padded_prio));
        put_frame(b, HTTP2_DATA, HTTP2_FLAG_PADDED | HTTP2_FLAG_END_STREAM, 1, data_padded, sizeof(data_padded));
        put_frame(b, HTTP2_DATA, HTTP2_FLAG_END_STREAM, 3, NULL, 0);              /* zero-length DATA */
        put_frame(b, HTTP2_RST_STREAM, 0, 3, rst, sizeof(rst));
        put_frame(b, HTTP2_PING, 0, 0, ping, sizeof(ping));
        put_frame(b, HTTP2_WINDOW_UPDATE, 0, 0, wu, sizeof(wu));
        put_frame(b, 0xfa, 0xff, 0x80000009, "whatever", 8);                      /* unknown: skipped */
        put_frame(b, HTTP2_HEADERS, HTTP2_FLAG_END_HEADERS, 5, NULL, 0);          /* empty block */
        memset(goaway, 'd', sizeof(goaway));
        memcpy(goaway, (uint8_t[]) { 0x80, 0, 0, 5, 0, 0, 0, 2 }, 8);
        put_frame(b, HTTP2_GOAWAY, 0, 0, goaway, sizeof(goaway));

        rec_init(&r);
        run(HTTP2_FROM_CLIENT, NULL, b, &r, &stats);
        assert_int_equal(r.n_errors, 0);
        assert_int_equal(r.n_prefaces, 1);
        assert_int_equal(r.n_frames, 12);

        assert_int_equal(r.frames[0].type, HTTP2_SETTINGS);
        assert_int_equal(r.frames[0].offset, 24);
        assert_true(r.frames[0].settings.has[HTTP2_SETTINGS_HEADER_TABLE_SIZE]);
        assert_int_equal(r.frames[0].settings.value[HTTP2_SETTINGS_HEADER_TABLE_SIZE], 4096);
        assert_int_equal(r.frames[0].settings.value[HTTP2_SETTINGS_MAX_FRAME_SIZE], 0x4000);
        assert_int_equal(r.frames[0].settings.value[HTTP2_SETTINGS_INITIAL_WINDOW_SIZE], 65536);
        assert_int_equal(r.frames[0].settings.n_unknown, 1);
        assert_false(r.frames[0].settings.has[HTTP2_SETTINGS_ENABLE_PUSH]);
        assert_int_equal(r.frames[1].flags, HTTP2_FLAG_ACK);

        assert_int_equal(r.frames[2].type, HTTP2_PRIORITY);
        assert_int_equal(r.frames[2].stream_id, 3);

        assert_int_equal(r.frames[3].type, HTTP2_HEADERS);
        assert_int_equal(r.frames[3].pad_len, 3);
        assert_int_equal(r.frames[3].block_len, 2);
        assert_int_equal(r.frames[3].block0, 0x82);
        assert_int_equal(r.frames[3].wire_bytes, 9 + sizeof(hdr_padded_prio));

        assert_int_equal(r.frames[4].type, HTTP2_DATA);
        assert_int_equal(r.frames[4].data_bytes, 3);
        assert_int_equal(r.frames[4].pad_len, 2);
        assert_int_equal(r.frames[5].data_bytes, 0);
        assert_int_equal(r.frames[5].flags, HTTP2_FLAG_END_STREAM);

        assert_int_equal(r.frames[6].error_code, 8);
        assert_int_equal(r.frames[7].type, HTTP2_PING);
        assert_int_equal(r.frames[8].increment, 0x1000);   /* reserved bit cleared */

        assert_int_equal(r.frames[9].type, 0xfa);
        assert_int_equal(r.frames[9].stream_id, 9);
        assert_int_equal(stats.frames_unknown, 1);

        assert_int_equal(r.frames[10].type, HTTP2_HEADERS);
        assert_int_equal(r.frames[10].block_len, 0);

        assert_int_equal(r.frames[11].type, HTTP2_GOAWAY);
        assert_int_equal(r.frames[11].last_stream_id, 5);
        assert_int_equal(r.frames[11].error_code, 2);
        assert_int_equal(r.frames[11].debug_len, HTTP2_GOAWAY_DEBUG_MAX);

        assert_int_equal(stats.frames, 12);
        assert_int_equal(stats.header_blocks, 2);
        assert_int_equal(stats.protocol_errors + stats.desyncs, 0);
        rec_done(&r);

        check_splits(HTTP2_FROM_CLIENT, NULL, b->b, b->n, true);

        /* a PUSH_PROMISE with padding, from the server */
        b->n = 0;
        put_frame(b, HTTP2_PUSH_PROMISE, HTTP2_FLAG_END_HEADERS | HTTP2_FLAG_PADDED, 1, pp, sizeof(pp));
        rec_init(&r);
        run(HTTP2_FROM_SERVER, NULL, b, &r, NULL);
        assert_int_equal(r.n_frames, 1);
        assert_int_equal(r.frames[0].promised, 2);
        assert_int_equal(r.frames[0].block_len, 1);
        assert_int_equal(r.frames[0].block0, 0x88);
        assert_int_equal(r.frames[0].pad_len, 1);
        rec_done(&r);
        /* ... is a protocol error from a client */
        rec_init(&r);
        run(HTTP2_FROM_CLIENT, NULL, b, &r, NULL);   /* no preface either: the first error wins */
        assert_int_equal(r.n_errors, 1);
        assert_int_equal(r.n_frames, 0);
        rec_done(&r);
        b->n = 0;
        put_preface(b);
        put_frame(b, HTTP2_PUSH_PROMISE, HTTP2_FLAG_END_HEADERS | HTTP2_FLAG_PADDED, 1, pp, sizeof(pp));
        rec_init(&r);
        run(HTTP2_FROM_CLIENT, NULL, b, &r, NULL);
        assert_int_equal(r.n_errors, 1);
        assert_string_equal(r.errors[0], "PUSH_PROMISE sent by a client");
        rec_done(&r);
        free(b);
}

static void test_continuation(void **state) {
        Http2FrameStats stats = {};
        Buf *b = buf_new();
        Rec r;

        /* HEADERS + 2 CONTINUATIONs, END_STREAM on HEADERS; then DATA */
        put_frame(b, HTTP2_HEADERS, HTTP2_FLAG_END_STREAM | HTTP2_FLAG_PADDED, 1, "\x02\x82\x86\0\0", 5);
        put_frame(b, HTTP2_CONTINUATION, 0, 1, "\x84", 1);
        put_frame(b, HTTP2_CONTINUATION, 0, 1, NULL, 0);
        put_frame(b, HTTP2_CONTINUATION, HTTP2_FLAG_END_HEADERS, 1, "\x41", 1);
        put_frame(b, HTTP2_DATA, 0, 1, "xy", 2);
        rec_init(&r);
        run(HTTP2_FROM_SERVER, NULL, b, &r, &stats);
        assert_int_equal(r.n_errors, 0);
        assert_int_equal(r.n_frames, 2);
        assert_int_equal(r.frames[0].type, HTTP2_HEADERS);
        assert_int_equal(r.frames[0].flags, HTTP2_FLAG_END_STREAM | HTTP2_FLAG_PADDED | HTTP2_FLAG_END_HEADERS);
        assert_int_equal(r.frames[0].block_len, 4);
        assert_int_equal(r.frames[0].n_continuations, 3);
        assert_int_equal(r.frames[0].wire_bytes, 9 + 5 + 9 + 1 + 9 + 9 + 1);
        assert_int_equal(stats.frames, 5);
        assert_true(strstr(r.log, "82868441"));
        rec_done(&r);
        check_splits(HTTP2_FROM_SERVER, NULL, b->b, b->n, true);

        /* interrupted by another frame, or by a CONTINUATION of another stream */
        b->n = 0;
        put_frame(b, HTTP2_HEADERS, 0, 1, "\x82", 1);
        put_frame(b, HTTP2_DATA, 0, 1, "xy", 2);
        rec_init(&r);
        run(HTTP2_FROM_SERVER, NULL, b, &r, NULL);
        assert_int_equal(r.n_frames, 0);
        assert_string_equal(r.errors[0], "header block interrupted by another frame");
        assert_int_equal(r.error_offsets[0], 10);
        assert_int_equal(r.n_desyncs, 1);
        rec_done(&r);
        b->n = 0;
        put_frame(b, HTTP2_HEADERS, 0, 1, "\x82", 1);
        put_frame(b, HTTP2_CONTINUATION, HTTP2_FLAG_END_HEADERS, 3, "\x82", 1);
        rec_init(&r);
        run(HTTP2_FROM_SERVER, NULL, b, &r, NULL);
        assert_int_equal(r.n_frames, 0);
        assert_int_equal(r.n_errors, 1);
        rec_done(&r);
        /* CONTINUATION out of the blue */
        b->n = 0;
        put_frame(b, HTTP2_CONTINUATION, HTTP2_FLAG_END_HEADERS, 1, "\x82", 1);
        rec_init(&r);
        run(HTTP2_FROM_SERVER, NULL, b, &r, NULL);
        assert_string_equal(r.errors[0], "CONTINUATION without a header block");
        rec_done(&r);
        free(b);
}

static void test_continuation_flood(void **state) {
        Http2FrameStats stats = {};
        Buf *b = buf_new();
        Rec r;

        put_frame(b, HTTP2_HEADERS, 0, 1, "\x82", 1);
        for (unsigned i = 0; i < 1000; i++)
                put_frame(b, HTTP2_CONTINUATION, 0, 1, NULL, 0);
        put_frame(b, HTTP2_CONTINUATION, HTTP2_FLAG_END_HEADERS, 1, NULL, 0);
        rec_init(&r);
        run(HTTP2_FROM_SERVER, NULL, b, &r, &stats);
        assert_int_equal(r.n_frames, 0);
        assert_int_equal(r.n_errors, 1);
        assert_string_equal(r.errors[0], "too many CONTINUATION frames in one header block");
        /* the first CONTINUATION past the cap is the culprit */
        assert_int_equal(r.error_offsets[0], 10 + 9 * HTTP2_CONTINUATION_MAX_DEFAULT);
        assert_int_equal(stats.continuation_floods, 1);
        assert_int_equal(stats.desyncs, 1);
        assert_int_equal(stats.bytes_discarded, b->n - (10 + 9 * (HTTP2_CONTINUATION_MAX_DEFAULT + 1)));
        rec_done(&r);

        /* exactly the cap is fine; a custom cap applies */
        b->n = 0;
        put_frame(b, HTTP2_HEADERS, 0, 1, "\x82", 1);
        for (unsigned i = 0; i < 4; i++)
                put_frame(b, HTTP2_CONTINUATION, i == 3 ? HTTP2_FLAG_END_HEADERS : 0, 1, NULL, 0);
        rec_init(&r);
        run(HTTP2_FROM_SERVER, &(Http2Limits) { .continuation_max = 4 }, b, &r, NULL);
        assert_int_equal(r.n_frames, 1);
        assert_int_equal(r.frames[0].n_continuations, 4);
        rec_done(&r);
        rec_init(&r);
        run(HTTP2_FROM_SERVER, &(Http2Limits) { .continuation_max = 3 }, b, &r, NULL);
        assert_int_equal(r.n_frames, 0);
        assert_int_equal(r.n_errors, 1);
        rec_done(&r);
        free(b);
}

static void test_header_block_cap(void **state) {
        Http2FrameStats stats = {};
        Http2Limits limits = { .header_block_max = 3000 };
        _cleanup_(http2_frame_parser_freep) Http2FrameParser *p = NULL;
        uint8_t frag[2000];
        Buf *b = buf_new();
        Rec r;

        memset(frag, 0x41, sizeof(frag));
        put_frame(b, HTTP2_HEADERS, 0, 1, frag, sizeof(frag));
        put_frame(b, HTTP2_CONTINUATION, 0, 1, frag, sizeof(frag));            /* 4000 > 3000 */
        put_frame(b, HTTP2_CONTINUATION, HTTP2_FLAG_END_HEADERS, 1, frag, 10);
        put_frame(b, HTTP2_HEADERS, HTTP2_FLAG_END_HEADERS, 3, frag, sizeof(frag));  /* the next block is fine */

        rec_init(&r);
        p = parser(HTTP2_FROM_SERVER, &limits, &stats, &r, true);
        assert_int_equal(http2_frame_parser_feed(p, b->b, b->n, 1, 1, true), 0);
        assert_int_equal(r.n_errors, 0);
        assert_int_equal(r.n_frames, 2);
        assert_true(r.frames[0].parser_flags & HTTP2_FRAME_BLOCK_INCOMPLETE);
        assert_true(r.frames[0].block_len <= 3000);
        assert_int_equal(r.frames[0].n_continuations, 2);
        assert_false(r.frames[1].parser_flags & HTTP2_FRAME_BLOCK_INCOMPLETE);
        assert_int_equal(r.frames[1].block_len, 2000);
        assert_int_equal(stats.header_block_overflows, 1);
        assert_true(http2_frame_parser_memory(p) <= 3000);
        rec_done(&r);
        free(b);
}

static void test_frame_size(void **state) {
        Http2FrameStats stats = {};
        _cleanup_(http2_frame_parser_freep) Http2FrameParser *p = NULL;
        static uint8_t big[20000];
        Buf *b = buf_new();
        Rec r;

        put_frame(b, HTTP2_DATA, 0, 1, big, sizeof(big));
        rec_init(&r);
        run(HTTP2_FROM_SERVER, NULL, b, &r, &stats);
        assert_int_equal(r.n_frames, 0);
        assert_string_equal(r.errors[0], "frame larger than SETTINGS_MAX_FRAME_SIZE");
        assert_int_equal(stats.frame_size_errors, 1);
        rec_done(&r);

        /* the receiver announced more: accepted; the data is counted, never kept */
        rec_init(&r);
        p = parser(HTTP2_FROM_SERVER, NULL, &stats, &r, true);
        http2_frame_parser_set_max_frame_size(p, 1 << 20);
        assert_int_equal(http2_frame_parser_feed(p, b->b, b->n, 1, 1, true), 0);
        assert_int_equal(r.n_frames, 1);
        assert_int_equal(r.frames[0].data_bytes, sizeof(big));
        assert_int_equal(http2_frame_parser_memory(p), 0);
        rec_done(&r);

        /* a length the protocol cannot express past the largest setting is refused whatever is set */
        http2_frame_parser_set_max_frame_size(p, UINT32_MAX);
        b->n = 0;
        put_header(b, HTTP2_DATA, 0, 1, HTTP2_MAX_FRAME_SIZE_LIMIT);
        rec_init(&r);
        p = http2_frame_parser_free(p);
        p = parser(HTTP2_FROM_SERVER, NULL, NULL, &r, true);
        http2_frame_parser_set_max_frame_size(p, UINT32_MAX);
        assert_int_equal(http2_frame_parser_feed(p, b->b, b->n, 1, 1, true), 0);
        assert_int_equal(r.n_errors, 0);
        assert_true(http2_frame_parser_busy(p));
        rec_done(&r);
        free(b);
}

static void test_bad_lengths(void **state) {
        static const struct {
                uint8_t type, flags;
                uint32_t stream_id;
                size_t len;
                const char *error;
        } cases[] = {
                { HTTP2_DATA, HTTP2_FLAG_PADDED, 1, 0, "frame shorter than its fixed fields" },
                { HTTP2_HEADERS, HTTP2_FLAG_PRIORITY | HTTP2_FLAG_END_HEADERS, 1, 4, "frame shorter than its fixed fields" },
                { HTTP2_PRIORITY, 0, 1, 4, "PRIORITY frame length is not 5" },
                { HTTP2_RST_STREAM, 0, 1, 5, "RST_STREAM frame length is not 4" },
                { HTTP2_SETTINGS, 0, 0, 7, "SETTINGS frame length is not a multiple of 6" },
                { HTTP2_SETTINGS, HTTP2_FLAG_ACK, 0, 6, "SETTINGS acknowledgement with a payload" },
                { HTTP2_PING, 0, 0, 7, "PING frame length is not 8" },
                { HTTP2_GOAWAY, 0, 0, 7, "frame shorter than its fixed fields" },
                { HTTP2_WINDOW_UPDATE, 0, 0, 3, "WINDOW_UPDATE frame length is not 4" },
                { HTTP2_DATA, 0, 0, 1, "frame type requires a stream" },
                { HTTP2_HEADERS, HTTP2_FLAG_END_HEADERS, 0, 1, "frame type requires a stream" },
                { HTTP2_SETTINGS, 0, 1, 0, "frame type must be on stream 0" },
                { HTTP2_PING, 0, 3, 8, "frame type must be on stream 0" },
        };
        uint8_t zeros[16] = {};

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Http2FrameStats stats = {};
                Buf *b = buf_new();
                Rec r;

                put_frame(b, HTTP2_PING, 0, 0, zeros, 8);
                put_frame(b, cases[i].type, cases[i].flags, cases[i].stream_id, zeros, cases[i].len);
                put_frame(b, HTTP2_PING, 0, 0, zeros, 8);
                rec_init(&r);
                run(HTTP2_FROM_SERVER, NULL, b, &r, &stats);
                assert_int_equal(r.n_errors, 1);
                assert_string_equal(r.errors[0], cases[i].error);
                assert_int_equal(r.error_offsets[0], 17);
                assert_int_equal(r.n_frames, 1);     /* the first PING only: sync is lost */
                assert_int_equal(stats.desyncs, 1);
                rec_done(&r);
                free(b);
        }
}

static void test_padding(void **state) {
        Buf *b = buf_new();
        Rec r;

        /* pad length 10 in a 5-byte payload */
        put_frame(b, HTTP2_DATA, HTTP2_FLAG_PADDED, 1, "\x0a" "abcd", 5);
        rec_init(&r);
        run(HTTP2_FROM_SERVER, NULL, b, &r, NULL);
        assert_int_equal(r.n_frames, 0);
        assert_string_equal(r.errors[0], "padding longer than the frame payload");
        rec_done(&r);

        /* padding exactly the rest: no data */
        b->n = 0;
        put_frame(b, HTTP2_DATA, HTTP2_FLAG_PADDED, 1, "\x04" "\0\0\0\0", 5);
        /* HEADERS: pad length counts after the priority fields */
        put_frame(b, HTTP2_HEADERS, HTTP2_FLAG_PADDED | HTTP2_FLAG_PRIORITY | HTTP2_FLAG_END_HEADERS, 1,
                  "\x02" "\0\0\0\0\x10" "\0\0", 8);
        put_frame(b, HTTP2_HEADERS, HTTP2_FLAG_PADDED | HTTP2_FLAG_PRIORITY | HTTP2_FLAG_END_HEADERS, 3,
                  "\x03" "\0\0\0\0\x10" "\0\0", 8);
        rec_init(&r);
        run(HTTP2_FROM_SERVER, NULL, b, &r, NULL);
        assert_int_equal(r.n_frames, 2);
        assert_int_equal(r.frames[0].data_bytes, 0);
        assert_int_equal(r.frames[0].pad_len, 4);
        assert_int_equal(r.frames[1].block_len, 0);
        assert_string_equal(r.errors[0], "padding longer than the frame payload");
        assert_int_equal(r.error_offsets[0], 14 + 17);
        rec_done(&r);
        free(b);
}

static void test_preface(void **state) {
        Buf *b = buf_new();
        Rec r;

        put(b, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
        rec_init(&r);
        run(HTTP2_FROM_CLIENT, NULL, b, &r, NULL);
        assert_int_equal(r.n_errors, 1);
        assert_string_equal(r.errors[0], "stream does not start with the HTTP/2 client preface");
        assert_int_equal(r.n_prefaces, 0);
        rec_done(&r);

        /* a mismatch late in the preface, the preface split in single bytes */
        {
                _cleanup_(http2_frame_parser_freep) Http2FrameParser *p = NULL;
                const char *bad = "PRI * HTTP/2.0\r\n\r\nSM\r\n\rX";

                rec_init(&r);
                p = parser(HTTP2_FROM_CLIENT, NULL, NULL, &r, true);
                for (size_t i = 0; i < 24; i++)
                        assert_int_equal(http2_frame_parser_feed(p, (const uint8_t *) bad + i, 1, 1, 1, true), 0);
                assert_int_equal(r.n_errors, 1);
                assert_int_equal(r.error_offsets[0], 0);
                assert_true(http2_frame_parser_desynced(p));
                rec_done(&r);
        }
        free(b);
}

static void test_gaps(void **state) {
        _cleanup_(http2_frame_parser_freep) Http2FrameParser *p = NULL;
        Http2FrameStats stats = {};
        uint8_t payload[100];
        Buf *b = buf_new();
        Rec r;

        memset(payload, 'x', sizeof(payload));
        /* a gap inside DATA keeps sync: the bytes count as data */
        put_frame(b, HTTP2_DATA, 0, 1, payload, sizeof(payload));
        put_frame(b, HTTP2_PING, 0, 0, payload, 8);
        rec_init(&r);
        p = parser(HTTP2_FROM_SERVER, NULL, &stats, &r, true);
        assert_int_equal(http2_frame_parser_feed(p, b->b, 30, 1, 1, true), 0);
        assert_int_equal(http2_frame_parser_gap(p, 50, 2), 0);
        assert_int_equal(http2_frame_parser_feed(p, b->b + 80, b->n - 80, 3, 1, true), 0);
        assert_int_equal(r.n_frames, 2);
        assert_int_equal(r.frames[0].data_bytes, 100);
        assert_int_equal(r.frames[0].gap_bytes, 50);
        assert_true(r.frames[0].parser_flags & HTTP2_FRAME_GAP);
        assert_int_equal(r.frames[0].first_ns, 1);
        assert_int_equal(r.frames[0].last_ns, 3);
        assert_int_equal(r.frames[1].type, HTTP2_PING);
        assert_int_equal(stats.frames_with_gaps, 1);
        assert_int_equal(stats.desyncs, 0);
        rec_done(&r);

        /* a gap that ends exactly at the frame's end keeps sync too */
        rec_init(&r);
        p = http2_frame_parser_free(p);
        p = parser(HTTP2_FROM_SERVER, NULL, NULL, &r, true);
        assert_int_equal(http2_frame_parser_feed(p, b->b, 9, 1, 1, true), 0);
        assert_int_equal(http2_frame_parser_gap(p, 100, 2), 0);
        assert_int_equal(r.n_frames, 1);
        assert_int_equal(r.frames[0].gap_bytes, 100);
        assert_int_equal(http2_frame_parser_feed(p, b->b + 109, b->n - 109, 3, 1, false), 0);
        assert_int_equal(r.n_frames, 2);
        rec_done(&r);

        /* a lost pad length: no padding assumed, the frame is marked */
        b->n = 0;
        put_frame(b, HTTP2_DATA, HTTP2_FLAG_PADDED, 1, "\x02" "abc\0\0", 6);
        rec_init(&r);
        p = http2_frame_parser_free(p);
        p = parser(HTTP2_FROM_SERVER, NULL, NULL, &r, true);
        assert_int_equal(http2_frame_parser_feed(p, b->b, 9, 1, 1, true), 0);
        assert_int_equal(http2_frame_parser_gap(p, 2, 2), 0);
        assert_int_equal(http2_frame_parser_feed(p, b->b + 11, 4, 3, 1, false), 0);
        assert_int_equal(r.n_frames, 1);
        assert_int_equal(r.frames[0].data_bytes, 5);
        assert_int_equal(r.frames[0].pad_len, 0);
        rec_done(&r);

        /* a lost pad length of HEADERS: the fragment's end is unknown, the block incomplete */
        b->n = 0;
        put_frame(b, HTTP2_HEADERS, HTTP2_FLAG_PADDED | HTTP2_FLAG_END_HEADERS, 1, "\x02\x82\x86\0\0", 5);
        rec_init(&r);
        p = http2_frame_parser_free(p);
        p = parser(HTTP2_FROM_SERVER, NULL, NULL, &r, true);
        assert_int_equal(http2_frame_parser_feed(p, b->b, 9, 1, 1, true), 0);
        assert_int_equal(http2_frame_parser_gap(p, 1, 2), 0);
        assert_int_equal(http2_frame_parser_feed(p, b->b + 10, 4, 3, 1, false), 0);
        assert_int_equal(r.n_frames, 1);
        assert_true(r.frames[0].parser_flags & HTTP2_FRAME_BLOCK_INCOMPLETE);
        assert_true(r.frames[0].parser_flags & HTTP2_FRAME_GAP);
        rec_done(&r);

        /* a gap inside a header block: the block comes out, marked incomplete */
        b->n = 0;
        put_frame(b, HTTP2_HEADERS, 0, 1, "\x82\x86\x84", 3);
        put_frame(b, HTTP2_CONTINUATION, HTTP2_FLAG_END_HEADERS, 1, "\x41\x42", 2);
        rec_init(&r);
        p = http2_frame_parser_free(p);
        p = parser(HTTP2_FROM_SERVER, NULL, NULL, &r, true);
        assert_int_equal(http2_frame_parser_feed(p, b->b, 10, 1, 1, true), 0);
        assert_int_equal(http2_frame_parser_gap(p, 1, 2), 0);
        assert_int_equal(http2_frame_parser_feed(p, b->b + 11, b->n - 11, 3, 1, false), 0);
        assert_int_equal(r.n_frames, 1);
        assert_true(r.frames[0].parser_flags & HTTP2_FRAME_BLOCK_INCOMPLETE);
        assert_true(r.frames[0].parser_flags & HTTP2_FRAME_GAP);
        assert_int_equal(r.frames[0].gap_bytes, 1);
        rec_done(&r);

        /* gaps that lose sync: inside a frame header, past a frame's end, between frames */
        put_frame(b, HTTP2_PING, 0, 0, payload, 8);
        for (unsigned k = 0; k < 3; k++) {
                size_t at = k == 0 ? 4 : k == 1 ? 9 : 12;
                uint64_t n = k == 1 ? 6 : 1;

                rec_init(&r);
                p = http2_frame_parser_free(p);
                p = parser(HTTP2_FROM_SERVER, NULL, NULL, &r, true);
                assert_int_equal(http2_frame_parser_feed(p, b->b, at, 1, 1, true), 0);
                assert_int_equal(http2_frame_parser_gap(p, n, 2), 0);
                assert_true(http2_frame_parser_desynced(p));
                assert_int_equal(r.n_desyncs, 1);
                assert_int_equal(r.n_frames, 0);
                /* bytes that do not start a segment are discarded, even a good frame */
                assert_int_equal(http2_frame_parser_feed(p, b->b, b->n, 3, 1, false), 0);
                assert_int_equal(r.n_frames, 0);
                /* garbage at a segment start too */
                assert_int_equal(http2_frame_parser_feed(p, (const uint8_t *) "hello, world", 12, 4, 1, true), 0);
                /* a CONTINUATION is never a resync point */
                assert_int_equal(http2_frame_parser_feed(p, b->b + 12, b->n - 12, 5, 1, true), 0);
                assert_int_equal(r.n_resyncs, 0);
                /* a segment starting with a plausible frame: resync */
                assert_int_equal(http2_frame_parser_feed(p, b->b + 23, b->n - 23, 6, 1, true), 0);
                assert_int_equal(r.n_resyncs, 1);
                assert_int_equal(r.n_frames, 1);
                assert_int_equal(r.frames[0].type, HTTP2_PING);
                assert_false(http2_frame_parser_desynced(p));
                rec_done(&r);
        }
        free(b);
}

static void test_joined_midstream(void **state) {
        _cleanup_(http2_frame_parser_freep) Http2FrameParser *p = NULL;
        Http2FrameStats stats = {};
        uint8_t payload[64] = {};
        Buf *b = buf_new();
        Rec r;

        put_frame(b, HTTP2_DATA, 0, 1, payload, sizeof(payload));
        put_frame(b, HTTP2_HEADERS, HTTP2_FLAG_END_HEADERS | HTTP2_FLAG_END_STREAM, 1, "\x88", 1);
        put_frame(b, HTTP2_WINDOW_UPDATE, 0, 0, "\0\0\x01\0", 4);

        rec_init(&r);
        p = parser(HTTP2_FROM_SERVER, NULL, &stats, &r, false);
        assert_true(http2_frame_parser_desynced(p));
        /* the middle of the DATA frame: does not look like a frame */
        assert_int_equal(http2_frame_parser_feed(p, b->b + 20, 53, 1, 1, true), 0);
        assert_int_equal(r.n_resyncs, 0);
        /* the HEADERS frame starts a segment: found, and the rest follows */
        assert_int_equal(http2_frame_parser_feed(p, b->b + 73, b->n - 73, 2, 1, true), 0);
        assert_int_equal(r.n_resyncs, 1);
        assert_int_equal(r.resync_offset, 53);
        assert_int_equal(r.n_frames, 2);
        assert_int_equal(r.frames[0].type, HTTP2_HEADERS);
        assert_int_equal(r.frames[0].offset, 53);
        assert_int_equal(r.frames[1].type, HTTP2_WINDOW_UPDATE);
        assert_int_equal(stats.bytes_discarded, 53);
        rec_done(&r);

        /* the client direction also resyncs on the preface */
        b->n = 0;
        put_preface(b);
        put_frame(b, HTTP2_SETTINGS, 0, 0, NULL, 0);
        rec_init(&r);
        p = http2_frame_parser_free(p);
        p = parser(HTTP2_FROM_CLIENT, NULL, NULL, &r, false);
        assert_int_equal(http2_frame_parser_feed(p, b->b, b->n, 1, 1, true), 0);
        assert_int_equal(r.n_prefaces, 1);
        assert_int_equal(r.n_frames, 1);
        rec_done(&r);
        free(b);
}

static void test_looks_like_start(void **state) {
        Buf *b = buf_new();

        put_frame(b, HTTP2_SETTINGS, 0, 0, "\0\x03\0\0\0\x64", 6);
        assert_true(http2_frame_looks_like_start(b->b, b->n, 16384));
        assert_false(http2_frame_looks_like_start(b->b, 8, 16384));
        put_frame(b, HTTP2_WINDOW_UPDATE, 0, 0, "\0\0\x01\0", 4);
        assert_true(http2_frame_looks_like_start(b->b, b->n, 16384));
        /* a bad second header in the same segment spoils it */
        b->b[15 + 4] = 0x40;   /* undefined flag on WINDOW_UPDATE */
        assert_false(http2_frame_looks_like_start(b->b, b->n, 16384));

        b->n = 0;
        put_frame(b, HTTP2_HEADERS, 0, 1, "\x82", 1);
        put_frame(b, HTTP2_CONTINUATION, HTTP2_FLAG_END_HEADERS, 1, "\x82", 1);
        assert_true(http2_frame_looks_like_start(b->b, b->n, 16384));
        assert_false(http2_frame_looks_like_start(b->b + 10, b->n - 10, 16384));
        b->n = 0;
        put_frame(b, HTTP2_HEADERS, 0, 1, "\x82", 1);
        put_frame(b, HTTP2_DATA, 0, 1, "\x82", 1);       /* must be a CONTINUATION */
        assert_false(http2_frame_looks_like_start(b->b, b->n, 16384));
        b->n = 0;
        put_frame(b, 0x20, 0, 0, NULL, 0);                /* unknown types are not a resync point */
        assert_false(http2_frame_looks_like_start(b->b, b->n, 16384));
        b->n = 0;
        put_header(b, HTTP2_DATA, 0, 1, 20000);
        assert_false(http2_frame_looks_like_start(b->b, b->n, 16384));
        assert_true(http2_frame_looks_like_start(b->b, b->n, 32768));
        assert_false(http2_frame_looks_like_start((const uint8_t *) "HTTP/1.1 200 OK\r\n", 17, 16384));
        assert_false(http2_frame_looks_like_start((const uint8_t *) HTTP2_PREFACE, 24, 16384));
        free(b);
}

/* ---- against libnghttp2's sessions ---- */

static void check_conversation(Peers *peers, bool expect_padding, bool every_offset) {
        Http2FrameStats stats = {};
        uint64_t data_c2s[16] = {}, data_s2c[16] = {};
        unsigned blocks_c2s = 0, blocks_s2c = 0, continuations = 0, padded = 0;
        Rec rc, rs;

        rec_init(&rc);
        rec_init(&rs);
        feed_split(HTTP2_FROM_CLIENT, NULL, peers->c2s, peers->c2s_len, peers->c2s_len, 0, &rc, &stats);
        feed_split(HTTP2_FROM_SERVER, NULL, peers->s2c, peers->s2c_len, peers->s2c_len, 0, &rs, &stats);
        assert_int_equal(stats.protocol_errors, 0);
        assert_int_equal(stats.desyncs, 0);
        assert_int_equal(rc.n_prefaces, 1);

        for (size_t i = 0; i < rc.n_frames; i++) {
                RecFrame *f = &rc.frames[i];

                if (f->pad_len > 0)
                        padded++;
                if (f->type == HTTP2_HEADERS) {
                        blocks_c2s++;
                        continuations += f->n_continuations;
                }
                if (f->type == HTTP2_DATA)
                        data_c2s[stream_index(f->stream_id)] += f->data_bytes;
        }
        for (size_t i = 0; i < rs.n_frames; i++) {
                RecFrame *f = &rs.frames[i];

                if (f->pad_len > 0)
                        padded++;
                if (f->type == HTTP2_HEADERS)
                        blocks_s2c++;
                if (f->type == HTTP2_DATA)
                        data_s2c[stream_index(f->stream_id)] += f->data_bytes;
        }
        /* the client's first frame is SETTINGS, as is the server's */
        assert_int_equal(rc.frames[0].type, HTTP2_SETTINGS);
        assert_int_equal(rc.frames[0].settings.value[HTTP2_SETTINGS_MAX_CONCURRENT_STREAMS], 100);
        assert_int_equal(rs.frames[0].type, HTTP2_SETTINGS);

        assert_int_equal(blocks_c2s, 3);
        assert_int_equal(blocks_s2c, 4);       /* three responses and one trailer block */
        assert_true(continuations >= 1);       /* the 20 KB header */
        assert_int_equal(data_c2s[2], 40000);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(data_s2c[i], peers->responses[i].body_len);
        if (expect_padding)
                assert_true(padded > 0);
        else
                assert_int_equal(padded, 0);
        rec_done(&rc);
        rec_done(&rs);

        check_splits(HTTP2_FROM_CLIENT, NULL, peers->c2s, peers->c2s_len, false);
        check_splits(HTTP2_FROM_SERVER, NULL, peers->s2c, peers->s2c_len, every_offset);
}

static void make_conversation(Peers *peers, unsigned pad_to) {
        char *big = malloc(20001);

        assert_non_null(big);
        /* pseudo-random letters: Huffman cannot shrink it below one frame */
        for (size_t i = 0; i < 20000; i++)
                big[i] = (char) ('!' + (i * 7919 + i / 13) % 90);
        big[20000] = 0;

        peers_init(peers, pad_to);
        peers_request(peers, "GET", "/index.html", NULL, NULL, 0,
                      (PeersResponse) { .status = "200", .body_len = 5000 });
        peers_request(peers, "GET", "/big-cookie", "cookie", big, 0,
                      (PeersResponse) { .status = "404", .body_len = 0 });
        peers_request(peers, "POST", "/upload", "content-type", "application/grpc", 40000,
                      (PeersResponse) { .status = "200", .body_len = 70000, .trailer_status = "14" });
        peers_run(peers);
        assert_int_equal(peers->n_requests_done, 3);
        free(big);
}

static void test_nghttp2_conversation(void **state) {
        Peers peers;

        make_conversation(&peers, 0);
        check_conversation(&peers, false, false);
        peers_done(&peers);
}

static void test_nghttp2_padded(void **state) {
        Peers peers;

        make_conversation(&peers, 256);
        check_conversation(&peers, true, false);
        peers_done(&peers);
}

/* every split offset of a small real conversation (the big one is split every 7 bytes and byte by byte) */
static void test_nghttp2_small_every_offset(void **state) {
        Peers peers;
        Rec r;

        peers_init(&peers, 64);
        peers_request(&peers, "GET", "/a", NULL, NULL, 0, (PeersResponse) { .status = "200", .body_len = 300 });
        peers_request(&peers, "GET", "/b", "accept", "*/*", 10, (PeersResponse) { .status = "204" });
        peers_run(&peers);
        check_splits(HTTP2_FROM_CLIENT, NULL, peers.c2s, peers.c2s_len, true);
        check_splits(HTTP2_FROM_SERVER, NULL, peers.s2c, peers.s2c_len, true);

        /* and the server side joined at each frame boundary finds its way */
        rec_init(&r);
        feed_split(HTTP2_FROM_SERVER, NULL, peers.s2c, peers.s2c_len, peers.s2c_len, 0, &r, NULL);
        for (size_t i = 0; i < r.n_frames; i++) {
                _cleanup_(http2_frame_parser_freep) Http2FrameParser *p = NULL;
                size_t at = r.frames[i].offset;
                Rec j;

                rec_init(&j);
                p = parser(HTTP2_FROM_SERVER, NULL, NULL, &j, false);
                assert_int_equal(http2_frame_parser_feed(p, peers.s2c + at, peers.s2c_len - at, 1, 7, true), 0);
                assert_int_equal(j.n_resyncs, 1);
                assert_int_equal(j.n_errors, 0);
                assert_int_equal(j.n_frames, r.n_frames - i);
                rec_done(&j);
        }
        rec_done(&r);
        peers_done(&peers);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_type),
                cmocka_unit_test(test_continuation),
                cmocka_unit_test(test_continuation_flood),
                cmocka_unit_test(test_header_block_cap),
                cmocka_unit_test(test_frame_size),
                cmocka_unit_test(test_bad_lengths),
                cmocka_unit_test(test_padding),
                cmocka_unit_test(test_preface),
                cmocka_unit_test(test_gaps),
                cmocka_unit_test(test_joined_midstream),
                cmocka_unit_test(test_looks_like_start),
                cmocka_unit_test(test_nghttp2_conversation),
                cmocka_unit_test(test_nghttp2_padded),
                cmocka_unit_test(test_nghttp2_small_every_offset),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
