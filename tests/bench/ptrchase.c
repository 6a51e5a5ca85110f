/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ptrchase: dependent loads over a 64 MiB buffer.  The buffer is cut into
 * cache-line-sized nodes linked in one random cycle (a Fisher-Yates
 * shuffle with a fixed seed), so that every load misses the caches and
 * the TLB and its address depends on the previous load.
 *
 * ops = loads; checksum = index of the node reached at the end.
 */
#include "bench.h"

#define BUF_BYTES   (64u << 20)
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

int main(int argc, char **argv)
{
    const uint32_t n = BUF_BYTES / NODE_BYTES;
    uint64_t seed = SEED, groups, start, end, checksum;
    struct node *nodes, *p;
    uint32_t *order, i;
    void *mem;

    bench_init("ptrchase", argc, argv);
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
    p = chase(&nodes[0], groups);
    end = bench_now_ns();

    checksum = bench_hash_u64(BENCH_HASH_INIT, (uint64_t)(p - nodes));
    return bench_result(start, end, groups * UNROLL, "loads", checksum);
}
