/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pagefault: a loop of mmap of 64 anonymous pages, a write to one byte of
 * every page (one page fault each), and munmap.  Each page is read back
 * once, and a byte that was never written must read as zero.
 *
 * ops = pages touched; checksum = the bytes read back.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

#define MAPS            500u        /* mmap/touch/munmap rounds at scale 1 */
#define PAGES_PER_MAP   64u

int main(int argc, char **argv)
{
    uint64_t maps, i, start, end, checksum;
    uint32_t acc = 0, bad = 0, j;
    long page_size;
    size_t len;

    bench_init("pagefault", argc, argv);
    maps = bench_count(MAPS);
    page_size = sysconf(_SC_PAGESIZE);
    if (page_size <= 0) {
        bench_fail("cannot get the page size");
    }
    len = (size_t)page_size * PAGES_PER_MAP;

    start = bench_now_ns();
    for (i = 0; i < maps; i++) {
        /* volatile: every write must fault in its page, every read check it */
        volatile uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED) {
            bench_fail("mmap: %s", strerror(errno));
        }
        for (j = 0; j < PAGES_PER_MAP; j++) {
            p[(size_t)j * page_size] = (uint8_t)(i + j * 7u + 1u);
        }
        for (j = 0; j < PAGES_PER_MAP; j++) {
            uint8_t v = p[(size_t)j * page_size];

            bad |= v != (uint8_t)(i + j * 7u + 1u);
            bad |= p[(size_t)j * page_size + 1] != 0;
            acc = acc * 31u + v;
        }
        if (munmap((void *)p, len) != 0) {
            bench_fail("munmap: %s", strerror(errno));
        }
    }
    end = bench_now_ns();

    if (bad) {
        bench_fail("a page did not read back what was written, or not 0");
    }
    checksum = bench_hash_u64(BENCH_HASH_INIT, maps * PAGES_PER_MAP);
    checksum = bench_hash_u64(checksum, acc);
    return bench_result(start, end, maps * PAGES_PER_MAP, "pages", checksum);
}
