/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which exchanges are logged once filters have passed them: sampling (a
 * fraction, per-path rules, 5xx kept) and a token-bucket rate limit that
 * counts what it refuses so a periodic summary reports exact numbers. Pure:
 * time and randomness are passed in, so the arithmetic is testable.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/configuration.h"

/* Uniform 64-bit random numbers; tests inject their own sequence. */
typedef uint64_t (*SamplingRandomFn)(void *userdata);

/* A small, fast default generator (splitmix64); seed the state once, e.g. from getrandom(). */
uint64_t sampling_splitmix64(void *state /* uint64_t * */);

typedef struct Sampler Sampler;

int sampler_new(double rate, const SamplingRule *rules, size_t n_rules, bool keep_errors, SamplingRandomFn random,
                void *userdata, Sampler **ret);
int sampler_new_from_config(const Config *c, SamplingRandomFn random, void *userdata, Sampler **ret);
Sampler *sampler_free(Sampler *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sampler *, sampler_free);

/* The rate for a request path (not the whole target): the first matching rule's, else the default. */
double sampler_rate_for(const Sampler *s, const char *path, size_t len);

/*
 * Decides one exchange. target: the request-target (NULL when there was no
 * request: sampled at the default rate); status 0 when there was no
 * response. Counts kept and dropped.
 */
bool sampler_keep(Sampler *s, const char *target, unsigned status);

/* Exchanges kept and dropped since the last call; resets both. */
void sampler_take_counts(Sampler *s, uint64_t *ret_kept, uint64_t *ret_dropped);

/*
 * Token bucket: rate tokens per second, at most burst stored; one token per
 * exchange. Tokens are kept in nano-units so that any rate refills exactly,
 * whatever the spacing of calls.
 */
typedef struct TokenBucket {
        uint64_t rate;                /* tokens per second; 0 means no limit */
        uint64_t burst;               /* capacity in tokens (>= 1 when rate > 0) */
        uint64_t nanotokens;          /* available tokens * 1e9 */
        uint64_t last_ns;             /* latest time seen; earlier times refill nothing */
        uint64_t passed;              /* since the last summary */
        uint64_t refused;
        uint64_t passed_total;
        uint64_t refused_total;
} TokenBucket;

/* Starts full. burst 0 means burst = rate. */
void token_bucket_init(TokenBucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns);
/* New rate and burst (reload): counts are kept, stored tokens clamped to the new burst. */
void token_bucket_reconfigure(TokenBucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns);
/* Takes one token; false (and counted) when none is available. */
bool token_bucket_take(TokenBucket *b, uint64_t now_ns);
/* Passed and refused since the last call; resets them (the totals stay). */
void token_bucket_take_counts(TokenBucket *b, uint64_t *ret_passed, uint64_t *ret_refused);
