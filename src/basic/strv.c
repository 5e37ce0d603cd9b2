/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* String vectors; see strv.h. */

#include <stdlib.h>

#include "basic/strv.h"

void strv_free(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}
