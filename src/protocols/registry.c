/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The protocol registry; see registry.h. */

#include <stddef.h>

#include "basic/macro.h"
#include "protocols/registry.h"

static const ProtocolOps *const protocols[] = {
        [CONN_PROTOCOL_HTTP1] = &protocol_http1_ops,
};

const ProtocolOps *protocol_registry_find(ConnProtocol protocol) {
        return (size_t) protocol < ELEMENTSOF(protocols) ? protocols[protocol] : NULL;
}
