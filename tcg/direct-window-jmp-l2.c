/*
 * qemu-fast direct windows: a second-level jump cache
 *
 * The jump cache (virtual PC -> TB) has 4096 entries, 64 for each page
 * group, so a kernel's system-call paths, a shell and its libraries
 * evict each other, and each miss is a lookup in the global TB hash
 * table: the bucket's cache lines, a seqlock, a comparison per chained
 * TB.  Upstream's cache cannot simply grow: emptying it is part of every
 * TLB flush, and its size is a compile-time constant that fast=off shares.
 * In fast mode a miss first looks in a vCPU's second-level cache of
 * DW_JMP_L2_SIZE entries, which nothing empties by walking it:
 *
 * - a full jump-cache flush (a TLB flush, tb_flush, a CF_PCREL TB
 *   invalidation) bumps the vCPU's generation, which every entry must
 *   carry to be good;
 * - a CR3 write that keeps the global TBs (direct-window-jmp.c) bumps the
 *   address-space generation, which an entry made for a non-global page
 *   must carry too, while an entry of a global page carries 0;
 * - a page flush bumps the page's generation, which the entries of its
 *   PCs must carry too (DW_JMP_L2_PAGE_GENS counters, shared by pages
 *   that far apart), where upstream empties the page's group of entries
 *   (tb_jmp_cache_clear_page);
 * - an invalidated TB never matches: its cflags have CF_INVALID, which
 *   the lookup's cflags never have, and its memory lives until tb_flush.
 *
 * Each of these empties the return-address stack too (direct-window-ras.c),
 * and forgets remembered cross-page jumps (direct-window-xlink.c).
 *
 * Only the vCPU's own thread makes and reads entries; other threads only
 * bump the generation.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/core/cpu.h"
#include "exec/translation-block.h"
#include "exec/target_page.h"
#include "accel/tcg/tb-internal.h"
#include "tcg/direct-window-internal.h"

/* Entries, indexed by a hash of the whole PC. */
#define DW_JMP_L2_BITS      16
#define DW_JMP_L2_SIZE      (1u << DW_JMP_L2_BITS)

/* Page generations, indexed by the low bits of the page number. */
#define DW_JMP_L2_PAGE_GENS 4096

static unsigned dw_jmp_l2_hash(vaddr pc)
{
    uint64_t h = (uint64_t)pc * 0x9e3779b97f4a7c15ull;

    return h >> (64 - DW_JMP_L2_BITS);
}

static uint32_t *dw_jmp_l2_page_gen(const DWCpu *c, vaddr pc)
{
    return &c->jmp_l2_page_gen[(pc >> TARGET_PAGE_BITS) %
                               DW_JMP_L2_PAGE_GENS];
}

static bool dw_jmp_l2_good(const DWCpu *c, const DWJmpL2Entry *e, vaddr pc,
                           uint64_t cs_base, uint32_t flags, uint32_t cflags)
{
    const TranslationBlock *tb = e->tb;

    return tb && e->pc == pc && e->gen == qatomic_read(&c->jmp_l2_gen) &&
           (e->space_gen == 0 || e->space_gen == c->jmp_l2_space_gen) &&
           e->page_gen == *dw_jmp_l2_page_gen(c, pc) &&
           tb->cs_base == cs_base && tb->flags == flags &&
           tb_cflags(tb) == cflags;
}

/* @c's cache, made on first use. */
static DWJmpL2Entry *dw_jmp_l2_of(DWCpu *c)
{
    if (!c->jmp_l2) {
        c->jmp_l2 = g_new0(DWJmpL2Entry, DW_JMP_L2_SIZE);
        c->jmp_l2_page_gen = g_new0(uint32_t, DW_JMP_L2_PAGE_GENS);
        c->jmp_l2_space_gen = 1;
    }
    return c->jmp_l2;
}

/* The caller (tb_htable_lookup) has checked dw_enabled, as for _set. */
TranslationBlock *dw_jmp_l2_find(CPUState *cpu, vaddr pc, uint64_t cs_base,
                                 uint32_t flags, uint32_t cflags)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    DWJmpL2Entry *e = &dw_jmp_l2_of(c)[dw_jmp_l2_hash(pc)];

    if (!dw_jmp_l2_good(c, e, pc, cs_base, flags, cflags)) {
        return NULL;
    }
    /*
     * The vCPU's own count, not a shared atomic: a million hits a second
     * in a pipe ping-pong, and with SMP the counter's line would bounce.
     */
    qatomic_set(&c->jmp_l2_hits, c->jmp_l2_hits + 1);
    return e->tb;
}

void dw_jmp_l2_set(CPUState *cpu, vaddr pc, TranslationBlock *tb)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    DWJmpL2Entry *e;

    if (!tb) {
        return;
    }
    e = &dw_jmp_l2_of(c)[dw_jmp_l2_hash(pc)];
    e->pc = pc;
    e->tb = tb;
    e->gen = qatomic_read(&c->jmp_l2_gen);
    e->page_gen = *dw_jmp_l2_page_gen(c, pc);
    e->space_gen = dw_jmp_tb_global(cpu, c, pc, tb) ?
                   0 : c->jmp_l2_space_gen;
}

void dw_jmp_l2_flush(CPUState *cpu)
{
    if (dw_enabled && cpu->cpu_index < dw_n_cpus) {
        qatomic_inc(&dw_cpus[cpu->cpu_index].jmp_l2_gen);
        dw_ras_flush(cpu);
        dw_xlink_flush(cpu, true);
    }
}

void dw_jmp_l2_new_space(DWCpu *c)
{
    /* 0 marks the entries of global pages */
    if (++c->jmp_l2_space_gen == 0) {
        c->jmp_l2_space_gen = 1;
        qatomic_inc(&c->jmp_l2_gen);
    }
}

void dw_jmp_l2_clear_page(CPUState *cpu, vaddr page)
{
    DWCpu *c;

    if (!dw_enabled || cpu->cpu_index >= dw_n_cpus) {
        return;
    }
    dw_ras_flush(cpu);
    dw_xlink_flush_page(cpu, page);
    c = &dw_cpus[cpu->cpu_index];
    if (c->jmp_l2) {
        /* and the pages that share its generation */
        (*dw_jmp_l2_page_gen(c, page))++;
    }
}
