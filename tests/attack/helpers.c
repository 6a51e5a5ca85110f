/*
 * Attack kernel "helpers": x87 and FXSAVE accesses that QEMU 10.0 runs
 * through target/i386/tcg/access.c, across a page boundary and across
 * 4 GiB.  Upstream 10.0.13 reads and writes host memory next to the
 * guest page there or aborts; patches 0015 and 0016 fix it, and the
 * other kernels make these accesses too.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "attack.h"

int attack_main(void)
{
    u8 *p = (u8 *)0x400ff0;
    u32 lo, hi;
    u16 top;

    set_nohash(0xa0000, 0x100000);

    /* Inside RAM, paging off: the bytes must be those of the two pages. */
    phase_begin("helpers-cross-ram");
    for (int i = 0; i < 32; i++) {
        p[i] = 0x10 + i;
    }
    for (u32 a = 0x400ff4; a < 0x401000; a++) {
        probe(R10, a);
        probe(W10, a);
        probe(R10, a);
    }
    phase_end();

    /* fldt of the last byte of RAM: 9 bytes of it lie past RAM. */
    phase_begin("helpers-ram-end");
    asm volatile("fldt %2\n\tfstpt buf\n\t" : "=m"(lo), "=m"(hi)
                 : "m"(*(u8 *)(RAM_SIZE - 1)) : "memory");
    asm volatile("movw buf+8, %0" : "=r"(top));
    mix(top);
    edge_probes(RAM_SIZE);
    phase_end();

    phase_begin("helpers-wrap");
    edge_probes(0);
    phase_end();

    return finish("helpers");
}
