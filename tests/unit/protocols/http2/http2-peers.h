/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A real HTTP/2 conversation for the unit tests of src/protocols/http2/:
 * libnghttp2's own client and server sessions talk to each other in memory,
 * and every byte each side writes is kept, per direction, exactly as it would
 * cross a socket (client preface, SETTINGS and their ACKs, WINDOW_UPDATEs,
 * HEADERS split into CONTINUATIONs when large, padded frames, DATA, trailers).
 * The frames are libnghttp2's, not ours: the parser is checked against the
 * implementation curl and nginx's peers use.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#define PEERS_BUF_MAX (1u << 20)

/* What the server answers: body_len bytes of body_byte, then (if set) a grpc-status trailer. */
typedef struct PeersResponse {
        const char *status;
        size_t body_len;
        const char *trailer_status;   /* grpc-status value sent as a trailer, or NULL */
} PeersResponse;

typedef struct Peers {
        nghttp2_session *client, *server;
        uint8_t *c2s, *s2c;           /* everything each side wrote */
        size_t c2s_len, s2c_len;
        unsigned pad_to;              /* select_padding: pad every padded-able frame to a multiple of this (0: none) */
        PeersResponse responses[16];  /* per request, in stream order (stream 1, 3, 5...) */
        size_t body_sent[16];         /* per stream index: bytes the server's data provider gave */
        size_t req_body_left[16];     /* per stream index: client request body left to send */
        unsigned n_requests_done;     /* requests the server saw complete */
        /*
         * Every header field each session received, "stream name=value\n" in
         * the order libnghttp2 delivered them: [0] the server's view of the
         * client's blocks, [1] the client's view of the server's.
         */
        char *received[2];
        size_t received_len[2];
} Peers;

static int peers_on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                           const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data) {
        Peers *p = user_data;
        unsigned side = session == p->server ? 0 : 1;
        size_t need = namelen + valuelen + 16;
        int n;

        if (p->received_len[side] + need > PEERS_BUF_MAX)
                abort();
        n = snprintf(p->received[side] + p->received_len[side], need, "%d %.*s=%.*s\n", frame->hd.stream_id,
                     (int) namelen, (const char *) name, (int) valuelen, (const char *) value);
        if (n < 0 || (size_t) n >= need)
                abort();
        p->received_len[side] += (size_t) n;
        return 0;
}

static ssize_t peers_padding(nghttp2_session *session, const nghttp2_frame *frame, size_t max_payloadlen,
                             void *user_data) {
        Peers *p = user_data;
        size_t want;

        if (p->pad_to == 0)
                return (ssize_t) frame->hd.length;
        want = (frame->hd.length + p->pad_to) / p->pad_to * p->pad_to;
        return (ssize_t) (want < max_payloadlen ? want : max_payloadlen);
}

static size_t stream_index(int32_t stream_id) {
        return ((size_t) stream_id - 1) / 2 % 16;
}

static ssize_t peers_response_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                                   uint32_t *data_flags, nghttp2_data_source *source, void *user_data) {
        Peers *p = user_data;
        size_t i = stream_index(stream_id);
        size_t left = p->responses[i].body_len - p->body_sent[i];
        size_t n = left < length ? left : length;

        memset(buf, 'r', n);
        p->body_sent[i] += n;
        if (p->body_sent[i] == p->responses[i].body_len) {
                *data_flags |= NGHTTP2_DATA_FLAG_EOF;
                if (p->responses[i].trailer_status) {
                        const char *v = p->responses[i].trailer_status;
                        nghttp2_nv trailer[] = {
                                { (uint8_t *) "grpc-status", (uint8_t *) v, 11, strlen(v), 0 },
                                { (uint8_t *) "grpc-message", (uint8_t *) "from trailers", 12, 13, 0 },
                        };

                        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
                        if (nghttp2_submit_trailer(session, stream_id, trailer, 2) != 0)
                                abort();
                }
        }
        return (ssize_t) n;
}

static ssize_t peers_request_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                                  uint32_t *data_flags, nghttp2_data_source *source, void *user_data) {
        Peers *p = user_data;
        size_t i = stream_index(stream_id);
        size_t n = p->req_body_left[i] < length ? p->req_body_left[i] : length;

        memset(buf, 'q', n);
        p->req_body_left[i] -= n;
        if (p->req_body_left[i] == 0)
                *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        return (ssize_t) n;
}

static int peers_server_frame(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
        Peers *p = user_data;
        size_t i;

        if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
            !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
                return 0;
        i = stream_index(frame->hd.stream_id);
        {
                const char *st = p->responses[i].status ? p->responses[i].status : "200";
                nghttp2_nv nva[] = {
                        { (uint8_t *) ":status", (uint8_t *) st, 7, strlen(st), 0 },
                        { (uint8_t *) "server", (uint8_t *) "nghttp2-peer", 6, 12, 0 },
                        { (uint8_t *) "content-type", (uint8_t *) "text/plain", 12, 10, 0 },
                };
                nghttp2_data_provider prd = { .read_callback = peers_response_body };

                if (nghttp2_submit_response(session, frame->hd.stream_id, nva, 3,
                                            p->responses[i].body_len > 0 || p->responses[i].trailer_status
                                                    ? &prd : NULL) != 0)
                        abort();
        }
        p->n_requests_done++;
        return 0;
}

static void peers_init(Peers *p, unsigned pad_to) {
        nghttp2_session_callbacks *cb;
        nghttp2_settings_entry iv[] = {
                { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 },
                { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20 },
        };

        memset(p, 0, sizeof(*p));
        p->pad_to = pad_to;
        p->c2s = malloc(PEERS_BUF_MAX);
        p->s2c = malloc(PEERS_BUF_MAX);
        p->received[0] = calloc(1, PEERS_BUF_MAX);
        p->received[1] = calloc(1, PEERS_BUF_MAX);
        if (!p->c2s || !p->s2c || !p->received[0] || !p->received[1])
                abort();

        if (nghttp2_session_callbacks_new(&cb) != 0)
                abort();
        nghttp2_session_callbacks_set_select_padding_callback(cb, peers_padding);
        nghttp2_session_callbacks_set_on_header_callback(cb, peers_on_header);
        if (nghttp2_session_client_new(&p->client, cb, p) != 0)
                abort();
        nghttp2_session_callbacks_set_on_frame_recv_callback(cb, peers_server_frame);
        if (nghttp2_session_server_new(&p->server, cb, p) != 0)
                abort();
        nghttp2_session_callbacks_del(cb);

        if (nghttp2_submit_settings(p->client, NGHTTP2_FLAG_NONE, iv, 2) != 0 ||
            nghttp2_submit_settings(p->server, NGHTTP2_FLAG_NONE, iv, 1) != 0)
                abort();
}

/* Submits a request; extra_name/extra_value add one more header field (may be NULL). */
static int32_t peers_request(Peers *p, const char *method, const char *path, const char *extra_name,
                             const char *extra_value, size_t body_len, PeersResponse response) {
        nghttp2_nv nva[6] = {
                { (uint8_t *) ":method", (uint8_t *) method, 7, strlen(method), 0 },
                { (uint8_t *) ":path", (uint8_t *) path, 5, strlen(path), 0 },
                { (uint8_t *) ":scheme", (uint8_t *) "http", 7, 4, 0 },
                { (uint8_t *) ":authority", (uint8_t *) "example.test", 10, 12, 0 },
                { (uint8_t *) "user-agent", (uint8_t *) "peers/1", 10, 7, 0 },
        };
        size_t n = 5;
        nghttp2_data_provider prd = { .read_callback = peers_request_body };
        int32_t id;

        if (extra_name)
                nva[n++] = (nghttp2_nv) { (uint8_t *) extra_name, (uint8_t *) extra_value, strlen(extra_name),
                                          strlen(extra_value), 0 };
        id = nghttp2_submit_request(p->client, NULL, nva, n, body_len > 0 ? &prd : NULL, NULL);
        if (id < 0)
                abort();
        p->responses[stream_index(id)] = response;
        p->req_body_left[stream_index(id)] = body_len;
        return id;
}

static void append(uint8_t *buf, size_t *len, const uint8_t *data, size_t n) {
        if (*len + n > PEERS_BUF_MAX)
                abort();
        memcpy(buf + *len, data, n);
        *len += n;
}

/* Lets both sides talk until neither has anything to say. */
static void peers_run(Peers *p) {
        for (;;) {
                const uint8_t *data;
                ssize_t n;
                bool any = false;

                while ((n = nghttp2_session_mem_send(p->client, &data)) > 0) {
                        append(p->c2s, &p->c2s_len, data, (size_t) n);
                        if (nghttp2_session_mem_recv(p->server, data, (size_t) n) != n)
                                abort();
                        any = true;
                }
                if (n < 0)
                        abort();
                while ((n = nghttp2_session_mem_send(p->server, &data)) > 0) {
                        append(p->s2c, &p->s2c_len, data, (size_t) n);
                        if (nghttp2_session_mem_recv(p->client, data, (size_t) n) != n)
                                abort();
                        any = true;
                }
                if (n < 0)
                        abort();
                if (!any)
                        break;
        }
}

static void peers_done(Peers *p) {
        nghttp2_session_del(p->client);
        nghttp2_session_del(p->server);
        free(p->c2s);
        free(p->s2c);
        free(p->received[0]);
        free(p->received[1]);
}
