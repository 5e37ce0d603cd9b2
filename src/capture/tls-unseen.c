/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the TLS source cannot see, recognised cheaply; see tls-unseen.h. */

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/macro.h"
#include "capture/tls-unseen.h"

/* Bounds on what one executable costs to look at: Go binaries have ~25-40 sections. */
#define TLS_UNSEEN_SECTIONS_MAX 256u
#define TLS_UNSEEN_SHSTRTAB_MAX 8192u

static const struct {
        const char *name;
        const char *prefix;      /* base name of the mapped library; NULL: not by library */
} kinds[_TLS_UNSEEN_MAX] = {
        [TLS_UNSEEN_GNUTLS]  = { "gnutls",  "libgnutls.so" },
        [TLS_UNSEEN_NSS]     = { "nss",     "libnss3.so" },
        [TLS_UNSEEN_WOLFSSL] = { "wolfssl", "libwolfssl.so" },
        [TLS_UNSEEN_MBEDTLS] = { "mbedtls", "libmbedtls.so" },
        [TLS_UNSEEN_JAVA]    = { "java",    "libjvm.so" },
        [TLS_UNSEEN_GO]      = { "go",      NULL },
};

const char *tls_unseen_name(unsigned kind) {
        return kind < _TLS_UNSEEN_MAX ? kinds[kind].name : NULL;
}

int tls_unseen_of_path(const char *path) {
        const char *base = strrchr(path, '/');

        base = base ? base + 1 : path;
        for (unsigned i = 0; i < _TLS_UNSEEN_MAX; i++)
                if (kinds[i].prefix && strncmp(base, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
                        return (int) i;
        return -1;
}

static bool read_exact(int fd, void *buf, size_t n, uint64_t off) {
        return pread(fd, buf, n, (off_t) off) == (ssize_t) n;
}

bool tls_unseen_is_go_elf(int fd) {
        _cleanup_(freep) Elf64_Shdr *sh = NULL;
        _cleanup_(freep) char *names = NULL;
        Elf64_Ehdr eh;
        Elf64_Shdr *strtab;
        size_t size;

        if (!read_exact(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
            eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
            eh.e_shnum == 0 || eh.e_shnum > TLS_UNSEEN_SECTIONS_MAX || eh.e_shstrndx >= eh.e_shnum)
                return false;
        sh = calloc(eh.e_shnum, sizeof(*sh));
        if (!sh || !read_exact(fd, sh, eh.e_shnum * sizeof(*sh), eh.e_shoff))
                return false;
        strtab = &sh[eh.e_shstrndx];
        size = MIN(strtab->sh_size, (uint64_t) TLS_UNSEEN_SHSTRTAB_MAX);
        names = malloc(size + 1);
        if (!names || size == 0 || !read_exact(fd, names, size, strtab->sh_offset))
                return false;
        names[size] = 0;
        for (unsigned i = 0; i < eh.e_shnum; i++) {
                const char *n;

                if (sh[i].sh_name >= size)
                        continue;
                n = names + sh[i].sh_name;
                if (strcmp(n, ".go.buildinfo") == 0 || strcmp(n, ".note.go.buildid") == 0)
                        return true;
        }
        return false;
}
