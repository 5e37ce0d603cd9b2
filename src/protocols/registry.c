/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The protocol registry; see registry.h. */

#include <stddef.h>

#include "basic/macro.h"
#include "protocols/http1/protocol.h"
#include "protocols/registry.h"

/* Indexed by ConnProtocol; a row's ops->id must be its index (a unit test checks every row). */
static const ProtocolOps *const protocols[] = {
        [CONN_PROTOCOL_HTTP1] = &protocol_http1_ops,
};

const ProtocolOps *protocol_registry_find(ConnProtocol protocol) {
        return (size_t) protocol < ELEMENTSOF(protocols) ? protocols[protocol] : NULL;
}

size_t protocol_registry_size(void) {
        return ELEMENTSOF(protocols);
}
