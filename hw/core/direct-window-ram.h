/*
 * qemu-fast direct windows: which guest RAM the windows can map
 *
 * The windows map guest pages with mmap of the RAM block's file
 * descriptor, one 4 KiB host page at a time.  This header answers, for
 * the fast mode's set-up and fill path, which RAM that works for.  It
 * knows nothing of windows, page tables or vCPUs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CORE_DIRECT_WINDOW_RAM_H
#define HW_CORE_DIRECT_WINDOW_RAM_H

/*
 * Can a window map pages of @rb from its file descriptor?  Not RAM
 * without one, nor a private file mapping (share=off): what the file
 * holds is not what the guest sees.
 */
bool dw_ram_mappable(RAMBlock *rb);

/* Must the guest's stores to @mr take the softmmu path (ROM, ROMD)? */
bool dw_ram_readonly(MemoryRegion *mr);

/*
 * Why the windows cannot serve this machine's RAM: a RAM block of huge
 * host pages (they cannot be mapped 4 KiB at a time), without a file
 * descriptor, or a private copy of a file; NULL if they can.  Called
 * once the board has made its RAM; the caller frees the string.
 */
char *dw_ram_unmappable(void);

/* One past the highest RAM address (ram_addr_t) of any RAM block. */
uint64_t dw_ram_end(void);

#endif /* HW_CORE_DIRECT_WINDOW_RAM_H */
