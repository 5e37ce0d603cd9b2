/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which protocol handler parses a connection: the one place that maps a
 * ConnProtocol (the kernel's classification, decoded) to its ProtocolOps.
 * A new protocol is a row in registry.c and its own folder beside http1/.
 */
#pragma once

#include <stddef.h>

#include "conn/conn-info.h"
#include "conn/protocol.h"

/* The handler for protocol, or NULL when none is traced (unknown, other, not implemented yet). */
const ProtocolOps *protocol_registry_find(ConnProtocol protocol);

/* One more than the largest ConnProtocol with a row (rows may be NULL), for walking the table. */
size_t protocol_registry_size(void);
