/*
 * qemu-fast direct windows: which guest RAM the windows can map
 *
 * See direct-window-ram.h.  How RAM is made shareable in the first place
 * (private_ram_fd and aux-ram-share) is set where the machine is
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

/* Why the windows cannot map @rb, or NULL. */
static char *dw_ram_block_unmappable(RAMBlock *rb)
{
    const char *name = qemu_ram_get_idstr(rb);

    if (memory_region_is_ram_device(rb->mr)) {
        /* A device's memory: its accesses take the MMIO path anyway. */
        return NULL;
    }
    if (qemu_ram_pagesize(rb) != qemu_real_host_page_size()) {
        return g_strdup_printf("RAM block '%s' uses %zu KiB host pages "
                               "(hugetlb), the windows map 4 KiB pages",
                               name, qemu_ram_pagesize(rb) >> 10);
    }
    if (rb->fd < 0) {
        return g_strdup_printf("RAM block '%s' has no file descriptor to "
                               "map it from (QEMU could not allocate it "
                               "from a memory file: is /dev/shm full?)",
                               name);
    }
    if (!qemu_ram_is_shared(rb)) {
        return g_strdup_printf("RAM block '%s' is a private copy of a file "
                               "(memory-backend-file share=off, or "
                               "-mem-path): the windows could only map the "
                               "file itself; give it share=on", name);
    }
    return NULL;
}

char *dw_ram_unmappable(void)
{
    RAMBlock *rb;
    char *why;

    RCU_READ_LOCK_GUARD();
    RAMBLOCK_FOREACH(rb) {
        why = dw_ram_block_unmappable(rb);
        if (why) {
            return why;
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
