/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "basic/log.h"
#include "daemon/statistics-log.h"
#include "protocols/registry.h"

void statistics_log(const Stats *s, const uint64_t kernel[static _KERNEL_COUNTER_MAX]) {
        char own[512] = "";
        const char *name;
        uint64_t v;

        /* The protocols' own counters (HTTP/1's desyncs...), named by the protocols. */
        for (size_t i = 0, n = 0; (name = protocol_registry_counter(s, i, &v)) && n < sizeof(own); i++)
                n += snprintf(own + n, sizeof(own) - n, " %s=%" PRIu64, name, v);

        log_info("Statistics: records=%" PRIu64 " exchanges=%" PRIu64 " complete=%" PRIu64 " no_response=%" PRIu64
                 " uncorrelated=%" PRIu64 " exchanges_lost=%" PRIu64 " messages_lost=%" PRIu64 " closes_lost=%" PRIu64
                 " exchanges_lost_unseen=%" PRIu64 " parse_errors=%" PRIu64
                 " ringbuf_drops=%" PRIu64 " bytes_lost=%" PRIu64 " entries_written=%" PRIu64
                 " entries_dropped=%" PRIu64 " daemon_entries_written=%" PRIu64 " daemon_entries_dropped=%" PRIu64
                 " output_errors=%" PRIu64 " records_orphan=%" PRIu64
                 " records_invalid=%" PRIu64 " conns_opened=%" PRIu64 " conns_refused=%" PRIu64
                 " memory_refused=%" PRIu64
                 " map_full=%" PRIu64 " filtered=%" PRIu64 " sampled_out=%" PRIu64 " rate_limited=%" PRIu64
                 " filtered_conns=%" PRIu64 " filtered_syscalls=%" PRIu64 " other_pidns=%" PRIu64 " tls_untied=%" PRIu64
                 " tls_tied_by_read=%" PRIu64 " tls_conns_evicted=%" PRIu64 " io_uring_sockets=%" PRIu64 "%s",
                 s->records, statistics_exchanges(s), s->exchanges_complete, s->exchanges_no_response,
                 s->exchanges_uncorrelated,
                 s->exchanges_lost, s->messages_lost, kernel[KERNEL_COUNTER_CLOSES_LOST],
                 kernel[KERNEL_COUNTER_EXCHANGES_LOST_UNSEEN], s->parse_errors, kernel[KERNEL_COUNTER_RINGBUF_DROPS], s->bytes_lost,
                 s->entries_written, s->entries_dropped, s->daemon_entries_written, s->daemon_entries_dropped,
                 s->output_errors, s->records_orphan,
                 s->records_invalid, s->conns_opened, s->conns_refused, s->memory_refused,
                 kernel[KERNEL_COUNTER_CONN_MAP_FULL] + kernel[KERNEL_COUNTER_ARGS_MAP_FULL], s->exchanges_filtered,
                 s->exchanges_sampled_out, s->exchanges_rate_limited,
                 kernel[KERNEL_COUNTER_FILTERED_CONNS], kernel[KERNEL_COUNTER_FILTERED_SYSCALLS],
                 kernel[KERNEL_COUNTER_OTHER_PIDNS], kernel[KERNEL_COUNTER_TLS_UNTIED],
                 kernel[KERNEL_COUNTER_TLS_TIED_BY_READ], kernel[KERNEL_COUNTER_TLS_CONNS_EVICTED],
                 kernel[KERNEL_COUNTER_IO_URING_SOCKETS], own);
}

void statistics_status(const Stats *s, const uint64_t kernel[static _KERNEL_COUNTER_MAX], size_t conns,
                       char *buf, size_t size) {
        snprintf(buf, size, "Tracing: %" PRIu64 " exchanges, %" PRIu64 " dropped, %zu connections",
                 statistics_exchanges(s), kernel[KERNEL_COUNTER_RINGBUF_DROPS] + s->entries_dropped, conns);
}
