/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ht-bench-verifier: what the kernel's verifier costs for each program of one
 * or more BPF objects, loaded one program at a time (the others' autoload
 * off), so that a program's figures are its own. For each object and
 * program it prints one line:
 *
 *   OBJECT PROGRAM insns=N states=N load_ms=N.N
 *
 * insns: "processed N insns" of the verifier's statistics (log level 4, the
 * figure the 1,000,000 limit applies to); states: total states; load_ms:
 * wall time of bpf_object__load() for that one program (map creation
 * included, the same for every program). Then a line per object with the
 * time of loading all its programs at once, as the daemon does:
 *
 *   OBJECT ALL load_ms=N.N
 *
 * Give several objects (e.g. this build's and an older commit's) to compare
 * them side by side in one run on a noisy machine; --reps N repeats each
 * load and reports the median time. A program that fails to load is loaded
 * again with the verifier's full log, whose end goes to stderr.
 *
 *   ht-bench-verifier [--reps N] OBJECT...
 */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_SIZE (16u << 20)   /* the stats are at the end of the log; level 4 writes little */
#define REPS_MAX 32
#define LOG_TAIL 3000   /* of a failed load's log: the verifier's reason and the path to it */

static char log_buf[LOG_SIZE];

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap) {
        return 0;
}

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return x < y ? -1 : x > y;
}

/* Load only the program named prog (all of them if NULL); its stats into *insns, *states. */
static int load_one(const char *path, const char *prog, long *insns, long *states, double *ms, int level) {
        struct bpf_object *obj;
        struct bpf_program *p;
        double t0;
        int r;

        obj = bpf_object__open_file(path, NULL);
        if (!obj)
                return -errno;
        bpf_object__for_each_program(p, obj) {
                bool mine = !prog || strcmp(bpf_program__name(p), prog) == 0;

                bpf_program__set_autoload(p, mine);
                if (mine && prog) {
                        log_buf[0] = 0;
                        bpf_program__set_log_buf(p, log_buf, sizeof(log_buf));
                        bpf_program__set_log_level(p, level);
                }
        }
        t0 = now_ms();
        r = bpf_object__load(obj);
        *ms = now_ms() - t0;
        if (r == 0 && prog) {
                const char *s = strstr(log_buf, "processed ");
                const char *t = strstr(log_buf, "total_states ");

                *insns = s ? strtol(s + strlen("processed "), NULL, 10) : -1;
                *states = t ? strtol(t + strlen("total_states "), NULL, 10) : -1;
        }
        bpf_object__close(obj);
        return r;
}

/* The last n bytes of s. */
static const char *tail(const char *s, size_t n) {
        size_t l = strlen(s);

        return l > n ? s + l - n : s;
}

static double median(double *v, int n) {
        qsort(v, n, sizeof(*v), cmp_double);
        return v[n / 2];
}

int main(int argc, char **argv) {
        int reps = 1, first = 1;

        if (argc > 2 && strcmp(argv[1], "--reps") == 0) {
                reps = atoi(argv[2]);
                if (reps < 1 || reps > REPS_MAX) {
                        fprintf(stderr, "--reps: 1..%d\n", REPS_MAX);
                        return 2;
                }
                first = 3;
        }
        if (first >= argc) {
                fprintf(stderr, "usage: ht-bench-verifier [--reps N] OBJECT...\n");
                return 2;
        }
        libbpf_set_print(silent_print);

        for (int i = first; i < argc; i++) {
                struct bpf_object *obj = bpf_object__open_file(argv[i], NULL);
                struct bpf_program *p;
                double all[REPS_MAX];

                if (!obj) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                bpf_object__for_each_program(p, obj) {
                        const char *name = bpf_program__name(p);
                        long insns = -1, states = -1;
                        double t[REPS_MAX];
                        int r = 0;

                        for (int k = 0; k < reps && r == 0; k++)
                                r = load_one(argv[i], name, &insns, &states, &t[k], 4);
                        if (r < 0) {
                                /* Again with the verifier's full log: its end says why (the kernel keeps the tail). */
                                load_one(argv[i], name, &insns, &states, &t[0], 1 | 4);
                                fprintf(stderr, "%s\n", tail(log_buf, LOG_TAIL));
                                printf("%s %s failed=%s\n", argv[i], name, strerror(-r));
                        } else
                                printf("%s %s insns=%ld states=%ld load_ms=%.1f\n", argv[i], name,
                                       insns, states, median(t, reps));
                        fflush(stdout);
                }
                bpf_object__close(obj);
                for (int k = 0; k < reps; k++) {
                        long insns, states;
                        int r = load_one(argv[i], NULL, &insns, &states, &all[k], 0);

                        if (r < 0) {
                                printf("%s ALL failed=%s\n", argv[i], strerror(-r));
                                return 1;
                        }
                }
                printf("%s ALL load_ms=%.1f\n", argv[i], median(all, reps));
        }
        return 0;
}
