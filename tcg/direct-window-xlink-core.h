/*
 * qemu-fast direct windows: when a remembered cross-page jump is still
 * good (QEMU-free core)
 *
 * A direct jump to another page cannot be chained with goto_tb: the page
 * it goes to may be mapped elsewhere by the next time it runs, and no TB
 * invalidation would say so.  So it looks its TB up every time
 * (helper_lookup_tb_ptr), and in an operating system's code most lookups
 * left after the return-address stack are such jumps.
 *
 * The fast mode remembers, per vCPU, where each such jump went: an entry
 * of a small table beside env holds the jump (its TB and slot), the
 * address it went to, and the code of the TB found there.  The entry
 * also carries a generation, which says how long it is good:
 *
 * - "local", for a TB on a page that is not global: until the vCPU's
 *   translations change in any way (a CR3 write, a TLB or page flush)
 *   or a TB is invalidated anywhere;
 * - "global", for a TB whose pages are global (PTE.G with CR4.PGE), as
 *   an operating system maps its kernel: a CR3 write keeps it, as the
 *   architecture keeps the translation; a full flush, a flush of one of
 *   the pages such entries lead to, or a TB invalidation ends it.
 *
 * The two generations never take the same value (local is made odd
 * before the vCPU's first entry, global stays even, both only grow by
 * two), and an entry made under one is good while its
 * generation equals the current one: a bump forgets every entry made
 * under the old value at once.  Which pages global entries lead to is
 * kept in a small filter, so that a flush of another page (a process's
 * own pages, flushed all the time) leaves them alone.
 *
 * The generations live in env (translated code compares them); the
 * filter is the vCPU's own: only its thread adds to it or empties it.
 * Other threads only bump (a TB invalidation).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef DIRECT_WINDOW_XLINK_CORE_H
#define DIRECT_WINDOW_XLINK_CORE_H

#include <stdbool.h>
#include <stdint.h>

/* Bits of the filter of pages that global entries lead to. */
#define DW_XLINK_FILTER_BITS    4096
#define DW_XLINK_FILTER_WORDS   (DW_XLINK_FILTER_BITS / 64)

typedef struct DWXlinkFilter {
    uint64_t bits[DW_XLINK_FILTER_WORDS];
} DWXlinkFilter;

/* The next value of a generation: forgets every entry made under it. */
void dw_xlink_bump(uint64_t *gen);

/*
 * Before a vCPU's first entry: make its local generation odd (both start
 * at 0, and a bump before this keeps them even), and its global one
 * nonzero, so that no entry still all zero is good.
 */
void dw_xlink_start(uint64_t *local, uint64_t *global);

/* Is an entry made under @entry_gen good now? */
bool dw_xlink_good(uint64_t entry_gen, uint64_t local, uint64_t global);

/* A global entry now leads to virtual page number @page. */
void dw_xlink_filter_add(DWXlinkFilter *f, uint64_t page);

/*
 * Page number @page was flushed: true when a global entry may lead to it
 * (the caller then bumps the global generation); the filter is emptied,
 * as no entry made before the bump is good after it.
 */
bool dw_xlink_filter_flush(DWXlinkFilter *f, uint64_t page);

#endif /* DIRECT_WINDOW_XLINK_CORE_H */
