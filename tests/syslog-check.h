/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An independent, strict reader of RFC 5424 messages for the tests and the
 * fuzz target of syslog-format.c: it checks the grammar of RFC 5424 §6
 * (header fields, SD-ELEMENT, SD-NAME, PARAM-VALUE escaping), that the
 * whole message is valid UTF-8 without a newline, and returns the
 * parameters unescaped, so a test can compare them with the journal's
 * values. Written from the RFC, not from the formatter.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "basic/utf8.h"

/* At least FORMAT_FIELDS_MAX (output/entry.h): every field of an entry may be a parameter. */
#define SYSLOG_CHECK_PARAMS_MAX 128
#define SYSLOG_CHECK_VALUE_MAX (64 * 1024)

typedef struct SyslogCheckParam {
        char name[33];
        char value[SYSLOG_CHECK_VALUE_MAX];
        size_t len;
} SyslogCheckParam;

typedef struct SyslogChecked {
        unsigned pri;
        char msgid[33];
        char sd_id[33];
        size_t n_params;
        SyslogCheckParam params[SYSLOG_CHECK_PARAMS_MAX];
        const char *msg;      /* into the message */
        size_t msg_len;
} SyslogChecked;

static inline bool syslog_check_utf8(const char *s, size_t n) {
        const uint8_t *u = (const uint8_t *) s;

        for (size_t i = 0; i < n;) {
                size_t k;

                if (u[i] < 0x80) {
                        i++;
                        continue;
                }
                k = utf8_sequence_len(u + i, n - i);
                if (k == 0)
                        return false;
                i += k;
        }
        return true;
}

/* A header field: 1..max printable US-ASCII characters, then one SP. */
static inline const char *syslog_check_token(const char *p, const char *end, size_t max, char *out) {
        size_t n = 0;

        while (p < end && *p != ' ') {
                if ((unsigned char) *p < 33 || (unsigned char) *p > 126 || n >= max)
                        return NULL;
                if (out)
                        out[n] = *p;
                n++;
                p++;
        }
        if (n == 0 || p >= end)
                return NULL;
        if (out)
                out[n] = 0;
        return p + 1;
}

static inline const char *syslog_check_sd_name(const char *p, const char *end, char out[static 33]) {
        size_t n = 0;

        while (p < end && *p != '=' && *p != ' ' && *p != ']' && *p != '"') {
                if ((unsigned char) *p < 33 || (unsigned char) *p > 126 || n >= 32)
                        return NULL;
                out[n++] = *p++;
        }
        out[n] = 0;
        return n > 0 ? p : NULL;
}

/* Returns true when msg is a well-formed RFC 5424 message; fills *c. */
static inline bool syslog_check_rfc5424(const char *msg, size_t n, SyslogChecked *c) {
        const char *p = msg, *end = msg + n;

        memset(c, 0, offsetof(SyslogChecked, params));
        if (memchr(msg, '\n', n) || memchr(msg, '\0', n) || !syslog_check_utf8(msg, n))
                return false;
        if (p >= end || *p++ != '<')
                return false;
        for (int i = 0; i < 4 && p < end && *p >= '0' && *p <= '9'; i++)
                c->pri = c->pri * 10 + (unsigned) (*p++ - '0');
        if (p >= end || *p++ != '>' || c->pri > 191)
                return false;
        if (end - p < 2 || p[0] != '1' || p[1] != ' ')
                return false;
        p += 2;
        if (!(p = syslog_check_token(p, end, 32 + 6, NULL)) ||      /* TIMESTAMP */
            !(p = syslog_check_token(p, end, 255, NULL)) ||         /* HOSTNAME */
            !(p = syslog_check_token(p, end, 48, NULL)) ||          /* APP-NAME */
            !(p = syslog_check_token(p, end, 128, NULL)) ||         /* PROCID */
            !(p = syslog_check_token(p, end, 32, c->msgid)))        /* MSGID */
                return false;

        if (p < end && *p == '-')
                p++;
        else {
                if (p >= end || *p != '[')
                        return false;
                while (p < end && *p == '[') {
                        p++;
                        if (!(p = syslog_check_sd_name(p, end, c->sd_id)))
                                return false;
                        while (p < end && *p == ' ') {
                                SyslogCheckParam *q;

                                if (c->n_params >= SYSLOG_CHECK_PARAMS_MAX)
                                        return false;
                                q = &c->params[c->n_params++];
                                q->len = 0;
                                p++;
                                if (!(p = syslog_check_sd_name(p, end, q->name)))
                                        return false;
                                if (end - p < 2 || p[0] != '=' || p[1] != '"')
                                        return false;
                                p += 2;
                                for (;;) {
                                        if (p >= end)
                                                return false;
                                        if (*p == '"')
                                                break;
                                        if (*p == ']')      /* must be escaped inside a value */
                                                return false;
                                        if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\' || p[1] == ']'))
                                                p++;
                                        if (q->len >= SYSLOG_CHECK_VALUE_MAX - 1)
                                                return false;
                                        q->value[q->len++] = *p++;
                                }
                                q->value[q->len] = 0;
                                p++;
                        }
                        if (p >= end || *p != ']')
                                return false;
                        p++;
                }
        }
        if (p < end) {
                if (*p != ' ')
                        return false;
                p++;
        }
        c->msg = p;
        c->msg_len = end - p;
        return true;
}

static inline const char *syslog_check_param(const SyslogChecked *c, const char *name) {
        for (size_t i = 0; i < c->n_params; i++)
                if (strcmp(c->params[i].name, name) == 0)
                        return c->params[i].value;
        return NULL;
}
