/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * http-tracer: see every HTTP exchange on this host (in the protocols of
 * protocols/registry.c) with eBPF and write each one to the systemd journal. This file is the command line; the work
 * is in manager.c.
 */

#define _GNU_SOURCE 1
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "config/configuration.h"
#include "daemon/control-client.h"
#include "daemon/control.h"
#include "daemon/manager.h"
#include "daemon/settings.h"
#include "output/output.h"
#include "protocols/registry.h"
#include "views/report.h"
#include "views/top.h"

extern char **environ;

static const char *arg_record = NULL;
static const char *arg_replay = NULL;
static const char *arg_config = NULL;
/* The configuration in force and what was derived from it; settings_reload() replaces it. */
static Settings *arg_settings = NULL;
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

/* The built-in default of a size or duration setting, from the settings table. */
static uint64_t setting_default(const char *key) {
        const ConfigSetting *s = config_setting_find(key);
        uint64_t v = 0;

        assert(s && (s->type == CONFIG_SIZE || s->type == CONFIG_DURATION));
        (void) (s->type == CONFIG_SIZE ? parse_size(s->default_value, &v) : parse_duration_ns(s->default_value, &v));
        return v;
}

static void help(void) {
        char protocols[128];

        printf("%s [OPTIONS...]\n\n"
               "Trace every %s exchange on this host with eBPF (HTTPS through\n"
               "OpenSSL, tls.enabled) and write each request/response pair to the\n"
               "systemd journal.\n\n"
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
               "  services [--json]         Print the per-service request counts as JSON (docs/metrics.md)\n"
               "  reload                    Have the running daemon re-read its configuration\n"
               "  stats-reset               Zero the running daemon's counters (not the metrics)\n"
               "  top [--once] [--json]     Live view per service: requests/s, errors, latency (q quits)\n"
               "  report [--json] [--html=FILE] [--since=TIME] [MATCHES...]\n"
               "                            Per service and route: counts, errors, latency, from the journal\n\n"
               "Query entries with, e.g.: journalctl SYSLOG_IDENTIFIER=http-tracer HTTP_STATUS=404\n",
               "http-tracer", protocol_registry_describe(protocols, sizeof(protocols)),
               (unsigned) setting_default("capture.payload_size"), CONFIG_PAYLOAD_SIZE_MAX,
               setting_default("limits.idle_timeout") / NSEC_PER_SEC);
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

static ConfigLoadOptions load_options(void) {
        return (ConfigLoadOptions) {
                .config_file = arg_config,
                .environment = environ,
                .overrides = arg_overrides,
        };
}

/* http-tracer status|services|reload|stats-reset: talk to the running daemon over its control socket. */
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
        if (streq(verb, "services"))
                /* For programs (http-tracer top, scripts): the answer as it came, one JSON line. */
                return puts(resp) < 0 ? log_error_errno(EIO, "Failed to write the answer: %m") : 0;
        printf("%s: done.\n", verb);
        return 0;
}

/* top's source: one `services` answer from the running daemon. */
static int fetch_services(char **ret) {
        _cleanup_(freep) char *req = NULL, *resp = NULL;
        int r;

        r = control_request_line("services", &req);
        if (r < 0)
                return r;
        r = control_client_call(CONTROL_SOCKET_PATH, req, 0, &resp);
        if (r < 0)
                return r;
        r = control_response_check(resp, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(resp);
        return 0;
}

static int run(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(config_freep) Config *c = NULL;
        ConfigLoadOptions load;
        ManagerOptions o;
        int r;

        if (argc >= 2 && streq(argv[1], "report"))
                return report_main(argc - 1, argv + 1);
        if (argc >= 2 && streq(argv[1], "top"))
                return top_main(argc - 1, argv + 1, fetch_services);
        if (argc >= 2 && (streq(argv[1], "status") || streq(argv[1], "services") || streq(argv[1], "reload") ||
                          streq(argv[1], "stats-reset"))) {
                bool json = argc == 3 && streq(argv[2], "--json") && (streq(argv[1], "status") || streq(argv[1], "services"));

                if (argc > 2 && !json)
                        return log_error_errno(EINVAL, "Unexpected argument '%s'. Usage: http-tracer status [--json] | "
                                               "services [--json] | reload | stats-reset", argv[2]);
                return run_verb(argv[1], json);
        }

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        if (arg_action == ACTION_GENERATE_CONFIG)
                return config_generate(stdout);

        load = load_options();
        r = settings_load_config(&load, &c);
        if (r < 0)
                return r;
        if (arg_action == ACTION_VALIDATE_CONFIG) {
                printf("Configuration is valid.\n");
                return 0;
        }
        if (arg_action == ACTION_CAT_CONFIG)
                return config_cat(c, stdout);

        log_set_max_level(c->log.level);

        /* From here on the settings in force live in arg_settings: reloads replace them. */
        r = settings_new(&load, TAKE_PTR(c), &arg_settings);
        if (r < 0)
                return r;
        settings_manager_options(arg_settings, &o);
        o.record_path = arg_record;
        o.reload_userdata = &arg_settings;

        r = manager_new(&o, &m);
        if (r < 0)
                return r;
        r = settings_start(m, arg_settings, !arg_replay);
        if (r < 0)
                return r;

        return arg_replay ? manager_replay(m, arg_replay) : manager_run(m);
}

int main(int argc, char *argv[]) {
        int r;

        /* A JSON reader or journald going away must surface as EPIPE, not kill us. */
        (void) signal(SIGPIPE, SIG_IGN);

        r = run(argc, argv);
        /* The manager (freed in run()) borrowed from the settings: they go last. */
        arg_settings = settings_free(arg_settings);
        free_overrides();
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
