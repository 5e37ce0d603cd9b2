/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel filter's upkeep; see filter-upkeep.h. It sits in daemon/, not
 * capture/, because it is policy over capture/'s silent mechanics: when to
 * resolve (start, reload, housekeeping), what to log and how often (each
 * unit's state change once), and which failure keeps the old filter. Only
 * the daemon layer logs.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "daemon/filter-upkeep.h"

/* Say once when a filter's unit or cgroup is missing, and when it appears. */
static void log_cgroup_states(KernelFilter *f) {
        for (size_t i = 0; f && i < f->n_cgroups; i++) {
                KernelFilterCgroup *cg = &f->cgroups[i];
                const char *name = cg->unit ?: cg->path;

                if (cg->state == cg->reported)
                        continue;
                if (cg->state == KFILTER_CGROUP_MISSING)
                        log_notice("Filter %s %s: no such cgroup (yet); it matches nothing until it appears.",
                                   cg->unit ? "unit" : "cgroup", name);
                else if (cg->state == KFILTER_CGROUP_FOUND)
                        log_full_errno(cg->reported == KFILTER_CGROUP_MISSING ? LOG_INFO : LOG_DEBUG, 0,
                                 "Filter %s %s is cgroup %s (id %" PRIu64 ").",
                                 cg->unit ? "unit" : "cgroup", name, cg->path, cg->id);
                cg->reported = cg->state;
        }
}

/* Ids of the filter's units and cgroups, in the cgroup v2 hierarchy wherever it is mounted. */
static int resolve_cgroups(KernelFilter *f, bool *ret_changed) {
        _cleanup_(freep) char *root = NULL;
        int r;

        *ret_changed = false;
        if (!f || f->n_cgroups == 0)
                return 0;
        r = filter_cgroup_root(&root);
        if (r == -ENOENT) {
                /* Nothing resolves: every entry matches nothing (an include then traces nothing). */
                static bool warned = false;
                if (!warned)
                        log_warning("No cgroup v2 hierarchy is mounted: filter units and cgroups match nothing.");
                warned = true;
                root = strdup("/nonexistent");
                if (!root)
                        return -ENOMEM;
        } else if (r < 0)
                return r;
        r = kernel_filter_resolve(f, root, ret_changed);
        if (r < 0)
                return r;
        log_cgroup_states(f);
        return 0;
}

int filter_upkeep_install(BpfTracer *tracer, KernelFilter *f) {
        _cleanup_(freep) char *what = NULL;
        bool changed;
        int r;

        r = resolve_cgroups(f, &changed);
        if (r < 0)
                return log_error_errno(r, "Failed to resolve the filter's units and cgroups: %m");
        if (!tracer)
                return 0;
        r = bpf_tracer_set_filter(tracer, f);
        if (r < 0)
                return log_error_errno(r, "Failed to update the kernel filter, keeping the old one: %m");
        (void) kernel_filter_describe(f, &what);
        log_info("Kernel filter in force: %s.", what ?: "none, all TCP sockets are traced");
        return 0;
}

/* Units that appeared, went away or were restarted (new cgroup, new id). */
void filter_upkeep_refresh(BpfTracer *tracer, KernelFilter *f) {
        bool changed = false;
        int r;

        r = resolve_cgroups(f, &changed);
        if (r < 0) {
                log_warning_errno(r, "Failed to resolve the filter's units and cgroups, ignoring: %m");
                return;
        }
        if (changed && tracer) {
                r = bpf_tracer_set_filter(tracer, f);
                if (r < 0)
                        log_warning_errno(r, "Failed to update the kernel filter's cgroups, ignoring: %m");
        }
}
