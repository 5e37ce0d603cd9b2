/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NULL-terminated arrays of strings ("string vectors"), as conf-files, the
 * config diff and the control client hand them out. Here rather than in the
 * config module so that conf-files.c need not include configuration.h (which
 * made config.c and conf-files.c depend on each other).
 */
#pragma once

/* Frees every string and the array; accepts NULL. */
void strv_free(char **l);
