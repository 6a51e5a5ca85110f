/*
 * qemu-fast direct windows: what a store to a page table invalidates
 * (QEMU-free core)
 *
 * See direct-window-rmap.h.  Must not include QEMU headers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "direct-window-rmap.h"
#include "direct-window-core.h"

bool dw_table_use_valid(const struct dw_table_use *u)
{
    uint64_t bytes = (uint64_t)u->n_entries << u->entry_shift;
    uint64_t span = 1ULL << u->span_shift;

    return u->n_entries > 0 && u->entry_shift >= 2 && u->entry_shift <= 3 &&
           u->span_shift >= DW_PAGE_BITS && u->span_shift <= DW_WINDOW_BITS &&
           u->off % (1u << u->entry_shift) == 0 &&
           u->off + bytes <= DW_PAGE_SIZE &&
           u->vbase % span == 0 &&
           u->vbase + u->n_entries * span <= DW_WINDOW_SIZE;
}

/*
 * The entries [*e_first, *e_last] of @u that a store to bytes
 * [@off, @off + @len) of the table page lands in; false if none.  A
 * partial store changes the entry it lands in.
 */
static bool dw_table_store_entries(const struct dw_table_use *u,
                                   unsigned off, unsigned len,
                                   uint64_t *e_first, uint64_t *e_last)
{
    uint64_t lo = off, hi = (uint64_t)off + len;       /* [lo, hi) */
    uint64_t t_lo = u->off;
    uint64_t t_hi = t_lo + ((uint64_t)u->n_entries << u->entry_shift);

    if (len == 0 || hi <= t_lo || lo >= t_hi) {
        return false;
    }
    lo = lo > t_lo ? lo : t_lo;
    hi = hi < t_hi ? hi : t_hi;
    *e_first = (lo - t_lo) >> u->entry_shift;
    *e_last = (hi - 1 - t_lo) >> u->entry_shift;
    return true;
}

bool dw_table_write_pages(const struct dw_table_use *u, unsigned off,
                          unsigned len, uint32_t *first, uint32_t *n)
{
    uint64_t e_first, e_last, v_first, v_end;

    if (!dw_table_store_entries(u, off, len, &e_first, &e_last)) {
        return false;
    }
    v_first = u->vbase + (e_first << u->span_shift);
    v_end = u->vbase + ((e_last + 1) << u->span_shift);
    *first = v_first >> DW_PAGE_BITS;
    *n = (v_end - v_first) >> DW_PAGE_BITS;
    return true;
}

bool dw_table_write_was_absent(const struct dw_table_use *u,
                               const uint8_t *before, unsigned off,
                               unsigned len)
{
    uint64_t e_first, e_last;

    if (!dw_table_store_entries(u, off, len, &e_first, &e_last)) {
        return false;
    }
    for (uint64_t e = e_first; e <= e_last; e++) {
        /* x86 entries are little-endian: bit 0 is in the first byte. */
        if (before[u->off + (e << u->entry_shift)] & 1) {
            return false;
        }
    }
    return true;
}

bool dw_table_store_floods(uint16_t *stores, bool switched_out,
                           unsigned limit)
{
    if (!switched_out || *stores >= limit) {
        return false;
    }
    return ++*stores == limit;
}
