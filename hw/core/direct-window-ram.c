/*
 * qemu-fast direct windows: which guest RAM the windows can map
 *
 * See direct-window-ram.h.  How RAM is made shareable in the first place
 * (default_ram_share and aux-ram-share) is set where the machine is
 * made, by patch 0005.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "exec/memory.h"
#include "exec/ramblock.h"
#include "hw/core/direct-window-ram.h"

bool dw_ram_mappable(RAMBlock *rb)
{
    return rb && rb->fd >= 0 && qemu_ram_is_shared(rb);
}

bool dw_ram_readonly(MemoryRegion *mr)
{
    return mr->readonly || memory_region_is_rom(mr) ||
           memory_region_is_romd(mr);
}

char *dw_ram_unmappable(void)
{
    RAMBlock *rb;

    RCU_READ_LOCK_GUARD();
    RAMBLOCK_FOREACH(rb) {
        if (qemu_ram_pagesize(rb) != qemu_real_host_page_size()) {
            return g_strdup_printf("RAM block '%s' uses %zu KiB host pages "
                                   "(hugetlb), the windows map 4 KiB pages",
                                   qemu_ram_get_idstr(rb),
                                   qemu_ram_pagesize(rb) >> 10);
        }
    }
    return NULL;
}

uint64_t dw_ram_end(void)
{
    uint64_t end = 0;
    RAMBlock *rb;

    RCU_READ_LOCK_GUARD();
    RAMBLOCK_FOREACH(rb) {
        end = MAX(end, rb->offset + rb->max_length);
    }
    return end;
}
