/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TLS implementations the TLS source cannot see (docs/tls.md, "What is not
 * seen"), recognised cheaply so that status can say how many processes use
 * them: a library in /proc/PID/maps (GnuTLS, NSS, wolfSSL, mbed TLS, a JVM
 * and its JSSE), or a Go executable (crypto/tls is compiled in). Pure: no
 * logging, no state; source-openssl.c counts.
 */
#pragma once

#include <stdbool.h>

typedef enum TlsUnseenKind {
        TLS_UNSEEN_GNUTLS,
        TLS_UNSEEN_NSS,
        TLS_UNSEEN_WOLFSSL,
        TLS_UNSEEN_MBEDTLS,
        TLS_UNSEEN_JAVA,
        TLS_UNSEEN_GO,
        _TLS_UNSEEN_MAX,
} TlsUnseenKind;

/* "gnutls", "nss", ...; NULL for a bad kind. */
const char *tls_unseen_name(unsigned kind);

/* The kind of a mapped file's path (by its base name), or -1: not one we count. */
int tls_unseen_of_path(const char *path);

/*
 * Whether the ELF file open on fd is a Go executable: it has a
 * .go.buildinfo or .note.go.buildid section. Reads the ELF header, at most
 * TLS_UNSEEN_SECTIONS_MAX section headers and TLS_UNSEEN_SHSTRTAB_MAX bytes
 * of their names (a few pread()s); anything else, or anything malformed, is
 * false.
 */
bool tls_unseen_is_go_elf(int fd);
