/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsers and checkers for the value kinds that appear in configuration:
 * booleans, sizes, durations, fractions, port ranges, CIDR prefixes, HTTP
 * status classes, unit names and glob patterns. Pure functions; each returns
 * -EINVAL (or -ERANGE) and, where a caller shows the problem to a human, a
 * static string saying what is wrong.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"

/* An inclusive range of TCP ports; a single port has first == last. */
typedef struct PortRange {
        uint16_t first;
        uint16_t last;
} PortRange;

/* An address prefix: family AF_INET or AF_INET6; addr in network order, IPv4 in the first 4 bytes. */
typedef struct Cidr {
        int family;
        uint8_t addr[16];
        uint8_t prefixlen;
} Cidr;

/* An inclusive range of HTTP status codes: "5xx" is 500-599, "404" is 404-404. */
typedef struct StatusRange {
        uint16_t first;
        uint16_t last;
} StatusRange;

int parse_boolean(const char *s);
int parse_uint64(const char *s, uint64_t *ret);

/* "16384", "64K", "16MiB", "1G" (binary multiples; "KB" means 1024 too, as in systemd). */
int parse_size(const char *s, uint64_t *ret);
/* "30s", "5min", "250ms", "1h 30min", a bare number is seconds (as in systemd). */
int parse_duration_ns(const char *s, uint64_t *ret);
/* "0.25", "1", "10%": a number between 0 and 1 inclusive. */
int parse_fraction(const char *s, double *ret);
/* A non-negative decimal with an optional fraction; locale-independent. */
int parse_decimal(const char *s, double *ret);

int parse_port_range(const char *s, PortRange *ret);
/*
 * "10.0.0.0/8", "fe80::/10", or an address alone (a host prefix). Host bits
 * set past the prefix are refused with -EADDRNOTAVAIL, and the prefix with
 * them cleared is written to *ret_masked when non-NULL, for a did-you-mean.
 */
int parse_cidr(const char *s, Cidr *ret, Cidr *ret_masked);
int format_cidr(const Cidr *c, char *buf, size_t size);
bool cidr_contains(const Cidr *c, int family, const uint8_t addr[static 16]);
int parse_status_range(const char *s, StatusRange *ret);

/* Writes "16MiB", "300ms", "5min" etc: the shortest exact form, for generated files. */
int format_size(uint64_t v, char *buf, size_t size);
int format_duration_ns(uint64_t v, char *buf, size_t size);
int format_decimal(double v, char *buf, size_t size);

/* Checkers: NULL when fine, else a static explanation. */
const char *check_unit_name(const char *s);
const char *check_glob(const char *s);
const char *check_http_token(const char *s);
const char *check_cgroup_path(const char *s);
const char *check_comm(const char *s);

static inline bool string_is_glob(const char *s) {
        return s && strpbrk(s, "*?[") != NULL;
}

/* Levenshtein distance between two short strings; values above cap are reported as cap + 1. */
unsigned edit_distance(const char *a, const char *b, unsigned cap);
