/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Collected configuration problems; see diagnostics.h. */

#define _GNU_SOURCE 1  /* asprintf */

#include <stdarg.h>
#include <stdlib.h>

#include "config/diagnostics.h"

int diagnostics_add(Diagnostics *d, DiagnosticSeverity severity, const char *origin,
                    unsigned line, unsigned column, const char *format, ...) {
        _cleanup_(freep) char *message = NULL, *o = NULL;
        Diagnostic *items;
        va_list ap;
        int r;

        if (!d)
                return 0;

        if (severity == DIAGNOSTIC_ERROR)
                d->n_errors++;
        if (d->n >= DIAGNOSTICS_MAX) {
                d->n_dropped++;
                return 0;
        }

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r < 0) {
                message = NULL;
                return -ENOMEM;
        }
        o = strdup(origin ?: "");
        if (!o)
                return -ENOMEM;

        items = realloc(d->items, (d->n + 1) * sizeof(Diagnostic));
        if (!items)
                return -ENOMEM;
        d->items = items;
        d->items[d->n++] = (Diagnostic) {
                .severity = severity,
                .origin = TAKE_PTR(o),
                .line = line,
                .column = column,
                .message = TAKE_PTR(message),
        };
        return 0;
}

void diagnostics_done(Diagnostics *d) {
        if (!d)
                return;
        for (size_t i = 0; i < d->n; i++) {
                free(d->items[i].origin);
                free(d->items[i].message);
        }
        free(d->items);
        *d = (Diagnostics) {};
}

int diagnostic_format(const Diagnostic *e, char **ret) {
        const char *sev = e->severity == DIAGNOSTIC_WARNING ? "warning: " : "";
        char *s;
        int r;

        if (e->line > 0 && e->column > 0)
                r = asprintf(&s, "%s:%u:%u: %s%s", e->origin, e->line, e->column, sev, e->message);
        else if (e->line > 0)
                r = asprintf(&s, "%s:%u: %s%s", e->origin, e->line, sev, e->message);
        else
                r = asprintf(&s, "%s: %s%s", e->origin, sev, e->message);
        if (r < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

void diagnostics_print(const Diagnostics *d, FILE *f) {
        if (!d)
                return;
        for (size_t i = 0; i < d->n; i++) {
                _cleanup_(freep) char *s = NULL;

                if (diagnostic_format(&d->items[i], &s) < 0)
                        continue;
                fprintf(f, "%s\n", s);
        }
        if (d->n_dropped > 0)
                fprintf(f, "(%zu more problems not shown)\n", d->n_dropped);
}
