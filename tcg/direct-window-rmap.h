/*
 * qemu-fast direct windows: what a store to a page table invalidates
 * (QEMU-free core)
 *
 * A window keeps its mappings across address-space switches because
 * every guest page-table page that a mapping was derived from is
 * tracked: each "use" of a table page says which window range its
 * entries translate.  This file owns the arithmetic from a store (bytes
 * [off, off + len) of the table page) to the guest pages of the window
 * whose translation it may have changed.  It knows no paging format: the
 * target describes each use (where the table lies in its page, how many
 * entries of what size, how much of the space one entry translates).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef DIRECT_WINDOW_RMAP_H
#define DIRECT_WINDOW_RMAP_H

#include <stdbool.h>
#include <stdint.h>

/* One table page's part in one window's translations. */
struct dw_table_use {
    uint16_t off;           /* byte offset of entry 0 in the page */
    uint16_t n_entries;     /* entries of the table in that page */
    uint8_t entry_shift;    /* log2 of an entry's size (2 or 3) */
    uint8_t span_shift;     /* log2 of the bytes one entry translates */
    uint32_t vbase;         /* guest address entry 0 translates */
};

/*
 * Is @u a sane use: entries within the page, the space they translate
 * within 4 GiB, @vbase aligned to one entry's span?
 */
bool dw_table_use_valid(const struct dw_table_use *u);

/*
 * The guest pages [*first, *first + *n) that a store to bytes
 * [@off, @off + @len) of the table page may have changed under @u.
 * Returns false (and leaves the outputs alone) when the store touches
 * no entry of @u.
 */
bool dw_table_write_pages(const struct dw_table_use *u, unsigned off,
                          unsigned len, uint32_t *first, uint32_t *n);

/*
 * Did every entry of @u that a store to bytes [@off, @off + @len) of the
 * table page lands in have its present bit (bit 0) clear in @before, the
 * page's contents before the store?  Nothing can have been derived from
 * such entries: a process growing into new 4 MiB regions fills in
 * directory entries that were empty.  False when the store touches no
 * entry of @u.
 */
bool dw_table_write_was_absent(const struct dw_table_use *u,
                               const uint8_t *before, unsigned off,
                               unsigned len);

/*
 * Write flooding (DW_TABLE_FLOOD in direct-window-internal.h): count in
 * @stores a store to a table while the window using it is @switched_out
 * (a store while it is current counts nothing: that is the address space
 * changing its own tables); true on the @limit-th, when the use should
 * go.  A walk through the table sets @stores back to 0.
 */
bool dw_table_store_floods(uint16_t *stores, bool switched_out,
                           unsigned limit);

#endif /* DIRECT_WINDOW_RMAP_H */
