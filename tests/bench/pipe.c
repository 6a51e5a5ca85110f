/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pipe: ping-pong of 1-byte messages between the parent and a forked
 * child over two pipes.  Each round trip is two writes, two reads and, on
 * a single CPU, two context switches.  The child answers each byte with
 * the byte plus one.
 *
 * ops = round trips; checksum = the answers received.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define ROUND_TRIPS 20000u          /* round trips at scale 1 */

/* Returns 1 on success, 0 at end of file, -1 on error. */
static int read_byte(int fd, uint8_t *b)
{
    for (;;) {
        ssize_t n = read(fd, b, 1);

        if (n == 1) {
            return 1;
        }
        if (n == 0) {
            return 0;
        }
        if (errno != EINTR) {
            return -1;
        }
    }
}

static int write_byte(int fd, uint8_t b)
{
    for (;;) {
        ssize_t n = write(fd, &b, 1);

        if (n == 1) {
            return 0;
        }
        if (n < 0 && errno != EINTR) {
            return -1;
        }
    }
}

static void __attribute__((noreturn)) child(int in, int out)
{
    uint8_t b;
    int r;

    for (;;) {
        r = read_byte(in, &b);
        if (r == 0) {
            _exit(0);
        }
        if (r < 0 || write_byte(out, (uint8_t)(b + 1)) != 0) {
            _exit(1);
        }
    }
}

int main(int argc, char **argv)
{
    uint64_t trips, i, start, end, checksum;
    int to_child[2], to_parent[2], status;
    uint32_t acc = 0;
    pid_t pid;

    bench_init("pipe", argc, argv);
    trips = bench_count(ROUND_TRIPS);

    if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
        bench_fail("pipe: %s", strerror(errno));
    }
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        bench_fail("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        child(to_child[0], to_parent[1]);
    }
    close(to_child[0]);
    close(to_parent[1]);

    start = bench_now_ns();
    for (i = 0; i < trips; i++) {
        uint8_t b = (uint8_t)(i * 131u);

        if (write_byte(to_child[1], b) != 0) {
            bench_fail("write: %s", strerror(errno));
        }
        if (read_byte(to_parent[0], &b) != 1) {
            bench_fail("read: the child does not answer");
        }
        if (b != (uint8_t)(i * 131u + 1)) {
            bench_fail("wrong answer %u in round trip %" PRIu64, b, i);
        }
        acc = acc * 31u + b;
    }
    end = bench_now_ns();

    close(to_child[1]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            bench_fail("waitpid: %s", strerror(errno));
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        bench_fail("child failed (status 0x%x)", status);
    }

    checksum = bench_hash_u64(BENCH_HASH_INIT, trips);
    checksum = bench_hash_u64(checksum, acc);
    return bench_result(start, end, trips, "roundtrips", checksum);
}
