/*
 * qemu-fast direct windows: a return-address stack for translated code
 *
 * Almost every return of an operating system's code looks its next TB up
 * (helper_lookup_tb_ptr): the state is gathered, the jump cache probed,
 * the TB's fields compared, two cache lines that the kernel's work has
 * usually evicted.  A return nearly always goes to the instruction after
 * the call that made it, so, as a processor's return stack buffer:
 *
 * - a call pushes, on a small per-vCPU ring in env
 *   (CPUNegativeOffsetState::dw_ras), its return address, its TB's
 *   cs_base and flags, its TB, and what its TB's jump slot 1, the
 *   "return slot" that a call leaves unused, holds: the code of the TB
 *   linked there, or 0;
 * - a return pops the top entry; when the entry holds the address the
 *   return goes to and the return's TB has the same cs_base and flags, it
 *   jumps to that code;
 * - an empty return slot is filled by helper_dw_ras_link, which looks the
 *   TB up and links it with tb_add_jump, so that TB invalidation unlinks
 *   it as any chained jump.
 *
 * Why the code an entry holds is the one a lookup would find:
 *
 * - the return address lies on the page where the calling TB starts (as
 *   for goto_tb), so it translates wherever the calling TB runs;
 * - the entry's generation must equal dw_ras_gen, which every change of
 *   the vCPU's translations bumps (dw_ras_flush: a TLB flush, a page
 *   flush, a CR3 write, tb_flush), so the page still maps as it did at
 *   the call; and every TB invalidation bumps every vCPU's
 *   (dw_ras_flush_all), so the code is not stale;
 * - equal flags mean an equal state for the lookup, and the same MMU
 *   index, so the same window slot and the GS base the return's TB runs
 *   with; a return whose TB has TF, RF or an interrupt shadow set does
 *   not predict (gen_eob changes those);
 * - the TB linked in the slot was looked up under the same flags, as the
 *   first return through the slot had them.
 *
 * A misprediction (a longjmp, a context switch between stacks, a return
 * address rewritten, the ring wrapped) only costs the usual lookup.
 *
 * The translated code reaches the ring through env plus a masked offset,
 * and reads its own TB's return slot; tests/validate/validate-out-asm
 * knows both forms.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "cpu.h"
#include "exec/translation-block.h"
#include "qemu/atomic128.h"
#include "exec/helper-gen-common.h"
#include "tcg/tcg.h"
#include "tcg/direct-window.h"
#include "tcg/direct-window-internal.h"
#include "tcg/direct-window-ras.h"

/* -accel tcg,fast-ras=on|off */
static bool dw_ras_enabled = true;

/* Offsets from env of CPUNegativeOffsetState's fields. */
#define DW_RAS_NEG(field) \
    (offsetof(ArchCPU, parent_obj.neg.field) - offsetof(ArchCPU, env))
#define DW_RAS_ENTRY(field) \
    (DW_RAS_NEG(dw_ras) + offsetof(CPUDWRasEntry, field))

QEMU_BUILD_BUG_ON(sizeof(CPUDWRasEntry) != 32);
QEMU_BUILD_BUG_ON(CPU_DW_RAS_ENTRIES & (CPU_DW_RAS_ENTRIES - 1));

void dw_ras_set_enabled(bool on)
{
    qatomic_set(&dw_ras_enabled, on);
}

bool dw_ras_usable(void)
{
    return dw_tb_may_jump_direct() && qatomic_read(&dw_ras_enabled);
}

void dw_ras_flush(CPUState *cpu)
{
    qatomic_inc(&cpu->neg.dw_ras_gen);
}

void dw_ras_flush_all(void)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        dw_ras_flush(cpu);
    }
}

/* env plus the byte offset of entry @top (modulo the ring's size). */
static TCGv_ptr dw_ras_gen_entry(TCGv_i32 top)
{
    TCGv_i32 off = tcg_temp_new_i32();
    TCGv_ptr e = tcg_temp_new_ptr();

    /*
     * The mask last, so that the host code bounds the offset with one
     * "and" whatever it made of the shift (the validator relies on it).
     */
    tcg_gen_shli_i32(off, top, 5);
    tcg_gen_andi_i32(off, off, (CPU_DW_RAS_ENTRIES - 1) << 5);
    tcg_gen_ext_i32_ptr(e, off);
    tcg_gen_add_ptr(e, e, tcg_env);
    return e;
}

void dw_ras_gen_push(TCGv ret_pc, uint64_t cs_base, uint32_t flags)
{
    TranslationBlock *tb = tcg_ctx->gen_tb;
    TCGv_i32 top = tcg_temp_new_i32();
    TCGv_i32 v32 = tcg_temp_new_i32();
    TCGv_ptr self = tcg_temp_new_ptr();
    TCGv_ptr host = tcg_temp_new_ptr();
    TCGv_ptr e;

    tcg_gen_ld_i32(top, tcg_env, DW_RAS_NEG(dw_ras_top));
    e = dw_ras_gen_entry(top);
    tcg_gen_trunc_tl_i32(v32, ret_pc);
    tcg_gen_st_i32(v32, e, DW_RAS_ENTRY(pc));
    tcg_gen_st_i32(tcg_constant_i32(cs_base), e, DW_RAS_ENTRY(cs_base));
    tcg_gen_st_i32(tcg_constant_i32(flags), e, DW_RAS_ENTRY(flags));
    tcg_gen_ld_i32(v32, tcg_env, DW_RAS_NEG(dw_ras_gen));
    tcg_gen_st_i32(v32, e, DW_RAS_ENTRY(gen));
    /* This TB's return slot as it is now: the TB it links to, or 0. */
    tcg_gen_movi_ptr(self, (intptr_t)tb);
    tcg_gen_st_ptr(self, e, DW_RAS_ENTRY(tb));
    tcg_gen_ld_ptr(host, self, offsetof(TranslationBlock, jmp_target_addr) +
                   sizeof(uintptr_t));
    tcg_gen_st_ptr(host, e, DW_RAS_ENTRY(host));
    tcg_gen_addi_i32(top, top, 1);
    tcg_gen_st_i32(top, tcg_env, DW_RAS_NEG(dw_ras_top));
}

void dw_ras_gen_return(TCGv pc, uint64_t cs_base, uint32_t flags)
{
    TCGLabel *miss = gen_new_label();
    TCGLabel *link = gen_new_label();
    TCGv_i32 top = tcg_temp_new_i32();
    TCGv_i32 v32 = tcg_temp_new_i32();
    TCGv_i32 want = tcg_temp_new_i32();
    TCGv_ptr host = tcg_temp_new_ptr();
    TCGv_ptr e;

    tcg_gen_ld_i32(top, tcg_env, DW_RAS_NEG(dw_ras_top));
    tcg_gen_subi_i32(top, top, 1);
    tcg_gen_st_i32(top, tcg_env, DW_RAS_NEG(dw_ras_top));
    e = dw_ras_gen_entry(top);

    tcg_gen_trunc_tl_i32(want, pc);
    tcg_gen_ld_i32(v32, e, DW_RAS_ENTRY(pc));
    tcg_gen_brcond_i32(TCG_COND_NE, v32, want, miss);
    tcg_gen_ld_i32(v32, e, DW_RAS_ENTRY(flags));
    tcg_gen_brcondi_i32(TCG_COND_NE, v32, flags, miss);
    tcg_gen_ld_i32(v32, e, DW_RAS_ENTRY(cs_base));
    tcg_gen_brcondi_i32(TCG_COND_NE, v32, (uint32_t)cs_base, miss);
    tcg_gen_ld_i32(v32, e, DW_RAS_ENTRY(gen));
    tcg_gen_ld_i32(want, tcg_env, DW_RAS_NEG(dw_ras_gen));
    tcg_gen_brcond_i32(TCG_COND_NE, v32, want, miss);

    tcg_gen_ld_ptr(host, e, DW_RAS_ENTRY(host));
    tcg_gen_brcondi_ptr(TCG_COND_EQ, host, 0, link);
    tcg_gen_goto_ptr(host);

    /* The calling TB's return slot was empty at the call: fill it. */
    gen_set_label(link);
    gen_helper_dw_ras_link(host, tcg_env);
    tcg_gen_goto_ptr(host);

    gen_set_label(miss);
}
