/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drop-in enumeration with systemd's conf.d semantics; see conf-files.h. */

#define _GNU_SOURCE 1  /* asprintf */

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/strv.h"
#include "config/conf-files.h"

/* More drop-ins than this is a mistake (or an attack on start-up time); refuse rather than crawl. */
#define CONF_FILES_MAX 4096u

typedef struct Entry {
        char *name;
        char *path;           /* NULL for a mask */
} Entry;

char *path_join_root(const char *root, const char *path) {
        char *p;

        if (!root || strcmp(root, "/") == 0 || !*root)
                return strdup(path);
        if (asprintf(&p, "%s%s%s", root, path[0] == '/' ? "" : "/", path) < 0)
                return NULL;
        return p;
}

static int entry_cmp(const void *a, const void *b) {
        return strcmp(((const Entry *) a)->name, ((const Entry *) b)->name);
}

static void entries_free(Entry *e, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(e[i].name);
                free(e[i].path);
        }
        free(e);
}

static bool has_suffix(const char *s, const char *suffix) {
        size_t n = strlen(s), k = strlen(suffix);
        return n > k && strcmp(s + n - k, suffix) == 0;
}

int conf_files_list(const char *root, const char *const *dirs, const char *subdir, const char *suffix,
                    char ***ret_files, char ***ret_masked) {
        Entry *entries = NULL;
        size_t n = 0;
        char **files = NULL, **masked = NULL;
        size_t n_files = 0, n_masked = 0;
        int r = 0;

        for (const char *const *d = dirs; *d && r >= 0; d++) {
                _cleanup_(freep) char *base = NULL, *dir = NULL;
                DIR *dh;
                struct dirent *de;

                base = path_join_root(root, *d);
                if (!base || asprintf(&dir, "%s/%s", base, subdir) < 0) {
                        dir = NULL;
                        r = -ENOMEM;
                        break;
                }
                dh = opendir(dir);
                if (!dh) {
                        if (errno == ENOENT || errno == ENOTDIR)
                                continue;
                        r = -errno;
                        break;
                }
                while ((de = readdir(dh))) {
                        _cleanup_(freep) char *path = NULL;
                        struct stat st;
                        bool seen = false, mask;

                        if (de->d_name[0] == '.' || !has_suffix(de->d_name, suffix))
                                continue;
                        for (size_t i = 0; i < n && !seen; i++)
                                seen = strcmp(entries[i].name, de->d_name) == 0;
                        if (seen)
                                continue;  /* hidden by the same name in a directory of higher precedence */

                        if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
                                path = NULL;
                                r = -ENOMEM;
                                break;
                        }
                        if (stat(path, &st) < 0)
                                continue;  /* dangling symlink: skipped, hides nothing (as systemd) */
                        mask = S_ISCHR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0);
                        if (!mask && !S_ISREG(st.st_mode))
                                continue;  /* a directory named x.yaml: not ours */

                        if (n >= CONF_FILES_MAX) {
                                r = -E2BIG;
                                break;
                        }
                        Entry *e = realloc(entries, (n + 1) * sizeof(Entry));
                        if (!e) {
                                r = -ENOMEM;
                                break;
                        }
                        entries = e;
                        entries[n].name = strdup(de->d_name);
                        if (!entries[n].name) {
                                r = -ENOMEM;
                                break;
                        }
                        entries[n].path = TAKE_PTR(path);
                        if (mask) {
                                /* Keep the path for reporting, but mark it as a mask by moving it. */
                                char **m = realloc(masked, (n_masked + 2) * sizeof(char *));
                                if (!m) {
                                        free(entries[n].name);
                                        free(entries[n].path);
                                        r = -ENOMEM;
                                        break;
                                }
                                masked = m;
                                masked[n_masked++] = entries[n].path;
                                masked[n_masked] = NULL;
                                entries[n].path = NULL;
                        }
                        n++;
                }
                closedir(dh);
        }

        if (r >= 0) {
                if (n > 0)
                        qsort(entries, n, sizeof(Entry), entry_cmp);
                files = calloc(n + 1, sizeof(char *));
                if (!files)
                        r = -ENOMEM;
                else
                        for (size_t i = 0; i < n; i++)
                                if (entries[i].path)
                                        files[n_files++] = TAKE_PTR(entries[i].path);
        }
        entries_free(entries, n);

        if (r >= 0 && !masked) {
                masked = calloc(1, sizeof(char *));
                if (!masked)
                        r = -ENOMEM;
        }
        if (r < 0) {
                strv_free(files);
                strv_free(masked);
                return r;
        }
        *ret_files = files;
        if (ret_masked)
                *ret_masked = masked;
        else
                strv_free(masked);
        return 0;
}
