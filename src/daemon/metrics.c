/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The service table and its node_exporter textfile; see metrics.h. */

#define _GNU_SOURCE 1   /* asprintf(), mkostemp() */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "basic/log.h"
#include "daemon/metrics.h"

struct Metrics {
        ServiceTable *table;
        uint64_t since_usec;

        bool enabled;
        char *directory;
        uint64_t interval_usec;

        sd_event_source *timer;
        int (*status)(void *userdata, ControlStatus *ret);
        void *status_userdata;

        char *written;                      /* the textfile we wrote last: removed when no longer ours */
        int last_error;                     /* the last write's failure, logged once until it changes */
};

int metrics_options_from_config(const Config *c, const RouteFold *routes, MetricsOptions *ret) {
        MetricsOptions o = {
                .table = {
                        .services_max = (size_t) c->metrics.services_max,
                        .routes_max = (size_t) c->metrics.routes_max,
                },
                .routes = routes,
                .enabled = c->metrics.enabled,
                .directory = c->metrics.textfile_directory,
                .interval_usec = c->metrics.interval_ns / NSEC_PER_USEC,
        };

        if (c->metrics.buckets.n == 0 || c->metrics.buckets.n > SERVICE_BOUNDS_MAX)
                return -EINVAL;
        for (size_t i = 0; i < c->metrics.buckets.n; i++) {
                uint64_t ns;

                if (parse_duration_ns(c->metrics.buckets.items[i], &ns) < 0 || ns < NSEC_PER_USEC)
                        return -EINVAL;
                o.table.bounds_usec[i] = ns / NSEC_PER_USEC;
        }
        o.table.n_bounds = c->metrics.buckets.n;
        *ret = o;
        return 0;
}

static void remove_written(Metrics *m) {
        if (m->written && unlink(m->written) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Failed to remove the metrics textfile %s, ignoring: %m", m->written);
        m->written = mfree(m->written);
}

static int set_textfile(Metrics *m, const MetricsOptions *o) {
        char *dir = NULL;

        if (o->directory && !(dir = strdup(o->directory)))
                return -ENOMEM;
        /* Turned off or moved: the old file would be read as a stopped service's. */
        if (!o->enabled || !dir || !m->directory || strcmp(dir, m->directory) != 0)
                remove_written(m);
        free(m->directory);
        m->directory = dir;
        m->enabled = o->enabled;
        m->interval_usec = MAX(o->interval_usec, USEC_PER_SEC);
        return 0;
}

int metrics_new(const MetricsOptions *o, Metrics **ret) {
        _cleanup_(metrics_freep) Metrics *m = NULL;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        r = service_table_new(&o->table, &m->table);
        if (r < 0)
                return r;
        service_table_set_routes(m->table, o->routes);
        r = set_textfile(m, o);
        if (r < 0)
                return r;
        m->since_usec = now_usec(CLOCK_REALTIME);
        *ret = TAKE_PTR(m);
        return 0;
}

Metrics *metrics_free(Metrics *m) {
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->timer);
        remove_written(m);
        service_table_free(m->table);
        free(m->directory);
        return mfree(m);
}

int metrics_apply(Metrics *m, const MetricsOptions *o) {
        int r;

        service_table_set_routes(m->table, o->routes);
        r = set_textfile(m, o);
        if (r < 0)
                return r;
        if (m->timer)
                (void) sd_event_source_set_enabled(m->timer, m->enabled ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
        return 0;
}

void metrics_feed(Metrics *m, const Exchange *x) {
        if (m)
                service_table_add(m->table, x);
}

const ServiceTable *metrics_table(const Metrics *m) {
        return m ? m->table : NULL;
}

uint64_t metrics_since_usec(const Metrics *m) {
        return m ? m->since_usec : 0;
}

size_t metrics_dropped(const ControlStatus *st, const ServiceTable *t, MetricsDropped ret[static METRICS_DROPPED_MAX]) {
        const uint64_t *k = st->kernel;
        const Stats *s = st->stats;
        size_t n = 0;

#define ADD(name, v) ret[n++] = (MetricsDropped) { name, (v) }
        ADD("ring_buffer", k ? k[KERNEL_COUNTER_RINGBUF_DROPS] : 0);
        ADD("kernel_connections_full", k ? k[KERNEL_COUNTER_CONN_MAP_FULL] : 0);
        ADD("kernel_syscalls_untraced", k ? k[KERNEL_COUNTER_ARGS_MAP_FULL] : 0);
        ADD("tls_untied", k ? k[KERNEL_COUNTER_TLS_UNTIED] : 0);
        ADD("connections_refused", s ? s->conns_refused : 0);
        ADD("exchanges_lost", s ? s->exchanges_lost : 0);
        ADD("messages_lost", s ? s->messages_lost : 0);
        ADD("memory_refused_bytes", s ? s->memory_refused : 0);
        ADD("parse_errors", s ? s->parse_errors : 0);
        ADD("output_entries", s ? s->entries_dropped : 0);
        ADD("metrics_no_memory", t ? service_table_oom(t) : 0);
#undef ADD
        return n;
}

int metrics_write(Metrics *m) {
        _cleanup_(freep) char *path = NULL, *tmp = NULL;
        MetricsDropped dropped[METRICS_DROPPED_MAX];
        ControlStatus st = {};
        FILE *f;
        int fd, r;

        if (!m->enabled || !m->directory)
                return 0;
        if (m->status)
                (void) m->status(m->status_userdata, &st);
        if (asprintf(&path, "%s/" METRICS_TEXTFILE, m->directory) < 0 ||
            asprintf(&tmp, "%s/." METRICS_TEXTFILE ".XXXXXX", m->directory) < 0) {
                path = tmp = NULL;
                return log_oom();
        }

        /* Not *.prom: the collector never reads the file being written. */
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                goto fail;
        }
        /* node_exporter runs as its own user (prometheus): the file must be readable to it. */
        if (fchmod(fd, 0644) < 0 || !(f = fdopen(fd, "w"))) {
                r = -errno;
                safe_close(fd);
                (void) unlink(tmp);
                goto fail;
        }
        r = metrics_format(f, &(MetricsFormatInput) {
                .table = m->table,
                .since_usec = m->since_usec,
                .dropped = dropped,
                .n_dropped = metrics_dropped(&st, m->table, dropped),
        });
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                goto fail;
        }
        if (!m->written || strcmp(m->written, path) != 0) {
                free(m->written);
                m->written = TAKE_PTR(path);
        }
        if (m->last_error != 0)
                log_info("Writing the metrics textfile works again (%s).", m->written);
        m->last_error = 0;
        return 0;

fail:
        if (r != m->last_error)
                log_warning_errno(r, "Failed to write the metrics textfile %s/%s, trying again every %s: %m%s",
                                  m->directory, METRICS_TEXTFILE, "metrics.interval",
                                  r == -ENOENT ? " (the directory does not exist: install prometheus-node-exporter, "
                                                 "or set metrics.textfile_directory)" :
                                  r == -EROFS || r == -EACCES ? " (under systemd, the unit needs ReadWritePaths= for it)" : "");
        m->last_error = r;
        return r;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Metrics *m = ASSERT_PTR(userdata);
        int r;

        (void) metrics_write(m);
        r = sd_event_source_set_time_relative(s, m->interval_usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, m->enabled ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
        if (r < 0)
                return log_error_errno(r, "Failed to re-arm the metrics timer: %m");
        return 0;
}

int metrics_start(Metrics *m, sd_event *event, int (*status)(void *userdata, ControlStatus *ret), void *userdata) {
        int r;

        m->status = status;
        m->status_userdata = userdata;
        /* The first file soon after start, so the collector has the series (at zero) from the beginning. */
        r = sd_event_add_time_relative(event, &m->timer, CLOCK_MONOTONIC, USEC_PER_SEC, 100 * 1000, on_timer, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the metrics timer: %m");
        return sd_event_source_set_enabled(m->timer, m->enabled ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
}
