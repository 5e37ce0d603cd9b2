/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel filter's upkeep: its units and cgroups resolved to cgroup ids
 * (at start, on reload and every second from the housekeeping timer, so
 * units that appear or restart are followed) and the filter put into the
 * kernel's maps. The mechanics are silent and live in capture/
 * (kernel_filter_resolve(), bpf_tracer_set_filter()); this is the daemon's
 * side of them: what is logged, once, and what a failure means.
 */
#pragma once

#include "capture/bpf-object.h"
#include "capture/kernel-filter.h"

/*
 * Resolve f's units and cgroups and, with a tracer, put f in force in the
 * kernel. Logs its failure; the filter in force is unchanged then. tracer may
 * be NULL (before the programs are loaded, or in a replay): f is only resolved.
 */
int filter_upkeep_install(BpfTracer *tracer, KernelFilter *f);

/*
 * Housekeeping: resolve f (the filter in force) again and give the kernel
 * the ids that changed. Failures are logged and ignored: the kernel keeps
 * the ids it has.
 */
void filter_upkeep_refresh(BpfTracer *tracer, KernelFilter *f);
