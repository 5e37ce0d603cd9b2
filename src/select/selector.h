/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which exchanges reach the outputs, decided in user space after the kernel
 * filter: the user-space half of the filters (process name, executable,
 * method, path, status; filter.h), then sampling, then the rate limit
 * (sampling.h). Each exchange gets exactly one verdict and every verdict is
 * counted, so logged + filtered + sampled out + rate-limited = exchanges.
 *
 * The rate limit never loses silently: what it refuses is counted per
 * summary interval and handed out by selector_take_summary() for a summary
 * entry with exact counts.
 *
 * Time is passed in and the executable lookup is a callback, so the whole
 * decision is testable without a live system.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "basic/macro.h"
#include "config/configuration.h"
#include "conn/exchange.h"

typedef enum SelectVerdict {
        SELECT_KEEP,
        SELECT_FILTERED,              /* a user-space filter excluded it */
        SELECT_SAMPLED_OUT,
        SELECT_RATE_LIMITED,
        _SELECT_VERDICT_MAX,
} SelectVerdict;

/*
 * Path of a process's executable (readlink of /proc/PID/exe), written to buf.
 * Returns 0, or negative errno when it cannot be known (the process is gone,
 * or belongs to another user and we lack CAP_SYS_PTRACE).
 */
typedef int (*SelectorExeFn)(void *userdata, uint32_t tgid, char *buf, size_t size);

/* The default SelectorExeFn: /proc/PID/exe. */
int selector_proc_exe(void *userdata, uint32_t tgid, char *buf, size_t size);

/* What the rate limit refused during one summary interval. */
typedef struct RateLimitSummary {
        uint64_t refused;             /* exchanges not logged in the interval */
        uint64_t passed;              /* exchanges the limit let through in the interval */
        uint64_t interval_ns;         /* length of the interval */
        uint64_t per_second;          /* the limit in force at its end */
        uint64_t burst;
} RateLimitSummary;

typedef struct Selector Selector;

/*
 * c must outlive the selector (it is read per exchange). exe may be NULL
 * for selector_proc_exe. Randomness for sampling is seeded from getrandom()
 * unless seed is non-zero (tests).
 */
int selector_new(const Config *c, uint64_t now_ns, SelectorExeFn exe, void *exe_userdata, uint64_t seed,
                 Selector **ret);
Selector *selector_free(Selector *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Selector *, selector_free);

/*
 * Reload: carry the rate limit's state (tokens, counts not yet summarised,
 * when the interval started) from old into s, so a reload neither resets
 * the limit nor loses a count.
 */
void selector_take_over(Selector *s, const Selector *old, uint64_t now_ns);

/* Decide one exchange at time now_ns (CLOCK_MONOTONIC). */
SelectVerdict selector_decide(Selector *s, const Exchange *x, uint64_t now_ns);

/* True when nothing is configured that could refuse an exchange (every exchange is kept). */
bool selector_keeps_all(const Selector *s);

/*
 * When the summary interval has passed and the rate limit refused
 * something in it, fill ret, start a new interval and return true. With
 * force (shutdown), any refused count is returned whatever the time.
 */
bool selector_take_summary(Selector *s, uint64_t now_ns, bool force, RateLimitSummary *ret);

/* Cached executable paths (bounded). */
size_t selector_exe_cache_size(const Selector *s);
