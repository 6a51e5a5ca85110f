/*
 * qemu-fast direct windows: host mappings against vm.max_map_count
 * (QEMU-free core)
 *
 * Every mmap, mprotect or PROT_NONE remap inside a window may split a
 * host VMA; a guest that touches many scattered pages could otherwise
 * push the process past vm.max_map_count, after which mmap fails
 * everywhere in QEMU.  This file owns the reading of the sysctls and an
 * upper bound of the VMAs each window made.  It knows nothing of guests.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef DIRECT_WINDOW_ACCT_H
#define DIRECT_WINDOW_ACCT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

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

/*
 * The estimate has outgrown what the kernel holds: the process has
 * @actual VMAs in all (/proc/self/maps), fewer than the estimated
 * total.  Scale every window's estimate by @actual / total, so that the
 * total is about @actual and the windows keep their order for
 * dw_acct_victim(); operations noted meanwhile by other threads are
 * kept.  Without it only a window's own reset brings its estimate down,
 * and a window whose vCPU rarely faults (while other threads keep
 * charging it for their downgrades) holds the total above the cap, so
 * that every other vCPU empties its windows on every fault.  Returns the
 * new total.
 */
int64_t dw_acct_rebase(struct dw_acct *a, int64_t actual);

/* The window holding the most mappings: the best one to reset. */
unsigned dw_acct_victim(struct dw_acct *a);

int64_t dw_acct_window(struct dw_acct *a, unsigned win);
int64_t dw_acct_total(struct dw_acct *a);

/* Lines in @path (/proc/self/maps: the VMAs in use), 0 if unreadable. */
uint64_t dw_count_lines_from(const char *path);

/*
 * The cap @cap lowered, if need be, to what a process with @in_use VMAs
 * has left under @max_map_count, less half of that (at most
 * DW_MAP_COUNT_MARGIN) for what QEMU maps later; at least 1.
 */
uint64_t dw_fit_cap(uint64_t cap, uint64_t max_map_count, uint64_t in_use);

/* A number from a /proc/sys file, at least @min, or @dflt. */
uint64_t dw_read_sysctl(const char *path, uint64_t min, uint64_t dflt);

#endif /* DIRECT_WINDOW_ACCT_H */
