/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Value parsers for configuration; see parse-util.h. Everything here is
 * locale-independent (the daemon may run with any LANG) and refuses rather
 * than guesses: a value an operator mistyped should be reported, not read
 * as something else.
 */

#define _GNU_SOURCE 1  /* strtod_l */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "basic/parse-util.h"

int parse_boolean(const char *s) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

/* Reads the leading decimal digits of *p; fails when there are none or they overflow. */
static int read_digits(const char **p, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        for (; isdigit((unsigned char) *s); s++) {
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t) (*s - '0'), &v))
                        return -ERANGE;
        }
        *p = s;
        *ret = v;
        return 0;
}

/* "N" or "N-M", and nothing after: the shape of port and status ranges. */
static int read_range(const char *s, uint64_t *ret_first, uint64_t *ret_last) {
        uint64_t a, b;
        int r;

        r = read_digits(&s, &a);
        if (r < 0)
                return r;
        b = a;
        if (*s == '-') {
                s++;
                r = read_digits(&s, &b);
                if (r < 0)
                        return r;
        }
        if (*s)
                return -EINVAL;
        *ret_first = a;
        *ret_last = b;
        return 0;
}

int parse_uint64(const char *s, uint64_t *ret) {
        uint64_t v;
        int r;

        if (!s)
                return -EINVAL;
        r = read_digits(&s, &v);
        if (r < 0)
                return r;
        if (*s)
                return -EINVAL;
        *ret = v;
        return 0;
}

static const char *skip_space(const char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t factor;
        } table[] = {
                { "",    1 },                 { "B",   1 },
                { "K",   UINT64_C(1) << 10 }, { "KB",  UINT64_C(1) << 10 }, { "KiB", UINT64_C(1) << 10 },
                { "M",   UINT64_C(1) << 20 }, { "MB",  UINT64_C(1) << 20 }, { "MiB", UINT64_C(1) << 20 },
                { "G",   UINT64_C(1) << 30 }, { "GB",  UINT64_C(1) << 30 }, { "GiB", UINT64_C(1) << 30 },
                { "T",   UINT64_C(1) << 40 }, { "TB",  UINT64_C(1) << 40 }, { "TiB", UINT64_C(1) << 40 },
        };
        uint64_t v;
        int r;

        if (!s)
                return -EINVAL;
        s = skip_space(s);
        r = read_digits(&s, &v);
        if (r < 0)
                return r;
        s = skip_space(s);
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                if (strcmp(s, table[i].suffix) != 0)
                        continue;
                if (__builtin_mul_overflow(v, table[i].factor, &v))
                        return -ERANGE;
                *ret = v;
                return 0;
        }
        return -EINVAL;
}

int parse_duration_ns(const char *s, uint64_t *ret) {
        static const struct {
                const char *unit;
                uint64_t ns;
        } table[] = {
                { "ns", 1 }, { "nsec", 1 },
                { "us", NSEC_PER_USEC }, { "usec", NSEC_PER_USEC },
                { "ms", NSEC_PER_MSEC }, { "msec", NSEC_PER_MSEC },
                { "s", NSEC_PER_SEC }, { "sec", NSEC_PER_SEC }, { "second", NSEC_PER_SEC }, { "seconds", NSEC_PER_SEC },
                { "m", 60 * NSEC_PER_SEC }, { "min", 60 * NSEC_PER_SEC }, { "minute", 60 * NSEC_PER_SEC },
                { "minutes", 60 * NSEC_PER_SEC },
                { "h", 3600 * NSEC_PER_SEC }, { "hr", 3600 * NSEC_PER_SEC }, { "hour", 3600 * NSEC_PER_SEC },
                { "hours", 3600 * NSEC_PER_SEC },
                { "d", 86400 * NSEC_PER_SEC }, { "day", 86400 * NSEC_PER_SEC }, { "days", 86400 * NSEC_PER_SEC },
        };
        uint64_t total = 0;
        bool any = false;

        if (!s)
                return -EINVAL;
        s = skip_space(s);
        while (*s) {
                const char *w;
                uint64_t v, factor = 0;
                size_t n;
                int r;

                r = read_digits(&s, &v);
                if (r < 0)
                        return r;
                s = skip_space(s);
                for (w = s; isalpha((unsigned char) *w); w++)
                        ;
                n = (size_t) (w - s);
                if (n == 0) {
                        /* A bare number is seconds, but only as the whole value: "1min 30" is a typo. */
                        if (any || *s)
                                return -EINVAL;
                        factor = NSEC_PER_SEC;
                } else {
                        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                                if (strlen(table[i].unit) == n && strncmp(s, table[i].unit, n) == 0) {
                                        factor = table[i].ns;
                                        break;
                                }
                        if (factor == 0)
                                return -EINVAL;
                }
                if (__builtin_mul_overflow(v, factor, &v) || __builtin_add_overflow(total, v, &total))
                        return -ERANGE;
                any = true;
                s = skip_space(w);
        }
        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}

/*
 * Fractions (rates) below this, other than 0, are refused: nobody samples one in
 * a billion, and it bounds the digits format_decimal() needs for an exact form.
 */
#define FRACTION_MIN 1e-9
/* Digits needed to print any double in [FRACTION_MIN, 1e15] so that it reads back the same. */
#define DECIMAL_PRECISION_MAX 30

static locale_t c_locale(void) {
        static locale_t l = (locale_t) 0;

        if (!l)
                l = newlocale(LC_NUMERIC_MASK, "C", (locale_t) 0);
        return l;
}

/* strtod, but always with '.' as the decimal point whatever the process locale. */
static double strtod_c(const char *s) {
        locale_t l = c_locale();

        return l ? strtod_l(s, NULL, l) : strtod(s, NULL);
}

int parse_decimal(const char *s, double *ret) {
        const char *p = s;
        uint64_t whole;
        int r;

        if (!s || strlen(s) > 64)
                return -EINVAL;
        /* Our grammar first (no sign, exponent, hex, inf or nan), then a correctly rounded conversion. */
        r = read_digits(&p, &whole);
        if (r < 0)
                return r;
        if (*p == '.') {
                const char *f = ++p;
                while (isdigit((unsigned char) *p))
                        p++;
                if (p == f)
                        return -EINVAL;
        }
        if (*p)
                return -EINVAL;
        *ret = strtod_c(s);
        return 0;
}

int parse_fraction(const char *s, double *ret) {
        _cleanup_(freep) char *copy = NULL;
        double v;
        size_t n;
        bool percent = false;
        int r;

        if (!s)
                return -EINVAL;
        n = strlen(s);
        if (n > 0 && s[n - 1] == '%') {
                copy = strndup(s, n - 1);
                if (!copy)
                        return -ENOMEM;
                s = copy;
                percent = true;
        }
        r = parse_decimal(s, &v);
        if (r < 0)
                return r;
        if (percent)
                v /= 100;
        if (v > 1 || (v > 0 && v < FRACTION_MIN))
                return -ERANGE;
        *ret = v;
        return 0;
}

int parse_port_range(const char *s, PortRange *ret) {
        uint64_t a, b;
        int r;

        if (!s)
                return -EINVAL;
        r = read_range(s, &a, &b);
        if (r < 0)
                return r;
        if (a < 1 || a > 65535 || b < 1 || b > 65535 || a > b)
                return -ERANGE;
        *ret = (PortRange) { .first = (uint16_t) a, .last = (uint16_t) b };
        return 0;
}

static void cidr_mask(Cidr *c) {
        unsigned bits = c->family == AF_INET ? 32 : 128;

        for (unsigned i = c->prefixlen; i < bits; i++)
                c->addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

int parse_cidr(const char *s, Cidr *ret, Cidr *ret_masked) {
        char buf[INET6_ADDRSTRLEN + 8];
        const char *slash;
        Cidr c = {};
        size_t n;

        if (!s)
                return -EINVAL;
        slash = strchr(s, '/');
        n = slash ? (size_t) (slash - s) : strlen(s);
        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = 0;

        if (inet_pton(AF_INET, buf, c.addr) == 1)
                c.family = AF_INET;
        else if (inet_pton(AF_INET6, buf, c.addr) == 1)
                c.family = AF_INET6;
        else
                return -EINVAL;

        c.prefixlen = c.family == AF_INET ? 32 : 128;
        if (slash) {
                uint64_t len;

                if (parse_uint64(slash + 1, &len) < 0)
                        return -EINVAL;
                if (len > c.prefixlen)
                        return -ERANGE;
                c.prefixlen = (uint8_t) len;
        }

        Cidr masked = c;
        cidr_mask(&masked);
        if (memcmp(masked.addr, c.addr, sizeof(c.addr)) != 0) {
                if (ret_masked)
                        *ret_masked = masked;
                return -EADDRNOTAVAIL;
        }
        *ret = c;
        return 0;
}

int format_cidr(const Cidr *c, char *buf, size_t size) {
        char a[INET6_ADDRSTRLEN];

        if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
                return -EINVAL;
        if ((size_t) snprintf(buf, size, "%s/%u", a, c->prefixlen) >= size)
                return -ENOBUFS;
        return 0;
}

bool cidr_contains(const Cidr *c, int family, const uint8_t addr[static 16]) {
        unsigned full = c->prefixlen / 8, rest = c->prefixlen % 8;

        if (c->family != family)
                return false;
        if (memcmp(c->addr, addr, full) != 0)
                return false;
        if (rest == 0)
                return true;
        uint8_t m = (uint8_t) (0xffu << (8 - rest));
        return (c->addr[full] & m) == (addr[full] & m);
}

int parse_status_range(const char *s, StatusRange *ret) {
        uint64_t a, b;
        int r;

        if (!s)
                return -EINVAL;
        /* A class: "5xx" */
        if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && strchr("xX", s[1]) && strchr("xX", s[2])) {
                *ret = (StatusRange) { .first = (uint16_t) ((s[0] - '0') * 100), .last = (uint16_t) ((s[0] - '0') * 100 + 99) };
                return 0;
        }
        r = read_range(s, &a, &b);
        if (r < 0)
                return r;
        if (a < 100 || b > 599 || a > b)
                return -ERANGE;
        *ret = (StatusRange) { .first = (uint16_t) a, .last = (uint16_t) b };
        return 0;
}

int format_size(uint64_t v, char *buf, size_t size) {
        static const struct {
                const char *suffix;
                unsigned shift;
        } table[] = { { "TiB", 40 }, { "GiB", 30 }, { "MiB", 20 }, { "KiB", 10 } };
        int n = -1;

        for (size_t i = 0; i < ELEMENTSOF(table) && n < 0; i++) {
                uint64_t f = UINT64_C(1) << table[i].shift;
                if (v >= f && v % f == 0)
                        n = snprintf(buf, size, "%" PRIu64 "%s", v / f, table[i].suffix);
        }
        if (n < 0)
                n = snprintf(buf, size, "%" PRIu64, v);
        return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

int format_duration_ns(uint64_t v, char *buf, size_t size) {
        static const struct {
                const char *unit;
                uint64_t ns;
        } table[] = {
                { "d", 86400 * NSEC_PER_SEC }, { "h", 3600 * NSEC_PER_SEC }, { "min", 60 * NSEC_PER_SEC },
                { "s", NSEC_PER_SEC }, { "ms", NSEC_PER_MSEC }, { "us", NSEC_PER_USEC }, { "ns", 1 },
        };
        int n = -1;

        if (v == 0)
                n = snprintf(buf, size, "0");
        for (size_t i = 0; i < ELEMENTSOF(table) && n < 0; i++)
                if (v % table[i].ns == 0)
                        n = snprintf(buf, size, "%" PRIu64 "%s", v / table[i].ns, table[i].unit);
        return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

int format_decimal(double v, char *buf, size_t size) {
        /*
         * The shortest fixed-point form that reads back as the same double, so that
         * --cat-config output loads to the very same configuration. %g would write
         * exponents, which parse_decimal() refuses.
         */
        if (!(v >= 0) || v > 1e15)
                return -EINVAL;
        for (int prec = 0; prec <= DECIMAL_PRECISION_MAX; prec++) {
                int n = snprintf(buf, size, "%.*f", prec, v);
                if (n < 0 || (size_t) n >= size)
                        return -ENOBUFS;
                if (strtod_c(buf) == v)
                        return 0;
        }
        return 0;  /* the longest form: as close as it gets */
}

const char *check_unit_name(const char *s) {
        static const char *const types[] = { "service", "socket", "scope", "slice", "mount", "swap" };
        const char *dot, *at;
        size_t n;

        if (!s || !*s)
                return "empty unit name";
        n = strlen(s);
        if (n > 255)
                return "unit name longer than 255 characters";
        dot = strrchr(s, '.');
        if (!dot || dot == s)
                return "not a unit name: expected NAME.service, NAME.scope or NAME.slice";
        bool type_ok = false;
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (strcmp(dot + 1, types[i]) == 0)
                        type_ok = true;
        if (!type_ok)
                return "unit type has no processes to trace: expected .service, .socket, .scope, .slice, .mount or .swap";
        for (const char *p = s; p < dot; p++)
                if (!isalnum((unsigned char) *p) && !strchr(":-_.\\@", *p))
                        return "invalid character in unit name";
        at = strchr(s, '@');
        if (at) {
                if (at == s)
                        return "unit name has an empty prefix before '@'";
                if (strchr(at + 1, '@') && strchr(at + 1, '@') < dot)
                        return "unit name has more than one '@'";
                if (at + 1 == dot)
                        return "unit name is a template: name an instance, e.g. foo@1.service";
                if (strcmp(dot + 1, "slice") == 0)
                        return "slice names cannot have instances";
        }
        return NULL;
}

const char *check_glob(const char *s) {
        if (!s || !*s)
                return "empty pattern";
        for (const char *p = s; *p; p++) {
                if (*p == '\\') {
                        if (!p[1])
                                return "pattern ends in a lone backslash";
                        p++;
                } else if (*p == '[') {
                        const char *q = p + 1;
                        if (*q == '!' || *q == '^')
                                q++;
                        if (*q == ']')       /* a leading ']' is a literal member */
                                q++;
                        while (*q && *q != ']')
                                q++;
                        if (!*q)
                                return "unterminated '[' in pattern";
                        p = q;
                }
        }
        return NULL;
}

const char *check_http_token(const char *s) {
        if (!s || !*s)
                return "empty name";
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("!#$%&'*+-.^_`|~", *p))
                        return "not a valid HTTP token (letters, digits and !#$%&'*+-.^_`|~ only)";
        return NULL;
}

const char *check_cgroup_path(const char *s) {
        if (!s || s[0] != '/')
                return "cgroup path must be absolute, relative to the cgroup root (e.g. /system.slice/nginx.service)";
        if (strlen(s) > 4095)
                return "cgroup path too long";
        for (const char *p = s; *p; p++) {
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return "control character in cgroup path";
                if (*p == '/') {
                        const char *c = p + 1;
                        size_t n = strcspn(c, "/");
                        if (n == 0 && *c)
                                return "empty component in cgroup path";
                        if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                                return "'.' and '..' are not allowed in cgroup paths";
                }
        }
        return NULL;
}

const char *check_comm(const char *s) {
        if (!s || !*s)
                return "empty process name";
        /* TASK_COMM_LEN is 16 with the NUL: a longer name could never match. */
        if (strlen(s) > 15)
                return "process names (comm) are at most 15 characters; the kernel truncates longer ones, so this would never match";
        return NULL;
}

unsigned edit_distance(const char *a, const char *b, unsigned cap) {
        unsigned row[65];
        size_t la = strlen(a), lb = strlen(b);

        if (la > 64 || lb > 64)
                return cap + 1;
        for (size_t j = 0; j <= lb; j++)
                row[j] = (unsigned) j;
        for (size_t i = 1; i <= la; i++) {
                unsigned prev = row[0], best;
                row[0] = (unsigned) i;
                best = row[0];
                for (size_t j = 1; j <= lb; j++) {
                        unsigned cur = row[j];
                        unsigned cost = tolower((unsigned char) a[i - 1]) == tolower((unsigned char) b[j - 1]) ? 0 : 1;
                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), prev + cost);
                        prev = cur;
                        best = MIN(best, row[j]);
                }
                if (best > cap)
                        return cap + 1;
        }
        return MIN(row[lb], cap + 1);
}
