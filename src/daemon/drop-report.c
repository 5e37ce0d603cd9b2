/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The drop warnings and reconnect notices; see drop-report.h. */

#include <inttypes.h>
#include <string.h>

#include "basic/log.h"
#include "daemon/drop-report.h"
#include "output/daemon-entries.h"

/*
 * Would a drop warning on stderr be a second copy? Under systemd stderr is
 * the journal, where the structured warning lands too (with the journal
 * output): `journalctl -u http-tracer` would show each one twice. In a
 * terminal, or without the journal output, the stderr line is kept.
 */
static bool warning_on_stderr(const OutputSinkStats *sinks, size_t n) {
        if (!log_stderr_is_journal())
                return true;
        for (size_t i = 0; i < n; i++)
                if (strcmp(sinks[i].name, "journal") == 0)
                        return false;
        return true;
}

void drop_report_run(DropReport *d, Output *o, const uint64_t *kernel, FormatEntry *e, DropReportEmit emit,
                     void *userdata) {
        const OutputSinkStats *sinks;
        size_t n = output_sinks(o, &sinks);
        bool on_stderr = warning_on_stderr(sinks, n);

        if (kernel && kernel[KERNEL_COUNTER_RINGBUF_DROPS] > d->ringbuf) {
                FormatDrops w = {
                        .reason = FORMAT_DROP_RING_BUFFER,
                        .dropped = kernel[KERNEL_COUNTER_RINGBUF_DROPS] - d->ringbuf,
                        .total = kernel[KERNEL_COUNTER_RINGBUF_DROPS],
                };

                if (on_stderr)
                        log_warning("%" PRIu64 " records dropped in the kernel since the last report: the ring buffer was full. "
                                    "Their bytes are reported as gaps; affected exchanges are flagged.", w.dropped);
                d->ringbuf = w.total;
                emit(userdata, format_drops(e, &w), "drop warning");
        }

        /* A receiver that went away and came back (journald restarted): said once per reconnection. */
        n = output_sinks(o, &sinks);
        for (size_t i = 0; i < n && i < OUTPUT_SINKS_MAX; i++)
                if (sinks[i].reconnects > d->sink_reconnects[i]) {
                        log_notice("Reconnected to the %s output (%s): %" PRIu64 " time(s) since start or stats-reset.",
                                   sinks[i].name, sinks[i].target, sinks[i].reconnects);
                        d->sink_reconnects[i] = sinks[i].reconnects;
                }

        /* Which output dropped: each sink counts its own losses, exchange entries and the daemon's apart. */
        for (size_t i = 0; i < n && i < OUTPUT_SINKS_MAX; i++) {
                FormatDrops w;

                (void) output_sinks(o, &sinks);    /* the warning sent below changes them */
                if (sinks[i].dropped <= d->sink_dropped[i] && sinks[i].daemon_dropped <= d->sink_daemon_dropped[i])
                        continue;
                w = (FormatDrops) {
                        .reason = FORMAT_DROP_OUTPUT_QUEUE,
                        .dropped = sinks[i].dropped - d->sink_dropped[i],
                        .total = sinks[i].dropped,
                        .daemon_dropped = sinks[i].daemon_dropped - d->sink_daemon_dropped[i],
                        .output = sinks[i].name,
                };
                if (on_stderr)
                        log_warning("%" PRIu64 " exchange entries and %" PRIu64 " of the daemon's own entries dropped "
                                    "since the last report: the %s output (%s) did not keep up (queue full or receiver gone).",
                                    w.dropped, w.daemon_dropped, sinks[i].name, sinks[i].target);
                /* Reported up to here before sending: if this warning is dropped too, the next one says so. */
                d->sink_dropped[i] = sinks[i].dropped;
                d->sink_daemon_dropped[i] = sinks[i].daemon_dropped;
                emit(userdata, format_drops(e, &w), "drop warning");
        }
}
