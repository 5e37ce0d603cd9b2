/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE 1  /* asprintf, strptime */
/*
 * `http-tracer report`: its command line and the journal reader. Only the
 * fields the report needs are read from each entry (one pass over its data),
 * and a cursor only for an exchange that may be among the slowest.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-journal.h>

#include "basic/log.h"
#include "basic/parse-util.h"
#include "output/entry.h"
#include "select/route-fold.h"
#include "views/report.h"

static void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}

static char *arg_directory = NULL;
/* Borrowed from argv: --file values, and the matches after the options. */
static const char **arg_files = NULL;
static size_t arg_n_files = 0;
static uint64_t arg_since = 0, arg_until = 0;
static bool arg_json = false;
static char *arg_html = NULL;
static char *arg_state_file = NULL;
static bool arg_summary_journal = false;
static char **arg_routes = NULL;         /* --route templates, borrowed from argv */
static size_t arg_n_routes = 0;
static char **arg_matches = NULL;
static size_t arg_n_matches = 0;

static void help(void) {
        printf("Usage: http-tracer report [OPTIONS] [MATCHES...]\n\n"
               "Sum http-tracer's journal entries per service and route.\n\n"
               "  -D --directory=DIR     Read the journal files in DIR\n"
               "     --file=PATH         Read this journal file (repeatable)\n"
               "  -S --since=TIME        Entries at or after TIME\n"
               "  -U --until=TIME        Entries at or before TIME\n"
               "     --json              One JSON document\n"
               "     --html=FILE         Also write a self-contained HTML page\n"
               "     --state-file=FILE   Start after the cursor stored in FILE, store the last one\n"
               "     --summary-journal   Write one summary entry per service to the journal\n"
               "     --route=TEMPLATE    Name routes by this template (/api/users/*, /static/**), repeatable;\n"
               "                         other paths are folded as the metrics fold them\n\n"
               "MATCHES are journalctl's: FIELD=VALUE (same field: either; different: both),\n"
               "\"+\" between groups (either group). TIME: \"YYYY-MM-DD [HH:MM[:SS]]\", \"@EPOCH\",\n"
               "\"now\", \"today\", \"yesterday\", \"-2h\", \"-30min\", \"-1d\".\n");
}

/* journalctl's common time forms, local time. */
static int parse_time(const char *s, uint64_t *ret) {
        struct timespec now;
        struct tm tm = {};
        uint64_t x;
        const char *end;
        time_t t;

        clock_gettime(CLOCK_REALTIME, &now);
        uint64_t n = (uint64_t) now.tv_sec * USEC_PER_SEC + (uint64_t) now.tv_nsec / NSEC_PER_USEC;

        if (strcmp(s, "now") == 0) {
                *ret = n;
                return 0;
        }
        if (s[0] == '@') {
                double d;

                if (parse_decimal(s + 1, &d) < 0)
                        return -EINVAL;
                *ret = (uint64_t) (d * 1e6);
                return 0;
        }
        if (s[0] == '-') {
                if (parse_duration_ns(s + 1, &x) < 0 || x / NSEC_PER_USEC > n)
                        return -EINVAL;
                *ret = n - x / NSEC_PER_USEC;
                return 0;
        }
        if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
                t = now.tv_sec;
                localtime_r(&t, &tm);
                tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
                if (s[0] == 'y')
                        tm.tm_mday--;
        } else {
                end = strptime(s, "%Y-%m-%d", &tm);
                if (!end)
                        return -EINVAL;
                if (*end == ' ' || *end == 'T') {
                        const char *e2 = strptime(end + 1, "%H:%M:%S", &tm);

                        if (!e2) {
                                tm.tm_sec = 0;
                                e2 = strptime(end + 1, "%H:%M", &tm);
                        }
                        end = e2;
                }
                if (!end || *end)
                        return -EINVAL;
        }
        tm.tm_isdst = -1;
        t = mktime(&tm);
        if (t == (time_t) -1 || t < 0)
                return -EINVAL;
        *ret = (uint64_t) t * USEC_PER_SEC;
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_FILE = 0x100,
                ARG_JSON,
                ARG_HTML,
                ARG_STATE_FILE,
                ARG_SUMMARY_JOURNAL,
                ARG_ROUTE,
        };
        static const struct option options[] = {
                { "help",            no_argument,       NULL, 'h'                 },
                { "directory",       required_argument, NULL, 'D'                 },
                { "file",            required_argument, NULL, ARG_FILE            },
                { "since",           required_argument, NULL, 'S'                 },
                { "until",           required_argument, NULL, 'U'                 },
                { "json",            no_argument,       NULL, ARG_JSON            },
                { "html",            required_argument, NULL, ARG_HTML            },
                { "state-file",      required_argument, NULL, ARG_STATE_FILE      },
                { "summary-journal", no_argument,       NULL, ARG_SUMMARY_JOURNAL },
                { "route",           required_argument, NULL, ARG_ROUTE           },
                {}
        };
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "hD:S:U:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'D':
                        arg_directory = optarg;
                        break;
                case ARG_FILE:
                        if (!arg_files) {
                                arg_files = calloc(argc + 1, sizeof(char *));
                                if (!arg_files)
                                        return log_oom();
                        }
                        arg_files[arg_n_files++] = optarg;
                        break;
                case 'S':
                        if (parse_time(optarg, &arg_since) < 0)
                                return log_error_errno(EINVAL, "Failed to parse --since='%s'.", optarg);
                        break;
                case 'U':
                        if (parse_time(optarg, &arg_until) < 0)
                                return log_error_errno(EINVAL, "Failed to parse --until='%s'.", optarg);
                        break;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_HTML:
                        arg_html = optarg;
                        break;
                case ARG_STATE_FILE:
                        arg_state_file = optarg;
                        break;
                case ARG_SUMMARY_JOURNAL:
                        arg_summary_journal = true;
                        break;
                case ARG_ROUTE: {
                        const char *why = route_template_check(optarg);

                        if (why)
                                return log_error_errno(EINVAL, "--route='%s': %s", optarg, why);
                        if (!arg_routes) {
                                arg_routes = calloc(argc + 1, sizeof(char *));
                                if (!arg_routes)
                                        return log_oom();
                        }
                        arg_routes[arg_n_routes++] = optarg;
                        break;
                }
                case ':':
                        return log_error_errno(EINVAL, "Option '%s' needs an argument.", argv[optind - 1]);
                default:
                        return log_error_errno(EINVAL, "Unknown option '%s'. See http-tracer report --help.",
                                               argv[optind - 1]);
                }

        if (arg_directory && arg_files)
                return log_error_errno(EINVAL, "--directory and --file exclude each other.");
        for (int i = optind; i < argc; i++)
                if (strcmp(argv[i], "+") != 0 && !strchr(argv[i], '='))
                        return log_error_errno(EINVAL, "Match '%s' is not FIELD=VALUE or \"+\".", argv[i]);
        arg_matches = argv + optind;
        arg_n_matches = (size_t) (argc - optind);
        return 1;
}

/* http-tracer's own entries AND the user's matches, in each "+" group. */
static int add_matches(sd_journal *j) {
        static const char ident[] = "SYSLOG_IDENTIFIER=" FORMAT_SYSLOG_IDENTIFIER;
        int r;

        r = sd_journal_add_match(j, ident, 0);
        if (r < 0)
                return r;
        for (size_t i = 0; i < arg_n_matches; i++) {
                const char *m = arg_matches[i];

                if (strcmp(m, "+") == 0) {
                        r = sd_journal_add_disjunction(j);
                        if (r >= 0)
                                r = sd_journal_add_match(j, ident, 0);
                } else
                        r = sd_journal_add_match(j, m, 0);
                if (r < 0)
                        return log_error_errno(r, "Failed to add match '%s': %m", m);
        }
        return 0;
}

typedef struct Fields {
        char buf[14][4096];
        char route[ROUTE_BUF_SIZE];
        const RouteFold *fold;
} Fields;

static int u64_field(const char *s, uint64_t *ret) {
        return s ? parse_uint64(s, ret) : -ENOENT;
}

/*
 * The entry's fields, read in one pass over its data. Values are copied
 * (NUL-terminated, cut at 4 KiB: HTTP_TARGET's own cap) into @f.
 */
static int read_entry(sd_journal *j, Fields *f, ReportEntry *e, bool *ret_relevant) {
        static const char *const names[] = {
                "MESSAGE_ID", "OBJECT_SYSTEMD_UNIT", "OBJECT_COMM", "HTTP_ROLE", "HTTP_METHOD",
                "HTTP_TARGET", "HTTP_PATH", "HTTP_STATUS", "HTTP_DURATION_USEC",
                "HTTP_REQUEST_BODY_BYTES", "HTTP_RESPONSE_BODY_BYTES",
        };
        const char *v[ELEMENTSOF(names)] = {};
        const void *data;
        size_t len;
        uint64_t x;
        int r;

        _Static_assert(ELEMENTSOF(names) <= ELEMENTSOF(f->buf), "a buffer per field");

        *e = (ReportEntry) {};
        SD_JOURNAL_FOREACH_DATA(j, data, len) {
                const char *d = data, *eq = memchr(d, '=', len);
                size_t nl;

                if (!eq)
                        continue;
                nl = (size_t) (eq - d);
                for (size_t i = 0; i < ELEMENTSOF(names); i++)
                        if (!v[i] && strlen(names[i]) == nl && memcmp(d, names[i], nl) == 0) {
                                size_t vl = MIN(len - nl - 1, sizeof(f->buf[i]) - 1);

                                memcpy(f->buf[i], eq + 1, vl);
                                f->buf[i][vl] = 0;
                                v[i] = f->buf[i];
                                break;
                        }
        }

        *ret_relevant = false;
        if (!v[0])
                return 0;
        if (strcmp(v[0], FORMAT_MESSAGE_ID_COMPLETE) == 0)
                e->kind = REPORT_KIND_COMPLETE;
        else if (strcmp(v[0], FORMAT_MESSAGE_ID_NO_RESPONSE) == 0)
                e->kind = REPORT_KIND_NO_RESPONSE;
        else if (strcmp(v[0], FORMAT_MESSAGE_ID_UNCORRELATED) == 0)
                e->kind = REPORT_KIND_UNCORRELATED;
        else if (strcmp(v[0], FORMAT_MESSAGE_ID_PARSE_ERROR) == 0)
                e->kind = REPORT_KIND_PARSE_ERROR;
        else
                return 0;       /* the daemon's own statistics, warnings */

        e->unit = v[1];
        e->comm = v[2];
        e->role = v[3];
        e->method = v[4];
        e->target = v[5];
        if (v[6]) {
                (void) route_fold_path(f->fold, v[6], strlen(v[6]), f->route);
                e->route = f->route;
        }
        if (u64_field(v[7], &x) >= 0 && x < 1000)
                e->status = (unsigned) x;
        if (u64_field(v[8], &e->duration_usec) >= 0)
                e->has_duration = true;
        (void) u64_field(v[9], &e->request_bytes);
        (void) u64_field(v[10], &e->response_bytes);

        r = sd_journal_get_realtime_usec(j, &e->realtime_usec);
        if (r < 0)
                return r;
        *ret_relevant = true;
        return 0;
}

static int state_read(char **ret_cursor) {
        _cleanup_(fclosep) FILE *f = NULL;
        char line[4096];

        *ret_cursor = NULL;
        f = fopen(arg_state_file, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;
        if (!fgets(line, sizeof(line), f))
                return 0;
        line[strcspn(line, "\n")] = 0;
        if (!*line)
                return 0;
        *ret_cursor = strdup(line);
        return *ret_cursor ? 1 : -ENOMEM;
}

static int state_write(const char *cursor) {
        _cleanup_(freep) char *tmp = NULL;
        _cleanup_(fclosep) FILE *f = NULL;

        if (asprintf(&tmp, "%s.new", arg_state_file) < 0)
                return -ENOMEM;
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        fprintf(f, "%s\n", cursor);
        if (fflush(f) != 0 || ferror(f))
                return -EIO;
        if (rename(tmp, arg_state_file) < 0)
                return -errno;
        return 0;
}

static int open_journal(sd_journal **ret) {
        int r;

        if (arg_directory)
                r = sd_journal_open_directory(ret, arg_directory, 0);
        else if (arg_files)
                r = sd_journal_open_files(ret, arg_files, 0);
        else
                r = sd_journal_open(ret, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return log_error_errno(r, "Failed to open the journal: %m");
        return 0;
}

static int read_journal(Report *rep, char **ret_last_cursor) {
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        _cleanup_(freep) char *start = NULL, *last = NULL;
        _cleanup_(route_fold_freep) RouteFold *fold = NULL;
        _cleanup_(freep) Fields *f = NULL;
        int r;

        r = open_journal(&j);
        if (r < 0)
                return r;
        r = add_matches(j);
        if (r < 0)
                return r;

        f = malloc(sizeof(Fields));
        if (!f)
                return log_oom();
        r = route_fold_new(arg_routes, arg_n_routes, &fold);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the route templates: %m");
        f->fold = fold;

        if (arg_state_file) {
                r = state_read(&start);
                if (r < 0)
                        return log_error_errno(r, "Failed to read %s: %m", arg_state_file);
        }
        if (start) {
                /* Resuming: everything after the stored entry counts, however old (a missed day too). */
                arg_since = 0;
                r = sd_journal_seek_cursor(j, start);
                if (r < 0)
                        return log_error_errno(r, "Failed to seek to the cursor in %s: %m", arg_state_file);
                /* The stored entry was counted by the previous run. */
                r = sd_journal_next(j);
                if (r > 0 && sd_journal_test_cursor(j, start) <= 0)
                        (void) sd_journal_previous(j);
        } else if (arg_since > 0)
                r = sd_journal_seek_realtime_usec(j, arg_since);
        else
                r = sd_journal_seek_head(j);
        if (r < 0)
                return log_error_errno(r, "Failed to seek in the journal: %m");

        for (;;) {
                _cleanup_(freep) char *cursor = NULL;
                ReportEntry e;
                bool relevant;
                uint64_t t;

                r = sd_journal_next(j);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the journal: %m");
                if (r == 0)
                        break;
                r = sd_journal_get_realtime_usec(j, &t);
                if (r < 0)
                        continue;
                if (arg_since > 0 && t < arg_since)
                        continue;
                if (arg_until > 0 && t > arg_until)
                        break;
                if (arg_state_file) {
                        free(last);
                        last = NULL;
                        (void) sd_journal_get_cursor(j, &last);
                }

                r = read_entry(j, f, &e, &relevant);
                if (r < 0 || !relevant)
                        continue;
                if (report_wants_cursor(rep, &e)) {
                        r = sd_journal_get_cursor(j, &cursor);
                        if (r < 0)
                                cursor = NULL;
                }
                r = report_add(rep, &e, cursor);
                if (r < 0)
                        return log_oom();
        }

        *ret_last_cursor = TAKE_PTR(last);
        return 0;
}

int report_main(int argc, char *argv[]) {
        _cleanup_(report_freep) Report *rep = NULL;
        _cleanup_(freep) char *last = NULL;
        uint64_t until;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                goto finish;

        r = report_new(&rep);
        if (r < 0) {
                r = log_oom();
                goto finish;
        }
        r = read_journal(rep, &last);
        if (r < 0)
                goto finish;
        report_sort(rep);
        until = arg_until ?: rep->last_usec;
        if (arg_since == 0)
                arg_since = rep->first_usec;

        if (arg_html) {
                _cleanup_(fclosep) FILE *f = fopen(arg_html, "we");

                if (!f) {
                        r = log_error_errno(errno, "Failed to create %s: %m", arg_html);
                        goto finish;
                }
                r = report_write_html(rep, arg_since, until, f);
                if (r >= 0 && (fflush(f) != 0 || ferror(f)))
                        r = -EIO;
                if (r < 0) {
                        r = log_error_errno(r, "Failed to write %s: %m", arg_html);
                        goto finish;
                }
        }
        if (arg_summary_journal) {
                r = report_send_summaries(rep, arg_since, until);
                if (r < 0) {
                        r = log_error_errno(r, "Failed to write the summary entries: %m");
                        goto finish;
                }
        }
        if (arg_json)
                r = report_print_json(rep, arg_since, until, stdout);
        else if (!arg_summary_journal || isatty(STDOUT_FILENO))
                r = report_print_text(rep, stdout);
        if (r < 0) {
                r = log_error_errno(r, "Failed to print the report: %m");
                goto finish;
        }
        if (arg_state_file && last) {
                r = state_write(last);
                if (r < 0) {
                        r = log_error_errno(r, "Failed to write %s: %m", arg_state_file);
                        goto finish;
                }
        }
        r = 0;
finish:
        arg_files = mfree(arg_files);
        arg_routes = mfree(arg_routes);
        return r;
}
