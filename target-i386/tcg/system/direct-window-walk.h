/*
 * qemu-fast direct windows: the i386 page walk (QEMU-free core)
 *
 * A side-effect-free walk of the guest's 2-level, PSE or PAE page tables
 * that summarises a translation (frame, rights, Dirty, large page) so
 * that a mapping made for it can be checked later by comparing two
 * summaries.  It reads entries through a callback and knows nothing of
 * windows or QEMU; tests/unit builds it alone.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef DIRECT_WINDOW_WALK_H
#define DIRECT_WINDOW_WALK_H

#include <stdbool.h>
#include <stdint.h>

/* Guest page size. */
#define DW_WALK_PAGE_SIZE   0x1000ULL


/*
 * A mapping a window made for a fault must be the translation the CPU
 * would use now; the walk summarises one so that it can be checked
 * against the tables as they are (a fill's neighbours, a prefill after
 * the guest's page-fault handler, the G bit of a code page).  That is
 * what a CPU is allowed to do anyway: it may load TLB entries at any
 * time from present, accessed entries.
 *
 * The walk is side-effect free: it never sets Accessed or Dirty, so a
 * page whose entries lack them is "unknown" and must fault again.
 */
struct dw_paging {
    uint64_t cr3;
    uint64_t a20_mask;      /* applied to every physical address */
    unsigned phys_bits;     /* MAXPHYADDR, for PAE reserved bits */
    bool pae;               /* CR4.PAE */
    bool pse;               /* CR4.PSE (ignored with PAE) */
    bool nxe;               /* EFER.NXE: bit 63 is NX, else reserved */
};

/* Reads a 4-byte (@wide false) or 8-byte guest-physical entry. */
typedef uint64_t (*dw_read_phys_fn)(void *opaque, uint64_t pa, bool wide);

/* Bits of a walk summary below the page frame. */
#define DW_WALK_VALID       0x001   /* present and accessed everywhere */
#define DW_WALK_W           0x002   /* R/W set at every level */
#define DW_WALK_U           0x004   /* U/S set at every level */
#define DW_WALK_D           0x040   /* leaf Dirty */
#define DW_WALK_LARGE       0x080   /* a 4 MiB or 2 MiB page */
#define DW_WALK_G           0x100   /* leaf Global (counts with CR4.PGE) */
#define DW_WALK_FRAME(s)    ((s) & ~(DW_WALK_PAGE_SIZE - 1))

/*
 * Summary of the translation of guest @vaddr under @p: the guest-
 * physical page | DW_WALK_* bits, or 0 when a CPU walk would fault or
 * would have to change an entry (not present, Accessed clear, reserved
 * bits).  Two equal non-zero summaries mean the same page with the same
 * rights, so a mapping made for one is right for the other.  Within one
 * large page the summaries differ only by the frame, so one walk of a
 * DW_WALK_LARGE page tells the summary of all its neighbours.
 */
uint64_t dw_walk(const struct dw_paging *p, uint32_t vaddr,
                 dw_read_phys_fn read, void *opaque);

#endif /* DIRECT_WINDOW_WALK_H */
