/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers used everywhere: cleanup attributes, ownership transfer,
 * array sizes and min/max. Our own, deliberately tiny: we do not pull in
 * systemd's internal headers.
 */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))
#define _pure_ __attribute__((pure))
#define _noreturn_ __attribute__((noreturn))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define CLAMP(x, lo, hi) MIN(MAX((x), (lo)), (hi))

#define USEC_PER_SEC  UINT64_C(1000000)
#define NSEC_PER_USEC UINT64_C(1000)
#define NSEC_PER_MSEC UINT64_C(1000000)
#define NSEC_PER_SEC  UINT64_C(1000000000)

/* Take ownership of a pointer: returns it and leaves NULL behind. */
#define TAKE_PTR(p)                                  \
        ({                                           \
                __typeof__(p) *_pp_ = &(p);          \
                __typeof__(p) _p_ = *_pp_;           \
                *_pp_ = NULL;                        \
                _p_;                                 \
        })

#define TAKE_FD(fd)                                  \
        ({                                           \
                int *_fdp_ = &(fd);                  \
                int _fd_ = *_fdp_;                   \
                *_fdp_ = -EBADF;                     \
                _fd_;                                \
        })

/* Usable as the first line of a callback: fails loudly on a NULL userdata. */
#define ASSERT_PTR(p)                                \
        ({                                           \
                __typeof__(p) _q_ = (p);             \
                if (!_q_)                            \
                        abort();                     \
                _q_;                                 \
        })

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        (void) safe_close(*fd);
}

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)      \
        static inline void func##p(type *p) {        \
                if (*p)                              \
                        *p = func(*p);               \
        }

/* Keep errno-style returns negative whatever the caller passes. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

static inline const char *strna(const char *s) {
        return s ?: "n/a";
}

static inline const char *yes_no(int b) {
        return b ? "yes" : "no";
}

/* The time on clock (CLOCK_MONOTONIC, CLOCK_REALTIME...), in nanoseconds and microseconds. */
static inline uint64_t now_nsec(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * NSEC_PER_SEC + (uint64_t) ts.tv_nsec;
}

static inline uint64_t now_usec(clockid_t clock) {
        return now_nsec(clock) / NSEC_PER_USEC;
}
