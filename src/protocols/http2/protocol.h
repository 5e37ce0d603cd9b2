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
