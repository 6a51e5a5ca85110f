/*
 * qemu-fast direct windows: the counters
 *
 * Owns the counters every other part updates, and their report: one
 * paragraph printed at exit with -d fast and by the monitor command
 * "info fast".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "monitor/monitor.h"
#include "monitor/hmp-target.h"
#include "qapi/visitor.h"
#include "tcg/direct-window-internal.h"

DWStats dw_stats;

static const char *const dw_slow_names[DW_SLOW__MAX] = {
    "mmio", "notdirty", "rom", "watchpoint", "wrap", "nofd", "low", "other",
    "churn", "young",
};

uint64_t dw_cpus_sum(size_t offset)
{
    uint64_t sum = 0;

    for (unsigned i = 0; i < dw_n_cpus; i++) {
        sum += qatomic_read((uint64_t *)((char *)&dw_cpus[i] + offset));
    }
    return sum;
}

void dw_log_stats(void)
{
    g_autoptr(GString) buf = g_string_new(NULL);

#ifdef LOG_FAST
    if (qemu_loglevel_mask(LOG_FAST)) {
        dw_format_stats(buf);
        qemu_log("%s", buf->str);
    }
#endif
}

void dw_format_stats(GString *buf)
{
    g_string_append_printf(buf, "fast mode: %s\n",
                           dw_enabled ? dw_mode_name(dw_mode) : "off");
    if (!dw_enabled) {
        return;
    }
    if (dw_classic) {
        g_string_append_printf(buf, "window: 1 at host address 0, mapped "
                               "from 0x%" PRIx64 ", emptied on %" PRIu64
                               " MMU index switches\n", dw_classic_min,
                               qatomic_read(&dw_stats.classic_switches));
    } else {
        g_string_append_printf(buf, "windows: %u (%u vCPUs x %u), %" PRIu64
                               " GiB reserved at %p\n",
                               dw_n_cpus * DW_NB_WINDOWS, dw_n_cpus,
                               DW_NB_WINDOWS, dw_layout.total_size >> 30,
                               (void *)dw_base);
    }
    g_string_append_printf(buf,
        "pages mapped now: %" PRIu64 ", host mappings at most %" PRId64
        " (cap %" PRId64 ")\n"
        "faults: %" PRIu64 ", fills: %" PRIu64 " (%" PRIu64 " pages, "
        "%" PRIu64 " of them batched), guest page faults: %" PRIu64
        ", filled on return from them: %" PRIu64 "\n"
        "window resets: %" PRIu64 ", pages unmapped: %" PRIu64
        ", RW->RO downgrades: %" PRIu64 ", made writable again without "
        "a fill: %" PRIu64 "\n"
        "GS switches: %" PRIu64 " (%s)\n"
        "CR3 writes: %" PRIu64 ", %" PRIu64 " us, windows found: %" PRIu64
        ", emptied for a new address space: %" PRIu64 ", adopted: %"
        PRIu64 ", orphaned for adoption: %" PRIu64 "\n"
        "time in the fault handler for fills: %" PRIu64 " us, "
        "emptying and unmapping: %" PRIu64 " us\n",
        qatomic_read(&dw_total_pages), dw_acct_total(&dw_acct),
        dw_acct.max_mappings,
        qatomic_read(&dw_stats.faults),
        qatomic_read(&dw_stats.fills),
        qatomic_read(&dw_stats.pages_mapped),
        qatomic_read(&dw_stats.pages_mapped) - qatomic_read(&dw_stats.fills),
        qatomic_read(&dw_stats.guest_faults),
        qatomic_read(&dw_stats.prefills),
        qatomic_read(&dw_stats.resets),
        qatomic_read(&dw_stats.page_unmaps),
        qatomic_read(&dw_stats.downgrades),
        qatomic_read(&dw_stats.upgrades),
        qatomic_read(&dw_stats.gs_switches),
        dw_have_fsgsbase ? "wrgsbase" : "arch_prctl",
        qatomic_read(&dw_stats.cr3_writes),
        qatomic_read(&dw_stats.cr3_ns) / 1000,
        qatomic_read(&dw_stats.windows_found),
        qatomic_read(&dw_stats.windows_new),
        qatomic_read(&dw_stats.windows_adopted),
        qatomic_read(&dw_stats.windows_orphaned),
        qatomic_read(&dw_stats.fill_ns) / 1000,
        qatomic_read(&dw_stats.unmap_ns) / 1000);
    g_string_append_printf(buf, "code pages walked for G: %" PRIu64
                           ", CR3 writes that kept global TBs: %" PRIu64
                           ", jump-cache misses found in the second "
                           "level: %" PRIu64 "\n",
                           qatomic_read(&dw_stats.jmp_walks),
                           qatomic_read(&dw_stats.jmp_kept_flushes),
                           DW_CPUS_SUM(jmp_l2_hits));
    g_string_append_printf(buf, "cross-page jumps that looked their TB up: %"
                           PRIu64 ", remembered: %" PRIu64 "\n",
                           DW_CPUS_SUM(xlink_misses), DW_CPUS_SUM(xlink_fills));
    g_string_append_printf(buf, "page tables tracked: %" PRIu64
                           ", stores to them: %" PRIu64 ", invalidations: %"
                           PRIu64 " (%" PRIu64 " pages)\n",
                           qatomic_read(&dw_stats.tables),
                           qatomic_read(&dw_stats.table_writes),
                           qatomic_read(&dw_stats.table_invals),
                           qatomic_read(&dw_stats.table_pages_dropped));
    g_string_append_printf(buf, "table uses given up after %d stores while "
                           "switched out: %" PRIu64 "\n", DW_TABLE_FLOOD,
                           qatomic_read(&dw_stats.table_floods));
    g_string_append_printf(buf, "TBs made non-direct after %d slow exits: %"
                           PRIu64 " (set full, started again: %" PRIu64
                           ")\n", DW_STICKY_AFTER,
                           qatomic_read(&dw_stats.sticky_tbs),
                           qatomic_read(&dw_stats.sticky_resets));
    g_string_append_printf(buf, "code found filling pages that die young: %"
                           PRIu64 " (of %" PRIu64 " suspected; %" PRIu64
                           " ran too often per page filled and stayed direct; "
                           "made direct again %" PRIu64 " times)\n",
                           qatomic_read(&dw_stats.churn_keys),
                           qatomic_read(&dw_stats.churn_suspects),
                           qatomic_read(&dw_stats.churn_hot),
                           qatomic_read(&dw_stats.churn_epochs));
    g_string_append_printf(buf, "new address spaces whose user code started "
                           "on the softmmu: %" PRIu64 ", went direct after "
                           "%" PRId64 " ms: %" PRIu64 "\n",
                           qatomic_read(&dw_stats.young_born),
                           dw_young_ns / 1000000,
                           qatomic_read(&dw_stats.young_grown));
    g_string_append_printf(buf, "kernel TBs that leave young address spaces' "
                           "user pages to the softmmu: %" PRIu64 "\n",
                           qatomic_read(&dw_stats.young_kernel_tbs));
    g_string_append_printf(buf, "mapping estimates rebased on "
                           "/proc/self/maps: %" PRIu64 "; at vm.max_map_count"
                           ", windows emptied as a split was refused: %"
                           PRIu64 ", emptied by munmap as no mmap was left: %"
                           PRIu64 "\n",
                           qatomic_read(&dw_stats.recounts),
                           qatomic_read(&dw_stats.split_failures),
                           qatomic_read(&dw_stats.over_limit_resets));
    g_string_append(buf, "slow-path re-executions:");
    for (int i = 0; i < DW_SLOW__MAX; i++) {
        g_string_append_printf(buf, " %s %" PRIu64, dw_slow_names[i],
                               qatomic_read(&dw_stats.slow[i]));
    }
    g_string_append_c(buf, '\n');
}

/* The counters that are a plain field of DWStats, by their QOM name. */
static const struct {
    const char *name;
    size_t offset;
} dw_stat_fields[] = {
#define DW_STAT(name, field) { name, offsetof(DWStats, field) }
    DW_STAT("faults", faults),
    DW_STAT("fills", fills),
    DW_STAT("pages-mapped", pages_mapped),
    DW_STAT("guest-page-faults", guest_faults),
    DW_STAT("prefills", prefills),
    DW_STAT("jump-cache-walks", jmp_walks),
    DW_STAT("jump-cache-keeps", jmp_kept_flushes),
    DW_STAT("mapping-recounts", recounts),
    DW_STAT("split-failures", split_failures),
    DW_STAT("over-limit-resets", over_limit_resets),
    DW_STAT("window-resets", resets),
    DW_STAT("pages-unmapped", page_unmaps),
    DW_STAT("rw-to-ro-downgrades", downgrades),
    DW_STAT("ro-to-rw-upgrades", upgrades),
    DW_STAT("gs-switches", gs_switches),
    DW_STAT("sticky-tbs", sticky_tbs),
    DW_STAT("sticky-resets", sticky_resets),
    DW_STAT("churn-suspects", churn_suspects),
    DW_STAT("churn-keys", churn_keys),
    DW_STAT("churn-hot", churn_hot),
    DW_STAT("churn-epochs", churn_epochs),
    DW_STAT("young-spaces", young_born),
    DW_STAT("young-spaces-grown", young_grown),
    DW_STAT("young-kernel-tbs", young_kernel_tbs),
    DW_STAT("cr3-writes", cr3_writes),
    DW_STAT("cr3-ns", cr3_ns),
    DW_STAT("windows-found", windows_found),
    DW_STAT("windows-emptied", windows_new),
    DW_STAT("windows-adopted", windows_adopted),
    DW_STAT("fill-ns", fill_ns),
    DW_STAT("unmap-ns", unmap_ns),
    DW_STAT("classic-switches", classic_switches),
    DW_STAT("page-tables-tracked", tables),
    DW_STAT("page-table-stores", table_writes),
    DW_STAT("page-table-invalidations", table_invals),
    DW_STAT("page-table-pages-dropped", table_pages_dropped),
    DW_STAT("page-table-floods", table_floods),
    DW_STAT("windows-orphaned", windows_orphaned),
#undef DW_STAT
};

static bool dw_visit_u64(Visitor *v, const char *name, uint64_t value,
                         Error **errp)
{
    return visit_type_uint64(v, name, &value, errp);
}

static bool dw_visit_slow(Visitor *v, Error **errp)
{
    bool ok = visit_start_struct(v, "slow-path", NULL, 0, errp);

    for (int i = 0; ok && i < DW_SLOW__MAX; i++) {
        ok = dw_visit_u64(v, dw_slow_names[i],
                          qatomic_read(&dw_stats.slow[i]), errp);
    }
    if (ok) {
        ok = visit_check_struct(v, errp);
    }
    visit_end_struct(v, NULL);
    return ok;
}

void dw_visit_stats(Visitor *v, const char *name, Error **errp)
{
    char *mode = (char *)(dw_enabled ? dw_mode_name(dw_mode) : "off");
    bool ok;

    if (!visit_start_struct(v, name, NULL, 0, errp)) {
        return;
    }
    ok = visit_type_str(v, "mode", &mode, errp) &&
         dw_visit_u64(v, "pages-mapped-now", qatomic_read(&dw_total_pages),
                      errp);
    for (size_t i = 0; ok && i < ARRAY_SIZE(dw_stat_fields); i++) {
        uint64_t *field = (uint64_t *)((char *)&dw_stats +
                                       dw_stat_fields[i].offset);

        ok = dw_visit_u64(v, dw_stat_fields[i].name, qatomic_read(field),
                          errp);
    }
    if (ok) {
        ok = dw_visit_u64(v, "jump-cache-l2-hits", DW_CPUS_SUM(jmp_l2_hits),
                          errp) &&
             dw_visit_u64(v, "cross-page-lookups", DW_CPUS_SUM(xlink_misses),
                          errp) &&
             dw_visit_u64(v, "cross-page-fills", DW_CPUS_SUM(xlink_fills),
                          errp);
    }
    if (ok && dw_visit_slow(v, errp)) {
        visit_check_struct(v, errp);
    }
    visit_end_struct(v, NULL);
}

/* "info fast" comes with -d fast (LOG_FAST) in the same patch. */
#ifdef LOG_FAST
void hmp_info_fast(Monitor *mon, const QDict *qdict)
{
    g_autoptr(GString) buf = g_string_new(NULL);

    dw_format_stats(buf);
    monitor_puts(mon, buf->str);
}
#endif
