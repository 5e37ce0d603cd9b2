/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Incremental HTTP/2 frame parser for one direction (RFC 9113). See frame.h
 * for the contract, the caps and the sync rules.
 *
 * A frame's payload is read as three regions in order: the "fixed" part
 * (pad length byte, then the type's fixed fields: priority, promised stream
 * id, error codes...), kept in a small array; the "body" (DATA counted,
 * header block fragments appended, SETTINGS entries decoded 6 bytes at a
 * time, GOAWAY debug data excerpted, unknown types skipped); and the
 * padding, skipped. Lost bytes (gaps) walk the same regions with no data,
 * so a gap inside a frame never moves its end.
 */

#include <assert.h>
#include <string.h>

#include "basic/macro.h"
#include "protocols/http2/frame.h"

/* Bytes of the largest fixed part: GOAWAY's last stream id and error code (8), PING (8). */
#define HTTP2_FIXED_MAX 8u

/* First allocation of the header block buffer; it doubles up to header_block_max. */
#define HTTP2_BLOCK_INITIAL 1024u

/* Frames after the first one checked by http2_frame_looks_like_start(), when the segment holds them. */
#define HTTP2_RESYNC_CHAIN_MAX 8u

typedef enum Http2State {
        STATE_PREFACE,          /* client direction from its start: the 24 preface bytes */
        STATE_HEADER,           /* the 9 bytes of a frame header */
        STATE_PAYLOAD,          /* payload bytes, p->pos of p->f.length */
        STATE_DESYNC,           /* lost: waiting for a segment start that looks like a frame */
} Http2State;

struct Http2FrameParser {
        Http2Direction dir;
        Http2State state;
        Http2Limits limits;
        Http2FrameStats *stats;
        Http2FrameCallbacks cb;
        void *userdata;
        int r;                          /* first callback error during the current call */
        uint32_t max_frame_size;

        uint64_t offset;                /* stream offset of the next byte */
        uint64_t ts;                    /* of the current feed or gap */
        uint32_t tid;

        size_t preface_pos;

        uint8_t hdr[HTTP2_FRAME_HEADER_LEN];
        size_t hdr_len;

        /* the frame being parsed */
        Http2Frame f;
        uint32_t pos;                   /* payload bytes consumed */
        uint32_t fixed_len;             /* bytes of the fixed part (pad length byte included) */
        uint32_t body_end;              /* payload offset where padding starts, once known */
        bool body_end_known;
        uint8_t fixed[HTTP2_FIXED_MAX + 1];
        bool fixed_lost;                /* some fixed bytes were not captured */
        uint8_t entry[6];               /* SETTINGS entry being assembled */
        size_t entry_len;
        bool entry_lost;
        uint8_t debug[HTTP2_GOAWAY_DEBUG_MAX];

        /* the header block being assembled (HEADERS/PUSH_PROMISE + CONTINUATIONs) */
        bool in_block;                  /* END_HEADERS not seen yet */
        Http2Frame blk;                 /* the first frame of the block, as it will be reported */
        uint8_t *block;
        size_t block_len, block_alloc;
        bool block_overflow;            /* counted once per block */
        bool block_in_prefix;           /* the block is in prefix[] (frame.h: HTTP2_BLOCK_PREFIX_MAX) */
        uint8_t prefix[HTTP2_BLOCK_PREFIX_MAX];
};

static const char preface[] = HTTP2_PREFACE;

static const char *const type_names[_HTTP2_FRAME_TYPE_KNOWN] = {
        [HTTP2_DATA]          = "DATA",
        [HTTP2_HEADERS]       = "HEADERS",
        [HTTP2_PRIORITY]      = "PRIORITY",
        [HTTP2_RST_STREAM]    = "RST_STREAM",
        [HTTP2_SETTINGS]      = "SETTINGS",
        [HTTP2_PUSH_PROMISE]  = "PUSH_PROMISE",
        [HTTP2_PING]          = "PING",
        [HTTP2_GOAWAY]        = "GOAWAY",
        [HTTP2_WINDOW_UPDATE] = "WINDOW_UPDATE",
        [HTTP2_CONTINUATION]  = "CONTINUATION",
};

/* Flags each type defines (RFC 9113 §6); senders set no others. */
static const uint8_t type_flags[_HTTP2_FRAME_TYPE_KNOWN] = {
        [HTTP2_DATA]          = HTTP2_FLAG_END_STREAM | HTTP2_FLAG_PADDED,
        [HTTP2_HEADERS]       = HTTP2_FLAG_END_STREAM | HTTP2_FLAG_END_HEADERS | HTTP2_FLAG_PADDED |
                                HTTP2_FLAG_PRIORITY,
        [HTTP2_SETTINGS]      = HTTP2_FLAG_ACK,
        [HTTP2_PUSH_PROMISE]  = HTTP2_FLAG_END_HEADERS | HTTP2_FLAG_PADDED,
        [HTTP2_PING]          = HTTP2_FLAG_ACK,
        [HTTP2_CONTINUATION]  = HTTP2_FLAG_END_HEADERS,
};

const char *http2_frame_type_to_string(uint8_t type) {
        return type < _HTTP2_FRAME_TYPE_KNOWN ? type_names[type] : NULL;
}

static inline uint32_t be24(const uint8_t *b) {
        return (uint32_t) b[0] << 16 | (uint32_t) b[1] << 8 | b[2];
}

static inline uint32_t be32(const uint8_t *b) {
        return (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | b[3];
}

static void remember(Http2FrameParser *p, int r) {
        if (r < 0 && p->r >= 0)
                p->r = r;
}

#define STAT_INC(p, field, n)                   \
        do {                                    \
                if ((p)->stats)                 \
                        (p)->stats->field += (n); \
        } while (0)

/* ---- frame header checks ---- */

/* Bytes before a frame's body: pad length byte, then the type's fixed fields. */
static uint32_t fixed_part(uint8_t type, uint8_t flags) {
        uint32_t pad = type < _HTTP2_FRAME_TYPE_KNOWN && (type_flags[type] & flags & HTTP2_FLAG_PADDED) ? 1 : 0;

        switch (type) {
        case HTTP2_DATA:
                return pad;
        case HTTP2_HEADERS:
                return pad + (flags & HTTP2_FLAG_PRIORITY ? 5 : 0);
        case HTTP2_PUSH_PROMISE:
                return pad + 4;
        case HTTP2_PRIORITY:
                return 5;
        case HTTP2_RST_STREAM:
        case HTTP2_WINDOW_UPDATE:
                return 4;
        case HTTP2_PING:
        case HTTP2_GOAWAY:
                return 8;
        default:
                return 0;
        }
}

/*
 * The connection errors a receiver finds in a frame header alone (RFC 9113
 * §4.2, §6), for a frame of known type: NULL when the header is acceptable.
 * Unknown types are always acceptable (skipped).
 */
static const char *header_error(uint8_t type, uint8_t flags, uint32_t length, uint32_t stream_id,
                                uint32_t max_frame_size) {
        if (length > max_frame_size)
                return "frame larger than SETTINGS_MAX_FRAME_SIZE";
        if (type >= _HTTP2_FRAME_TYPE_KNOWN)
                return NULL;

        switch (type) {
        case HTTP2_DATA:
        case HTTP2_HEADERS:
        case HTTP2_PRIORITY:
        case HTTP2_RST_STREAM:
        case HTTP2_PUSH_PROMISE:
        case HTTP2_CONTINUATION:
                if (stream_id == 0)
                        return "frame type requires a stream";
                break;
        case HTTP2_SETTINGS:
        case HTTP2_PING:
        case HTTP2_GOAWAY:
                if (stream_id != 0)
                        return "frame type must be on stream 0";
                break;
        default:
                break;
        }

        switch (type) {
        case HTTP2_PRIORITY:
                if (length != 5)
                        return "PRIORITY frame length is not 5";
                break;
        case HTTP2_RST_STREAM:
                if (length != 4)
                        return "RST_STREAM frame length is not 4";
                break;
        case HTTP2_SETTINGS:
                if ((flags & HTTP2_FLAG_ACK) && length != 0)
                        return "SETTINGS acknowledgement with a payload";
                if (length % 6 != 0)
                        return "SETTINGS frame length is not a multiple of 6";
                break;
        case HTTP2_PING:
                if (length != 8)
                        return "PING frame length is not 8";
                break;
        case HTTP2_WINDOW_UPDATE:
                if (length != 4)
                        return "WINDOW_UPDATE frame length is not 4";
                break;
        default:
                break;
        }
        if (length < fixed_part(type, flags))
                return "frame shorter than its fixed fields";
        return NULL;
}

static bool plausible_header(const uint8_t *h, uint32_t max_frame_size, bool allow_continuation) {
        uint8_t type = h[3], flags = h[4];
        uint32_t length = be24(h), stream_id = be32(h + 5);

        if (type >= _HTTP2_FRAME_TYPE_KNOWN)
                return false;
        if (type == HTTP2_CONTINUATION && !allow_continuation)
                return false;
        /* receivers ignore these bits, but no sender sets them: a strong hint of garbage */
        if (stream_id & UINT32_C(0x80000000))
                return false;
        if (flags & ~type_flags[type])
                return false;
        return !header_error(type, flags, length, stream_id, max_frame_size);
}

bool http2_frame_looks_like_start(const uint8_t *buf, size_t n, uint32_t max_frame_size) {
        bool continuation_next = false;
        size_t off = 0;

        if (!buf || n < HTTP2_FRAME_HEADER_LEN)
                return false;
        max_frame_size = CLAMP(max_frame_size, HTTP2_MAX_FRAME_SIZE_DEFAULT, HTTP2_MAX_FRAME_SIZE_LIMIT);

        for (unsigned i = 0; i <= HTTP2_RESYNC_CHAIN_MAX && n - off >= HTTP2_FRAME_HEADER_LEN; i++) {
                const uint8_t *h = buf + off;
                uint8_t type = h[3];

                if (continuation_next != (type == HTTP2_CONTINUATION))
                        return false;
                if (!plausible_header(h, max_frame_size, continuation_next))
                        return false;
                continuation_next = (type == HTTP2_HEADERS || type == HTTP2_PUSH_PROMISE ||
                                     type == HTTP2_CONTINUATION) && !(h[4] & HTTP2_FLAG_END_HEADERS);
                off += HTTP2_FRAME_HEADER_LEN + be24(h);
                if (off >= n)
                        break;
        }
        return true;
}

/* ---- life ---- */

_Static_assert(sizeof(Http2FrameParser) <= HTTP2_FRAME_PARSER_STATE_SIZE, "HTTP2_FRAME_PARSER_STATE_SIZE too small");

int http2_frame_parser_new(Http2Direction dir, const Http2Limits *limits, Http2FrameStats *stats,
                           const Http2FrameCallbacks *cb, void *userdata, bool synced,
                           Http2FrameParser **ret) {
        Http2FrameParser *p;

        assert(ret);

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->dir = dir;
        if (limits)
                p->limits = *limits;
        if (p->limits.header_block_max == 0)
                p->limits.header_block_max = HTTP2_HEADER_BLOCK_MAX_DEFAULT;
        if (p->limits.continuation_max == 0)
                p->limits.continuation_max = HTTP2_CONTINUATION_MAX_DEFAULT;
        p->stats = stats;
        if (cb)
                p->cb = *cb;
        p->userdata = userdata;
        p->max_frame_size = HTTP2_MAX_FRAME_SIZE_DEFAULT;
        if (!synced)
                p->state = STATE_DESYNC;
        else
                p->state = dir == HTTP2_FROM_CLIENT ? STATE_PREFACE : STATE_HEADER;
        *ret = p;
        return 0;
}

Http2FrameParser *http2_frame_parser_free(Http2FrameParser *p) {
        if (!p)
                return NULL;
        http2_memory_release(p->limits.mem, p->block_alloc);
        free(p->block);
        return mfree(p);
}

void http2_frame_parser_set_max_frame_size(Http2FrameParser *p, uint32_t max) {
        assert(p);
        p->max_frame_size = CLAMP(max, HTTP2_MAX_FRAME_SIZE_DEFAULT, HTTP2_MAX_FRAME_SIZE_LIMIT);
}

bool http2_frame_parser_desynced(const Http2FrameParser *p) {
        return p->state == STATE_DESYNC;
}

bool http2_frame_parser_busy(const Http2FrameParser *p) {
        return p->in_block || p->state == STATE_PAYLOAD || (p->state == STATE_HEADER && p->hdr_len > 0) ||
               (p->state == STATE_PREFACE && p->preface_pos > 0);
}

uint64_t http2_frame_parser_offset(const Http2FrameParser *p) {
        return p->offset;
}

size_t http2_frame_parser_memory(const Http2FrameParser *p) {
        return p->block_alloc;
}

/* ---- sync ---- */

static void block_drop(Http2FrameParser *p) {
        p->in_block = false;
        p->block_len = 0;
        p->block_overflow = false;
        p->block_in_prefix = false;
}

static void lose_sync(Http2FrameParser *p) {
        block_drop(p);
        p->hdr_len = 0;
        p->pos = 0;
        p->state = STATE_DESYNC;
        STAT_INC(p, desyncs, 1);
        if (p->cb.desync)
                remember(p, p->cb.desync(p, p->userdata));
}

static void protocol_error(Http2FrameParser *p, const char *error, uint64_t offset, uint8_t type,
                           uint32_t stream_id) {
        Http2Error e = {
                .error = error,
                .offset = offset,
                .type = type,
                .stream_id = stream_id,
        };

        STAT_INC(p, protocol_errors, 1);
        if (p->cb.error)
                remember(p, p->cb.error(p, &e, p->userdata));
        lose_sync(p);
}

/* ---- header blocks ---- */

/* Appends fragment bytes (buf NULL: lost bytes) to the block, within header_block_max. */
static void block_append(Http2FrameParser *p, const uint8_t *buf, size_t n) {
        if (n == 0)
                return;
        if (!buf) {
                p->blk.parser_flags |= HTTP2_FRAME_BLOCK_INCOMPLETE;
                return;
        }
        if (p->blk.parser_flags & HTTP2_FRAME_BLOCK_INCOMPLETE)
                return;   /* undecodable anyway: keep nothing more */
        if (n > p->limits.header_block_max - p->block_len) {
                p->blk.parser_flags |= HTTP2_FRAME_BLOCK_INCOMPLETE;
                if (!p->block_overflow) {
                        p->block_overflow = true;
                        STAT_INC(p, header_block_overflows, 1);
                }
                return;
        }
        if (p->block_len + n > p->block_alloc) {
                size_t want = MAX(p->block_alloc, (size_t) HTTP2_BLOCK_INITIAL);
                uint8_t *b;

                while (want < p->block_len + n)
                        want *= 2;
                want = MIN(want, p->limits.header_block_max);
                if (!http2_memory_reserve(p->limits.mem, want - p->block_alloc))
                        b = NULL;
                else if (!(b = realloc(p->block, want)))
                        http2_memory_release(p->limits.mem, want - p->block_alloc);
                if (!b) {
                        /* refused (memory_refused) or out of memory: not decodable, its start is kept */
                        size_t k = MIN(n, (p->block_alloc ?: sizeof(p->prefix)) - p->block_len);

                        p->block_in_prefix = p->block_alloc == 0;
                        memcpy((p->block_in_prefix ? p->prefix : p->block) + p->block_len, buf, k);
                        p->block_len += k;
                        p->blk.parser_flags |= HTTP2_FRAME_BLOCK_INCOMPLETE | HTTP2_FRAME_BLOCK_MEMORY_CAPPED;
                        return;
                }
                p->block = b;
                p->block_alloc = want;
        }
        memcpy(p->block + p->block_len, buf, n);
        p->block_len += n;
}

static void block_emit(Http2FrameParser *p) {
        p->blk.block = p->block_len == 0 ? (const uint8_t *) "" : p->block_in_prefix ? p->prefix : p->block;
        p->blk.block_len = p->block_len;
        p->blk.flags |= HTTP2_FLAG_END_HEADERS;
        if (p->blk.gap_bytes > 0)
                p->blk.parser_flags |= HTTP2_FRAME_GAP;
        STAT_INC(p, header_blocks, 1);
        if (p->cb.frame)
                remember(p, p->cb.frame(p, &p->blk, p->userdata));
        block_drop(p);
}

/* ---- frames ---- */

static void frame_begin(Http2FrameParser *p) {
        const uint8_t *h = p->hdr;
        uint8_t type = h[3], flags = h[4];
        uint32_t length = be24(h), stream_id = be32(h + 5) & UINT32_C(0x7fffffff);
        uint64_t start = p->offset - HTTP2_FRAME_HEADER_LEN;
        const char *error;

        p->hdr_len = 0;
        if (type >= _HTTP2_FRAME_TYPE_KNOWN)
                STAT_INC(p, frames_unknown, 1);

        /* a header block in progress admits nothing but its CONTINUATIONs (RFC 9113 §6.10) */
        if (p->in_block && (type != HTTP2_CONTINUATION || stream_id != p->blk.stream_id))
                return protocol_error(p, "header block interrupted by another frame", start, type, stream_id);
        if (!p->in_block && type == HTTP2_CONTINUATION)
                return protocol_error(p, "CONTINUATION without a header block", start, type, stream_id);
        if (type == HTTP2_PUSH_PROMISE && p->dir == HTTP2_FROM_CLIENT)
                return protocol_error(p, "PUSH_PROMISE sent by a client", start, type, stream_id);

        error = header_error(type, flags, length, stream_id, p->max_frame_size);
        if (error) {
                if (length > p->max_frame_size)
                        STAT_INC(p, frame_size_errors, 1);
                return protocol_error(p, error, start, type, stream_id);
        }
        if (type == HTTP2_CONTINUATION && p->blk.n_continuations >= p->limits.continuation_max) {
                STAT_INC(p, continuation_floods, 1);
                return protocol_error(p, "too many CONTINUATION frames in one header block", start, type,
                                      stream_id);
        }

        p->f = (Http2Frame) {
                .type = type,
                .flags = flags,
                .stream_id = stream_id,
                .length = length,
                .offset = start,
                .wire_bytes = HTTP2_FRAME_HEADER_LEN + (uint64_t) length,
                .first_ns = p->ts,
                .last_ns = p->ts,
                .tid = p->tid,
        };
        p->pos = 0;
        p->fixed_lost = false;
        p->entry_len = 0;
        p->entry_lost = false;
        p->fixed_len = fixed_part(type, flags);
        /* without padding, the body runs to the end; with it, known once the pad length is read */
        p->body_end_known = !(type < _HTTP2_FRAME_TYPE_KNOWN && (type_flags[type] & HTTP2_FLAG_PADDED) &&
                              (flags & HTTP2_FLAG_PADDED));
        p->body_end = length;
        p->state = STATE_PAYLOAD;

        if (type == HTTP2_HEADERS || type == HTTP2_PUSH_PROMISE) {
                p->blk = p->f;
                p->blk.flags &= ~HTTP2_FLAG_END_HEADERS;
                p->in_block = true;
                p->block_len = 0;
                p->block_overflow = false;
                p->block_in_prefix = false;
        }
}

/* The fixed part is complete (some of it maybe lost): decode it. Returns false on a protocol error. */
static bool fixed_done(Http2FrameParser *p) {
        Http2Frame *f = &p->f;
        const uint8_t *b = p->fixed;
        bool padded = f->type < _HTTP2_FRAME_TYPE_KNOWN && (type_flags[f->type] & HTTP2_FLAG_PADDED) &&
                      (f->flags & HTTP2_FLAG_PADDED);

        if (padded) {
                /* a lost pad length counts as no padding (frame.h) */
                f->pad_len = b[0];
                if (f->pad_len > f->length - p->fixed_len) {
                        protocol_error(p, "padding longer than the frame payload", f->offset, f->type,
                                       f->stream_id);
                        return false;
                }
                p->body_end = f->length - f->pad_len;
                p->body_end_known = true;
                b++;
        }

        switch (f->type) {
        case HTTP2_HEADERS:
                if (!(f->flags & HTTP2_FLAG_PRIORITY))
                        break;
                __attribute__((fallthrough));
        case HTTP2_PRIORITY:
                f->exclusive = b[0] & 0x80;
                f->dependency = be32(b) & UINT32_C(0x7fffffff);
                f->weight = b[4];
                break;
        case HTTP2_PUSH_PROMISE:
                f->promised_stream_id = be32(b) & UINT32_C(0x7fffffff);
                break;
        case HTTP2_RST_STREAM:
                f->error_code = be32(b);
                break;
        case HTTP2_WINDOW_UPDATE:
                f->window_increment = be32(b) & UINT32_C(0x7fffffff);
                break;
        case HTTP2_PING:
                memcpy(f->ping, b, 8);
                break;
        case HTTP2_GOAWAY:
                f->last_stream_id = be32(b) & UINT32_C(0x7fffffff);
                f->error_code = be32(b + 4);
                break;
        default:
                break;
        }
        if (f->type == HTTP2_HEADERS || f->type == HTTP2_PUSH_PROMISE) {
                /* the block reports what its first frame said */
                p->blk.pad_len = f->pad_len;
                p->blk.exclusive = f->exclusive;
                p->blk.dependency = f->dependency;
                p->blk.weight = f->weight;
                p->blk.promised_stream_id = f->promised_stream_id;
                if (p->fixed_lost)
                        p->blk.parser_flags |= HTTP2_FRAME_GAP;
                /* without the pad length, where the fragment ends is unknown: padding would be taken for HPACK */
                if (p->fixed_lost && padded)
                        p->blk.parser_flags |= HTTP2_FRAME_BLOCK_INCOMPLETE;
        }
        return true;
}

static void settings_entry(Http2FrameParser *p) {
        uint16_t id = (uint16_t) (p->entry[0] << 8 | p->entry[1]);

        if (p->entry_lost) {
                p->entry_lost = false;
                return;
        }
        if (id > 0 && id < _HTTP2_SETTINGS_MAX && id != 7) {
                p->f.settings.has[id] = true;
                p->f.settings.value[id] = be32(p->entry + 2);
        } else
                p->f.settings.n_unknown++;
}

/* Body bytes [p->pos, p->pos + n) of the frame (buf NULL: lost). */
static void body_bytes(Http2FrameParser *p, const uint8_t *buf, size_t n) {
        Http2Frame *f = &p->f;
        uint32_t at = p->pos - p->fixed_len;   /* offset in the body */

        switch (f->type) {
        case HTTP2_HEADERS:
        case HTTP2_PUSH_PROMISE:
        case HTTP2_CONTINUATION:
                block_append(p, buf, n);
                break;
        case HTTP2_SETTINGS:
                for (size_t i = 0; i < n; i++) {
                        if (buf)
                                p->entry[p->entry_len] = buf[i];
                        else
                                p->entry_lost = true;
                        if (++p->entry_len == sizeof(p->entry)) {
                                settings_entry(p);
                                p->entry_len = 0;
                        }
                }
                break;
        case HTTP2_GOAWAY:
                if (at < HTTP2_GOAWAY_DEBUG_MAX) {
                        size_t k = MIN(n, HTTP2_GOAWAY_DEBUG_MAX - at);

                        if (buf)
                                memcpy(p->debug + at, buf, k);
                        else
                                memset(p->debug + at, 0, k);
                        f->debug_len = at + k;
                }
                break;
        default:
                /* DATA is counted at the end; unknown types are skipped */
                break;
        }
}

static void frame_end(Http2FrameParser *p) {
        Http2Frame *f = &p->f;

        p->state = STATE_HEADER;
        STAT_INC(p, frames, 1);
        if (f->gap_bytes > 0) {
                f->parser_flags |= HTTP2_FRAME_GAP;
                STAT_INC(p, frames_with_gaps, 1);
        }

        switch (f->type) {
        case HTTP2_DATA:
                f->data_bytes = f->length - p->fixed_len - f->pad_len;
                break;
        case HTTP2_GOAWAY:
                f->debug = p->debug;
                break;
        case HTTP2_HEADERS:
        case HTTP2_PUSH_PROMISE:
        case HTTP2_CONTINUATION:
                if (f->type == HTTP2_CONTINUATION) {
                        p->blk.n_continuations++;
                        p->blk.wire_bytes += f->wire_bytes;
                }
                p->blk.gap_bytes += f->gap_bytes;
                p->blk.last_ns = p->ts;
                if (f->flags & HTTP2_FLAG_END_HEADERS)
                        block_emit(p);
                return;
        default:
                break;
        }
        if (p->cb.frame)
                remember(p, p->cb.frame(p, f, p->userdata));
}

/*
 * Payload bytes of the current frame (buf NULL: n lost bytes), n <= the rest
 * of the frame. Returns false when a protocol error lost sync.
 */
static bool payload(Http2FrameParser *p, const uint8_t *buf, size_t n) {
        Http2Frame *f = &p->f;

        if (!buf)
                f->gap_bytes += n;
        if (n > 0)
                f->last_ns = p->ts;

        while (n > 0) {
                size_t k;

                if (p->pos < p->fixed_len) {
                        k = MIN(n, (size_t) (p->fixed_len - p->pos));
                        if (buf)
                                memcpy(p->fixed + p->pos, buf, k);
                        else {
                                memset(p->fixed + p->pos, 0, k);
                                p->fixed_lost = true;
                        }
                        p->pos += k;
                        n -= k;
                        if (buf)
                                buf += k;
                        if (p->pos == p->fixed_len && !fixed_done(p))
                                return false;
                        continue;
                }
                if (p->pos < p->body_end) {
                        k = MIN(n, (size_t) (p->body_end - p->pos));
                        body_bytes(p, buf, k);
                } else
                        k = n;  /* padding: skipped */
                p->pos += k;
                n -= k;
                if (buf)
                        buf += k;
        }
        return true;
}

/* Called when pos may have reached the frame's length. */
static void maybe_frame_end(Http2FrameParser *p) {
        if (p->state != STATE_PAYLOAD || p->pos < p->f.length)
                return;
        /* a zero-length fixed part never ran fixed_done(): frames with no fields */
        frame_end(p);
}

/* ---- input ---- */

static bool try_resync(Http2FrameParser *p, const uint8_t *buf, size_t n) {
        size_t k = MIN(n, (size_t) HTTP2_PREFACE_LEN);

        if (p->dir == HTTP2_FROM_CLIENT && k >= 4 && memcmp(buf, preface, k) == 0) {
                p->state = STATE_PREFACE;
                p->preface_pos = 0;
        } else if (http2_frame_looks_like_start(buf, n, p->max_frame_size))
                p->state = STATE_HEADER;
        else
                return false;
        p->hdr_len = 0;
        STAT_INC(p, resyncs, 1);
        if (p->cb.resync)
                remember(p, p->cb.resync(p, p->offset, p->userdata));
        return true;
}

int http2_frame_parser_feed(Http2FrameParser *p, const uint8_t *buf, size_t n, uint64_t ts_ns,
                            uint32_t tid, bool segment_start) {
        assert(p);
        assert(buf || n == 0);

        p->r = 0;
        p->ts = ts_ns;
        p->tid = tid;

        if (p->state == STATE_DESYNC && !(segment_start && try_resync(p, buf, n))) {
                STAT_INC(p, bytes_discarded, n);
                p->offset += n;
                return p->r;
        }

        while (n > 0) {
                size_t k;

                switch (p->state) {
                case STATE_PREFACE:
                        k = MIN(n, (size_t) HTTP2_PREFACE_LEN - p->preface_pos);
                        if (memcmp(buf, preface + p->preface_pos, k) != 0) {
                                protocol_error(p, "stream does not start with the HTTP/2 client preface",
                                               p->offset - p->preface_pos, 0xff, 0);
                                continue;   /* the rest of the feed is discarded below */
                        }
                        p->preface_pos += k;
                        p->offset += k;
                        buf += k;
                        n -= k;
                        if (p->preface_pos == HTTP2_PREFACE_LEN) {
                                p->state = STATE_HEADER;
                                p->preface_pos = 0;
                                if (p->cb.preface)
                                        remember(p, p->cb.preface(p, p->offset - HTTP2_PREFACE_LEN,
                                                                  p->userdata));
                        }
                        break;

                case STATE_HEADER:
                        k = MIN(n, HTTP2_FRAME_HEADER_LEN - p->hdr_len);
                        memcpy(p->hdr + p->hdr_len, buf, k);
                        p->hdr_len += k;
                        p->offset += k;
                        buf += k;
                        n -= k;
                        if (p->hdr_len == HTTP2_FRAME_HEADER_LEN) {
                                frame_begin(p);
                                maybe_frame_end(p);
                        }
                        break;

                case STATE_PAYLOAD:
                        k = MIN(n, (size_t) (p->f.length - p->pos));
                        p->offset += k;
                        if (payload(p, buf, k))
                                maybe_frame_end(p);
                        buf += k;
                        n -= k;
                        break;

                case STATE_DESYNC:
                        /* lost sync inside this feed: the rest is not parsed */
                        STAT_INC(p, bytes_discarded, n);
                        p->offset += n;
                        n = 0;
                        break;
                }
        }
        return p->r;
}

int http2_frame_parser_gap(Http2FrameParser *p, uint64_t n, uint64_t ts_ns) {
        assert(p);

        p->r = 0;
        p->ts = ts_ns;
        if (n == 0)
                return 0;

        if (p->state == STATE_PAYLOAD && n <= p->f.length - p->pos) {
                /* inside a frame whose end is known: sync is kept (frame.h) */
                p->offset += n;
                if (payload(p, NULL, n))
                        maybe_frame_end(p);
                return p->r;
        }

        if (p->state != STATE_DESYNC)
                lose_sync(p);
        STAT_INC(p, bytes_discarded, n);
        p->offset += n;
        return p->r;
}
