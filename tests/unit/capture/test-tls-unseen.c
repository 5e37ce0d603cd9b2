/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for capture/tls-unseen.c: TLS the source cannot see, by library name and Go ELF sections. */

#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture/tls-unseen.h"

static void test_paths(void **state) {
        assert_int_equal(tls_unseen_of_path("/usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3"), TLS_UNSEEN_GNUTLS);
        assert_int_equal(tls_unseen_of_path("/usr/lib/x86_64-linux-gnu/libnss3.so"), TLS_UNSEEN_NSS);
        assert_int_equal(tls_unseen_of_path("/opt/x/libwolfssl.so.35"), TLS_UNSEEN_WOLFSSL);
        assert_int_equal(tls_unseen_of_path("/lib/libmbedtls.so.14"), TLS_UNSEEN_MBEDTLS);
        assert_int_equal(tls_unseen_of_path("/usr/lib/jvm/java-17/lib/server/libjvm.so"), TLS_UNSEEN_JAVA);
        /* Not a TLS implementation of its own, or one we trace. */
        assert_int_equal(tls_unseen_of_path("/usr/lib/x86_64-linux-gnu/libgnutls-openssl.so.27"), -1);
        assert_int_equal(tls_unseen_of_path("/usr/lib/x86_64-linux-gnu/libssl.so.3"), -1);
        assert_int_equal(tls_unseen_of_path("/usr/lib/x86_64-linux-gnu/libc.so.6"), -1);
        assert_int_equal(tls_unseen_of_path("libgnutls.so.30"), TLS_UNSEEN_GNUTLS);
        assert_string_equal(tls_unseen_name(TLS_UNSEEN_GO), "go");
        assert_null(tls_unseen_name(_TLS_UNSEEN_MAX));
}

/* A minimal ELF64: header, a null section, one named section, the section-name table. */
static int make_elf(const char *section, uint16_t shnum_override) {
        char names[64];
        size_t n_name = strlen(section) + 1;
        Elf64_Ehdr eh = {};
        Elf64_Shdr sh[3] = {};
        int fd = memfd_create("elf", MFD_CLOEXEC);

        assert_true(fd >= 0);
        names[0] = 0;
        memcpy(names + 1, section, n_name);
        memcpy(names + 1 + n_name, ".shstrtab", sizeof(".shstrtab"));
        memcpy(eh.e_ident, ELFMAG, SELFMAG);
        eh.e_ident[EI_CLASS] = ELFCLASS64;
        eh.e_ident[EI_DATA] = ELFDATA2LSB;
        eh.e_shentsize = sizeof(Elf64_Shdr);
        eh.e_shnum = shnum_override ?: 3;
        eh.e_shstrndx = 2;
        eh.e_shoff = sizeof(eh) + sizeof(names);
        sh[1].sh_name = 1;
        sh[2].sh_name = 1 + n_name;
        sh[2].sh_offset = sizeof(eh);
        sh[2].sh_size = 1 + n_name + sizeof(".shstrtab");
        assert_int_equal(pwrite(fd, &eh, sizeof(eh), 0), sizeof(eh));
        assert_int_equal(pwrite(fd, names, sizeof(names), sizeof(eh)), sizeof(names));
        assert_int_equal(pwrite(fd, sh, sizeof(sh), eh.e_shoff), sizeof(sh));
        return fd;
}

static void test_go_elf(void **state) {
        int fd;

        fd = make_elf(".go.buildinfo", 0);
        assert_true(tls_unseen_is_go_elf(fd));
        close(fd);
        fd = make_elf(".note.go.buildid", 0);
        assert_true(tls_unseen_is_go_elf(fd));
        close(fd);
        fd = make_elf(".text", 0);
        assert_false(tls_unseen_is_go_elf(fd));
        close(fd);
        /* Section count beyond the file: malformed, false. */
        fd = make_elf(".go.buildinfo", 200);
        assert_false(tls_unseen_is_go_elf(fd));
        close(fd);
        /* Not ELF. */
        fd = memfd_create("x", MFD_CLOEXEC);
        assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
        assert_false(tls_unseen_is_go_elf(fd));
        close(fd);
        /* A real C program. */
        fd = open("/bin/sh", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                assert_false(tls_unseen_is_go_elf(fd));
                close(fd);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_go_elf),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
