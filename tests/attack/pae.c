/*
 * Attack kernel "pae": PAE paging (CR4.PAE, 4 page directories of 512
 * 8-byte entries).  Linear 0-32 MiB is the identity (the first 2 MiB in
 * 4 KiB pages, then 2 MiB pages); every other 2 MiB of the space is the
 * same page table, so each of 512 scratch frames is mapped at ~2000
 * linear addresses, with groups of not-present, supervisor, read-only,
 * ROM, unassigned and above-4-GiB frames.  Every page is read and written
 * at CPL0 and CPL3, every width at the top of the space with the top page
 * and page 0 in each state; then the same with 2 MiB pages, and INVLPG
 * of one address inside a 2 MiB page that is then remapped.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "attack.h"

#define PAE_PS          0x080u
#define LIN(pde, pte)   ((u32)(pde) << 21 | (u32)(pte) << 12)

/* pd[i]: the 2048 PDEs of the four page directories, one array */
static u64 *pdpt, *pd, *low_pt, *alias_pt, *top_pt;

/* The 4 KiB alias entries: groups of 16 by (j >> 4) & 31. */
static u64 alias_pte(u32 j)
{
    u64 rwu = PTE_P | PTE_W | PTE_U;

    switch ((j >> 4) & 31) {
    case 31:
        return 0;                                       /* not present */
    case 30:
        return (SCRATCH + j * 4096) | PTE_P | PTE_W;    /* supervisor */
    case 29:
        return (SCRATCH + j * 4096) | PTE_P | PTE_U;    /* read-only */
    case 28:
        return (0x40000000u + j * 4096) | rwu;          /* unassigned */
    case 27:
        return (0xffff0000u + (j & 15) * 4096) | rwu;   /* BIOS ROM */
    case 26:
        return (1ULL << 32) + j * 4096 + rwu;           /* above 4 GiB */
    }
    return (SCRATCH + j * 4096) | rwu;
}

/* The 2 MiB alias entries: groups by i & 63. */
static u64 alias_pde_2m(u32 i)
{
    u64 f = SCRATCH | PTE_P | PTE_W | PTE_U | PAE_PS;

    switch (i & 63) {
    case 63:
        return 0;
    case 62:
        return f & ~(u64)PTE_U;
    case 61:
        return f & ~(u64)PTE_W;
    case 60:
        return (f & 0xfff) | 0x40000000u;
    case 59:
        return (f & 0xfff) | 1ULL << 32;
    case 58:
        return (f & 0xfff) | SCRATCH2;
    }
    return f;
}

static void load_cr3(void)
{
    write_cr3((u32)pdpt);
}

static void build(void)
{
    pt_reset();
    pdpt = pt_alloc64();
    /* the four directories are consecutive tables: one array of 2048 */
    pd = pt_alloc64();
    for (u32 i = 1; i < 4; i++) {
        pt_alloc64();
    }
    for (u32 i = 0; i < 4; i++) {
        pdpt[i] = ((u32)pd + i * 4096) | PTE_P;
    }
    low_pt = pt_alloc64();
    alias_pt = pt_alloc64();
    top_pt = pt_alloc64();
    for (u32 j = 0; j < 512; j++) {
        low_pt[j] = (j * 4096) | PTE_P | PTE_W | PTE_U;
        alias_pt[j] = alias_pte(j);
        top_pt[j] = alias_pte(j);
    }
    pd[0] = (u32)low_pt | PTE_P | PTE_W | PTE_U;
    for (u32 i = 1; i < 16; i++) {
        pd[i] = (i << 21) | PTE_P | PTE_W | PTE_U | PAE_PS;
    }
    for (u32 i = 16; i < 2047; i++) {
        pd[i] = (u32)alias_pt | PTE_P | PTE_W | PTE_U;
    }
    pd[2047] = (u32)top_pt | PTE_P | PTE_W | PTE_U;
    fill_words(SCRATCH, 0x800000, 0x9ae5000);
}

static void paging_on(void)
{
    write_cr4(read_cr4() | CR4_PAE);
    load_cr3();
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

static void sweeps(u32 unused)
{
    sweep(0, 0x1fff, 0);
    sweep(0x2000, 0xfffff, 1);
}

static void set_edge(u32 top, u32 zero, u32 k)
{
    top_pt[511] = top ? (SCRATCH2 + k * 4096) | top : 0;
    low_pt[0] = zero;
    invlpg(0xfffff000);
    invlpg(0);
}

/* Group borders inside the alias table, and identity -> alias. */
static void group_edges(u32 unused)
{
    edge_probes(LIN(16, 0));
    for (u32 g = 25; g < 32; g++) {
        edge_probes(LIN(17, g * 16));
        edge_probes(LIN(17, g * 16 + 16));
    }
}

static void two_mib(void)
{
    for (u32 i = 16; i < 2048; i++) {
        pd[i] = alias_pde_2m(i);
    }
    load_cr3();
}

/*
 * INVLPG of any address of a 2 MiB page drops the whole page: remap the
 * 2 MiB page at linear LIN(k, 0) and read an address far from the one
 * invalidated; the next 2 MiB page keeps its translation.
 */
static void remap_2m(void)
{
    u32 k = 100, lin = LIN(k, 0), far = lin + 0x1ff000;
    u32 x, want;

    pd[k] = SCRATCH | PTE_P | PTE_W | PTE_U | PAE_PS;
    pd[k + 1] = SCRATCH | PTE_P | PTE_W | PTE_U | PAE_PS;
    load_cr3();
    x = rd32(far);
    check(x == *(u32 *)(SCRATCH + 0x1ff000), "2 MiB page: the frame is read",
          x, 0);
    x = rd32(LIN(k + 1, 0x10));

    /*
     * An INVLPG in another large page first: the softmmu then flushes
     * everything and forgets where its large pages are, so the next
     * INVLPG looks like a 4 KiB one to it.
     */
    x = rd32(LIN(k + 40, 3));
    invlpg(LIN(k + 40, 3));
    pd[k] = SCRATCH2 | PTE_P | PTE_W | PTE_U | PAE_PS;
    invlpg(lin + 0x5000);
    want = *(u32 *)(SCRATCH2 + 0x1ff000);
    x = rd32(far);
    check(x == want, "invlpg inside a 2 MiB page drops all of it", x, want);

    pd[k] = 0;
    invlpg(lin);
    check(probe(R4, far) == 14 && last_cr2 == far,
          "a 2 MiB page made not present faults after invlpg", last_vec,
          last_cr2);
    /* the neighbour was not invalidated, and its entry did not change */
    x = rd32(LIN(k + 1, 0x10));
    want = *(u32 *)(SCRATCH + 0x10 * 4096);
    check(x == want, "the next 2 MiB page is intact", x, want);
    pd[k] = alias_pde_2m(k);
    pd[k + 1] = alias_pde_2m(k + 1);
    load_cr3();
}

static void set_top_2m(u32 t)
{
    pd[2047] = t == 3 ? (u32)top_pt | PTE_P | PTE_W | PTE_U :
               (SCRATCH | PAE_PS | top_state[t]);
    load_cr3();
}

int attack_main(void)
{
    set_nohash(0xa0000, 0x100000);
    build();
    paging_on();

    phase_begin("pae4k-cpl0");
    sweep(0, 0x1fff, 0);
    ml_printf("  identity read: reads %x\n", rhash);
    sweep(0x2000, 0xfffff, 1);
    ml_printf("  alias sweep: reads %x\n", rhash);
    edge_states(set_edge);
    group_edges(0);
    phase_end();

    phase_begin("pae4k-cpl3");
    user(sweeps, 0);
    user(group_edges, 0);
    phase_end();

    phase_begin("pae2m-cpl0");
    two_mib();
    sweeps(0);
    large_top_states(set_top_2m);
    phase_end();

    phase_begin("pae2m-cpl3");
    user(sweeps, 0);
    phase_end();

    phase_begin("pae2m-remap");
    remap_2m();
    phase_end();

    paging_off();
    return finish("pae");
}
