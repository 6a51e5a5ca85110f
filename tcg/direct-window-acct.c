/*
 * qemu-fast direct windows: host mappings against vm.max_map_count
 * (QEMU-free core)
 *
 * See direct-window-acct.h.  Must not include QEMU headers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "direct-window-acct.h"
#include "direct-window-core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

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

uint64_t dw_read_sysctl(const char *path, uint64_t min, uint64_t dflt)
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

int64_t dw_acct_rebase(struct dw_acct *a, int64_t actual)
{
    int64_t total = atomic_load(&a->total);

    if (actual < 0 || total <= actual) {
        return total;
    }
    for (unsigned i = 0; i < a->n_windows; i++) {
        int64_t old = atomic_load(&a->per_window[i]);
        int64_t drop = old > 0 ? old - old * actual / total : 0;

        /* Subtract, not store: concurrent additions stay counted. */
        atomic_fetch_sub(&a->per_window[i], drop);
        atomic_fetch_sub(&a->total, drop);
    }
    return atomic_load(&a->total);
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

uint64_t dw_count_lines_from(const char *path)
{
    char buf[4096];
    uint64_t n = 0;
    ssize_t got;
    int fd = open(path, O_RDONLY);

    if (fd < 0) {
        return 0;
    }
    while ((got = read(fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < got; i++) {
            n += buf[i] == '\n';
        }
    }
    close(fd);
    return n;
}

uint64_t dw_fit_cap(uint64_t cap, uint64_t max_map_count, uint64_t in_use)
{
    uint64_t room;

    if (in_use >= max_map_count) {
        return 1;
    }
    /*
     * What QEMU still adds later (threads, displays) keeps half of what
     * is left, at most the usual margin.
     */
    room = max_map_count - in_use;
    room -= room / 2 < DW_MAP_COUNT_MARGIN ? room / 2 : DW_MAP_COUNT_MARGIN;
    return room < cap ? (room ? room : 1) : cap;
}
