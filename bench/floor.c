/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ht-bench-floor: bench/run's floor variant. Attaches bpf/floor.bpf.c's counting
 * program to every tracepoint http-tracer's BPF object attaches to, read from that
 * object's section names (so the list cannot drift from the daemon's), prints
 * "ready attached=N" on stdout, waits for SIGINT or SIGTERM, prints "hits=N" (calls
 * of the program, all CPUs) and detaches.
 *
 *   ht-bench-floor [--raw] [--object PATH]   attach until a signal
 *   ht-bench-floor --list [--object PATH]   print the tracepoints ("category/name"), attach nothing
 *
 * --raw: the floor of the alternative design, raw_tracepoint/sys_enter and sys_exit
 * (every syscall) in place of the object's syscalls/ tracepoints; its other
 * tracepoints (sched/...) stay as they are.
 */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floor.skel.h"

/* More than http-tracer.bpf.o has (24 today); a longer list is refused, not cut. */
#define FLOOR_TRACEPOINTS_MAX 64

typedef struct Tracepoint {
        char category[64];
        char name[128];
} Tracepoint;

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap) {
        return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* The tracepoints of obj_path's programs ("tracepoint/C/N" or "tp/C/N"); count or -errno. */
static int object_tracepoints(const char *obj_path, Tracepoint *tps, int max) {
        struct bpf_object *obj;
        struct bpf_program *prog;
        int n = 0, r = 0;

        obj = bpf_object__open_file(obj_path, NULL);
        if (!obj)
                return -errno;
        bpf_object__for_each_program(prog, obj) {
                const char *sec = bpf_program__section_name(prog), *rest, *slash;

                if (strncmp(sec, "tracepoint/", 11) == 0)
                        rest = sec + 11;
                else if (strncmp(sec, "tp/", 3) == 0)
                        rest = sec + 3;
                else
                        continue;
                slash = strchr(rest, '/');
                if (!slash || (size_t) (slash - rest) >= sizeof(tps[0].category) ||
                    strlen(slash + 1) >= sizeof(tps[0].name)) {
                        r = -EINVAL;
                        break;
                }
                if (n >= max) {
                        r = -E2BIG;
                        break;
                }
                snprintf(tps[n].category, sizeof(tps[n].category), "%.*s", (int) (slash - rest), rest);
                snprintf(tps[n].name, sizeof(tps[n].name), "%s", slash + 1);
                n++;
        }
        bpf_object__close(obj);
        return r < 0 ? r : n;
}

static uint64_t hits_total(struct floor_bpf *skel) {
        int ncpu = libbpf_num_possible_cpus();
        uint64_t total = 0;
        __u32 zero = 0;

        if (ncpu <= 0)
                return 0;
        __u64 values[ncpu];
        if (bpf_map__lookup_elem(skel->maps.hits, &zero, sizeof(zero), values, sizeof(values), 0) < 0)
                return 0;
        for (int i = 0; i < ncpu; i++)
                total += values[i];
        return total;
}

static void usage(FILE *f) {
        fprintf(f, "usage: ht-bench-floor [--list] [--raw] [--object HTTP_TRACER_BPF_O]\n"
                   "Attaches a counting BPF program to every tracepoint of http-tracer's object\n"
                   "until SIGINT/SIGTERM (default object: %s).\n", HT_BPF_OBJECT);
}

int main(int argc, char *argv[]) {
        const char *obj_path = HT_BPF_OBJECT;
        Tracepoint tps[FLOOR_TRACEPOINTS_MAX];
        struct bpf_link *links[FLOOR_TRACEPOINTS_MAX + 2] = {};
        struct floor_bpf *skel;
        bool list = false, raw = false;
        int nlinks = 0;
        sigset_t mask;
        int n, sig, rc = 1;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--list") == 0)
                        list = true;
                else if (strcmp(argv[i], "--raw") == 0)
                        raw = true;
                else if (strcmp(argv[i], "--object") == 0 && i + 1 < argc)
                        obj_path = argv[++i];
                else if (strcmp(argv[i], "--help") == 0) {
                        usage(stdout);
                        return 0;
                } else {
                        usage(stderr);
                        return 2;
                }
        }

        libbpf_set_print(silent_print);
        n = object_tracepoints(obj_path, tps, FLOOR_TRACEPOINTS_MAX);
        if (n < 0) {
                fprintf(stderr, "Failed to read the tracepoints of %s: %s\n", obj_path, strerror(-n));
                return 1;
        }
        if (n == 0) {
                fprintf(stderr, "%s has no tracepoint program\n", obj_path);
                return 1;
        }
        if (list) {
                for (int i = 0; i < n; i++)
                        printf("%s/%s\n", tps[i].category, tps[i].name);
                return 0;
        }

        /* Block the signals before attaching: one that comes early still ends the wait. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        skel = floor_bpf__open_and_load();
        if (!skel) {
                fprintf(stderr, "Failed to load the floor program: %s\n", strerror(errno));
                return 1;
        }
        if (raw) {
                static const char *const raw_tps[] = { "sys_enter", "sys_exit" };

                for (size_t i = 0; i < sizeof(raw_tps) / sizeof(raw_tps[0]); i++) {
                        links[nlinks] = bpf_program__attach_raw_tracepoint(skel->progs.ht_floor_raw, raw_tps[i]);
                        if (!links[nlinks]) {
                                fprintf(stderr, "Failed to attach to raw tracepoint %s: %s\n", raw_tps[i],
                                        strerror(errno));
                                goto out;
                        }
                        nlinks++;
                }
        }
        for (int i = 0; i < n; i++) {
                if (raw && strcmp(tps[i].category, "syscalls") == 0)
                        continue;
                links[nlinks] = bpf_program__attach_tracepoint(skel->progs.ht_floor, tps[i].category, tps[i].name);
                if (!links[nlinks]) {
                        fprintf(stderr, "Failed to attach to %s/%s: %s\n", tps[i].category, tps[i].name,
                                strerror(errno));
                        goto out;
                }
                nlinks++;
        }
        printf("ready attached=%d\n", nlinks);
        fflush(stdout);

        if (sigwait(&mask, &sig) != 0)
                goto out;
        printf("hits=%" PRIu64 "\n", hits_total(skel));
        fflush(stdout);
        rc = 0;
out:
        for (int i = 0; i < nlinks; i++)
                bpf_link__destroy(links[i]);
        floor_bpf__destroy(skel);
        return rc;
}
