/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's own messages (not traffic entries). Only the daemon layer
 * (main.c, manager.c, bpf loading, outputs' error paths) logs; parsers and
 * data structures return errors. Writes never block the event loop and are
 * rate limited, so that hostile traffic cannot make us log without bound.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <syslog.h>

#include "basic/macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);
int log_level_from_string(const char *s);

/*
 * Is stderr a stream to journald ($JOURNAL_STREAM names its device:inode, as
 * systemd sets it)? Then the lines carry "<N>" prefixes, and a message that
 * also goes out as a structured journal entry need not be printed twice.
 */
bool log_stderr_is_journal(void);

/* Returns -abs(error) (or -EIO for 0) so it can be used as `return log_error_errno(r, ...)`. */
int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)

#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)

/* For messages of the "out of memory" kind. */
#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
