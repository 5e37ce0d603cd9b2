/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Redaction of secrets before anything leaves the daemon: values of named
 * headers, and values of named query parameters in request targets and in
 * URL-valued headers (Referer, Location). Pure functions over strings; every
 * output applies it, so a secret cannot reach one output and not another.
 *
 * Query parameter rules (documented in docs/configuration.md):
 * - names match case-insensitively after percent-decoding ("%74oken" is
 *   "token"; '+' is a space), and also by the base or last bracketed part of
 *   "token[]" or "user[password]";
 * - every repetition is masked; empty values stay empty (nothing to hide);
 *   names without '=' have no value;
 * - '&' and ';' both separate parameters (servers differ), and a masked value
 *   runs to the next '&', so "token=a;b" hides "a;b" whichever way the
 *   server splits; a '?' inside the query or fragment starts parameters
 *   again ("?next=/x?token=s", "#/route?token=s");
 * - the fragment is treated like a query ("#access_token=..." of OAuth
 *   implicit flows), although clients rarely send one.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/macro.h"
#include "conn/exchange.h"

typedef struct Redactor Redactor;

/* Parameter names longer than this never match (and config refuses them). */
#define REDACT_NAME_MAX 128u

/*
 * headers, params: names, NULL-terminated (may be NULL). A disabled
 * redactor masks nothing. The mask is copied.
 */
int redactor_new(bool enabled, char *const *headers, size_t n_headers, char *const *params, size_t n_params,
                 const char *mask, Redactor **ret);
Redactor *redactor_free(Redactor *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Redactor *, redactor_free);

/* The same from the redaction.* settings. */
struct Config;
int redactor_new_from_config(const struct Config *c, Redactor **ret);
/* Registers the checks of the redaction.* values with the configuration layer (config_register_checks()). */
int redactor_register_config_checks(void);

const char *redactor_mask(const Redactor *r);

/* True when the value of this header must be replaced by the mask. */
bool redactor_header_is_secret(const Redactor *r, const char *name, size_t name_len);

/*
 * Masks query (and fragment) parameter values of a request-target or URL.
 * Returns 0 when nothing was masked (*ret is set to NULL), 1 with the new
 * NUL-terminated string in *ret (length in *ret_len if non-NULL), or
 * -ENOMEM. The output is at most len * (1 + mask length) bytes.
 */
int redactor_url(const Redactor *r, const char *s, size_t len, char **ret, size_t *ret_len);

/*
 * redactor_exchange() - @x with its request's target masked, for the outputs
 * @r: NULL: nothing is masked
 * @copy, @req: storage for the copy of the exchange and of its request
 * @ret_target: the masked target, to free() after the copy was used; NULL when none
 *
 * Return: @copy when something was masked, otherwise @x (also when
 * redactor_url() failed, which is only for want of memory).
 */
const Exchange *redactor_exchange(const Redactor *r, const Exchange *x, Exchange *copy, HttpMessage *req,
                                  char **ret_target);

/*
 * One header as it should be output: secret headers become the mask,
 * URL-valued ones (Referer, Location, Content-Location) have their
 * parameters masked. Returns 0 (use the value as is, *ret NULL) or 1 with
 * the replacement in *ret.
 */
int redactor_header(const Redactor *r, const char *name, size_t name_len, const char *value, size_t value_len,
                    char **ret, size_t *ret_len);

/*
 * Masks secrets in free text whose structure cannot be trusted (one line of
 * a parse error excerpt). Every '=' and every ':' is judged on its own:
 * - the name is what stands right before it, past blanks and one quote
 *   ('token =', '"token":'): a run of letters, digits and "_-.[]%+"; it is a
 *   secret when, percent-decoded, it is a name of redaction.query_parameters
 *   or redaction.headers (whole, its base or a bracketed part), or its last
 *   word is ("%20token", "a.password"). So "ZZ token=", ",token=",
 *   "{\"token\":", "(token=", "Cookie:" all count; "ZZtoken=" does not (another
 *   name), nor an encoded separator ("token%3D");
 * - the value starts past blanks; a quoted one ('"' or '\'') ends at its
 *   closing quote (a backslash escapes one) or the text's end; after '=' an
 *   unquoted one ends at the next '&'; after ':' at the text's end;
 * - empty values stay; overlapping values become one mask.
 * Same returns and bound as redactor_url().
 */
int redactor_text(const Redactor *r, const char *s, size_t len, char **ret, size_t *ret_len);
