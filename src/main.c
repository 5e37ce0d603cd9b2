/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* http-tracer: command line and start-up. */

#include <stdio.h>

int main(int argc, char *argv[]) {
        printf("http-tracer %s\n", PROJECT_VERSION);
        return 0;
}
