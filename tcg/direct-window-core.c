/*
 * qemu-fast direct windows: layout and host mappings (QEMU-free core)
 *
 * See direct-window-core.h.  Must not include QEMU headers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "direct-window-core.h"
#include "direct-window-acct.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

/* ------------------------------------------------------------------ */
/* Layout                                                             */
/* ------------------------------------------------------------------ */

unsigned dw_window_slot(unsigned win)
{
    return win % DW_NB_SLOTS;
}

unsigned dw_slot_window(unsigned slot, unsigned k)
{
    return k * DW_NB_SLOTS + slot;
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

/*
 * Reserve [addr, addr + len) PROT_NONE exactly there, never over anything
 * mapped in the range: -EEXIST then.
 */
static int dw_reserve_fixed(void *addr, size_t len)
{
    void *p = mmap(addr, len, PROT_NONE,
                   DW_RESERVE_FLAGS | MAP_FIXED_NOREPLACE, -1, 0);

    if (p == MAP_FAILED) {
        return -errno;
    }
    /* Kernels before 4.17 ignore the flag and may place it elsewhere. */
    if (p != addr) {
        munmap(p, len);
        return -EEXIST;
    }
    return 0;
}

int dw_rereserve_by_unmap(void *addr, size_t len)
{
    if (munmap(addr, len)) {
        return -errno;
    }
    return dw_reserve_fixed(addr, len);
}

/*
 * The kernel refuses every mmap while the process holds more mappings
 * than vm.max_map_count, and a fill's own MAP_FIXED mmap, which splits
 * the reservation, can take it there.  munmap still works then, and
 * lowers the count, as long as it does not split one mapping in two:
 * a range holding mapped runs never does.
 */
static int dw_rereserve(void *addr, size_t len)
{
    int ret = dw_unmap_range(addr, len);

    if (ret == -ENOMEM) {
        ret = dw_rereserve_by_unmap(addr, len);
        return ret < 0 ? ret : 1;
    }
    return ret;
}

/*
 * Runs this short are mostly the page a miss is about to touch (a fill,
 * or the page a guest page fault just mapped): building its host page
 * table entry in the mmap saves the host fault that would follow at once
 * (pagefault bench: 5% faster).  Longer runs are neighbours that may
 * never be touched.
 */
#define DW_POPULATE_MAX 16384

int dw_map_range(void *addr, size_t len, int prot, int fd, uint64_t offset)
{
    int populate = len <= DW_POPULATE_MAX ? MAP_POPULATE : 0;
    void *p = mmap(addr, len, prot, MAP_SHARED | MAP_FIXED | populate, fd,
                   (off_t)offset);

    return p == MAP_FAILED ? -errno : 0;
}

int dw_protect_range(void *addr, size_t len, int prot)
{
    return mprotect(addr, len, prot) ? -errno : 0;
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
    return dw_rereserve((void *)dw_window_base(l, base, vcpu, slot),
                        DW_WINDOW_SIZE);
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
    int ret;

    if (min_addr >= DW_WINDOW_SIZE || (min_addr & (DW_PAGE_SIZE - 1))) {
        return -EINVAL;
    }
    ret = dw_reserve_fixed(want, len);
    if (ret == 0) {
        *out = want;
    }
    return ret;
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
    return dw_rereserve((void *)(uintptr_t)min_addr,
                        DW_WINDOW_SIZE - min_addr);
}

/* ------------------------------------------------------------------ */
/* Large pages in a window                                            */
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
