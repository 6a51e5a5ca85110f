/*
 * qemu-fast direct windows: what i386 MMU indexes and PTEs allow a
 * window to map (QEMU-free core)
 *
 * See direct-window-prot.h.  Must not include QEMU headers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "direct-window-prot.h"

/*
 * i386 32-bit system code uses MMU indexes 1 (kernel, SMAP), 3 (user)
 * and 5 (kernel, no SMAP); the 64-bit, physical and nested indexes are
 * left to softmmu.
 */
static const int8_t dw_slot_of_mmu_idx[DW_NB_MMU_IDX] = {
    -1, 0, -1, 1, -1, 2, -1, -1,
};

static const uint8_t dw_mmu_idx_of_slot[DW_NB_SLOTS] = { 1, 3, 5 };

int dw_mmu_idx_to_slot(unsigned mmu_idx)
{
    if (mmu_idx >= DW_NB_MMU_IDX) {
        return -1;
    }
    return dw_slot_of_mmu_idx[mmu_idx];
}

unsigned dw_slot_to_mmu_idx(unsigned slot)
{
    return dw_mmu_idx_of_slot[slot];
}

struct dw_access dw_access_for_slot(unsigned slot, bool cr0_wp)
{
    struct dw_access acc = {
        .user = dw_slot_to_mmu_idx(slot) == 3,
        .smap = dw_slot_to_mmu_idx(slot) == 1,
        .wp = cr0_wp,
    };
    return acc;
}

/* Can the CPU, in context @acc, read the page at all? */
static bool dw_pte_readable(const struct dw_page *pg,
                            const struct dw_access *acc)
{
    /*
     * A clear Accessed bit must be set by the first access; a direct
     * mapping would let the guest touch the page without that, so such
     * neighbours are left to fault through the page walker.
     */
    if (!pg->present || !pg->accessed) {
        return false;
    }
    if (acc->user) {
        return pg->user;
    }
    /* SMAP: supervisor data accesses to user pages fault. */
    return !(acc->smap && pg->user);
}

/* Can the CPU, in context @acc, write the page (ignoring Dirty)? */
static bool dw_pte_writable(const struct dw_page *pg,
                            const struct dw_access *acc)
{
    if (acc->user || acc->wp) {
        return pg->writable;
    }
    /* CR0.WP = 0: the supervisor writes even read-only pages. */
    return true;
}

enum dw_prot dw_page_prot(const struct dw_page *pg,
                          const struct dw_access *acc)
{
    if (!pg->is_ram || pg->fd < 0 || pg->force_slow ||
        !dw_pte_readable(pg, acc)) {
        return DW_PROT_NONE;
    }
    /*
     * Write directly only if no write needs noticing: the guest PTE is
     * already Dirty (else the CPU must set D), every dirty-log client has
     * seen the page dirty (VGA, migration), no translated code lives in
     * it (SMC detection) and it is not ROM.
     */
    if (dw_pte_writable(pg, acc) && pg->dirty && pg->dirty_all &&
        !pg->is_code && !pg->readonly) {
        return DW_PROT_RW;
    }
    return DW_PROT_READ;
}
