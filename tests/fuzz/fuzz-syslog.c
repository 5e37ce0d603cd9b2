/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The syslog formatter on arbitrary fields: whatever the names and bytes,
 * the RFC 5424 message must be read back by an independent strict reader
 * (tests/syslog-check.h) with every parameter's value intact or cut with
 * "…", the RFC 3164 line must be valid UTF-8 without a newline, and both
 * must stay within message_max.
 *
 * Input: 4 bytes of options (facility, severity, message_max, flags), then
 * NUL-separated pieces taken in pairs: a field-name selector byte followed
 * by the value.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../syslog-check.h"
#include "basic/macro.h"
#include "output/entry.h"
#include "output/syslog-format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
        "MESSAGE", "PRIORITY", "MESSAGE_ID", "SYSLOG_IDENTIFIER", "PROCESS_PID", "HTTP_METHOD", "HTTP_TARGET",
        "HTTP_STATUS", "HTTP_HOST", "CLIENT_ADDR", "HTTP_REQUEST_HEADER_X_A_VERY_LONG_NAME_OVER_32", "HTTP_",
        "TRACE_ID", "bad name", "HTTP_FLAGS",
};

_Static_assert(SYSLOG_CHECK_PARAMS_MAX >= FORMAT_FIELDS_MAX, "the checker must hold every field an entry may have");

static SyslogChecked checked;
static char buf[SYSLOG_MESSAGE_MAX];
static char values[FORMAT_FIELDS_MAX][SYSLOG_MESSAGE_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const size_t sizes[] = { SYSLOG_MESSAGE_MIN, 4096, 8192, SYSLOG_MESSAGE_MAX };
        FormatField fields[FORMAT_FIELDS_MAX];
        SyslogFormatOptions o;
        const uint8_t *p, *end = data + size;
        size_t n = 0;
        bool truncated;
        ssize_t k;

        if (size < 4)
                return 0;
        o = (SyslogFormatOptions) {
                .format = SYSLOG_FORMAT_RFC5424,
                .facility = data[0] % 24,
                .severity = data[1] % 9 == 8 ? SYSLOG_SEVERITY_ENTRY : data[1] % 9,
                .message_max = sizes[data[2] % ELEMENTSOF(sizes)],
                .hostname = data[3] & 1 ? "host.example" : data[3] & 2 ? "bad host" : NULL,
                .procid = data[3] & 4 ? 4242 : 0,
        };

        for (p = data + 4; p < end && n < FORMAT_FIELDS_MAX;) {
                const uint8_t *z;
                size_t len;

                z = memchr(p, 0, end - p);
                len = (z ?: end) - p;
                if (len == 0) {
                        p = z ? z + 1 : end;
                        continue;
                }
                len = MIN(len - 1, sizeof(values[0]) - 1);
                memcpy(values[n], p + 1, len);
                values[n][len] = 0;
                fields[n] = (FormatField) { .name = names[p[0] % ELEMENTSOF(names)], .value = values[n],
                                            .len = len, .type = FORMAT_STRING };
                n++;
                p = z ? z + 1 : end;
        }

        k = syslog_format_message(buf, sizeof(buf), &o, UINT64_C(1700000000000000), fields, n, &truncated);
        if (k <= 0 || (size_t) k > o.message_max)
                abort();
        if (!syslog_check_rfc5424(buf, (size_t) k, &checked))
                abort();
        /* A parameter is its field's value, escaped as the journal would show it, or a cut of it. */
        for (size_t i = 0; i < checked.n_params; i++) {
                const SyslogCheckParam *q = &checked.params[i];
                if (!truncated && !memchr(q->value, '\\', q->len) && !memchr(q->value, 0xe2, q->len)) {
                        bool found = false;
                        for (size_t j = 0; j < n && !found; j++)
                                found = fields[j].len == q->len && memcmp(fields[j].value, q->value, q->len) == 0;
                        if (!found)
                                abort();
                }
        }

        o.format = SYSLOG_FORMAT_RFC3164;
        k = syslog_format_message(buf, sizeof(buf), &o, UINT64_C(1700000000000000), fields, n, &truncated);
        if (k <= 0 || (size_t) k > o.message_max || memchr(buf, '\n', (size_t) k) ||
            !syslog_check_utf8(buf, (size_t) k))
                abort();
        return 0;
}
