/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The filter.include / filter.exclude settings, in two halves.
 *
 * Kernel half (capture/kernel-filter.h): PIDs, cgroups, ports, peer
 * addresses and roles, enforced in the kernel.
 *
 * User half (here): process name, executable, method, path and status, checked per
 * exchange by the daemon (filter_match_*).
 *
 * Semantics, both halves: within one list any entry matches; an include list
 * that is empty matches everything, a non-empty one must match (all
 * non-empty include lists must match: AND across lists); a match in any
 * exclude list excludes. units and cgroups are one list (the cgroup). A
 * value that is unknown (no response yet, executable unreadable) does not
 * match an include list and does not match an exclude list.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/configuration.h"

/* Process-level check, once per connection (comm and exe do not change for a connection's life). */
bool filter_match_process(const Config *c, const char *comm, const char *exe);

/* Exchange-level check. method/target NULL when there is no request; status 0 when there is no response. */
bool filter_match_exchange(const Config *c, const char *method, const char *target, unsigned status);

/**
 * filter_target_path() - the path of a request-target (RFC 9112 §3.2)
 * @target: the request-target as sent (need not be NUL-terminated)
 * @len: its length
 * @ret_path: the path; points into @target, or to a static "/"
 * @ret_len: its length
 *
 * Origin-form "/a/b?q#f" gives "/a/b"; absolute-form "scheme://host:80/a?q"
 * gives "/a", and "http://h" or "http://h?q" gives "/" (an empty path is
 * "/", RFC 9110 §4.2.3). Not percent-decoded. The one path function: the
 * filters, the sampling rules and the HTTP_PATH field all use it.
 *
 * Return: true; false for a target without a path (authority-form of
 * CONNECT, asterisk-form "*", anything else), leaving the out-parameters alone.
 */
bool filter_target_path(const char *target, size_t len, const char **ret_path, size_t *ret_len);

/*
 * A path pattern as in filter.*.paths and sampling.rules: with '*', '?' or
 * '[' a glob over the whole path ('*' crosses '/'); otherwise a prefix that
 * ends at a segment boundary ("/api" matches "/api", "/api/x", not "/apix";
 * "/api/" matches everything under it).
 */
bool filter_path_match(const char *pattern, const char *path, size_t len);
