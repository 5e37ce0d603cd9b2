/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configuration in force and every object derived from it: the
 * redactor, the format options, the selector, the kernel filter, the limits
 * and the options the manager starts with. settings_new() is the one place
 * they are built from a Config, at start and on every reload, so the two
 * paths cannot drift apart and nothing is built twice.
 *
 * There is one Redactor per configuration: the manager masks request
 * targets with it and the format options, which borrow it, the headers and
 * excerpts they add.
 *
 * Lifetime: the manager borrows the redactor, the format options and the
 * list of sources from the Settings in force, and takes the selector and
 * the kernel filter. The Settings in force must therefore outlive the
 * manager, and a reload frees the old Settings only after the manager has
 * switched to the new ones (settings_reload()).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "basic/macro.h"
#include "capture/kernel-filter.h"
#include "config/configuration.h"
#include "conn/protocol.h"
#include "daemon/manager.h"
#include "daemon/metrics.h"
#include "output/fields.h"
#include "output/output.h"
#include "protocols/registry.h"
#include "select/redact.h"
#include "select/route-fold.h"
#include "select/selector.h"

/* Configuration files named in status at most; more are read, but not listed. */
#define SETTINGS_SOURCES_MAX 64

typedef struct Settings {
        ConfigLoadOptions load;             /* where the configuration is read from, again on reload (borrowed) */
        Config *config;
        Redactor *redactor;                 /* masks the request target (manager), headers and excerpts (format) */
        FormatOptions *format;              /* fields.* for the entries; borrows the redactor */
        Selector *selector;                 /* until settings_start()/settings_reload() hand it to the manager */
        KernelFilter *kernel_filter;        /* likewise */
        Limits limits;                      /* the connection layer's caps */
        ProtocolLimits protocol_limits;     /* each protocol's own */
        OutputOptions output;               /* its json_path points into config */
        BpfTracerOptions bpf;               /* load-time sizes; the filter is set by settings_start() */
        uint64_t drain_interval_usec;
        uint64_t stats_interval_usec;
        const char *sources[SETTINGS_SOURCES_MAX + 1];  /* config->files, NULL-terminated, for status */
        RouteFold *route_fold;              /* metrics.routes; the metrics borrow it */
        MetricsOptions metrics_options;
        /*
         * The service table and its textfile: made with the first Settings, then
         * handed from the Settings in force to the next on every reload, so its
         * counters live as long as the daemon. The manager borrows it.
         */
        Metrics *metrics;
} Settings;

/*
 * settings_register_checks() - have every consumer register its checks with the configuration layer
 *
 * Called by settings_load_config(), so the daemon never loads a
 * configuration without them (configuration.h, ConfigCheck).
 */
int settings_register_checks(void);

/*
 * settings_load_config() - read every layer, for --validate-config, --cat-config and start
 * @load: where from
 * @ret: the merged configuration
 *
 * Registers the consumers' checks first. Prints every diagnostic to stderr as FILE:LINE:COLUMN: message and logs
 * the verdict. Returns 0, -EINVAL when the configuration has errors, or
 * another negative errno.
 */
int settings_load_config(const ConfigLoadOptions *load, Config **ret);

/*
 * settings_new() - build everything derived from a configuration
 * @load: where @config came from (kept, borrowed, for reloads)
 * @config: taken over, also on failure
 * @ret: the new Settings
 *
 * Logs what failed. Returns 0 or a negative errno.
 */
int settings_new(const ConfigLoadOptions *load, Config *config, Settings **ret);
Settings *settings_free(Settings *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Settings *, settings_free);

/* The manager's options from @s, with settings_reload() as its reload function. */
void settings_manager_options(const Settings *s, ManagerOptions *ret);

/*
 * settings_start() - hand @s to a manager built from settings_manager_options(s)
 * @kernel: whether the kernel filter is applied (not when replaying)
 *
 * The manager takes the selector and, with @kernel, the kernel filter.
 */
int settings_start(Manager *m, Settings *s, bool kernel);

/*
 * settings_reload() - ManagerReloadFn: read the configuration again and put it in force
 * @userdata: a Settings ** holding the Settings in force; replaced on success
 *
 * Everything is validated and built first; on any error the running
 * settings stay in force and @ret_errors lists the problems. Settings fixed
 * at load time are named in the log and keep their running values.
 */
int settings_reload(Manager *m, void *userdata, char ***ret_errors);
