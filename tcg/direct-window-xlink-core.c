/*
 * qemu-fast direct windows: when a remembered cross-page jump is still
 * good (QEMU-free core); see direct-window-xlink-core.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <string.h>

#include "direct-window-xlink-core.h"

/*
 * By two, so that local stays odd and global even.  Atomic: another
 * vCPU's thread bumps both when it invalidates a TB.
 */
void dw_xlink_bump(uint64_t *gen)
{
    __atomic_fetch_add(gen, 2, __ATOMIC_SEQ_CST);
}

/* Or, not store: another thread's bump in between must not be lost. */
void dw_xlink_start(uint64_t *local, uint64_t *global)
{
    __atomic_fetch_or(local, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_or(global, 2, __ATOMIC_SEQ_CST);
}

bool dw_xlink_good(uint64_t entry_gen, uint64_t local, uint64_t global)
{
    return entry_gen == global || entry_gen == local;
}

static unsigned dw_xlink_filter_bit(uint64_t page)
{
    return (uint32_t)(page * 0x9e3779b97f4a7c15ull >> 32) %
           DW_XLINK_FILTER_BITS;
}

void dw_xlink_filter_add(DWXlinkFilter *f, uint64_t page)
{
    unsigned b = dw_xlink_filter_bit(page);

    f->bits[b / 64] |= 1ull << (b % 64);
}

bool dw_xlink_filter_flush(DWXlinkFilter *f, uint64_t page)
{
    unsigned b = dw_xlink_filter_bit(page);

    if (!(f->bits[b / 64] & (1ull << (b % 64)))) {
        return false;
    }
    memset(f->bits, 0, sizeof(f->bits));
    return true;
}
