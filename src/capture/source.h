/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A data source: the BPF programs of one kind of probe, attached and
 * detached as a unit. bpf-object.c loads the object once and walks a small
 * table of sources (name, attach, detach) instead of attaching every program
 * blindly, so that a source needing more than a tracepoint name (a uprobe
 * needs a binary's path and a symbol) brings its own attach. Every program
 * of the object must belong to exactly one source: bpf-object.c refuses to
 * start when one is left over, rather than leave it silently unattached.
 */
#pragma once

#include <stdbool.h>

struct bpf_object;
struct bpf_program;

typedef struct CaptureSource {
        const char *name;

        /* True when prog is one of this source's programs. */
        bool (*owns)(const struct bpf_program *prog);

        /*
         * Attach this source's programs of obj (loaded). Logs its own errors,
         * naming the program; on failure nothing of it stays attached.
         * *ret_state is the source's own (its links), for detach.
         */
        int (*attach)(struct bpf_object *obj, void **ret_state);

        /* Detach what attach attached and free the state; NULL is fine. */
        void (*detach)(void *state);

        /* Programs attached, for status. */
        unsigned (*attached)(const void *state);

        /*
         * Optional: one bounded step of attaching to what appeared since
         * attach (source-openssl.c: new library files). Returns how many
         * new things were attached, or negative errno; logs its own news.
         */
        int (*rescan)(void *state, struct bpf_object *obj);
} CaptureSource;

/* The socket syscall tracepoints, and the process-exit tracepoint that ends their connections. */
extern const CaptureSource capture_source_syscalls;

/*
 * OpenSSL's SSL_read/SSL_write(_ex) uprobes on every TLS library file found
 * at start (source-openssl.c). Never fails for want of a library or of the
 * privilege uprobes need: it logs once and attaches nothing.
 */
extern const CaptureSource capture_source_openssl;

/* The path of TLS library file index (1-based, ht_conn_open_event.tls_library); NULL if unknown. */
const char *capture_tls_library(unsigned index);
/* TLS library files attached. */
unsigned capture_tls_libraries(void);
