/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `http-tracer top`: a full-screen view (ncurses) of the daemon's `services`
 * answers, refreshed every second: one row per service and role with the
 * last interval's request rate, 4xx and 5xx shares, p50/p90/p99 and bytes
 * per second; Enter opens a service's routes. `--once` (and any run whose
 * stdout is not a terminal) prints one plain table of everything since the
 * daemon started instead; `--json` the same as JSON.
 */

#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/json-build.h"
#include "basic/log.h"
#include "basic/parse-util.h"
#include "views/top.h"
#include "views/top-model.h"

/* Columns after the name: ROLE REQ/S 4XX% 5XX% P50 P90 P99 BYTES/S and their separators. */
#define TOP_FIXED_COLUMNS 66
#define TOP_NAME_MIN 14
/* The JSON form: far more than a 256 KiB answer's rows need. */
#define TOP_JSON_MAX (16u << 20)

static uint64_t arg_delay_usec = USEC_PER_SEC;
static bool arg_once = false, arg_json = false;
static const char *arg_input = NULL;

static const char *const sort_names[_TOP_SORT_MAX] = { "rate", "errors", "latency" };

static void help(void) {
        printf("Usage: http-tracer top [--once] [--json] [--delay=SECONDS]\n\n"
               "Live view of the traced services, from the running daemon.\n\n"
               "  -d --delay=SECONDS   Refresh every SECONDS (default 1)\n"
               "     --once            Print one table of everything since the daemon started, and exit\n"
               "                       (also what happens when stdout is not a terminal)\n"
               "     --json            With --once: the same as one JSON document\n"
               "     --input=FILE      Read the `services` answer from FILE at each refresh\n"
               "                       instead of asking the daemon (a saved answer, a fixture)\n\n"
               "Keys: q quits; r, e, l sort by rate, errors, latency (p99); Up/Down select;\n"
               "Enter shows the selected service's routes, Left/Esc/Backspace goes back.\n");
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_ONCE = 0x100, ARG_JSON, ARG_INPUT };
        static const struct option options[] = {
                { "help",  no_argument,       NULL, 'h'       },
                { "delay", required_argument, NULL, 'd'       },
                { "once",  no_argument,       NULL, ARG_ONCE  },
                { "json",  no_argument,       NULL, ARG_JSON  },
                { "input", required_argument, NULL, ARG_INPUT },
                {}
        };
        double d;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "hd:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'd':
                        if (parse_decimal(optarg, &d) < 0 || d < 0.1 || d > 3600)
                                return log_error_errno(EINVAL, "--delay='%s': expected seconds between 0.1 and 3600.",
                                                       optarg);
                        arg_delay_usec = (uint64_t) (d * 1e6);
                        break;
                case ARG_ONCE:
                        arg_once = true;
                        break;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_INPUT:
                        arg_input = optarg;
                        break;
                case ':':
                        return log_error_errno(EINVAL, "Option '%s' needs an argument.", argv[optind - 1]);
                default:
                        return log_error_errno(EINVAL, "Unknown option '%s'. See http-tracer top --help.",
                                               argv[optind - 1]);
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'. See http-tracer top --help.", argv[optind]);
        if (arg_json && !arg_once)
                arg_once = true;        /* JSON is a one-shot form */
        return 1;
}

static int read_file(const char *path, char **ret) {
        _cleanup_(freep) char *buf = NULL;
        size_t n = 0, size = 0;
        FILE *f = fopen(path, "re");

        if (!f)
                return -errno;
        for (;;) {
                size_t k;

                if (n + 4096 + 1 > size) {
                        char *q;

                        /* The control protocol caps a services answer at 8 MiB: a larger file is not one. */
                        if (size > (16u << 20)) {
                                fclose(f);
                                return -EFBIG;
                        }
                        size = size ? size * 2 : 65536;
                        q = realloc(buf, size);
                        if (!q) {
                                fclose(f);
                                return -ENOMEM;
                        }
                        buf = q;
                }
                k = fread(buf + n, 1, size - n - 1, f);
                n += k;
                if (k == 0)
                        break;
        }
        fclose(f);
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int snapshot_get(TopFetch fetch, TopSnapshot **ret) {
        _cleanup_(freep) char *answer = NULL;
        int r;

        r = arg_input ? read_file(arg_input, &answer) : fetch(&answer);
        if (r < 0)
                return r;
        return top_snapshot_parse(answer, strlen(answer), ret);
}

/* ---- formatting shared by the table and the screen ---- */

static void fmt_usec(char *buf, size_t size, uint64_t usec, bool any) {
        if (!any)
                snprintf(buf, size, "-");
        else if (usec < 1000)
                snprintf(buf, size, "%" PRIu64 "us", usec);
        else if (usec < 1000000)
                snprintf(buf, size, "%.1fms", (double) usec / 1e3);
        else
                snprintf(buf, size, "%.2fs", (double) usec / 1e6);
}

static void fmt_rate(char *buf, size_t size, double v) {
        if (v < 1000)
                snprintf(buf, size, "%.1f", v);
        else if (v < 1e6)
                snprintf(buf, size, "%.1fK", v / 1e3);
        else if (v < 1e9)
                snprintf(buf, size, "%.1fM", v / 1e6);
        else
                snprintf(buf, size, "%.1fG", v / 1e9);
}

static void fmt_row(char *buf, size_t size, const TopRow *r, int name_width) {
        char rate[16], bytes[16], p50[16], p90[16], p99[16], e4[16], e5[16];
        bool lat = r->requests > r->no_response;
        char name[256];
        size_t len = strlen(r->name);

        /* A name too long for its column keeps its end (the unit suffix says the most) behind a '~'. */
        if ((int) len > name_width && name_width > 1)
                snprintf(name, sizeof(name), "~%s", r->name + len - (size_t) (name_width - 1));
        else
                snprintf(name, sizeof(name), "%s", r->name);
        fmt_rate(rate, sizeof(rate), r->requests_per_sec);
        fmt_rate(bytes, sizeof(bytes), r->bytes_per_sec);
        fmt_usec(p50, sizeof(p50), r->p50, lat);
        fmt_usec(p90, sizeof(p90), r->p90, lat);
        fmt_usec(p99, sizeof(p99), r->p99, lat);
        snprintf(e4, sizeof(e4), "%.1f", r->pct_4xx);
        snprintf(e5, sizeof(e5), "%.1f", r->pct_5xx);
        snprintf(buf, size, "%-*.*s %-6.6s %8s %6s %6s %8s %8s %8s %8s", name_width, name_width, name,
                 r->role ?: "", rate, e4, e5, p50, p90, p99, bytes);
}

static void fmt_header(char *buf, size_t size, int name_width, const char *first) {
        snprintf(buf, size, "%-*.*s %-6s %8s %6s %6s %8s %8s %8s %8s", name_width, name_width, first, "ROLE",
                 "REQ/S", "4XX%", "5XX%", "P50", "P90", "P99", "BYTES/S");
}

static void fmt_health(char *buf, size_t size, const TopView *v, const TopSnapshot *s) {
        snprintf(buf, size, "tracer: %.1f exchanges/s, %" PRIu64 " dropped, ring buffer %.1f%%, CPU %.1f%%%s",
                 v->exchanges_per_sec, v->drops, v->ringbuf_pct, v->cpu_pct,
                 v->restarted ? " (daemon restarted)" : "");
}

/* ---- --once ---- */

static int print_table(const TopSnapshot *s) {
        char line[512];
        TopView v;
        int r;

        r = top_view_build(NULL, s, SIZE_MAX, &v);
        if (r < 0)
                return r;
        top_view_sort(&v, TOP_SORT_RATE);
        fmt_health(line, sizeof(line), &v, s);
        printf("%s; over the %.0f s since it started\n", line, v.interval_sec);
        fmt_header(line, sizeof(line), 24, "SERVICE");
        printf("%s\n", line);
        for (size_t i = 0; i < v.n_rows; i++) {
                fmt_row(line, sizeof(line), &v.rows[i], 24);
                printf("%s\n", line);
        }
        top_view_done(&v);
        return 0;
}

static void json_row(JsonBuild *b, const TopRow *r, bool service) {
        json_build_string(b, service ? "unit" : "route", r->name);
        if (service)
                json_build_string(b, "role", r->role);
        json_build_u64(b, "requests", r->requests);
        json_build_object_begin(b, "status");
        for (unsigned i = 0; i < 5; i++) {
                char k[4] = { (char) ('1' + i), 'x', 'x', 0 };

                json_build_u64(b, k, r->status[i]);
        }
        json_build_object_end(b);
        json_build_u64(b, "no_response", r->no_response);
        json_build_u64(b, "bytes", r->bytes);
        json_build_fixed(b, "requests_per_sec", r->requests_per_sec, 3);
        json_build_fixed(b, "bytes_per_sec", r->bytes_per_sec, 3);
        json_build_fixed(b, "pct_4xx", r->pct_4xx, 3);
        json_build_fixed(b, "pct_5xx", r->pct_5xx, 3);
        json_build_u64(b, "p50_usec", r->p50);
        json_build_u64(b, "p90_usec", r->p90);
        json_build_u64(b, "p99_usec", r->p99);
}

static int print_json(const TopSnapshot *s) {
        _cleanup_(freep) char *out = NULL;
        TopView v;
        JsonBuild b;
        size_t len;
        int r;

        r = top_view_build(NULL, s, SIZE_MAX, &v);
        if (r < 0)
                return r;
        top_view_sort(&v, TOP_SORT_RATE);
        json_build_init(&b, TOP_JSON_MAX);
        json_build_object_begin(&b, NULL);
        json_build_fixed(&b, "interval_sec", v.interval_sec, 3);
        json_build_object_begin(&b, "health");
        json_build_u64(&b, "exchanges", s->health.exchanges);
        json_build_fixed(&b, "exchanges_per_sec", v.exchanges_per_sec, 3);
        json_build_u64(&b, "dropped", v.drops);
        json_build_fixed(&b, "ringbuf_pct", v.ringbuf_pct, 3);
        json_build_fixed(&b, "cpu_pct", v.cpu_pct, 3);
        json_build_object_end(&b);
        json_build_array_begin(&b, "services");
        for (size_t i = 0; i < v.n_rows && r >= 0; i++) {
                TopView rv;

                json_build_object_begin(&b, NULL);
                json_row(&b, &v.rows[i], true);
                r = top_view_build(NULL, s, v.rows[i].index, &rv);
                if (r < 0)
                        break;
                top_view_sort(&rv, TOP_SORT_RATE);
                json_build_array_begin(&b, "routes");
                for (size_t k = 0; k < rv.n_rows; k++) {
                        json_build_object_begin(&b, NULL);
                        json_row(&b, &rv.rows[k], false);
                        json_build_object_end(&b);
                }
                json_build_array_end(&b);
                json_build_object_end(&b);
                top_view_done(&rv);
        }
        json_build_array_end(&b);
        json_build_object_end(&b);
        top_view_done(&v);
        if (r < 0) {
                json_build_done(&b);
                return r;
        }
        r = json_build_finish(&b, true, &out, &len);
        json_build_done(&b);
        if (r < 0)
                return r;
        return fwrite(out, 1, len, stdout) == len ? 0 : -EIO;
}

/* ---- the full screen ---- */

typedef struct Screen {
        TopSnapshot *prev, *now;
        TopView view;
        TopSort sort;
        size_t selected;                /* row on screen */
        bool routes;                    /* showing one service's routes */
        char *unit, *role;              /* that service */
        char error[256];
} Screen;

static void screen_build(Screen *s) {
        size_t idx = SIZE_MAX;

        top_view_done(&s->view);
        if (!s->now)
                return;
        if (s->routes) {
                idx = top_snapshot_find(s->now, s->unit, s->role);
                if (idx == SIZE_MAX) {
                        s->routes = false;      /* the service went away (restart) */
                        s->selected = 0;
                }
        }
        if (top_view_build(s->prev, s->now, idx, &s->view) < 0)
                snprintf(s->error, sizeof(s->error), "out of memory");
        top_view_sort(&s->view, s->sort);
        if (s->selected >= s->view.n_rows)
                s->selected = s->view.n_rows > 0 ? s->view.n_rows - 1 : 0;
}

static void screen_draw(Screen *s) {
        int name_width = MAX(COLS - TOP_FIXED_COLUMNS, TOP_NAME_MIN);
        char line[1024], clock[16];
        time_t t = time(NULL);
        struct tm tm;

        erase();
        strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&t, &tm));
        if (s->routes)
                snprintf(line, sizeof(line), "http-tracer top %s  sort: %s  Esc back  routes of %s (%s)",
                         clock, sort_names[s->sort], s->unit, s->role);
        else
                snprintf(line, sizeof(line), "http-tracer top %s  sort: %s  r/e/l sort  Enter routes  q quit",
                         clock, sort_names[s->sort]);
        mvaddnstr(0, 0, line, COLS);
        if (s->error[0])
                snprintf(line, sizeof(line), "error: %s", s->error);
        else if (s->now)
                fmt_health(line, sizeof(line), &s->view, s->now);
        else
                snprintf(line, sizeof(line), "waiting for the daemon...");
        mvaddnstr(1, 0, line, COLS);

        fmt_header(line, sizeof(line), name_width, s->routes ? "ROUTE" : "SERVICE");
        attron(A_BOLD);
        mvaddnstr(2, 0, line, COLS);
        attroff(A_BOLD);
        /* Scroll so that the selected row is on screen. */
        size_t space = LINES > 3 ? (size_t) (LINES - 3) : 1, first = s->selected >= space ? s->selected - space + 1 : 0;
        for (size_t i = first; i < s->view.n_rows && i - first < space; i++) {
                fmt_row(line, sizeof(line), &s->view.rows[i], name_width);
                if (i == s->selected)
                        attron(A_REVERSE);
                mvaddnstr((int) (i - first) + 3, 0, line, COLS);
                if (i == s->selected)
                        attroff(A_REVERSE);
        }
        if (s->view.n_rows == 0 && s->now)
                mvaddnstr(3, 0, s->routes ? "(no routes)" : "(no traffic seen yet)", COLS);
        refresh();
}

static void screen_fetch(Screen *s, TopFetch fetch) {
        TopSnapshot *n = NULL;
        int r;

        r = snapshot_get(fetch, &n);
        if (r < 0) {
                snprintf(s->error, sizeof(s->error), "%s", r == -ENOENT || r == -ECONNREFUSED ?
                         "http-tracer is not running" : strerror(-r));
                return;
        }
        s->error[0] = 0;
        if (s->now && n->since_usec == s->now->since_usec && n->monotonic_usec == s->now->monotonic_usec) {
                top_snapshot_free(n);   /* the same answer again (a file not rewritten yet) */
                return;
        }
        top_snapshot_free(s->prev);
        s->prev = s->now;
        s->now = n;
}

/* Returns true to quit. */
static bool screen_key(Screen *s, int ch) {
        switch (ch) {
        case 'q':
        case 'Q':
                return true;
        case 'r':
                s->sort = TOP_SORT_RATE;
                break;
        case 'e':
                s->sort = TOP_SORT_ERRORS;
                break;
        case 'l':
                s->sort = TOP_SORT_LATENCY;
                break;
        case KEY_UP:
        case 'k':
                if (s->selected > 0)
                        s->selected--;
                break;
        case KEY_DOWN:
        case 'j':
                if (s->selected + 1 < s->view.n_rows)
                        s->selected++;
                break;
        case '\n':
        case '\r':
        case KEY_ENTER:
                if (!s->routes && s->selected < s->view.n_rows) {
                        const TopRow *row = &s->view.rows[s->selected];

                        free(s->unit);
                        free(s->role);
                        s->unit = strdup(row->name);
                        s->role = strdup(row->role);
                        if (s->unit && s->role) {
                                s->routes = true;
                                s->selected = 0;
                        }
                }
                break;
        case 27:
        case KEY_LEFT:
        case KEY_BACKSPACE:
        case 127:
        case 'b':
                if (s->routes) {
                        s->routes = false;
                        s->selected = 0;
                }
                break;
        default:
                break;
        }
        return false;
}

static int run_screen(TopFetch fetch) {
        Screen s = { .sort = TOP_SORT_RATE };
        uint64_t next = 0;
        bool quit = false;

        if (!initscr())
                return log_error_errno(EIO, "Failed to set up the terminal.");
        cbreak();
        noecho();
        keypad(stdscr, TRUE);
        set_escdelay(25);
        curs_set(0);

        while (!quit) {
                uint64_t t = now_usec(CLOCK_MONOTONIC);
                int ch;

                if (t >= next) {
                        screen_fetch(&s, fetch);
                        next = t + arg_delay_usec;
                        screen_build(&s);
                        screen_draw(&s);
                }
                timeout((int) MAX((next - MIN(now_usec(CLOCK_MONOTONIC), next)) / 1000, (uint64_t) 1));
                ch = getch();
                if (ch == ERR)
                        continue;
                quit = screen_key(&s, ch);
                screen_build(&s);
                screen_draw(&s);
        }
        endwin();
        top_view_done(&s.view);
        top_snapshot_free(s.prev);
        top_snapshot_free(s.now);
        free(s.unit);
        free(s.role);
        return 0;
}

int top_main(int argc, char *argv[], TopFetch fetch) {
        _cleanup_(top_snapshot_freep) TopSnapshot *s = NULL;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        if (!arg_once && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO)) {
                (void) setlocale(LC_CTYPE, "");
                return run_screen(fetch);
        }

        r = snapshot_get(fetch, &s);
        if (r == -ENOENT || r == -ECONNREFUSED)
                return log_error_errno(r, "http-tracer is not running (no answer on its control socket).");
        if (r == -EOPNOTSUPP)
                return log_error_errno(r, "The running http-tracer does not know the 'services' command (too old).");
        if (r < 0)
                return log_error_errno(r, "Failed to get the services from %s: %m", arg_input ?: "http-tracer");
        r = arg_json ? print_json(s) : print_table(s);
        if (r < 0)
                return log_error_errno(r, "Failed to print: %m");
        return 0;
}
