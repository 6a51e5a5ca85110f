/*
 * Attack kernel "flat": paging off.  Every 4 KiB page of the 4 GiB
 * physical space read (and written where no device has side effects) at
 * CPL0 and CPL3, every access width at the top of the space, at the end
 * of RAM and around the holes, ESP/ESI/EDI across the top, segment bases
 * that wrap, and the same again with A20 off.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "attack.h"

/*
 * Pages whose writes are harmless: not the kernel, not IOAPIC/HPET/LAPIC.
 * RAM: every page read and written.  Beyond RAM (unassigned, ROM): every
 * page read and every 16th written, or with @step only every step-th.
 */
static void sweep_all(u32 kernel_first, u32 kernel_last, u32 step)
{
    const u32 ram_pages = RAM_SIZE >> 12;

    sweep(0, kernel_first - 1, 1);
    sweep(kernel_first, kernel_last, 0);
    sweep(kernel_last + 1, ram_pages - 1, 1);
    sweep_step(ram_pages, 0xfebff, 16, step);
    sweep_step(0xfec00, 0xfefff, 0, step);
    sweep_step(0xff000, 0xfffff, 16, step);
}

static void edges(void)
{
    edge_probes(0);                 /* BIOS ROM, then RAM at 0 */
    edge_probes(RAM_SIZE);          /* end of RAM, then nothing */
    edge_probes(0xa0000);           /* RAM, then the VGA hole */
    edge_probes(0x100000);          /* BIOS shadow, then RAM */
    edge_probes(0xfffc0000);        /* nothing, then the BIOS ROM */
}

/* Offsets through FS (base @base) around the point where it wraps. */
static void seg_wrap(u32 sel)
{
    static const u32 bases[] = { 0xfffff000, 0xfffffffd, 0x80000000,
                                 0xfffffff0 };

    for (u32 b = 0; b < 4; b++) {
        u32 around = -bases[b];

        set_seg(sel, bases[b], 0xfffff, 1);
        load_fs(sel);
        for (u32 off = around - 20; off != around + 20; off++) {
            for (int op = 0; op < NOPS; op++) {
                probe_fs(op, op_width[op] == 255 ? off & ~15u : off);
            }
        }
        load_fs((sel & 3) ? SEL_UDATA : SEL_KDATA);
        mix(rd32(0));
    }
    /* a byte-granular limit of 4 KiB: no effect on the hash here */
    set_seg(sel, 0x300000, 0xfff, 0);
    load_fs(sel);
    for (u32 off = 0xff0; off < 0x1010; off++) {
        probe_fs(R4, off);
        probe_fs(W2, off);
    }
    load_fs((sel & 3) ? SEL_UDATA : SEL_KDATA);
}

static void ring3(u32 step)
{
    sweep_all(0x200, 0x2ff, step);
    edges();
    stack_probes(0);
    stack_probes(RAM_SIZE);
    string_probes(0);
    string_probes(RAM_SIZE);
    seg_wrap(SEL_UVAR);
}

int attack_main(void)
{
    u32 x;

    set_nohash(0xa0000, 0x100000);  /* BIOS data: differs run to run */

    phase_begin("flat-cpl0");
    sweep_all(0x200, 0x2ff, 1);
    edges();
    stack_probes(0);
    stack_probes(RAM_SIZE);
    string_probes(0);
    string_probes(RAM_SIZE);
    phase_end();

    phase_begin("flat-cpl0-segwrap");
    seg_wrap(SEL_KVAR);
    phase_end();

    phase_begin("flat-cpl3");
    user(ring3, 61);
    phase_end();
    check(rd32(0x10) != 0, "ring 3 wrote RAM at 0 with paging off", 0, 0);

    /* A20 off: bit 20 of every physical address is 0. */
    phase_begin("flat-a20off");
    wr32(0x1234, 0x0a200ff0);
    wr32(0x101234, 0x0a200ff1);
    outb(0x92, inb(0x92) & ~2);
    a20_mask = ~0x100000u;
    x = rd32(0x101234);
    check(x == 0x0a200ff0, "A20 off: 1 MiB + x reads x", x, 0x0a200ff0);
    wr32(0x105678, 0x0a200ff2);
    x = rd32(0x5678);
    check(x == 0x0a200ff2, "A20 off: a write at 1 MiB + x lands at x", x, 0);
    sweep(0, 0x1ff, 1);
    sweep(0x200, 0x3ff, 0);         /* the kernel and its alias */
    sweep(0x400, (RAM_SIZE >> 12) - 1, 1);
    sweep_step(RAM_SIZE >> 12, 0xfebff, 16, 61);
    sweep_step(0xfec00, 0xfefff, 0, 61);
    sweep_step(0xff000, 0xfffff, 16, 61);
    edge_probes(0x100000);
    edge_probes(0);
    stack_probes(0x100000);
    string_probes(0x100000);
    wr32(0x101234, 0x0a200ff3);
    outb(0x92, inb(0x92) | 2);
    a20_mask = ~0u;
    x = rd32(0x101234);
    check(x != 0x0a200ff3 && rd32(0x1234) == 0x0a200ff3,
          "A20 on again: 1 MiB + x is other memory", x, rd32(0x1234));
    phase_end();

    return finish("flat");
}
