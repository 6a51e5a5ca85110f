/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memcpy: copy bandwidth of the C library's memcpy, copying a 4 MiB
 * buffer into another one again and again.  One word of the source
 * changes before each copy and one word of the copy is read after it, so
 * no copy can be left out.
 *
 * ops = bytes copied; checksum = the words read back and the final copy.
 */
#include "bench.h"

#define BUF_BYTES   (4u << 20)
#define COPIES      256u            /* copies of the buffer at scale 1 */
#define SEED        0x2545f4914f6cdd1dull

int main(int argc, char **argv)
{
    const uint32_t words = BUF_BYTES / sizeof(uint32_t);
    const uint32_t mask = words - 1;
    uint64_t seed = SEED, copies, i, start, end, checksum;
    uint32_t *src, *dst, acc = 0, fold = 2166136261u;

    bench_init("memcpy", argc, argv);
    copies = bench_count(COPIES);

    src = malloc(BUF_BYTES);
    dst = malloc(BUF_BYTES);
    if (!src || !dst) {
        bench_fail("cannot allocate 2 x %u bytes", BUF_BYTES);
    }
    for (i = 0; i < words; i++) {
        src[i] = (uint32_t)bench_rand(&seed);
    }
    memset(dst, 0, BUF_BYTES);

    start = bench_now_ns();
    for (i = 0; i < copies; i++) {
        src[(uint32_t)(i * 4093u) & mask] += (uint32_t)i;
        memcpy(dst, src, BUF_BYTES);
        bench_barrier();
        acc = acc * 31u + dst[(uint32_t)(i * 7919u) & mask];
    }
    end = bench_now_ns();

    /* 32-bit FNV-1a over the words of the last copy */
    for (i = 0; i < words; i++) {
        fold = (fold ^ dst[i]) * 16777619u;
    }
    checksum = bench_hash_u64(BENCH_HASH_INIT, acc);
    checksum = bench_hash_u64(checksum, fold);
    return bench_result(start, end, copies * BUF_BYTES, "bytes", checksum);
}
