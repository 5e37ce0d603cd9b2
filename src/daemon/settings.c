/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Settings (settings.h): the configuration in force and what is derived
 * from it, built by settings_new() for start and for every reload.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "config/diagnostics.h"
#include "daemon/settings.h"
#include "select/route-fold.h"

int settings_register_checks(void) {
        int r;

        r = redactor_register_config_checks();
        if (r < 0)
                return r;
        r = route_fold_register_config_checks();
        if (r < 0)
                return r;
        return output_register_config_checks();
}

int settings_load_config(const ConfigLoadOptions *load, Config **ret) {
        Diagnostics diags = {};
        int r;

        r = settings_register_checks();
        if (r < 0)
                return log_error_errno(r, "Failed to register the configuration checks: %m");
        r = config_load(load, ret, &diags);
        diagnostics_print(&diags, stderr);
        diagnostics_done(&diags);
        if (r == -EINVAL)
                return log_error_errno(r, "The configuration is not valid; nothing was started.");
        if (r < 0)
                return log_error_errno(r, "Failed to load the configuration: %m");
        return 0;
}

static void limits_from_config(const Config *c, Limits *ret, ProtocolLimits *ret_protocols) {
        ret_protocols->http1 = (Http1Limits) {
                .head_max = (size_t) c->limits.head_max,
                .fields_max = (size_t) c->limits.fields_max,
                .pipeline_max = (size_t) c->limits.pipeline_max,
        };
        ret_protocols->http2 = (Http2ConnLimits) {
                .streams_max = (size_t) c->limits.http2_streams_max,
                .header_block_max = (size_t) c->limits.http2_header_block_max,
                .continuations_max = (size_t) c->limits.http2_continuations_max,
                .fields_max = (size_t) c->limits.fields_max,
                .list_bytes_max = (size_t) c->limits.http2_header_list_max,
                .hpack_memory_max = (size_t) c->limits.http2_hpack_memory_max,
        };
        *ret = (Limits) {
                .conn_memory_max = (size_t) c->limits.conn_memory_max,
                .global_memory_max = (size_t) c->limits.global_memory_max,
                .conns_max = (size_t) c->limits.conns_max,
                .idle_timeout_ns = c->limits.idle_timeout_ns,
        };
}

Settings *settings_free(Settings *s) {
        if (!s)
                return NULL;
        kernel_filter_free(s->kernel_filter);
        selector_free(s->selector);
        metrics_free(s->metrics);
        route_fold_free(s->route_fold);
        format_options_free(s->format);
        redactor_free(s->redactor);
        config_free(s->config);
        return mfree(s);
}

int settings_new(const ConfigLoadOptions *load, Config *config, Settings **ret) {
        _cleanup_(config_freep) Config *c = config;
        _cleanup_(settings_freep) Settings *s = NULL;
        const Config *k;
        size_t n;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return log_oom();
        s->load = *load;
        s->config = TAKE_PTR(c);
        k = s->config;

        /* One Redactor: the manager masks the target with it, the format options headers and excerpts. */
        r = redactor_new_from_config(k, &s->redactor);
        if (r < 0)
                return log_error_errno(r, "Failed to set up redaction: %m");
        r = format_options_new_from_config(k, s->redactor, &s->format);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the fields.* settings: %m");
        r = output_options_from_config(k, &s->output);
        if (r < 0)
                return log_error_errno(r, "Invalid output settings: %m");
        r = selector_new(k, now_nsec(CLOCK_MONOTONIC), NULL, NULL, 0, &s->selector);
        if (r < 0)
                return log_error_errno(r, "Failed to set up filters, sampling and the rate limit: %m");
        r = kernel_filter_compile(k, &s->kernel_filter);
        if (r < 0)
                return log_error_errno(r, "Failed to compile the kernel filter: %m");
        r = route_fold_new(k->metrics.routes.items, k->metrics.routes.n, &s->route_fold);
        if (r < 0)
                return log_error_errno(r, "Failed to set up metrics.routes: %m");
        r = metrics_options_from_config(k, s->route_fold, &s->metrics_options);
        if (r >= 0)
                r = metrics_new(&s->metrics_options, &s->metrics);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the metrics: %m");

        limits_from_config(k, &s->limits, &s->protocol_limits);
        s->bpf = bpf_tracer_options_default;
        s->bpf.payload_max = (uint32_t) k->capture.payload_size;
        s->bpf.ringbuf_size = (uint32_t) k->capture.ring_buffer_size;
        s->bpf.conns_max = (uint32_t) k->capture.connections_max;
        s->bpf.wakeup_bytes = k->capture.ring_buffer_size / 8;
        s->bpf.tls = k->tls.enabled;
        s->bpf.tls_follow = k->tls.enabled && k->tls.follow_new_libraries;
        s->drain_interval_usec = MAX(k->capture.wakeup_delay_ns / NSEC_PER_USEC, UINT64_C(1000));
        s->stats_interval_usec = k->stats.interval_ns / NSEC_PER_USEC;

        n = MIN(k->files.n, (size_t) SETTINGS_SOURCES_MAX);
        for (size_t i = 0; i < n; i++)
                s->sources[i] = k->files.items[i];
        s->sources[n] = NULL;

        *ret = TAKE_PTR(s);
        return 0;
}

void settings_manager_options(const Settings *s, ManagerOptions *ret) {
        ManagerOptions o;

        manager_options_init(&o);
        o.output = s->output;
        o.bpf = s->bpf;
        o.limits = s->limits;
        o.protocol_limits = s->protocol_limits;
        o.drain_interval_usec = s->drain_interval_usec;
        o.redactor = s->redactor;
        o.format = s->format;
        o.config_sources = s->sources;
        o.stats_interval_usec = s->stats_interval_usec;
        o.metrics = s->metrics;
        o.reload = settings_reload;
        *ret = o;
}

int settings_start(Manager *m, Settings *s, bool kernel) {
        int r;

        manager_apply_selector(m, TAKE_PTR(s->selector));
        if (!kernel)
                return 0;
        r = manager_apply_kernel_filter(m, TAKE_PTR(s->kernel_filter));
        if (r < 0)
                return r;
        return 0;
}

/* The errors among the diagnostics, formatted, for the caller of a reload (at least one line). */
static char **error_lines(const Diagnostics *diags) {
        char **errors = calloc(diags->n + 2, sizeof(char *));
        size_t k = 0;

        for (size_t i = 0; errors && i < diags->n; i++)
                if (diags->items[i].severity == DIAGNOSTIC_ERROR &&
                    diagnostic_format(&diags->items[i], &errors[k]) >= 0)
                        k++;
        if (errors && k == 0)
                errors[k++] = strdup("the configuration could not be loaded");
        return errors;
}

int settings_reload(Manager *m, void *userdata, char ***ret_errors) {
        Settings **current = ASSERT_PTR(userdata);
        Settings *old = ASSERT_PTR(*current);
        _cleanup_(settings_freep) Settings *s = NULL;
        Config *c = NULL;
        Diagnostics diags = {};
        char **changed = NULL, **restart = NULL;
        int r;

        r = config_load(&old->load, &c, &diags);
        if (r < 0) {
                *ret_errors = error_lines(&diags);
                diagnostics_done(&diags);
                return r;
        }
        diagnostics_done(&diags);

        r = settings_new(&old->load, c, &s);
        if (r < 0)
                return r;
        r = config_diff(old->config, s->config, &changed, &restart);
        if (r < 0)
                return r;
        /* The one step that can fail while applying: first, so that a failure leaves everything as it was. */
        r = manager_apply_kernel_filter(m, TAKE_PTR(s->kernel_filter));
        if (r < 0) {
                strv_free(changed);
                strv_free(restart);
                return r;
        }
        for (char **k = restart; k && *k; k++)
                log_warning("Setting %s changed, but takes effect only after a restart; keeping the running value.", *k);
        for (char **k = changed; k && *k; k++)
                log_info("Setting %s changed.", *k);
        strv_free(changed);
        strv_free(restart);

        /* The counters stay: the running table goes on with the new templates and textfile settings. */
        metrics_free(s->metrics);
        s->metrics = TAKE_PTR(old->metrics);
        r = metrics_apply(s->metrics, &s->metrics_options);
        if (r < 0)
                log_warning_errno(r, "Failed to apply the metrics.* settings, ignoring: %m");

        log_set_max_level(s->config->log.level);
        manager_apply_limits(m, &s->limits, &s->protocol_limits);
        manager_apply_stats_interval(m, s->stats_interval_usec);
        manager_apply_redactor(m, s->redactor);
        manager_apply_selector(m, TAKE_PTR(s->selector));
        manager_apply_format(m, s->format);
        manager_apply_config_sources(m, s->sources);

        /* The manager holds nothing of the old settings any more. */
        settings_free(old);
        *current = TAKE_PTR(s);
        return 0;
}
