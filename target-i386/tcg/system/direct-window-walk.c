/*
 * qemu-fast direct windows: the i386 page walk (QEMU-free core)
 *
 * See direct-window-walk.h.  Must not include QEMU headers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "direct-window-walk.h"

#define PTE_P       0x001ULL
#define PTE_W       0x002ULL
#define PTE_U       0x004ULL
#define PTE_A       0x020ULL
#define PTE_D       0x040ULL
#define PTE_PS      0x080ULL
#define PTE_G       0x100ULL
#define PTE_NX      (1ULL << 63)

/*
 * Legacy-PAE PDPTE bits that must be zero: 1, 2, 6-8.  The SDM reserves
 * bit 5 too, but QEMU's page walker sets it (as Accessed) on every walk,
 * and the summary must accept what the walker accepts: with bit 5
 * reserved, no PAE translation could be checked or tracked after the
 * first walk.
 */
#define PDPTE_RSVD  0x1c6ULL

/* One entry's contribution: false when the walk stops here. */
static bool dw_walk_entry(uint64_t e, uint64_t rsvd, uint64_t *sum)
{
    if (!(e & PTE_P) || !(e & PTE_A) || (e & rsvd)) {
        return false;
    }
    *sum &= e | ~(PTE_W | PTE_U);
    return true;
}

static uint64_t dw_walk_legacy(const struct dw_paging *p, uint32_t vaddr,
                               dw_read_phys_fn read, void *opaque)
{
    uint64_t sum = PTE_W | PTE_U;
    uint64_t pde, pte, gpa, leaf;

    pde = read(opaque, ((p->cr3 & ~0xfffULL) + ((vaddr >> 20) & 0xffc)) &
                       p->a20_mask, false);
    if (p->pse && (pde & PTE_PS)) {
        /*
         * 4 MiB page.  Bits 13-21 are PSE-36 address bits or reserved;
         * guests below 4 GiB leave them clear, so anything else is
         * simply not kept.
         */
        if (!dw_walk_entry(pde, 0x3fe000, &sum)) {
            return 0;
        }
        gpa = (pde & 0xffc00000ULL) | (vaddr & 0x3ff000);
        leaf = (pde & (PTE_D | PTE_G)) | DW_WALK_LARGE;
    } else {
        if (!dw_walk_entry(pde, 0, &sum)) {
            return 0;
        }
        pte = read(opaque, ((pde & ~0xfffULL) + ((vaddr >> 10) & 0xffc)) &
                           p->a20_mask, false);
        if (!dw_walk_entry(pte, 0, &sum)) {
            return 0;
        }
        gpa = pte & 0xfffff000ULL;
        leaf = pte & (PTE_D | PTE_G);
    }
    return ((gpa & p->a20_mask) & ~0xfffULL) | DW_WALK_VALID | sum |
           leaf;
}

static uint64_t dw_walk_pae(const struct dw_paging *p, uint32_t vaddr,
                            dw_read_phys_fn read, void *opaque)
{
    uint64_t addr = ((1ULL << p->phys_bits) - 1) & ~0xfffULL;
    /*
     * Address bits past MAXPHYADDR, and 52-62 which no 32-bit guest
     * needs (kept conservative: such entries are just not kept).
     */
    uint64_t rsvd = ~addr & ~0xfffULL & ~PTE_NX;
    uint64_t sum = PTE_W | PTE_U;
    uint64_t pdpte, pde, pte, gpa, leaf;

    if (!p->nxe) {
        rsvd |= PTE_NX;
    }
    pdpte = read(opaque, ((p->cr3 & ~0x1fULL) + ((vaddr >> 27) & 0x18)) &
                         p->a20_mask, true);
    /* A PDPTE has no A, R/W or U/S bits in legacy PAE. */
    if (!(pdpte & PTE_P) || (pdpte & (PDPTE_RSVD | rsvd | PTE_NX))) {
        return 0;
    }
    pde = read(opaque, ((pdpte & addr) + ((vaddr >> 18) & 0xff8)) &
                       p->a20_mask, true);
    if (pde & PTE_PS) {
        /* 2 MiB page: bits 13-20 are reserved. */
        if (!dw_walk_entry(pde, rsvd | 0x1fe000, &sum)) {
            return 0;
        }
        gpa = (pde & addr & ~0x1fffffULL) | (vaddr & 0x1ff000);
        leaf = (pde & (PTE_D | PTE_G)) | DW_WALK_LARGE;
    } else {
        if (!dw_walk_entry(pde, rsvd, &sum)) {
            return 0;
        }
        pte = read(opaque, ((pde & addr) + ((vaddr >> 9) & 0xff8)) &
                           p->a20_mask, true);
        if (!dw_walk_entry(pte, rsvd, &sum)) {
            return 0;
        }
        gpa = pte & addr;
        leaf = pte & (PTE_D | PTE_G);
    }
    return ((gpa & p->a20_mask) & ~0xfffULL) | DW_WALK_VALID | sum |
           leaf;
}

uint64_t dw_walk(const struct dw_paging *p, uint32_t vaddr,
                 dw_read_phys_fn read, void *opaque)
{
    return p->pae ? dw_walk_pae(p, vaddr, read, opaque)
                  : dw_walk_legacy(p, vaddr, read, opaque);
}
