/*
 * qemu-fast: guest memory in GS-based host windows (QEMU glue)
 *
 * In the fast mode ("-accel tcg,fast=seg") every guest load and store of
 * a "direct" translation block is one host instruction, gs: addr32, into
 * the 4 GiB window of the block's MMU index.  These are the entry points
 * that upstream files call; see tcg/direct-window.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TCG_DIRECT_WINDOW_H
#define TCG_DIRECT_WINDOW_H

#include "exec/vaddr.h"
#include "hw/core/cpu.h"
#include "tcg/direct-window-young.h"

typedef enum TCGFastMode {
    TCG_FAST_OFF,           /* upstream softmmu, untouched */
    TCG_FAST_SEG,           /* GS-based windows (the default) */
    TCG_FAST_AUTO,          /* seg where possible, else off */
    TCG_FAST_CLASSIC,       /* one unseparated window at host address 0 */
} TCGFastMode;

/* Compile flag: translate without direct accesses (the softmmu path). */
#define CF_NO_DIRECT     0x00080000

/* True once the windows are reserved and the fault handler installed. */
extern bool dw_enabled;

/* The mode without -accel tcg,fast=: seg where the host has what it needs. */
TCGFastMode dw_default_mode(void);

/*
 * Parse and print the accelerator property value.
 * Returns false (and sets @errp) for an unknown value.
 */
bool dw_parse_mode(const char *str, TCGFastMode *mode, Error **errp);
const char *dw_mode_name(TCGFastMode mode);

/*
 * Reserve the windows of @max_cpus vCPUs and install the fault handler.
 * With TCG_FAST_AUTO a failure turns the mode off with one warning.
 * Returns false with @errp set when the mode cannot be honoured.
 */
bool dw_setup(TCGFastMode mode, unsigned max_cpus, Error **errp);

/*
 * A descriptor that yields the signals of @mask in signalfd records,
 * taken by a thread in sigwaitinfo(): unlike a polled signalfd, it is not
 * woken by the SIGSEGV of every window miss.  -1 with errno set on failure.
 */
int dw_signal_pipe(const sigset_t *mask);

/*
 * MMU index whose window a new TB for @cpu at guest-physical @phys_pc
 * uses, or -1 if the TB must not use direct accesses (CF_NO_DIRECT, or
 * a TB that kept leaving the direct path).  Called in tb_gen_code for
 * the CPU state the TB is generated for.
 */
int dw_tb_mmu_idx(CPUState *cpu, uint32_t cflags, uint64_t phys_pc);

/*
 * Per vCPU: is the address space whose user code @cpu runs now too new
 * for direct accesses (tcg/direct-window-young.h)?  Only the vCPU's
 * thread.
 */
extern bool *dw_young_user;

/*
 * How long the user code of a new address space stays on the softmmu
 * (-accel tcg,fast-young-ms=; 0: never), before the vCPUs run.
 */
void dw_set_young_ms(uint32_t ms);

/*
 * Provided by the target: TB flags @flags are user code's when (@flags &
 * dw_user_tb_flags_mask) == dw_user_tb_flags (i386: CPL 3).
 */
extern const uint32_t dw_user_tb_flags_mask;
extern const uint32_t dw_user_tb_flags;

/*
 * Compile flags a TB looked up for @cpu with TB flags @flags must also
 * have: CF_NO_DIRECT for the user code of a young address space.
 */
static inline uint32_t dw_lookup_cflags(CPUState *cpu, uint32_t flags)
{
    if (likely(!dw_enabled) || likely(!dw_young_user[cpu->cpu_index]) ||
        (flags & dw_user_tb_flags_mask) != dw_user_tb_flags) {
        return 0;
    }
    return CF_NO_DIRECT;
}

/*
 * Does a new TB at guest-physical @phys_pc, direct for @direct_mmu_idx,
 * leave for its non-direct twin when it starts while the current
 * address space is young (CPUNegativeOffsetState::dw_young_guard)?
 * Kernel code that reached a young space's user pages does.
 */
bool dw_tb_young_guard(uint64_t phys_pc, int direct_mmu_idx);

/* Window slot + 1 of a TB made for @mmu_idx, 0 for none. */
uint8_t dw_tb_slot(int mmu_idx);

/*
 * Window slot + 1 whose base GS holds while a TB made for @cpu runs,
 * given the TB's @direct_mmu_idx from dw_tb_mmu_idx: a TB without
 * direct accesses gets its MMU index's window too, 0 when that index
 * has none.
 */
uint8_t dw_tb_gs_slot(CPUState *cpu, int direct_mmu_idx);

/*
 * The counter (an index in CPUNegativeOffsetState::dw_exec_count) that a
 * new TB at guest-physical @phys_pc, direct for @direct_mmu_idx, adds
 * its executions to, or -1: user code whose fills die young is counted
 * before it is sent to the softmmu path.
 */
int dw_tb_exec_counter(uint64_t phys_pc, int direct_mmu_idx);

/*
 * fast=classic: direct accesses use guest virtual addresses as host
 * addresses, with addr32 but no segment prefix.
 */
bool dw_unseparated(void);

/*
 * Load GS for a TB with window slot + 1 @slot1 (0: leave GS alone); in
 * fast=classic, empty the window when @slot1 is another MMU index.
 * dw_gs_slot1 is the slot + 1 whose current window this thread's GS
 * holds, 0 when unknown: TBs are entered some twenty times per system
 * call, nearly always with GS already right, and that test needs no
 * call.
 */
extern __thread uint8_t dw_gs_slot1;
void dw_enter_tb_slow(CPUState *cpu, uint8_t slot1);

static inline void dw_enter_tb(CPUState *cpu, uint8_t slot1)
{
    if (slot1 != dw_gs_slot1) {
        dw_enter_tb_slow(cpu, slot1);
    }
}

/*
 * The return-address stack (direct-window-ras.c): -accel tcg,fast-ras;
 * forget every entry of @cpu's, as its translations may have changed.
 */
void dw_ras_set_enabled(bool on);
void dw_ras_flush(CPUState *cpu);
/* Every vCPU's, for a TB invalidation: an entry may hold the TB's code. */
void dw_ras_flush_all(void);

/*
 * Remembered cross-page jumps (direct-window-xlink.c): -accel
 * tcg,fast-xlink; and, from helper_dw_xlink, remember that jump slot @n
 * of @from went to @pc, where the lookup found @tb, under the
 * generations @local and @global read before the lookup.
 */
void dw_xlink_set_enabled(bool on);
void dw_xlink_fill(CPUState *cpu, const TranslationBlock *from, unsigned n,
                   vaddr pc, TranslationBlock *tb, uint64_t local,
                   uint64_t global);
/*
 * Every vCPU forgets every cross-page jump it remembered: a TB that one
 * led to (TranslationBlock::dw_xlink_target) is invalidated.
 */
void dw_xlink_flush_all(void);

/* Save the thread's GS base on entry to cpu_exec, restore it on exit. */
void dw_cpu_exec_enter(CPUState *cpu);
void dw_cpu_exec_exit(CPUState *cpu);

/* TLB invalidation reaching the windows.  Called with the TLB lock held. */
void dw_flush_mmuidx(CPUState *cpu, int mmu_idx);
void dw_flush_range(CPUState *cpu, int mmu_idx, vaddr addr, vaddr len);

/*
 * tlb_flush() for a CR3 write: instead of emptying the windows, make the
 * windows of the new address space current (target/i386).
 */
void dw_tlb_flush_cr3(CPUState *cpu);

/*
 * The jump cache across CR3 writes (tcg/direct-window-jmp.c): note the
 * entry @hash just made for @tb at @pc, and empty the jump cache for a
 * TLB flush, keeping during a CR3 write's the entries whose code the
 * guest maps with global pages.
 */
void dw_jmp_cache_set(CPUState *cpu, uint32_t hash, vaddr pc,
                      const TranslationBlock *tb);
void dw_flush_jmp_cache(CPUState *cpu);

/*
 * The second-level jump cache (tcg/direct-window-jmp-l2.c), called only
 * when dw_enabled: the TB a jump-cache miss at @pc finds there (NULL:
 * look in the hash table), the TB the hash table gave (NULL: none); and
 * what empties entries: every jump-cache flush, and one page's.
 */
TranslationBlock *dw_jmp_l2_find(CPUState *cpu, vaddr pc, uint64_t cs_base,
                                 uint32_t flags, uint32_t cflags);
void dw_jmp_l2_set(CPUState *cpu, vaddr pc, TranslationBlock *tb);
void dw_jmp_l2_flush(CPUState *cpu);
void dw_jmp_l2_clear_page(CPUState *cpu, vaddr page);

/*
 * tlb_flush() for a CR0 or CR4 write that changes bits the TLB depends
 * on: the windows are emptied only when the change requires it.
 */
void dw_tlb_flush_cr0(CPUState *cpu, uint64_t old_cr0, uint64_t new_cr0);
void dw_tlb_flush_cr4(CPUState *cpu, uint64_t old_cr4, uint64_t new_cr4);

/*
 * Stores to guest page tables (tcg/direct-window-track.c).  Must a
 * softmmu TLB entry of @mmu_idx for RAM page @ram_addr send stores
 * through the notdirty path?  And the store hooks: of that path, called
 * before the store (dw_ram_will_write: the old entries are still there
 * to compare), and of DMA, called after it (dw_ram_written): true when
 * [ram_addr, ram_addr + len) holds a tracked table.
 * dw_window_idxmap() is the MMU indexes whose entries must keep
 * TLB_NOTDIRTY for such a page.
 */
bool dw_tlb_store_tracked(int mmu_idx, uint64_t ram_addr);
bool dw_ram_written(uint64_t ram_addr, uint64_t len);
bool dw_ram_will_write(uint64_t ram_addr, uint64_t len);
uint16_t dw_window_idxmap(void);

/*
 * The RAM at host addresses [start, start + len) became clean for some
 * dirty-log client: writable mappings of it go read-only.
 */
void dw_reset_dirty(CPUState *cpu, uintptr_t start, uint64_t len);

/* One-paragraph summary of the counters, for "info fast" and -d fast. */
void dw_format_stats(GString *buf);
/*
 * The same counters as a struct for a QOM property getter
 * ("qom-get /machine/accel fast-counters"), so that tools read numbers,
 * not the text of "info fast".
 */
void dw_visit_stats(Visitor *v, const char *name, Error **errp);

#endif /* TCG_DIRECT_WINDOW_H */
