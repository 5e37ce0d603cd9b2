/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uring-client PORT N: N HTTP/1.1 GETs on one connection to 127.0.0.1:PORT,
 * each request sent and each response received through io_uring
 * (IORING_OP_SEND / IORING_OP_RECV on a plain fd), as io_uring servers and
 * clients do. For test-socket-uring: such a socket's bytes are not traced,
 * it is counted (io_uring_sockets). Prints "done N" when all got a response.
 */

#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int run(struct io_uring *ring, int fd, int send, void *buf, size_t len) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
        struct io_uring_cqe *cqe;
        int r;

        if (!sqe)
                return -1;
        if (send)
                io_uring_prep_send(sqe, fd, buf, len, 0);
        else
                io_uring_prep_recv(sqe, fd, buf, len, 0);
        if (io_uring_submit(ring) < 0 || io_uring_wait_cqe(ring, &cqe) < 0)
                return -1;
        r = cqe->res;
        io_uring_cqe_seen(ring, cqe);
        return r;
}

int main(int argc, char **argv) {
        struct sockaddr_in a = { .sin_family = AF_INET };
        struct io_uring ring;
        char buf[65536];
        int fd, n;

        if (argc != 3)
                return 2;
        n = atoi(argv[2]);
        a.sin_port = htons(atoi(argv[1]));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &a, sizeof(a)) < 0 || io_uring_queue_init(8, &ring, 0) < 0) {
                perror("uring-client");
                return 1;
        }
        for (int i = 0; i < n; i++) {
                char req[128];
                int len = snprintf(req, sizeof(req), "GET /uring-%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
                int got;

                if (run(&ring, fd, 1, req, len) != len)
                        return 1;
                /* socket_servers.py answers with 5 body bytes: the head and body come in one write */
                got = run(&ring, fd, 0, buf, sizeof(buf));
                if (got <= 0 || strncmp(buf, "HTTP/1.1 200", 12) != 0)
                        return 1;
        }
        printf("done %d\n", n);
        io_uring_queue_exit(&ring);
        close(fd);
        return 0;
}
