/*
 * qemu-fast direct windows: layout and host mappings (QEMU-free core)
 *
 * Guest virtual memory of every (vCPU, MMU index) pair is mapped into its
 * own 4 GiB "window" of host address space; generated code reaches it with
 * one gs: addr32 access.  This file owns the arithmetic of the windows
 * (where each window and its guard lie, which window a faulting host
 * address belongs to) and the host calls that reserve, map and empty
 * them, including the unseparated layout of fast=classic and the record
 * of where a window holds pages of large guest pages.
 *
 * It knows nothing of the guest's page tables or of QEMU: the target
 * (target/i386/tcg/system/direct-window-*) decides what to map, the glue
 * (tcg/direct-window-*.c) when.  Only libc/POSIX headers are used, so
 * tests/unit builds it alone.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef DIRECT_WINDOW_CORE_H
#define DIRECT_WINDOW_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest and host page size: 4 KiB on i386 guests and x86-64 Linux hosts. */
#define DW_PAGE_BITS        12
#define DW_PAGE_SIZE        (1ULL << DW_PAGE_BITS)

/* Every window covers the whole 32-bit guest virtual space. */
#define DW_WINDOW_BITS      32
#define DW_WINDOW_SIZE      (1ULL << DW_WINDOW_BITS)

/*
 * Smallest guard we accept after each window.  An access that starts at
 * guest vaddr 0xFFFFFFFF and is N bytes wide touches window + 4 GiB + N - 1
 * (addr32 wraps the address, not the access), so the guard must be wider
 * than the widest single access (xsave areas are a few KiB).
 */
#define DW_GUARD_MIN        (64 * 1024ULL)

/*
 * Upper bound on the whole reservation.  x86-64 Linux user space is
 * 128 TiB; we refuse to take more than half of it.
 */
#define DW_MAX_RESERVE      (1ULL << 46)

/*
 * The MMU indexes a window serves are the "slots"; which index is which
 * slot is the target's (dw_mmu_idx_to_slot() below).  i386 has three:
 * kernel with SMAP, user, kernel without SMAP.
 */
#define DW_NB_SLOTS         3

/* The slot of the user MMU index. */
#define DW_USER_SLOT        1

/*
 * Windows per slot: each holds the mappings of one guest address space
 * (the root of the guest's page walk, i.e. CR3), so that switching
 * between processes, or between the two roots that page-table isolation
 * gives one process, finds the mappings of the new address space in
 * place.  Window w serves slot w % DW_NB_SLOTS.
 */
#define DW_ROOT_WINDOWS     8
#define DW_NB_WINDOWS       (DW_NB_SLOTS * DW_ROOT_WINDOWS)

/* ------------------------------------------------------------------ */
/* Layout of the reservation                                          */
/* ------------------------------------------------------------------ */

/*
 * The reservation is n_vcpus "blocks", one per vCPU; a block holds
 * DW_NB_WINDOWS windows.  Window and block strides are powers of two so
 * that going from a host address back to (vCPU, slot, vaddr) is shifts
 * and masks only.  Everything past a window's guard, up to the next
 * window, is padding: reserved but unreachable from guest code.
 */
struct dw_layout {
    unsigned n_vcpus;
    unsigned window_shift;      /* log2(window_stride) */
    unsigned block_shift;       /* log2(block_stride) */
    uint64_t guard_size;        /* page-rounded guard after each window */
    uint64_t window_stride;     /* distance between windows of a block */
    uint64_t block_stride;      /* distance between vCPU blocks */
    uint64_t total_size;        /* bytes to reserve */
};

/*
 * Compute the layout for @n_vcpus vCPUs with at least @guard_min bytes
 * of guard after each window (0 means DW_GUARD_MIN).  @host_page_size
 * must be DW_PAGE_SIZE.  Returns 0, or -EINVAL / -ENOMEM (too big).
 */
int dw_layout_init(struct dw_layout *l, unsigned n_vcpus,
                   uint64_t guard_min, size_t host_page_size);

/*
 * Provided by the target: the slot of an MMU index, or -1 if that index
 * is not served by a window; and the MMU index served by @slot.
 */
int dw_mmu_idx_to_slot(unsigned mmu_idx);
unsigned dw_slot_to_mmu_idx(unsigned slot);

/* Slot served by window @win (win < DW_NB_WINDOWS). */
unsigned dw_window_slot(unsigned win);

/* The @k-th window of @slot (k < DW_ROOT_WINDOWS). */
unsigned dw_slot_window(unsigned slot, unsigned k);

/* Host address of the block of @vcpu. */
uintptr_t dw_block_base(const struct dw_layout *l, uintptr_t base,
                        unsigned vcpu);

/* Host address of guest vaddr 0 in window (@vcpu, @win). */
uintptr_t dw_window_base(const struct dw_layout *l, uintptr_t base,
                         unsigned vcpu, unsigned win);

/* Host address of guest @vaddr in window (@vcpu, @win). */
uintptr_t dw_host_addr(const struct dw_layout *l, uintptr_t base,
                       unsigned vcpu, unsigned win, uint32_t vaddr);

/*
 * Map a (faulting) host address back to its window.  Returns true if
 * @host lies in a window or in its guard and fills @vcpu, @slot, @vaddr
 * and @in_guard; for a guard address @vaddr is the wrapped guest address
 * (host - window base - 4 GiB), which is where the access continues on
 * the guest side.  Returns false for anything else (below or above the
 * reservation, or padding), leaving the outputs untouched: such a fault
 * is not the guest's and must go to the previous handler.
 */
bool dw_classify_addr(const struct dw_layout *l, uintptr_t base,
                      uintptr_t host, unsigned *vcpu, unsigned *slot,
                      uint32_t *vaddr, bool *in_guard);

/* ------------------------------------------------------------------ */
/* Reservation and mapping primitives (mmap; return 0 or -errno)      */
/* ------------------------------------------------------------------ */

/* Reserve @size bytes PROT_NONE, MAP_NORESERVE anywhere; *out = base. */
int dw_reserve(size_t size, void **out);

/* Give the whole reservation back (teardown only). */
int dw_release(void *base, size_t size);

/*
 * Make [addr, addr + len) PROT_NONE again by mapping fresh reserved
 * memory over it.  Never munmap inside the reservation: another thread's
 * mmap could land in the hole and become reachable from guest code.
 * Fails with -ENOMEM at vm.max_map_count when it would split a mapping
 * (a hole in a run), or whenever the process is above the limit: the
 * caller must then empty the whole window (dw_reset_window()).
 */
int dw_unmap_range(void *addr, size_t len);

/*
 * The last resort of dw_reset_window() above vm.max_map_count, where no
 * mmap succeeds: munmap [addr, addr + len), then reserve it again with
 * MAP_FIXED_NOREPLACE.  -EEXIST if another thread's mmap took part of
 * the hole meanwhile: host memory now sits in a window, and the caller
 * must not run guest code again.
 */
int dw_rereserve_by_unmap(void *addr, size_t len);

/* mmap(MAP_SHARED | MAP_FIXED) @len bytes of @fd at @offset onto @addr. */
int dw_map_range(void *addr, size_t len, int prot, int fd, uint64_t offset);

/* mprotect @len bytes at @addr (e.g. downgrade to read-only). */
int dw_protect_range(void *addr, size_t len, int prot);

/* How a window maps a guest page. */
enum dw_prot {
    DW_PROT_NONE,           /* not mappable: every access takes slow path */
    DW_PROT_READ,           /* reads direct, writes fault */
    DW_PROT_RW,             /* reads and writes direct */
};

/* PROT_* flags for mmap/mprotect. */
int dw_prot_to_mmap(enum dw_prot prot);

/* @n_pages pages from @vaddr mapped by one mmap of @fd at @offset. */
struct dw_run {
    uint32_t vaddr;
    uint32_t n_pages;
    int fd;
    uint64_t offset;
    enum dw_prot prot;
};

/*
 * Map @run in window (@vcpu, @slot).  Refuses (-EINVAL) anything that
 * would reach past the 4 GiB window into the guard.
 */
int dw_map_run(const struct dw_layout *l, uintptr_t base, unsigned vcpu,
               unsigned slot, const struct dw_run *run);

/*
 * Remap the whole window (@vcpu, @slot) PROT_NONE.  0, or 1 when the
 * process was above vm.max_map_count and dw_rereserve_by_unmap() did
 * it, or -errno.
 */
int dw_reset_window(const struct dw_layout *l, uintptr_t base,
                    unsigned vcpu, unsigned slot);

/* ------------------------------------------------------------------ */
/* Classic layout: one unseparated window at host address 0           */
/* ------------------------------------------------------------------ */

/*
 * fast=classic, the benchmark baseline, works as qemu-fast did in 2004:
 * guest virtual address == host virtual address, no segment base, one
 * window for every MMU index.  Host pages below vm.mmap_min_addr cannot
 * be mapped, so guest pages there always take the slow path.
 */

/* vm.mmap_min_addr when /proc cannot tell (the usual Linux default). */
#define DW_DEFAULT_MMAP_MIN_ADDR    65536

/* vm.mmap_min_addr from @path, rounded up to a page. */
uint64_t dw_classic_min_addr_from(const char *path);

/*
 * Reserve host [@min_addr, 4 GiB + @guard) PROT_NONE exactly there.
 * Returns 0, -EEXIST when something is already mapped in that range, or
 * another -errno.
 */
int dw_classic_reserve(uint64_t min_addr, uint64_t guard, void **out);

/*
 * Does the faulting host address @host belong to the classic window (or
 * its guard)?  Fills @vaddr (wrapped for the guard) and @in_guard.
 */
bool dw_classic_classify(uintptr_t host, uint64_t guard, uint32_t *vaddr,
                         bool *in_guard);

/* Remap the classic window [@min_addr, 4 GiB) PROT_NONE, as above. */
int dw_classic_reset(uint64_t min_addr);

/* ------------------------------------------------------------------ */
/* Large pages in a window                                            */
/* ------------------------------------------------------------------ */

/*
 * Large pages in a window.  INVLPG of any address inside a large page
 * drops that page's whole translation, so a window must know where it
 * holds pages that came from one: a bit per 4 MiB block of the guest
 * space (the largest i386 page; a 2 MiB PAE page lies inside one).
 */
#define DW_LARGE_BLOCK_PAGES_BITS   10      /* 4 MiB in guest pages */
#define DW_LARGE_BLOCKS     (1u << (DW_WINDOW_BITS - DW_PAGE_BITS - \
                                    DW_LARGE_BLOCK_PAGES_BITS))
#define DW_LARGE_WORDS      (DW_LARGE_BLOCKS / 64)

struct dw_large {
    uint64_t bits[DW_LARGE_WORDS];
};

/* Nothing of a large page is mapped. */
void dw_large_clear_all(struct dw_large *lg);

/* Guest page @page was mapped from a large page. */
void dw_large_note(struct dw_large *lg, uint32_t page);

/*
 * Widen the flush of guest pages [*first, *last] to the whole 4 MiB
 * blocks at either end that hold pages of a large page, and forget the
 * blocks the widened range covers.  Returns true when it widened.
 */
bool dw_large_widen(struct dw_large *lg, uint32_t *first, uint32_t *last);

#endif /* DIRECT_WINDOW_CORE_H */
