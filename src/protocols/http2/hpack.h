/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HPACK (RFC 7541) decoding of the header blocks of one direction of an
 * HTTP/2 connection: a thin wrapper over libnghttp2's inflater
 * (nghttp2_hd_inflate_*). HPACK is stateful: every header block of the
 * direction must be fed, in order, so that the dynamic table stays exactly
 * the encoder's. We do not write our own decoder for that: libnghttp2 is the
 * decoder nginx, curl, h2load and Apache's mod_http2 use, so its view is the
 * peers' view.
 *
 * Out comes one Http2HeaderList per block (one allocation): the
 * pseudo-header fields split out (:method :path :authority :scheme :status
 * :protocol), the regular fields in order, and what was malformed.
 *
 * Memory: the inflater's allocations go through a counting allocator capped
 * at Http2HpackLimits.memory_max and charged to Http2HpackLimits.mem
 * (memory.h: the connection's and the global cap), as are the scratch
 * buffers and each list made; the dynamic table may not be made larger
 * than HTTP2_HPACK_TABLE_SIZE_MAX whatever the encoder asks; what is copied
 * out is capped at fields_max fields and list_bytes_max bytes (the rest is
 * decoded, so the table stays exact, and counted as dropped).
 *
 * Errors and the table's soundness: after any failure (a bad block, a
 * reference to a table entry we never saw, the memory cap) the inflater is
 * replaced by a fresh one (empty dynamic table) and the block is reported
 * failed. The caller must also call http2_hpack_reset() whenever a block of
 * this direction could not be fed whole (bytes lost, over the frame parser's
 * cap, frame sync lost). Decoding after a reset is still exact whenever it
 * succeeds: HPACK indexes the dynamic table newest first, so the entries
 * inserted since the reset have the same indexes in the encoder's table and
 * ours, and a reference to an older entry is out of our table's range and
 * fails (nghttp2 checks the index) instead of decoding to something wrong.
 * That is all a stock inflater can do for a connection joined mid-stream:
 * blocks that only use the static table and entries inserted since the last
 * reset decode exactly, the others fail. Measured (test-http2-hpack,
 * test_join_midstream): when every block inserts something new (a trace id)
 * and so every block refers to an entry older than the last reset, NOT ONE
 * block decodes after joining; traffic that starts with fresh literals
 * recovers at once. Doing better needs a tolerant decoder that keeps going
 * past unknown references (issue 13), which this wrapper does not attempt.
 * (Our table must not evict earlier than the encoder's; it does not while
 * the encoder's size is at most HTTP2_HPACK_TABLE_SIZE_MAX, and when it
 * does, the evicted entries' references fail the same way.)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "protocols/http2/memory.h"

/*
 * Largest dynamic table accepted (SETTINGS_HEADER_TABLE_SIZE is the
 * receiver's to announce; we accept up to this without having seen it).
 * Browsers announce 65536, servers mostly keep the 4096 default; more buys
 * nothing and costs memory.
 */
#define HTTP2_HPACK_TABLE_SIZE_MAX (64u * 1024u)

/*
 * Default cap on the inflater's own memory. Its dynamic table of 64 KiB
 * accounted size costs more in allocations (each entry has 32 bytes of
 * accounted overhead but ~100 real ones: measured in test-http2-hpack,
 * ~350 KiB for a table of 64 KiB filled with the smallest entries), plus
 * buffers for one name and one value of up to 64 KiB each (nghttp2's own
 * field limit, NGHTTP2_HD_MAX_NV).
 */
#define HTTP2_HPACK_MEMORY_MAX_DEFAULT (768u * 1024u)

/*
 * Default caps on what one list keeps: limits.fields_max's default (128),
 * and 16 KiB of names and values, a quarter of limits.head_max's default
 * (64 KiB of HTTP/1 head): decoded HTTP/2 fields carry no framing, and
 * outputs keep far less of a value anyway. The glue should pass the
 * configured limits.
 */
#define HTTP2_HPACK_FIELDS_MAX_DEFAULT 128u
#define HTTP2_HPACK_LIST_BYTES_MAX_DEFAULT (16u * 1024u)

typedef enum Http2Pseudo {
        HTTP2_PSEUDO_METHOD,
        HTTP2_PSEUDO_PATH,
        HTTP2_PSEUDO_AUTHORITY,
        HTTP2_PSEUDO_SCHEME,
        HTTP2_PSEUDO_STATUS,
        HTTP2_PSEUDO_PROTOCOL,        /* extended CONNECT (RFC 8441) */
        _HTTP2_PSEUDO_MAX,
} Http2Pseudo;

/* What was odd about a block (RFC 9113 §8.2, §8.3): it is still reported. */
enum {
        HTTP2_HEADERS_FIELDS_DROPPED   = 1u << 0,  /* fields or bytes over the caps: not kept */
        HTTP2_HEADERS_PSEUDO_LATE      = 1u << 1,  /* a pseudo-header after a regular field (kept) */
        HTTP2_HEADERS_PSEUDO_DUPLICATE = 1u << 2,  /* a pseudo-header twice (the first is kept) */
        HTTP2_HEADERS_PSEUDO_UNKNOWN   = 1u << 3,  /* an unknown pseudo-header (not kept) */
        HTTP2_HEADERS_NAME_UPPERCASE   = 1u << 4,  /* a field name with upper-case letters (kept) */
        HTTP2_HEADERS_STATUS_INVALID   = 1u << 5,  /* :status not three digits (status stays 0) */
        HTTP2_HEADERS_MEMORY_CAPPED    = 1u << 6,  /* and FIELDS_DROPPED: Http2HpackLimits.mem refused scratch */
};

typedef struct Http2Field {
        const char *name;             /* NUL-terminated; may contain NULs from the wire (name_len rules) */
        size_t name_len;
        const char *value;
        size_t value_len;
        bool never_indexed;           /* sent as "never indexed" (sensitive, RFC 7541 §7.1.3) */
} Http2Field;

typedef struct Http2HeaderList {
        const char *pseudo[_HTTP2_PSEUDO_MAX];  /* NULL when absent */
        size_t pseudo_len[_HTTP2_PSEUDO_MAX];
        unsigned status;              /* :status as a number (100..999), 0 when absent or invalid */
        Http2Field *fields;           /* regular fields in order */
        size_t n_fields;
        size_t n_dropped;             /* fields decoded but not kept (caps) */
        unsigned flags;               /* HTTP2_HEADERS_* */
        uint64_t list_size;           /* RFC 9113 §6.5.2 size of the whole block: names + values + 32 each */
        Http2Memory *mem;             /* where this allocation is charged (released by the free) */
        size_t charged;               /* its bytes */
        /* the field array and the strings follow in the same allocation */
} Http2HeaderList;

Http2HeaderList *http2_header_list_free(Http2HeaderList *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(Http2HeaderList *, http2_header_list_free);

/* First regular field named name (lower case, as HTTP/2 sends them), or NULL. */
const Http2Field *http2_header_list_get(const Http2HeaderList *l, const char *name);

/* Caps; the zero value of a field means its _DEFAULT. */
typedef struct Http2HpackLimits {
        size_t memory_max;
        size_t fields_max;
        size_t list_bytes_max;
        Http2Memory *mem;             /* charged for every allocation; NULL: not charged */
} Http2HpackLimits;

typedef struct Http2HpackStats {
        uint64_t blocks;              /* blocks decoded */
        uint64_t fields;              /* fields decoded (kept or not) */
        uint64_t fields_dropped;      /* over fields_max or list_bytes_max */
        uint64_t errors;              /* blocks that failed (memory_refused included) */
        uint64_t memory_refused;      /* failures because of memory_max */
        uint64_t memory_capped;       /* failures because limits.mem refused (-ENOSPC) */
        uint64_t resets;              /* fresh inflaters: after failures and http2_hpack_reset() */
} Http2HpackStats;

typedef struct Http2Hpack Http2Hpack;

/* At least sizeof(Http2Hpack) (hpack.c asserts it): part of a connection's fixed cost, like the parser's. */
#define HTTP2_HPACK_STATE_SIZE 320u

/*
 * limits may be NULL (defaults) and is copied; stats may be NULL. When
 * limits->mem refuses the inflater's first allocations, the decoder is made
 * without one (decode tries again, -ENOSPC meanwhile).
 */
int http2_hpack_new(const Http2HpackLimits *limits, Http2HpackStats *stats, Http2Hpack **ret);
Http2Hpack *http2_hpack_free(Http2Hpack *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(Http2Hpack *, http2_hpack_free);

/*
 * Decodes one complete header block. On success *ret is a new list (the
 * caller frees it). Errors: -EBADMSG the block is not valid HPACK or refers
 * to entries we do not have; -ENOBUFS memory_max was hit; -ENOSPC limits.mem
 * refused (the connection's or the global cap); -ENOMEM. After each of them
 * the dynamic table starts empty (see above), except -ENOSPC when only the
 * list could not be made: the block was decoded, the table is still exact.
 */
int http2_hpack_decode(Http2Hpack *h, const uint8_t *block, size_t len, Http2HeaderList **ret);

/* Static description of the last failure (libnghttp2's words), or NULL. */
const char *http2_hpack_last_error(const Http2Hpack *h);

/*
 * A block of this direction was not fed (lost, truncated, sync lost): start
 * over with an empty dynamic table. -ENOMEM leaves the decoder unusable
 * until a later reset succeeds (decode returns -ENOMEM meanwhile); a
 * refusal of limits.mem is not an error: the next decode asks again.
 */
int http2_hpack_reset(Http2Hpack *h);

/*
 * SETTINGS_HEADER_TABLE_SIZE announced by the receiver of this direction
 * (clamped to HTTP2_HPACK_TABLE_SIZE_MAX). Call between blocks. Lowering it
 * below the size in use makes libnghttp2 require a size update at the start
 * of the next block (RFC 7541 §4.2); an observer cannot tell which block the
 * encoder wrote after it saw the SETTINGS, so callers should only raise it
 * (the default, HTTP2_HPACK_TABLE_SIZE_MAX, is sound: see above).
 */
int http2_hpack_set_table_size_max(Http2Hpack *h, uint32_t size);

/* Bytes held by the inflater (its counting allocator). */
size_t http2_hpack_memory(const Http2Hpack *h);
/* Accounted size of the dynamic table (RFC 7541 §4.1) and its number of entries. */
size_t http2_hpack_table_size(const Http2Hpack *h);
size_t http2_hpack_table_entries(const Http2Hpack *h);

const char *http2_pseudo_to_string(Http2Pseudo p);

/*
 * What a header block says without any dynamic table: its pseudo-header
 * fields that are static table entries (RFC 7541 Appendix A: :method GET and
 * POST, :path / and /index.html, :scheme, :status 200 204 206 304 400 404
 * 500), or literals naming a static pseudo-header with a value that is not
 * Huffman-coded. For a block http2_hpack_decode() could not decode on a
 * connection joined mid-stream: a response's status usually survives.
 * Pure, no allocation; stops quietly at anything malformed. When the block
 * does decode, every value found here equals the decoded one (checked by
 * fuzz-http2).
 */
typedef struct Http2StaticPeek {
        const char *pseudo[_HTTP2_PSEUDO_MAX];  /* NULL when not found; NOT NUL-terminated */
        size_t pseudo_len[_HTTP2_PSEUDO_MAX];
        unsigned status;              /* :status as a number when found and valid, else 0 */
} Http2StaticPeek;

void http2_hpack_peek_static(const uint8_t *block, size_t len, Http2StaticPeek *ret);
