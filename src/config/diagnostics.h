/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Problems found while reading configuration, kept as data rather than
 * logged: the config modules never log (only the daemon does), and
 * --validate-config must print every problem, not just the first. Each entry
 * carries where it was found as "FILE:LINE:COLUMN" (or "environment NAME",
 * "command line") so an operator can go straight to it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "basic/macro.h"

typedef enum DiagnosticSeverity {
        DIAGNOSTIC_ERROR,    /* the configuration is not valid */
        DIAGNOSTIC_WARNING,  /* valid, but something was ignored; the message ends in ", ignoring" */
} DiagnosticSeverity;

typedef struct Diagnostic {
        DiagnosticSeverity severity;
        char *origin;        /* file name, "environment HTTP_TRACER_X" or "command line" */
        unsigned line;       /* 1-based; 0 when the origin has no lines */
        unsigned column;     /* 1-based; 0 when unknown */
        char *message;
} Diagnostic;

/*
 * A hostile or broken file must not make us collect without bound: past this
 * many entries further ones are only counted (and reported as one line).
 */
#define DIAGNOSTICS_MAX 200u

typedef struct Diagnostics {
        Diagnostic *items;
        size_t n;
        size_t n_errors;     /* errors, including those past DIAGNOSTICS_MAX */
        size_t n_dropped;    /* entries not kept because of DIAGNOSTICS_MAX */
} Diagnostics;

/* Adds one entry. Returns -ENOMEM only; a full list is not an error. */
int diagnostics_add(Diagnostics *d, DiagnosticSeverity severity, const char *origin,
                    unsigned line, unsigned column, const char *format, ...) _printf_(6, 7);

#define diagnostics_error(d, origin, line, column, ...) \
        diagnostics_add((d), DIAGNOSTIC_ERROR, (origin), (line), (column), __VA_ARGS__)
#define diagnostics_warning(d, origin, line, column, ...) \
        diagnostics_add((d), DIAGNOSTIC_WARNING, (origin), (line), (column), __VA_ARGS__)

void diagnostics_done(Diagnostics *d);

static inline bool diagnostics_has_errors(const Diagnostics *d) {
        return d && d->n_errors > 0;
}

/* "FILE:LINE:COLUMN: message" (warnings say "warning: "), one per line. */
int diagnostic_format(const Diagnostic *e, char **ret);
void diagnostics_print(const Diagnostics *d, FILE *f);
