/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal entry contract: turns an Exchange into the fields of an entry
 * (entry.h). Every output formats through here, so field names and value
 * forms are the same everywhere; docs/journal-fields.md documents each field.
 * FormatOptions (built by format-options.c) says which optional fields an
 * entry carries, at which priorities, with which redaction.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/configuration.h"
#include "conn/exchange.h"
#include "conn/stats.h"
#include "output/entry.h"

struct Redactor;

/* One journal field logged from a header (or several names that map to the same field). */
typedef struct FormatHeader {
        char field[FORMAT_FIELD_NAME_MAX + 1];  /* "HTTP_REQUEST_HEADER_X_REQUEST_ID" */
        char **names;                           /* header names, matched case-insensitively */
        size_t n_names;
} FormatHeader;

/*
 * The field table: ONE row per journal field of an exchange entry, in entry
 * order, saying its name, when it is there and how it is rendered.
 * docs/journal-fields.md documents exactly these rows (test-format checks it
 * both ways). Adding a field is adding a row (and for an optional one, its
 * boolean fields.* row in config-table.c and its Config member).
 */
typedef enum FormatFieldKind {
        FORMAT_FIELD_FIXED,     /* in every entry whose exchange has a value for it */
        FORMAT_FIELD_OPTIONAL,  /* also needs its boolean fields.* setting on */
        FORMAT_FIELD_HEADERS,   /* one field per header named in its fields.* list setting */
} FormatFieldKind;

typedef struct FormatFieldContext FormatFieldContext;   /* one exchange being formatted (fields.c) */
typedef struct FormatFieldSpec FormatFieldSpec;

struct FormatFieldSpec {
        const char *name;            /* the journal field; "HTTP_REQUEST_HEADER_<NAME>" for a HEADERS family */
        FormatFieldKind kind;
        const char *setting;         /* OPTIONAL and HEADERS: the fields.* key (config-table.c) */
        bool default_on;             /* OPTIONAL: on by default (config-table.c's default; test-format checks) */
        /* Adds the field to the entry, or nothing when the exchange has no value for it. Return: >= 0, or -errno. */
        int (*render)(FormatFieldContext *c, const FormatFieldSpec *f);
        const char *arg;             /* what a shared renderer needs, e.g. the header a value is taken from */
};

extern const FormatFieldSpec format_field_specs[];
extern const size_t format_field_specs_n;

/* Rows in the table at most: FormatOptions.fields_toggled has a bit per row. */
#define FORMAT_FIELD_SPECS_MAX 64u

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
        /* Bit i: optional row format_field_specs[i] is switched away from its
         * default_on. Zero (as in format_options_default) is the defaults, so
         * the defaults are written once, in the table. */
        uint64_t fields_toggled;
        int priority[_PRIORITY_CLASS_MAX];      /* LOG_* per PriorityClass */
        const struct Redactor *redactor;        /* borrowed, outlives the options; NULL: nothing is masked */
} FormatOptions;

/**
 * format_field_enabled() - whether a row of the field table is on
 * @o: the options; NULL for the defaults
 * @i: index into format_field_specs
 *
 * Return: true for FIXED and HEADERS rows (HEADERS rows add nothing unless
 * headers are asked for), and for OPTIONAL rows switched on.
 */
bool format_field_enabled(const FormatOptions *o, size_t i);

/**
 * format_options_set_field() - switch the optional fields of one setting
 * @o: the options
 * @setting: a boolean fields.* key, e.g. "fields.referer"
 * @on: whether its fields are logged
 *
 * Return: 0, or -ENOENT when no OPTIONAL row has that setting.
 */
int format_options_set_field(FormatOptions *o, const char *setting, bool on);

/* Whether the optional fields of @setting are on (@o NULL: the defaults): 1 or 0; -ENOENT as above. */
int format_options_get_field(const FormatOptions *o, const char *setting);

/* Optional fields as their rows' default_on, no header fields, priorities as in docs/journal-fields.md. */
extern const FormatOptions format_options_default;

/**
 * format_options_new() - empty options: the defaults, no header fields, no redaction
 * @ret: the new options; free with format_options_free()
 *
 * Return: 0, or -ENOMEM.
 */
int format_options_new(FormatOptions **ret);

/**
 * format_options_new_from_config() - options from the fields.* settings
 * @c: the configuration (already validated: header names are HTTP tokens)
 * @redactor: masks the values the options add (borrowed: it must outlive the
 *            options; the daemon builds it once from the same configuration's
 *            redaction.* and masks request targets with it too); NULL: none
 * @ret: the new options
 *
 * Header names that map to the same field name (after upper-casing, "-" to
 * "_" and truncation to FORMAT_FIELD_NAME_MAX) share that field; repeats of
 * one name are ignored.
 *
 * Return: 0, -ENOMEM, or -EINVAL for an empty header name.
 */
int format_options_new_from_config(const Config *c, const struct Redactor *redactor, FormatOptions **ret);

/**
 * format_options_add_header() - log one more header
 * @o: the options
 * @response: false for a request header, true for a response header
 * @name: the header name, any case
 *
 * Return: 0, -EINVAL for an empty name, -ENOMEM.
 */
int format_options_add_header(FormatOptions *o, bool response, const char *name);

/* Sets the redactor (borrowed: it must outlive the options; NULL: nothing masked). */
void format_options_set_redactor(FormatOptions *o, const struct Redactor *r);

FormatOptions *format_options_free(FormatOptions *o);
DEFINE_TRIVIAL_CLEANUP_FUNC(FormatOptions *, format_options_free);


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
