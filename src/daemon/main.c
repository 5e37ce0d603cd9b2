/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * http-tracer: see every HTTP/1.x exchange on this host with eBPF and write
 * each one to the systemd journal. This file is the command line; the work
 * is in manager.c.
 */

#define _GNU_SOURCE 1
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "config/configuration.h"
#include "config/diagnostics.h"
#include "conn/conn.h"
#include "daemon/control-client.h"
#include "daemon/control.h"
#include "daemon/manager.h"
#include "output/fields.h"
#include "select/filter.h"
#include "select/redact.h"
#include "select/selector.h"

extern char **environ;

static const char *arg_record = NULL;
static const char *arg_replay = NULL;
static const char *arg_config = NULL;
static enum {
        ACTION_RUN,
        ACTION_VALIDATE_CONFIG,
        ACTION_CAT_CONFIG,
        ACTION_GENERATE_CONFIG,
} arg_action = ACTION_RUN;

/* Command-line settings, applied as the highest-precedence configuration layer. */
#define OVERRIDES_MAX 64
static char *arg_overrides[OVERRIDES_MAX + 1];
static size_t arg_n_overrides;

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static int add_override(const char *key, const char *value) {
        char *s;

        if (arg_n_overrides >= OVERRIDES_MAX)
                return log_error_errno(E2BIG, "Too many settings on the command line.");
        if (asprintf(&s, "%s=%s", key, value) < 0)
                return log_oom();
        arg_overrides[arg_n_overrides++] = s;
        return 0;
}

/* --set KEY=VALUE (or KEY+=VALUE): any setting, checked later like every other layer. */
static int add_assignment(const char *assignment) {
        char *s;

        if (!strchr(assignment, '='))
                return log_error_errno(EINVAL, "--set needs KEY=VALUE (e.g. --set sampling.rate=10%%), got '%s'.",
                                       assignment);
        if (arg_n_overrides >= OVERRIDES_MAX)
                return log_error_errno(E2BIG, "Too many settings on the command line.");
        s = strdup(assignment);
        if (!s)
                return log_oom();
        arg_overrides[arg_n_overrides++] = s;
        return 0;
}

static void free_overrides(void) {
        for (size_t i = 0; i < arg_n_overrides; i++)
                free(arg_overrides[i]);
        arg_n_overrides = 0;
}

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "Trace every plaintext HTTP/1.x exchange on this host with eBPF and write\n"
               "each request/response pair to the systemd journal.\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "  -o --output=KIND          journal (default), json (stdout), syslog, none\n"
               "  -s --set=KEY=VALUE        Set any configuration key, as in the file (sampling.rate=10%%,\n"
               "                            filter.include.units=nginx.service; KEY+=VALUE appends to a list)\n"
               "     --record=FILE          Also write the raw kernel records to FILE\n"
               "     --replay=FILE          Process a recording instead of tracing (no root needed)\n"
               "     --payload-size=BYTES   Bytes captured per syscall (default %u, max %u)\n"
               "     --idle-timeout=TIME    Requests without a response for this long (30s, 5min) are logged\n"
               "                            as no-response (default %" PRIu64 ")\n"
               "     --log-level=LEVEL      Level of the daemon's own messages (default info)\n"
               "     --config=FILE          Main configuration file (default /etc/http-tracer/http-tracer.yaml)\n"
               "     --validate-config      Check the merged configuration, print every problem, exit\n"
               "     --cat-config           Print the merged configuration and where each value came from\n"
               "     --generate-config      Print a complete commented default configuration\n\n"
               "  status [--json]           Show the running daemon's state and counters\n"
               "  reload                    Have the running daemon re-read its configuration\n"
               "  stats-reset               Zero the running daemon's counters\n\n"
               "Query entries with, e.g.: journalctl SYSLOG_IDENTIFIER=http-tracer HTTP_STATUS=404\n",
               "http-tracer", HT_PAYLOAD_DEFAULT, HT_PAYLOAD_CAP,
               limits_default.idle_timeout_ns / NSEC_PER_SEC);
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_RECORD,
                ARG_REPLAY,
                ARG_PAYLOAD_SIZE,
                ARG_IDLE_TIMEOUT,
                ARG_LOG_LEVEL,
                ARG_CONFIG,
                ARG_VALIDATE_CONFIG,
                ARG_CAT_CONFIG,
                ARG_GENERATE_CONFIG,
        };
        static const struct option options[] = {
                { "help",         no_argument,       NULL, 'h'              },
                { "version",      no_argument,       NULL, ARG_VERSION      },
                { "output",       required_argument, NULL, 'o'              },
                { "set",          required_argument, NULL, 's'              },
                { "record",       required_argument, NULL, ARG_RECORD       },
                { "replay",       required_argument, NULL, ARG_REPLAY       },
                { "payload-size", required_argument, NULL, ARG_PAYLOAD_SIZE },
                { "idle-timeout", required_argument, NULL, ARG_IDLE_TIMEOUT },
                { "log-level",    required_argument, NULL, ARG_LOG_LEVEL    },
                { "config",          required_argument, NULL, ARG_CONFIG          },
                { "validate-config", no_argument,       NULL, ARG_VALIDATE_CONFIG },
                { "cat-config",      no_argument,       NULL, ARG_CAT_CONFIG      },
                { "generate-config", no_argument,       NULL, ARG_GENERATE_CONFIG },
                {}
        };
        int c, r;



        opterr = 0;
        while ((c = getopt_long(argc, argv, ":ho:s:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("http-tracer %s\n", PROJECT_VERSION);
                        return 0;
                case 'o':
                        if (output_kind_from_string(optarg) < 0)
                                return log_error_errno(EINVAL, "Unknown output '%s': expected journal, json, syslog or none.", optarg);
                        r = add_override("output.types", optarg);
                        if (r < 0)
                                return r;
                        break;
                case 's':
                        r = add_assignment(optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_RECORD:
                        arg_record = optarg;
                        break;
                case ARG_REPLAY:
                        arg_replay = optarg;
                        break;
                /* Values are checked by the configuration layer, with the same rules as in files. */
                case ARG_PAYLOAD_SIZE:
                        r = add_override("capture.payload_size", optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_IDLE_TIMEOUT:
                        r = add_override("limits.idle_timeout", optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_LOG_LEVEL:
                        r = log_level_from_string(optarg);
                        if (r < 0)
                                return log_error_errno(EINVAL, "Invalid --log-level '%s': expected debug, info, notice, warning or err.",
                                                       optarg);
                        log_set_max_level(r);
                        r = add_override("log.level", optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_CONFIG:
                        arg_config = optarg;
                        break;
                case ARG_VALIDATE_CONFIG:
                        arg_action = ACTION_VALIDATE_CONFIG;
                        break;
                case ARG_CAT_CONFIG:
                        arg_action = ACTION_CAT_CONFIG;
                        break;
                case ARG_GENERATE_CONFIG:
                        arg_action = ACTION_GENERATE_CONFIG;
                        break;
                case ':':
                        return log_error_errno(EINVAL, "Option '%s' needs an argument.", argv[optind - 1]);
                case '?':
                        if (optopt)
                                return log_error_errno(EINVAL, "Unknown option '-%c'. See --help.", optopt);
                        return log_error_errno(EINVAL, "Unknown option '%s'. See --help.", argv[optind - 1]);
                default:
                        abort();
                }

        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'. See --help.", argv[optind]);
        if (arg_replay && arg_record)
                return log_error_errno(EINVAL, "--record and --replay cannot be combined.");
        return 1;
}

/* The configuration in force, what was derived from it, and where it came from (for status). */
static Config *current_config = NULL;
static Redactor *current_redactor = NULL;
static FormatOptions *current_format = NULL;
#define CONFIG_SOURCES_MAX 64
static const char *config_sources[CONFIG_SOURCES_MAX + 1];

static void set_config_sources(const Config *c) {
        size_t n = MIN(c->files.n, (size_t) CONFIG_SOURCES_MAX);

        for (size_t i = 0; i < n; i++)
                config_sources[i] = c->files.items[i];
        config_sources[n] = NULL;
}

static ConfigLoadOptions load_options(void) {
        return (ConfigLoadOptions) {
                .config_file = arg_config,
                .environment = environ,
                .overrides = arg_overrides,
        };
}

/*
 * Reload: validate the whole new set first; on any error keep everything as
 * it is and hand back every problem. Settings fixed at load time (ring
 * buffer and map sizes, payload size, output) are named in the log and keep
 * their running values; the rest are applied at once, between two records.
 */
static int reload_config(Manager *m, void *userdata, char ***ret_errors) {
        ConfigLoadOptions opts = load_options();
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(redactor_freep) Redactor *redactor = NULL;
        _cleanup_(selector_freep) Selector *selector = NULL;
        _cleanup_(kernel_filter_freep) KernelFilter *kfilter = NULL;
        _cleanup_(format_options_freep) FormatOptions *format = NULL;
        Diagnostics diags = {};
        char **changed = NULL, **restart = NULL;
        Limits limits;
        int r;

        r = config_load(&opts, &c, &diags);
        if (r < 0) {
                char **errors = calloc(diags.n + 2, sizeof(char *));
                size_t k = 0;

                for (size_t i = 0; errors && i < diags.n; i++)
                        if (diags.items[i].severity == DIAGNOSTIC_ERROR &&
                            diagnostic_format(&diags.items[i], &errors[k]) >= 0)
                                k++;
                if (errors && k == 0)
                        errors[k++] = strdup("the configuration could not be loaded");
                diagnostics_done(&diags);
                *ret_errors = errors;
                return r;
        }
        diagnostics_done(&diags);

        r = redactor_new_from_config(c, &redactor);
        if (r < 0)
                return r;
        r = format_options_new_from_config(c, &format);
        if (r < 0)
                return r;
        r = selector_new(c, now_nsec(CLOCK_MONOTONIC), NULL, NULL, 0, &selector);
        if (r < 0)
                return r;
        r = kernel_filter_compile(c, &kfilter);
        if (r < 0)
                return r;
        /* First, so that a failure leaves every part of the running configuration in force. */
        r = manager_apply_kernel_filter(m, TAKE_PTR(kfilter));
        if (r < 0)
                return r;
        r = config_diff(current_config, c, &changed, &restart);
        if (r < 0)
                return r;
        for (char **k = restart; k && *k; k++)
                log_warning("Setting %s changed, but takes effect only after a restart; keeping the running value.", *k);
        for (char **k = changed; k && *k; k++)
                log_info("Setting %s changed.", *k);
        strv_free(changed);
        strv_free(restart);

        log_set_max_level(c->log.level);
        config_to_limits(c, &limits);
        manager_apply_limits(m, &limits);
        manager_apply_stats_interval(m, c->stats.interval_ns / NSEC_PER_USEC);
        manager_apply_redactor(m, redactor);
        /* The selector reads the new configuration, which becomes current_config below. */
        manager_apply_selector(m, TAKE_PTR(selector));
        redactor_free(current_redactor);
        current_redactor = TAKE_PTR(redactor);
        manager_apply_format(m, format);
        format_options_free(current_format);
        current_format = TAKE_PTR(format);
        set_config_sources(c);
        config_free(current_config);
        current_config = TAKE_PTR(c);
        return 0;
}

/* The merged configuration; diagnostics go to stderr as FILE:LINE:COLUMN: message. */
static int load_config(Config **ret) {
        ConfigLoadOptions opts = load_options();
        Diagnostics diags = {};
        int r;

        r = config_load(&opts, ret, &diags);
        diagnostics_print(&diags, stderr);
        diagnostics_done(&diags);
        if (r == -EINVAL)
                return log_error_errno(r, "The configuration is not valid; nothing was started.");
        if (r < 0)
                return log_error_errno(r, "Failed to load the configuration: %m");
        return 0;
}

/* http-tracer status|reload|stats-reset: talk to the running daemon over its control socket. */
static int run_verb(const char *verb, bool json) {
        _cleanup_(freep) char *req = NULL, *resp = NULL, *msg = NULL;
        int r;

        r = control_request_line(verb, &req);
        if (r < 0)
                return log_oom();
        r = control_client_call(CONTROL_SOCKET_PATH, req, 0, &resp);
        if (r == -ENOENT || r == -ECONNREFUSED)
                return log_error_errno(r, "http-tracer is not running (no answer on %s).", CONTROL_SOCKET_PATH);
        if (r == -EACCES || r == -EPERM)
                return log_error_errno(r, "Only root may talk to http-tracer's control socket %s.", CONTROL_SOCKET_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to talk to http-tracer on %s: %m", CONTROL_SOCKET_PATH);
        r = control_response_check(resp, &msg);
        if (r < 0)
                return log_error_errno(r, "%s failed: %s", verb, msg ?: "error");
        if (streq(verb, "status"))
                return control_status_print(stdout, resp, json);
        printf("%s: done.\n", verb);
        return 0;
}

static int run(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(redactor_freep) Redactor *redactor = NULL;
        _cleanup_(selector_freep) Selector *selector = NULL;
        _cleanup_(format_options_freep) FormatOptions *format = NULL;
        ManagerOptions o;
        int r;

        if (argc >= 2 && (streq(argv[1], "status") || streq(argv[1], "reload") || streq(argv[1], "stats-reset"))) {
                bool json = argc == 3 && streq(argv[2], "--json") && streq(argv[1], "status");

                if (argc > 2 && !json)
                        return log_error_errno(EINVAL, "Unexpected argument '%s'. Usage: http-tracer status [--json] | reload | stats-reset",
                                               argv[2]);
                return run_verb(argv[1], json);
        }

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        if (arg_action == ACTION_GENERATE_CONFIG)
                return config_generate(stdout);

        r = load_config(&c);
        if (r < 0)
                return r;
        if (arg_action == ACTION_VALIDATE_CONFIG) {
                printf("Configuration is valid.\n");
                return 0;
        }
        if (arg_action == ACTION_CAT_CONFIG)
                return config_cat(c, stdout);

        log_set_max_level(c->log.level);

        r = redactor_new_from_config(c, &redactor);
        if (r < 0)
                return log_error_errno(r, "Failed to set up redaction: %m");
        r = format_options_new_from_config(c, &format);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the fields.* settings: %m");

        manager_options_init(&o);
        r = output_options_from_config(c, &o.output);
        if (r < 0)
                return log_error_errno(r, "Invalid output settings: %m");
        o.record_path = arg_record;
        config_to_limits(c, &o.limits);
        o.bpf.payload_max = (uint32_t) c->capture.payload_size;
        o.bpf.ringbuf_size = (uint32_t) c->capture.ring_buffer_size;
        o.bpf.conns_max = (uint32_t) c->capture.connections_max;
        o.bpf.wakeup_bytes = c->capture.ring_buffer_size / 8;
        o.drain_interval_usec = MAX(c->capture.wakeup_delay_ns / NSEC_PER_USEC, UINT64_C(1000));
        set_config_sources(c);
        o.config_sources = config_sources;
        o.stats_interval_usec = c->stats.interval_ns / NSEC_PER_USEC;
        o.reload = reload_config;

        /* From here on the configuration in force lives in current_*: reloads replace it. */
        current_redactor = TAKE_PTR(redactor);
        current_format = TAKE_PTR(format);
        current_config = TAKE_PTR(c);
        o.redactor = current_redactor;
        o.format = current_format;

        r = manager_new(&o, &m);
        if (r < 0)
                return r;
        r = selector_new(current_config, now_nsec(CLOCK_MONOTONIC), NULL, NULL, 0, &selector);
        if (r < 0)
                return log_error_errno(r, "Failed to set up filters, sampling and the rate limit: %m");
        manager_apply_selector(m, TAKE_PTR(selector));

        if (!arg_replay) {
                _cleanup_(kernel_filter_freep) KernelFilter *kfilter = NULL;

                r = kernel_filter_compile(current_config, &kfilter);
                if (r < 0)
                        return log_error_errno(r, "Failed to compile the kernel filter: %m");
                r = manager_apply_kernel_filter(m, TAKE_PTR(kfilter));
                if (r < 0)
                        return r;
        }

        r = arg_replay ? manager_replay(m, arg_replay) : manager_run(m);
        m = manager_free(m);
        current_redactor = redactor_free(current_redactor);
        current_format = format_options_free(current_format);
        current_config = config_free(current_config);
        return r;
}

int main(int argc, char *argv[]) {
        int r;

        /* A JSON reader or journald going away must surface as EPIPE, not kill us. */
        (void) signal(SIGPIPE, SIG_IGN);

        r = run(argc, argv);
        free_overrides();
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
