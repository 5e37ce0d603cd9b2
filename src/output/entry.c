/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The entry every output consumes: its builder (values appended into the
 * entry's own storage, bounded, never allocating) and the escaping that makes
 * any bytes from the traffic safe in a log line. See entry.h for the rules.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/utf8.h"
#include "output/entry.h"

#define ELLIPSIS "\xe2\x80\xa6"   /* U+2026, marks a value cut to its limit */
#define ELLIPSIS_LEN 3u

/* ---- escaping ------------------------------------------------------------ */

/*
 * Code points that are valid UTF-8 but must not reach a log line as they
 * are: C1 controls (terminals act on some), line and paragraph separators
 * (some viewers break lines on them), and bidi controls (they make a line
 * display differently from what it contains, cf. "Trojan Source").
 */
static bool unichar_is_unsafe(uint32_t cp) {
        return (cp >= 0x80 && cp <= 0x9f) ||
                cp == 0x061c ||
                cp == 0x200e || cp == 0x200f ||
                (cp >= 0x2028 && cp <= 0x202e) ||
                (cp >= 0x2066 && cp <= 0x2069);
}

static size_t hex_escape(char *out, const uint8_t *s, size_t n) {
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                out[o++] = '\\';
                out[o++] = 'x';
                out[o++] = hex[s[i] >> 4];
                out[o++] = hex[s[i] & 0xf];
        }
        return o;
}

size_t format_escape(char *dst, size_t size, const void *src, size_t n, bool *ret_truncated) {
        const uint8_t *s = src;
        size_t limit, o = 0, cut = 0;
        bool truncated = false;

        if (size == 0) {
                if (ret_truncated)
                        *ret_truncated = n > 0;
                return 0;
        }
        limit = size - 1;

        /* Work in whole units (a character or one escape), so a cut can never
         * split a UTF-8 sequence or an escape. 'cut' remembers the last unit
         * boundary that still leaves room for the ellipsis. */
        for (size_t i = 0; i < n;) {
                char unit[16];
                size_t ul, il;
                uint32_t cp;

                if (s[i] == '\\') {
                        unit[0] = unit[1] = '\\';
                        ul = 2, il = 1;
                } else if (s[i] >= 0x20 && s[i] < 0x7f) {
                        unit[0] = (char) s[i];
                        ul = 1, il = 1;
                } else if (s[i] < 0x80) {
                        ul = hex_escape(unit, s + i, 1), il = 1;
                } else if ((il = utf8_decode(s + i, n - i, &cp)) > 0) {
                        if (unichar_is_unsafe(cp))
                                ul = hex_escape(unit, s + i, il);
                        else {
                                memcpy(unit, s + i, il);
                                ul = il;
                        }
                } else
                        ul = hex_escape(unit, s + i, 1), il = 1;

                if (o + ul > limit) {
                        truncated = true;
                        break;
                }
                memcpy(dst + o, unit, ul);
                o += ul;
                i += il;
                if (o + ELLIPSIS_LEN <= limit)
                        cut = o;
        }

        if (truncated) {
                o = cut;
                if (o + ELLIPSIS_LEN <= limit) {
                        memcpy(dst + o, ELLIPSIS, ELLIPSIS_LEN);
                        o += ELLIPSIS_LEN;
                }
        }
        dst[o] = 0;
        if (ret_truncated)
                *ret_truncated = truncated;
        return o;
}

/* ---- small value formatters ---------------------------------------------- */

const char *format_duration(char buf[static FORMAT_DURATION_MAX], uint64_t ns) {
        if (ns < NSEC_PER_MSEC) {
                snprintf(buf, FORMAT_DURATION_MAX, "%" PRIu64 " µs", ns / NSEC_PER_USEC);
                return buf;
        }

        /* Rounded to a tenth; 999.96 ms becomes "1.0 s", not "1000.0 ms". */
        uint64_t tenths = (ns + NSEC_PER_MSEC / 20) / (NSEC_PER_MSEC / 10);
        if (tenths < 10000) {
                snprintf(buf, FORMAT_DURATION_MAX, "%" PRIu64 ".%" PRIu64 " ms", tenths / 10, tenths % 10);
                return buf;
        }

        tenths = (ns + NSEC_PER_SEC / 20) / (NSEC_PER_SEC / 10);
        snprintf(buf, FORMAT_DURATION_MAX, "%" PRIu64 ".%" PRIu64 " s", tenths / 10, tenths % 10);
        return buf;
}

/* ---- building an entry --------------------------------------------------- */

EntryBuilder entry_builder_start(FormatEntry *e, size_t max) {
        size_t avail = sizeof(e->buf) - e->used;

        return (EntryBuilder) {
                .buf = e->buf + e->used,
                .size = MIN(avail, max + 1),
                .overflow = avail < max + 1,
        };
}

void entry_builder_putn(EntryBuilder *b, const char *s, size_t n) {
        if (b->len + n + 1 > b->size) {
                b->overflow = true;
                return;
        }
        memcpy(b->buf + b->len, s, n);
        b->len += n;
        b->buf[b->len] = 0;
}

void entry_builder_puts(EntryBuilder *b, const char *s) {
        entry_builder_putn(b, s, strlen(s));
}

_printf_(2, 3)
void entry_builder_printf(EntryBuilder *b, const char *format, ...) {
        va_list ap;
        int k;

        if (b->len >= b->size) {
                b->overflow = true;
                return;
        }
        va_start(ap, format);
        k = vsnprintf(b->buf + b->len, b->size - b->len, format, ap);
        va_end(ap);
        if (k < 0 || (size_t) k >= b->size - b->len) {
                b->overflow = true;
                b->buf[b->len] = 0;
                return;
        }
        b->len += k;
}

/* Append escaped untrusted bytes, using at most max bytes. Returns whether they were cut. */
bool entry_builder_escape(EntryBuilder *b, const void *src, size_t n, size_t max) {
        bool truncated;

        if (b->len + max + 1 > b->size) {
                b->overflow = true;
                return false;
        }
        b->len += format_escape(b->buf + b->len, max + 1, src, n, &truncated);
        return truncated;
}

int entry_builder_commit(FormatEntry *e, EntryBuilder *b, const char *name, FormatType type) {
        if (b->overflow || e->n_fields >= ELEMENTSOF(e->fields))
                return -ENOBUFS;

        e->fields[e->n_fields++] = (FormatField) {
                .name = name,
                .value = b->buf,
                .len = b->len,
                .type = type,
        };
        e->used += b->len + 1;
        return 0;
}

_printf_(4, 5)
int entry_addf(FormatEntry *e, const char *name, FormatType type, const char *format, ...) {
        EntryBuilder b = entry_builder_start(e, 64);
        va_list ap;
        int k;

        /* Only our own numbers go through here: 64 bytes is plenty. */
        if (b.overflow)
                return -ENOBUFS;
        va_start(ap, format);
        k = vsnprintf(b.buf, b.size, format, ap);
        va_end(ap);
        if (k < 0 || (size_t) k >= b.size)
                return -ENOBUFS;
        b.len = k;
        return entry_builder_commit(e, &b, name, type);
}

int entry_add_u64(FormatEntry *e, const char *name, uint64_t v) {
        return entry_addf(e, name, FORMAT_NUMBER, "%" PRIu64, v);
}

/* Our own strings (constants, addresses, ids, flags): no escaping, no limit but the storage. */
int entry_add_str(FormatEntry *e, const char *name, const char *s) {
        size_t n = strlen(s);
        EntryBuilder b = entry_builder_start(e, n);

        entry_builder_putn(&b, s, n);
        return entry_builder_commit(e, &b, name, FORMAT_STRING);
}

/* Untrusted bytes: escaped, cut to max, the cut counted. */
int entry_add_escaped(FormatEntry *e, const char *name, const void *src, size_t n, size_t max, Stats *stats) {
        EntryBuilder b = entry_builder_start(e, max);

        if (entry_builder_escape(&b, src, n, max)) {
                e->n_truncated++;
                if (stats)
                        stats->fields_truncated++;
        }
        return entry_builder_commit(e, &b, name, FORMAT_STRING);
}

void entry_reset(FormatEntry *e) {
        e->n_fields = 0;
        e->used = 0;
        e->n_truncated = 0;
        e->n_dropped = 0;
}

const char *format_entry_get(const FormatEntry *e, const char *name) {
        for (size_t i = 0; e && i < e->n_fields; i++)
                if (strcmp(e->fields[i].name, name) == 0)
                        return e->fields[i].value;
        return NULL;
}


int format_header_field_name(char buf[static FORMAT_FIELD_NAME_MAX + 1], const char *prefix, const char *name) {
        size_t k, n;
        bool cut;

        if (!prefix || !name || !*name || !(prefix[0] >= 'A' && prefix[0] <= 'Z'))
                return -EINVAL;
        k = strlen(prefix);
        if (k >= FORMAT_FIELD_NAME_MAX)
                return -EINVAL;

        n = strlen(name);
        cut = k + n > FORMAT_FIELD_NAME_MAX;
        n = MIN(n, FORMAT_FIELD_NAME_MAX - k);
        memcpy(buf, prefix, k);
        for (size_t i = 0; i < n; i++) {
                char c = name[i];

                if (c >= 'a' && c <= 'z')
                        c = (char) (c - 'a' + 'A');
                else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
                        c = '_';
                buf[k + i] = c;
        }
        buf[k + n] = 0;
        return cut;
}
