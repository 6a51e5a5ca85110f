/*
 * qemu-fast direct windows: what i386 MMU indexes and PTEs allow a
 * window to map (QEMU-free core)
 *
 * Which of i386's MMU indexes have a window (the "slots"), the privilege
 * context of each (user, supervisor with or without SMAP, CR0.WP), and
 * from a guest page's combined PTE rights plus the facts of the RAM
 * behind it, whether a window may map it read-write, read-only or not at
 * all.  Knows nothing of QEMU; tests/unit builds it alone.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef DIRECT_WINDOW_PROT_H
#define DIRECT_WINDOW_PROT_H

#include <stdbool.h>
#include <stdint.h>

#include "tcg/direct-window-core.h"

/* MMU indexes are small; a table covers every index QEMU i386 defines. */
#define DW_NB_MMU_IDX       8


/*
 * What is known about one guest page, as decoded by the glue from the
 * guest page tables (PTE part, flags combined over all levels as the
 * CPU does: U and W are the AND of every level, A and D are the leaf's)
 * and from the memory map (host part).
 */
struct dw_page {
    /* Guest PTE */
    bool present;
    bool writable;
    bool user;
    bool accessed;
    bool dirty;
    /* Host memory behind the guest-physical page */
    bool is_ram;            /* RAM or ROM backed by @fd, not MMIO */
    bool readonly;          /* ROM or read-only RAM: writes are slow */
    bool dirty_all;         /* dirty for every dirty-log client */
    bool is_code;           /* holds translated code */
    bool force_slow;        /* watchpoint or other reason to trap all */
    int fd;                 /* file behind the RAM block, -1 if none */
    uint64_t offset;        /* page-aligned offset of the page in @fd */
};

/* Privilege context of a window, fixed by its MMU index plus CR0.WP. */
struct dw_access {
    bool user;              /* CPL 3 accesses */
    bool smap;              /* supervisor with SMAP in force */
    bool wp;                /* CR0.WP: supervisor honours read-only */
};

/* Access context of @slot with the guest's CR0.WP = @cr0_wp. */
struct dw_access dw_access_for_slot(unsigned slot, bool cr0_wp);

/* How page @pg may be mapped in a window with context @acc. */
enum dw_prot dw_page_prot(const struct dw_page *pg,
                          const struct dw_access *acc);


#endif /* DIRECT_WINDOW_PROT_H */
