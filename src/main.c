/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * http-tracer: see every HTTP/1.x exchange on this host with eBPF and write
 * each one to the systemd journal. This file is the command line; the work
 * is in manager.c.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "log.h"
#include "macro.h"
#include "manager.h"

static OutputKind arg_output = OUTPUT_JOURNAL;
static const char *arg_record = NULL;
static const char *arg_replay = NULL;
static uint32_t arg_payload_size = HT_PAYLOAD_DEFAULT;
static uint64_t arg_idle_timeout_sec = 0;     /* 0: the default in limits_default */

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "Trace every plaintext HTTP/1.x exchange on this host with eBPF and write\n"
               "each request/response pair to the systemd journal.\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "  -o --output=KIND          journal (default), json (stdout), none\n"
               "     --record=FILE          Also write the raw kernel records to FILE\n"
               "     --replay=FILE          Process a recording instead of tracing (no root needed)\n"
               "     --payload-size=BYTES   Bytes captured per syscall (default %u, max %u)\n"
               "     --idle-timeout=SECONDS Requests without a response for this long are logged\n"
               "                            as no-response (default %" PRIu64 ")\n"
               "     --log-level=LEVEL      Level of the daemon's own messages (default info)\n\n"
               "Query entries with, e.g.: journalctl SYSLOG_IDENTIFIER=http-tracer HTTP_STATUS=404\n",
               "http-tracer", HT_PAYLOAD_DEFAULT, HT_PAYLOAD_CAP,
               limits_default.idle_timeout_ns / NSEC_PER_SEC);
}

static int parse_uint(const char *s, uint64_t max, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (!s || !*s || *s == '-')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != 0)
                return -EINVAL;
        if (v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_RECORD,
                ARG_REPLAY,
                ARG_PAYLOAD_SIZE,
                ARG_IDLE_TIMEOUT,
                ARG_LOG_LEVEL,
        };
        static const struct option options[] = {
                { "help",         no_argument,       NULL, 'h'              },
                { "version",      no_argument,       NULL, ARG_VERSION      },
                { "output",       required_argument, NULL, 'o'              },
                { "record",       required_argument, NULL, ARG_RECORD       },
                { "replay",       required_argument, NULL, ARG_REPLAY       },
                { "payload-size", required_argument, NULL, ARG_PAYLOAD_SIZE },
                { "idle-timeout", required_argument, NULL, ARG_IDLE_TIMEOUT },
                { "log-level",    required_argument, NULL, ARG_LOG_LEVEL    },
                {}
        };
        uint64_t v;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":ho:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("http-tracer %s\n", PROJECT_VERSION);
                        return 0;
                case 'o':
                        arg_output = output_kind_from_string(optarg);
                        if (arg_output < 0)
                                return log_error_errno(EINVAL, "Unknown output '%s': expected journal, json or none.", optarg);
                        break;
                case ARG_RECORD:
                        arg_record = optarg;
                        break;
                case ARG_REPLAY:
                        arg_replay = optarg;
                        break;
                case ARG_PAYLOAD_SIZE:
                        r = parse_uint(optarg, HT_PAYLOAD_CAP, &v);
                        if (r < 0 || v == 0)
                                return log_error_errno(EINVAL, "Invalid --payload-size '%s': expected 1...%u bytes.",
                                                       optarg, HT_PAYLOAD_CAP);
                        arg_payload_size = (uint32_t) v;
                        break;
                case ARG_IDLE_TIMEOUT:
                        r = parse_uint(optarg, UINT64_C(31536000), &v);
                        if (r < 0 || v == 0)
                                return log_error_errno(EINVAL, "Invalid --idle-timeout '%s': expected seconds, 1...31536000.",
                                                       optarg);
                        arg_idle_timeout_sec = v;
                        break;
                case ARG_LOG_LEVEL:
                        r = log_level_from_string(optarg);
                        if (r < 0)
                                return log_error_errno(EINVAL, "Invalid --log-level '%s': expected debug, info, notice, warning or err.",
                                                       optarg);
                        log_set_max_level(r);
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

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        ManagerOptions o;
        int r;

        /* A JSON reader or journald going away must surface as EPIPE, not kill us. */
        (void) signal(SIGPIPE, SIG_IGN);

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        manager_options_init(&o);
        o.output = arg_output;
        o.record_path = arg_record;
        o.bpf.payload_max = arg_payload_size;
        if (arg_idle_timeout_sec > 0)
                o.limits.idle_timeout_ns = arg_idle_timeout_sec * NSEC_PER_SEC;

        r = manager_new(&o, &m);
        if (r < 0)
                return EXIT_FAILURE;

        r = arg_replay ? manager_replay(m, arg_replay) : manager_run(m);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
