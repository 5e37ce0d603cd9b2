/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Any bytes as a `services` answer (what `http-tracer top --input FILE`
 * reads, or a daemon of another version sends): parsed or refused with
 * -EBADMSG/-EPROTO, never a crash; a parsed snapshot's rows are built
 * against itself and against an empty previous one (the interval arithmetic
 * over whatever counters it holds), sorted by every key, and each row's
 * percentiles are within its histogram's range.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "views/top-model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void rows(const TopSnapshot *prev, const TopSnapshot *now, size_t service) {
        TopView v;

        if (top_view_build(prev, now, service, &v) < 0)
                return;
        for (int k = 0; k < _TOP_SORT_MAX; k++)
                top_view_sort(&v, (TopSort) k);
        for (size_t i = 0; i < v.n_rows; i++)
                if (v.rows[i].p50 > v.rows[i].p90 || v.rows[i].p90 > v.rows[i].p99 ||
                    v.rows[i].p99 > HISTOGRAM_VALUE_MAX || v.rows[i].pct_4xx < 0 || v.rows[i].pct_5xx < 0)
                        abort();
        top_view_done(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        TopSnapshot *s = NULL;
        int r;

        r = top_snapshot_parse((const char *) data, size, &s);
        if (r < 0) {
                if (s || (r != -EBADMSG && r != -EPROTO && r != -ENOMEM))
                        abort();
                return 0;
        }
        rows(NULL, s, SIZE_MAX);
        rows(s, s, SIZE_MAX);
        for (size_t i = 0; i < s->n_services; i++) {
                rows(NULL, s, i);
                rows(s, s, i);
        }
        top_snapshot_free(s);
        return 0;
}
