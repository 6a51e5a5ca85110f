/*
 * qemu-fast direct windows: remembered jumps to another page
 *
 * After the return-address stack, most of the TB lookups
 * (helper_lookup_tb_ptr) left in an operating system's translated code
 * are direct jumps and calls to another page, which goto_tb may not
 * chain: each probes the jump cache and compares the TB it finds, two
 * cache lines the kernel's work has usually evicted.
 *
 * In seg mode such a jump goes through a small per-vCPU table beside env
 * (CPUNegativeOffsetState::dw_xlink), at an entry chosen when the jump
 * is translated.  The entry holds the jump (its "site": its TB and jump
 * slot), the address it went to last, the code of the TB found there,
 * and a generation (direct-window-xlink-core.h).  The translated code
 * compares the site and the address with one 64-bit compare and the
 * generation with the vCPU's two, and jumps to the code when all agree;
 * otherwise helper_dw_xlink looks the TB up as helper_lookup_tb_ptr
 * does, and dw_xlink_fill() remembers it.
 *
 * Why the code an entry holds is what a lookup would find:
 *
 * - the site fixes the TB's cs_base, flags and cflags, which the fill
 *   checks the TB found shares, so the lookup's key but for the address,
 *   which the entry holds: the same address under CF_PCREL, where one TB
 *   runs at every address its page is mapped at, finds the same TB;
 * - the TB found uses the site's window slot (GS is already right);
 * - the generation ends the entry when the translation of the TB's
 *   pages may have changed, or the TB may have been invalidated: the
 *   local one on every TLB, page or CR3 flush of the vCPU, the global
 *   one, for TBs on global pages, on every flush that drops global
 *   translations of those pages; both on tb_flush, and on the
 *   invalidation of a TB that an entry may lead to (marked at the fill,
 *   dw_xlink_mark_target), on every vCPU: the code of an invalidated TB
 *   lives until tb_flush, but it must not run;
 * - only the vCPU's own thread makes and uses its entries.
 *
 * The table is reached only at constant offsets from env, which
 * tests/validate/validate-out-asm accepts as any env access.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "cpu.h"
#include "qemu/log.h"
#include "exec/translation-block.h"
#include "exec/target_page.h"
#include "exec/helper-gen-common.h"
#include "accel/tcg/tb-internal.h"
#include "tcg/tcg.h"
#include "tcg/direct-window.h"
#include "tcg/direct-window-internal.h"
#include "tcg/direct-window-xlink.h"
#include "tcg/direct-window-xlink-core.h"

/* -accel tcg,fast-xlink=on|off */
static bool dw_xlink_enabled = true;

/* Offsets from env of CPUNegativeOffsetState's fields. */
#define DW_XLINK_NEG(field) \
    (offsetof(ArchCPU, parent_obj.neg.field) - offsetof(ArchCPU, env))

/* The translated code reads pc and site as one little-endian word. */
QEMU_BUILD_BUG_ON(offsetof(CPUDWXlinkEntry, site) !=
                  offsetof(CPUDWXlinkEntry, pc) + 4);
QEMU_BUILD_BUG_ON(HOST_BIG_ENDIAN);

void dw_xlink_set_enabled(bool on)
{
    qatomic_set(&dw_xlink_enabled, on);
}

bool dw_xlink_usable(void)
{
    return dw_tb_may_jump_direct() && qatomic_read(&dw_xlink_enabled);
}

/*
 * Jump slot @n of @tb, as an entry names it: never 0, so that an entry
 * never filled matches no jump.  TBs start at least 64-byte aligned
 * (tcg_tb_alloc), so the low 32 bits of their addresses differ within
 * the code buffer.
 */
static uint32_t dw_xlink_site(const TranslationBlock *tb, unsigned n)
{
    return (uint32_t)(uintptr_t)tb | n << 1 | 1;
}

static unsigned dw_xlink_index(uint32_t site)
{
    return (site * 2654435761u) >> (32 - CPU_DW_XLINK_BITS);
}

static intptr_t dw_xlink_entry_ofs(uint32_t site, size_t field)
{
    return DW_XLINK_NEG(dw_xlink) +
           dw_xlink_index(site) * sizeof(CPUDWXlinkEntry) + field;
}

void dw_xlink_gen_jump(TCGv pc, unsigned n)
{
    TranslationBlock *tb = tcg_ctx->gen_tb;
    uint32_t site = dw_xlink_site(tb, n);
    TCGLabel *hit = gen_new_label();
    TCGLabel *miss = gen_new_label();
    TCGv_i64 key = tcg_temp_new_i64();
    TCGv_i64 want = tcg_temp_new_i64();
    TCGv_i64 gen = tcg_temp_new_i64();
    TCGv_i64 cur = tcg_temp_new_i64();
    TCGv_ptr host = tcg_temp_new_ptr();

    g_assert(((uintptr_t)tb & 3) == 0 && n < 2);

    /* The address in the low half, the site in the high half. */
    tcg_gen_ld_i64(key, tcg_env,
                   dw_xlink_entry_ofs(site, offsetof(CPUDWXlinkEntry, pc)));
    tcg_gen_extu_tl_i64(want, pc);
    tcg_gen_ori_i64(want, want, (uint64_t)site << 32);
    tcg_gen_brcond_i64(TCG_COND_NE, key, want, miss);

    tcg_gen_ld_i64(gen, tcg_env,
                   dw_xlink_entry_ofs(site, offsetof(CPUDWXlinkEntry, gen)));
    tcg_gen_ld_i64(cur, tcg_env, DW_XLINK_NEG(dw_xlink_global));
    tcg_gen_brcond_i64(TCG_COND_EQ, gen, cur, hit);
    tcg_gen_ld_i64(cur, tcg_env, DW_XLINK_NEG(dw_xlink_local));
    tcg_gen_brcond_i64(TCG_COND_NE, gen, cur, miss);

    gen_set_label(hit);
    tcg_gen_ld_ptr(host, tcg_env,
                   dw_xlink_entry_ofs(site, offsetof(CPUDWXlinkEntry, host)));
    tcg_gen_goto_ptr(host);

    gen_set_label(miss);
    gen_helper_dw_xlink(host, tcg_env, tcg_constant_ptr(tb),
                        tcg_constant_i32(n));
    tcg_gen_goto_ptr(host);
}

/*
 * Mark @tb as a target of remembered jumps, unless it is invalid: under
 * its jmp_lock, as do_tb_phys_invalidate sets CF_INVALID, so that either
 * the invalidation sees the mark and makes every vCPU forget its entries,
 * or this sees CF_INVALID and no entry is made.  Once marked, a TB that
 * the lookup found valid is either still valid or its invalidation
 * bumped the generations after the caller read them.
 */
static bool dw_xlink_mark_target(TranslationBlock *tb)
{
    bool valid;

    if (qatomic_read(&tb->dw_xlink_target)) {
        return true;
    }
    qemu_spin_lock(&tb->jmp_lock);
    valid = !(tb_cflags(tb) & CF_INVALID);
    if (valid) {
        qatomic_set(&tb->dw_xlink_target, true);
    }
    qemu_spin_unlock(&tb->jmp_lock);
    return valid;
}

void dw_xlink_fill(CPUState *cpu, const TranslationBlock *from, unsigned n,
                   vaddr pc, TranslationBlock *tb, uint64_t local,
                   uint64_t global)
{
    uint32_t site = dw_xlink_site(from, n);
    CPUDWXlinkEntry *e;
    vaddr last;
    DWCpu *c;

    if (!dw_enabled || cpu->cpu_index >= dw_n_cpus ||
        qemu_loglevel_mask(CPU_LOG_TB_NOCHAIN)) {
        return;
    }
    c = &dw_cpus[cpu->cpu_index];
    qatomic_set(&c->xlink_misses, c->xlink_misses + 1);
    if (!(local & 1)) {
        /* The vCPU's first: from now on the two never meet. */
        dw_xlink_start(&cpu->neg.dw_xlink_local, &cpu->neg.dw_xlink_global);
        return;
    }
    /* What the next lookup from this jump, at this address, would find. */
    if (tb->cs_base != from->cs_base || tb->flags != from->flags ||
        tb_cflags(tb) != tb_cflags(from) ||
        tb->direct_slot != from->direct_slot || !dw_xlink_mark_target(tb)) {
        return;
    }
    e = &cpu->neg.dw_xlink[dw_xlink_index(site)];
    e->pc = (uint32_t)pc;
    e->site = site;
    e->host = tb->tc.ptr;
    if (dw_jmp_found_global(cpu, pc, tb)) {
        last = pc + MAX(tb->size, 1) - 1;
        dw_xlink_filter_add(&c->xlink_filter, pc >> TARGET_PAGE_BITS);
        dw_xlink_filter_add(&c->xlink_filter, last >> TARGET_PAGE_BITS);
        e->gen = global;
    } else {
        e->gen = local;
    }
    qatomic_set(&c->xlink_fills, c->xlink_fills + 1);
}

void dw_xlink_flush(CPUState *cpu, bool global)
{
    dw_xlink_bump(&cpu->neg.dw_xlink_local);
    if (global) {
        dw_xlink_bump(&cpu->neg.dw_xlink_global);
    }
}

void dw_xlink_flush_all(void)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        dw_xlink_flush(cpu, true);
    }
}

void dw_xlink_flush_page(CPUState *cpu, vaddr page)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];

    dw_xlink_bump(&cpu->neg.dw_xlink_local);
    if (dw_xlink_filter_flush(&c->xlink_filter, page >> TARGET_PAGE_BITS)) {
        dw_xlink_bump(&cpu->neg.dw_xlink_global);
    }
}
