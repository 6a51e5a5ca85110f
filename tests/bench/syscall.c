/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * syscall: the cost of a trivial system call, a loop of getppid() made
 * through syscall(SYS_getppid) so that no C library cache answers it.
 *
 * ops = calls; checksum = the call count and whether every call returned
 * the same parent (not its pid, which changes from run to run).
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

#define CALLS   200000u             /* system calls at scale 1 */

int main(int argc, char **argv)
{
    uint64_t calls, i, start, end, checksum;
    long first, differ = 0, failed = 0;

    bench_init("syscall", argc, argv);
    calls = bench_count(CALLS);

    first = syscall(SYS_getppid);
    if (first < 0) {
        bench_fail("getppid: %s", strerror(errno));
    }

    start = bench_now_ns();
    for (i = 0; i < calls; i++) {
        long r = syscall(SYS_getppid);

        differ |= r ^ first;
        failed |= r < 0;
    }
    end = bench_now_ns();

    if (failed) {
        bench_fail("getppid failed");
    }
    checksum = bench_hash_u64(BENCH_HASH_INIT, calls);
    checksum = bench_hash_u64(checksum, differ != 0);
    return bench_result(start, end, calls, "calls", checksum);
}
