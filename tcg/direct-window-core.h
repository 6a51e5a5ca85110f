/*
 * qemu-fast direct windows: QEMU-independent bookkeeping core
 *
 * Guest virtual memory of every (vCPU, MMU index) pair is mapped into its
 * own 4 GiB "window" of host address space; generated code reaches it with
 * one gs: addr32 access.  This file holds everything about those windows
 * that does not need QEMU: layout arithmetic, reservation and unmapping,
 * accounting of host mappings against vm.max_map_count, batching of
 * neighbouring guest PTEs into one mmap each, and the protection decision.
 * A thin glue file in QEMU feeds it decoded page-table entries and memory
 * region facts.
 *
 * Only libc/POSIX headers are used, so unit tests build without QEMU.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef DIRECT_WINDOW_CORE_H
#define DIRECT_WINDOW_CORE_H

#include <stdatomic.h>
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

/* MMU indexes used by i386 32-bit system code: the "slots". */
#define DW_NB_SLOTS         3

/* The slot of the user MMU index. */
#define DW_USER_SLOT        1

/*
 * Windows per vCPU: one for each kernel slot, and DW_USER_WINDOWS for
 * the user slot, each holding one address space (CR3), so that switching
 * between processes does not empty and refill one window.  Window w
 * serves slot w for w < DW_NB_SLOTS; windows past those are user ones.
 */
#define DW_USER_WINDOWS     6
#define DW_NB_WINDOWS       (DW_NB_SLOTS - 1 + DW_USER_WINDOWS)

/* MMU indexes are small; a table covers every index QEMU i386 defines. */
#define DW_NB_MMU_IDX       8

/* vm.max_map_count when /proc cannot tell (the Linux default). */
#define DW_DEFAULT_MAX_MAP_COUNT    65530

/*
 * Mappings kept back for QEMU itself: shared libraries, thread stacks,
 * RAM blocks, the code buffer, glib and SDL all need VMAs too.
 */
#define DW_MAP_COUNT_MARGIN         8192

/*
 * Worst-case number of new VMAs from one mmap, mprotect or PROT_NONE
 * remap of a range strictly inside an existing VMA: that VMA is split in
 * three (left part, the range, right part), i.e. two more than before.
 */
#define DW_VMA_SPLIT_COST           2

/* ------------------------------------------------------------------ */
/* 1. Layout of the reservation                                       */
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

/* Slot of an MMU index, or -1 if that index is not served by a window. */
int dw_mmu_idx_to_slot(unsigned mmu_idx);

/* MMU index served by @slot (slot < DW_NB_SLOTS). */
unsigned dw_slot_to_mmu_idx(unsigned slot);

/* Slot served by window @win (win < DW_NB_WINDOWS). */
unsigned dw_window_slot(unsigned win);

/* Window of the @k-th user address space (k < DW_USER_WINDOWS). */
unsigned dw_user_window(unsigned k);

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
 */
int dw_unmap_range(void *addr, size_t len);

/* mmap(MAP_SHARED | MAP_FIXED) @len bytes of @fd at @offset onto @addr. */
int dw_map_range(void *addr, size_t len, int prot, int fd, uint64_t offset);

/* mprotect @len bytes at @addr (e.g. downgrade to read-only). */
int dw_protect_range(void *addr, size_t len, int prot);

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

/* Remap the classic window [@min_addr, 4 GiB) PROT_NONE. */
int dw_classic_reset(uint64_t min_addr);

/* ------------------------------------------------------------------ */
/* 2. Mapping accounting                                              */
/* ------------------------------------------------------------------ */

/*
 * Estimated VMAs per window and in total.  The estimate is an upper
 * bound (each operation is charged DW_VMA_SPLIT_COST although the kernel
 * often merges neighbours) and only a window reset brings it down.
 *
 * Counters are C11 atomics, not a mutex: they are updated from the
 * SIGSEGV handler on vCPU threads (where taking a mutex is not
 * async-signal-safe and could deadlock against the interrupted thread)
 * and from TLB flushes and dirty-tracking resets on other threads.
 */
struct dw_acct {
    unsigned n_windows;
    int64_t max_mappings;
    _Atomic int64_t total;
    _Atomic int64_t *per_window;
};

/* vm.max_map_count from @path, or DW_DEFAULT_MAX_MAP_COUNT on error. */
uint64_t dw_read_max_map_count_from(const char *path);

/* vm.max_map_count from /proc/sys/vm/max_map_count, with the fallback. */
uint64_t dw_read_max_map_count(void);

/* Cap on window mappings given the system's vm.max_map_count. */
uint64_t dw_mapping_cap(uint64_t max_map_count);

/* Set up counters for @n_windows windows.  Returns 0 or -errno. */
int dw_acct_init(struct dw_acct *a, unsigned n_windows,
                 uint64_t max_mappings);
void dw_acct_destroy(struct dw_acct *a);

/* Window number used by the accounting for (@vcpu, @slot). */
unsigned dw_window_index(unsigned vcpu, unsigned slot);

/*
 * Record @n_ops map/unmap/mprotect operations on window @win (an index
 * from dw_window_index(), below n_windows), each of which may add
 * DW_VMA_SPLIT_COST VMAs.  Returns true when the cap is reached: the
 * caller must then reset a window (see dw_acct_victim()).
 * The cap keeps DW_MAP_COUNT_MARGIN spare, so going past it by the few
 * operations in flight on other threads is harmless.
 */
bool dw_acct_note_ops(struct dw_acct *a, unsigned win, unsigned n_ops);

/* Record that a run of @n_pages pages was mapped with one mmap. */
bool dw_acct_note_run(struct dw_acct *a, unsigned win, uint32_t n_pages);

/* Record that window @win was reset (wholly remapped PROT_NONE). */
void dw_acct_note_reset(struct dw_acct *a, unsigned win);

/* The window holding the most mappings: the best one to reset. */
unsigned dw_acct_victim(struct dw_acct *a);

int64_t dw_acct_window(struct dw_acct *a, unsigned win);
int64_t dw_acct_total(struct dw_acct *a);

/* ------------------------------------------------------------------ */
/* 4. Protection decision                                             */
/* ------------------------------------------------------------------ */

enum dw_prot {
    DW_PROT_NONE,           /* not mappable: every access takes slow path */
    DW_PROT_READ,           /* reads direct, writes fault */
    DW_PROT_RW,             /* reads and writes direct */
};

/*
 * What is known about one guest page, as decoded by the glue from the
 * guest page tables (PTE part, flags combined over all levels as the
 * CPU does: U and W are the AND of every level, A and D are the leaf's)
 * and from the memory map (host part).
 */
struct dw_page {
    /* Guest PTE */
    bool present;
    bool writable;
    bool user;
    bool accessed;
    bool dirty;
    /* Host memory behind the guest-physical page */
    bool is_ram;            /* RAM or ROM backed by @fd, not MMIO */
    bool readonly;          /* ROM or read-only RAM: writes are slow */
    bool dirty_all;         /* dirty for every dirty-log client */
    bool is_code;           /* holds translated code */
    bool force_slow;        /* watchpoint or other reason to trap all */
    int fd;                 /* file behind the RAM block, -1 if none */
    uint64_t offset;        /* page-aligned offset of the page in @fd */
};

/* Privilege context of a window, fixed by its MMU index plus CR0.WP. */
struct dw_access {
    bool user;              /* CPL 3 accesses */
    bool smap;              /* supervisor with SMAP in force */
    bool wp;                /* CR0.WP: supervisor honours read-only */
};

/* Access context of @slot with the guest's CR0.WP = @cr0_wp. */
struct dw_access dw_access_for_slot(unsigned slot, bool cr0_wp);

/* How page @pg may be mapped in a window with context @acc. */
enum dw_prot dw_page_prot(const struct dw_page *pg,
                          const struct dw_access *acc);

/* PROT_* flags for mmap/mprotect. */
int dw_prot_to_mmap(enum dw_prot prot);

/* ------------------------------------------------------------------ */
/* 3. Run batching                                                    */
/* ------------------------------------------------------------------ */

/* @n_pages pages from @vaddr mapped by one mmap of @fd at @offset. */
struct dw_run {
    uint32_t vaddr;
    uint32_t n_pages;
    int fd;
    uint64_t offset;
    enum dw_prot prot;
};

/*
 * Split @n consecutive guest pages, the first at @vaddr (which must be
 * page-aligned, else no run is returned), into maximal runs that one
 * mmap each can map: consecutive vaddrs, same file, contiguous offsets
 * and the same protection.  Non-mappable pages end a run and are
 * skipped.  Pages past 0xFFFFF000 are ignored (the guest space ends
 * there; the guard must stay unmapped).  At most @max_runs runs are
 * written; the rest is left for later faults.
 * Returns the number of runs written.
 */
size_t dw_batch_runs(const struct dw_page *pages, size_t n, uint32_t vaddr,
                     const struct dw_access *acc,
                     struct dw_run *runs, size_t max_runs);

/*
 * Map @run in window (@vcpu, @slot).  Refuses (-EINVAL) anything that
 * would reach past the 4 GiB window into the guard.
 */
int dw_map_run(const struct dw_layout *l, uintptr_t base, unsigned vcpu,
               unsigned slot, const struct dw_run *run);

/* Remap the whole window (@vcpu, @slot) PROT_NONE. */
int dw_reset_window(const struct dw_layout *l, uintptr_t base,
                    unsigned vcpu, unsigned slot);

/* ------------------------------------------------------------------ */
/* 5. i386 page walk for keeping pages across CR3 writes              */
/* ------------------------------------------------------------------ */

/*
 * A CR3 write flushes the whole softmmu TLB, yet most of a window stays
 * right: kernel pages look the same in every address space, and a
 * process's pages are the same when it is switched back in.  Refilling
 * them costs a signal each here, so on a CR3 write every mapped page is
 * walked again under the new CR3 and kept if its translation is
 * unchanged.  That is what a CPU is allowed to do anyway (it may load
 * TLB entries at any time from present, accessed entries).
 *
 * The walk is side-effect free: it never sets Accessed or Dirty, so a
 * page whose entries lack them is "unknown" and must fault again.
 */
struct dw_paging {
    uint64_t cr3;
    uint64_t a20_mask;      /* applied to every physical address */
    unsigned phys_bits;     /* MAXPHYADDR, for PAE reserved bits */
    bool pae;               /* CR4.PAE */
    bool pse;               /* CR4.PSE (ignored with PAE) */
    bool nxe;               /* EFER.NXE: bit 63 is NX, else reserved */
};

/* Reads a 4-byte (@wide false) or 8-byte guest-physical entry. */
typedef uint64_t (*dw_read_phys_fn)(void *opaque, uint64_t pa, bool wide);

/* Bits of a walk summary below the page frame. */
#define DW_WALK_VALID       0x001   /* present and accessed everywhere */
#define DW_WALK_W           0x002   /* R/W set at every level */
#define DW_WALK_U           0x004   /* U/S set at every level */
#define DW_WALK_D           0x040   /* leaf Dirty */
#define DW_WALK_LARGE       0x080   /* a 4 MiB or 2 MiB page */
#define DW_WALK_FRAME(s)    ((s) & ~(DW_PAGE_SIZE - 1))

/*
 * Summary of the translation of guest @vaddr under @p: the guest-
 * physical page | DW_WALK_* bits, or 0 when a CPU walk would fault or
 * would have to change an entry (not present, Accessed clear, reserved
 * bits).  Two equal non-zero summaries mean the same page with the same
 * rights, so a mapping made for one is right for the other.  Within one
 * large page the summaries differ only by the frame, so one walk of a
 * DW_WALK_LARGE page tells the summary of all its neighbours.
 */
uint64_t dw_walk(const struct dw_paging *p, uint32_t vaddr,
                 dw_read_phys_fn read, void *opaque);

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

/* ------------------------------------------------------------------ */
/* Canaries: proof that nothing outside the windows is written        */
/* ------------------------------------------------------------------ */

/*
 * With QEMU_FAST_CANARY=1 the glue maps one read-write host page right
 * after each window's guard and one right before each window (both in
 * the padding that guest code cannot reach), fills them with a pattern
 * that depends on the host address, and checks them on every window
 * reset and at exit.
 */

/* Host page right after the guard of window (@vcpu, @win). */
uintptr_t dw_canary_after(const struct dw_layout *l, uintptr_t base,
                          unsigned vcpu, unsigned win);

/*
 * Host page right before window (@vcpu, @win), in the padding of the
 * window below it; 0 for the first window, which has none.
 */
uintptr_t dw_canary_before(const struct dw_layout *l, uintptr_t base,
                           unsigned vcpu, unsigned win);

/* Fill [p, p + len) (8-byte aligned) with the pattern of its addresses. */
void dw_canary_fill(void *p, size_t len);

/*
 * Offset + 1 of the first 8-byte word of [p, p + len) that lost its
 * pattern, or 0 when the canary is intact.
 */
size_t dw_canary_check(const void *p, size_t len);

/*
 * Map one read-write page over reserved @page and fill it.  Returns 0,
 * -ENOSPC when the padding cannot hold canaries, or -errno.
 */
int dw_canary_place(const struct dw_layout *l, uintptr_t page);

#endif /* DIRECT_WINDOW_CORE_H */
