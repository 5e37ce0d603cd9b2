/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Filters, sampling and the rate limit in user space; see selector.h. */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "basic/log.h"
#include "select/filter.h"
#include "select/sampling.h"
#include "select/selector.h"

/*
 * Executables are looked up once per process, not per exchange, and looked
 * up again after a while: a PID can be reused by another program. The cache
 * is direct-mapped by PID: bounded, and a collision just costs a readlink.
 */
#define EXE_CACHE_SLOTS 1024u
#define EXE_CACHE_TTL_NS (10 * NSEC_PER_SEC)

typedef struct ExeSlot {
        uint32_t tgid;                /* 0: empty */
        bool known;
        uint64_t read_ns;
        char *path;
} ExeSlot;

struct Selector {
        const Config *config;
        bool process_filter;          /* comm or exe lists present */
        bool exe_filter;
        bool exchange_filter;         /* method, path or status lists present */
        Sampler *sampler;             /* NULL when everything is kept */
        uint64_t random_state;

        TokenBucket bucket;
        uint64_t interval_ns;
        uint64_t interval_start_ns;

        SelectorExeFn exe;
        void *exe_userdata;
        ExeSlot *exe_cache;           /* EXE_CACHE_SLOTS, only with exe filters */
        bool exe_denied_logged;
};

int selector_proc_exe(void *userdata, uint32_t tgid, char *buf, size_t size) {
        char p[sizeof("/proc//exe") + 10];
        ssize_t n;

        if (size == 0)
                return -EINVAL;
        snprintf(p, sizeof(p), "/proc/%u/exe", tgid);
        n = readlink(p, buf, size - 1);
        if (n < 0)
                return -errno;
        if ((size_t) n >= size - 1)
                return -ENAMETOOLONG;
        buf[n] = 0;
        return 0;
}

static uint64_t random_seed(void) {
        uint64_t s = 0;

        if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != sizeof(s))
                s = (uint64_t) getpid() * UINT64_C(0x9e3779b97f4a7c15);
        return s;
}

static bool filter_lists_present(const FilterSet *f, bool process) {
        if (process)
                return f->comms.n > 0 || f->exes.n > 0;
        return f->methods.n > 0 || f->paths.n > 0 || f->statuses.n > 0;
}

int selector_new(const Config *c, uint64_t now_ns, SelectorExeFn exe, void *exe_userdata, uint64_t seed,
                 Selector **ret) {
        _cleanup_(selector_freep) Selector *s = NULL;
        int r;

        if (!c || !ret)
                return -EINVAL;
        s = calloc(1, sizeof(Selector));
        if (!s)
                return -ENOMEM;
        s->config = c;
        s->process_filter = filter_lists_present(&c->filter.include, true) ||
                            filter_lists_present(&c->filter.exclude, true);
        s->exe_filter = c->filter.include.exes.n > 0 || c->filter.exclude.exes.n > 0;
        s->exchange_filter = filter_lists_present(&c->filter.include, false) ||
                             filter_lists_present(&c->filter.exclude, false);
        s->exe = exe ?: selector_proc_exe;
        s->exe_userdata = exe_userdata;
        s->random_state = seed ?: random_seed();

        if (c->sampling.rate < 1 || c->sampling.rules.n > 0) {
                r = sampler_new_from_config(c, sampling_splitmix64, &s->random_state, &s->sampler);
                if (r < 0)
                        return r;
        }
        token_bucket_init(&s->bucket, c->rate_limit.per_second, c->rate_limit.burst, now_ns);
        s->interval_ns = c->rate_limit.summary_interval_ns;
        s->interval_start_ns = now_ns;
        if (s->exe_filter) {
                s->exe_cache = calloc(EXE_CACHE_SLOTS, sizeof(ExeSlot));
                if (!s->exe_cache)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

Selector *selector_free(Selector *s) {
        if (!s)
                return NULL;
        sampler_free(s->sampler);
        for (size_t i = 0; s->exe_cache && i < EXE_CACHE_SLOTS; i++)
                free(s->exe_cache[i].path);
        free(s->exe_cache);
        return mfree(s);
}

void selector_take_over(Selector *s, const Selector *old, uint64_t now_ns) {
        TokenBucket b;

        if (!s || !old)
                return;
        /* Keep tokens and pending counts; the new rate and burst apply from now. */
        b = old->bucket;
        token_bucket_reconfigure(&b, s->config->rate_limit.per_second, s->config->rate_limit.burst, now_ns);
        s->bucket = b;
        s->interval_start_ns = old->interval_start_ns;
}

static const char *exe_lookup(Selector *s, uint32_t tgid, uint64_t now_ns) {
        ExeSlot *e = &s->exe_cache[tgid % EXE_CACHE_SLOTS];
        char buf[PATH_MAX];
        int r;

        if (e->tgid == tgid && now_ns - e->read_ns < EXE_CACHE_TTL_NS)
                return e->known ? e->path : NULL;

        e->path = mfree(e->path);
        e->tgid = tgid;
        e->read_ns = now_ns;
        r = s->exe(s->exe_userdata, tgid, buf, sizeof(buf));
        e->known = r >= 0;
        if ((r == -EACCES || r == -EPERM) && !s->exe_denied_logged) {
                log_warning("Cannot read the executable of PID %u: the kernel lets a process without capabilities "
                            "see another's executable only if it runs as the same user with no more capabilities. "
                            "filter.*.exes treats such processes as unknown (they fail an include list); "
                            "select services with filter.*.units or filter.*.comms instead.", tgid);
                s->exe_denied_logged = true;
        }
        if (e->known) {
                e->path = strdup(buf);
                /* Out of memory: decide without the executable, try again next time. */
                if (!e->path) {
                        e->tgid = 0;
                        e->known = false;
                }
        }
        return e->known ? e->path : NULL;
}

static bool process_ok(Selector *s, const ConnInfo *conn, uint64_t now_ns) {
        const char *exe = NULL;

        if (!s->process_filter)
                return true;
        if (!conn)
                return filter_match_process(s->config, NULL, NULL);
        /* the executable the kernel named when the connection was first seen; /proc only when it could not */
        if (s->exe_filter)
                exe = conn->exe[0] == '/' ? conn->exe : exe_lookup(s, conn->tgid, now_ns);
        return filter_match_process(s->config, conn->comm[0] ? conn->comm : NULL, exe);
}

static bool exchange_ok(Selector *s, const Exchange *x) {
        const HttpMessage *req = x->request, *resp = x->response;

        if (!s->exchange_filter)
                return true;
        return filter_match_exchange(s->config, req ? req->method : NULL, req ? req->target : NULL,
                                     resp ? resp->status : 0);
}

bool selector_keeps_all(const Selector *s) {
        return !s->process_filter && !s->exchange_filter && !s->sampler && s->bucket.rate == 0;
}

SelectVerdict selector_decide(Selector *s, const Exchange *x, uint64_t now_ns) {
        if (!process_ok(s, x->conn, now_ns) || !exchange_ok(s, x))
                return SELECT_FILTERED;

        /* A parse error is a diagnosis of one stream, not a sample of the traffic: never sampled out. */
        if (s->sampler && x->kind != EXCHANGE_PARSE_ERROR &&
            !sampler_keep(s->sampler, x->request ? x->request->target : NULL, x->response ? x->response->status : 0))
                return SELECT_SAMPLED_OUT;

        if (!token_bucket_take(&s->bucket, now_ns))
                return SELECT_RATE_LIMITED;
        return SELECT_KEEP;
}

bool selector_take_summary(Selector *s, uint64_t now_ns, bool force, RateLimitSummary *ret) {
        uint64_t passed, refused;

        if (!force && now_ns - s->interval_start_ns < s->interval_ns)
                return false;
        if (s->bucket.refused == 0) {
                /* Nothing to report: start the next interval. */
                if (!force) {
                        token_bucket_take_counts(&s->bucket, &passed, &refused);
                        s->interval_start_ns = now_ns;
                }
                return false;
        }
        token_bucket_take_counts(&s->bucket, &passed, &refused);
        *ret = (RateLimitSummary) {
                .refused = refused,
                .passed = passed,
                .interval_ns = now_ns - s->interval_start_ns,
                .per_second = s->bucket.rate,
                .burst = s->bucket.burst,
        };
        s->interval_start_ns = now_ns;
        return true;
}

size_t selector_exe_cache_size(const Selector *s) {
        size_t n = 0;

        for (size_t i = 0; s->exe_cache && i < EXE_CACHE_SLOTS; i++)
                n += s->exe_cache[i].tgid != 0;
        return n;
}
