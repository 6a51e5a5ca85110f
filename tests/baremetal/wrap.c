/*
 * Accesses that cross the top of the 32-bit linear space must wrap to
 * linear 0, and must not leave anything behind that a later access to
 * page 0 could trip over.  QEMU 10.0 looked the second page of such an
 * access up at 0x100000000: the TLB entry it installed matched linear
 * page 0 in generated code with an addend 4 GiB off, so the next
 * ordinary load at 0 read host memory 4 GiB below guest RAM (a crash of
 * the emulator, or host data in the guest).
 *
 * The test runs with paging on (an identity map of 4 MiB pages), so that
 * the page walk for 0x100000000 wraps to page-directory entry 0 and
 * finds RAM; with paging off that address is unassigned memory and the
 * bug stays hidden.  Linear 0xFFFFFFFE-F is the BIOS ROM alias, linear
 * 0-1 the first bytes of RAM.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <minilib.h>

#define TOP 0xfffffffeu

/* The compiler must not treat address 0 as a null pointer: use asm. */
static unsigned int load32(unsigned int addr)
{
    unsigned int v;

    asm volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

static void store32(unsigned int addr, unsigned int v)
{
    asm volatile("movl %1, (%0)" : : "r"(addr), "r"(v) : "memory");
}

static unsigned short load16(unsigned int addr)
{
    unsigned short v;

    asm volatile("movw (%1), %0" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

/* Identity map of the 4 GiB with 4 MiB pages. */
static unsigned int page_dir[1024] __attribute__((aligned(4096)));

static void paging_on(void)
{
    unsigned int cr;

    for (unsigned int i = 0; i < 1024; i++) {
        page_dir[i] = (i << 22) | 0x87;     /* PS, U, RW, P */
    }
    asm volatile("movl %0, %%cr3" : : "r"(page_dir) : "memory");
    asm volatile("movl %%cr4, %0" : "=r"(cr));
    asm volatile("movl %0, %%cr4" : : "r"(cr | 0x10) : "memory"); /* PSE */
    asm volatile("movl %%cr0, %0" : "=r"(cr));
    asm volatile("movl %0, %%cr0" : : "r"(cr | 0x80000000u) : "memory");
}

int main(void)
{
    unsigned int saved, top, zero;
    int bad = 0;

    paging_on();
    saved = load32(0);

    store32(0, 0x11223344);

    /*
     * A load across the top (ROM bytes, then RAM bytes 0 and 1), then at
     * once an ordinary load of page 0, which must see RAM.  Nothing may
     * run between the two: the kernel's own pages at 1 MiB share TLB
     * slots with page 0 and would hide a bad entry.
     */
    asm volatile("movl (%2), %0\n\t"
                 "movl (%3), %1"
                 : "=&r"(top), "=r"(zero) : "r"(TOP), "r"(0) : "memory");
    ml_printf("load across the top: ram part %x\n", top >> 16);
    bad |= (top >> 16) != 0x3344;
    ml_printf("load at 0 right after: %x\n", zero);
    bad |= zero != 0x11223344;

    /* A store across the top reaches RAM bytes 0 and 1 (ROM drops its part). */
    asm volatile("movl %2, (%1)\n\t"
                 "movl (%3), %0"
                 : "=&r"(zero) : "r"(TOP), "r"(0xaabbccddu), "r"(0)
                 : "memory");
    ml_printf("store across the top, then load at 0: %x\n", zero);
    bad |= zero != 0x1122aabb;

    /* Two bytes at the very top and at 0, in both orders. */
    ml_printf("load16 at 0xffffffff: ram part %x\n", load16(0xffffffffu) >> 8);
    bad |= (load16(0xffffffffu) >> 8) != 0xbb;
    bad |= load16(0) != 0xaabb;

    store32(0, saved);
    ml_printf("wrap: %s\n", bad ? "FAILED" : "PASSED");
    return bad;
}
