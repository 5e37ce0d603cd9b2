/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Route folding: a request-target (untrusted bytes) to a bounded route
 * label for the metrics ("/api/users/12345?x=1" -> "/api/users/" "*"), so that a per-route series exists per kind of request, not per
 * request. Pure: no state but the templates, no allocation per call, no
 * logging; fuzzed (tests/fuzz/fuzz-route-fold.c).
 *
 * 1. Configured templates (metrics.routes), in their order; the first that
 *    matches the path names the route, spelled as configured. A template is
 *    a path of '/'-separated segments where a segment "*" matches exactly
 *    one non-empty segment and a last segment "**" matches the rest (zero
 *    or more segments); every other segment matches itself exactly (case
 *    sensitive, not percent-decoded).
 * 2. Otherwise the heuristic, segment by segment over the path (the target
 *    without query and fragment, filter_target_path()):
 *    - all digits, a UUID (8-4-4-4-12 hex digits), a hex string of at least
 *      8 characters with a digit in it, or a token of at least 16 letters
 *      and digits with both in it            -> "*"
 *    - longer than ROUTE_SEGMENT_MAX bytes, or holding a byte outside
 *      printable ASCII or '"' or '\'          -> "*"
 *    - anything else is kept as it is;
 *    a path deeper than ROUTE_SEGMENTS_MAX segments, or one whose route
 *    would pass ROUTE_LEN_MAX bytes, ends where it was cut with a last segment "**".
 * 3. A target without a path (CONNECT's host:port, OPTIONS's "*") is the
 *    route "*"; an exchange without a request has none (the caller's choice).
 *
 * The number of distinct routes is bounded by the caller (the service
 * table caps heuristic routes per service); templates are bounded by the
 * configuration (ROUTE_TEMPLATES_MAX).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/macro.h"
#include "config/configuration.h"

/* A route label at most (bytes, NUL excluded): templates and folded routes alike. */
#define ROUTE_LEN_MAX 128u
/* A route buffer: ROUTE_LEN_MAX and the NUL. */
#define ROUTE_BUF_SIZE (ROUTE_LEN_MAX + 1)
/* Segments kept by the heuristic; deeper paths end in a segment "**". */
#define ROUTE_SEGMENTS_MAX 16u
/* A path segment longer than this is an identifier, not a name: "*". */
#define ROUTE_SEGMENT_MAX 64u
/* metrics.routes entries at most: each is a series per service, and a template is tried per exchange. */
#define ROUTE_TEMPLATES_MAX 256u
_Static_assert(ROUTE_TEMPLATES_MAX == CONFIG_METRICS_ROUTES_MAX, "metrics.routes is checked at load");

typedef struct RouteFold RouteFold;

/*
 * route_template_check() - is @t a valid template?
 *
 * Return: NULL if so, otherwise why not (static text), for the
 * configuration's diagnostics (CHECK_ROUTE_TEMPLATE).
 */
const char *route_template_check(const char *t);
/* Registers route_template_check() for metrics.routes with the configuration layer. */
int route_fold_register_config_checks(void);

/*
 * route_fold_new() - the templates to try, in order (copied)
 *
 * Return: 0, -EINVAL when one is not valid (route_template_check()) or
 * there are more than ROUTE_TEMPLATES_MAX, -ENOMEM.
 */
int route_fold_new(char *const *templates, size_t n, RouteFold **ret);
RouteFold *route_fold_free(RouteFold *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(RouteFold *, route_fold_free);

size_t route_fold_templates(const RouteFold *f);

/**
 * route_fold() - the route of a request-target
 * @f: the templates; NULL for none
 * @target: the request-target as sent (any bytes; need not be NUL-terminated)
 * @len: its length
 * @buf: ROUTE_BUF_SIZE bytes; the route, NUL-terminated
 *
 * Return: the index of the template that matched (>= 0), or -1 when the
 * heuristic named the route. Never fails.
 */
int route_fold(const RouteFold *f, const char *target, size_t len, char buf[static ROUTE_BUF_SIZE]);

/* The same for a path (no query or fragment), as route_fold() after filter_target_path(). */
int route_fold_path(const RouteFold *f, const char *path, size_t len, char buf[static ROUTE_BUF_SIZE]);
