/*
 * Kernel "toggle": the cost of CR4.PGE and CR0.WP toggles with mappings
 * live.  Not an attack kernel (tests/attack/run does not run it):
 * tests/attack/toggle-bench times it under fast=off and fast=seg.
 *
 * With 2-level paging over the identity of the first 64 MiB (global
 * pages), it reads one word of each of 64 pages after every toggle, so
 * that a mode which empties its mappings on a toggle pays for refilling
 * them, as a kernel that toggles WP around a write to read-only memory
 * (or PGE to flush global pages) does.  It prints the host cycles
 * (RDTSC) of each loop and a sum of what it read; the sums must agree
 * between the modes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "attack.h"

#define PTE_G       0x100u
#define CR4_PGE     0x80u
#define TOGGLES     20000
#define TOUCH       64

static u64 rdtsc(void)
{
    u32 lo, hi;

    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}

/* One word of each of @n pages from SCRATCH on. */
static u32 touch(u32 n)
{
    u32 sum = 0;

    for (u32 i = 0; i < n; i++) {
        sum += *(volatile u32 *)(SCRATCH + i * 4096u);
    }
    return sum;
}

/* Millions of cycles since @t0 (fits printf's %d). */
static u32 mcycles(u64 t0)
{
    return (u32)((rdtsc() - t0) >> 20);
}

int attack_main(void)
{
    u32 *pd, cr0, cr4, sum = 0;
    u64 t0;
    u32 none, pge, wp;

    pt_reset();
    pd = pt_alloc();
    for (u32 i = 0; i < 16; i++) {
        u32 *pt = pt_alloc();

        for (u32 j = 0; j < 1024; j++) {
            pt[j] = ((i * 1024 + j) * 4096u) | PTE_P | PTE_W | PTE_G;
        }
        pd[i] = (u32)pt | PTE_P | PTE_W;
    }
    write_cr3((u32)pd);
    write_cr4(read_cr4() | CR4_PGE);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
    cr0 = read_cr0();
    cr4 = read_cr4();
    sum += touch(1024);

    t0 = rdtsc();
    for (int k = 0; k < TOGGLES; k++) {
        sum += touch(TOUCH);
    }
    none = mcycles(t0);

    t0 = rdtsc();
    for (int k = 0; k < TOGGLES; k++) {
        write_cr4(cr4 & ~CR4_PGE);
        write_cr4(cr4);
        sum += touch(TOUCH);
    }
    pge = mcycles(t0);

    t0 = rdtsc();
    for (int k = 0; k < TOGGLES; k++) {
        write_cr0(cr0 & ~CR0_WP);
        *(volatile u32 *)(SCRATCH + (k & 63) * 4096u) += 1;
        write_cr0(cr0);
        sum += touch(TOUCH);
    }
    wp = mcycles(t0);

    ml_printf("toggle: none %d, pge %d, wp %d Mcycles, sum %x\n",
              none, pge, wp, sum);
    return finish("toggle");
}
