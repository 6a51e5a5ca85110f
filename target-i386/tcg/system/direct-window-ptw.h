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
#include "tcg/direct-window-rmap.h"
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

/* Entries one walk reads at most: PDPTE, PDE, PTE. */
#define DW_WALK_MAX_LEVELS  3

typedef struct DWPteReader {
    AddressSpace *as;
    MemTxAttrs attrs;
    unsigned next;                      /* way to replace next */
    unsigned last;                      /* way of the last entry read */
    hwaddr page[DW_READER_WAYS];        /* guest-physical page, or -1 */
    uint8_t *host[DW_READER_WAYS];      /* NULL: that page is not RAM */
    uint64_t ram[DW_READER_WAYS];       /* its ram_addr_t, if RAM */
    /*
     * The entries the last walk read, outermost first: where (RAM
     * address, -1 if not RAM) and what; reset by dw_walk_for_map().
     */
    unsigned n_path;
    uint64_t path_ram[DW_WALK_MAX_LEVELS];
    uint64_t path_val[DW_WALK_MAX_LEVELS];
} DWPteReader;

/* Start reading entries as @cs sees memory; hold the RCU read lock. */
void dw_pte_reader_init(DWPteReader *r, CPUState *cs);

/* dw_read_phys_fn for dw_walk(), @opaque being a DWPteReader. */
uint64_t dw_read_pte(void *opaque, uint64_t pa, bool wide);

/* The guest's paging state, false when paging is off. */
bool dw_paging_of(CPUState *cs, struct dw_paging *p);

/*
 * The address space @p translates in: the root of its walk, the page
 * directory (2-level) or the PDPT (PAE) that CR3 points to.
 */
static inline uint64_t dw_root_of(const struct dw_paging *p)
{
    return p->pae ? (p->cr3 & ~0x1fULL) : (p->cr3 & ~0xfffULL);
}

/*
 * Walk summary of a page just filled at @vaddr onto guest-physical
 * @phys, or 0 when it does not match the fill (another vCPU changed the
 * entries since).  The entries it read are left in @r's path.
 */
uint64_t dw_walk_for_map(const struct dw_paging *p, DWPteReader *r,
                         uint32_t vaddr, hwaddr phys, bool writable);

/*
 * What a page directory (PAE: the one for @vaddr's GiB; 2-level: the
 * root) and the leaf table for @vaddr translate, for tracking them.
 */
struct dw_table_use dw_upper_use(const struct dw_paging *p, uint32_t vaddr);
struct dw_table_use dw_leaf_use(const struct dw_paging *p, uint32_t vaddr);

/* PAE: the four PDPTEs under @p's CR3. */
void dw_read_pdptes(DWPteReader *r, const struct dw_paging *p,
                    uint64_t pdpte[4]);

#endif /* TARGET_I386_DIRECT_WINDOW_PTW_H */
