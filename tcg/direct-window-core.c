/*
 * qemu-fast direct windows: QEMU-independent bookkeeping core
 *
 * See direct-window-core.h for the overview.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "direct-window-core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Layout                                                             */
/* ------------------------------------------------------------------ */

/*
 * i386 32-bit system code uses MMU indexes 1 (kernel, SMAP), 3 (user)
 * and 5 (kernel, no SMAP); the 64-bit, physical and nested indexes are
 * left to softmmu.
 */
static const int8_t dw_slot_of_mmu_idx[DW_NB_MMU_IDX] = {
    -1, 0, -1, 1, -1, 2, -1, -1,
};

static const uint8_t dw_mmu_idx_of_slot[DW_NB_SLOTS] = { 1, 3, 5 };

int dw_mmu_idx_to_slot(unsigned mmu_idx)
{
    if (mmu_idx >= DW_NB_MMU_IDX) {
        return -1;
    }
    return dw_slot_of_mmu_idx[mmu_idx];
}

unsigned dw_slot_to_mmu_idx(unsigned slot)
{
    return dw_mmu_idx_of_slot[slot];
}

unsigned dw_window_slot(unsigned win)
{
    return win < DW_NB_SLOTS ? win : DW_USER_SLOT;
}

unsigned dw_user_window(unsigned k)
{
    return k == 0 ? DW_USER_SLOT : DW_NB_SLOTS + k - 1;
}

/* Smallest n with (1 << n) >= x, for 1 <= x <= 2^63. */
static unsigned dw_ceil_log2(uint64_t x)
{
    unsigned n = 0;

    while ((1ULL << n) < x) {
        n++;
    }
    return n;
}

static uint64_t dw_round_up(uint64_t x, uint64_t align)
{
    return (x + align - 1) & ~(align - 1);
}

int dw_layout_init(struct dw_layout *l, unsigned n_vcpus,
                   uint64_t guard_min, size_t host_page_size)
{
    uint64_t guard;

    if (n_vcpus == 0 || host_page_size != DW_PAGE_SIZE) {
        return -EINVAL;
    }
    if (guard_min == 0) {
        guard_min = DW_GUARD_MIN;
    }
    /* Only a few KiB are ever reachable; reject absurd requests. */
    if (guard_min > DW_WINDOW_SIZE) {
        return -EINVAL;
    }
    guard = dw_round_up(guard_min, DW_PAGE_SIZE);

    l->n_vcpus = n_vcpus;
    l->guard_size = guard;
    l->window_shift = dw_ceil_log2(DW_WINDOW_SIZE + guard);
    l->window_stride = 1ULL << l->window_shift;
    l->block_shift = dw_ceil_log2(DW_NB_WINDOWS * l->window_stride);
    l->block_stride = 1ULL << l->block_shift;

    /* Checked before multiplying so that the product cannot overflow. */
    if (n_vcpus > DW_MAX_RESERVE / l->block_stride) {
        return -ENOMEM;
    }
    l->total_size = (uint64_t)n_vcpus * l->block_stride;
    return 0;
}

uintptr_t dw_block_base(const struct dw_layout *l, uintptr_t base,
                        unsigned vcpu)
{
    return base + ((uintptr_t)vcpu << l->block_shift);
}

uintptr_t dw_window_base(const struct dw_layout *l, uintptr_t base,
                         unsigned vcpu, unsigned slot)
{
    return dw_block_base(l, base, vcpu) +
           ((uintptr_t)slot << l->window_shift);
}

uintptr_t dw_host_addr(const struct dw_layout *l, uintptr_t base,
                       unsigned vcpu, unsigned slot, uint32_t vaddr)
{
    return dw_window_base(l, base, vcpu, slot) + vaddr;
}

bool dw_classify_addr(const struct dw_layout *l, uintptr_t base,
                      uintptr_t host, unsigned *vcpu, unsigned *slot,
                      uint32_t *vaddr, bool *in_guard)
{
    uint64_t off, in_block, in_window;
    unsigned s;

    /*
     * Unsigned subtraction: an address below @base wraps to a value far
     * above total_size, so one comparison rejects both sides.
     */
    off = (uint64_t)(host - base);
    if (off >= l->total_size) {
        return false;
    }
    in_block = off & (l->block_stride - 1);
    s = (unsigned)(in_block >> l->window_shift);
    if (s >= DW_NB_WINDOWS) {
        return false;
    }
    in_window = in_block & (l->window_stride - 1);
    if (in_window >= DW_WINDOW_SIZE + l->guard_size) {
        return false;
    }

    *vcpu = (unsigned)(off >> l->block_shift);
    *slot = s;
    /* Truncation gives the wrapped guest address for guard hits. */
    *vaddr = (uint32_t)in_window;
    *in_guard = in_window >= DW_WINDOW_SIZE;
    return true;
}

/* ------------------------------------------------------------------ */
/* Reservation and mapping primitives                                 */
/* ------------------------------------------------------------------ */

#define DW_RESERVE_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

int dw_reserve(size_t size, void **out)
{
    void *p = mmap(NULL, size, PROT_NONE, DW_RESERVE_FLAGS, -1, 0);

    if (p == MAP_FAILED) {
        return -errno;
    }
    *out = p;
    return 0;
}

int dw_release(void *base, size_t size)
{
    return munmap(base, size) ? -errno : 0;
}

int dw_unmap_range(void *addr, size_t len)
{
    void *p = mmap(addr, len, PROT_NONE, DW_RESERVE_FLAGS | MAP_FIXED,
                   -1, 0);

    return p == MAP_FAILED ? -errno : 0;
}

int dw_map_range(void *addr, size_t len, int prot, int fd, uint64_t offset)
{
    void *p = mmap(addr, len, prot, MAP_SHARED | MAP_FIXED, fd,
                   (off_t)offset);

    return p == MAP_FAILED ? -errno : 0;
}

int dw_protect_range(void *addr, size_t len, int prot)
{
    return mprotect(addr, len, prot) ? -errno : 0;
}

int dw_map_run(const struct dw_layout *l, uintptr_t base, unsigned vcpu,
               unsigned slot, const struct dw_run *run)
{
    uint64_t end = (uint64_t)run->vaddr +
                   ((uint64_t)run->n_pages << DW_PAGE_BITS);
    uintptr_t host;

    if (vcpu >= l->n_vcpus || slot >= DW_NB_WINDOWS || run->n_pages == 0 ||
        (run->vaddr & (DW_PAGE_SIZE - 1)) || end > DW_WINDOW_SIZE ||
        run->prot == DW_PROT_NONE) {
        return -EINVAL;
    }
    host = dw_host_addr(l, base, vcpu, slot, run->vaddr);
    return dw_map_range((void *)host, end - run->vaddr,
                        dw_prot_to_mmap(run->prot), run->fd, run->offset);
}

int dw_reset_window(const struct dw_layout *l, uintptr_t base,
                    unsigned vcpu, unsigned slot)
{
    if (vcpu >= l->n_vcpus || slot >= DW_NB_WINDOWS) {
        return -EINVAL;
    }
    return dw_unmap_range((void *)dw_window_base(l, base, vcpu, slot),
                          DW_WINDOW_SIZE);
}

/* ------------------------------------------------------------------ */
/* Mapping accounting                                                 */
/* ------------------------------------------------------------------ */

/*
 * Parse a positive decimal count followed only by optional whitespace.
 * Hand-written: qemu_strtoull is not available here, and a digit loop
 * with an explicit overflow check is simpler than strtoull's errno.
 */
static bool dw_parse_count(const char *s, uint64_t min, uint64_t *val)
{
    uint64_t v = 0;
    const char *p = s;

    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = *p - '0';

        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    if (p == s || v < min) {
        return false;
    }
    while (*p == '\n' || *p == ' ' || *p == '\t') {
        p++;
    }
    if (*p != '\0') {
        return false;
    }
    *val = v;
    return true;
}

/* A number from a /proc/sys file at least @min, or @dflt. */
static uint64_t dw_read_sysctl(const char *path, uint64_t min, uint64_t dflt)
{
    char buf[32];
    uint64_t val;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return dflt;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return dflt;
    }
    buf[n] = '\0';
    if (!dw_parse_count(buf, min, &val)) {
        return dflt;
    }
    return val;
}

uint64_t dw_read_max_map_count_from(const char *path)
{
    return dw_read_sysctl(path, 1, DW_DEFAULT_MAX_MAP_COUNT);
}

uint64_t dw_read_max_map_count(void)
{
    return dw_read_max_map_count_from("/proc/sys/vm/max_map_count");
}

uint64_t dw_mapping_cap(uint64_t max_map_count)
{
    /*
     * On a system configured with a tiny limit, still leave QEMU half of
     * it rather than returning 0 and resetting on every fault.
     */
    if (max_map_count <= 2 * DW_MAP_COUNT_MARGIN) {
        return max_map_count / 2;
    }
    return max_map_count - DW_MAP_COUNT_MARGIN;
}

unsigned dw_window_index(unsigned vcpu, unsigned slot)
{
    return vcpu * DW_NB_WINDOWS + slot;
}

int dw_acct_init(struct dw_acct *a, unsigned n_windows,
                 uint64_t max_mappings)
{
    unsigned i;

    if (n_windows == 0 || max_mappings == 0 || max_mappings > INT64_MAX) {
        return -EINVAL;
    }
    a->per_window = calloc(n_windows, sizeof(*a->per_window));
    if (!a->per_window) {
        return -ENOMEM;
    }
    for (i = 0; i < n_windows; i++) {
        atomic_init(&a->per_window[i], 0);
    }
    atomic_init(&a->total, 0);
    a->n_windows = n_windows;
    a->max_mappings = (int64_t)max_mappings;
    return 0;
}

void dw_acct_destroy(struct dw_acct *a)
{
    free(a->per_window);
    a->per_window = NULL;
    a->n_windows = 0;
}

bool dw_acct_note_ops(struct dw_acct *a, unsigned win, unsigned n_ops)
{
    int64_t cost = (int64_t)n_ops * DW_VMA_SPLIT_COST;

    /*
     * The window counter is bumped first and the total second, and a
     * reset does the reverse (swap the window to 0, then subtract), so
     * the total can be transiently low or even negative (hence signed)
     * but never stays wrong once both sides are done.
     */
    atomic_fetch_add(&a->per_window[win], cost);
    return atomic_fetch_add(&a->total, cost) + cost >= a->max_mappings;
}

bool dw_acct_note_run(struct dw_acct *a, unsigned win, uint32_t n_pages)
{
    /* One mmap whatever its length: batching is what saves VMAs. */
    (void)n_pages;
    return dw_acct_note_ops(a, win, 1);
}

void dw_acct_note_reset(struct dw_acct *a, unsigned win)
{
    int64_t old = atomic_exchange(&a->per_window[win], 0);

    atomic_fetch_sub(&a->total, old);
}

unsigned dw_acct_victim(struct dw_acct *a)
{
    unsigned i, best = 0;
    int64_t best_n = atomic_load(&a->per_window[0]);

    for (i = 1; i < a->n_windows; i++) {
        int64_t n = atomic_load(&a->per_window[i]);

        if (n > best_n) {
            best = i;
            best_n = n;
        }
    }
    return best;
}

int64_t dw_acct_window(struct dw_acct *a, unsigned win)
{
    return atomic_load(&a->per_window[win]);
}

int64_t dw_acct_total(struct dw_acct *a)
{
    return atomic_load(&a->total);
}

/* ------------------------------------------------------------------ */
/* Protection decision                                                */
/* ------------------------------------------------------------------ */

struct dw_access dw_access_for_slot(unsigned slot, bool cr0_wp)
{
    struct dw_access acc = {
        .user = dw_slot_to_mmu_idx(slot) == 3,
        .smap = dw_slot_to_mmu_idx(slot) == 1,
        .wp = cr0_wp,
    };
    return acc;
}

/* Can the CPU, in context @acc, read the page at all? */
static bool dw_pte_readable(const struct dw_page *pg,
                            const struct dw_access *acc)
{
    /*
     * A clear Accessed bit must be set by the first access; a direct
     * mapping would let the guest touch the page without that, so such
     * neighbours are left to fault through the page walker.
     */
    if (!pg->present || !pg->accessed) {
        return false;
    }
    if (acc->user) {
        return pg->user;
    }
    /* SMAP: supervisor data accesses to user pages fault. */
    return !(acc->smap && pg->user);
}

/* Can the CPU, in context @acc, write the page (ignoring Dirty)? */
static bool dw_pte_writable(const struct dw_page *pg,
                            const struct dw_access *acc)
{
    if (acc->user || acc->wp) {
        return pg->writable;
    }
    /* CR0.WP = 0: the supervisor writes even read-only pages. */
    return true;
}

enum dw_prot dw_page_prot(const struct dw_page *pg,
                          const struct dw_access *acc)
{
    if (!pg->is_ram || pg->fd < 0 || pg->force_slow ||
        !dw_pte_readable(pg, acc)) {
        return DW_PROT_NONE;
    }
    /*
     * Write directly only if no write needs noticing: the guest PTE is
     * already Dirty (else the CPU must set D), every dirty-log client has
     * seen the page dirty (VGA, migration), no translated code lives in
     * it (SMC detection) and it is not ROM.
     */
    if (dw_pte_writable(pg, acc) && pg->dirty && pg->dirty_all &&
        !pg->is_code && !pg->readonly) {
        return DW_PROT_RW;
    }
    return DW_PROT_READ;
}

int dw_prot_to_mmap(enum dw_prot prot)
{
    switch (prot) {
    case DW_PROT_READ:
        return PROT_READ;
    case DW_PROT_RW:
        return PROT_READ | PROT_WRITE;
    default:
        return PROT_NONE;
    }
}

/* ------------------------------------------------------------------ */
/* Run batching                                                       */
/* ------------------------------------------------------------------ */

/* Does page @pg with protection @prot extend @run by one page? */
static bool dw_run_extends(const struct dw_run *run,
                           const struct dw_page *pg, enum dw_prot prot)
{
    return run->prot == prot && run->fd == pg->fd &&
           run->offset + ((uint64_t)run->n_pages << DW_PAGE_BITS) ==
           pg->offset;
}

size_t dw_batch_runs(const struct dw_page *pages, size_t n, uint32_t vaddr,
                     const struct dw_access *acc,
                     struct dw_run *runs, size_t max_runs)
{
    uint64_t room = (DW_WINDOW_SIZE - vaddr) >> DW_PAGE_BITS;
    struct dw_run *cur = NULL;
    size_t i, n_runs = 0;

    if (vaddr & (DW_PAGE_SIZE - 1)) {
        return 0;
    }
    if (n > room) {
        n = room;
    }
    for (i = 0; i < n; i++) {
        const struct dw_page *pg = &pages[i];
        enum dw_prot prot = dw_page_prot(pg, acc);

        if (prot == DW_PROT_NONE) {
            cur = NULL;
            continue;
        }
        if (cur && dw_run_extends(cur, pg, prot)) {
            cur->n_pages++;
            continue;
        }
        if (n_runs == max_runs) {
            break;
        }
        cur = &runs[n_runs++];
        cur->vaddr = vaddr + (uint32_t)(i << DW_PAGE_BITS);
        cur->n_pages = 1;
        cur->fd = pg->fd;
        cur->offset = pg->offset;
        cur->prot = prot;
    }
    return n_runs;
}

/* ------------------------------------------------------------------ */
/* i386 page walk                                                     */
/* ------------------------------------------------------------------ */

#define PTE_P       0x001ULL
#define PTE_W       0x002ULL
#define PTE_U       0x004ULL
#define PTE_A       0x020ULL
#define PTE_D       0x040ULL
#define PTE_PS      0x080ULL
#define PTE_NX      (1ULL << 63)

/* Legacy-PAE PDPTE bits that must be zero: 1, 2, 5-8. */
#define PDPTE_RSVD  0x1e6ULL

/* One entry's contribution: false when the walk stops here. */
static bool dw_walk_entry(uint64_t e, uint64_t rsvd, uint64_t *sum)
{
    if (!(e & PTE_P) || !(e & PTE_A) || (e & rsvd)) {
        return false;
    }
    *sum &= e | ~(PTE_W | PTE_U);
    return true;
}

static uint64_t dw_walk_legacy(const struct dw_paging *p, uint32_t vaddr,
                               dw_read_phys_fn read, void *opaque)
{
    uint64_t sum = PTE_W | PTE_U;
    uint64_t pde, pte, gpa, leaf;

    pde = read(opaque, ((p->cr3 & ~0xfffULL) + ((vaddr >> 20) & 0xffc)) &
                       p->a20_mask, false);
    if (p->pse && (pde & PTE_PS)) {
        /*
         * 4 MiB page.  Bits 13-21 are PSE-36 address bits or reserved;
         * guests below 4 GiB leave them clear, so anything else is
         * simply not kept.
         */
        if (!dw_walk_entry(pde, 0x3fe000, &sum)) {
            return 0;
        }
        gpa = (pde & 0xffc00000ULL) | (vaddr & 0x3ff000);
        leaf = (pde & PTE_D) | DW_WALK_LARGE;
    } else {
        if (!dw_walk_entry(pde, 0, &sum)) {
            return 0;
        }
        pte = read(opaque, ((pde & ~0xfffULL) + ((vaddr >> 10) & 0xffc)) &
                           p->a20_mask, false);
        if (!dw_walk_entry(pte, 0, &sum)) {
            return 0;
        }
        gpa = pte & 0xfffff000ULL;
        leaf = pte & PTE_D;
    }
    return ((gpa & p->a20_mask) & ~0xfffULL) | DW_WALK_VALID | sum |
           leaf;
}

static uint64_t dw_walk_pae(const struct dw_paging *p, uint32_t vaddr,
                            dw_read_phys_fn read, void *opaque)
{
    uint64_t addr = ((1ULL << p->phys_bits) - 1) & ~0xfffULL;
    /*
     * Address bits past MAXPHYADDR, and 52-62 which no 32-bit guest
     * needs (kept conservative: such entries are just not kept).
     */
    uint64_t rsvd = ~addr & ~0xfffULL & ~PTE_NX;
    uint64_t sum = PTE_W | PTE_U;
    uint64_t pdpte, pde, pte, gpa, leaf;

    if (!p->nxe) {
        rsvd |= PTE_NX;
    }
    pdpte = read(opaque, ((p->cr3 & ~0x1fULL) + ((vaddr >> 27) & 0x18)) &
                         p->a20_mask, true);
    /* A PDPTE has no A, R/W or U/S bits in legacy PAE. */
    if (!(pdpte & PTE_P) || (pdpte & (PDPTE_RSVD | rsvd | PTE_NX))) {
        return 0;
    }
    pde = read(opaque, ((pdpte & addr) + ((vaddr >> 18) & 0xff8)) &
                       p->a20_mask, true);
    if (pde & PTE_PS) {
        /* 2 MiB page: bits 13-20 are reserved. */
        if (!dw_walk_entry(pde, rsvd | 0x1fe000, &sum)) {
            return 0;
        }
        gpa = (pde & addr & ~0x1fffffULL) | (vaddr & 0x1ff000);
        leaf = (pde & PTE_D) | DW_WALK_LARGE;
    } else {
        if (!dw_walk_entry(pde, rsvd, &sum)) {
            return 0;
        }
        pte = read(opaque, ((pde & addr) + ((vaddr >> 9) & 0xff8)) &
                           p->a20_mask, true);
        if (!dw_walk_entry(pte, rsvd, &sum)) {
            return 0;
        }
        gpa = pte & addr;
        leaf = pte & PTE_D;
    }
    return ((gpa & p->a20_mask) & ~0xfffULL) | DW_WALK_VALID | sum |
           leaf;
}

uint64_t dw_walk(const struct dw_paging *p, uint32_t vaddr,
                 dw_read_phys_fn read, void *opaque)
{
    return p->pae ? dw_walk_pae(p, vaddr, read, opaque)
                  : dw_walk_legacy(p, vaddr, read, opaque);
}

/* ------------------------------------------------------------------ */
/* Classic layout                                                     */
/* ------------------------------------------------------------------ */

uint64_t dw_classic_min_addr_from(const char *path)
{
    uint64_t v = dw_read_sysctl(path, 0, DW_DEFAULT_MMAP_MIN_ADDR);

    return dw_round_up(v, DW_PAGE_SIZE);
}

int dw_classic_reserve(uint64_t min_addr, uint64_t guard, void **out)
{
    size_t len = DW_WINDOW_SIZE + guard - min_addr;
    void *want = (void *)(uintptr_t)min_addr;
    void *p;

    if (min_addr >= DW_WINDOW_SIZE || (min_addr & (DW_PAGE_SIZE - 1))) {
        return -EINVAL;
    }
    p = mmap(want, len, PROT_NONE, DW_RESERVE_FLAGS | MAP_FIXED_NOREPLACE,
             -1, 0);
    if (p == MAP_FAILED) {
        return -errno;
    }
    /* Kernels before 4.17 ignore the flag and may place it elsewhere. */
    if (p != want) {
        munmap(p, len);
        return -EEXIST;
    }
    *out = p;
    return 0;
}

bool dw_classic_classify(uintptr_t host, uint64_t guard, uint32_t *vaddr,
                         bool *in_guard)
{
    if ((uint64_t)host >= DW_WINDOW_SIZE + guard) {
        return false;
    }
    *vaddr = (uint32_t)host;
    *in_guard = (uint64_t)host >= DW_WINDOW_SIZE;
    return true;
}

int dw_classic_reset(uint64_t min_addr)
{
    return dw_unmap_range((void *)(uintptr_t)min_addr,
                          DW_WINDOW_SIZE - min_addr);
}

/* ------------------------------------------------------------------ */
/* Large pages in a window                                             */
/* ------------------------------------------------------------------ */

void dw_large_clear_all(struct dw_large *lg)
{
    memset(lg->bits, 0, sizeof(lg->bits));
}

static bool dw_large_test(const struct dw_large *lg, uint32_t block)
{
    return lg->bits[block / 64] >> (block % 64) & 1;
}

void dw_large_note(struct dw_large *lg, uint32_t page)
{
    uint32_t block = page >> DW_LARGE_BLOCK_PAGES_BITS;

    lg->bits[block / 64] |= 1ULL << (block % 64);
}

bool dw_large_widen(struct dw_large *lg, uint32_t *first, uint32_t *last)
{
    uint32_t lo = *first >> DW_LARGE_BLOCK_PAGES_BITS;
    uint32_t hi = *last >> DW_LARGE_BLOCK_PAGES_BITS;
    uint32_t mask = (1u << DW_LARGE_BLOCK_PAGES_BITS) - 1;
    bool widened = false;

    /* Blocks strictly inside the range are flushed whole anyway. */
    if (dw_large_test(lg, lo) && (*first & mask)) {
        *first &= ~mask;
        widened = true;
    }
    if (dw_large_test(lg, hi) && (*last & mask) != mask) {
        *last |= mask;
        widened = true;
    }
    /* Every page of the blocks now covered whole is being unmapped. */
    for (uint32_t b = lo; b <= hi; b++) {
        uint32_t start = b << DW_LARGE_BLOCK_PAGES_BITS;

        if (*first <= start && start + mask <= *last) {
            lg->bits[b / 64] &= ~(1ULL << (b % 64));
        }
    }
    return widened;
}

/* ------------------------------------------------------------------ */
/* Canaries                                                           */
/* ------------------------------------------------------------------ */

uintptr_t dw_canary_after(const struct dw_layout *l, uintptr_t base,
                          unsigned vcpu, unsigned win)
{
    return dw_window_base(l, base, vcpu, win) + DW_WINDOW_SIZE +
           l->guard_size;
}

uintptr_t dw_canary_before(const struct dw_layout *l, uintptr_t base,
                           unsigned vcpu, unsigned win)
{
    uintptr_t w = dw_window_base(l, base, vcpu, win);

    return w == base ? 0 : w - DW_PAGE_SIZE;
}

static uint64_t dw_canary_word(uintptr_t addr)
{
    return ((uint64_t)addr * 0x9e3779b97f4a7c15ULL) ^ 0xc4a2a27c4a2a27c4ULL;
}

void dw_canary_fill(void *p, size_t len)
{
    uint64_t *w = p;

    for (size_t i = 0; i < len / 8; i++) {
        w[i] = dw_canary_word((uintptr_t)&w[i]);
    }
}

size_t dw_canary_check(const void *p, size_t len)
{
    /* volatile: read the memory now, even where the compiler saw it filled */
    const volatile uint64_t *w = p;

    for (size_t i = 0; i < len / 8; i++) {
        if (w[i] != dw_canary_word((uintptr_t)&w[i])) {
            return i * 8 + 1;
        }
    }
    return 0;
}

int dw_canary_place(const struct dw_layout *l, uintptr_t page)
{
    void *p;

    /* The padding must hold the page after a guard and the one before. */
    if (l->window_stride - DW_WINDOW_SIZE - l->guard_size <
        2 * DW_PAGE_SIZE) {
        return -ENOSPC;
    }
    p = mmap((void *)page, DW_PAGE_SIZE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED) {
        return -errno;
    }
    dw_canary_fill(p, DW_PAGE_SIZE);
    return 0;
}
