/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What HTTP/2 and gRPC exchanges say beyond HTTP/1's fields, in the words
 * the entries use: the gRPC status of a response and the priority class it
 * implies, and RFC 9113's error code names. Pure, no allocation.
 */
#pragma once

#include <stdint.h>

#include "config/configuration.h"
#include "conn/exchange.h"

/* An HTTP/2 response's grpc-status (from its trailers, or a trailers-only response), -1 when none or malformed. */
int format_grpc_status(const HttpMessage *resp);

/* gRPC status codes (grpc/doc/statuscodes.md) by who is to blame: PRIORITY_GRPC_*. */
PriorityClass format_grpc_class(int code);

/* RFC 9113 §7 error code name ("CANCEL"), or "0x..." in buf for a code without one. */
const char *format_http2_error(char buf[static 16], uint32_t code);
