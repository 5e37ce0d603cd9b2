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

#include "bpf/abi.h"

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

/* Kinds of TLS the source cannot see (capture/tls-unseen.h): gnutls, nss, wolfssl, mbedtls, java, go. */
#define CAPTURE_TLS_UNSEEN_MAX 6u
#define CAPTURE_TLS_WITHOUT_SYMBOLS_MAX 32u

/* What the TLS source attached and what it cannot see, for status. Pointers live until detach. */
typedef struct CaptureTlsStatus {
        bool enabled;                               /* the source is attached (tls.enabled) */
        unsigned n_libraries;                       /* library files with probes */
        const char *libraries[HT_TLS_LIBRARIES_MAX];
        unsigned probes[HT_TLS_LIBRARIES_MAX];      /* 10 per file, 6 where the internal functions are probed */
        unsigned n_without_symbols;                 /* TLS-named files with none of the SSL_* symbols */
        const char *without_symbols[CAPTURE_TLS_WITHOUT_SYMBOLS_MAX];
        /* The last complete pass over /proc (at start; with tls.follow_new_libraries, the last round). */
        unsigned processes_scanned;
        unsigned unseen[CAPTURE_TLS_UNSEEN_MAX];    /* processes using TLS of that kind, not traced */
} CaptureTlsStatus;

void capture_tls_status(CaptureTlsStatus *ret);
const char *capture_tls_unseen_name(unsigned kind);
