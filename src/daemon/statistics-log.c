/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "basic/log.h"
#include "daemon/statistics-log.h"
#include "protocols/registry.h"

/*
 * What log.c sends of one message at most. The rows and the protocols'
 * counters take about 1.3 KB with counters of 7 digits; at 20 digits each
 * the line could pass it and lose its last protocol counters (they are in
 * the statistics entry too).
 */
#define STATISTICS_LINE_MAX 2048u

void statistics_log(const Stats *s, const uint64_t k[static _KERNEL_COUNTER_MAX]) {
        char line[STATISTICS_LINE_MAX];
        const char *name;
        size_t n = 0;
        uint64_t v;

#define X(key, field, value) \
        if (n < sizeof(line)) \
                n += snprintf(line + n, sizeof(line) - n, " " #key "=%" PRIu64, (uint64_t) (value));
        STATISTICS_ROWS(X)
#undef X
        /* The protocols' own counters (HTTP/1's desyncs...), named by the protocols. */
        for (size_t i = 0; (name = protocol_registry_counter(s, i, &v)) && n < sizeof(line); i++)
                n += snprintf(line + n, sizeof(line) - n, " %s=%" PRIu64, name, v);

        log_info("Statistics:%s", line);
}

void statistics_status(const Stats *s, const uint64_t kernel[static _KERNEL_COUNTER_MAX], size_t conns,
                       char *buf, size_t size) {
        snprintf(buf, size, "Tracing: %" PRIu64 " exchanges, %" PRIu64 " dropped, %zu connections",
                 statistics_exchanges(s), statistics_dropped(s, kernel), conns);
}
