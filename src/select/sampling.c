/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sampling and the rate limit's token bucket; see sampling.h. */

#include <stdlib.h>
#include <string.h>

#include "select/filter.h"
#include "select/sampling.h"

struct Sampler {
        double rate;
        SamplingRule *rules;
        size_t n_rules;
        bool keep_errors;
        SamplingRandomFn random;
        void *userdata;
        uint64_t kept, dropped;
};

uint64_t sampling_splitmix64(void *state) {
        uint64_t *s = state, z;

        z = (*s += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

Sampler *sampler_free(Sampler *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_rules; i++)
                free(s->rules[i].path);
        free(s->rules);
        return mfree(s);
}

int sampler_new(double rate, const SamplingRule *rules, size_t n_rules, bool keep_errors, SamplingRandomFn random,
                void *userdata, Sampler **ret) {
        _cleanup_(sampler_freep) Sampler *s = NULL;

        if (!random || !(rate >= 0 && rate <= 1))
                return -EINVAL;
        s = calloc(1, sizeof(Sampler));
        if (!s)
                return -ENOMEM;
        s->rules = calloc(n_rules + 1, sizeof(SamplingRule));
        if (!s->rules)
                return -ENOMEM;
        for (size_t i = 0; i < n_rules; i++) {
                s->rules[i].path = strdup(rules[i].path);
                if (!s->rules[i].path)
                        return -ENOMEM;
                s->rules[i].rate = rules[i].rate;
                s->n_rules++;
        }
        s->rate = rate;
        s->keep_errors = keep_errors;
        s->random = random;
        s->userdata = userdata;
        *ret = TAKE_PTR(s);
        return 0;
}

int sampler_new_from_config(const Config *c, SamplingRandomFn random, void *userdata, Sampler **ret) {
        return sampler_new(c->sampling.rate, c->sampling.rules.items, c->sampling.rules.n, c->sampling.keep_errors,
                           random, userdata, ret);
}

double sampler_rate_for(const Sampler *s, const char *path, size_t len) {
        for (size_t i = 0; i < s->n_rules; i++)
                if (filter_path_match(s->rules[i].path, path, len))
                        return s->rules[i].rate;
        return s->rate;
}

/* True with probability rate: a draw below rate * 2^64. */
static bool draw(Sampler *s, double rate) {
        if (rate >= 1)
                return true;
        if (rate <= 0)
                return false;
        return s->random(s->userdata) < (uint64_t) (rate * 18446744073709551616.0);
}

bool sampler_keep(Sampler *s, const char *target, unsigned status) {
        double rate = s->rate;
        bool keep;

        if (target) {
                const char *path;
                size_t len;

                if (filter_target_path(target, strlen(target), &path, &len))
                        rate = sampler_rate_for(s, path, len);
        }
        keep = (s->keep_errors && status >= 500 && status <= 599) || draw(s, rate);
        if (keep)
                s->kept++;
        else
                s->dropped++;
        return keep;
}

void sampler_take_counts(Sampler *s, uint64_t *ret_kept, uint64_t *ret_dropped) {
        *ret_kept = s->kept;
        *ret_dropped = s->dropped;
        s->kept = s->dropped = 0;
}

static uint64_t capacity(const TokenBucket *b) {
        return b->burst * NSEC_PER_SEC;
}

static void refill(TokenBucket *b, uint64_t now_ns) {
        uint64_t cap = capacity(b), need, elapsed;

        if (now_ns <= b->last_ns)
                return;  /* the clock went backwards (or stood still): nothing to add, and keep the later time */
        elapsed = now_ns - b->last_ns;
        b->last_ns = now_ns;
        if (b->rate == 0 || b->nanotokens >= cap) {
                b->nanotokens = cap;
                return;
        }
        need = cap - b->nanotokens;
        /* elapsed * rate nano-tokens accrue; compare first so a long idle cannot overflow. */
        if (elapsed >= need / b->rate + 1)
                b->nanotokens = cap;
        else
                b->nanotokens = MIN(cap, b->nanotokens + elapsed * b->rate);
}

/* Bounded so that burst * 1e9 fits in 64 bits. */
#define TOKEN_BUCKET_BURST_MAX (UINT64_MAX / NSEC_PER_SEC)

static void set_params(TokenBucket *b, uint64_t rate, uint64_t burst) {
        b->rate = rate;
        b->burst = MIN(burst ? burst : MAX(rate, UINT64_C(1)), TOKEN_BUCKET_BURST_MAX);
}

void token_bucket_init(TokenBucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns) {
        *b = (TokenBucket) { .last_ns = now_ns };
        set_params(b, rate, burst);
        b->nanotokens = capacity(b);
}

void token_bucket_reconfigure(TokenBucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns) {
        refill(b, now_ns);
        set_params(b, rate, burst);
        b->nanotokens = MIN(b->nanotokens, capacity(b));
}

bool token_bucket_take(TokenBucket *b, uint64_t now_ns) {
        if (b->rate == 0) {
                b->passed++;
                b->passed_total++;
                return true;
        }
        refill(b, now_ns);
        if (b->nanotokens >= NSEC_PER_SEC) {
                b->nanotokens -= NSEC_PER_SEC;
                b->passed++;
                b->passed_total++;
                return true;
        }
        b->refused++;
        b->refused_total++;
        return false;
}

void token_bucket_take_counts(TokenBucket *b, uint64_t *ret_passed, uint64_t *ret_refused) {
        *ret_passed = b->passed;
        *ret_refused = b->refused;
        b->passed = b->refused = 0;
}
