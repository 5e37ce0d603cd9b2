/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TLS source (bpf/sources/openssl.bpf.h): OpenSSL's SSL_read, SSL_write,
 * SSL_read_ex and SSL_write_ex, entry and return, attached to every distinct
 * library file found at start:
 *
 *  - the files mapped by running processes whose name says libssl
 *    (/proc/PID/maps), opened through /proc/PID/root/... so that a copy
 *    inside a container or another mount namespace is attached as the file
 *    it really is;
 *  - the usual host paths (libssl.so.3 and .so.1.1, /usr/bin/node) even
 *    when no process maps them yet;
 *  - node binaries (OpenSSL linked in, symbols exported), marked as doing
 *    their I/O through memory BIOs (see bpf/lib/tls-tie.bpf.h).
 *
 * Files are told apart by (device, inode); each is attached once, with
 * pid -1: the uprobes sit on the file and fire in every process mapping it,
 * including processes started later. The file's 1-based index in the list
 * below is the attach cookie, which the kernel copies into the connection's
 * announcement; capture_tls_library() turns it back into the path.
 *
 * Libraries that appear after the start (a new container image, a dlopen)
 * are attached by openssl_rescan() when tls.follow_new_libraries is on: a
 * bounded round robin over /proc, TLS_RESCAN_PROCESSES processes' maps per
 * step (the daemon steps once a second). Off, they wait for the next start.
 * A file without the symbols is remembered (bounded) and not tried again.
 *
 * Not finding a library, a file without the symbols, or uprobes being
 * refused (they need CAP_SYS_ADMIN on recent kernels) is no error: one log
 * line, and the daemon traces plaintext as before.
 */

#include <bpf/libbpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "capture/source.h"
#include "capture/tls-unseen.h"
#include "bpf/abi.h"
#include "http-tracer.skel.h"

/* = bpf/lib/tls-tie.bpf.h's: the library's I/O goes through memory BIOs. */
#define TLS_COOKIE_MEMORY_BIO 0x100u
_Static_assert(HT_TLS_LIBRARIES_MAX < 256, "the cookie's low byte holds the library index");
_Static_assert((int) _TLS_UNSEEN_MAX == (int) CAPTURE_TLS_UNSEEN_MAX, "source.h and tls-unseen.h disagree");

/* Per file: five entry probes (SSL_do_handshake ties early) and their returns, one return program. */
#define TLS_PROBES_PER_FILE 10u

typedef struct TlsLibrary {
        char *path;              /* as the process that maps it names it (TLS_LIBRARY) */
        dev_t dev;
        ino_t ino;
        unsigned attached;       /* probes attached */
} TlsLibrary;

/*
 * Files that have none of the symbols, remembered so that a rescan does not
 * try (and log) them again; past the bound they are tried again, which only
 * costs time.
 */
#define TLS_REJECTED_MAX CAPTURE_TLS_WITHOUT_SYMBOLS_MAX

/*
 * Processes whose maps one rescan step reads. The daemon steps once a
 * second, so a host's N processes are all read within N/64 s (a few seconds
 * on most hosts). Reading one process's maps costs ~30-100 us here, so a
 * step costs at most a few ms of one second.
 */
#define TLS_RESCAN_PROCESSES 64u

typedef struct OpensslState {
        TlsLibrary libs[HT_TLS_LIBRARIES_MAX];
        unsigned n_libs;
        TlsLibrary rejected[TLS_REJECTED_MAX];   /* no SSL_* symbols: not attached */
        unsigned n_rejected;
        struct bpf_link **links;
        unsigned n_links;
        bool warned_full;        /* the "more than HT_TLS_LIBRARIES_MAX" warning was given */
        bool warned_refused;     /* a rescan's attach was refused: said once */
        unsigned long cursor;    /* rescan: the last pid read; 0: start over */
        /*
         * Processes using TLS that is not traced (tls-unseen.h), per kind:
         * counted during a pass over /proc (the start scan, or a full round
         * of rescans) and published when the pass ends.
         */
        unsigned unseen_pass[_TLS_UNSEEN_MAX], scanned_pass;
        unsigned unseen[_TLS_UNSEEN_MAX], scanned;
} OpensslState;

/* Index -> path for capture_tls_library(): set at attach, kept until detach. */
static const OpensslState *current;

static const struct {
        const char *program;
        const char *symbol;
        bool retprobe;
} probes[TLS_PROBES_PER_FILE] = {
        { "ht_ssl_read",     "SSL_read",     false },
        { "ht_ssl_write",    "SSL_write",    false },
        { "ht_ssl_read_ex",  "SSL_read_ex",  false },
        { "ht_ssl_write_ex", "SSL_write_ex", false },
        { "ht_ssl_do_handshake", "SSL_do_handshake", false },
        { "ht_ssl_return",   "SSL_read",     true },
        { "ht_ssl_return",   "SSL_write",    true },
        { "ht_ssl_return",   "SSL_read_ex",  true },
        { "ht_ssl_return",   "SSL_write_ex", true },
        { "ht_ssl_return",   "SSL_do_handshake", true },
};

/* Where a host without running TLS processes keeps its libssl (Debian/Ubuntu, Fedora...). */
static const char *const host_paths[] = {
        "/usr/lib/x86_64-linux-gnu/libssl.so.3",
        "/usr/lib/x86_64-linux-gnu/libssl.so.1.1",
        "/usr/lib/aarch64-linux-gnu/libssl.so.3",
        "/usr/lib64/libssl.so.3",
        "/usr/lib/libssl.so.3",
        "/usr/bin/node",
};

static bool openssl_owns(const struct bpf_program *prog) {
        const char *sec = bpf_program__section_name(prog);

        return sec && (strcmp(sec, "uprobe") == 0 || strcmp(sec, "uretprobe") == 0);
}

const char *capture_tls_library(unsigned index) {
        if (!current || index == 0 || index > current->n_libs)
                return NULL;
        return current->libs[index - 1].path;
}

static const char *base_name(const char *path) {
        const char *base = strrchr(path, '/');

        return base ? base + 1 : path;
}

/*
 * Binaries with OpenSSL linked in that do their socket I/O outside it,
 * through memory BIOs (node: libuv). Their SSL* is tied to its socket
 * another way (bpf/lib/tls-tie.bpf.h, TLS_COOKIE_MEMORY_BIO).
 */
static bool is_memory_bio_binary(const char *path) {
        const char *base = base_name(path);

        return strcmp(base, "node") == 0 || strcmp(base, "nodejs") == 0;
}

/* Does a mapped file's path name a TLS library we hook? */
static bool is_tls_library(const char *path) {
        const char *base = base_name(path);

        return strncmp(base, "libssl.so.3", strlen("libssl.so.3")) == 0 ||
               strncmp(base, "libssl.so.1.1", strlen("libssl.so.1.1")) == 0 ||
               is_memory_bio_binary(path);
}

static void openssl_detach(void *state) {
        OpensslState *s = state;

        if (!s)
                return;
        if (current == s)
                current = NULL;
        for (unsigned i = 0; i < s->n_links; i++)
                bpf_link__destroy(s->links[i]);
        free(s->links);
        for (unsigned i = 0; i < s->n_libs; i++)
                free(s->libs[i].path);
        for (unsigned i = 0; i < s->n_rejected; i++)
                free(s->rejected[i].path);
        free(s);
}

static bool known_file(const TlsLibrary *list, unsigned n, const struct stat *st) {
        for (unsigned i = 0; i < n; i++)
                if (list[i].dev == st->st_dev && list[i].ino == st->st_ino)
                        return true;
        return false;
}

/*
 * Attach the probes to one file: real is a path that reaches it from here
 * (/proc/PID/root/...), name how its processes call it. 0 also when it is
 * not attached (already known, no symbols, limit reached); -EPERM and
 * -EACCES when uprobes are refused.
 */
static int add_library(OpensslState *s, struct bpf_object *obj, const char *real, const char *name) {
        TlsLibrary *lib;
        struct stat st;
        int r = 0;

        if (stat(real, &st) < 0 || !S_ISREG(st.st_mode))
                return 0;
        if (known_file(s->libs, s->n_libs, &st) || known_file(s->rejected, s->n_rejected, &st))
                return 0;
        if (s->n_libs >= ELEMENTSOF(s->libs)) {
                if (!s->warned_full)
                        log_warning("TLS source: more than %u distinct TLS library files, not attaching %s "
                                    "(nor any further one).", HT_TLS_LIBRARIES_MAX, name);
                s->warned_full = true;
                return 0;
        }

        lib = &s->libs[s->n_libs];
        *lib = (TlsLibrary) { .path = strdup(name), .dev = st.st_dev, .ino = st.st_ino };
        if (!lib->path)
                return log_oom();

        for (size_t i = 0; i < ELEMENTSOF(probes); i++) {
                struct bpf_program *prog = bpf_object__find_program_by_name(obj, probes[i].program);
                LIBBPF_OPTS(bpf_uprobe_opts, opts,
                            .func_name = probes[i].symbol,
                            .retprobe = probes[i].retprobe,
                            .bpf_cookie = (s->n_libs + 1) | (is_memory_bio_binary(name) ? TLS_COOKIE_MEMORY_BIO : 0));
                struct bpf_link *l;

                if (!prog)
                        return log_error_errno(ENOENT, "BPF program %s is missing.", probes[i].program);
                l = bpf_program__attach_uprobe_opts(prog, -1, real, 0, &opts);
                if (!l) {
                        r = negative_errno();
                        if (r == -EPERM || r == -EACCES)
                                break;
                        /* A symbol this file lacks (SSL_read_ex before OpenSSL 1.1.1): the others still work. */
                        log_debug_errno(r, "TLS source: %s in %s not attached: %m", probes[i].symbol, name);
                        r = 0;
                        continue;
                }
                s->links[s->n_links++] = l;
                lib->attached++;
        }
        if (lib->attached == 0) {
                if (r == 0) {
                        log_info("TLS source: %s has none of the SSL_read/SSL_write symbols, ignoring.", name);
                        if (s->n_rejected < ELEMENTSOF(s->rejected)) {
                                s->rejected[s->n_rejected++] = *lib;
                                *lib = (TlsLibrary) {};
                                return 0;
                        }
                }
                free(lib->path);
                *lib = (TlsLibrary) {};
                return r;
        }
        s->n_libs++;
        log_debug("TLS source: %u probes on %s (%s).", lib->attached, name, real);
        return r;
}

/* Is process pid's executable a Go program (crypto/tls compiled in)? */
static bool process_is_go(const char *pid) {
        char p[64];
        bool go;
        int fd;

        snprintf(p, sizeof(p), "/proc/%s/exe", pid);
        fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return false;   /* a kernel thread, gone, or not ours to read */
        go = tls_unseen_is_go_elf(fd);
        close(fd);
        return go;
}

/* Publish a finished pass's counts of TLS we cannot see, and start the next. */
static void unseen_pass_end(OpensslState *s) {
        memcpy(s->unseen, s->unseen_pass, sizeof(s->unseen));
        s->scanned = s->scanned_pass;
        memset(s->unseen_pass, 0, sizeof(s->unseen_pass));
        s->scanned_pass = 0;
}

/* The TLS libraries mapped by process pid; and whether it uses TLS we cannot see. */
static int scan_process(OpensslState *s, struct bpf_object *obj, const char *pid) {
        char p[64], line[4096];
        unsigned unseen = 0;
        FILE *f;
        int r = 0;

        snprintf(p, sizeof(p), "/proc/%s/maps", pid);
        f = fopen(p, "re");
        if (!f)
                return 0;   /* gone, or not ours to read */
        s->scanned_pass++;
        while (fgets(line, sizeof(line), f)) {
                char *path = strchr(line, '/'), real[PATH_MAX + 64];
                size_t n;
                int kind;

                if (!path)
                        continue;
                n = strcspn(path, "\n");
                path[n] = 0;
                if (n > 10 && strcmp(path + n - 10, " (deleted)") == 0)
                        continue;
                kind = tls_unseen_of_path(path);
                if (kind >= 0)
                        unseen |= 1u << kind;
                if (!is_tls_library(path))
                        continue;
                if ((size_t) snprintf(real, sizeof(real), "/proc/%s/root%s", pid, path) >= sizeof(real))
                        continue;
                r = add_library(s, obj, real, path);
                if (r < 0)
                        break;
        }
        fclose(f);
        if (process_is_go(pid))
                unseen |= 1u << TLS_UNSEEN_GO;
        for (unsigned k = 0; k < _TLS_UNSEEN_MAX; k++)
                s->unseen_pass[k] += !!(unseen & (1u << k));
        return r;
}

/*
 * Tell the kernel side that SSL_* probes are attached (bpf/lib/tls-tie.bpf.h:
 * until then the syscall source skips its TLS work). The .bss is mmap()ed
 * at load; the skeleton's type names its layout.
 */
static void set_probes_attached(struct bpf_object *obj) {
        struct bpf_map *m = bpf_object__find_map_by_name(obj, ".bss");
        struct http_tracer_bpf__bss *bss;
        size_t size = 0;

        bss = m ? (struct http_tracer_bpf__bss *) bpf_map__initial_value(m, &size) : NULL;
        if (!bss || size < sizeof(*bss)) {
                /* Cannot happen with this object; without the flag the TLS view is never tied, so say it. */
                log_warning("TLS source: the BPF object's .bss is not mapped, HTTPS is not traced, ignoring.");
                return;
        }
        __atomic_store_n(&bss->tls_probes_attached, 1, __ATOMIC_SEQ_CST);
}

static int openssl_attach(struct bpf_object *obj, void **ret_state) {
        OpensslState *s;
        DIR *d;
        struct dirent *de;
        int r = 0;

        s = calloc(1, sizeof(*s));
        if (!s)
                return log_oom();
        s->links = calloc(HT_TLS_LIBRARIES_MAX * TLS_PROBES_PER_FILE, sizeof(*s->links));
        if (!s->links) {
                free(s);
                return log_oom();
        }

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(host_paths); i++)
                r = add_library(s, obj, host_paths[i], host_paths[i]);

        d = opendir("/proc");
        while (r >= 0 && d && (de = readdir(d)))
                if (isdigit((unsigned char) de->d_name[0]))
                        r = scan_process(s, obj, de->d_name);
        if (d)
                closedir(d);
        if (r >= 0)
                unseen_pass_end(s);

        if (r == -EPERM || r == -EACCES) {
                log_warning_errno(r, "TLS source: attaching uprobes was refused (%m; they need CAP_SYS_ADMIN), "
                                  "HTTPS is not traced, ignoring.");
                openssl_detach(s);
                s = calloc(1, sizeof(*s));
                if (!s)
                        return log_oom();
        } else if (r < 0) {
                openssl_detach(s);
                return r;
        } else if (s->n_libs == 0)
                log_info("TLS source: no OpenSSL library found, HTTPS is not traced.");
        else
                log_debug("TLS source: %u library files, %u probes.", s->n_libs, s->n_links);
        if (s->n_links > 0)
                set_probes_attached(obj);

        current = s;
        *ret_state = s;
        return 0;
}

/*
 * One bounded step of following new libraries: the maps of the next
 * TLS_RESCAN_PROCESSES processes in pid order after the last step's, from
 * the first again once the end of /proc is reached. Returns the number of
 * files newly attached.
 */
static int openssl_rescan(void *state, struct bpf_object *obj) {
        OpensslState *s = state;
        unsigned before = s->n_libs, links_before = s->n_links, read = 0;
        bool at_end = true;
        struct dirent *de;
        DIR *d;
        int r = 0;

        d = opendir("/proc");
        if (!d)
                return negative_errno();
        /* /proc lists processes in increasing pid order. */
        while ((de = readdir(d))) {
                unsigned long pid;

                if (!isdigit((unsigned char) de->d_name[0]))
                        continue;
                pid = strtoul(de->d_name, NULL, 10);
                if (pid <= s->cursor)
                        continue;
                if (read >= TLS_RESCAN_PROCESSES) {
                        at_end = false;
                        break;
                }
                read++;
                s->cursor = pid;
                r = scan_process(s, obj, de->d_name);
                if (r < 0)
                        break;
        }
        closedir(d);
        if (at_end && r >= 0) {
                s->cursor = 0;
                unseen_pass_end(s);
        }

        if (r == -EPERM || r == -EACCES) {
                /* Capabilities dropped after all (or a policy): say it once, keep tracing what is attached. */
                if (!s->warned_refused)
                        log_warning_errno(r, "TLS source: attaching uprobes to a new library was refused (%m), "
                                          "new TLS libraries are not followed, ignoring.");
                s->warned_refused = true;
                r = 0;
        }
        for (unsigned i = before; i < s->n_libs; i++)
                log_info("TLS source: now tracing %s (appeared after start, %u probes).",
                         s->libs[i].path, s->libs[i].attached);
        if (links_before == 0 && s->n_links > 0)
                set_probes_attached(obj);
        return r < 0 ? r : (int) (s->n_libs - before);
}

static unsigned openssl_attached(const void *state) {
        const OpensslState *s = state;

        return s ? s->n_links : 0;
}

unsigned capture_tls_libraries(void) {
        return current ? current->n_libs : 0;
}

void capture_tls_status(CaptureTlsStatus *ret) {
        const OpensslState *s = current;

        *ret = (CaptureTlsStatus) {};
        if (!s)
                return;
        ret->enabled = true;
        ret->n_libraries = s->n_libs;
        for (unsigned i = 0; i < s->n_libs; i++) {
                ret->libraries[i] = s->libs[i].path;
                ret->probes[i] = s->libs[i].attached;
        }
        ret->n_without_symbols = s->n_rejected;
        for (unsigned i = 0; i < s->n_rejected; i++)
                ret->without_symbols[i] = s->rejected[i].path;
        ret->processes_scanned = s->scanned;
        memcpy(ret->unseen, s->unseen, sizeof(ret->unseen));
}

const char *capture_tls_unseen_name(unsigned kind) {
        return tls_unseen_name(kind);
}

const CaptureSource capture_source_openssl = {
        .name = "openssl",
        .owns = openssl_owns,
        .attach = openssl_attach,
        .detach = openssl_detach,
        .attached = openssl_attached,
        .rescan = openssl_rescan,
};
