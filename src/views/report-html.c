/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE 1  /* asprintf, strptime */
/*
 * The report as one self-contained HTML page: inline CSS and inline SVG, no
 * script, no external asset, so it can be mailed or archived as one file.
 * Per service: latency over time (mean and max per time bin), requests per
 * bin stacked by status class, the routes table and the slowest exchanges.
 * Every string from the journal is HTML-escaped.
 */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "output/entry.h"
#include "views/report.h"

#define PLOT_W 720
#define PLOT_H 180
#define PLOT_LEFT 64
#define PLOT_BOTTOM 20

/* Colours per class (1xx..5xx, then no response); the test looks for them in a screenshot. */
static const char *const class_colour[6] = { "#9467bd", "#2ca02c", "#1f77b4", "#ff7f0e", "#d62728", "#7f7f7f" };

static void esc(FILE *f, const char *s) {
        for (; s && *s; s++)
                switch (*s) {
                case '<': fputs("&lt;", f); break;
                case '>': fputs("&gt;", f); break;
                case '&': fputs("&amp;", f); break;
                case '"': fputs("&quot;", f); break;
                case '\'': fputs("&#39;", f); break;
                default: fputc(*s, f);
                }
}

static const char *dur(char buf[static FORMAT_DURATION_MAX], uint64_t usec) {
        return format_duration(buf, usec * NSEC_PER_USEC);
}

static void fmt_time(char *buf, size_t size, uint64_t usec) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (usec == 0 || !localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "-");
}

/* The bins that hold anything: plots span first..last used bin. */
static unsigned bins_used(const Report *r) {
        unsigned n = 0;

        for (size_t i = 0; i < r->n_services; i++)
                for (unsigned b = 0; b < REPORT_BINS; b++) {
                        const ReportBin *x = &r->services[i]->bins[b];
                        uint64_t c = x->no_response;

                        for (unsigned k = 0; k < 5; k++)
                                c += x->status[k];
                        if (c > 0)
                                n = MAX(n, b + 1);
                }
        return MAX(n, 1u);
}

static void axis(FILE *f, const Report *r, unsigned nbins, const char *ylabel, const char *ymax) {
        char t0[32], t1[32];

        fmt_time(t0, sizeof(t0), r->bin_start_usec);
        fmt_time(t1, sizeof(t1), r->bin_start_usec + (uint64_t) nbins * r->bin_width_usec);
        fprintf(f, "<line x1='%d' y1='0' x2='%d' y2='%d' class='axis'/>"
                   "<line x1='%d' y1='%d' x2='%d' y2='%d' class='axis'/>\n",
                PLOT_LEFT, PLOT_LEFT, PLOT_H - PLOT_BOTTOM,
                PLOT_LEFT, PLOT_H - PLOT_BOTTOM, PLOT_W, PLOT_H - PLOT_BOTTOM);
        fprintf(f, "<text x='2' y='12'>%s</text><text x='2' y='%d'>%s</text>\n", ymax, PLOT_H - PLOT_BOTTOM, ylabel);
        fprintf(f, "<text x='%d' y='%d'>%s</text><text x='%d' y='%d' text-anchor='end'>%s</text>\n",
                PLOT_LEFT, PLOT_H - 4, t0, PLOT_W, PLOT_H - 4, t1);
}

static double bin_x(unsigned b, unsigned nbins) {
        return PLOT_LEFT + (PLOT_W - PLOT_LEFT) * ((double) b + 0.5) / nbins;
}

/* Latencies span orders of magnitude (µs to s): a log scale keeps the small ones visible. */
static double lat_y(uint64_t v, uint64_t top) {
        const double h = PLOT_H - PLOT_BOTTOM - 4;

        return 4 + h - h * log1p((double) v) / log1p((double) top);
}

static void plot_latency(FILE *f, const Report *r, const ReportService *s, unsigned nbins) {
        char ymax[FORMAT_DURATION_MAX];
        uint64_t top = 1;

        for (unsigned b = 0; b < nbins; b++)
                top = MAX(top, s->bins[b].duration_max);

        fprintf(f, "<svg class='plot latency' width='%d' height='%d' viewBox='0 0 %d %d' role='img'>"
                   "<title>Latency over time</title>\n", PLOT_W, PLOT_H, PLOT_W, PLOT_H);
        axis(f, r, nbins, "0 (log)", dur(ymax, top));
        for (int line = 0; line < 2; line++) {
                fprintf(f, "<polyline class='%s' fill='none' stroke='%s' stroke-width='2' points='",
                        line == 0 ? "max" : "mean", line == 0 ? "#ff7f0e" : "#1f77b4");
                for (unsigned b = 0; b < nbins; b++) {
                        const ReportBin *x = &s->bins[b];
                        uint64_t v;

                        if (x->durations == 0)
                                continue;
                        v = line == 0 ? x->duration_max : x->duration_sum / x->durations;
                        fprintf(f, "%.1f,%.1f ", bin_x(b, nbins), lat_y(v, top));
                }
                fprintf(f, "'/>\n");
                /* A single point draws no line: mark every point as well. */
                for (unsigned b = 0; b < nbins; b++) {
                        const ReportBin *x = &s->bins[b];
                        uint64_t v;

                        if (x->durations == 0)
                                continue;
                        v = line == 0 ? x->duration_max : x->duration_sum / x->durations;
                        fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>", bin_x(b, nbins),
                                lat_y(v, top), line == 0 ? "#ff7f0e" : "#1f77b4");
                }
                fputc('\n', f);
        }
        fprintf(f, "</svg>\n<p class='legend'><span style='color:#1f77b4'>&#9632; mean</span> "
                   "<span style='color:#ff7f0e'>&#9632; max</span> per %" PRIu64 " s</p>\n",
                r->bin_width_usec / USEC_PER_SEC);
}

static void plot_status(FILE *f, const Report *r, const ReportService *s, unsigned nbins) {
        const double h = PLOT_H - PLOT_BOTTOM - 4, w = (double) (PLOT_W - PLOT_LEFT) / nbins;
        uint64_t top = 1;
        char ymax[32];

        for (unsigned b = 0; b < nbins; b++) {
                uint64_t c = s->bins[b].no_response;

                for (unsigned k = 0; k < 5; k++)
                        c += s->bins[b].status[k];
                top = MAX(top, c);
        }
        snprintf(ymax, sizeof(ymax), "%" PRIu64, top);
        fprintf(f, "<svg class='plot status' width='%d' height='%d' viewBox='0 0 %d %d' role='img'>"
                   "<title>Requests by status class</title>\n", PLOT_W, PLOT_H, PLOT_W, PLOT_H);
        axis(f, r, nbins, "0", ymax);
        for (unsigned b = 0; b < nbins; b++) {
                double y = PLOT_H - PLOT_BOTTOM;

                for (unsigned k = 0; k < 6; k++) {
                        uint64_t c = k < 5 ? s->bins[b].status[k] : s->bins[b].no_response;
                        double bh = h * (double) c / (double) top;

                        if (c == 0)
                                continue;
                        y -= bh;
                        fprintf(f, "<rect class='c%u' x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'/>",
                                k + 1, PLOT_LEFT + b * w + 0.5, y, MAX(w - 1, 1.0), bh, class_colour[k]);
                }
        }
        fprintf(f, "\n</svg>\n<p class='legend'>");
        for (unsigned k = 0; k < 6; k++)
                fprintf(f, "<span style='color:%s'>&#9632; %s</span> ", class_colour[k],
                        k < 5 ? report_status_class[k] : "no response");
        fprintf(f, "per %" PRIu64 " s</p>\n", r->bin_width_usec / USEC_PER_SEC);
}

static void counts_row(FILE *f, const char *name, const ReportCounts *c) {
        char p50[FORMAT_DURATION_MAX], p90[FORMAT_DURATION_MAX], p99[FORMAT_DURATION_MAX], mx[FORMAT_DURATION_MAX];

        fprintf(f, "<tr><td>");
        esc(f, name);
        fprintf(f, "</td><td>%" PRIu64 "</td>", c->requests);
        for (unsigned k = 0; k < 5; k++)
                fprintf(f, "<td>%" PRIu64 "</td>", c->status[k]);
        fprintf(f, "<td>%" PRIu64 "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%" PRIu64 "</td><td>%" PRIu64
                   "</td></tr>\n",
                c->no_response, dur(p50, report_quantile(c, 0.5)),
                dur(p90, report_quantile(c, 0.9)), dur(p99, report_quantile(c, 0.99)),
                dur(mx, c->max_usec), c->request_bytes, c->response_bytes);
}

static void service_section(FILE *f, const Report *r, const ReportService *s, unsigned nbins) {
        fprintf(f, "<section class='service'>\n<h2>");
        esc(f, s->name);
        fprintf(f, " (");
        esc(f, s->role);
        fprintf(f, ")</h2>\n<h3>Latency over time</h3>\n");
        plot_latency(f, r, s, nbins);
        fprintf(f, "<h3>Status classes over time</h3>\n");
        plot_status(f, r, s, nbins);

        fprintf(f, "<h3>Routes</h3>\n<table><tr><th>route</th><th>requests</th><th>1xx</th><th>2xx</th><th>3xx</th>"
                   "<th>4xx</th><th>5xx</th><th>no response</th><th>p50</th><th>p90</th><th>p99</th><th>max</th>"
                   "<th>request bytes</th><th>response bytes</th></tr>\n");
        counts_row(f, "(all)", &s->c);
        for (size_t i = 0; i < s->n_routes; i++)
                counts_row(f, s->routes[i]->route, &s->routes[i]->c);
        fprintf(f, "</table>\n");
        if (s->parse_errors > 0 || s->routes_folded > 0)
                fprintf(f, "<p>%" PRIu64 " parse errors; %" PRIu64 " requests folded into " REPORT_ROUTE_OTHER
                           " (more than %u paths).</p>\n", s->parse_errors, s->routes_folded, REPORT_ROUTES_MAX);

        fprintf(f, "<h3>Slowest exchanges</h3>\n<table><tr><th>duration</th><th>status</th><th>request</th>"
                   "<th>time</th><th>journalctl</th></tr>\n");
        for (size_t i = 0; i < s->c.n_slowest; i++) {
                const ReportSlow *w = &s->c.slowest[i];
                char d[FORMAT_DURATION_MAX], t[32];

                fmt_time(t, sizeof(t), w->realtime_usec);
                fprintf(f, "<tr><td>%s</td><td>%u</td><td>", dur(d, w->duration_usec), w->status);
                esc(f, w->method);
                fputc(' ', f);
                esc(f, w->target);
                fprintf(f, "</td><td>%s</td><td><code>journalctl -c '", t);
                esc(f, w->cursor);
                fprintf(f, "' -n 1</code></td></tr>\n");
        }
        fprintf(f, "</table>\n</section>\n");
}

int report_write_html(const Report *r, uint64_t since_usec, uint64_t until_usec, FILE *f) {
        unsigned nbins = bins_used(r);
        char t0[32], t1[32];

        fmt_time(t0, sizeof(t0), since_usec ?: r->first_usec);
        fmt_time(t1, sizeof(t1), until_usec ?: r->last_usec);
        fprintf(f, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n"
                   "<title>http-tracer report</title>\n<style>\n"
                   "body{font-family:sans-serif;margin:1.5em;color:#222}\n"
                   "table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
                   "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right;font-size:90%%}\n"
                   "td:first-child,th:first-child{text-align:left;max-width:30em;overflow-wrap:anywhere}\n"
                   "svg text{font-size:11px;fill:#444}\n.axis{stroke:#888}\n"
                   "section.service{border-top:2px solid #444;margin-top:1.5em}\n"
                   ".legend{font-size:85%%;margin:0 0 1em}\n"
                   "</style></head><body>\n<h1>http-tracer report</h1>\n"
                   "<p>%s &ndash; %s: %" PRIu64 " entries, %zu services.</p>\n", t0, t1, r->entries, r->n_services);
        if (r->n_services == 0)
                fprintf(f, "<p>No http-tracer exchanges matched.</p>\n");

        fprintf(f, "<h2>Services</h2>\n<table><tr><th>service</th><th>requests</th><th>1xx</th><th>2xx</th>"
                   "<th>3xx</th><th>4xx</th><th>5xx</th><th>no response</th><th>p50</th><th>p90</th><th>p99</th>"
                   "<th>max</th><th>request bytes</th><th>response bytes</th></tr>\n");
        for (size_t i = 0; i < r->n_services; i++) {
                _cleanup_(freep) char *name = NULL;

                if (asprintf(&name, "%s (%s)", r->services[i]->name, r->services[i]->role) < 0)
                        return -ENOMEM;
                counts_row(f, name, &r->services[i]->c);
        }
        fprintf(f, "</table>\n");
        if (r->services_dropped > 0)
                fprintf(f, "<p>%" PRIu64 " entries of services beyond the first %u not counted.</p>\n",
                        r->services_dropped, REPORT_SERVICES_MAX);

        for (size_t i = 0; i < r->n_services; i++)
                service_section(f, r, r->services[i], nbins);
        fprintf(f, "</body></html>\n");
        return ferror(f) ? -EIO : 0;
}
