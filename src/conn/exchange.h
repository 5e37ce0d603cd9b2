/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the protocol layer hands to the outputs: the connection a message
 * travelled on, parsed HTTP messages, and exchanges (a request with its
 * response, or one of the incomplete kinds). These structs are the seam
 * between parsing and formatting; neither side knows about BPF or journald.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/conn-info.h"

typedef enum HttpMessageKind {
        HTTP_MESSAGE_REQUEST,
        HTTP_MESSAGE_RESPONSE,
} HttpMessageKind;

/* HttpMessage.flags */
enum {
        HTTP_MESSAGE_CHUNKED         = 1 << 0,  /* Transfer-Encoding: chunked */
        HTTP_MESSAGE_GAP             = 1 << 1,  /* some of its bytes were not captured */
        HTTP_MESSAGE_TRUNCATED       = 1 << 2,  /* its end could not be found exactly (lost sync, cut by close) */
        HTTP_MESSAGE_HEAD_TRUNCATED  = 1 << 3,  /* head over a limit: fields past it were not kept */
        HTTP_MESSAGE_UPGRADE         = 1 << 4,  /* switched protocols (101, or CONNECT 2xx): parsing stopped */
        HTTP_MESSAGE_CLOSE_DELIMITED = 1 << 5,  /* body ran until the connection closed */
        HTTP_MESSAGE_CONNECTION_CLOSE = 1 << 6, /* Connection: close (or HTTP/1.0 without keep-alive) */
        HTTP_MESSAGE_MEMORY_CAPPED   = 1 << 7,  /* a memory cap refused some of its bytes */
        HTTP_MESSAGE_HEAD_CUT        = 1 << 8,  /* its head's end was never seen (gap, end of stream): the body's size is unknown */
        HTTP_MESSAGE_PIPELINE_OVERFLOW = 1 << 9, /* stands for a request counted past limits.pipeline_max: method, target and fields not kept */
        HTTP_MESSAGE_HEADERS_INCOMPLETE = 1 << 10, /* HTTP/2: a header block could not be decoded whole (joined mid-stream, bytes lost): only what the static table says */
        HTTP_MESSAGE_PUSHED          = 1 << 11, /* HTTP/2: a server-pushed request (PUSH_PROMISE) and its response */
        HTTP_MESSAGE_LOST            = 1 << 12, /* the kernel lost some of the exchange (ring buffer full): bytes of this message, or the other message */
        HTTP_MESSAGE_START_LOST      = 1 << 13, /* protocol-internal: stands for requests whose starts the kernel lost; never output */
        HTTP_MESSAGE_REQUEST_INVALID = 1 << 14, /* the parser rejected this request (see the parse-error entry beside it): only what was sane of its start line, or what was parsed before the error */
};

typedef struct HttpHeaderField {
        const char *name;             /* NUL-terminated, as sent (case preserved) */
        const char *value;            /* NUL-terminated, surrounding whitespace trimmed */
        size_t name_len;
        size_t value_len;
} HttpHeaderField;

/*
 * A message head as parsed, plus what is known of its body. Strings are
 * NUL-terminated copies owned by the message (they may contain any byte
 * but NUL: formatters escape them). Body bytes themselves are not kept.
 */
typedef struct HttpMessage {
        HttpMessageKind kind;
        char *method;                 /* request only */
        char *target;                 /* request only: request-target exactly as sent */
        unsigned version;             /* 10 for HTTP/1.0, 11 for HTTP/1.1, 20 for HTTP/2 */
        unsigned status;              /* response only */
        char *reason;                 /* response only */
        HttpHeaderField *headers;
        size_t n_headers;
        uint64_t head_bytes;          /* start line through the empty line */
        uint64_t body_bytes;          /* body payload (decoded size when chunked) */
        uint64_t wire_bytes;          /* every byte of the message on the wire */
        uint64_t gap_bytes;           /* of wire_bytes, how many were not captured */
        uint64_t first_ns;            /* CLOCK_MONOTONIC of its first byte */
        uint64_t last_ns;             /* ... and of its last byte */
        uint32_t tid;                 /* thread that read/wrote its first byte */
        unsigned flags;               /* HTTP_MESSAGE_* */
} HttpMessage;

typedef enum ExchangeKind {
        EXCHANGE_COMPLETE,            /* a request and its response */
        EXCHANGE_NO_RESPONSE,         /* a request whose response never came */
        EXCHANGE_UNCORRELATED,        /* a response without a request (tracing started mid-exchange) */
        EXCHANGE_PARSE_ERROR,         /* bytes that are not valid in the connection's protocol */
        _EXCHANGE_KIND_MAX,
} ExchangeKind;

/* Why a connection's pending requests were given up (EXCHANGE_NO_RESPONSE). */
typedef enum ExchangeEndReason {
        EXCHANGE_END_NONE = 0,
        EXCHANGE_END_CLOSED,          /* the connection was closed */
        EXCHANGE_END_IDLE_TIMEOUT,    /* no bytes for the idle timeout */
        EXCHANGE_END_PROCESS_EXIT,    /* the process exited */
        EXCHANGE_END_SHUTDOWN,        /* the daemon is stopping */
        EXCHANGE_END_PIPELINE_FULL,   /* too many requests waiting on one connection */
        EXCHANGE_END_UPGRADE,         /* the connection switched protocols before a response */
        EXCHANGE_END_DESYNC,          /* the response stream lost sync: no way to pair it */
        EXCHANGE_END_RESET,           /* HTTP/2: the stream was reset (RST_STREAM) before a response */
        EXCHANGE_END_GOAWAY,          /* HTTP/2: the server's GOAWAY said the stream was never processed */
        EXCHANGE_END_LOST,            /* the kernel lost the response (ring buffer full): counted, not guessed */
        _EXCHANGE_END_MAX,
} ExchangeEndReason;

typedef struct Exchange {
        ExchangeKind kind;
        const ConnInfo *conn;
        uint32_t stream_id;           /* the stream within the connection where the protocol has them (HTTP/2); 0 otherwise, and then not logged */
        const HttpMessage *request;   /* NULL for EXCHANGE_UNCORRELATED and PARSE_ERROR */
        const HttpMessage *response;  /* NULL for EXCHANGE_NO_RESPONSE and PARSE_ERROR */
        uint64_t duration_ns;         /* COMPLETE: request first byte -> response last byte */
        ExchangeEndReason reason;     /* NO_RESPONSE: why */
        bool stream_reset;            /* HTTP/2: the stream ended with RST_STREAM ... */
        uint32_t stream_error;        /* ... with this error code (RFC 9113 §7) */

        /* PARSE_ERROR only */
        uint8_t error_direction;      /* ConnDirection */
        const char *error;            /* static, human readable: "invalid chunk size" */
        uint64_t error_offset;        /* byte offset of the problem in that direction's stream */
        const uint8_t *excerpt;       /* up to 64 bytes from where the error was found */
        size_t excerpt_len;
        uint64_t timestamp_ns;        /* when the error was found */
} Exchange;

typedef struct ExchangeSink {
        /* Called synchronously; the exchange and what it points to are valid only during the call. */
        int (*emit)(void *userdata, const Exchange *x);
        void *userdata;
} ExchangeSink;

static inline int exchange_sink_emit(const ExchangeSink *s, const Exchange *x) {
        return s && s->emit ? s->emit(s->userdata, x) : 0;
}

/* Case-insensitive header lookup; returns the first match or NULL. */
const HttpHeaderField *http_message_header(const HttpMessage *m, const char *name);

const char *exchange_kind_to_string(ExchangeKind k);
const char *exchange_end_reason_to_string(ExchangeEndReason r);
