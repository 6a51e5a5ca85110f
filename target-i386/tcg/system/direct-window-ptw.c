/*
 * qemu-fast direct windows: reading the guest's page tables (i386)
 *
 * See direct-window-ptw.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "exec/exec-all.h"
#include "exec/memory.h"
#include "exec/ramblock.h"
#include "cpu.h"
#include "direct-window-ptw.h"

void dw_pte_reader_init(DWPteReader *r, CPUState *cs)
{
    r->attrs = cpu_get_mem_attrs(cpu_env(cs));
    r->as = cpu_get_address_space(cs, cpu_asidx_from_attrs(cs, r->attrs));
    r->next = 0;
    r->n_path = 0;
    for (unsigned i = 0; i < DW_READER_WAYS; i++) {
        r->page[i] = -1;
        r->host[i] = NULL;
    }
}

/* Host address of guest-physical table page @page, NULL if not RAM. */
static uint8_t *dw_pte_reader_page(DWPteReader *r, hwaddr page)
{
    hwaddr xlat, len = TARGET_PAGE_SIZE;
    MemoryRegion *mr;
    unsigned way;

    for (way = 0; way < DW_READER_WAYS; way++) {
        if (r->page[way] == page) {
            r->last = way;
            return r->host[way];
        }
    }
    way = r->next;
    r->next = (way + 1) % DW_READER_WAYS;
    mr = address_space_translate(r->as, page, &xlat, &len, false, r->attrs);
    r->page[way] = page;
    r->host[way] = NULL;
    r->ram[way] = -1;
    if (memory_region_is_ram(mr) && len == TARGET_PAGE_SIZE) {
        r->host[way] = qemu_map_ram_ptr(mr->ram_block, xlat);
        r->ram[way] = mr->ram_block->offset + xlat;
    }
    r->last = way;
    return r->host[way];
}

uint64_t dw_read_pte(void *opaque, uint64_t pa, bool wide)
{
    DWPteReader *r = opaque;
    uint8_t *host = dw_pte_reader_page(r, pa & TARGET_PAGE_MASK);
    uint64_t val = 0;

    /* Entries are naturally aligned, so they never cross the page. */
    if (host) {
        val = wide ? ldq_le_p(host + (pa & ~TARGET_PAGE_MASK))
                   : ldl_le_p(host + (pa & ~TARGET_PAGE_MASK));
    }
    if (r->n_path < DW_WALK_MAX_LEVELS) {
        r->path_ram[r->n_path] = host ? r->ram[r->last] +
                                 (pa & ~TARGET_PAGE_MASK) : -1;
        r->path_val[r->n_path] = val;
        r->n_path++;
    }
    return val;
}

bool dw_paging_of(CPUState *cs, struct dw_paging *p)
{
    CPUX86State *env = cpu_env(cs);

    if (!(env->cr[0] & CR0_PG_MASK)) {
        return false;
    }
    p->cr3 = env->cr[3];
    p->a20_mask = (int64_t)env->a20_mask;
    p->phys_bits = X86_CPU(cs)->phys_bits;
    p->pae = env->cr[4] & CR4_PAE_MASK;
    p->pse = env->cr[4] & CR4_PSE_MASK;
    p->nxe = env->efer & MSR_EFER_NXE;
    return true;
}

uint64_t dw_walk_for_map(const struct dw_paging *p, DWPteReader *r,
                         uint32_t vaddr, hwaddr phys, bool writable)
{
    uint64_t sum;

    r->n_path = 0;
    sum = dw_walk(p, vaddr, dw_read_pte, r);
    if (DW_WALK_FRAME(sum) != (phys & TARGET_PAGE_MASK) ||
        (writable && !(sum & DW_WALK_D))) {
        return 0;
    }
    return sum;
}

struct dw_table_use dw_upper_use(const struct dw_paging *p, uint32_t vaddr)
{
    if (p->pae) {
        return (struct dw_table_use) {
            .off = 0, .n_entries = 512, .entry_shift = 3, .span_shift = 21,
            .vbase = vaddr & 0xc0000000u,
        };
    }
    return (struct dw_table_use) {
        .off = 0, .n_entries = 1024, .entry_shift = 2, .span_shift = 22,
        .vbase = 0,
    };
}

struct dw_table_use dw_leaf_use(const struct dw_paging *p, uint32_t vaddr)
{
    if (p->pae) {
        return (struct dw_table_use) {
            .off = 0, .n_entries = 512, .entry_shift = 3, .span_shift = 12,
            .vbase = vaddr & ~0x1fffffu,
        };
    }
    return (struct dw_table_use) {
        .off = 0, .n_entries = 1024, .entry_shift = 2, .span_shift = 12,
        .vbase = vaddr & ~0x3fffffu,
    };
}

void dw_read_pdptes(DWPteReader *r, const struct dw_paging *p,
                    uint64_t pdpte[4])
{
    for (unsigned i = 0; i < 4; i++) {
        pdpte[i] = dw_read_pte(r, ((p->cr3 & ~0x1fULL) + i * 8) &
                                  p->a20_mask, true);
    }
}
