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
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "capture/source.h"
#include "capture/tls-entry.h"
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

/* Which internal function (tls-entry.h) an exported one's probes give way to. */
enum { VIA_NONE, VIA_READ, VIA_WRITE, _VIA_MAX };

static const struct {
        const char *program;
        const char *symbol;
        bool retprobe;
        unsigned via;
} probes[TLS_PROBES_PER_FILE] = {
        { "ht_ssl_read",     "SSL_read",     false, VIA_READ },
        { "ht_ssl_write",    "SSL_write",    false, VIA_WRITE },
        { "ht_ssl_read_ex",  "SSL_read_ex",  false, VIA_READ },
        { "ht_ssl_write_ex", "SSL_write_ex", false, VIA_WRITE },
        { "ht_ssl_do_handshake", "SSL_do_handshake", false, VIA_NONE },
        { "ht_ssl_return",   "SSL_read",     true, VIA_READ },
        { "ht_ssl_return",   "SSL_write",    true, VIA_WRITE },
        { "ht_ssl_return",   "SSL_read_ex",  true, VIA_READ },
        { "ht_ssl_return",   "SSL_write_ex", true, VIA_WRITE },
        { "ht_ssl_return",   "SSL_do_handshake", true, VIA_NONE },
};

/*
 * The internal functions' probes: the _ex entry programs fit them (SSL *,
 * buf, num, size_t *bytes), and the return program takes a result > 0 with
 * the count in *bytes.
 */
static const struct {
        const char *entry;
        const char *exported[2];   /* both must call it */
} internal[_VIA_MAX] = {
        [VIA_READ] = { "ht_ssl_read_ex", { "SSL_read", "SSL_read_ex" } },
        [VIA_WRITE] = { "ht_ssl_write_ex", { "SSL_write", "SSL_write_ex" } },
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

/* The address of the function symbol name in e's dynamic symbols; 0 if it has none. */
static uint64_t elf_function(Elf *e, const char *name) {
        Elf_Scn *scn = NULL;
        GElf_Shdr sh;

        while ((scn = elf_nextscn(e, scn))) {
                Elf_Data *data;

                if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || sh.sh_entsize == 0)
                        continue;
                data = elf_getdata(scn, NULL);
                for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
                        const char *n;
                        GElf_Sym sym;

                        if (!gelf_getsym(data, (int) i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
                            sym.st_value == 0)
                                continue;
                        n = elf_strptr(e, sh.sh_link, sym.st_name);
                        if (n && strcmp(n, name) == 0)
                                return sym.st_value;
                }
        }
        return 0;
}

/*
 * Up to n bytes of code at address addr of the ELF e open on fd, from its
 * executable section; their file offset in *ret_off. Returns how many.
 */
static size_t elf_code(int fd, Elf *e, uint64_t addr, uint8_t *buf, size_t n, uint64_t *ret_off) {
        Elf_Scn *scn = NULL;
        GElf_Shdr sh;

        while ((scn = elf_nextscn(e, scn))) {
                ssize_t got;

                if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR) ||
                    addr < sh.sh_addr || addr - sh.sh_addr >= sh.sh_size)
                        continue;
                if (n > sh.sh_size - (addr - sh.sh_addr))
                        n = sh.sh_size - (addr - sh.sh_addr);
                got = pread(fd, buf, n, (off_t) (sh.sh_offset + (addr - sh.sh_addr)));
                if (got <= 0)
                        return 0;
                *ret_off = sh.sh_offset + (addr - sh.sh_addr);
                return (size_t) got;
        }
        return 0;
}

/*
 * The file offset of the internal function (tls-entry.h) that both of
 * exported[] call, if it starts with an instruction uprobes emulate; 0 if
 * there is no such one (then the exported functions are probed).
 */
static uint64_t internal_function(int fd, Elf *e, const char *const exported[2]) {
        uint64_t targets[2][TLS_ENTRY_TARGETS_MAX], at, off;
        uint8_t code[TLS_ENTRY_SCAN];
        size_t n[2];

        for (unsigned k = 0; k < 2; k++) {
                uint64_t addr = elf_function(e, exported[k]);
                size_t got = addr ? elf_code(fd, e, addr, code, sizeof(code), &off) : 0;

                n[k] = tls_entry_targets(code, got, addr, targets[k], TLS_ENTRY_TARGETS_MAX);
        }
        at = tls_entry_common(targets[0], n[0], targets[1], n[1]);
        if (at == 0 || !tls_entry_emulated(code, elf_code(fd, e, at, code, 2, &off)))
                return 0;
        return off;
}

/* internal_function() for reading and writing, of the file at path: offsets[VIA_*], 0 for none. */
static void internal_functions(const char *path, uint64_t offsets[_VIA_MAX]) {
        Elf *e;
        int fd;

        memset(offsets, 0, sizeof(uint64_t) * _VIA_MAX);
        if (elf_version(EV_CURRENT) == EV_NONE)
                return;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return;
        e = elf_begin(fd, ELF_C_READ, NULL);
        if (e && elf_kind(e) == ELF_K_ELF && gelf_getclass(e) == ELFCLASS64)
                for (unsigned v = VIA_READ; v < _VIA_MAX; v++)
                        offsets[v] = internal_function(fd, e, internal[v].exported);
        if (e)
                elf_end(e);
        close(fd);
}

/* One probe on path (at symbol, or at file offset off if symbol is NULL): 0, or libbpf's negative errno. */
static int attach_probe(OpensslState *s, TlsLibrary *lib, struct bpf_object *obj, const char *program,
                        const char *path, const char *symbol, uint64_t off, bool retprobe, __u64 cookie) {
        LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = symbol, .retprobe = retprobe, .bpf_cookie = cookie);
        struct bpf_link *l;

        /* The programs' presence was checked by add_library(). */
        l = bpf_program__attach_uprobe_opts(bpf_object__find_program_by_name(obj, program), -1, path,
                                            symbol ? 0 : off, &opts);
        if (!l)
                return negative_errno();
        s->links[s->n_links++] = l;
        lib->attached++;
        return 0;
}

/*
 * Attach the probes to one file: real is a path that reaches it from here
 * (/proc/PID/root/...), name how its processes call it. 0 also when it is
 * not attached (already known, no symbols, limit reached); -EPERM and
 * -EACCES when uprobes are refused.
 */
static int add_library(OpensslState *s, struct bpf_object *obj, const char *real, const char *name) {
        uint64_t via[_VIA_MAX];
        TlsLibrary *lib;
        struct stat st;
        __u64 cookie;
        int r = 0;

        if (stat(real, &st) < 0 || !S_ISREG(st.st_mode))
                return 0;
        if (known_file(s->libs, s->n_libs, &st) || known_file(s->rejected, s->n_rejected, &st))
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(probes); i++)
                if (!bpf_object__find_program_by_name(obj, probes[i].program))
                        return log_error_errno(ENOENT, "BPF program %s is missing.", probes[i].program);
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

        cookie = (s->n_libs + 1) | (is_memory_bio_binary(name) ? TLS_COOKIE_MEMORY_BIO : 0);
        internal_functions(real, via);
        for (unsigned v = VIA_READ; v < _VIA_MAX && r >= 0; v++) {
                if (via[v] == 0)
                        continue;
                r = attach_probe(s, lib, obj, internal[v].entry, real, NULL, via[v], false, cookie);
                if (r >= 0) {
                        r = attach_probe(s, lib, obj, "ht_ssl_return", real, NULL, via[v], true, cookie);
                        if (r < 0) {
                                /* No entry without its return: the exported functions' would overlap it. */
                                bpf_link__destroy(s->links[--s->n_links]);
                                lib->attached--;
                        }
                }
                if (r >= 0)
                        log_debug("TLS source: %s's %s and %s probed at their common internal function (offset 0x%" PRIx64 ").",
                                  name, internal[v].exported[0], internal[v].exported[1], via[v]);
                else if (r != -EPERM && r != -EACCES) {
                        /* Then the exported functions, as where there is none. */
                        log_debug_errno(r, "TLS source: internal function at 0x%" PRIx64 " in %s not attached: %m", via[v], name);
                        via[v] = 0;
                        r = 0;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(probes) && r >= 0; i++) {
                if (via[probes[i].via] != 0)
                        continue;   /* its internal function is probed: this one would count twice */
                r = attach_probe(s, lib, obj, probes[i].program, real, probes[i].symbol, 0, probes[i].retprobe, cookie);
                if (r < 0 && r != -EPERM && r != -EACCES) {
                        /* A symbol this file lacks (SSL_read_ex before OpenSSL 1.1.1): the others still work. */
                        log_debug_errno(r, "TLS source: %s in %s not attached: %m", probes[i].symbol, name);
                        r = 0;
                }
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
