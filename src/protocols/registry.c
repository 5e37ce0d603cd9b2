/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The protocol registry; see registry.h. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "basic/macro.h"
#include "protocols/http1/protocol.h"
#include "protocols/http2/protocol.h"
#include "protocols/registry.h"

/* Indexed by ConnProtocol; a row's ops->id must be its index (a unit test checks every row). */
static const ProtocolOps *const protocols[] = {
        [CONN_PROTOCOL_HTTP1] = &protocol_http1_ops,
        [CONN_PROTOCOL_HTTP2] = &protocol_http2_ops,
};

const ProtocolOps *protocol_registry_find(ConnProtocol protocol) {
        return (size_t) protocol < ELEMENTSOF(protocols) ? protocols[protocol] : NULL;
}

int protocol_registry_set_limits(ConnTable *t, const ProtocolLimits *l) {
        int r;

        r = conn_table_set_protocol_limits(t, &protocol_http1_ops, &l->http1);
        if (r < 0)
                return r;
        return conn_table_set_protocol_limits(t, &protocol_http2_ops, &l->http2);
}

size_t protocol_registry_size(void) {
        return ELEMENTSOF(protocols);
}

/* True when an earlier counter of the table (row < p, or row p before j) is named name. */
static bool counter_seen_before(size_t p, size_t j, const char *name) {
        for (size_t q = 0; q <= p; q++) {
                const ProtocolOps *ops = protocols[q];

                for (size_t k = 0; ops && k < (q == p ? j : ops->n_counters); k++)
                        if (strcmp(ops->counter_names[k], name) == 0)
                                return true;
        }
        return false;
}

static uint64_t counter_sum(const Stats *s, const char *name) {
        uint64_t sum = 0;

        for (size_t q = 0; q < ELEMENTSOF(protocols); q++) {
                const ProtocolOps *ops = protocols[q];

                for (size_t k = 0; ops && k < ops->n_counters; k++)
                        if (strcmp(ops->counter_names[k], name) == 0)
                                sum += s->protocols[q][k];
        }
        return sum;
}

const char *protocol_registry_counter(const Stats *s, size_t i, uint64_t *ret_value) {
        for (size_t p = 0; p < ELEMENTSOF(protocols); p++) {
                const ProtocolOps *ops = protocols[p];

                for (size_t j = 0; ops && j < ops->n_counters; j++) {
                        const char *name = ops->counter_names[j];

                        if (counter_seen_before(p, j, name))
                                continue;
                        if (i-- > 0)
                                continue;
                        if (ret_value)
                                *ret_value = s ? counter_sum(s, name) : 0;
                        return name;
                }
        }
        return NULL;
}

const char *protocol_registry_describe(char *buf, size_t size) {
        size_t n = 0, total = 0, k = 0;

        for (size_t p = 0; p < ELEMENTSOF(protocols); p++)
                total += protocols[p] != NULL;
        if (size > 0)
                buf[0] = 0;
        for (size_t p = 0; p < ELEMENTSOF(protocols) && n < size; p++) {
                if (!protocols[p])
                        continue;
                k++;
                n += snprintf(buf + n, size - n, "%s%s", k == 1 ? "" : k == total ? " and " : ", ",
                              protocols[p]->title);
        }
        return buf;
}
