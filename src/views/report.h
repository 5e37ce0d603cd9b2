/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `http-tracer report`: read http-tracer's entries from the journal with
 * sd_journal (its field indexes: SYSLOG_IDENTIFIER=http-tracer and the
 * user's matches), sum them per service and route (report-stats.h) and print
 * a table, JSON (report-output.c) or one self-contained HTML page
 * (report-html.c); from the timer, write one summary entry per service.
 */
#pragma once

#include <stdio.h>

#include "views/report-stats.h"

/* The summary entries' MESSAGE_ID is FORMAT_MESSAGE_ID_REPORT_SUMMARY (output/entry.h). */
#define REPORT_SYSLOG_IDENTIFIER "http-tracer-report"

/* argv[0] is "report". Return: 0, or a negative errno (already logged). */
int report_main(int argc, char *argv[]);

/* Outputs (report-output.c, report-html.c). */
int report_print_text(const Report *r, FILE *f);
int report_print_json(const Report *r, uint64_t since_usec, uint64_t until_usec, FILE *f);
int report_write_html(const Report *r, uint64_t since_usec, uint64_t until_usec, FILE *f);
int report_send_summaries(const Report *r, uint64_t since_usec, uint64_t until_usec);
