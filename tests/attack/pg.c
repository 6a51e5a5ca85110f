/*
 * Attack kernel "pg": 2-level paging.  Linear 0-32 MiB is the identity
 * (kernel, page tables, scratch); every 4 MiB above it is the same page
 * table, so each of 1024 scratch frames is mapped at ~1000 linear
 * addresses, with groups of not-present, supervisor, read-only, ROM and
 * unassigned pages.  Every page is read and written at CPL0 and CPL3,
 * every width at the top of the space with the top page and page 0 in
 * each state, then remaps (invlpg, CR3 reload, CR3 switch and back),
 * Accessed/Dirty bits, CR0.WP, and 4 MiB pages (PSE).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "attack.h"

static u32 *pd, *low_pt[8], *alias_pt, *top_pt;

#define LIN(pde, pte) ((u32)(pde) << 22 | (u32)(pte) << 12)

/* Flags and frame of alias_pt[j]: groups of 16 entries. */
static u32 alias_pte(u32 j)
{
    switch ((j >> 4) & 63) {
    case 63:
        return 0;                                       /* not present */
    case 62:
        return (SCRATCH + j * 4096) | PTE_P | PTE_W;    /* supervisor */
    case 61:
        return (SCRATCH + j * 4096) | PTE_P | PTE_U;    /* read-only */
    case 60:
        return (0x40000000 + j * 4096) | PTE_P | PTE_W | PTE_U;
    case 59:
        return (0xffff0000 + (j & 15) * 4096) | PTE_P | PTE_W | PTE_U;
    }
    return (SCRATCH + j * 4096) | PTE_P | PTE_W | PTE_U;
}

static void build(void)
{
    pt_reset();
    pd = pt_alloc();
    for (u32 i = 0; i < 8; i++) {
        low_pt[i] = pt_alloc();
        for (u32 j = 0; j < 1024; j++) {
            low_pt[i][j] = LIN(i, j) | PTE_P | PTE_W | PTE_U;
        }
        pd[i] = (u32)low_pt[i] | PTE_P | PTE_W | PTE_U;
    }
    alias_pt = pt_alloc();
    top_pt = pt_alloc();
    for (u32 j = 0; j < 1024; j++) {
        alias_pt[j] = alias_pte(j);
        top_pt[j] = alias_pte(j);
    }
    for (u32 i = 8; i < 1023; i++) {
        pd[i] = (u32)alias_pt | PTE_P | PTE_W | PTE_U;
    }
    pd[1023] = (u32)top_pt | PTE_P | PTE_W | PTE_U;
    fill_words(SCRATCH, 0x800000, 0xa11a5000);
}

static void paging_on(void)
{
    write_cr3((u32)pd);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

static void sweeps(u32 unused)
{
    sweep(0, 0x1fff, 0);
    sweep(0x2000, 0xfffff, 1);
}

static void set_edge(u32 top, u32 zero, u32 k)
{
    top_pt[1023] = top ? (SCRATCH2 + k * 4096) | top : 0;
    low_pt[0][0] = zero;
    invlpg(0xfffff000);
    invlpg(0);
}

static void edges(void)
{
    edge_states(set_edge);
    /* group borders inside the alias table, and identity -> alias */
    edge_probes(LIN(8, 0));
    for (u32 g = 59; g < 64; g++) {
        edge_probes(LIN(9, g * 16));
        edge_probes(LIN(9, g * 16 + 16));
    }
}

static void user_edges(u32 unused)
{
    edge_probes(LIN(8, 0));
    for (u32 g = 59; g < 64; g++) {
        edge_probes(LIN(9, g * 16));
        edge_probes(LIN(9, g * 16 + 16));
    }
}

static u32 user_val;

static void user_read(u32 a)
{
    user_val = rd32(a);
}

static void user_write(u32 a)
{
    wr32(a, 0x55aa55aa);
}

static void remaps(void)
{
    u32 j = 0x10, a = LIN(64, j) + 0x100, b = LIN(128, j) + 0x100, x;
    u32 *pd2, *pt2;

    wr32(a, 0x12345678);
    x = rd32(b);
    check(x == 0x12345678, "a write through one alias is read through "
          "another", x, 0);

    alias_pt[j] = (SCRATCH2 + 0x40000) | PTE_P | PTE_W | PTE_U;
    invlpg(a);
    x = rd32(a);
    check(x == *(u32 *)(SCRATCH2 + 0x40100), "invlpg: the new frame is "
          "read", x, *(u32 *)(SCRATCH2 + 0x40100));
    write_cr3((u32)pd);
    x = rd32(b);
    check(x == *(u32 *)(SCRATCH2 + 0x40100), "CR3 reload: other aliases "
          "see the new frame", x, 0);
    alias_pt[j] = alias_pte(j);
    write_cr3((u32)pd);
    x = rd32(a);
    check(x == 0x12345678, "remapped back: the old frame", x, 0);

    /* read-only: CPL0 with WP=1 faults, WP=0 writes, CPL3 always faults */
    alias_pt[j] &= ~PTE_W;
    invlpg(a);
    check(wr32(a, 1) == 14 && last_err == 3, "CR0.WP=1: CPL0 write to a "
          "read-only page faults", last_vec, last_err);
    write_cr0(read_cr0() & ~CR0_WP);
    check(wr32(a, 2) == NO_VEC && rd32(b) == 2, "CR0.WP=0: CPL0 writes a "
          "read-only page", last_vec, 0);
    user(user_write, a);
    check(last_vec == 14 && last_err == 7, "CR0.WP=0: CPL3 write to a "
          "read-only page faults", last_vec, last_err);
    write_cr0(read_cr0() | CR0_WP);

    /* supervisor: CPL3 read faults, CPL0 reads */
    alias_pt[j] = (alias_pt[j] | PTE_W) & ~PTE_U;
    invlpg(a);
    user(user_read, a);
    check(last_vec == 14 && last_err == 5, "CPL3 read of a supervisor page "
          "faults", last_vec, last_err);
    check(rd32(a) == 2, "CPL0 reads the supervisor page", 0, 0);
    alias_pt[j] |= PTE_U;
    invlpg(a);
    user(user_read, a);
    check(user_val == 2, "user again after invlpg: CPL3 reads", user_val, 0);

    /* not present, then present again without invlpg */
    alias_pt[j] &= ~PTE_P;
    invlpg(a);
    check(rd32(a) == 0xa5a5a5a5 && last_vec == 14 && last_err == 0,
          "not present: CPL0 read faults", last_vec, last_err);
    alias_pt[j] |= PTE_P;
    check(rd32(a) == 2, "present again: read without invlpg", 0, 0);

    /* Accessed and Dirty are set again after a flush */
    alias_pt[j] &= ~(PTE_A | PTE_D);
    write_cr3((u32)pd);
    rd32(a);
    check((alias_pt[j] & (PTE_A | PTE_D)) == PTE_A, "CR3 reload, read: A "
          "set, D clear", alias_pt[j], 0);
    wr32(a, 3);
    check(alias_pt[j] & PTE_D, "write: D set", alias_pt[j], 0);
    alias_pt[j] &= ~(PTE_A | PTE_D);
    invlpg(a);
    wr32(a, 4);
    check((alias_pt[j] & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "invlpg, "
          "write: A and D set", alias_pt[j], 0);
    alias_pt[j] &= ~PTE_A;
    write_cr3((u32)pd);
    user(user_read, a);
    check(alias_pt[j] & PTE_A, "CR3 reload, CPL3 read: A set", alias_pt[j], 0);

    /* another address space, changed while parked, then back */
    pd2 = pt_alloc();
    pt2 = pt_alloc();
    for (u32 i = 0; i < 1024; i++) {
        pd2[i] = pd[i];
        pt2[i] = (SCRATCH2 + (i & 255) * 4096) | PTE_P | PTE_W | PTE_U;
    }
    pd2[64] = (u32)pt2 | PTE_P | PTE_W | PTE_U;
    user(user_read, a);
    write_cr3((u32)pd2);
    user(user_read, a);
    check(user_val == *(u32 *)(SCRATCH2 + j * 4096 + 0x100), "CR3 switch: "
          "CPL3 sees the other space", user_val, 0);
    x = rd32(a);
    alias_pt[j] = (SCRATCH2 + 0x80000) | PTE_P | PTE_W | PTE_U;
    write_cr3((u32)pd);
    user(user_read, a);
    check(user_val == *(u32 *)(SCRATCH2 + 0x80100), "CR3 back after the "
          "parked space's PTE changed: CPL3 sees the new frame", user_val, 0);
    x = rd32(a);
    check(x == user_val, "and CPL0 too", x, user_val);
    alias_pt[j] = alias_pte(j);
    write_cr3((u32)pd);

    /* code written through one alias, run through another */
    for (u32 v = 1; v <= 3; v++) {
        u8 *w = (u8 *)LIN(200, 0x20);
        u32 (*fn)(void) = (u32 (*)(void))LIN(300, 0x20);

        w[0] = 0xb8;
        w[1] = v;
        w[2] = w[3] = w[4] = 0;
        w[5] = 0xc3;
        x = fn();
        check(x == v, "code written through an alias runs through another",
              x, v);
    }
}

static void pse(void)
{
    write_cr4(read_cr4() | CR4_PSE);
    for (u32 i = 8; i < 1024; i++) {
        u32 f = SCRATCH | PTE_P | PTE_W | PTE_U | PTE_PS;

        switch (i & 63) {
        case 63:
            f = 0;
            break;
        case 62:
            f &= ~PTE_U;
            break;
        case 61:
            f &= ~PTE_W;
            break;
        case 60:
            f = (f & 0x3fffff) | 0x40000000;
            break;
        case 59:
            f |= 1 << 13;       /* PSE-36: frame above 4 GiB */
            break;
        case 58:
            f = (f & 0x3fffff) | SCRATCH2;
            break;
        }
        pd[i] = f;
    }
    write_cr3((u32)pd);
}

static void set_top_4m(u32 t)
{
    pd[1023] = t == 3 ? (u32)top_pt | PTE_P | PTE_W | PTE_U :
               (SCRATCH | PTE_PS | top_state[t]);
    write_cr3((u32)pd);
}

int attack_main(void)
{
    set_nohash(0xa0000, 0x100000);
    build();
    paging_on();

    phase_begin("pg4k-cpl0");
    sweep(0, 0x1fff, 0);
    ml_printf("  identity read: reads %x\n", rhash);
    sweep(0x2000, 0xfffff, 1);
    ml_printf("  alias sweep: reads %x\n", rhash);
    edges();
    phase_end();

    phase_begin("pg4k-cpl3");
    user(sweeps, 0);
    user(user_edges, 0);
    phase_end();

    phase_begin("pg4k-remap");
    remaps();
    phase_end();

    phase_begin("pse-cpl0");
    pse();
    sweeps(0);
    large_top_states(set_top_4m);
    phase_end();

    phase_begin("pse-cpl3");
    user(sweeps, 0);
    phase_end();

    paging_off();
    return finish("pg");
}
