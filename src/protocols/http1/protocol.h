/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The HTTP/1.x protocol handler: a parser per direction (parser.h) and FIFO
 * correlation of requests and responses, behind the ProtocolOps interface
 * (conn/protocol.h). protocols/registry.c names it for CONN_PROTOCOL_HTTP1.
 */
#pragma once

#include "conn/protocol.h"
#include "protocols/http1/limits.h"

extern const ProtocolOps protocol_http1_ops;
