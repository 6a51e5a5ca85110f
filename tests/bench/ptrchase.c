/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ptrchase: dependent loads over a 64 MiB buffer.  The buffer is cut into
 * cache-line-sized nodes linked in one random cycle (a Fisher-Yates
 * shuffle with a fixed seed), so that every load misses the caches and
 * the TLB and its address depends on the previous load.
 *
 * ops = loads; checksum = index of the node reached at the end.
 *
 * Built with COPIES=2 it is "ptrchasepair", the SMP scaling workload:
 * two processes chase the same cycle (of 16 MiB: see the Makefile), each
 * as far as ptrchase does, in parallel on CPUs 0 and 1 when the guest
 * has two, one after the other when it has one.  ops = loads of both.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#ifndef COPIES
#define COPIES 1
#define NAME "ptrchase"
#endif

#ifndef BUF_MIB
#define BUF_MIB     64
#endif
#define BUF_BYTES   ((uint32_t)BUF_MIB << 20)
#define NODE_BYTES  64u
#define LOADS       (4u << 20)      /* dependent loads at scale 1 */
#define UNROLL      8               /* loads are done in groups of this */
#define SEED        0x9e3779b97f4a7c15ull

struct node {
    struct node *next;
    uint8_t pad[NODE_BYTES - sizeof(struct node *)];
};

_Static_assert(sizeof(struct node) == NODE_BYTES, "node size");

static __attribute__((noinline))
struct node *chase(struct node *p, uint64_t groups)
{
    uint64_t i;

    for (i = 0; i < groups; i++) {
        p = p->next;
        p = p->next;
        p = p->next;
        p = p->next;
        p = p->next;
        p = p->next;
        p = p->next;
        p = p->next;
    }
    return p;
}

/*
 * Chase in COPIES child processes (pinned to their own CPUs when there
 * are enough, else one at a time); the end node must be the same in all.
 */
static struct node *chase_copies(struct node *nodes, uint64_t groups)
{
    int ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    int parallel = ncpus >= COPIES;
    uint32_t end[COPIES];
    int fds[COPIES][2];
    pid_t pid[COPIES];

    for (int c = 0; c < COPIES; c++) {
        if (pipe(fds[c]) != 0) {
            bench_fail("pipe");
        }
        pid[c] = fork();
        if (pid[c] < 0) {
            bench_fail("fork");
        }
        if (pid[c] == 0) {
            cpu_set_t set;
            uint32_t idx;

            CPU_ZERO(&set);
            CPU_SET(parallel ? c : 0, &set);
            sched_setaffinity(0, sizeof(set), &set);
            idx = (uint32_t)(chase(&nodes[0], groups) - nodes);
            _exit(write(fds[c][1], &idx, sizeof(idx)) == sizeof(idx) ? 0 : 1);
        }
        if (!parallel) {
            waitpid(pid[c], NULL, 0);
        }
    }
    for (int c = 0; c < COPIES; c++) {
        int status;

        if (read(fds[c][0], &end[c], sizeof(end[c])) != sizeof(end[c]) ||
            (parallel && waitpid(pid[c], &status, 0) != pid[c])) {
            bench_fail("copy %d did not report", c);
        }
        if (end[c] != end[0]) {
            bench_fail("copies ended at different nodes");
        }
    }
    return &nodes[end[0]];
}

int main(int argc, char **argv)
{
    const uint32_t n = BUF_BYTES / NODE_BYTES;
    uint64_t seed = SEED, groups, start, end, checksum;
    struct node *nodes, *p;
    uint32_t *order, i;
    void *mem;

    bench_init(NAME, argc, argv);
    groups = (bench_count(LOADS) + UNROLL - 1) / UNROLL;

    if (posix_memalign(&mem, NODE_BYTES, BUF_BYTES) != 0) {
        bench_fail("cannot allocate %u bytes", BUF_BYTES);
    }
    nodes = mem;
    order = malloc(n * sizeof(*order));
    if (!order) {
        bench_fail("cannot allocate the permutation");
    }

    /* One random cycle through every node */
    for (i = 0; i < n; i++) {
        order[i] = i;
    }
    for (i = n - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(bench_rand(&seed) % (i + 1));
        uint32_t t = order[i];

        order[i] = order[j];
        order[j] = t;
    }
    for (i = 0; i < n; i++) {
        nodes[order[i]].next = &nodes[order[(i + 1) % n]];
        memset(nodes[order[i]].pad, (int)(i & 0xff),
               sizeof(nodes[order[i]].pad));
    }
    free(order);

    start = bench_now_ns();
    p = COPIES > 1 ? chase_copies(nodes, groups) : chase(&nodes[0], groups);
    end = bench_now_ns();

    checksum = bench_hash_u64(BENCH_HASH_INIT, (uint64_t)(p - nodes));
    return bench_result(start, end, groups * UNROLL * COPIES, "loads",
                        checksum);
}
