/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Incremental HTTP/1.x message parser for one direction of a byte stream.
 *
 * Bytes and gaps go in, in stream order, chunked however the capture
 * happened to chunk them; complete messages, parse errors and losses of
 * sync come out through callbacks. Where a message ends is decided from
 * the bytes alone (RFC 9112 §6.3), never from how they were chunked; the
 * segment_start hint is only used to find the way back after bytes were
 * lost.
 *
 * Memory: only message heads are buffered (one allocation per message,
 * reserved from an Http1Memory shared by a connection); body bytes are
 * counted, never kept. No logging, no I/O: this module is pure so that it
 * can be unit tested and fuzzed in isolation.
 *
 * Sync rules (what happens when bytes are lost or are not HTTP):
 *  - A gap inside a body of known remaining length (Content-Length, or
 *    inside one chunk's data) is consumed as body: HTTP_MESSAGE_GAP.
 *  - Any other gap (inside a head, over chunk framing, between messages),
 *    and any parse error, loses sync. The message in progress, if its start
 *    line was complete, is reported at once through ->message with
 *    HTTP_MESSAGE_TRUNCATED (plus HEAD_TRUNCATED and HEAD_CUT if its head was
 *    cut): its end is unknowable from that moment, so waiting would only
 *    delay it. A start line cut by a gap or the end of the stream still
 *    reports the message when enough of it is known (a request's whole
 *    method and the target's first bytes, a response's status code), so
 *    that a long target cannot hide a request. A start line that is bad
 *    is not reported, only the error.
 *  - While desynchronised, bytes are discarded until a feed with
 *    segment_start set begins with something that looks like a start line
 *    of the expected kind (http1_looks_like_start()).
 */
#pragma once

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "conn/exchange.h"
#include "conn/protocol.h"
#include "conn/stats.h"
#include "protocols/http1/counters.h"
#include "protocols/http1/limits.h"

/* Bytes of an excerpt attached to a parse error. */
#define HTTP1_EXCERPT_MAX 64u

/*
 * Field lines whose ends are remembered while a head accumulates, so that
 * parsing it does not search for them again. Typical heads have 5-20;
 * lines past this are found with memchr.
 */
#define HTTP1_LINES_TRACKED 48u

typedef enum Http1Kind {
        HTTP1_KIND_ANY,               /* not known yet: the first start line decides, then it is fixed */
        HTTP1_KIND_REQUEST,
        HTTP1_KIND_RESPONSE,
} Http1Kind;

/* Request methods whose responses the parser must treat specially. */
typedef enum Http1Method {
        HTTP1_METHOD_OTHER,
        HTTP1_METHOD_HEAD,            /* response has no body whatever its headers say */
        HTTP1_METHOD_CONNECT,         /* 2xx response turns the connection into a tunnel */
} Http1Method;

/* What ->head may answer for a response head: how its body is framed. */
enum {
        HTTP1_BODY_DEFAULT = 0,       /* decide from status and header fields */
        HTTP1_BODY_NONE    = 1,       /* no body (response to HEAD) */
        HTTP1_BODY_TUNNEL  = 2,       /* no body, and the stream stops being HTTP (CONNECT 2xx) */
};

/*
 * Per-connection memory accounting shared by both directions' parsers and
 * the requests queued for correlation: enforces Limits.conn_memory_max and
 * the global MemBudget together.
 */
typedef struct Http1Memory {
        size_t used;                  /* bytes held by this connection */
        size_t max;                   /* per-connection cap; 0 means no cap */
        MemBudget *budget;            /* global cap, may be NULL */
} Http1Memory;

/*
 * Reserve n bytes against both caps; false (and nothing reserved) when either refuses.
 * Inline: called twice per message (reserve in message_begin(), release when it is freed),
 * and the out-of-line calls cost more than their bodies.
 */
static inline bool http1_memory_reserve(Http1Memory *mem, size_t n) {
        if (!mem)
                return true;
        if (mem->max > 0 && (n > mem->max || mem->used > mem->max - n))
                return false;
        if (!mem_budget_reserve(mem->budget, n))
                return false;
        mem->used += n;
        return true;
}

static inline void http1_memory_release(Http1Memory *mem, size_t n) {
        if (!mem)
                return;
        mem_budget_release(mem->budget, n);
        mem->used = n > mem->used ? 0 : mem->used - n;
}

/*
 * A parsed message: the HttpMessage outputs see, followed in the same
 * allocation by the head bytes (parsed in place, so the strings point into
 * it) and the header field array.
 */
typedef struct Http1Message {
        HttpMessage m;
        Http1Method method_id;        /* requests: classification of m.method */
        Http1Memory *mem;             /* where reserved was charged */
        size_t reserved;              /* bytes charged for this allocation */
        struct Http1Message *next;    /* free for the owner's queue */
        uint64_t run;                 /* free for the owner: further requests this one stands for */
        uint64_t run_first_ns;        /* free for the owner: first_ns of the latest of them */
        size_t cap;                   /* bytes available in buf */
        size_t len;                   /* bytes of head stored in buf */
        /*
         * The parser's, while the head accumulates: its stored field lines
         * (the final empty one included) and where each of the first
         * HTTP1_LINES_TRACKED ends (offset of its LF in buf). Here rather than
         * in the parser: a connection between messages holds no message, and
         * so none of this.
         */
        uint32_t n_lines;
        uint32_t line_ends[HTTP1_LINES_TRACKED];
        /* aligned: http1_head_finalize() puts the HttpHeaderField array in it */
        alignas(max_align_t) char buf[];
} Http1Message;

Http1Message *http1_message_free(Http1Message *m);
/*
 * Keeps only what pairs a request with its response (kind, method class,
 * timestamps, flags): frees the head, its memory and its strings (method
 * and target become empty, sizes 0) and adds HTTP_MESSAGE_PIPELINE_OVERFLOW.
 * Returns the message, which may have moved.
 */
Http1Message *http1_message_drop_head(Http1Message *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Http1Message *, http1_message_free);
/*
 * A request known only by its start line's first bytes (one the parser
 * rejected, for the pairing layer to pair with its response): method and
 * target copied in (no NUL inside; either may be empty), version 0, no
 * fields, sizes 0. Charged to mem like a parsed message; when mem refuses
 * the strings, they are empty and the message is HTTP_MESSAGE_MEMORY_CAPPED.
 * NULL when out of memory.
 */
Http1Message *http1_message_new_request(Http1Memory *mem, const char *method, size_t method_len,
                                        const char *target, size_t target_len, uint64_t ts_ns);


typedef struct Http1Error {
        const char *error;            /* static description */
        uint64_t offset;              /* stream offset of the offending byte or line */
        const uint8_t *excerpt;       /* bytes from there on, valid during the callback */
        size_t excerpt_len;           /* <= HTTP1_EXCERPT_MAX */
        uint64_t timestamp_ns;        /* of the feed where it was found */
} Http1Error;

typedef struct Http1Parser Http1Parser;

/*
 * Callbacks, all optional. A negative return is remembered and returned by
 * the feed/gap/finish call that triggered it; parsing goes on regardless so
 * that the state stays consistent.
 */
typedef struct Http1ParserCallbacks {
        /* The first start line fixed the kind of an HTTP1_KIND_ANY parser. */
        int (*kind)(Http1Parser *p, Http1Kind kind, void *userdata);
        /*
         * A head is complete; the body (if any) has not been seen yet. For
         * responses, returns HTTP1_BODY_* (the parser does not know the
         * request's method). m stays owned by the parser and does not move
         * until ->message.
         */
        int (*head)(Http1Parser *p, Http1Message *m, void *userdata);
        /* A message is complete (or truncated): ownership of m passes to the callee. */
        int (*message)(Http1Parser *p, Http1Message *m, void *userdata);
        /* Bytes that are not valid HTTP/1.x; sync is lost afterwards. */
        int (*error)(Http1Parser *p, const Http1Error *e, void *userdata);
        /* Sync was lost (after ->error and the truncated ->message, if any). */
        int (*desync)(Http1Parser *p, void *userdata);
} Http1ParserCallbacks;

/*
 * Creates a parser. limits supplies head_max and fields_max (read at each
 * message); mem, stats and cb may be NULL. cb is kept, not copied (a
 * pointer instead of five in every parser: issue 14's memory per idle
 * connection): it must outlive the parser, like limits. If synced is false, the parser starts
 * as if desynchronised (stream joined mid-way): it waits quietly for a
 * segment start that looks like a message start.
 */
int http1_parser_new(Http1Kind kind, const Http1Limits *limits, Http1Memory *mem, Stats *stats,
                     const Http1ParserCallbacks *cb, void *userdata, bool synced,
                     Http1Parser **ret);
/*
 * A parser's struct is at most this big (parser.c asserts it): the
 * connection layer counts it against limits.global_memory_max
 * (ProtocolOps.state_size) without seeing the struct.
 */
#define HTTP1_PARSER_SIZE 768u

Http1Parser *http1_parser_free(Http1Parser *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Http1Parser *, http1_parser_free);

/* n bytes of the stream; segment_start: buf starts a syscall's bytes (resync hint). */
int http1_parser_feed(Http1Parser *p, const uint8_t *buf, size_t n, uint64_t ts_ns, uint32_t tid,
                      bool segment_start);
/* n bytes of the stream were not captured. */
int http1_parser_gap(Http1Parser *p, uint64_t n, uint64_t ts_ns);
/*
 * End of stream: a close-delimited body completes, a partial message is
 * reported truncated. The parser then accepts nothing more (tunnel state).
 */
int http1_parser_finish(Http1Parser *p, uint64_t ts_ns);
/*
 * The connection switched protocols (101, CONNECT 2xx seen in the other
 * direction): a message in progress is reported truncated, further bytes
 * are ignored.
 */
int http1_parser_stop(Http1Parser *p, uint64_t ts_ns);

/* Fixes the kind of an HTTP1_KIND_ANY parser; no-op once it is fixed. */
void http1_parser_set_kind(Http1Parser *p, Http1Kind kind);
Http1Kind http1_parser_get_kind(const Http1Parser *p);

/* The message being parsed if its head is complete (its body is still arriving), else NULL. */
Http1Message *http1_parser_body_message(const Http1Parser *p);
/* True when some bytes of a message have been seen and it is not complete. */
bool http1_parser_busy(const Http1Parser *p);
/* True when discarding bytes for lack of sync. */
bool http1_parser_desynced(const Http1Parser *p);
/* True once the stream switched protocols or finished. */
bool http1_parser_stopped(const Http1Parser *p);
/* Stream offset of the next byte. */
uint64_t http1_parser_offset(const Http1Parser *p);

/*
 * Whether buf (the start of a syscall's bytes) plausibly begins a message:
 * "TOKEN SP target SP HTTP/1.x" or "HTTP/1.x NNN". If the first line is not
 * complete in buf, what is there must be a consistent prefix.
 */
bool http1_looks_like_start(const uint8_t *buf, size_t n, Http1Kind kind);

Http1Method http1_method_from_string(const char *s, size_t len);
