/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Incremental HTTP/2 frame parser (RFC 9113 §4, §6) for one direction of a
 * byte stream.
 *
 * Bytes and gaps go in, in stream order, chunked however the capture
 * happened to chunk them; frames, errors and losses of sync come out through
 * callbacks. Where a frame ends is decided from the bytes alone (the 24-bit
 * length of its header), never from the chunking; the segment_start hint is
 * only used to find the way back after bytes were lost.
 *
 * What comes out:
 *  - One ->frame per frame, with the fields of its type decoded (Http2Frame).
 *  - HEADERS or PUSH_PROMISE followed by CONTINUATION frames come out as ONE
 *    frame of the first type, when END_HEADERS is seen, carrying the whole
 *    header block (the fragments concatenated, padding and priority removed)
 *    for HPACK. CONTINUATION frames never come out on their own.
 *  - DATA payloads are counted (data_bytes, padding excluded), never kept.
 *  - Unknown frame types (extensions) are skipped by their length and come
 *    out with their type number and no decoded fields.
 *
 * Memory: only header blocks are buffered, in one buffer per parser that
 * grows up to Http2Limits.header_block_max, each growth asked of
 * Http2Limits.mem (memory.h: the connection's and the global cap) first; SETTINGS entries are decoded as
 * they stream by into a fixed table, GOAWAY debug data keeps a fixed-size
 * excerpt. Nothing else is kept, whatever the frame lengths say. No logging,
 * no I/O, no dependence on the connection layer: this module is pure so that
 * it can be unit tested and fuzzed in isolation. Counters of every cap hit
 * and every loss are in Http2FrameStats.
 *
 * Caps (each counted in Http2FrameStats when hit):
 *  - header_block_max: bytes of one assembled header block. Past it the
 *    block's remaining fragments are counted but not stored, and the frame
 *    comes out with HTTP2_FRAME_BLOCK_INCOMPLETE (HPACK cannot decode it, and
 *    the dynamic table of that direction is no longer known).
 *  - continuation_max: CONTINUATION frames in one header block (the 2024
 *    "CONTINUATION flood": endless empty CONTINUATIONs cost no memory but
 *    unbounded work). Past it: a protocol error, sync is lost.
 *  - max_frame_size: the largest frame length accepted (SETTINGS_MAX_FRAME_SIZE
 *    announced by the *receiver* of this direction, i.e. seen in the other
 *    direction's SETTINGS; the caller passes it on with
 *    http2_frame_parser_set_max_frame_size()). Longer: a frame size error,
 *    sync is lost.
 *
 * Sync rules (what happens when bytes are lost or are not HTTP/2):
 *  - A gap that ends inside the current frame (its 9-byte header was
 *    complete) keeps sync: the frame's end is known. The frame comes out with
 *    HTTP2_FRAME_GAP and gap_bytes; bytes of DATA lost are still counted as
 *    data. If header block bytes were lost, the block also gets
 *    HTTP2_FRAME_BLOCK_INCOMPLETE. If the bytes that held a pad length or a
 *    type's fixed fields were lost, those fields are 0 and the frame has
 *    HTTP2_FRAME_GAP (a lost pad length counts as no padding, and makes a
 *    header block HTTP2_FRAME_BLOCK_INCOMPLETE: its end is unknown).
 *  - Any other gap (inside a frame header, past the end of the current frame,
 *    inside the client preface) loses sync.
 *  - Protocol errors a receiver treats as a connection error (frame too
 *    large, padding longer than the frame, wrong stream id or length for the
 *    type, a missing or misplaced CONTINUATION, the CONTINUATION cap, a bad
 *    preface) are reported through ->error and lose sync: the peers
 *    themselves would tear the connection down. A header block in progress is
 *    dropped (it comes out nowhere; ->desync tells the caller HPACK state is
 *    gone).
 *  - While desynchronised, bytes are discarded until a feed with
 *    segment_start set begins with the client preface (client direction), or
 *    with a frame header that passes http2_frame_looks_like_start(): a known
 *    type that may start a header block sequence, with a length, stream id
 *    and flags that type allows, and, when the segment holds the next frame
 *    header too, that one as well. CONTINUATION is never a resync point.
 *    After a resync the HPACK dynamic table is unknown: the caller decides
 *    what to do with header blocks from then on.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "protocols/http2/memory.h"

/* The client connection preface (RFC 9113 §3.4), 24 bytes. */
#define HTTP2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define HTTP2_PREFACE_LEN 24u

#define HTTP2_FRAME_HEADER_LEN 9u

/* SETTINGS_MAX_FRAME_SIZE: initial value and the largest a peer may announce (RFC 9113 §6.5.2). */
#define HTTP2_MAX_FRAME_SIZE_DEFAULT 16384u
#define HTTP2_MAX_FRAME_SIZE_LIMIT 16777215u

/*
 * Default cap on one assembled header block. 64 KiB holds any real request
 * or response head after HPACK compression (browsers send ~1-2 KiB, large
 * cookies and JWTs a few KiB; nginx refuses requests past its
 * large_client_header_buffers, 32 KiB by default, before compression).
 */
#define HTTP2_HEADER_BLOCK_MAX_DEFAULT (64u * 1024u)

/*
 * Default cap on CONTINUATION frames per header block. Real senders split a
 * block only when it exceeds the frame size (16 KiB by default), so a 64 KiB
 * block needs at most a few; 32 leaves room for small custom frame sizes.
 */
#define HTTP2_CONTINUATION_MAX_DEFAULT 32u

/*
 * Bytes of GOAWAY debug data kept as an excerpt (the rest is counted). The
 * debug data is free text for diagnostics; 64 bytes carry its gist, like
 * HTTP1_EXCERPT_MAX.
 */
#define HTTP2_GOAWAY_DEBUG_MAX 64u

/* Frame types (RFC 9113 §6). */
typedef enum Http2FrameType {
        HTTP2_DATA          = 0x0,
        HTTP2_HEADERS       = 0x1,
        HTTP2_PRIORITY      = 0x2,
        HTTP2_RST_STREAM    = 0x3,
        HTTP2_SETTINGS      = 0x4,
        HTTP2_PUSH_PROMISE  = 0x5,
        HTTP2_PING          = 0x6,
        HTTP2_GOAWAY        = 0x7,
        HTTP2_WINDOW_UPDATE = 0x8,
        HTTP2_CONTINUATION  = 0x9,
        _HTTP2_FRAME_TYPE_KNOWN,      /* types from here on are skipped */
} Http2FrameType;

/* Frame flags (wire bits). */
enum {
        HTTP2_FLAG_END_STREAM  = 0x01,  /* DATA, HEADERS */
        HTTP2_FLAG_ACK         = 0x01,  /* SETTINGS, PING */
        HTTP2_FLAG_END_HEADERS = 0x04,  /* HEADERS, PUSH_PROMISE, CONTINUATION */
        HTTP2_FLAG_PADDED      = 0x08,  /* DATA, HEADERS, PUSH_PROMISE */
        HTTP2_FLAG_PRIORITY    = 0x20,  /* HEADERS */
};

/* SETTINGS identifiers (RFC 9113 §6.5.2; 8 is RFC 8441, 9 is RFC 9218). */
typedef enum Http2SettingId {
        HTTP2_SETTINGS_HEADER_TABLE_SIZE      = 0x1,
        HTTP2_SETTINGS_ENABLE_PUSH            = 0x2,
        HTTP2_SETTINGS_MAX_CONCURRENT_STREAMS = 0x3,
        HTTP2_SETTINGS_INITIAL_WINDOW_SIZE    = 0x4,
        HTTP2_SETTINGS_MAX_FRAME_SIZE         = 0x5,
        HTTP2_SETTINGS_MAX_HEADER_LIST_SIZE   = 0x6,
        HTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL = 0x8,
        HTTP2_SETTINGS_NO_RFC7540_PRIORITIES  = 0x9,
        _HTTP2_SETTINGS_MAX,                    /* ids from here on are counted in n_unknown */
} Http2SettingId;

/* What the parser says about a frame, beyond the wire flags. */
enum {
        HTTP2_FRAME_GAP              = 1u << 0,  /* some of its bytes were not captured */
        HTTP2_FRAME_BLOCK_INCOMPLETE = 1u << 1,  /* header block bytes lost or over header_block_max */
        HTTP2_FRAME_BLOCK_MEMORY_CAPPED = 1u << 2, /* and INCOMPLETE: Http2Limits.mem (or malloc) refused its buffer */
};

typedef struct Http2Settings {
        /* has[id]/value[id] for the ids above; the last value of an id in the frame wins */
        bool has[_HTTP2_SETTINGS_MAX];
        uint32_t value[_HTTP2_SETTINGS_MAX];
        uint32_t n_unknown;           /* entries with other ids (ignored, as RFC 9113 says) */
} Http2Settings;

typedef struct Http2Frame {
        uint8_t type;                 /* Http2FrameType, or an unknown type number */
        uint8_t flags;                /* wire flags; for a header block: the first frame's | END_HEADERS */
        uint32_t stream_id;           /* reserved bit cleared */
        uint32_t length;              /* payload length (for a header block: of the first frame) */
        unsigned parser_flags;        /* HTTP2_FRAME_* */

        uint64_t offset;              /* stream offset of the frame header's first byte */
        uint64_t wire_bytes;          /* bytes on the wire, headers included (and CONTINUATIONs) */
        uint64_t gap_bytes;           /* of those, bytes not captured */
        uint64_t first_ns;            /* timestamp of the feed holding the first byte */
        uint64_t last_ns;             /* of the feed holding the last byte */
        uint32_t tid;                 /* thread of the feed holding the first byte */

        /* DATA, HEADERS, PUSH_PROMISE */
        uint32_t pad_len;             /* padding bytes (the pad length byte not included) */
        /* DATA: payload bytes without pad length byte and padding (lost ones included) */
        uint32_t data_bytes;

        /* HEADERS with PRIORITY, PRIORITY */
        uint32_t dependency;          /* stream dependency, exclusive bit cleared */
        bool exclusive;
        uint8_t weight;               /* wire value (weight - 1) */

        /* HEADERS, PUSH_PROMISE: the assembled header block, valid during the callback */
        const uint8_t *block;
        size_t block_len;
        unsigned n_continuations;     /* CONTINUATION frames folded in */

        uint32_t promised_stream_id;  /* PUSH_PROMISE */
        uint32_t error_code;          /* RST_STREAM, GOAWAY */
        uint32_t last_stream_id;      /* GOAWAY */
        const uint8_t *debug;         /* GOAWAY debug data excerpt, valid during the callback */
        size_t debug_len;             /* <= HTTP2_GOAWAY_DEBUG_MAX */
        uint32_t window_increment;    /* WINDOW_UPDATE */
        uint8_t ping[8];              /* PING opaque data */
        Http2Settings settings;       /* SETTINGS */
} Http2Frame;

typedef struct Http2Error {
        const char *error;            /* static description */
        uint64_t offset;              /* stream offset of the offending frame header (or preface) */
        uint8_t type;                 /* of that frame; 0xff for the preface */
        uint32_t stream_id;
} Http2Error;

/* Caps; the zero value of a field means its _DEFAULT. */
typedef struct Http2Limits {
        size_t header_block_max;
        unsigned continuation_max;
        Http2Memory *mem;             /* charged for the block buffer; NULL: not charged */
} Http2Limits;

/* Counters, each incremented where something is given up or a cap is hit. */
typedef struct Http2FrameStats {
        uint64_t frames;              /* frames parsed (CONTINUATIONs included) */
        uint64_t frames_unknown;      /* of unknown type, skipped */
        uint64_t header_blocks;       /* header blocks assembled and reported */
        uint64_t header_block_overflows; /* blocks over header_block_max */
        uint64_t continuation_floods; /* blocks over continuation_max */
        uint64_t frame_size_errors;   /* frames over max_frame_size */
        uint64_t protocol_errors;     /* every ->error (the two above included) */
        uint64_t frames_with_gaps;    /* frames reported with HTTP2_FRAME_GAP */
        uint64_t desyncs;             /* times sync was lost */
        uint64_t resyncs;             /* times it was found again */
        uint64_t bytes_discarded;     /* bytes not parsed while desynchronised (gaps included) */
} Http2FrameStats;

/* Which side's bytes a parser reads. */
typedef enum Http2Direction {
        HTTP2_FROM_CLIENT,            /* starts with the client preface when seen from the start */
        HTTP2_FROM_SERVER,            /* starts with a SETTINGS frame */
} Http2Direction;

typedef struct Http2FrameParser Http2FrameParser;

/*
 * When the memory caps refuse a block's buffer, its first bytes are kept
 * (in this many bytes of the parser's own, or in what its buffer already
 * holds), and the block comes out with them, HTTP2_FRAME_BLOCK_INCOMPLETE
 * and HTTP2_FRAME_BLOCK_MEMORY_CAPPED: what the static table says of them
 * (:method, :scheme, usually :status, often a literal :path) stays in the
 * entry, as HTTP/1 keeps a capped head's start line.
 */
#define HTTP2_BLOCK_PREFIX_MAX 48u

/*
 * At least sizeof(Http2FrameParser) (frame.c asserts it): the parser's own
 * struct is part of a connection's fixed cost (ProtocolOps.state_size),
 * counted when the connection opens, not with what grows.
 */
#define HTTP2_FRAME_PARSER_STATE_SIZE 768u

/*
 * Callbacks, all optional. A negative return is remembered and returned by
 * the feed/gap call that triggered it; parsing goes on regardless so that
 * the state stays consistent.
 */
typedef struct Http2FrameCallbacks {
        int (*frame)(Http2FrameParser *p, const Http2Frame *f, void *userdata);
        /* The client preface was seen (client direction, at the start or at a resync). */
        int (*preface)(Http2FrameParser *p, uint64_t offset, void *userdata);
        /* Bytes that are not valid HTTP/2; sync is lost afterwards. */
        int (*error)(Http2FrameParser *p, const Http2Error *e, void *userdata);
        /* Sync was lost (after ->error, if any): header compression state of this direction is gone. */
        int (*desync)(Http2FrameParser *p, void *userdata);
        /* Sync was found again at a plausible frame header (or preface) at this offset. */
        int (*resync)(Http2FrameParser *p, uint64_t offset, void *userdata);
} Http2FrameCallbacks;

/*
 * Creates a parser. limits may be NULL (defaults) and is copied; stats may be
 * NULL. If synced is true, the stream is seen from its first byte: the client
 * direction must start with the preface. If false (joined mid-way), the
 * parser waits quietly for a segment start that looks like a frame or the
 * preface.
 */
int http2_frame_parser_new(Http2Direction dir, const Http2Limits *limits, Http2FrameStats *stats,
                           const Http2FrameCallbacks *cb, void *userdata, bool synced,
                           Http2FrameParser **ret);
Http2FrameParser *http2_frame_parser_free(Http2FrameParser *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Http2FrameParser *, http2_frame_parser_free);

/* n bytes of the stream; segment_start: buf starts a syscall's bytes (resync hint). */
int http2_frame_parser_feed(Http2FrameParser *p, const uint8_t *buf, size_t n, uint64_t ts_ns,
                            uint32_t tid, bool segment_start);
/* n bytes of the stream were not captured. */
int http2_frame_parser_gap(Http2FrameParser *p, uint64_t n, uint64_t ts_ns);

/*
 * SETTINGS_MAX_FRAME_SIZE announced by the receiver of this direction
 * (clamped to 16384..16777215). Applies to frame headers parsed from now on.
 */
void http2_frame_parser_set_max_frame_size(Http2FrameParser *p, uint32_t max);

/* True when discarding bytes for lack of sync. */
bool http2_frame_parser_desynced(const Http2FrameParser *p);
/* True when a frame (or a header block across frames) is partly parsed. */
bool http2_frame_parser_busy(const Http2FrameParser *p);
/* Stream offset of the next byte. */
uint64_t http2_frame_parser_offset(const Http2FrameParser *p);
/* Bytes held (the header block buffer's allocation). */
size_t http2_frame_parser_memory(const Http2FrameParser *p);

/*
 * Whether buf (the start of a syscall's bytes) plausibly begins with a frame
 * header: see the sync rules above. max_frame_size bounds the lengths.
 * Returns false when fewer than HTTP2_FRAME_HEADER_LEN bytes are there.
 */
bool http2_frame_looks_like_start(const uint8_t *buf, size_t n, uint32_t max_frame_size);

/* "DATA", "HEADERS"...; NULL for an unknown type. */
const char *http2_frame_type_to_string(uint8_t type);
