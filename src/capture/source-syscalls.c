/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The syscall source: the socket syscall tracepoints (bpf/ sources/syscalls),
 * sched_process_exit and tcp_destroy_sock, which end the connections they
 * track, and io_uring_file_get, which counts sockets driven through io_uring. Each
 * program attaches by its section name (libbpf's auto-attach); see source.h.
 */

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "capture/source.h"

/* Links held: the object has 31 programs of this source; a new one past this is refused at start. */
#define SYSCALLS_LINKS_MAX 48u

typedef struct SyscallsState {
        struct bpf_link *links[SYSCALLS_LINKS_MAX];
        unsigned n;
} SyscallsState;

static bool syscalls_owns(const struct bpf_program *prog) {
        const char *sec = bpf_program__section_name(prog);

        return sec && (strncmp(sec, "tracepoint/syscalls/", strlen("tracepoint/syscalls/")) == 0 ||
                       strcmp(sec, "tracepoint/sched/sched_process_exit") == 0 ||
                       strcmp(sec, "tracepoint/tcp/tcp_destroy_sock") == 0 ||
                       strcmp(sec, "tracepoint/io_uring/io_uring_file_get") == 0);
}

static void syscalls_detach(void *state) {
        SyscallsState *s = state;

        if (!s)
                return;
        for (unsigned i = 0; i < s->n; i++)
                bpf_link__destroy(s->links[i]);
        free(s);
}

static int syscalls_attach(struct bpf_object *obj, void **ret_state) {
        SyscallsState *s;
        struct bpf_program *prog;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return log_oom();

        /* One by one so that an error names the tracepoint. */
        bpf_object__for_each_program(prog, obj) {
                struct bpf_link *l;

                if (!syscalls_owns(prog))
                        continue;
                l = bpf_program__attach(prog);
                if (!l && errno == ENOENT &&
                    strcmp(bpf_program__section_name(prog), "tracepoint/io_uring/io_uring_file_get") == 0)
                        /* A kernel without io_uring (or its tracepoints): nothing to count. */
                        continue;
                if (!l) {
                        r = negative_errno();
                        log_error_errno(r, "Failed to attach BPF program %s (%s): %m",
                                        bpf_program__name(prog), bpf_program__section_name(prog));
                        syscalls_detach(s);
                        return r;
                }
                if (s->n >= ELEMENTSOF(s->links)) {
                        bpf_link__destroy(l);
                        syscalls_detach(s);
                        return log_error_errno(E2BIG, "More BPF programs than link slots.");
                }
                s->links[s->n++] = l;
        }
        *ret_state = s;
        return 0;
}

static unsigned syscalls_attached(const void *state) {
        const SyscallsState *s = state;

        return s ? s->n : 0;
}

const CaptureSource capture_source_syscalls = {
        .name = "syscalls",
        .owns = syscalls_owns,
        .attach = syscalls_attach,
        .detach = syscalls_detach,
        .attached = syscalls_attached,
};
