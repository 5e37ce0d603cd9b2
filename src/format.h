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

#include "exchange.h"
#include "stats.h"

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
 * were dropped (ring buffer full, output queue full). Not formatted here:
 * the daemon sends them, with the fields their catalog entries name.
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
/* Method, target excerpt, comm, two addresses, error text and the fixed words. */
#define FORMAT_MESSAGE_MAX         (FORMAT_VALUE_MAX * 3 + FORMAT_MESSAGE_TARGET_MAX + 256u)

/*
 * Fields one entry can hold, and the inline storage for all their values:
 * every value is bounded above, so the sum is bounded too. Currently at most
 * 31 fields and about 14 KiB are used; the margin is for fields added later
 * (format_exchange() fails with -ENOBUFS rather than overflow).
 */
#define FORMAT_FIELDS_MAX   40u
#define FORMAT_BUFFER_SIZE  (20u * 1024u)

typedef enum FormatType {
        FORMAT_STRING,   /* JSON: a string */
        FORMAT_NUMBER,   /* decimal digits only; JSON: a number */
} FormatType;

typedef struct FormatField {
        const char *name;    /* static: upper-case [A-Z0-9_], as journald wants */
        const char *value;   /* NUL-terminated, points into the entry's storage */
        size_t len;          /* strlen(value) */
        FormatType type;
} FormatField;

typedef struct FormatEntry {
        FormatField fields[FORMAT_FIELDS_MAX];
        size_t n_fields;
        size_t used;                     /* bytes of buf in use */
        unsigned n_truncated;            /* values cut to their limit */
        char buf[FORMAT_BUFFER_SIZE];
} FormatEntry;

/**
 * format_exchange() - format one exchange into journal fields
 * @e: the entry to fill; reset first, so it can be reused without clearing
 * @x: the exchange; only read during the call
 * @stats: counters (fields_truncated); may be NULL
 *
 * Only fields that carry a value are added (each costs journald about 1 µs).
 * The values point into @e and stay valid until @e is reused.
 *
 * Return: 0 on success; -EINVAL for an exchange missing what its kind
 * needs (a connection, or the request/response of a complete exchange);
 * -ENOBUFS if the entry's storage ran out (a bug in the limits above).
 */
int format_exchange(FormatEntry *e, const Exchange *x, Stats *stats);

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

/* The formatter's priority for an exchange (syslog levels: 4 warning, 5 notice, 6 info). */
int format_priority(const Exchange *x);

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
