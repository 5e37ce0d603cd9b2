/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One log entry, as every output (journal, JSON lines, syslog) consumes it:
 * an ordered list of (NAME, value) fields with inline storage, the builder
 * that fills it, the escaping of untrusted bytes, the MESSAGE_ID of each
 * kind of entry and the rules for field names. fields.h fills an entry from
 * an exchange, daemon-entries.h with the daemon's own reports.
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

#include "basic/macro.h"
#include "conn/stats.h"


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
/*
 * One service's summary written by `http-tracer report --summary-journal`
 * (the daily http-tracer-report.timer), SYSLOG_IDENTIFIER=http-tracer-report;
 * views/report-output.c builds it.
 */
#define FORMAT_MESSAGE_ID_REPORT_SUMMARY "5d85a1a9d4de4f059528088c6c2d2629"

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
 * than overflow; tests/unit/output/test-format.c fills every field at its limit).
 * The daemon's statistics entry has the most fields: every row of
 * STATISTICS_ROWS and the protocols' counters, three per output (up to
 * FORMAT_STATISTICS_OUTPUTS_MAX), about 75; test-format checks it fits.
 */
#define FORMAT_FIELDS_MAX   96u
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

/* ---- building an entry (for the output modules that fill one) ------------ */

/* Fails the calling function with a negative errno (the builders return -ENOBUFS). */
#define TRY(expr)                               \
        do {                                    \
                int _r_ = (expr);               \
                if (_r_ < 0)                    \
                        return _r_;             \
        } while (0)

/*
 * A value under construction at the end of the entry's storage. Appends
 * past 'size' set 'overflow' instead of writing; the limits make that a
 * bug, reported as -ENOBUFS (by entry_builder_commit()) rather than a
 * silently short value.
 */
typedef struct EntryBuilder {
        char *buf;
        size_t size;
        size_t len;
        bool overflow;
} EntryBuilder;

/* Starts a value of at most @max bytes (NUL not counted) at the end of @e's storage. */
EntryBuilder entry_builder_start(FormatEntry *e, size_t max);
void entry_builder_putn(EntryBuilder *b, const char *s, size_t n);
void entry_builder_puts(EntryBuilder *b, const char *s);
_printf_(2, 3) void entry_builder_printf(EntryBuilder *b, const char *format, ...);
/* Appends escaped untrusted bytes (format_escape()), using at most @max bytes. Returns whether they were cut. */
bool entry_builder_escape(EntryBuilder *b, const void *src, size_t n, size_t max);
/* Adds the value as field @name. Return: 0, or -ENOBUFS (overflow, or no field left). */
int entry_builder_commit(FormatEntry *e, EntryBuilder *b, const char *name, FormatType type);

/* Our own numbers (at most 64 bytes). Return: 0, or -ENOBUFS. */
_printf_(4, 5) int entry_addf(FormatEntry *e, const char *name, FormatType type, const char *format, ...);
int entry_add_u64(FormatEntry *e, const char *name, uint64_t v);
/* Our own strings (constants, addresses, ids, flags): no escaping, no limit but the storage. */
int entry_add_str(FormatEntry *e, const char *name, const char *s);
/* Untrusted bytes: escaped, cut to @max, the cut counted in e->n_truncated and @stats (may be NULL). */
int entry_add_escaped(FormatEntry *e, const char *name, const void *src, size_t n, size_t max, Stats *stats);
/* Empties @e for reuse. */
void entry_reset(FormatEntry *e);
