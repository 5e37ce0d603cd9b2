/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ht-bench-bystander: what a tracer costs a process that does no HTTP. One thread
 * makes small (64-byte) read()/write() calls for D seconds on
 *
 *   pipe   a pipe: write, then read it back
 *   file   a regular file (unlinked, in DIR): 1024 writes, then the 1024 reads back
 *          (an lseek between the runs, not counted: it is no traced syscall)
 *   tcp    a loopback TCP connection to itself: write on one end, read on the other,
 *          write the echo back, read it (TCP_NODELAY; bytes that are no HTTP)
 *
 * and prints one line: mode=M syscalls=N wall_s=W cpu_s=C ns_per_syscall=X per_cpu_s=Y.
 * The time is the thread's CPU time (the BPF programs run inside its syscalls), so a
 * busy machine that preempts it does not count against the tracer; ns_per_syscall is
 * that CPU time over the reads and writes made.
 */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64            /* bytes per read or write: small, as a logger's or a database's */
#define BATCH 1024        /* operations between two looks at the clock (and file rewinds) */

static double clock_s(clockid_t id) {
        struct timespec ts;

        clock_gettime(id, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void die(const char *what) {
        fprintf(stderr, "ht-bench-bystander: %s: %s\n", what, strerror(errno));
        exit(1);
}

/* Exactly MSG bytes from fd (a stream socket may hand them over in parts); syscalls made. */
static uint64_t read_msg(int fd, char *buf) {
        uint64_t calls = 0;
        size_t got = 0;

        while (got < MSG) {
                ssize_t k = read(fd, buf + got, MSG - got);

                calls++;
                if (k <= 0)
                        die("read");
                got += (size_t) k;
        }
        return calls;
}

static void write_msg(int fd, const char *buf) {
        if (write(fd, buf, MSG) != MSG)
                die("write");
}

static void tcp_pair(int *ret_a, int *ret_b) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int l, a, b, one = 1;

        l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0 || bind(l, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(l, 1) < 0 ||
            getsockname(l, (struct sockaddr *) &sa, &len) < 0)
                die("listen");
        a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (a < 0 || connect(a, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                die("connect");
        b = accept(l, NULL, NULL);
        if (b < 0)
                die("accept");
        close(l);
        setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        *ret_a = a;
        *ret_b = b;
}

int main(int argc, char *argv[]) {
        const char *mode, *dir = "/tmp";
        double duration, w0, c0, wall, cpu;
        uint64_t calls = 0;
        char out[MSG], in[MSG];
        int fds[2];

        if (argc == 2 && strcmp(argv[1], "--help") == 0) {
                printf("usage: ht-bench-bystander pipe|file|tcp SECONDS [DIR]\n");
                return 0;
        }
        if (argc < 3 || argc > 4 || (duration = strtod(argv[2], NULL)) <= 0) {
                fprintf(stderr, "usage: ht-bench-bystander pipe|file|tcp SECONDS [DIR]\n");
                return 2;
        }
        mode = argv[1];
        if (argc == 4)
                dir = argv[3];
        /* Binary bytes: no protocol inference may take them for HTTP. */
        for (int i = 0; i < MSG; i++)
                out[i] = (char) (i * 7 + 1);

        if (strcmp(mode, "pipe") == 0) {
                if (pipe2(fds, O_CLOEXEC) < 0)
                        die("pipe");
        } else if (strcmp(mode, "file") == 0) {
                char path[4096];

                snprintf(path, sizeof(path), "%s/ht-bench-bystander.XXXXXX", dir);
                fds[0] = fds[1] = mkstemp(path);
                if (fds[0] < 0)
                        die("mkstemp");
                unlink(path);
        } else if (strcmp(mode, "tcp") == 0)
                tcp_pair(&fds[1], &fds[0]);
        else {
                fprintf(stderr, "ht-bench-bystander: unknown mode '%s'\n", mode);
                return 2;
        }

        w0 = clock_s(CLOCK_MONOTONIC);
        c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        do {
                if (strcmp(mode, "file") == 0) {
                        if (lseek(fds[0], 0, SEEK_SET) < 0)
                                die("lseek");
                        for (int i = 0; i < BATCH; i++)
                                write_msg(fds[1], out);
                        if (lseek(fds[0], 0, SEEK_SET) < 0)
                                die("lseek");
                        for (int i = 0; i < BATCH; i++)
                                calls += 1 + read_msg(fds[0], in);
                } else if (strcmp(mode, "pipe") == 0) {
                        for (int i = 0; i < BATCH; i++) {
                                write_msg(fds[1], out);
                                calls += 1 + read_msg(fds[0], in);
                        }
                } else {
                        /* fds[1] is the client end, fds[0] the server end. */
                        for (int i = 0; i < BATCH; i++) {
                                write_msg(fds[1], out);
                                calls += 1 + read_msg(fds[0], in);
                                write_msg(fds[0], in);
                                calls += 1 + read_msg(fds[1], in);
                        }
                }
        } while (clock_s(CLOCK_MONOTONIC) - w0 < duration);
        cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        wall = clock_s(CLOCK_MONOTONIC) - w0;

        printf("mode=%s syscalls=%" PRIu64 " wall_s=%.4f cpu_s=%.4f ns_per_syscall=%.1f per_cpu_s=%.0f\n",
               mode, calls, wall, cpu, cpu * 1e9 / (double) calls, (double) calls / cpu);
        return 0;
}
