/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Drop-in enumeration with systemd's conf.d rules (libsystemd has no public
 * API for it in v252): files with the suffix are collected from every
 * directory; a name found in an earlier (higher precedence) directory hides
 * the same name in later ones; an entry that is a symlink to /dev/null (any
 * character device) or an empty file is a mask: it contributes nothing and
 * hides the same name further down; entries that cannot be stat()ed
 * (dangling symlinks) are skipped and hide nothing. The survivors are
 * returned sorted by file name, which is the order they apply in.
 */
#pragma once

#include <stddef.h>

#include "basic/macro.h"

/*
 * dirs: NULL-terminated, highest precedence first; each is prefixed with
 * root (NULL or "/" for none) and followed by "/" subdir. Missing
 * directories are fine. ret_masked (may be NULL) gets the paths of masks.
 * Both lists are NULL-terminated and freed with strv_free().
 */
int conf_files_list(const char *root, const char *const *dirs, const char *subdir, const char *suffix,
                    char ***ret_files, char ***ret_masked);

/* root + path, without doubling the slash. */
char *path_join_root(const char *root, const char *path);
