/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon: one sd-event loop around the BPF ring buffer (its epoll fd,
 * plus a drain timer that bounds the delay of batched wakeups), the
 * connection table, the output, signals, readiness and housekeeping. Also
 * the replay path, which runs the same pipeline from a recording.
 */
#pragma once

#include <stdint.h>

#include "capture/bpf-object.h"
#include "conn/protocol.h"
#include "conn/stats.h"
#include "protocols/registry.h"
#include "output/output.h"
#include "capture/kernel-filter.h"

typedef struct Manager Manager;

/*
 * Re-read the configuration and apply it through manager_apply_*(). 0 on
 * success; otherwise negative errno and, optionally, a NULL-terminated
 * malloc()ed list of problems (FILE:LINE:COLUMN: message) the caller frees.
 * The running configuration must stay in force on failure.
 */
typedef int (*ManagerReloadFn)(Manager *m, void *userdata, char ***ret_errors);

typedef struct ManagerOptions {
        OutputOptions output;             /* sinks; see output_options_from_config() */
        const char *record_path;          /* NULL: no recording */
        BpfTracerOptions bpf;
        Limits limits;                    /* the connection layer's caps */
        ProtocolLimits protocol_limits;   /* each protocol's own caps */
        uint64_t drain_interval_usec;     /* upper bound on the delay before records are read */
        const struct Redactor *redactor;  /* masks secrets in every exchange before any output; NULL: none */
        const struct FormatOptions *format;/* optional fields and priorities for the output; NULL: defaults */
        ManagerReloadFn reload;           /* SIGHUP and the control socket's reload; NULL: not supported */
        void *reload_userdata;
        const char *const *config_sources;/* files the configuration came from, for status */
        uint64_t stats_interval_usec;     /* periodic statistics entries; 0: none */
        struct Metrics *metrics;          /* fed every exchange the filters pass (daemon/metrics.h); borrowed; NULL: none */
} ManagerOptions;

void manager_options_init(ManagerOptions *o);

int manager_new(const ManagerOptions *o, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Trace the host until SIGTERM/SIGINT. Returns 0 on a clean stop. */
int manager_run(Manager *m);
/* Feed a recording through the pipeline. */
int manager_replay(Manager *m, const char *path);

const Stats *manager_stats(const Manager *m);

/* Live changes, applied between two records: nothing in flight is lost. */
void manager_apply_limits(Manager *m, const Limits *limits, const ProtocolLimits *protocol_limits);
void manager_apply_redactor(Manager *m, const struct Redactor *r);
/* Takes ownership of s (built from the configuration in force; NULL: log everything). */
struct Selector;
void manager_apply_selector(Manager *m, struct Selector *s);
void manager_apply_format(Manager *m, const struct FormatOptions *f);
void manager_apply_stats_interval(Manager *m, uint64_t usec);
void manager_apply_config_sources(Manager *m, const char *const *sources);
/*
 * The kernel filter (takes ownership of f; NULL: none). Units are resolved
 * to cgroups first; once tracing, the kernel switches to f atomically. On
 * failure the running filter stays in force and f is freed.
 */
int manager_apply_kernel_filter(Manager *m, KernelFilter *f);
