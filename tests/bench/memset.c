/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memset: fill bandwidth of the C library's memset, filling a 4 MiB
 * buffer again and again with a different byte each time.  One byte is
 * read back after each fill, so no fill can be left out.
 *
 * ops = bytes filled; checksum = the bytes read back.
 */
#include "bench.h"

#define BUF_BYTES   (4u << 20)
#define FILLS       512u            /* fills of the buffer at scale 1 */

int main(int argc, char **argv)
{
    const uint32_t mask = BUF_BYTES - 1;
    uint64_t fills, i, start, end, checksum;
    uint32_t acc = 0;
    uint8_t *buf;

    bench_init("memset", argc, argv);
    fills = bench_count(FILLS);

    buf = malloc(BUF_BYTES);
    if (!buf) {
        bench_fail("cannot allocate %u bytes", BUF_BYTES);
    }
    memset(buf, 0xff, BUF_BYTES);

    start = bench_now_ns();
    for (i = 0; i < fills; i++) {
        memset(buf, (int)((i * 37u + 1u) & 0xff), BUF_BYTES);
        bench_barrier();
        acc = acc * 31u + buf[(uint32_t)(i * 7919u) & mask];
    }
    end = bench_now_ns();

    checksum = bench_hash_u64(BENCH_HASH_INIT, acc);
    checksum = bench_hash_u64(checksum, buf[0]);
    checksum = bench_hash_u64(checksum, buf[mask]);
    return bench_result(start, end, fills * BUF_BYTES, "bytes", checksum);
}
