/*
 * qemu-fast direct windows: jump-cache entries that outlive a CR3 write
 *
 * Upstream empties a vCPU's jump cache (virtual PC -> TB) with its TLB
 * on every CR3 write, so after a context switch, and with page-table
 * isolation after every system call, each indirect jump looks its TB up
 * in the global hash table again; emptying the 4096 entries alone is a
 * good part of a system call's cost there.
 *
 * The architecture lets a CPU keep the translations of global pages
 * (PTE.G with CR4.PGE) across a CR3 write: to change one, the guest must
 * INVLPG the page or toggle CR4.PGE, and both still empty the entry
 * (tb_flush_jmp_cache, a full flush).  So an entry whose code the guest
 * maps with global pages, as Linux maps its kernel text, is kept, and a
 * CR3 write empties only the entries made since the last flush that are
 * not global.  Whether an entry is global is decided when it is made,
 * under the translation that the lookup making it used.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "hw/core/cpu.h"
#include "exec/translation-block.h"
#include "exec/target_page.h"
#include "exec/tb-flush.h"
#include "accel/tcg/tb-jmp-cache.h"
#include "accel/tcg/tb-internal.h"
#include "accel/tcg/tb-hash.h"
#include "tcg/tcg.h"
#include "tcg/direct-window-internal.h"

/*
 * Is code page @page, which the current translation maps to @phys,
 * global?  A walk costs more than the jump-cache miss it follows, and
 * some paths miss at every system call (two TBs at one PC), so answers
 * are kept per page.  A CR3 write keeps them: a global translation
 * outlives it, and a page now mapped elsewhere has another @phys.  Any
 * other TLB flush forgets those of the pages it flushes.
 */
static bool dw_jmp_page_global(CPUState *cpu, DWCpu *c, vaddr page,
                               tb_page_addr_t phys)
{
    unsigned i = (page >> TARGET_PAGE_BITS) % DW_JMP_PAGES;
    uint32_t gen = qatomic_read(&c->jmp_page_gen);

    if (c->jmp_page[i].gen != gen || c->jmp_page[i].page != page ||
        c->jmp_page[i].phys != phys) {
        c->jmp_page[i].page = page;
        c->jmp_page[i].phys = phys;
        c->jmp_page[i].global = dw_code_is_global(cpu, page);
        qatomic_inc(&dw_stats.jmp_walks);
        c->jmp_page[i].gen = gen;
    }
    return c->jmp_page[i].global;
}

void dw_jmp_forget_pages(CPUState *cpu, vaddr addr, vaddr len)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    vaddr first = addr & TARGET_PAGE_MASK;
    vaddr n = ((addr + len - 1) >> TARGET_PAGE_BITS) -
              (addr >> TARGET_PAGE_BITS) + 1;

    if (len == 0 || n >= DW_JMP_PAGES) {
        qatomic_inc(&c->jmp_page_gen);
        return;
    }
    for (vaddr k = 0; k < n; k++) {
        vaddr page = first + (k << TARGET_PAGE_BITS);
        unsigned i = (page >> TARGET_PAGE_BITS) % DW_JMP_PAGES;

        if (c->jmp_page[i].page == page) {
            c->jmp_page[i].gen = qatomic_read(&c->jmp_page_gen) - 1;
        }
    }
}

bool dw_jmp_tb_global(CPUState *cpu, DWCpu *c, vaddr pc,
                      const TranslationBlock *tb)
{
    vaddr last = pc + MAX(tb->size, 1) - 1;

    if (tb_page_addr0(tb) == -1 ||
        !dw_jmp_page_global(cpu, c, pc & TARGET_PAGE_MASK,
                            tb_page_addr0(tb) & TARGET_PAGE_MASK)) {
        return false;
    }
    if (!((pc ^ last) & TARGET_PAGE_MASK)) {
        return true;
    }
    return tb_page_addr1(tb) != -1 &&
           dw_jmp_page_global(cpu, c, last & TARGET_PAGE_MASK,
                              tb_page_addr1(tb) & TARGET_PAGE_MASK);
}

bool dw_tb_may_jump_direct(void)
{
    uint32_t cflags = tcg_ctx->gen_tb->cflags;

    /* The return stack's and the jump table's entries hold 32-bit PCs. */
    if (TARGET_LONG_BITS != 32) {
        return false;
    }
    return dw_enabled && !dw_classic &&
           !(cflags & (CF_NO_GOTO_TB | CF_NO_GOTO_PTR | CF_SINGLE_STEP |
                       CF_USE_ICOUNT));
}

bool dw_jmp_found_global(CPUState *cpu, vaddr pc, const TranslationBlock *tb)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    CPUJumpCache *jc = cpu->tb_jmp_cache;
    unsigned h = tb_jmp_cache_hash_func(pc);

    /* The lookup that found @tb left its entry, which says it all. */
    if (c->jmp_global && qatomic_read(&jc->array[h].tb) == tb &&
        jc->array[h].pc == pc) {
        return test_bit(h, c->jmp_global);
    }
    return dw_jmp_tb_global(cpu, c, pc, tb);
}

void dw_jmp_cache_set(CPUState *cpu, uint32_t hash, vaddr pc,
                      const TranslationBlock *tb)
{
    DWCpu *c;

    if (!dw_enabled) {
        return;
    }
    c = &dw_cpus[cpu->cpu_index];
    if (!c->jmp_global) {
        c->jmp_global = bitmap_new(TB_JMP_CACHE_SIZE);
    }
    if (dw_jmp_tb_global(cpu, c, pc, tb)) {
        set_bit(hash, c->jmp_global);
        return;
    }
    clear_bit(hash, c->jmp_global);
    /* Past the list's end, the next CR3 write looks at every entry. */
    if (c->n_jmp_fresh < DW_JMP_FRESH_MAX) {
        c->jmp_fresh[c->n_jmp_fresh] = hash;
    }
    if (c->n_jmp_fresh <= DW_JMP_FRESH_MAX) {
        c->n_jmp_fresh++;
    }
}

/* A CR3 write: empty every entry that is not global. */
static void dw_jmp_flush_fresh(CPUState *cpu, DWCpu *c)
{
    CPUJumpCache *jc = cpu->tb_jmp_cache;

    if (c->n_jmp_fresh <= DW_JMP_FRESH_MAX) {
        for (unsigned k = 0; k < c->n_jmp_fresh; k++) {
            unsigned i = c->jmp_fresh[k];

            if (!test_bit(i, c->jmp_global)) {
                qatomic_set(&jc->array[i].tb, NULL);
            }
        }
    } else {
        for (unsigned i = 0; i < TB_JMP_CACHE_SIZE; i++) {
            if (!test_bit(i, c->jmp_global)) {
                qatomic_set(&jc->array[i].tb, NULL);
            }
        }
    }
    c->n_jmp_fresh = 0;
    dw_jmp_l2_new_space(c);
    dw_ras_flush(cpu);
    dw_xlink_flush(cpu, false);
    qatomic_inc(&dw_stats.jmp_kept_flushes);
}

void dw_flush_jmp_cache(CPUState *cpu)
{
    DWCpu *c;

    if (!dw_enabled || !cpu->tb_jmp_cache) {
        tcg_flush_jmp_cache(cpu);
        return;
    }
    c = &dw_cpus[cpu->cpu_index];
    /*
     * The fresh list holds every non-global entry only if each was made
     * after a full flush of ours; until then, flush it all.
     */
    if (c->in_cr3_write && c->jmp_tracked && c->jmp_global) {
        dw_jmp_flush_fresh(cpu, c);
        return;
    }
    dw_jmp_forget_pages(cpu, 0, 0);
    tcg_flush_jmp_cache(cpu);
    c->n_jmp_fresh = 0;
    c->jmp_tracked = true;
}
