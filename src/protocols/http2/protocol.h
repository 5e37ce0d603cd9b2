/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The HTTP/2 protocol handler: a frame parser and an HPACK inflater per
 * direction and a stream table, behind the ProtocolOps interface
 * (conn/protocol.h). protocols/registry.c names it for CONN_PROTOCOL_HTTP2.
 */
#pragma once

#include "conn/protocol.h"
#include "protocols/http2/limits.h"

extern const ProtocolOps protocol_http2_ops;

/*
 * A handler for a connection that switched from HTTP/1.1 by Upgrade: h2c:
 * both directions are fed from their first HTTP/2 byte (the client's
 * preface, the server's SETTINGS after its 101), and stream 1 is
 * upgrade_request's (copied). ctx->protocol_limits: HTTP/2's caps, or NULL
 * for the defaults. Freed with protocol_http2_ops.free.
 */
int protocol_http2_new_upgraded(const ProtocolContext *ctx, const HttpMessage *upgrade_request, void **ret);
