/*
 * qemu-fast direct windows: reading the guest's page tables (i386)
 *
 * The windows check translations with the side-effect-free walk of
 * direct-window-walk.c.  This file feeds it: the guest's paging state
 * (CR0.PG, CR3, CR4.PAE/PSE, EFER.NXE, A20, MAXPHYADDR) and page-table
 * entries read from guest RAM only.  It maps and unmaps nothing.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TARGET_I386_DIRECT_WINDOW_PTW_H
#define TARGET_I386_DIRECT_WINDOW_PTW_H

#include "exec/memattrs.h"
#include "direct-window-walk.h"

/*
 * Reads page-table entries for dw_walk(), from RAM only: the walk is
 * speculative and must not have the side effects of an MMIO read, nor
 * take the BQL.  Anything that is not RAM reads as "not present".  A
 * revalidation walks thousands of pages under a few page tables, so the
 * host address of the last table page is remembered; the caller holds
 * the RCU read lock for as long as the reader lives.
 */
/* Table pages remembered: a walk alternates directory and table pages. */
#define DW_READER_WAYS  4

typedef struct DWPteReader {
    AddressSpace *as;
    MemTxAttrs attrs;
    unsigned next;                      /* way to replace next */
    hwaddr page[DW_READER_WAYS];        /* guest-physical page, or -1 */
    uint8_t *host[DW_READER_WAYS];      /* NULL: that page is not RAM */
} DWPteReader;

/* Start reading entries as @cs sees memory; hold the RCU read lock. */
void dw_pte_reader_init(DWPteReader *r, CPUState *cs);

/* dw_read_phys_fn for dw_walk(), @opaque being a DWPteReader. */
uint64_t dw_read_pte(void *opaque, uint64_t pa, bool wide);

/* The guest's paging state, false when paging is off. */
bool dw_paging_of(CPUState *cs, struct dw_paging *p);

/*
 * Walk summary to remember for a page just mapped at @vaddr onto guest-
 * physical @phys, or 0 when it cannot be trusted later: another vCPU
 * changed the entries since the fill.
 */
uint64_t dw_walk_for_map(const struct dw_paging *p, DWPteReader *r,
                         uint32_t vaddr, hwaddr phys, bool writable);

#endif /* TARGET_I386_DIRECT_WINDOW_PTW_H */
