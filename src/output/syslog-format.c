/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * RFC 5424 / RFC 3164 messages from formatted entries (syslog-format.h).
 *
 * Size: a message is built into at most options->message_max bytes. When the
 * whole entry does not fit, it is built again with every value (and MSG) cut
 * to a smaller length, halving until it fits; at the smallest length,
 * parameters that still do not fit are left out. Only oversized entries (a
 * long target, many logged headers) ever take more than one pass.
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "basic/macro.h"
#include "basic/utf8.h"
#include "output/syslog-format.h"

#define ELLIPSIS "\xe2\x80\xa6"
#define ELLIPSIS_LEN 3u

/* Value lengths tried when an entry is too big, then the last resort (parameters left out). */
static const size_t value_caps[] = { SIZE_MAX, 4096, 2048, 1024, 512, 256, 128, 64, 32 };

static const char *const format_table[_SYSLOG_FORMAT_MAX] = {
        [SYSLOG_FORMAT_AUTO]    = "auto",
        [SYSLOG_FORMAT_RFC5424] = "rfc5424",
        [SYSLOG_FORMAT_RFC3164] = "rfc3164",
};

static const char *const facility_table[] = {
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
        "ntp", "security", "console", "solaris-cron",
        "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

static const char *const severity_table[] = {
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

/* MSGID (RFC 5424 §6.2.7: at most 32 printable characters) per kind of entry. */
static const struct {
        const char *message_id;
        const char *msgid;
} msgid_table[] = {
        { FORMAT_MESSAGE_ID_COMPLETE,     "exchange" },
        { FORMAT_MESSAGE_ID_NO_RESPONSE,  "no-response" },
        { FORMAT_MESSAGE_ID_UNCORRELATED, "uncorrelated" },
        { FORMAT_MESSAGE_ID_PARSE_ERROR,  "parse-error" },
};

const char *syslog_format_to_string(SyslogFormat f) {
        if ((unsigned) f >= ELEMENTSOF(format_table))
                return NULL;
        return format_table[f];
}

SyslogFormat syslog_format_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(format_table); i++)
                if (strcmp(s, format_table[i]) == 0)
                        return (SyslogFormat) i;
        return _SYSLOG_FORMAT_INVALID;
}

/* A small decimal ("0".."max") as an int, or -EINVAL. */
static int small_number(const char *s, int max) {
        int v = 0;

        if (!s || !*s || strlen(s) > 2)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (*p - '0');
        }
        return v <= max ? v : -EINVAL;
}

static int name_lookup(const char *s, const char *const *table, size_t n) {
        int v = small_number(s, (int) n - 1);

        if (v >= 0)
                return v;
        for (size_t i = 0; s && i < n; i++)
                if (strcasecmp(s, table[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

int syslog_facility_from_string(const char *s) {
        return name_lookup(s, facility_table, ELEMENTSOF(facility_table));
}

const char *syslog_facility_to_string(int facility) {
        if (facility < 0 || (size_t) facility >= ELEMENTSOF(facility_table))
                return NULL;
        return facility_table[facility];
}

int syslog_severity_from_string(const char *s) {
        if (s && strcmp(s, "entry") == 0)
                return SYSLOG_SEVERITY_ENTRY;
        return name_lookup(s, severity_table, ELEMENTSOF(severity_table));
}

/* "host", "host:port", "[v6]", "[v6]:port" into ret->host/port. */
static int parse_host_port(const char *s, SyslogTarget *ret, const char **ret_why) {
        const char *host = s, *colon;
        size_t host_len;

        if (*s == '[') {
                const char *end = strchr(s, ']');
                if (!end)
                        return *ret_why = "missing ']' after an IPv6 address", -EINVAL;
                host = s + 1;
                host_len = end - host;
                colon = end[1] == ':' ? end + 1 : NULL;
                if (end[1] && !colon)
                        return *ret_why = "unexpected text after ']' (expected :PORT)", -EINVAL;
        } else {
                colon = strchr(s, ':');
                if (colon && strchr(colon + 1, ':'))
                        return *ret_why = "an IPv6 address must be written in brackets: [::1]:514", -EINVAL;
                host_len = colon ? (size_t) (colon - s) : strlen(s);
        }
        if (host_len == 0)
                return *ret_why = "missing host", -EINVAL;
        if (host_len >= sizeof(ret->host))
                return *ret_why = "host name too long", -EINVAL;
        for (size_t i = 0; i < host_len; i++)
                if ((unsigned char) host[i] <= ' ' || host[i] == 0x7f || strchr("/?#@[]", host[i]))
                        return *ret_why = "invalid character in host", -EINVAL;
        memcpy(ret->host, host, host_len);
        ret->host[host_len] = 0;

        ret->port = 514;
        if (colon) {
                unsigned long port = 0;
                const char *p = colon + 1;

                if (!*p || strlen(p) > 5)
                        return *ret_why = "port must be a number from 1 to 65535", -EINVAL;
                for (; *p; p++) {
                        if (*p < '0' || *p > '9')
                                return *ret_why = "port must be a number from 1 to 65535", -EINVAL;
                        port = port * 10 + (unsigned long) (*p - '0');
                }
                if (port == 0 || port > 65535)
                        return *ret_why = "port must be a number from 1 to 65535", -EINVAL;
                ret->port = (uint16_t) port;
        }
        return 0;
}

int syslog_target_parse(const char *s, SyslogTarget *ret, const char **ret_why) {
        SyslogTarget t = {};
        const char *why_dummy;
        int r;

        if (!ret_why)
                ret_why = &why_dummy;
        if (!s || !*s)
                return *ret_why = "empty target", -EINVAL;

        if (strncmp(s, "udp://", 6) == 0 || strncmp(s, "tcp://", 6) == 0) {
                t.transport = s[0] == 'u' ? SYSLOG_TRANSPORT_UDP : SYSLOG_TRANSPORT_TCP;
                r = parse_host_port(s + 6, &t, ret_why);
                if (r < 0)
                        return r;
        } else {
                const char *path = strncmp(s, "unix:", 5) == 0 ? s + 5 : s;

                if (path[0] != '/')
                        return *ret_why = "expected an absolute socket path, unix:/path, udp://HOST[:PORT] or tcp://HOST[:PORT]",
                               -EINVAL;
                if (strlen(path) >= sizeof(t.path))
                        return *ret_why = "socket path longer than 107 bytes", -EINVAL;
                for (const char *p = path; *p; p++)
                        if ((unsigned char) *p < 0x20 || *p == 0x7f)
                                return *ret_why = "control character in socket path", -EINVAL;
                t.transport = SYSLOG_TRANSPORT_UNIX;
                strcpy(t.path, path);
        }

        *ret = t;
        return 0;
}

size_t syslog_frame_prefix(char buf[static SYSLOG_FRAME_PREFIX_MAX], size_t message_len) {
        char tmp[24];
        int n = snprintf(tmp, sizeof(tmp), "%zu ", message_len);

        /* Our messages are at most SYSLOG_MESSAGE_MAX: five digits. */
        if (n < 0 || (size_t) n > SYSLOG_FRAME_PREFIX_MAX)
                return 0;
        memcpy(buf, tmp, (size_t) n);
        return (size_t) n;
}

int syslog_frame_parse(const char *buf, size_t n, size_t *ret_frame_len) {
        size_t len = 0, i = 0;

        for (; i < n && i < SYSLOG_FRAME_PREFIX_MAX; i++) {
                if (buf[i] == ' ')
                        break;
                if (buf[i] < '0' || buf[i] > '9')
                        return -EBADMSG;
                len = len * 10 + (size_t) (buf[i] - '0');
        }
        if (i == n)
                return -EAGAIN;
        if (i == 0 || buf[i] != ' ' || len == 0)
                return -EBADMSG;
        *ret_frame_len = i + 1 + len;
        return 0;
}

/* ---- building ------------------------------------------------------------ */

typedef struct Builder {
        char *buf;
        size_t size;
        size_t n;
        bool overflow;
} Builder;

static void put(Builder *b, const char *s, size_t n) {
        if (b->overflow || n > b->size - b->n) {
                b->overflow = true;
                return;
        }
        memcpy(b->buf + b->n, s, n);
        b->n += n;
}

static void puts_(Builder *b, const char *s) {
        put(b, s, strlen(s));
}

/*
 * One value, escaped, at most cap bytes of output ("…" included when cut).
 * sd: inside an SD-PARAM ('"', '\', ']' get a backslash). Control
 * characters and invalid UTF-8 become "\xNN" text, whose backslash is itself
 * escaped inside SD-PARAMs, so an unescaping receiver reads "\xNN".
 */
static void put_value(Builder *b, const char *value, size_t n, size_t cap, bool sd, bool *truncated) {
        static const char hex[] = "0123456789abcdef";
        const uint8_t *s = (const uint8_t *) value;
        size_t written = 0, start = b->n, cut = b->n;

        for (size_t i = 0; i < n;) {
                char unit[8];
                size_t ul = 0, il = 1, k;

                if (s[i] < 0x20 || s[i] == 0x7f || (s[i] >= 0x80 && (k = utf8_sequence_len(s + i, n - i)) == 0)) {
                        if (sd)
                                unit[ul++] = '\\';
                        unit[ul++] = '\\';
                        unit[ul++] = 'x';
                        unit[ul++] = hex[s[i] >> 4];
                        unit[ul++] = hex[s[i] & 0xf];
                } else if (s[i] >= 0x80) {
                        memcpy(unit, s + i, k);
                        ul = il = k;
                } else {
                        if (sd && (s[i] == '"' || s[i] == '\\' || s[i] == ']'))
                                unit[ul++] = '\\';
                        unit[ul++] = (char) s[i];
                }

                if (written + ul > cap) {
                        /* Back to the last unit boundary that leaves room for the ellipsis. */
                        b->n = cut;
                        if (cut - start + ELLIPSIS_LEN <= cap)
                                put(b, ELLIPSIS, ELLIPSIS_LEN);
                        *truncated = true;
                        return;
                }
                put(b, unit, ul);
                if (b->overflow)
                        return;
                written += ul;
                i += il;
                if (written + ELLIPSIS_LEN <= cap)
                        cut = b->n;
        }
}

static void put_uint(Builder *b, unsigned v) {
        char tmp[16];
        int n = snprintf(tmp, sizeof(tmp), "%u", v);

        if (n > 0)
                put(b, tmp, (size_t) n);
}

static const FormatField *field_get(const FormatField *fields, size_t n_fields, const char *name) {
        for (size_t i = 0; i < n_fields; i++)
                if (strcmp(fields[i].name, name) == 0)
                        return &fields[i];
        return NULL;
}

static int entry_severity(const SyslogFormatOptions *o, const FormatField *fields, size_t n_fields) {
        const FormatField *f;

        if (o->severity != SYSLOG_SEVERITY_ENTRY)
                return o->severity;
        f = field_get(fields, n_fields, "PRIORITY");
        if (f && f->len == 1 && f->value[0] >= '0' && f->value[0] <= '7')
                return f->value[0] - '0';
        return 6; /* info: what a journal entry without PRIORITY means */
}

/* Printable US-ASCII without space (RFC 5424 PRINTUSASCII), 1..max bytes. */
static bool header_value_ok(const char *s, size_t max) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < 33 || s[i] > 126)
                        return false;
        return true;
}

/* SD-NAME of a field: lower case, "HTTP_" dropped, PROCESS_PID as "pid". Return: its length; 0: not a parameter. */
static size_t sd_param_name(const char *field, char buf[static SYSLOG_SD_NAME_MAX + 1]) {
        size_t n = 0;

        if (strcmp(field, "MESSAGE") == 0 || strcmp(field, "PRIORITY") == 0 ||
            strcmp(field, "SYSLOG_IDENTIFIER") == 0)
                return 0;
        if (strcmp(field, "PROCESS_PID") == 0)
                field = "PID";
        else if (strncmp(field, "HTTP_", 5) == 0 && field[5])
                field += 5;
        /* Field names are [A-Z0-9_] (format.h); anything else, and any length
         * beyond SD-NAME's 32, is refused rather than sent broken. */
        for (; *field; field++) {
                char c = *field;

                if (n >= SYSLOG_SD_NAME_MAX)
                        return 0;
                if (c >= 'A' && c <= 'Z')
                        c = (char) (c - 'A' + 'a');
                else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
                        return 0;
                buf[n++] = c;
        }
        buf[n] = 0;
        return n;
}

static void put_rfc5424_header(Builder *b, const SyslogFormatOptions *o, int pri, uint64_t realtime_usec,
                               const FormatField *fields, size_t n_fields) {
        const FormatField *id = field_get(fields, n_fields, "MESSAGE_ID");
        const char *msgid = "-";
        time_t sec = (time_t) (realtime_usec / USEC_PER_SEC);
        struct tm tm;
        char ts[64];

        if (!gmtime_r(&sec, &tm) ||
            snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (unsigned) (realtime_usec % USEC_PER_SEC)) >= (int) sizeof(ts))
                strcpy(ts, "-");

        for (size_t i = 0; id && i < ELEMENTSOF(msgid_table); i++)
                if (strcmp(id->value, msgid_table[i].message_id) == 0)
                        msgid = msgid_table[i].msgid;

        puts_(b, "<");
        put_uint(b, (unsigned) pri);
        puts_(b, ">1 ");
        puts_(b, ts);
        puts_(b, " ");
        puts_(b, header_value_ok(o->hostname, SYSLOG_HOSTNAME_MAX) ? o->hostname : "-");
        puts_(b, " " SYSLOG_APP_NAME " ");
        if (o->procid > 0)
                put_uint(b, o->procid);
        else
                puts_(b, "-");
        puts_(b, " ");
        puts_(b, msgid);
        puts_(b, " ");
}

static void put_rfc3164_header(Builder *b, const SyslogFormatOptions *o, int pri, uint64_t realtime_usec) {
        static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        time_t sec = (time_t) (realtime_usec / USEC_PER_SEC);
        struct tm tm = {};
        char ts[32];

        /* RFC 3164 §4.1.2: "Mmm dd hh:mm:ss", the day space-padded, local time. */
        if (!localtime_r(&sec, &tm))
                (void) gmtime_r(&sec, &tm);
        snprintf(ts, sizeof(ts), "%s %2d %02d:%02d:%02d ", months[tm.tm_mon % 12], tm.tm_mday % 100,
                 tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100);

        puts_(b, "<");
        put_uint(b, (unsigned) pri);
        puts_(b, ">");
        puts_(b, ts);
        if (header_value_ok(o->hostname, SYSLOG_HOSTNAME_MAX)) {
                puts_(b, o->hostname);
                puts_(b, " ");
        }
        puts_(b, SYSLOG_APP_NAME);
        if (o->procid > 0) {
                puts_(b, "[");
                put_uint(b, o->procid);
                puts_(b, "]");
        }
        puts_(b, ": ");
}

/* One attempt at the given value cap; b->overflow says whether it fit. */
static void build(Builder *b, const SyslogFormatOptions *o, uint64_t realtime_usec, const FormatField *fields,
                  size_t n_fields, size_t cap, bool last_resort, bool *truncated) {
        const FormatField *msg = field_get(fields, n_fields, "MESSAGE");
        int pri = o->facility * 8 + entry_severity(o, fields, n_fields);
        /* What MSG needs at most at this cap: " " and the escaped text (6 bytes per input byte at worst). */
        size_t msg_room = msg ? 1 + MIN(cap, msg->len * 6) : 0;

        if (o->format == SYSLOG_FORMAT_RFC3164) {
                put_rfc3164_header(b, o, pri, realtime_usec);
                if (msg)
                        put_value(b, msg->value, msg->len, cap, false, truncated);
                return;
        }

        put_rfc5424_header(b, o, pri, realtime_usec, fields, n_fields);
        puts_(b, "[" SYSLOG_SD_ID);
        for (size_t i = 0; i < n_fields && !b->overflow; i++) {
                char name[SYSLOG_SD_NAME_MAX + 1];
                size_t mark = b->n;

                if (sd_param_name(fields[i].name, name) == 0)
                        continue;
                puts_(b, " ");
                puts_(b, name);
                puts_(b, "=\"");
                put_value(b, fields[i].value, fields[i].len, cap, true, truncated);
                puts_(b, "\"");
                /* Last resort: leave the parameter out, keep room for "]" and MSG. */
                if (last_resort && (b->overflow || b->size - b->n < 1 + msg_room)) {
                        b->overflow = false;
                        b->n = mark;
                        *truncated = true;
                }
        }
        puts_(b, "]");
        if (msg) {
                puts_(b, " ");
                put_value(b, msg->value, msg->len, cap, false, truncated);
        }
}

ssize_t syslog_format_message(char *buf, size_t size, const SyslogFormatOptions *o, uint64_t realtime_usec,
                              const FormatField *fields, size_t n_fields, bool *ret_truncated) {
        bool truncated = false;

        if (!buf || !o || (!fields && n_fields > 0) ||
            (o->format != SYSLOG_FORMAT_RFC5424 && o->format != SYSLOG_FORMAT_RFC3164) ||
            o->facility < 0 || o->facility > 23 ||
            (o->severity != SYSLOG_SEVERITY_ENTRY && (o->severity < 0 || o->severity > 7)) ||
            o->message_max < SYSLOG_MESSAGE_MIN || o->message_max > SYSLOG_MESSAGE_MAX)
                return -EINVAL;
        if (size < o->message_max)
                return -ENOBUFS;

        for (size_t i = 0; i < ELEMENTSOF(value_caps); i++) {
                Builder b = { .buf = buf, .size = o->message_max };

                truncated = i > 0;
                build(&b, o, realtime_usec, fields, n_fields, value_caps[i], i + 1 == ELEMENTSOF(value_caps),
                      &truncated);
                if (!b.overflow) {
                        if (ret_truncated)
                                *ret_truncated = truncated;
                        return (ssize_t) b.n;
                }
        }
        /* Unreachable with message_max >= SYSLOG_MESSAGE_MIN: the header and
         * 32-byte MSG always fit and parameters are left out. */
        return -ENOBUFS;
}
