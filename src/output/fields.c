/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal entry contract: Exchange -> ordered (NAME, value) fields, with
 * every value from the traffic bounded and escaped. See fields.h for the
 * rules and docs/journal-fields.md for each field.
 */

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>

#include "basic/macro.h"
#include "output/excerpt.h"
#include "output/fields.h"
#include "output/http2-values.h"
#include "select/filter.h"
#include "select/redact.h"

const char *format_http_version(char buf[static 16], unsigned version) {
        if (version >= 20 && version % 10 == 0)
                snprintf(buf, 16, "%u", version / 10);   /* "2": HTTP/2 has no minor version (RFC 9113) */
        else
                snprintf(buf, 16, "%u.%u", version / 10, version % 10);
        return buf;
}

static bool is_lower_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool lower_hex_run(const char *s, size_t n, bool *ret_all_zero) {
        bool zero = true;

        for (size_t i = 0; i < n; i++) {
                if (!is_lower_hex(s[i]))
                        return false;
                if (s[i] != '0')
                        zero = false;
        }
        *ret_all_zero = zero;
        return true;
}

int format_traceparent(const char *v, size_t n, char ret_trace_id[static 33], char ret_span_id[static 17]) {
        bool zero;

        /* "vv-" 32 "-" 16 "-ff": 55 characters for version 00. */
        if (!v || n < 55)
                return -EINVAL;
        if (!lower_hex_run(v, 2, &zero) || (v[0] == 'f' && v[1] == 'f'))
                return -EINVAL;
        if (v[2] != '-' || v[35] != '-' || v[52] != '-')
                return -EINVAL;
        if (!lower_hex_run(v + 3, 32, &zero) || zero)
                return -EINVAL;
        if (!lower_hex_run(v + 36, 16, &zero) || zero)
                return -EINVAL;
        if (!lower_hex_run(v + 53, 2, &zero))
                return -EINVAL;
        /* Version 00 is exactly this; later versions may append "-...". */
        if (n > 55 && (memcmp(v, "00", 2) == 0 || v[55] != '-'))
                return -EINVAL;

        memcpy(ret_trace_id, v + 3, 32);
        ret_trace_id[32] = 0;
        memcpy(ret_span_id, v + 36, 16);
        ret_span_id[16] = 0;
        return 0;
}

static PriorityClass status_class(unsigned status) {
        switch (status / 100) {
        case 1:
                return PRIORITY_1XX;
        case 3:
                return PRIORITY_3XX;
        case 4:
                return PRIORITY_4XX;
        case 5:
                return PRIORITY_5XX;
        default:
                return PRIORITY_2XX;    /* 2xx, and statuses no server should send */
        }
}

int format_priority(const Exchange *x, const FormatOptions *opts) {
        const int *p = (opts ?: &format_options_default)->priority;
        const HttpMessage *resp = x ? x->response : NULL;
        int grpc;

        switch (x ? x->kind : _EXCHANGE_KIND_MAX) {
        case EXCHANGE_COMPLETE:
                /* a gRPC call's HTTP status is 200 whatever happened: its grpc-status says, unless HTTP failed */
                grpc = format_grpc_status(resp);
                if (grpc >= 0 && resp->status < 300)
                        return p[format_grpc_class(grpc)];
                return resp ? p[status_class(resp->status)] : p[PRIORITY_2XX];
        case EXCHANGE_UNCORRELATED:
                /* Lower is more severe: a 5xx stays a warning although its request was missed. */
                return resp ? MIN(p[PRIORITY_UNCORRELATED], p[status_class(resp->status)]) : p[PRIORITY_UNCORRELATED];
        case EXCHANGE_NO_RESPONSE:
                return p[PRIORITY_NO_RESPONSE];
        default:
                return p[PRIORITY_PARSE_ERROR];
        }
}

/* ---- what an exchange says ----------------------------------------------- */

typedef struct Endpoint {
        char addr[INET6_ADDRSTRLEN];
        bool ipv6;                      /* needs brackets before ":port" */
        uint16_t port;
        bool valid;
} Endpoint;

static Endpoint endpoint_make(uint16_t family, const uint8_t a[16], uint16_t port) {
        Endpoint ep = { .port = port };

        if (family == AF_INET)
                ep.valid = inet_ntop(AF_INET, a, ep.addr, sizeof(ep.addr));
        else if (family == AF_INET6) {
                /* ::ffff:a.b.c.d is an IPv4 peer on a dual-stack socket: show it as one. */
                static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

                /* memcmp, not IN6_IS_ADDR_V4MAPPED: the bytes need not be aligned for struct in6_addr. */
                if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0)
                        ep.valid = inet_ntop(AF_INET, a + 12, ep.addr, sizeof(ep.addr));
                else
                        ep.valid = ep.ipv6 = inet_ntop(AF_INET6, a, ep.addr, sizeof(ep.addr));
        }
        return ep;
}

static bool conn_is_client(const ConnInfo *c) {
        /* An unknown role is shown as server: the kernel side labels every
         * accept()ed socket, so unknown ones are mostly servers seen mid-stream. */
        return c->role == CONN_ROLE_CLIENT;
}

static const char *role_to_string(uint8_t role) {
        switch (role) {
        case CONN_ROLE_SERVER:
                return "server";
        case CONN_ROLE_CLIENT:
                return "client";
        default:
                return "unknown";
        }
}

/* Which HTTP stream a direction is, seen from the traced process's role. */
static const char *direction_to_stream(const ConnInfo *c, uint8_t direction) {
        bool ingress = direction == CONN_DIR_INGRESS;

        return ingress != conn_is_client(c) ? "request" : "response";
}

static bool has_prefix_case(const char *s, size_t n, const char *prefix) {
        size_t k = strlen(prefix);

        return n >= k && strncasecmp(s, prefix, k) == 0;
}

/* The authority of an absolute-form target, for requests without a Host header. */
static bool target_authority(const char *t, size_t n, size_t *ret_off, size_t *ret_len) {
        size_t off;

        if (!has_prefix_case(t, n, "http://") && !has_prefix_case(t, n, "https://"))
                return false;
        off = strchr(t, ':') - t + 3;
        *ret_off = off;
        *ret_len = strcspn(t + off, "/?#");
        return *ret_len > 0;
}

static const HttpHeaderField *single_header(const HttpMessage *m, const char *name, bool *ret_repeated) {
        const HttpHeaderField *found = NULL;

        *ret_repeated = false;
        for (size_t i = 0; m && i < m->n_headers; i++)
                if (strcasecmp(m->headers[i].name, name) == 0) {
                        if (found)
                                *ret_repeated = true;
                        else
                                found = &m->headers[i];
                }
        return found;
}

static bool header_named(const HttpHeaderField *h, char *const *names, size_t n_names) {
        for (size_t j = 0; j < n_names; j++)
                if (strcasecmp(h->name, names[j]) == 0)
                        return true;
        return false;
}

static bool header_present(const HttpMessage *m, char *const *names, size_t n_names) {
        for (size_t i = 0; m && i < m->n_headers; i++)
                if (header_named(&m->headers[i], names, n_names))
                        return true;
        return false;
}

/* Append what fits of s[0..n) to buf (at most size bytes in all). */
static void raw_append(char *buf, size_t size, size_t *len, const void *s, size_t n) {
        size_t k = MIN(n, size - *len);

        memcpy(buf + *len, s, k);
        *len += k;
}

/*
 * The values of every header of m named in names, in the message's order,
 * each as it may be output (a secret header becomes the mask, a URL-valued
 * one loses its secret parameters: redactor_header()), joined with ", " as
 * RFC 9110 §5.3 lets a recipient combine repeated fields. Raw bytes into
 * buf, at most size: the caller escapes and bounds them, and as escaping
 * never shortens, the first FORMAT_VALUE_MAX + 1 bytes decide the result.
 * Returns how many headers were found, or -ENOMEM.
 */
static int header_values(const HttpMessage *m, char *const *names, size_t n_names, const Redactor *r,
                         char *buf, size_t size, size_t *ret_len) {
        size_t len = 0;
        int found = 0;

        for (size_t i = 0; m && i < m->n_headers; i++) {
                const HttpHeaderField *h = &m->headers[i];
                _cleanup_(freep) char *masked = NULL;
                const char *v = h->value;
                size_t vl = h->value_len;

                if (!header_named(h, names, n_names))
                        continue;
                if (redactor_header_is_secret(r, h->name, h->name_len)) {
                        v = redactor_mask(r);       /* no copy: the common secret case stays allocation-free */
                        vl = strlen(v);
                } else {
                        int k = redactor_header(r, h->name, h->name_len, h->value, h->value_len, &masked, &vl);
                        if (k < 0)
                                return k;
                        if (k > 0)
                                v = masked;
                }
                if (found++ > 0)
                        raw_append(buf, size, &len, ", ", 2);
                raw_append(buf, size, &len, v, vl);
        }
        *ret_len = len;
        return found;
}

static void builder_endpoint(EntryBuilder *b, const Endpoint *ep) {
        if (!ep->valid) {
                entry_builder_puts(b, "?");
                return;
        }
        entry_builder_printf(b, ep->ipv6 ? "[%s]:%u" : "%s:%u", ep->addr, ep->port);
}

/* "(nginx[812] 127.0.0.1:50432 → 127.0.0.1:80)": who, and client → server. */
static void builder_context(EntryBuilder *b, const ConnInfo *c, const Endpoint *client, const Endpoint *server) {
        entry_builder_puts(b, " (");
        entry_builder_escape(b, c->comm, strnlen(c->comm, sizeof(c->comm)), FORMAT_VALUE_MAX);
        entry_builder_printf(b, "[%" PRIu32 "] ", c->tgid);
        builder_endpoint(b, client);
        entry_builder_puts(b, " → ");
        builder_endpoint(b, server);
        entry_builder_puts(b, ")");
}

static int entry_add_message(FormatEntry *e, const Exchange *x, const Endpoint *client, const Endpoint *server) {
        EntryBuilder b = entry_builder_start(e, FORMAT_MESSAGE_MAX);
        const HttpMessage *req = x->request, *resp = x->response;
        char dur[FORMAT_DURATION_MAX];

        /* The request part: "GET /index.html"; said so when its head was not kept (memory cap, pipeline_max) */
        if (req && req->method && req->target && !req->method[0] && !req->target[0])
                entry_builder_puts(&b, req->flags & HTTP_MESSAGE_REQUEST_INVALID ? "(invalid request) " :
                                                                                   "(request not kept) ");
        else if (req && req->method && req->target) {
                entry_builder_escape(&b, req->method, strlen(req->method), FORMAT_VALUE_MAX);
                entry_builder_puts(&b, " ");
                entry_builder_escape(&b, req->target, strlen(req->target), FORMAT_MESSAGE_TARGET_MAX);
                entry_builder_puts(&b, " ");
        }

        switch (x->kind) {
        case EXCHANGE_COMPLETE:
                entry_builder_printf(&b, "→ %u in %s", resp->status, format_duration(dur, x->duration_ns));
                break;
        case EXCHANGE_NO_RESPONSE:
                entry_builder_printf(&b, "→ no response (%s)", strna(exchange_end_reason_to_string(x->reason)));
                break;
        case EXCHANGE_UNCORRELATED:
                entry_builder_printf(&b, "→ %u (request not seen)", resp->status);
                break;
        case EXCHANGE_PARSE_ERROR:
                entry_builder_printf(&b, "parse error in %s stream: ", direction_to_stream(x->conn, x->error_direction));
                entry_builder_escape(&b, x->error ?: "unknown", strlen(x->error ?: "unknown"), FORMAT_VALUE_MAX);
                entry_builder_printf(&b, " at byte %" PRIu64, x->error_offset);
                break;
        default:
                return -EINVAL;
        }

        builder_context(&b, x->conn, client, server);
        return entry_builder_commit(e, &b, "MESSAGE", FORMAT_STRING);
}

static void flags_add(char *buf, size_t size, const char *flag) {
        size_t n = strlen(buf);

        snprintf(buf + n, size - n, "%s%s", n > 0 ? "," : "", flag);
}

/* Only the flags that say something went differently from a plain exchange. */
static void exchange_flags(char *buf, size_t size, const Exchange *x, bool fields_truncated, bool fields_dropped) {
        unsigned f = (x->request ? x->request->flags : 0) | (x->response ? x->response->flags : 0);

        buf[0] = 0;
        if (f & HTTP_MESSAGE_GAP)
                flags_add(buf, size, "gap");
        if (f & HTTP_MESSAGE_TRUNCATED)
                flags_add(buf, size, "truncated");
        if (f & HTTP_MESSAGE_HEAD_TRUNCATED)
                flags_add(buf, size, "head-truncated");
        if (f & HTTP_MESSAGE_MEMORY_CAPPED)
                flags_add(buf, size, "memory-capped");
        if (f & HTTP_MESSAGE_PIPELINE_OVERFLOW)
                flags_add(buf, size, "pipeline-overflow");
        if (f & HTTP_MESSAGE_UPGRADE)
                flags_add(buf, size, "upgrade");
        if (f & HTTP_MESSAGE_HEADERS_INCOMPLETE)
                flags_add(buf, size, "headers-incomplete");
        if (f & HTTP_MESSAGE_PUSHED)
                flags_add(buf, size, "pushed");
        if (f & HTTP_MESSAGE_REQUEST_INVALID)
                flags_add(buf, size, "request-invalid");
        if (x->stream_reset)
                flags_add(buf, size, "reset");
        if (f & HTTP_MESSAGE_LOST || x->reason == EXCHANGE_END_LOST)
                flags_add(buf, size, "lost");
        if (x->conn->source == CONN_SOURCE_TLS)
                flags_add(buf, size, "tls");
        if (fields_truncated)
                flags_add(buf, size, "fields-truncated");
        if (fields_dropped)
                flags_add(buf, size, "fields-dropped");
}

/* One field from the named headers of m; absent when m has none of them. Returns 1 when added. */
static int entry_add_header(FormatEntry *e, const char *field, const HttpMessage *m, char *const *names,
                            size_t n_names, const FormatOptions *opts, Stats *stats) {
        char raw[FORMAT_VALUE_MAX + 1];
        size_t len;
        int r;

        r = header_values(m, names, n_names, opts->redactor, raw, sizeof(raw), &len);
        if (r <= 0)
                return r;
        TRY(entry_add_escaped(e, field, raw, len, FORMAT_VALUE_MAX, stats));
        return 1;
}

/*
 * The fields.request_headers / response_headers of m. *n_added counts the
 * header fields of the whole entry: past FORMAT_HEADER_FIELDS_MAX, headers
 * that are present are counted as dropped instead.
 */
static int entry_add_header_fields(FormatEntry *e, const HttpMessage *m, const FormatHeader *l, size_t n,
                                   const FormatOptions *opts, unsigned *n_added, Stats *stats) {
        for (size_t i = 0; m && i < n; i++) {
                int r;

                if (*n_added >= FORMAT_HEADER_FIELDS_MAX) {
                        if (header_present(m, l[i].names, l[i].n_names)) {
                                e->n_dropped++;
                                if (stats)
                                        stats->fields_dropped++;
                        }
                        continue;
                }
                r = entry_add_header(e, l[i].field, m, l[i].names, l[i].n_names, opts, stats);
                if (r < 0)
                        return r;
                if (r > 0)
                        (*n_added)++;
        }
        return 0;
}

static int entry_add_excerpt(FormatEntry *e, const char *name, const Exchange *x, const FormatOptions *opts,
                             Stats *stats) {
        char raw[FORMAT_VALUE_MAX + 1];
        size_t n = MIN(x->excerpt_len, (size_t) FORMAT_EXCERPT_MAX), len;

        if (x->excerpt_len > FORMAT_EXCERPT_MAX) {
                /* Longer than the Exchange contract allows: cut, and say so. */
                e->n_truncated++;
                if (stats)
                        stats->fields_truncated++;
        }
        if (!opts->redactor)
                return entry_add_escaped(e, name, x->excerpt, n, FORMAT_VALUE_MAX, stats);

        TRY(excerpt_mask(opts->redactor, x->excerpt, n, raw, sizeof(raw), &len));
        return entry_add_escaped(e, name, raw, len, FORMAT_VALUE_MAX, stats);
}

/* ---- the field table ----------------------------------------------------- */

/* One exchange being formatted: what every renderer may read, and the entry it adds to. */
struct FormatFieldContext {
        FormatEntry *e;
        const Exchange *x;               /* normalised: only the messages its kind carries */
        const HttpMessage *req, *resp;   /* x->request, x->response */
        const FormatOptions *opts;
        Stats *stats;                    /* may be NULL */
        const char *message_id;
        Endpoint client, server;
        unsigned n_header_fields;        /* asked-for header fields added so far */
};

static int render_message(FormatFieldContext *c, const FormatFieldSpec *f) {
        return entry_add_message(c->e, c->x, &c->client, &c->server);
}

static int render_priority(FormatFieldContext *c, const FormatFieldSpec *f) {
        return entry_addf(c->e, f->name, FORMAT_NUMBER, "%d", format_priority(c->x, c->opts));
}

static int render_message_id(FormatFieldContext *c, const FormatFieldSpec *f) {
        return entry_add_str(c->e, f->name, c->message_id);
}

/* arg: the value. */
static int render_const(FormatFieldContext *c, const FormatFieldSpec *f) {
        return entry_add_str(c->e, f->name, f->arg);
}

/*
 * The traced process as the kernel saw it when the connection was first seen (.arg: p pid,
 * c comm, e exe, u unit: what `journalctl -u` matches from a uid-0 sender). Never
 * OBJECT_PID: journald would add the process's OBJECT_CMDLINE (secrets in argv).
 */
static int render_identity(FormatFieldContext *c, const FormatFieldSpec *f) {
        const ConnInfo *conn = c->x->conn;
        const char *s = f->arg[0] == 'e' ? conn->exe : conn->comm;

        if (f->arg[0] == 'p')
                return conn->tgid > 0 ? entry_add_u64(c->e, f->name, conn->tgid) : 0;
        if (f->arg[0] == 'u')
                s = conn_info_unit(conn) ?: "";   /* resolved once when the connection opened */
        return s[0] ? entry_add_escaped(c->e, f->name, s, strlen(s), FORMAT_VALUE_MAX, c->stats) : 0;
}

static int render_role(FormatFieldContext *c, const FormatFieldSpec *f) {
        return entry_add_str(c->e, f->name, role_to_string(c->x->conn->role));
}

static int render_method(FormatFieldContext *c, const FormatFieldSpec *f) {
        const char *m = c->req ? c->req->method : NULL;

        /* empty: the head was not kept (memory cap, past pipeline_max): nothing to say */
        return m && m[0] ? entry_add_escaped(c->e, f->name, m, strlen(m), FORMAT_VALUE_MAX, c->stats) : 0;
}

static int render_target(FormatFieldContext *c, const FormatFieldSpec *f) {
        const char *t = c->req ? c->req->target : NULL;

        return t && t[0] ? entry_add_escaped(c->e, f->name, t, strlen(t), FORMAT_TARGET_MAX, c->stats) : 0;
}

static int render_path(FormatFieldContext *c, const FormatFieldSpec *f) {
        const char *t = c->req ? c->req->target : NULL, *path;
        size_t len;

        if (!t || !filter_target_path(t, strlen(t), &path, &len))
                return 0;
        return entry_add_escaped(c->e, f->name, path, len, FORMAT_TARGET_MAX, c->stats);
}

static int render_host(FormatFieldContext *c, const FormatFieldSpec *f) {
        const HttpHeaderField *h;
        size_t off, len;

        if (!c->req)
                return 0;
        h = http_message_header(c->req, "Host");
        if (h)
                return entry_add_escaped(c->e, f->name, h->value, h->value_len, FORMAT_VALUE_MAX, c->stats);
        if (c->req->target && target_authority(c->req->target, strlen(c->req->target), &off, &len))
                return entry_add_escaped(c->e, f->name, c->req->target + off, len, FORMAT_VALUE_MAX, c->stats);
        return 0;
}

/* The header f->arg of the request (or the response), redacted, escaped; absent when the message has none. */
static int render_header(FormatFieldContext *c, const FormatFieldSpec *f, const HttpMessage *m) {
        char *const names[] = { (char *) f->arg };

        return m ? entry_add_header(c->e, f->name, m, names, 1, c->opts, c->stats) : 0;
}

static int render_request_header(FormatFieldContext *c, const FormatFieldSpec *f) {
        return render_header(c, f, c->req);
}

static int render_response_header(FormatFieldContext *c, const FormatFieldSpec *f) {
        return render_header(c, f, c->resp);
}

static int render_request_body_bytes(FormatFieldContext *c, const FormatFieldSpec *f) {
        /* Absent means no body: most requests have none, and each field costs journald. */
        return c->req && c->req->body_bytes > 0 ? entry_add_u64(c->e, f->name, c->req->body_bytes) : 0;
}

static int render_response_body_bytes(FormatFieldContext *c, const FormatFieldSpec *f) {
        /* a head whose end was never seen leaves the body's start, and so its size, unknown */
        return c->resp && !(c->resp->flags & HTTP_MESSAGE_HEAD_CUT) ?
                entry_add_u64(c->e, f->name, c->resp->body_bytes) : 0;
}

/* W3C Trace Context: two traceparent headers make it invalid (§3.2). arg: "trace" or "span". */
static int render_traceparent(FormatFieldContext *c, const FormatFieldSpec *f) {
        const HttpHeaderField *h;
        char trace_id[33], span_id[17];
        bool repeated;

        if (!c->req)
                return 0;
        h = single_header(c->req, "traceparent", &repeated);
        if (!h || repeated || format_traceparent(h->value, h->value_len, trace_id, span_id) < 0)
                return 0;
        return entry_add_str(c->e, f->name, strcmp(f->arg, "span") == 0 ? span_id : trace_id);
}

static int render_version(FormatFieldContext *c, const FormatFieldSpec *f) {
        const HttpMessage *m = c->req ?: c->resp;
        char buf[16];

        return m && m->version > 0 ? entry_add_str(c->e, f->name, format_http_version(buf, m->version)) : 0;
}

static int render_status(FormatFieldContext *c, const FormatFieldSpec *f) {
        return c->resp ? entry_add_u64(c->e, f->name, c->resp->status) : 0;
}

static int render_grpc_status(FormatFieldContext *c, const FormatFieldSpec *f) {
        int v = format_grpc_status(c->resp);

        return v >= 0 ? entry_add_u64(c->e, f->name, (uint64_t) v) : 0;
}

/* grpc-message as sent (percent-encoded by the sender), redacted and escaped like any header value. */
static int render_grpc_message(FormatFieldContext *c, const FormatFieldSpec *f) {
        return c->resp && c->resp->version == 20 ? render_header(c, f, c->resp) : 0;
}

static int render_duration(FormatFieldContext *c, const FormatFieldSpec *f) {
        return c->x->kind == EXCHANGE_COMPLETE ? entry_add_u64(c->e, f->name, c->x->duration_ns / NSEC_PER_USEC) : 0;
}

static const Endpoint *endpoint_of(const FormatFieldContext *c, const FormatFieldSpec *f) {
        return strcmp(f->arg, "client") == 0 ? &c->client : &c->server;
}

/* arg: "client" or "server". */
static int render_addr(FormatFieldContext *c, const FormatFieldSpec *f) {
        const Endpoint *ep = endpoint_of(c, f);

        return ep->valid ? entry_add_str(c->e, f->name, ep->addr) : 0;
}

static int render_port(FormatFieldContext *c, const FormatFieldSpec *f) {
        const Endpoint *ep = endpoint_of(c, f);

        return ep->valid ? entry_add_u64(c->e, f->name, ep->port) : 0;
}

/* Only TLS plaintext says its scheme: plaintext entries stay one field shorter (journald pays per field). */
static int render_scheme(FormatFieldContext *c, const FormatFieldSpec *f) {
        return c->x->conn->source == CONN_SOURCE_TLS ? entry_add_str(c->e, f->name, "https") : 0;
}

static int render_tls_library(FormatFieldContext *c, const FormatFieldSpec *f) {
        const ConnInfo *conn = c->x->conn;

        return conn->source == CONN_SOURCE_TLS && conn->tls_library ? entry_add_str(c->e, f->name, conn->tls_library) : 0;
}

static int render_connection_id(FormatFieldContext *c, const FormatFieldSpec *f) {
        return entry_add_u64(c->e, f->name, c->x->conn->id);
}

static int render_stream_id(FormatFieldContext *c, const FormatFieldSpec *f) {
        /* Only protocols with streams (HTTP/2) set one; HTTP/1 exchanges never carry the field. */
        return c->x->stream_id != 0 ? entry_add_u64(c->e, f->name, c->x->stream_id) : 0;
}

static int render_stream_error(FormatFieldContext *c, const FormatFieldSpec *f) {
        char buf[16];

        return c->x->stream_reset ? entry_add_str(c->e, f->name, format_http2_error(buf, c->x->stream_error)) : 0;
}

static int render_no_response_reason(FormatFieldContext *c, const FormatFieldSpec *f) {
        if (c->x->kind != EXCHANGE_NO_RESPONSE)
                return 0;
        return entry_add_str(c->e, f->name, strna(exchange_end_reason_to_string(c->x->reason)));
}

static int render_parse_error(FormatFieldContext *c, const FormatFieldSpec *f) {
        const char *err = c->x->error ?: "unknown";

        if (c->x->kind != EXCHANGE_PARSE_ERROR)
                return 0;
        return entry_add_escaped(c->e, f->name, err, strlen(err), FORMAT_VALUE_MAX, c->stats);
}

static int render_parse_error_direction(FormatFieldContext *c, const FormatFieldSpec *f) {
        if (c->x->kind != EXCHANGE_PARSE_ERROR)
                return 0;
        return entry_add_str(c->e, f->name, direction_to_stream(c->x->conn, c->x->error_direction));
}

static int render_parse_error_offset(FormatFieldContext *c, const FormatFieldSpec *f) {
        return c->x->kind == EXCHANGE_PARSE_ERROR ? entry_add_u64(c->e, f->name, c->x->error_offset) : 0;
}

static int render_parse_error_excerpt(FormatFieldContext *c, const FormatFieldSpec *f) {
        if (c->x->kind != EXCHANGE_PARSE_ERROR || !c->x->excerpt || c->x->excerpt_len == 0)
                return 0;
        return entry_add_excerpt(c->e, f->name, c->x, c->opts, c->stats);
}

/* Asked-for headers: request first, then response, at most FORMAT_HEADER_FIELDS_MAX in all. */
static int render_request_headers(FormatFieldContext *c, const FormatFieldSpec *f) {
        return entry_add_header_fields(c->e, c->req, c->opts->request_headers, c->opts->n_request_headers,
                                       c->opts, &c->n_header_fields, c->stats);
}

static int render_response_headers(FormatFieldContext *c, const FormatFieldSpec *f) {
        return entry_add_header_fields(c->e, c->resp, c->opts->response_headers, c->opts->n_response_headers,
                                       c->opts, &c->n_header_fields, c->stats);
}

/* Last in the table, so that it can say whether any value before it was cut. */
static int render_flags(FormatFieldContext *c, const FormatFieldSpec *f) {
        char buf[128];

        exchange_flags(buf, sizeof(buf), c->x, c->e->n_truncated > 0, c->e->n_dropped > 0);
        return buf[0] ? entry_add_str(c->e, f->name, buf) : 0;
}

#define FIXED(n, r, ...)        { .name = n, .kind = FORMAT_FIELD_FIXED, .render = r, __VA_ARGS__ }
#define OPTIONAL(n, s, d, r, ...) { .name = n, .kind = FORMAT_FIELD_OPTIONAL, .setting = s, .default_on = d, \
                                    .render = r, __VA_ARGS__ }
#define HEADERS(n, s, r)        { .name = n, .kind = FORMAT_FIELD_HEADERS, .setting = s, .render = r }

/*
 * Every field of an exchange entry, in entry order (JSON lines keep it).
 * docs/journal-fields.md's "Fields" table lists exactly these names.
 */
const FormatFieldSpec format_field_specs[] = {
        FIXED("MESSAGE",                        render_message),
        FIXED("PRIORITY",                       render_priority),
        FIXED("MESSAGE_ID",                     render_message_id),
        FIXED("SYSLOG_IDENTIFIER",              render_const, .arg = FORMAT_SYSLOG_IDENTIFIER),
        FIXED("PROCESS_PID",                    render_identity, .arg = "p"),
        FIXED("OBJECT_COMM",                    render_identity, .arg = "c"),
        FIXED("OBJECT_EXE",                     render_identity, .arg = "e"),
        FIXED("OBJECT_SYSTEMD_UNIT",            render_identity, .arg = "u"),
        FIXED("HTTP_ROLE",                      render_role),
        FIXED("HTTP_METHOD",                    render_method),
        FIXED("HTTP_TARGET",                    render_target),
        FIXED("HTTP_PATH",                      render_path),
        FIXED("HTTP_HOST",                      render_host),
        OPTIONAL("HTTP_USER_AGENT",             "fields.user_agent", true, render_request_header, .arg = "User-Agent"),
        OPTIONAL("HTTP_REFERER",                "fields.referer", false, render_request_header, .arg = "Referer"),
        OPTIONAL("HTTP_REQUEST_CONTENT_TYPE",   "fields.content_type", false, render_request_header,
                 .arg = "Content-Type"),
        OPTIONAL("HTTP_REQUEST_BODY_BYTES",     "fields.body_sizes", true, render_request_body_bytes),
        FIXED("TRACE_ID",                       render_traceparent, .arg = "trace"),
        FIXED("SPAN_ID",                        render_traceparent, .arg = "span"),
        FIXED("HTTP_VERSION",                   render_version),
        FIXED("HTTP_STATUS",                    render_status),
        FIXED("GRPC_STATUS",                    render_grpc_status),
        FIXED("GRPC_MESSAGE",                   render_grpc_message, .arg = "grpc-message"),
        OPTIONAL("HTTP_RESPONSE_CONTENT_TYPE",  "fields.content_type", false, render_response_header,
                 .arg = "Content-Type"),
        OPTIONAL("HTTP_RESPONSE_BODY_BYTES",    "fields.body_sizes", true, render_response_body_bytes),
        FIXED("HTTP_DURATION_USEC",             render_duration),
        FIXED("CLIENT_ADDR",                    render_addr, .arg = "client"),
        FIXED("CLIENT_PORT",                    render_port, .arg = "client"),
        FIXED("SERVER_ADDR",                    render_addr, .arg = "server"),
        FIXED("SERVER_PORT",                    render_port, .arg = "server"),
        FIXED("HTTP_SCHEME",                    render_scheme),
        FIXED("TLS_LIBRARY",                    render_tls_library),
        FIXED("HTTP_CONNECTION_ID",             render_connection_id),
        FIXED("HTTP_STREAM_ID",                 render_stream_id),
        FIXED("HTTP2_RESET_ERROR",              render_stream_error),
        FIXED("HTTP_NO_RESPONSE_REASON",        render_no_response_reason),
        FIXED("HTTP_PARSE_ERROR",               render_parse_error),
        FIXED("HTTP_PARSE_ERROR_DIRECTION",     render_parse_error_direction),
        FIXED("HTTP_PARSE_ERROR_OFFSET",        render_parse_error_offset),
        FIXED("HTTP_PARSE_ERROR_EXCERPT",       render_parse_error_excerpt),
        HEADERS("HTTP_REQUEST_HEADER_<NAME>",   "fields.request_headers", render_request_headers),
        HEADERS("HTTP_RESPONSE_HEADER_<NAME>",  "fields.response_headers", render_response_headers),
        FIXED("HTTP_FLAGS",                     render_flags),
};

const size_t format_field_specs_n = ELEMENTSOF(format_field_specs);

_Static_assert(ELEMENTSOF(format_field_specs) <= FORMAT_FIELD_SPECS_MAX, "FormatOptions.fields_toggled has a bit per row");
_Static_assert(ELEMENTSOF(format_field_specs) <= FORMAT_FIELDS_MAX, "an entry holds every field of the table");

bool format_field_enabled(const FormatOptions *o, size_t i) {
        const FormatFieldSpec *f = &format_field_specs[i];
        bool toggled = (o ?: &format_options_default)->fields_toggled & (UINT64_C(1) << i);

        return f->kind != FORMAT_FIELD_OPTIONAL || f->default_on != toggled;
}

int format_exchange(FormatEntry *e, const Exchange *x, const FormatOptions *opts, Stats *stats) {
        const HttpMessage *req, *resp;
        const ConnInfo *c;
        const char *id;
        Exchange xn;

        if (!e || !x || !x->conn)
                return -EINVAL;
        if (!opts)
                opts = &format_options_default;

        entry_reset(e);

        c = x->conn;
        req = x->request;
        resp = x->response;

        switch (x->kind) {
        case EXCHANGE_COMPLETE:
                if (!req || !resp)
                        return -EINVAL;
                id = FORMAT_MESSAGE_ID_COMPLETE;
                break;
        case EXCHANGE_NO_RESPONSE:
                if (!req)
                        return -EINVAL;
                resp = NULL;
                id = FORMAT_MESSAGE_ID_NO_RESPONSE;
                break;
        case EXCHANGE_UNCORRELATED:
                if (!resp)
                        return -EINVAL;
                req = NULL;
                id = FORMAT_MESSAGE_ID_UNCORRELATED;
                break;
        case EXCHANGE_PARSE_ERROR:
                req = resp = NULL;
                id = FORMAT_MESSAGE_ID_PARSE_ERROR;
                break;
        default:
                return -EINVAL;
        }
        /* Normalised copy, so the renderers see only the messages this kind carries. */
        xn = *x;
        xn.request = req;
        xn.response = resp;

        Endpoint local = endpoint_make(c->family, c->local_addr, c->local_port);
        Endpoint remote = endpoint_make(c->family, c->remote_addr, c->remote_port);
        FormatFieldContext ctx = {
                .e = e,
                .x = &xn,
                .req = req,
                .resp = resp,
                .opts = opts,
                .stats = stats,
                .message_id = id,
                .client = conn_is_client(c) ? local : remote,
                .server = conn_is_client(c) ? remote : local,
        };

        for (size_t i = 0; i < ELEMENTSOF(format_field_specs); i++) {
                const FormatFieldSpec *f = &format_field_specs[i];

                if (format_field_enabled(opts, i))
                        TRY(f->render(&ctx, f));
        }
        return 0;
}
