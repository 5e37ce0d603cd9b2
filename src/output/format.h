/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal entry contract: turns an Exchange into an ordered list of
 * (NAME, value) fields. Every output (journal, JSON lines) formats through
 * here, so field names, value forms, escaping and limits are the same
 * everywhere; docs/journal-fields.md documents each field.
 *
 * Values come from hostile traffic. Each is bounded (FORMAT_*_MAX) and
 * escaped: the result is always valid, printable UTF-8 with no newline, so
 * no value can inject a field, break an entry, or forge a second MESSAGE line.
 * The entry is one struct with inline storage: formatting never allocates.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/configuration.h"
#include "conn/exchange.h"
#include "conn/stats.h"

struct Redactor;

/*
 * MESSAGE_ID per kind of entry, generated once at random and fixed forever
 * (catalog entries and saved journalctl queries key on them). Room is left
 * for more kinds (statistics, drop warnings) as new ids, never by reusing one.
 */
#define FORMAT_MESSAGE_ID_COMPLETE      "d0a21e5e3f34fda1ea3a6c8d562c83a1"
#define FORMAT_MESSAGE_ID_NO_RESPONSE   "8258a1a3fa938aa1b6d4ff9487ebf2cb"
#define FORMAT_MESSAGE_ID_UNCORRELATED  "3a960665229ef4a45319e09fd58fd44f"
#define FORMAT_MESSAGE_ID_PARSE_ERROR   "df6d6308c46f1b4ef9bd8c390d550907"
/*
 * The daemon's own periodic statistics entry, and the warning that records
 * were dropped (ring buffer full, output queue full): format_statistics()
 * and format_drops() build them, with the fields their catalog entries name.
 */
#define FORMAT_MESSAGE_ID_STATISTICS    "e64806dfcd6b4de8b4ea199f678fad44"
#define FORMAT_MESSAGE_ID_DROPS         "5178c98922794d619bfcbf3dd749dfbd"
/* Exchanges the rate limit refused during one summary interval (format_rate_limit_summary). */
#define FORMAT_MESSAGE_ID_RATE_LIMITED  "087dbf698cfc445a8defe71b8b00d0ef"

#define FORMAT_SYSLOG_IDENTIFIER "http-tracer"

/*
 * Limits on one value, in bytes after escaping, "…" included. They bound
 * what one hostile peer can make us (and journald) store per exchange.
 *
 * Request targets get 4 KiB: query strings are what people search for, and
 * most servers refuse request lines much above 8 KiB anyway. MESSAGE quotes
 * the target again but only its first 1 KiB: MESSAGE is for reading, the full
 * target is in HTTP_TARGET. Everything else (method, Host, User-Agent, comm,
 * parse error text) gets 512 B: enough for any honest value.
 */
#define FORMAT_TARGET_MAX          4096u
#define FORMAT_MESSAGE_TARGET_MAX  1024u
#define FORMAT_VALUE_MAX           512u
/* Raw bytes of a parse error excerpt used at most (Exchange.excerpt: "up to 64 bytes"). */
#define FORMAT_EXCERPT_MAX         64u
/* Method, target excerpt, comm, two addresses, error text and the fixed words. */
#define FORMAT_MESSAGE_MAX         (FORMAT_VALUE_MAX * 3 + FORMAT_MESSAGE_TARGET_MAX + 256u)

/*
 * Header fields (fields.request_headers and fields.response_headers
 * together) one entry carries at most. The configuration may name up to
 * CONFIG_LIST_MAX headers, but one entry must stay bounded: a message that
 * carries more of them than this gets the first ones (configuration order,
 * request before response); the rest are counted in Stats.fields_dropped
 * and flagged "fields-dropped". 16 is far more than anyone asks for.
 */
#define FORMAT_HEADER_FIELDS_MAX   16u
/* journald's limit on a field name: 1-64 of [A-Z0-9_], not starting with a digit or '_'. */
#define FORMAT_FIELD_NAME_MAX      64u

/*
 * Fields one entry can hold, and the inline storage for all their values:
 * every value is bounded above, so the sum is bounded too. Without optional
 * fields at most 31 fields and about 14 KiB are used; every optional field
 * (Referer, two Content-Types, FORMAT_HEADER_FIELDS_MAX headers) adds at
 * most 19 fields of FORMAT_VALUE_MAX + 1 bytes, about 10 KiB. The margin
 * is for fields added later (format_exchange() fails with -ENOBUFS rather
 * than overflow; tests/unit/test-format.c fills every field at its limit).
 */
#define FORMAT_FIELDS_MAX   64u
#define FORMAT_BUFFER_SIZE  (32u * 1024u)

typedef enum FormatType {
        FORMAT_STRING,   /* JSON: a string */
        FORMAT_NUMBER,   /* decimal digits only; JSON: a number */
} FormatType;

typedef struct FormatField {
        const char *name;    /* upper-case [A-Z0-9_], as journald wants: static, or in the
                              * FormatOptions (header fields), or in the entry's storage */
        const char *value;   /* NUL-terminated, points into the entry's storage */
        size_t len;          /* strlen(value) */
        FormatType type;
} FormatField;

typedef struct FormatEntry {
        FormatField fields[FORMAT_FIELDS_MAX];
        size_t n_fields;
        size_t used;                     /* bytes of buf in use */
        unsigned n_truncated;            /* values cut to their limit */
        unsigned n_dropped;              /* header fields over FORMAT_HEADER_FIELDS_MAX */
        char buf[FORMAT_BUFFER_SIZE];
} FormatEntry;

/* One journal field logged from a header (or several names that map to the same field). */
typedef struct FormatHeader {
        char field[FORMAT_FIELD_NAME_MAX + 1];  /* "HTTP_REQUEST_HEADER_X_REQUEST_ID" */
        char **names;                           /* header names, matched case-insensitively */
        size_t n_names;
} FormatHeader;

/*
 * What an entry contains beyond the fixed fields, and its priorities: the
 * fields.* settings, plus the redaction settings for the values it adds.
 * Built once per configuration (format-options.c); format_exchange() only
 * reads it. NULL stands for the built-in defaults (format_options_default).
 */
typedef struct FormatOptions {
        FormatHeader *request_headers;
        size_t n_request_headers;
        FormatHeader *response_headers;
        size_t n_response_headers;
        bool user_agent;                        /* HTTP_USER_AGENT */
        bool referer;                           /* HTTP_REFERER, its query redacted */
        bool content_type;                      /* HTTP_REQUEST_CONTENT_TYPE, HTTP_RESPONSE_CONTENT_TYPE */
        bool body_sizes;                        /* HTTP_REQUEST_BODY_BYTES, HTTP_RESPONSE_BODY_BYTES */
        int priority[_PRIORITY_CLASS_MAX];      /* LOG_* per PriorityClass */
        struct Redactor *redactor;              /* owned; NULL: nothing is masked */
} FormatOptions;

/* user_agent and body_sizes on, the rest off, priorities as in docs/journal-fields.md. */
extern const FormatOptions format_options_default;

/**
 * format_options_new() - empty options: the defaults, no header fields, no redaction
 * @ret: the new options; free with format_options_free()
 *
 * Return: 0, or -ENOMEM.
 */
int format_options_new(FormatOptions **ret);

/**
 * format_options_new_from_config() - options from the fields.* and redaction.* settings
 * @c: the configuration (already validated: header names are HTTP tokens)
 * @ret: the new options
 *
 * Header names that map to the same field name (after upper-casing, "-" to
 * "_" and truncation to FORMAT_FIELD_NAME_MAX) share that field; repeats of
 * one name are ignored.
 *
 * Return: 0, -ENOMEM, or -EINVAL for an empty header name.
 */
int format_options_new_from_config(const Config *c, FormatOptions **ret);

/**
 * format_options_add_header() - log one more header
 * @o: the options
 * @response: false for a request header, true for a response header
 * @name: the header name, any case
 *
 * Return: 0, -EINVAL for an empty name, -ENOMEM.
 */
int format_options_add_header(FormatOptions *o, bool response, const char *name);

/* Sets the redactor (taking ownership; NULL: nothing masked), freeing the previous one. */
void format_options_set_redactor(FormatOptions *o, struct Redactor *r);

FormatOptions *format_options_free(FormatOptions *o);
DEFINE_TRIVIAL_CLEANUP_FUNC(FormatOptions *, format_options_free);

/**
 * format_header_field_name() - the journal field name for a header
 * @buf: output, FORMAT_FIELD_NAME_MAX + 1 bytes
 * @prefix: "HTTP_REQUEST_HEADER_" or "HTTP_RESPONSE_HEADER_" (starts with a letter)
 * @name: the header name
 *
 * Upper-cases ASCII letters, turns every character outside [A-Z0-9_] into
 * "_" (so "-" and any byte of a non-ASCII name), and cuts the result at
 * FORMAT_FIELD_NAME_MAX characters: a valid journald field name whatever
 * @name holds.
 *
 * Return: 0; 1 when the name was cut; -EINVAL for an empty name or a
 * prefix that is not a valid field name start.
 */
int format_header_field_name(char buf[static FORMAT_FIELD_NAME_MAX + 1], const char *prefix, const char *name);

/**
 * format_exchange() - format one exchange into journal fields
 * @e: the entry to fill; reset first, so it can be reused without clearing
 * @x: the exchange; only read during the call
 * @opts: optional fields, priorities and their redaction; NULL for
 *        format_options_default
 * @stats: counters (fields_truncated, fields_dropped); may be NULL
 *
 * Only fields that carry a value are added (each costs journald about 1 µs).
 * The values point into @e and stay valid until @e is reused; header field
 * names point into @opts, which must outlive the use of @e.
 *
 * Logged header values are masked per @opts->redactor: a header named in
 * redaction.headers becomes the mask whatever fields.* asks for, and
 * URL-valued ones (Referer, Location) have secret query parameters masked.
 * So is the parse error excerpt: a secret header's value and secret
 * parameters' values in it are masked (see docs/journal-fields.md for what
 * cannot be recognised in 64 raw bytes). Formatting allocates only while
 * masking a URL or an excerpt.
 *
 * Return: 0 on success; -EINVAL for an exchange missing what its kind
 * needs (a connection, or the request/response of a complete exchange);
 * -ENOBUFS if the entry's storage ran out (a bug in the limits above).
 */
int format_exchange(FormatEntry *e, const Exchange *x, const FormatOptions *opts, Stats *stats);

/**
 * format_entry_get() - look up a field of a formatted entry by name
 * @e: the entry
 * @name: field name, e.g. "HTTP_STATUS"
 *
 * Return: the value, or NULL when the entry has no such field.
 */
const char *format_entry_get(const FormatEntry *e, const char *name);

/**
 * format_escape() - escape untrusted bytes into printable UTF-8
 * @dst: output buffer
 * @size: its size; at most @size - 1 bytes are written, plus a NUL
 * @src: input bytes (any value, NUL included)
 * @n: number of input bytes
 * @ret_truncated: set to whether the input was cut to fit; may be NULL
 *
 * Printable ASCII and valid UTF-8 pass unchanged, a backslash becomes "\\",
 * control characters (C0, DEL, C1), line/paragraph separators, bidi
 * overrides and bytes that are not valid UTF-8 become "\xNN" per byte. When
 * the result does not fit, it is cut between two whole characters or
 * escapes and ends in "…" (U+2026), still within @size - 1 bytes.
 *
 * Return: the length written (without the NUL).
 */
size_t format_escape(char *dst, size_t size, const void *src, size_t n, bool *ret_truncated);

/**
 * format_duration() - human readable duration for MESSAGE
 * @buf: output, at least FORMAT_DURATION_MAX bytes
 * @ns: duration in nanoseconds
 *
 * "850 µs" below 1 ms, "1.2 ms" below 1 s, "3.4 s" above (rounded).
 *
 * Return: @buf.
 */
#define FORMAT_DURATION_MAX 32u
const char *format_duration(char buf[static FORMAT_DURATION_MAX], uint64_t ns);

/**
 * format_traceparent() - validate a W3C traceparent header value
 * @value: the header value (may be NULL)
 * @len: its length
 * @ret_trace_id: 33 bytes: 32 lowercase hex digits and a NUL
 * @ret_span_id: 17 bytes: 16 lowercase hex digits and a NUL
 *
 * Accepts version-format "VV-<32 hex>-<16 hex>-FF" as in W3C Trace Context
 * level 1: lowercase hex, version not "ff", trace and parent ids not all
 * zero; version 00 must end after the flags, later versions may go on
 * after a '-'. The out-parameters are written only on success.
 *
 * Return: 0 when valid, -EINVAL otherwise.
 */
int format_traceparent(const char *value, size_t len, char ret_trace_id[static 33], char ret_span_id[static 17]);

/* "1.0", "1.1"; writes "M.m" for other versions. */
const char *format_http_version(char buf[static 16], unsigned version);

/*
 * The journal PRIORITY of an exchange, from @opts->priority (NULL: the
 * defaults): by status class for complete exchanges (a status outside
 * 100-599 counts as 2xx); the no-response and parse-error entries; for an
 * uncorrelated response the more severe of the uncorrelated priority and
 * its status class's, so a 5xx is never hidden because its request was not
 * seen.
 */
int format_priority(const Exchange *x, const FormatOptions *opts);

/* ---- the daemon's own entries -------------------------------------------- */

/* One output's counters, for the statistics entry. */
typedef struct FormatOutputStats {
        const char *name;                /* "journal", "json", ...: [a-z0-9_-] */
        uint64_t written;
        uint64_t dropped;
        uint64_t queued;                 /* gauge: entries waiting now */
} FormatOutputStats;

/* Outputs named in one statistics entry at most (each adds 3 fields). */
#define FORMAT_STATISTICS_OUTPUTS_MAX 4u

typedef struct FormatStatistics {
        const Stats *stats;              /* required */
        const uint64_t *kernel;          /* _HT_CNT_MAX counters of the BPF side; NULL: unknown (0) */
        const FormatOutputStats *outputs;/* NULL or n_outputs of them (beyond the max are ignored) */
        size_t n_outputs;
        uint64_t connections_tracked;
        uint64_t memory_bytes;
        uint64_t interval_usec;          /* stats.interval */
} FormatStatistics;

/**
 * format_statistics() - the periodic statistics entry
 * @e: the entry to fill (reset first)
 * @s: the counters
 *
 * MESSAGE_ID FORMAT_MESSAGE_ID_STATISTICS, PRIORITY info, a one-line
 * MESSAGE and one HTTP_TRACER_* field per counter (docs/journal-fields.md).
 *
 * Return: 0, or -EINVAL without stats.
 */
int format_statistics(FormatEntry *e, const FormatStatistics *s);

typedef enum FormatDropReason {
        FORMAT_DROP_RING_BUFFER,         /* the kernel found the ring buffer full */
        FORMAT_DROP_OUTPUT_QUEUE,        /* an output's queue was full or its receiver gone */
        _FORMAT_DROP_REASON_MAX,
} FormatDropReason;

typedef struct FormatDrops {
        FormatDropReason reason;
        uint64_t dropped;                /* since the previous warning */
        uint64_t total;                  /* since start (or stats-reset) */
        const char *output;              /* FORMAT_DROP_OUTPUT_QUEUE: which output; may be NULL */
} FormatDrops;

/**
 * format_drops() - the warning that records or entries were dropped
 * @e: the entry to fill (reset first)
 * @d: what was dropped
 *
 * MESSAGE_ID FORMAT_MESSAGE_ID_DROPS, PRIORITY warning.
 *
 * Return: 0, or -EINVAL for an unknown reason.
 */
int format_drops(FormatEntry *e, const FormatDrops *d);

const char *format_drop_reason_to_string(FormatDropReason r);

/**
 * format_statistics_due() - whether the periodic statistics entry is due
 * @now_usec: CLOCK_MONOTONIC now
 * @interval_usec: stats.interval; 0 turns the entries off
 * @last_usec: when the last one was due; 0 before the first call
 *
 * The first call only starts the clock (nothing to report at start-up);
 * then true once per interval, with *last_usec advanced. After a long
 * stall one entry is due, not a burst of them.
 */
bool format_statistics_due(uint64_t now_usec, uint64_t interval_usec, uint64_t *last_usec);

/**
 * format_rate_limit_summary() - the entry that stands for exchanges the rate limit refused
 * @e: the entry to fill (reset first)
 * @refused: exchanges not logged during the interval
 * @passed: exchanges logged during it
 * @interval_ns: its length
 * @per_second: the limit
 * @burst: the bucket's size
 *
 * Return: 0, or -ENOBUFS (a bug in the limits).
 */
int format_rate_limit_summary(FormatEntry *e, uint64_t refused, uint64_t passed, uint64_t interval_ns,
                              uint64_t per_second, uint64_t burst);
