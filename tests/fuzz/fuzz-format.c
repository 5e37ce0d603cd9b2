/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The formatter on arbitrary exchanges: whatever the bytes, every value
 * must come out bounded, printable, newline-free and valid UTF-8 (checked
 * through the JSON encoder's independent UTF-8 check: it would write
 * \ufffd), and the entry must fit its storage.
 *
 * Input: 8 bytes of parameters, then NUL-separated pieces: method, target,
 * Host, User-Agent, traceparent, comm, parse error excerpt, and a header
 * name and value that go into both messages. Options are built from the
 * parameters: header fields asked for (that name, secret headers, more
 * than an entry may carry), toggles, redaction on or off; with redaction
 * on, the secret planted in a secret header must never come out.
 */

#define _GNU_SOURCE 1   /* memmem */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "basic/macro.h"
#include "output/fields.h"
#include "output/json-writer.h"
#include "select/redact.h"

/* Planted as the value of Authorization and Cookie: redaction must hide it. */
#define SECRET "Zq7SECRETvK"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *piece(const uint8_t **p, const uint8_t *end, size_t *ret_len) {
        const uint8_t *s = *p, *z;

        if (s >= end) {
                *ret_len = 0;
                return "";
        }
        z = memchr(s, 0, end - s);
        if (!z)
                z = end;
        *ret_len = z - s;
        *p = z < end ? z + 1 : end;
        return (const char *) s;
}

static char *dup_piece(const uint8_t **p, const uint8_t *end, size_t *ret_len) {
        size_t n;
        const char *s = piece(p, end, &n);
        char *d = malloc(n + 1);

        if (!d)
                abort();
        memcpy(d, s, n);
        d[n] = 0;
        *ret_len = n;
        return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static FormatEntry e;
        static char line[256 * 1024];
        const uint8_t *p = data, *end = data + size;
        uint8_t par[8] = {};
        ConnInfo c = {};
        HttpHeaderField h[6], rh[2];
        FormatOptions *opts = NULL;
        Redactor *redactor = NULL;
        char *const secret_headers[] = { (char *) "Authorization", (char *) "Cookie" };
        char *const secret_params[] = { (char *) "token" };
        HttpMessage req = { .kind = HTTP_MESSAGE_REQUEST }, resp = { .kind = HTTP_MESSAGE_RESPONSE };
        Exchange x = {};
        Stats stats = {};
        size_t n, comm_len, excerpt_len;
        char *host, *ua, *tp, *comm, *excerpt, *hname, *hvalue;
        bool redact;
        int r;

        memcpy(par, data, size < 8 ? size : 8);
        p += size < 8 ? size : 8;

        req.method = dup_piece(&p, end, &n);
        req.target = dup_piece(&p, end, &n);
        host = dup_piece(&p, end, &n);
        h[0] = (HttpHeaderField) { "Host", host, 4, n };
        ua = dup_piece(&p, end, &n);
        h[1] = (HttpHeaderField) { "User-Agent", ua, 10, n };
        tp = dup_piece(&p, end, &n);
        h[2] = (HttpHeaderField) { "traceparent", tp, 11, n };
        comm = dup_piece(&p, end, &comm_len);
        excerpt = dup_piece(&p, end, &excerpt_len);
        hname = dup_piece(&p, end, &n);
        hvalue = dup_piece(&p, end, &n);
        h[3] = (HttpHeaderField) { hname, hvalue, strlen(hname), n };
        h[4] = (HttpHeaderField) { "Authorization", SECRET, 13, strlen(SECRET) };
        h[5] = (HttpHeaderField) { "Referer", hvalue, 7, n };
        rh[0] = (HttpHeaderField) { hname, hvalue, strlen(hname), n };
        rh[1] = (HttpHeaderField) { "Cookie", SECRET, 6, strlen(SECRET) };

        /* Options: par[7]'s high bits choose them (its low bits are the address below). */
        redact = par[7] & 0x80;
        if (par[7] & 0x40) {
                if (format_options_new(&opts) < 0)
                        abort();
                (void) format_options_set_field(opts, "fields.user_agent", par[7] & 0x20);
                (void) format_options_set_field(opts, "fields.referer", par[7] & 0x10);
                (void) format_options_set_field(opts, "fields.content_type", par[7] & 0x08);
                (void) format_options_set_field(opts, "fields.body_sizes", par[7] & 0x04);
                for (size_t i = 0; i < _PRIORITY_CLASS_MAX; i++)
                        opts->priority[i] = (par[i % 8] + i) % 8;
                /* The fuzzed name (if the formatter accepts it), secrets, and more than fit in one entry. */
                if (format_options_add_header(opts, false, hname) < 0 && *hname)
                        abort();
                if (format_options_add_header(opts, true, hname) < 0 && *hname)
                        abort();
                if (format_options_add_header(opts, false, "Authorization") < 0 ||
                    format_options_add_header(opts, true, "cookie") < 0)
                        abort();
                for (unsigned i = 0; i < (par[5] & 0x1f); i++) {
                        char name[16];

                        snprintf(name, sizeof(name), "X-%u", i);
                        if (format_options_add_header(opts, i & 1, name) < 0)
                                abort();
                }
                if (redactor_new(redact, secret_headers, 2, secret_params, 1, "***", &redactor) < 0)
                        abort();
                format_options_set_redactor(opts, redactor);
        }

        req.headers = h;
        req.n_headers = par[0] % 4 + (opts ? 3 : 0);
        resp.headers = rh;
        resp.n_headers = opts ? 2 : 0;
        req.version = par[1] % 4 == 0 ? 10 : par[1];
        req.body_bytes = par[2] * 1000u;
        req.flags = par[3];
        resp.status = par[4] * 3u;
        resp.version = 11;
        resp.flags = par[3] >> 4;

        c.tgid = par[5];
        c.role = par[6] % 3;
        c.family = par[6] & 0x10 ? AF_INET6 : par[6] & 0x20 ? 0 : AF_INET;
        memset(c.local_addr, par[7], sizeof(c.local_addr));
        if (par[7] & 1)
                memcpy(c.remote_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\0\0\x01", 16);
        memcpy(c.comm, comm, comm_len < CONN_COMM_LEN ? comm_len : CONN_COMM_LEN);

        x.kind = par[0] >> 4;   /* includes invalid kinds */
        x.conn = &c;
        x.request = par[0] & 0x04 ? NULL : &req;
        x.response = par[0] & 0x08 ? NULL : &resp;
        x.duration_ns = (uint64_t) par[1] << (par[2] % 40);
        x.reason = par[5] % 10;
        x.error_direction = par[6] & 1;
        x.error = par[6] & 0x40 ? NULL : host;
        x.error_offset = par[7];
        x.excerpt = (const uint8_t *) excerpt;
        x.excerpt_len = excerpt_len > 64 ? 64 : excerpt_len;

        r = format_exchange(&e, &x, opts, &stats);
        if (r < 0) {
                if (r != -EINVAL)
                        abort();
                goto finish;
        }

        if (e.used > sizeof(e.buf) || e.n_fields > FORMAT_FIELDS_MAX)
                abort();
        for (size_t i = 0; i < e.n_fields; i++) {
                const FormatField *f = &e.fields[i];

                if (strlen(f->value) != f->len || f->len > MAX(FORMAT_TARGET_MAX, FORMAT_MESSAGE_MAX))
                        abort();
                for (size_t j = 0; j < f->len; j++)
                        if ((uint8_t) f->value[j] < 0x20 || f->value[j] == 0x7f)
                                abort();
                /* Only the fuzzed value may carry the planted secret (it can contain anything). */
                if (opts && redact && strstr(f->value, SECRET) && !memmem(data, size, SECRET, strlen(SECRET)))
                        abort();
                for (const char *q = f->name; *q; q++)
                        if (!((*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_'))
                                abort();
                if (strlen(f->name) > FORMAT_FIELD_NAME_MAX || f->name[0] == '_' || (f->name[0] >= '0' && f->name[0] <= '9'))
                        abort();
        }
        /* The formatter's output needs no \uXXXX escape in JSON: no control
         * character, no invalid UTF-8 (which would become \ufffd). */
        n = (size_t) json_format_line(line, sizeof(line), e.fields, e.n_fields);
        if (n > sizeof(line))
                abort();
        for (size_t i = 0; i < n; i++)
                if (line[i] == '\\') {
                        if (i + 1 >= n || line[i + 1] == 'u')
                                abort();
                        i++;
                }

finish:
        format_options_free(opts);
        redactor_free(redactor);
        free(hname);
        free(hvalue);
        free(req.method);
        free(req.target);
        free(host);
        free(ua);
        free(tp);
        free(comm);
        free(excerpt);
        return 0;
}
