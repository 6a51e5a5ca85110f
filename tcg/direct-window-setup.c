/*
 * qemu-fast direct windows: set-up and refusals
 *
 * Owns the fast= modes, the reservation of every vCPU's windows at
 * accelerator start-up, and saying no, in one line, to what the mode
 * cannot serve (a host without what it needs, an address space or
 * vm.max_map_count too small, huge-page RAM once the board exists);
 * fast=auto turns into the softmmu with a warning instead.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "system/system.h"
#include "hw/core/direct-window-ram.h"
#include "tcg/direct-window-internal.h"

#if DW_HOST_SUPPORTED
#include <sys/auxv.h>
#endif

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

bool dw_enabled;
TCGFastMode dw_mode;
bool dw_classic;
uint64_t dw_classic_min;
struct dw_layout dw_layout;
uintptr_t dw_base;
DWCpu *dw_cpus;
unsigned dw_n_cpus;
bool dw_have_fsgsbase;
struct dw_acct dw_acct;

static const char *const dw_mode_names[] = {
    [TCG_FAST_OFF] = "off",
    [TCG_FAST_SEG] = "seg",
    [TCG_FAST_AUTO] = "auto",
    [TCG_FAST_CLASSIC] = "classic",
};

bool dw_parse_mode(const char *str, TCGFastMode *mode, Error **errp)
{
    for (int i = 0; i < ARRAY_SIZE(dw_mode_names); i++) {
        if (strcmp(str, dw_mode_names[i]) == 0) {
            *mode = i;
            return true;
        }
    }
    error_setg(errp, "invalid value '%s' for fast (expected off, seg, "
               "auto or classic)", str);
    return false;
}

TCGFastMode dw_default_mode(void)
{
    return DW_HOST_SUPPORTED ? TCG_FAST_SEG : TCG_FAST_OFF;
}

const char *dw_mode_name(TCGFastMode mode)
{
    return dw_mode_names[mode];
}

/* fast=auto where seg cannot run well: the softmmu, with one warning. */
static void dw_auto_off(const char *why)
{
    warn_report("fast=auto: %s; using the softmmu (fast=off)", why);
    dw_enabled = false;
}

static bool dw_refuse(TCGFastMode mode, Error **errp, const char *why)
{
    if (mode == TCG_FAST_AUTO) {
        dw_auto_off(why);
        return true;
    }
    error_setg(errp, "fast=%s: %s", dw_mode_name(mode), why);
    error_append_hint(errp, "Use -accel tcg,fast=off for the softmmu.\n");
    return false;
}

/*
 * Below DW_CAP_ROOM_MIN host mappings the windows mostly empty and
 * refill: a Linux kernel alone touches more pages than that at random.
 * fast=auto leaves them off; fast=seg, which the user asked for, says
 * what the cost is.
 */
#define DW_CAP_ROOM_MIN     256

static void dw_check_cap_room(uint64_t max_map_count)
{
    g_autofree char *why = NULL;

    if (dw_acct.max_mappings >= DW_CAP_ROOM_MIN) {
        return;
    }
    why = g_strdup_printf("vm.max_map_count (%" PRIu64 ") leaves the "
                          "windows %" PRId64 " host mappings",
                          max_map_count, dw_acct.max_mappings);
    if (dw_mode == TCG_FAST_AUTO) {
        dw_auto_off(why);
        return;
    }
    warn_report("fast=%s: %s: most guest accesses will refill them, "
                "slower than fast=off", dw_mode_name(dw_mode), why);
    error_printf("Raise it (sysctl vm.max_map_count=1048576) or use "
                 "-accel tcg,fast=off.\n");
}

/*
 * Once the board has made its RAM: refuse RAM the windows cannot map
 * (huge pages, no file descriptor, a private copy of a file) rather than
 * take a fault on every access to it; fast=auto turns the mode off, which
 * is still possible: no TB has been made yet.  Otherwise size the record
 * of which RAM pages are page tables.
 */
static void dw_check_ram(Notifier *n, void *unused)
{
    g_autofree char *why = dw_ram_unmappable();

    if (!why) {
        uint64_t max_map_count = dw_read_max_map_count();

        dw_track_ram_ready();
        /*
         * The machine exists: what QEMU maps itself is known now, and a
         * low vm.max_map_count may leave the windows less than the cap
         * assumed.
         */
        dw_acct.max_mappings =
            dw_fit_cap(dw_acct.max_mappings, max_map_count,
                       dw_count_lines_from("/proc/self/maps"));
        dw_check_cap_room(max_map_count);
        return;
    }
    if (dw_mode == TCG_FAST_AUTO) {
        dw_auto_off(why);
        return;
    }
    error_report("fast=%s: %s", dw_mode_name(dw_mode), why);
    error_printf("Use -accel tcg,fast=off for the softmmu.\n");
    exit(1);
}

static Notifier dw_ram_check = { .notify = dw_check_ram };

/* Windows of vCPU @index, all empty and holding no address space. */
static void dw_cpu_init(DWCpu *c, unsigned index)
{
    c->churn = g_new0(struct dw_churn_ring, 1);
    c->young.until = c->young_until;
    c->young.slow_left = c->young_slow_left;
    c->young.space = c->young_space;
    c->young.n_windows = DW_NB_WINDOWS;
    for (unsigned s = 0; s < DW_NB_WINDOWS; s++) {
        /* classic: guest vaddr == host address in every slot */
        c->gs[s] = dw_classic ? 0 :
                   dw_window_base(&dw_layout, dw_base, index, s);
        c->mapped[s] = bitmap_new(DW_GUEST_PAGES);
        c->mapped_words[s] = bitmap_new(DW_MAPPED_WORDS);
        c->writable[s] = g_hash_table_new(NULL, NULL);
        c->rw_host[s] = g_hash_table_new_full(NULL, NULL, NULL,
                                              (GDestroyNotify)g_slist_free);
        c->ro_was_rw[s] = g_hash_table_new(NULL, NULL);
        c->large[s] = g_new0(struct dw_large, 1);
        c->region_pt[s] = g_new0(uint64_t, DW_REGIONS);
        c->region_upper[s] = g_new0(uint64_t, DW_REGIONS);
        c->root[s] = DW_ROOT_NONE;
    }
    for (unsigned s = 0; s < DW_NB_SLOTS; s++) {
        c->cur[s] = s;
    }
    qemu_spin_init(&c->pending_lock);
    c->pending = g_array_new(false, false, sizeof(DWInval));
}

bool dw_setup(TCGFastMode mode, unsigned max_cpus, Error **errp)
{
    g_autoptr(Error) err = NULL;
    void *base;
    int ret;

    dw_mode = mode;
    if (mode == TCG_FAST_OFF) {
        return true;
    }
    if (!DW_HOST_SUPPORTED) {
        return dw_refuse(mode, errp, "needs an x86-64 Linux host");
    }
    if (max_cpus == 0) {
        max_cpus = 1;
    }
    dw_classic = mode == TCG_FAST_CLASSIC;
    if (dw_classic && max_cpus > 1) {
        error_setg(errp, "fast=classic runs one vCPU only, not %u",
                   max_cpus);
        error_append_hint(errp, "Use -smp 1, or fast=seg for SMP.\n");
        return false;
    }
    ret = dw_layout_init(&dw_layout, max_cpus, 0,
                         qemu_real_host_page_size());
    if (ret < 0) {
        return dw_refuse(mode, errp, "too many vCPUs for the guest windows");
    }
    if (dw_classic) {
        dw_classic_min = dw_classic_min_addr_from("/proc/sys/vm/mmap_min_addr");
        ret = dw_classic_reserve(dw_classic_min, dw_layout.guard_size, &base);
        if (ret < 0) {
            error_setg(errp, "fast=classic: cannot reserve host addresses "
                       "[0x%" PRIx64 ", 4 GiB + guard) for the window: %s",
                       dw_classic_min, ret == -EEXIST ?
                       "something is mapped there already" : strerror(-ret));
            error_append_hint(errp, "Use fast=seg, which maps its windows "
                              "anywhere.\n");
            return false;
        }
        base = NULL;
    } else {
        ret = dw_reserve(dw_layout.total_size, &base);
    }
    if (ret < 0) {
        g_autofree char *why =
            g_strdup_printf("cannot reserve %" PRIu64 " GiB of address "
                            "space for the guest windows: %s (check "
                            "ulimit -v)", dw_layout.total_size >> 30,
                            strerror(-ret));
        return dw_refuse(mode, errp, why);
    }
    dw_base = (uintptr_t)base;

    dw_n_cpus = max_cpus;
    dw_cpus = g_new0(DWCpu, max_cpus);
    dw_young_user = g_new0(bool, max_cpus);
    for (unsigned i = 0; i < max_cpus; i++) {
        dw_cpu_init(&dw_cpus[i], i);
    }
    if (!dw_canary_setup(errp)) {
        return false;
    }
    if (dw_acct_init(&dw_acct, max_cpus * DW_NB_WINDOWS,
                     dw_mapping_cap(dw_read_max_map_count())) < 0) {
        return dw_refuse(mode, errp, "vm.max_map_count leaves no room for "
                         "the guest windows");
    }
#if DW_HOST_SUPPORTED
    dw_have_fsgsbase = getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE;
#endif
    if (!dw_fault_init(&err)) {
        return dw_refuse(mode, errp, error_get_pretty(err));
    }
    dw_track_init();
    dw_enabled = true;
    qemu_add_machine_init_done_notifier(&dw_ram_check);
    atexit(dw_log_stats);
    return true;
}
