/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's event loop; see manager.h. The loop's callbacks (ring buffer,
 * timers, signals, control socket) and the live changes they apply share
 * Manager's private state; the kernel filter's cgroup upkeep is
 * daemon/filter-upkeep.c.
 */

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <sys/stat.h>
#include <time.h>

#include "basic/capability.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "capture/recording.h"
#include "capture/records.h"
#include "conn/conn.h"
#include "daemon/control.h"
#include "daemon/control-services.h"
#include "daemon/drop-report.h"
#include "daemon/filter-upkeep.h"
#include "daemon/manager.h"
#include "daemon/metrics.h"
#include "daemon/statistics-log.h"
#include "output/daemon-entries.h"
#include "output/fields.h"
#include "protocols/registry.h"
#include "select/redact.h"
#include "select/selector.h"

/* Statistics, idle expiry and drop warnings run this often. */
#define HOUSEKEEPING_INTERVAL_USEC (1 * USEC_PER_SEC)
/* At shutdown, wait at most this long for the output to take what is queued. */
#define SHUTDOWN_FLUSH_USEC (2 * USEC_PER_SEC)

struct Manager {
        ManagerOptions opts;
        Stats stats;

        sd_event *event;
        sd_event_source *ring_source;
        sd_event_source *drain_timer;
        sd_event_source *housekeeping_timer;
        sd_event_source *sigterm_source, *sigint_source, *sighup_source;
        sd_event_source *sigusr1_source;    /* output_reopen(): logrotate's postrotate */
        ControlServer *control;
        uint64_t start_usec;
        const char *state;

        BpfTracer *tracer;
        KernelFilter *kfilter;              /* in force in the kernel (or to be, before start) */
        ConnTable *conns;
        Output *output;
        Recorder *recorder;
        Selector *selector;                 /* NULL: every exchange is logged */
        FormatEntry own;                    /* the daemon's own entries: statistics, drops, rate-limit summaries */
        uint64_t stats_last_usec;           /* when the last statistics entry was due */
        size_t conns_peak;                  /* most connections tracked since the last malloc_trim() */
        bool replaying;                     /* time is the recording's, not the clock's */

        uint64_t kernel[_KERNEL_COUNTER_MAX];       /* last read of the kernel's counters, since kernel_base */
        uint64_t kernel_base[_KERNEL_COUNTER_MAX];  /* their raw values at the last stats-reset */
        DropReport drops;                   /* what the drop warnings said so far */
        /* at stop: what was tracked before the pending connections were finished, for the last statistics */
        size_t final_conns, final_memory;
        bool final_known;
};

/*
 * The kernel's counters since the last stats-reset, into m->kernel. The
 * exchanges lost with their whole connection are counted by the kernel
 * alone (no record told us of them): they join exchanges_lost here, so that
 * exchanges = entries + exchanges_lost wherever exchanges_lost is read.
 */
static int read_kernel(Manager *m) {
        uint64_t raw[_KERNEL_COUNTER_MAX], unseen = m->kernel[KERNEL_COUNTER_EXCHANGES_LOST_UNSEEN];
        int r;

        r = bpf_tracer_read_counters(m->tracer, raw);
        if (r < 0)
                return r;
        for (size_t i = 0; i < _KERNEL_COUNTER_MAX; i++)
                m->kernel[i] = raw[i] >= m->kernel_base[i] ? raw[i] - m->kernel_base[i] : 0;
        if (m->kernel[KERNEL_COUNTER_EXCHANGES_LOST_UNSEEN] > unseen)
                m->stats.exchanges_lost += m->kernel[KERNEL_COUNTER_EXCHANGES_LOST_UNSEEN] - unseen;
        return 0;
}

void manager_options_init(ManagerOptions *o) {
        *o = (ManagerOptions) {
                .output = output_options_single(OUTPUT_JOURNAL),
                .bpf = bpf_tracer_options_default,
                .limits = limits_default,
                .protocol_limits = { .http1 = http1_limits_default, .http2 = http2_limits_default },
                /* Records wait at most 10 ms in the ring buffer when no wakeup comes. */
                .drain_interval_usec = 10 * 1000,
        };
}

/* "Now" for decisions that depend on time: the recording's clock during a replay. */
static uint64_t manager_now_ns(Manager *m) {
        return m->replaying ? conn_table_last_timestamp(m->conns) : now_nsec(CLOCK_MONOTONIC);
}

static bool select_exchange(Manager *m, const Exchange *x) {
        SelectVerdict v = m->selector ? selector_decide(m->selector, x, manager_now_ns(m)) : SELECT_KEEP;

        /* The metrics count what the filters let through, before sampling and the rate limit (docs/metrics.md). */
        if (v != SELECT_FILTERED)
                metrics_feed(m->opts.metrics, x);
        switch (v) {
        case SELECT_KEEP:
                return true;
        case SELECT_FILTERED:
                m->stats.exchanges_filtered++;
                break;
        case SELECT_SAMPLED_OUT:
                m->stats.exchanges_sampled_out++;
                break;
        case SELECT_RATE_LIMITED:
                m->stats.exchanges_rate_limited++;
                break;
        default:
                return true;
        }
        return false;
}

/* Send the daemon's own entry in m->own to every output; failures are the outputs' counted drops. */
static void emit_own_entry(void *userdata, int format_result, const char *what) {
        Manager *m = ASSERT_PTR(userdata);
        int r = format_result;

        if (r >= 0)
                r = output_entry(m->output, &m->own);
        if (r < 0)
                log_debug_errno(r, "Failed to write the %s entry: %m", what);
}

/* Report what the rate limit refused, once its interval is over (or now, with force). */
static void emit_rate_limit_summary(Manager *m, bool force) {
        RateLimitSummary sum;
        int r;

        if (!m->selector || !selector_take_summary(m->selector, manager_now_ns(m), force, &sum))
                return;
        r = format_rate_limit_summary(&m->own, sum.refused, sum.passed, sum.interval_ns, sum.per_second,
                                      sum.burst);
        if (r >= 0)
                r = output_entry(m->output, &m->own);
        if (r < 0)
                log_warning_errno(r, "Failed to write the rate-limit summary (%" PRIu64 " exchanges not logged): %m",
                                  sum.refused);
}

static int on_exchange(void *userdata, const Exchange *x) {
        Manager *m = ASSERT_PTR(userdata);
        _cleanup_(freep) char *target = NULL;
        HttpMessage req;
        Exchange copy;

        if (!select_exchange(m, x))
                return 0;

        x = redactor_exchange(m->opts.redactor, x, &copy, &req, &target);

        /*
         * The output counts what it cannot deliver (entries_dropped,
         * output_errors) and the housekeeping timer reports it; an error here
         * must not travel back into the parser or be logged per entry.
         */
        (void) output_exchange(m->output, x);
        return 0;
}

static void on_forget(void *userdata, const ConnInfo *info, bool reannounce) {
        Manager *m = ASSERT_PTR(userdata);

        bpf_tracer_forget(m->tracer, info, reannounce);
}

static int on_record(void *userdata, const void *data, size_t size) {
        Manager *m = ASSERT_PTR(userdata);
        int r;

        if (m->recorder) {
                r = recorder_write(m->recorder, data, size);
                if (r < 0)
                        log_error_errno(r, "Failed to write to the recording %s, recording stopped: %m",
                                        m->opts.record_path);
        }
        r = records_dispatch(m->conns, &m->stats, data, size);
        if (r < 0)
                log_warning_errno(r, "Failed to process a record, ignoring: %m");
        return 0;
}

int manager_new(const ManagerOptions *o, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        ExchangeSink sink;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return log_oom();
        m->opts = *o;

        sink = (ExchangeSink) { .emit = on_exchange, .userdata = m };
        r = conn_table_new(&m->opts.limits, &m->stats, &sink, &m->conns);
        if (r >= 0)
                r = protocol_registry_set_limits(m->conns, &m->opts.protocol_limits);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the connection table: %m");
        conn_table_set_forget(m->conns, on_forget, m);

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->ring_source);
        sd_event_source_disable_unref(m->drain_timer);
        sd_event_source_disable_unref(m->housekeeping_timer);
        sd_event_source_disable_unref(m->sigterm_source);
        sd_event_source_disable_unref(m->sigint_source);
        sd_event_source_disable_unref(m->sighup_source);
        sd_event_source_disable_unref(m->sigusr1_source);
        control_server_free(m->control);
        conn_table_free(m->conns);
        output_free(m->output);
        selector_free(m->selector);
        (void) recorder_close(m->recorder);
        bpf_tracer_free(m->tracer);
        kernel_filter_free(m->kfilter);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

const Stats *manager_stats(const Manager *m) {
        return &m->stats;
}

void manager_apply_limits(Manager *m, const Limits *limits, const ProtocolLimits *protocol_limits) {
        m->opts.limits = *limits;
        m->opts.protocol_limits = *protocol_limits;
        conn_table_set_limits(m->conns, limits);
        (void) protocol_registry_set_limits(m->conns, protocol_limits); /* no allocation: cannot fail */
}

void manager_apply_redactor(Manager *m, const Redactor *r) {
        m->opts.redactor = r;
}

void manager_apply_selector(Manager *m, Selector *s) {
        /* The rate limit's tokens and unreported counts carry over: a reload neither resets nor loses them. */
        if (s && !selector_keeps_all(s))
                selector_take_over(s, m->selector, manager_now_ns(m));
        else {
                /* No more limit: what the old one refused is reported now. */
                emit_rate_limit_summary(m, true);
                s = selector_free(s);
        }
        selector_free(m->selector);
        m->selector = s;
}

void manager_apply_format(Manager *m, const FormatOptions *f) {
        m->opts.format = f;
        output_set_format(m->output, f);
}

void manager_apply_stats_interval(Manager *m, uint64_t usec) {
        m->opts.stats_interval_usec = usec;
}

void manager_apply_config_sources(Manager *m, const char *const *sources) {
        m->opts.config_sources = sources;
}

int manager_apply_kernel_filter(Manager *m, KernelFilter *f) {
        _cleanup_(kernel_filter_freep) KernelFilter *new = f;
        int r;

        r = filter_upkeep_install(m->tracer, new);
        if (r < 0)
                return r;
        kernel_filter_free(m->kfilter);
        m->kfilter = TAKE_PTR(new);
        return 0;
}

/* Validate and apply a new configuration; the old one stays on any error. */
static int manager_reload(Manager *m, char ***ret_errors) {
        int r;

        if (!m->opts.reload)
                return -EOPNOTSUPP;

        m->state = "reloading";
        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=Reloading configuration",
                          now_usec(CLOCK_MONOTONIC));
        r = m->opts.reload(m, m->opts.reload_userdata, ret_errors);
        m->state = "running";
        (void) sd_notify(false, "READY=1");
        if (r < 0)
                return log_error_errno(r, "Reloading the configuration failed, the running configuration stays in force: %m");
        log_info("Configuration reloaded.");
        return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = ASSERT_PTR(userdata);
        char **errors = NULL;

        (void) manager_reload(m, &errors);
        for (char **e = errors; e && *e; e++) {
                log_error("%s", *e);
                free(*e);
        }
        free(errors);
        return 0;
}

static int on_control_status(void *userdata, ControlStatus *ret) {
        Manager *m = ASSERT_PTR(userdata);

        if (m->tracer)
                (void) read_kernel(m);
        *ret = (ControlStatus) {
                .version = PROJECT_VERSION,
                .uptime_usec = now_usec(CLOCK_MONOTONIC) - m->start_usec,
                .state = m->state ?: "running",
                .config_sources = m->opts.config_sources,
                .programs_attached = bpf_tracer_programs_attached(m->tracer),
                .stats = &m->stats,
                .kernel = m->kernel,
                .connections_tracked = conn_table_size(m->conns),
                .memory_bytes = conn_table_memory(m->conns),
                .bpf_map_bytes = bpf_tracer_map_memory(m->tracer),
                .ringbuf_size_bytes = m->tracer ? m->opts.bpf.ringbuf_size : 0,
                .ringbuf_used_bytes = bpf_tracer_ringbuf_used(m->tracer),
        };
        ret->n_outputs = output_sinks(m->output, &ret->outputs);
        return 0;
}

static int on_control_reload(void *userdata, const ControlPeer *peer, char ***ret_errors) {
        Manager *m = ASSERT_PTR(userdata);
        int r;

        r = manager_reload(m, ret_errors);
        for (char **e = ret_errors ? *ret_errors : NULL; e && *e; e++)
                log_error("%s", *e);
        return r;
}

static int on_control_stats_reset(void *userdata, const ControlPeer *peer) {
        Manager *m = ASSERT_PTR(userdata);
        uint64_t active = m->stats.conns_active, queued = m->stats.entries_queued;

        /* Gauges keep their value; cumulative counters start again: ours, the kernel's, each output's. */
        m->stats = (Stats) { .conns_active = active, .entries_queued = queued };
        if (m->tracer)
                (void) bpf_tracer_read_counters(m->tracer, m->kernel_base);
        memset(m->kernel, 0, sizeof(m->kernel));
        output_stats_reset(m->output);
        drop_report_reset(&m->drops);
        log_info("Statistics reset (by pid %d).", (int) peer->pid);
        return 0;
}

static void on_control_services(void *userdata, const ControlStatus *st, JsonBuild *b) {
        control_services_build(b, st, ((Manager *) ASSERT_PTR(userdata))->opts.metrics);
}

static const ControlCallbacks control_callbacks = {
        .status = on_control_status,
        .services = on_control_services,
        .reload = on_control_reload,
        .stats_reset = on_control_stats_reset,
};

static int open_output(Manager *m, sd_event *event) {
        int r;

        r = output_new(&m->opts.output, event, &m->stats, &m->output);
        if (r == -ENOENT && (m->opts.output.sinks & OUTPUT_SINK(OUTPUT_JOURNAL)))
                return log_error_errno(r, "journald is not running (its socket /run/systemd/journal/socket is missing). "
                                       "Start systemd-journald, or use --output json to print entries on stdout.");
        if (r == -EADDRNOTAVAIL && (m->opts.output.sinks & OUTPUT_SINK(OUTPUT_SYSLOG)))
                return log_error_errno(r, "The host of output.syslog.target does not resolve.");
        if (r < 0)
                return log_error_errno(r, "Failed to set up the outputs%s%s: %m",
                                       m->opts.output.json_path ? " (json to " : "", m->opts.output.json_path ? m->opts.output.json_path : "");
        output_set_format(m->output, m->opts.format);
        return 0;
}

/* SIGUSR1: reopen output files after logrotate renamed them. */
static int on_sigusr1(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = ASSERT_PTR(userdata);
        int r;

        r = output_reopen(m->output);
        if (r < 0)
                log_error_errno(r, "Failed to reopen the output file, still writing to the old one: %m");
        else
                log_debug("Output files reopened.");
        return 0;
}

static void drain(Manager *m) {
        int r;

        r = bpf_tracer_consume(m->tracer);
        if (r < 0 && r != -EINTR)
                log_warning_errno(r, "Failed to read the ring buffer, ignoring: %m");
}

static int on_ring(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = ASSERT_PTR(userdata);

        drain(m);
        return 0;
}

static int on_drain_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = ASSERT_PTR(userdata);
        int r;

        drain(m);
        r = sd_event_source_set_time_relative(s, m->opts.drain_interval_usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0)
                return log_error_errno(r, "Failed to re-arm the drain timer: %m");
        return 0;
}

/* Warn about what was dropped since the last report: in the kernel, and per output. */
static void report_drops(Manager *m) {
        if (m->tracer)
                (void) read_kernel(m);
        drop_report_run(&m->drops, m->output, m->tracer ? m->kernel : NULL, &m->own, emit_own_entry, m);
}

/* The periodic statistics entry (stats.interval; with force, now: at stop). */
static void emit_statistics(Manager *m, bool force) {
        FormatOutputStats outs[FORMAT_STATISTICS_OUTPUTS_MAX];
        const OutputSinkStats *sinks;
        FormatStatistics st;
        size_t n;

        if (!force && !format_statistics_due(now_usec(CLOCK_MONOTONIC), m->opts.stats_interval_usec,
                                             &m->stats_last_usec))
                return;
        n = MIN(output_sinks(m->output, &sinks), ELEMENTSOF(outs));
        for (size_t i = 0; i < n; i++)
                outs[i] = (FormatOutputStats) {
                        .name = sinks[i].name,
                        .written = sinks[i].written,
                        .dropped = sinks[i].dropped,
                        .queued = sinks[i].queued,
                };
        if (m->tracer)
                (void) read_kernel(m);
        st = (FormatStatistics) {
                .stats = &m->stats,
                .kernel = m->kernel,
                .outputs = outs,
                .n_outputs = n,
                .connections_tracked = m->final_known ? m->final_conns : conn_table_size(m->conns),
                .memory_bytes = m->final_known ? m->final_memory : conn_table_memory(m->conns),
                .interval_usec = m->opts.stats_interval_usec,
        };
        emit_own_entry(m, format_statistics(&m->own, &st), "statistics");
}

/*
 * glibc keeps freed heap memory for reuse; after thousands of connections
 * went away (a burst ended, idle ones expired) give it back, so RSS returns
 * to its baseline instead of staying at the peak.
 */
#define TRIM_AFTER_CONNS 1024u
static void trim_memory(Manager *m) {
        size_t n = conn_table_size(m->conns);

        if (n > m->conns_peak)
                m->conns_peak = n;
        else if (n + TRIM_AFTER_CONNS <= m->conns_peak) {
                (void) malloc_trim(0);
                m->conns_peak = n;
        }
}

static int on_housekeeping(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = ASSERT_PTR(userdata);
        char status[256];
        int r;

        conn_table_expire(m->conns, now_nsec(CLOCK_MONOTONIC));
        emit_rate_limit_summary(m, false);
        filter_upkeep_refresh(m->tracer, m->kfilter);
        if (m->opts.bpf.tls_follow && (r = bpf_tracer_rescan(m->tracer)) < 0)
                log_warning_errno(r, "Failed to look for new TLS libraries, ignoring: %m");

        report_drops(m);
        emit_statistics(m, false);
        trim_memory(m);

        statistics_status(&m->stats, m->kernel, conn_table_size(m->conns), status, sizeof(status));
        (void) sd_notifyf(false, "STATUS=%s", status);

        r = sd_event_source_set_time_relative(s, HOUSEKEEPING_INTERVAL_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0)
                return log_error_errno(r, "Failed to re-arm the housekeeping timer: %m");
        return 0;
}

static int setup_signals(Manager *m) {
        static const struct sigaction sa_default = { .sa_handler = SIG_DFL };
        sigset_t mask;
        int r;

        /*
         * A shell starts background jobs with SIGINT ignored, and an ignored
         * signal never reaches a signalfd: restore the default disposition
         * (harmless while the signal is blocked) so a stop request always arrives.
         */
        if (sigaction(SIGINT, &sa_default, NULL) < 0 || sigaction(SIGTERM, &sa_default, NULL) < 0 ||
            sigaction(SIGHUP, &sa_default, NULL) < 0 || sigaction(SIGUSR1, &sa_default, NULL) < 0)
                return log_error_errno(errno, "Failed to reset signal handlers: %m");

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGUSR1);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");

        r = sd_event_add_signal(m->event, &m->sigterm_source, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigint_source, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sighup_source, SIGHUP, on_sighup, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigusr1_source, SIGUSR1, on_sigusr1, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIGTERM/SIGINT/SIGHUP/SIGUSR1: %m");
        return 0;
}

int manager_run(Manager *m) {
        char status[256];
        pid_t owner = 0;
        int r;

        r = sd_event_new(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to create the event loop: %m");
        r = setup_signals(m);
        if (r < 0)
                return r;
        (void) sd_event_set_watchdog(m->event, true);

        r = open_output(m, m->event);
        if (r < 0)
                return r;

        /*
         * One tracer per host: a second one is refused, naming the first,
         * before the programs are loaded (after the output, whose own
         * errors come first).
         */
        r = control_socket_owner(NULL, &owner);
        if (r > 0)
                return log_error_errno(EADDRINUSE,
                                       "Another http-tracer (pid %d) is already running here: it answers on %s. "
                                       "Refusing to start a second one; stop it first, or run this one in a mount "
                                       "namespace of its own with its own /run/http-tracer.",
                                       (int) owner, CONTROL_SOCKET_PATH);

        if (m->opts.record_path) {
                r = recorder_open(m->opts.record_path, m->opts.bpf.payload_max, &m->recorder);
                if (r < 0)
                        return log_error_errno(r, "Failed to create the recording %s: %m", m->opts.record_path);
        }

        m->opts.bpf.filter = m->kfilter;
        r = bpf_tracer_new(&m->opts.bpf, on_record, m, &m->tracer);
        if (r < 0)
                return r;   /* logged */

        r = sd_event_add_io(m->event, &m->ring_source, bpf_tracer_epoll_fd(m->tracer), EPOLLIN, on_ring, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the ring buffer: %m");
        r = sd_event_add_time_relative(m->event, &m->drain_timer, CLOCK_MONOTONIC,
                                       m->opts.drain_interval_usec, 1000, on_drain_timer, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the drain timer: %m");
        r = sd_event_add_time_relative(m->event, &m->housekeeping_timer, CLOCK_MONOTONIC,
                                       HOUSEKEEPING_INTERVAL_USEC, 100 * 1000, on_housekeeping, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the housekeeping timer: %m");
        if (m->opts.metrics && (r = metrics_start(m->opts.metrics, m->event, on_control_status, m)) < 0)
                return r;

        /*
         * The control socket (passed by socket activation, or created under
         * /run/http-tracer), then give up every capability: attached programs
         * keep delivering and the map fds we hold keep working.
         */
        m->start_usec = now_usec(CLOCK_MONOTONIC);
        if (mkdir("/run/http-tracer", 0755) < 0 && errno != EEXIST)
                log_debug_errno(errno, "Failed to create /run/http-tracer, ignoring: %m");
        r = control_server_new(m->event, &control_callbacks, m, NULL, &m->control);
        if (r == -EADDRINUSE)     /* one started since the check above */
                return log_error_errno(r, "Another http-tracer started meanwhile: it answers on %s. Exiting.",
                                       CONTROL_SOCKET_PATH);
        if (r < 0)
                log_warning_errno(r, "Failed to set up the control socket %s, continuing without it: %m",
                                  CONTROL_SOCKET_PATH);
        /* Following new TLS libraries attaches later: it keeps what that needs (docs/security.md). */
        r = capability_drop_all_but(m->opts.bpf.tls_follow ? CAPABILITIES_TLS_FOLLOW : 0, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to drop capabilities: %m");

        {
                _cleanup_(freep) char *what = NULL;
                char protocols[128];

                (void) kernel_filter_describe(m->kfilter, &what);
                log_info("Tracing %s on %s%s (%u BPF programs attached, output %s, %u bytes captured per syscall).",
                         protocol_registry_describe(protocols, sizeof(protocols)),
                         what ? "TCP sockets that pass the kernel filter: " : "all TCP sockets", what ?: "",
                         bpf_tracer_programs_attached(m->tracer), output_describe(m->output, status, sizeof(status)),
                         m->opts.bpf.payload_max);
        }
        /*
         * Start-up freed more than it keeps: libbpf parsed the kernel's BTF
         * for CO-RE and the TLS source read ELF files, several MiB that glibc
         * would otherwise hold in the heap for the daemon's whole life
         * (measured: RSS idle 18.1 -> see the commit).
         */
        (void) malloc_trim(0);
        statistics_status(&m->stats, m->kernel, conn_table_size(m->conns), status, sizeof(status));
        (void) sd_notifyf(false, "READY=1\nSTATUS=%s", status);

        r = sd_event_loop(m->event);
        if (r < 0)
                log_error_errno(r, "Event loop failed: %m");

        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping: flushing entries");
        /* What the kernel wrote before we stop reading still counts. */
        drain(m);
        /* the last statistics say what was tracked when we stopped, not the empty table after finishing it */
        m->final_conns = conn_table_size(m->conns);
        m->final_memory = conn_table_memory(m->conns);
        m->final_known = true;
        conn_table_finish_all(m->conns, now_nsec(CLOCK_MONOTONIC), EXCHANGE_END_SHUTDOWN);
        emit_rate_limit_summary(m, true);
        (void) output_flush(m->output, SHUTDOWN_FLUSH_USEC);
        /* What the last second lost is reported too, and the final counters. */
        report_drops(m);
        if (m->opts.stats_interval_usec > 0)
                emit_statistics(m, true);
        (void) output_flush(m->output, SHUTDOWN_FLUSH_USEC);
        if (m->tracer)
                (void) read_kernel(m);
        statistics_log(&m->stats, m->kernel);

        /* Detach everything before returning: no program stays loaded after we exit. */
        m->ring_source = sd_event_source_disable_unref(m->ring_source);
        m->tracer = bpf_tracer_free(m->tracer);
        if (m->recorder) {
                int k = recorder_close(TAKE_PTR(m->recorder));
                if (k < 0)
                        log_error_errno(k, "Failed to complete the recording %s: %m", m->opts.record_path);
        }
        return r < 0 ? r : 0;
}

static int on_replay_record(void *userdata, const void *data, size_t size) {
        Manager *m = ASSERT_PTR(userdata);
        int r;

        r = records_dispatch(m->conns, &m->stats, data, size);
        if (r < 0)
                return log_error_errno(r, "Failed to process a recorded record: %m");
        return 0;
}

int manager_replay(Manager *m, const char *path) {
        int r;

        r = open_output(m, NULL);
        if (r < 0)
                return r;

        m->replaying = true;
        r = replay_file(path, NULL, on_replay_record, m);
        if (r == -EBADMSG)
                return log_error_errno(r, "%s is not a recording this version can read (bad header, ABI version, "
                                       "or a truncated record).", path);
        if (r < 0)
                return log_error_errno(r, "Failed to replay %s: %m", path);

        conn_table_finish_all(m->conns, conn_table_last_timestamp(m->conns), EXCHANGE_END_SHUTDOWN);
        emit_rate_limit_summary(m, true);
        (void) output_flush(m->output, SHUTDOWN_FLUSH_USEC);
        if (m->tracer)
                (void) read_kernel(m);
        statistics_log(&m->stats, m->kernel);
        return 0;
}
