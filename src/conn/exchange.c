/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers around the exchange structs shared by parsers and outputs. */

#include <strings.h>

#include "basic/macro.h"
#include "conn/exchange.h"

const HttpHeaderField *http_message_header(const HttpMessage *m, const char *name) {
        if (!m || !name)
                return NULL;

        for (size_t i = 0; i < m->n_headers; i++)
                if (strcasecmp(m->headers[i].name, name) == 0)
                        return &m->headers[i];
        return NULL;
}

static const char *const exchange_kind_table[_EXCHANGE_KIND_MAX] = {
        [EXCHANGE_COMPLETE]      = "complete",
        [EXCHANGE_NO_RESPONSE]   = "no-response",
        [EXCHANGE_UNCORRELATED]  = "uncorrelated-response",
        [EXCHANGE_PARSE_ERROR]   = "parse-error",
};

const char *exchange_kind_to_string(ExchangeKind k) {
        if ((unsigned) k >= ELEMENTSOF(exchange_kind_table))
                return NULL;
        return exchange_kind_table[k];
}

static const char *const exchange_end_reason_table[_EXCHANGE_END_MAX] = {
        [EXCHANGE_END_NONE]          = "none",
        [EXCHANGE_END_CLOSED]        = "closed",
        [EXCHANGE_END_IDLE_TIMEOUT]  = "idle-timeout",
        [EXCHANGE_END_PROCESS_EXIT]  = "process-exit",
        [EXCHANGE_END_SHUTDOWN]      = "shutdown",
        [EXCHANGE_END_PIPELINE_FULL] = "pipeline-full",
        [EXCHANGE_END_UPGRADE]       = "upgrade",
        [EXCHANGE_END_DESYNC]        = "desync",
        [EXCHANGE_END_RESET]         = "reset",
        [EXCHANGE_END_GOAWAY]        = "goaway",
        [EXCHANGE_END_LOST]          = "lost",
};

const char *exchange_end_reason_to_string(ExchangeEndReason r) {
        if ((unsigned) r >= ELEMENTSOF(exchange_end_reason_table))
                return NULL;
        return exchange_end_reason_table[r];
}
