/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `http-tracer top`: the live view of the daemon's `services` answers (top.c, top-model.h). */
#pragma once

/*
 * Fetches one `services` answer line from the daemon (the daemon layer
 * provides it: views sit below daemon/ and do not open its control socket).
 * Return: 0 with *ret to free(); -ENOENT/-ECONNREFUSED when no daemon runs,
 * -EOPNOTSUPP when it does not know the command, other negative errno.
 */
typedef int (*TopFetch)(char **ret);

/* argv[0] is "top". Return: 0, or a negative errno (already logged). */
int top_main(int argc, char *argv[], TopFetch fetch);
