/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Masking secrets in headers and URLs; the rules are in redact.h. */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/configuration.h"
#include "select/redact.h"

struct Redactor {
        bool enabled;
        char **headers;
        size_t n_headers;
        char **params;
        size_t n_params;
        char *mask;
        size_t mask_len;
};

static char **names_dup(char *const *l, size_t n) {
        char **c = calloc(n + 1, sizeof(char *));

        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(l[i]))) {
                        for (size_t j = 0; j < i; j++)
                                free(c[j]);
                        free(c);
                        return NULL;
                }
        return c;
}

static void names_free(char **l, size_t n) {
        if (!l)
                return;
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
}

Redactor *redactor_free(Redactor *r) {
        if (!r)
                return NULL;
        names_free(r->headers, r->n_headers);
        names_free(r->params, r->n_params);
        free(r->mask);
        return mfree(r);
}

int redactor_new(bool enabled, char *const *headers, size_t n_headers, char *const *params, size_t n_params,
                 const char *mask, Redactor **ret) {
        _cleanup_(redactor_freep) Redactor *r = NULL;

        r = calloc(1, sizeof(Redactor));
        if (!r)
                return -ENOMEM;
        r->enabled = enabled;
        r->headers = names_dup(headers, n_headers);
        r->params = names_dup(params, n_params);
        r->mask = strdup(mask && *mask ? mask : "***");
        if (!r->headers || !r->params || !r->mask)
                return -ENOMEM;
        r->n_headers = n_headers;
        r->n_params = n_params;
        r->mask_len = strlen(r->mask);
        *ret = TAKE_PTR(r);
        return 0;
}

int redactor_new_from_config(const Config *c, Redactor **ret) {
        return redactor_new(c->redaction.enabled, c->redaction.headers.items, c->redaction.headers.n,
                            c->redaction.query_parameters.items, c->redaction.query_parameters.n, c->redaction.mask,
                            ret);
}

/* redaction.query_parameters: names that can match a parameter (name_matches() never matches a longer one). */
static const char *check_parameter_name(const char *v) {
        if (!*v)
                return "empty parameter name";
        if (strlen(v) > REDACT_NAME_MAX)
                return "parameter names are at most 128 characters";
        for (const char *p = v; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f || strchr("&=#", *p))
                        return "parameter names cannot contain '&', '=', '#' or control characters";
        return NULL;
}

int redactor_register_config_checks(void) {
        static const ConfigConsumerCheck checks[] = {
                { CHECK_QUERY_NAME, check_parameter_name },
                {}
        };
        return config_register_checks(checks);
}

const char *redactor_mask(const Redactor *r) {
        return r->mask;
}

static bool name_in(char *const *names, size_t n, const char *s, size_t len) {
        for (size_t i = 0; i < n; i++)
                if (strlen(names[i]) == len && strncasecmp(names[i], s, len) == 0)
                        return true;
        return false;
}

bool redactor_header_is_secret(const Redactor *r, const char *name, size_t name_len) {
        return r && r->enabled && name_in(r->headers, r->n_headers, name, name_len);
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Percent-decodes s[0..len) into buf once (as a server would); false if it does not fit. */
static bool decode_name(const char *s, size_t len, char *buf, size_t size, size_t *ret_len) {
        size_t k = 0;

        for (size_t i = 0; i < len; i++) {
                char c = s[i];

                if (c == '%' && i + 2 < len && unhex(s[i + 1]) >= 0 && unhex(s[i + 2]) >= 0) {
                        c = (char) (unhex(s[i + 1]) << 4 | unhex(s[i + 2]));
                        i += 2;
                } else if (c == '+')
                        c = ' ';
                if (k >= size)
                        return false;
                buf[k++] = c;
        }
        *ret_len = k;
        return true;
}

/* Is the decoded name buf[0..n) in names, whole, as its base or as a bracketed part ("token[]", "user[password]")? */
static bool decoded_name_in(char *const *names, size_t n_names, const char *buf, size_t n) {
        if (name_in(names, n_names, buf, n))
                return true;
        for (size_t i = 0; i < n;) {
                size_t j = i;
                while (j < n && buf[j] != '[' && buf[j] != ']')
                        j++;
                if (j > i && name_in(names, n_names, buf + i, j - i))
                        return true;
                i = j + 1;
        }
        return false;
}

/* Does the parameter name s[0..len) (still encoded) name a secret? */
static bool param_is_secret(const Redactor *r, const char *s, size_t len) {
        char buf[REDACT_NAME_MAX * 3];
        size_t n;

        if (!decode_name(s, len, buf, sizeof(buf), &n))
                return false;
        return decoded_name_in(r->params, r->n_params, buf, n);
}

/* A span [from, to) of the input to replace by the mask. */
typedef struct Span {
        size_t from, to;
} Span;

/*
 * The result of a redactor_*() call from the spans to mask, in order and
 * disjoint: 0 and *ret = NULL when there are none, else 1 and a new string
 * with each span replaced by the mask (-ENOMEM when that fails).
 */
static int apply_spans(const Redactor *r, const char *s, size_t len, const Span *spans, size_t n, char **ret,
                       size_t *ret_len) {
        size_t out_len = 0;
        char *out;

        if (n == 0) {
                *ret = NULL;
                if (ret_len)
                        *ret_len = len;
                return 0;
        }
        out = malloc(len + n * r->mask_len + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0, from = 0; i <= n; i++) {
                size_t to = i < n ? spans[i].from : len;
                memcpy(out + out_len, s + from, to - from);
                out_len += to - from;
                if (i == n)
                        break;
                memcpy(out + out_len, r->mask, r->mask_len);
                out_len += r->mask_len;
                from = spans[i].to;
        }
        out[out_len] = 0;
        *ret = out;
        if (ret_len)
                *ret_len = out_len;
        return 1;
}

/*
 * Finds the values to mask in the parameter list s[a..b). Writes spans in
 * order; returns how many (at most (b - a) / 2 + 1, which the caller sized).
 */
static size_t scan_params(const Redactor *r, const char *s, size_t a, size_t b, Span *spans) {
        size_t n = 0;

        for (size_t seg = a; seg < b;) {
                size_t end = seg;
                while (end < b && s[end] != '&')
                        end++;
                /*
                 * Within one '&' segment, ';' may separate more parameters, and a '?' starts
                 * them again (a URL nested unencoded in a value, a "#/route?token=" fragment).
                 */
                for (size_t p = seg; p < end;) {
                        size_t q = p, eq;
                        while (q < end && s[q] != ';' && s[q] != '?')
                                q++;
                        for (eq = p; eq < q && s[eq] != '='; eq++)
                                ;
                        if (eq < q && eq + 1 < end && param_is_secret(r, s + p, eq - p)) {
                                /* The value runs to the '&': hides "a;b" whichever way the server splits. */
                                spans[n++] = (Span) { eq + 1, end };
                                break;
                        }
                        p = q + 1;
                }
                seg = end + 1;
        }
        return n;
}

int redactor_url(const Redactor *r, const char *s, size_t len, char **ret, size_t *ret_len) {
        _cleanup_(freep) Span *spans = NULL;
        const char *q, *h;
        size_t n = 0, qs, hs;

        if (!r || !r->enabled || r->n_params == 0 || len == 0)
                goto unchanged;
        q = memchr(s, '?', len);
        h = memchr(s, '#', len);
        if (q && h && h < q)
                q = NULL;      /* a '?' inside the fragment belongs to the fragment */
        if (!q && !h)
                goto unchanged;

        spans = calloc(len / 2 + 2, sizeof(Span));
        if (!spans)
                return -ENOMEM;
        qs = q ? (size_t) (q - s) + 1 : len;
        hs = h ? (size_t) (h - s) : len;
        if (q)
                n += scan_params(r, s, qs, hs, spans + n);
        if (h)
                n += scan_params(r, s, hs + 1, len, spans + n);
        return apply_spans(r, s, len, spans, n, ret, ret_len);

unchanged:
        return apply_spans(r, s, len, NULL, 0, ret, ret_len);
}

int redactor_header(const Redactor *r, const char *name, size_t name_len, const char *value, size_t value_len,
                    char **ret, size_t *ret_len) {
        static char *const url_headers[] = { "Referer", "Location", "Content-Location" };

        if (redactor_header_is_secret(r, name, name_len)) {
                char *m = strdup(r->mask);
                if (!m)
                        return -ENOMEM;
                *ret = m;
                if (ret_len)
                        *ret_len = r->mask_len;
                return 1;
        }
        if (r && r->enabled && name_in(url_headers, ELEMENTSOF(url_headers), name, name_len))
                return redactor_url(r, value, value_len, ret, ret_len);
        *ret = NULL;
        if (ret_len)
                *ret_len = value_len;
        return 0;
}

/* ---- free text (the parse error excerpt): the rules are in redact.h ---- */

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static bool is_quote(char c) {
        return c == '"' || c == '\'';
}

/* Characters a name may be made of before decoding: "%20token", "user[password]", "a.b", "x+y". */
static bool is_raw_name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                strchr("_-.[]%+", c) != NULL;
}

static bool is_word_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/*
 * Is the raw name s[0..len) a secret in free text? Decoded once, it is when it
 * is a secret parameter or header name (whole, base or bracketed part), or
 * when its last word is: "%20token" is " token", "a.password" ends in "password".
 */
static bool text_name_is_secret(const Redactor *r, const char *s, size_t len) {
        char buf[REDACT_NAME_MAX * 3];
        size_t n, w;

        if (len == 0 || !decode_name(s, len, buf, sizeof(buf), &n))
                return false;
        if (decoded_name_in(r->params, r->n_params, buf, n) || decoded_name_in(r->headers, r->n_headers, buf, n))
                return true;
        for (w = n; w > 0 && is_word_char(buf[w - 1]); w--)
                ;
        if (w == 0 || w == n)
                return false;
        return name_in(r->params, r->n_params, buf + w, n - w) || name_in(r->headers, r->n_headers, buf + w, n - w);
}

/*
 * The value that the separator s[sep] ('=' or ':') gives a secret name, as
 * [*ret_from, *ret_to); false when the name before it is no secret or the
 * value is empty. Each separator is judged on its own, whatever came before.
 */
static bool text_secret_value(const Redactor *r, const char *s, size_t len, size_t sep, size_t *ret_from,
                              size_t *ret_to) {
        size_t e = sep, b, v = sep + 1, to;

        while (e > 0 && is_blank(s[e - 1]))
                e--;
        if (e > 0 && is_quote(s[e - 1]))
                e--;
        /* A longer run is cut: its last word still counts ("aaa...aaa%20token"). */
        for (b = e; b > 0 && e - b < REDACT_NAME_MAX * 3 && is_raw_name_char(s[b - 1]); b--)
                ;
        if (!text_name_is_secret(r, s + b, e - b))
                return false;

        while (v < len && is_blank(s[v]))
                v++;
        if (v < len && is_quote(s[v])) {
                char q = s[v++];
                /* A quoted value ends at its closing quote (a backslash escapes one), or with the text. */
                for (to = v; to < len && s[to] != q; to++)
                        if (s[to] == '\\' && to + 1 < len)
                                to++;
        } else if (s[sep] == '=') {
                /* As in a query: to the next '&'. */
                for (to = v; to < len && s[to] != '&'; to++)
                        ;
        } else
                to = len;       /* "Name: value": the rest of the line */
        if (to > len)
                to = len;
        if (to <= v)
                return false;   /* empty: nothing to hide */
        *ret_from = v;
        *ret_to = to;
        return true;
}

int redactor_text(const Redactor *r, const char *s, size_t len, char **ret, size_t *ret_len) {
        _cleanup_(freep) Span *spans = NULL;
        size_t n = 0;

        if (!r || !r->enabled || (r->n_params == 0 && r->n_headers == 0) || len == 0)
                goto unchanged;

        spans = calloc(len / 2 + 1, sizeof(Span));
        if (!spans)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                size_t from, to;

                if ((s[i] != '=' && s[i] != ':') || !text_secret_value(r, s, len, i, &from, &to))
                        continue;
                /* Spans start in order (from > i); overlapping or touching ones become one mask. */
                if (n > 0 && from <= spans[n - 1].to) {
                        spans[n - 1].to = MAX(spans[n - 1].to, to);
                        continue;
                }
                spans[n++] = (Span) { from, to };
        }
        return apply_spans(r, s, len, spans, n, ret, ret_len);

unchanged:
        return apply_spans(r, s, len, NULL, 0, ret, ret_len);
}

const Exchange *redactor_exchange(const Redactor *r, const Exchange *x, Exchange *copy, HttpMessage *req,
                                  char **ret_target) {
        char *t = NULL;
        size_t n;

        *ret_target = NULL;
        if (!r || !r->enabled || r->n_params == 0 || !x->request || !x->request->target)
                return x;
        /* Most targets have neither a query nor a fragment: nothing to mask, one scan instead of three. */
        if (!strpbrk(x->request->target, "?#"))
                return x;
        if (redactor_url(r, x->request->target, strlen(x->request->target), &t, &n) <= 0)
                return x;
        *req = *x->request;
        req->target = t;
        *copy = *x;
        copy->request = req;
        *ret_target = t;
        return copy;
}
