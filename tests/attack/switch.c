/*
 * Attack kernel "switch": address spaces whose translations outlive CR3
 * writes.  The fast mode may keep a window per address space (keyed by
 * CR3) across switches, and rather than walk it again on every CR3
 * write, track the page-table pages its mappings came through: a store
 * to one queues invalidations that the vCPU applies at its next flush.
 * So this kernel changes page tables in every way a guest can, and after
 * each flush that the architecture requires it checks the translation
 * that the architecture requires:
 *
 *  1. a PTE or PDE changed without INVLPG, then CR3 reloaded with the
 *     same value; rights reduced, INVLPG of another page and an access
 *     that may use the softmmu's old TLB entry before the CR3 write;
 *     half of a 2-level table rewritten, then the other half changed;
 *  2. spaces that share tables (the identity, like Linux's kernel half;
 *     a shared table; with PAE a shared directory): one space's tables
 *     changed while another is current, both ways, more entries than
 *     any queue holds, INVLPG in the wrong space or none, a space built
 *     as data while another is current (fork) on a reused root, and one
 *     store across two roots' tables;
 *  3. thousands of switches between two roots with a shared PTE changed
 *     every time, and round robins over 8 and over 12 roots;
 *  4. page tables that are data too: seen through a data mapping and
 *     written there by every kind of store (1 to 64 bytes, across
 *     entries, across two tables, between data and a table, cmpxchg8b,
 *     rep movs/stos, read-modify-writes and atomics, x87 and SSE stores,
 *     FXSAVE, the CPU's interrupt frame; CPL0 and CPL3), through a large
 *     page, and through a recursive PDE;
 *  5. a page written as data through several mappings in several spaces,
 *     then made a page table, then written through the old mappings;
 *  6. a page table that stops being one, then is written heavily as data;
 *  7. CR0.WP toggled with read-only pages mapped, across CR3 switches;
 *  8. CR4.PGE toggled with global pages mapped and changed, and with
 *     PAE after a PDPTE changed (the toggle loads the PDPTEs);
 *  9. Accessed and Dirty where the architecture fixes them, and a hash of
 *     every table after each phase (the runner compares both modes);
 * 10. code in global and non-global pages called across CR3 writes:
 *     the fast mode keeps the TBs of global pages in its jump cache.
 *
 * All of it runs with 2-level paging (and PSE), then again with PAE.
 * Every read is checked against a software walk of the tables as they
 * are, and the frame seen through the identity mapping, which never
 * changes.  Between a change and its flush nothing touches the changed
 * pages: a stale translation is allowed there, and the softmmu and the
 * fast mode may differ.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "attack.h"

#define PTE_G       0x100u
#define CR4_PGE     0x80u
#define RWU         (PTE_P | PTE_W | PTE_U)
#define NO_PHYS     (~0u)
#define NO_CHECK    (~1u)       /* a frame outside the identity */
#define SEED        0x5717c400u
/* 2048 frames at 16-24 MiB, filled with fill_words(SEED) */
#define FRAME(k)    (SCRATCH + ((k) & 2047) * 4096u)

/*
 * Linear layout.  Each region is one page table's span (4 MiB; 2 MiB
 * with PAE, the first half); the last ones are all under the second
 * PAE page directory, like REC, so that the recursive PDE sees them.
 */
#define LOW_END     0x2000000u  /* identity: kernel, tables, frames */
#define PRIV        0x40000000u /* a table of each space's own */
#define PRIV2       0x40400000u /* another one */
#define SHARED      0x40800000u /* one table in every space */
#define GLOBAL      0x40c00000u /* one table of global pages, everywhere */
#define VIEW        0x41000000u /* each space's data mappings of tables */
#define NEWPT       0x41400000u /* a data page that becomes a table */
#define OLDPT       0x41800000u /* a table that becomes a data page */
#define LARGE       0x41c00000u /* a large page */
#define REC         0x7fc00000u /* the recursive PDE */
#define KHIGH       0xc0000000u /* PAE: in the directory all spaces share */

/*
 * Pages of VIEW (each space's view table): 0-3 for views() (V_DATA a
 * data page), 8-9 the page of data_to_table(), 10 the table of
 * table_stops(), 11 a directory in fork_space(), 12-13 two roots' tables
 * in root_straddle().
 */
#define V_DATA      2
#define V_NPAGES    4
#define V_P         8
#define V_Q         10
#define V_FORK      11
#define V_ROOTS     12

#define NSPACES     12

/* One address space. */
struct space {
    u32 cr3;
    u32 dir;        /* its page directory; PAE: three, consecutive */
    u32 priv, priv2, view;
};

static struct space sp[NSPACES], *cur;
static struct space *const sa = &sp[0], *const sb = &sp[1];

/* The paging format of the current run. */
static int pae;
/* Entry bytes, entries per table, log2 of the span of one table. */
static u32 esize, nents, span;
static u32 tables_end;
static u32 low_pt[16], shared_pt, global_pt, khigh_pt, kpd, pdpt_page;

/* Globals: CPL3 code uses them too. */
u32 user_val, user_wval;
u8 st_src[64] __attribute__((aligned(16)));
u32 st_kind;
u32 heavy_src[1024] __attribute__((aligned(16)));
static u8 shadow[3 * 4096];

/* ------------------------------------------------------------------ */
/* Tables                                                             */
/* ------------------------------------------------------------------ */

static void set_format(int p)
{
    pae = p;
    esize = p ? 8 : 4;
    nents = p ? 512 : 1024;
    span = p ? 21 : 22;
}

static u64 ent(u32 addr)
{
    return pae ? *(volatile u64 *)addr : *(volatile u32 *)addr;
}

static void set_ent(u32 addr, u64 v)
{
    if (pae) {
        *(volatile u64 *)addr = v;
    } else {
        *(volatile u32 *)addr = (u32)v;
    }
}

static void clear_bits(u32 addr, u32 bits)
{
    set_ent(addr, ent(addr) & ~(u64)bits);
}

/* Where table @t holds the entry of @lin. */
static u32 pte_at(u32 t, u32 lin)
{
    return t + ((lin >> 12) & (nents - 1)) * esize;
}

/* Where @s holds the PDE of @lin (through its PDPT with PAE). */
static u32 pde_at(const struct space *s, u32 lin)
{
    u32 pd = s->dir;

    if (pae) {
        pd = (u32)ent(s->cr3 + (lin >> 30) * 8) & ~0xfffu;
    }
    return pd + ((lin >> span) & (nents - 1)) * esize;
}

static void set_pde(const struct space *s, u32 lin, u64 v)
{
    set_ent(pde_at(s, lin), v);
}

static void set_pte(u32 t, u32 lin, u64 v)
{
    set_ent(pte_at(t, lin), v);
}

/* An entry made for entry @e in round @r: mostly RWU, some not. */
static u64 newent(u32 e, u32 r)
{
    static const u8 fl[8] = {
        RWU, RWU, PTE_P | PTE_U, RWU, PTE_P | PTE_W, RWU, 0, RWU,
    };

    return FRAME(e * 29 + r * 101 + 7) | fl[(e + r) & 7];
}

/* The R/W and U/S bits of every level of the last walk(). */
static u32 walk_flags;

/*
 * A present entry's frame, or NO_CHECK when it is not plain RAM in the
 * identity (an entry that an instruction's stores made up: above 4 GiB,
 * reserved bits, VGA or BIOS, RAM that nothing here reads).
 */
static u32 frame_of(u64 e, u32 mask)
{
    u32 f = (u32)e & ~mask;

    if ((e >> 32) || f >= LOW_END || (f >= 0xa0000 && f < 0x100000)) {
        return NO_CHECK;
    }
    return f;
}

/*
 * Where @lin lands in @s by its tables as they are now, or NO_PHYS: the
 * translation the architecture requires after a flush.
 */
static u32 walk(const struct space *s, u32 lin)
{
    u64 e = ent(pde_at(s, lin));
    u32 mask = (1u << span) - 1, f;

    walk_flags = (u32)e & (PTE_W | PTE_U);
    if (!(e & PTE_P)) {
        return NO_PHYS;
    }
    f = frame_of(e, e & PTE_PS ? mask : 0xfff);
    if (f == NO_CHECK || (e & PTE_PS)) {
        return f == NO_CHECK ? f : f | (lin & mask);
    }
    e = ent(pte_at(f, lin));
    walk_flags &= (u32)e;
    if (!(e & PTE_P)) {
        return NO_PHYS;
    }
    f = frame_of(e, 0xfff);
    return f == NO_CHECK ? f : f | (lin & 0xfff);
}

static u32 table(void)
{
    u32 t = (u32)pt_alloc();

    tables_end = t + 4096;
    return t;
}

/* PAE: three new directories under the PDPT at s->cr3, and kpd. */
static void new_pds(struct space *s)
{
    s->dir = table();
    table();
    table();
    for (u32 k = 0; k < 3; k++) {
        set_ent(s->cr3 + k * 8, (s->dir + k * 4096) | PTE_P);
    }
    set_ent(s->cr3 + 24, kpd | PTE_P);
}

/* The PDEs of a space: the shared tables, and new ones of its own. */
static void fill_space(struct space *s)
{
    for (u32 k = 0; k < LOW_END >> span; k++) {
        set_pde(s, k << span, low_pt[k] | RWU);
    }
    s->priv = table();
    s->priv2 = table();
    s->view = table();
    set_pde(s, PRIV, s->priv | RWU);
    set_pde(s, PRIV2, s->priv2 | RWU);
    set_pde(s, VIEW, s->view | RWU);
    set_pde(s, SHARED, shared_pt | RWU);
    set_pde(s, GLOBAL, global_pt | RWU);
    if (!pae) {
        set_pde(s, KHIGH, khigh_pt | RWU);
    }
}

static void new_space(struct space *s, u32 i)
{
    if (pae) {
        /* all PDPTs in one page: the roots differ by 32 bytes only */
        s->cr3 = pdpt_page + i * 32;
        new_pds(s);
    } else {
        s->cr3 = s->dir = table();
    }
    fill_space(s);
}

/*
 * The same root made a new address space, as when a freed directory
 * (PAE: PDPT) is reused: everything under it new.
 */
static void rebuild_space(struct space *s)
{
    if (pae) {
        new_pds(s);
    } else {
        for (u32 i = 0; i < nents; i++) {
            set_ent(s->dir + i * 4, 0);
        }
    }
    fill_space(s);
}

/* Every space maps the low 32 MiB 1:1 through the same tables. */
static void build(void)
{
    pt_reset();
    fill_words(SCRATCH, 0x800000, SEED);
    if (pae) {
        pdpt_page = table();
        kpd = table();
    }
    for (u32 k = 0; k < LOW_END >> span; k++) {
        low_pt[k] = table();
        for (u32 j = 0; j < nents; j++) {
            set_ent(low_pt[k] + j * esize, (k << span | j << 12) | RWU);
        }
    }
    shared_pt = table();
    global_pt = table();
    khigh_pt = table();
    if (pae) {
        set_ent(kpd + ((KHIGH >> 21) & 511) * 8, khigh_pt | RWU);
    }
    for (u32 i = 0; i < NSPACES; i++) {
        new_space(&sp[i], i);
    }
}

static void use(struct space *s)
{
    cur = s;
    write_cr3(s->cr3);
}

static struct space *other(void)
{
    return cur == sa ? sb : sa;
}

/* Every word of every table into the hash: A and D must agree. */
static void hash_tables(void)
{
    for (u32 a = PT_AREA; a < tables_end; a += 4) {
        mix(*(volatile u32 *)a);
    }
    ml_printf("  tables hashed: reads %x\n", rhash);
}

/* ------------------------------------------------------------------ */
/* Expectations                                                       */
/* ------------------------------------------------------------------ */

/* The last probe's fault as vector << 16 | error code (0xff0000: none). */
#define FAULT       (last_vec << 16 | (last_vec == NO_VEC ? 0 : last_err))

/* Failures since the last verdict(); the first one is printed. */
static u32 nbad;

static void expect(int ok, const char *what, u32 lin, u32 got, u32 want)
{
    if (!ok && nbad++ == 0) {
        ml_printf("  first failure: %s at %x: %x, want %x\n", what, lin,
                  got, want);
    }
}

static void verdict(const char *what)
{
    check(nbad == 0, what, nbad, 0);
    nbad = 0;
}

/*
 * The accesses whose results are checked, not lib.c's rd32() and
 * wr32(): the fast mode makes a TB that left the direct path a few
 * times (a store to a page table, MMIO) use the softmmu for good, and
 * then it would no longer test the windows.  These never store to a
 * page table nor touch MMIO (see frame_of()); wr32() and user_put()
 * write the tables.  A fault is recorded as by a probe.
 */
static __attribute__((noinline)) u32 chk_rd(u32 a)
{
    u32 v = 0xa5a5a5a5;

    last_vec = NO_VEC;
    asm volatile("movl $1f, recover_eip\n\t"
                 "movl (%1), %0\n"
                 "1:\tmovl $0, recover_eip"
                 : "+r"(v) : "r"(a) : "memory");
    ncases++;
    mix(v);
    return v;
}

static __attribute__((noinline)) u32 chk_wr(u32 a, u32 v)
{
    last_vec = NO_VEC;
    asm volatile("movl $1f, recover_eip\n\t"
                 "movl %1, (%0)\n"
                 "1:\tmovl $0, recover_eip"
                 : : "r"(a), "r"(v) : "memory");
    ncases++;
    return last_vec;
}

static void user_read(u32 a)
{
    user_val = chk_rd(a);
}

static void user_write(u32 a)
{
    chk_wr(a, user_wval);
}

/* A store to a page table at CPL3. */
static void user_put(u32 a)
{
    wr32(a, user_wval);
}

static u32 word_at(u32 phys)
{
    return *(volatile u32 *)phys;
}

/* A CPL0 read of @lin gives what @s's tables say, or faults. */
static void expect_read0(const struct space *s, u32 lin)
{
    u32 phys = walk(s, lin), want, x;

    if (phys == NO_CHECK) {
        return;
    }
    want = phys == NO_PHYS ? 0 : word_at(phys);
    x = chk_rd(lin);
    if (phys == NO_PHYS) {
        expect(last_vec == 14 && last_err == 0 && last_cr2 == lin,
               "CPL0 read of a not-present page faults", lin, FAULT,
               0xe0000);
    } else {
        expect(last_vec == NO_VEC && x == want, "CPL0 read", lin, x, want);
    }
}

/* The same at CPL3: a supervisor page faults too. */
static void expect_read3(const struct space *s, u32 lin)
{
    u32 phys = walk(s, lin), u = walk_flags & PTE_U, want;

    if (phys == NO_CHECK) {
        return;
    }
    want = phys == NO_PHYS ? 0 : word_at(phys);
    user(user_read, lin);
    if (phys == NO_PHYS || !u) {
        u32 err = phys == NO_PHYS ? 4 : 5;

        expect(last_vec == 14 && last_err == err && last_cr2 == lin,
               "CPL3 read faults", lin, FAULT, 0xe0000 | err);
    } else {
        expect(last_vec == NO_VEC && user_val == want, "CPL3 read", lin,
               user_val, want);
    }
}

static void expect_read(const struct space *s, u32 lin)
{
    expect_read0(s, lin);
    expect_read3(s, lin);
}

/* @n pages from @base read at CPL0 and CPL3, at varying offsets. */
static void touch(const struct space *s, u32 base, u32 n)
{
    for (u32 j = 0; j < n; j++) {
        expect_read(s, base + j * 4096 + ((j * 20) & 0xffc));
    }
}

/*
 * A CPL0 write of @v to @lin in @s lands where the tables say, or
 * faults: not present, or read-only while CR0.WP=1.
 */
static void expect_write(const struct space *s, u32 lin, u32 v)
{
    u32 phys = walk(s, lin), old;
    int ro = !(walk_flags & PTE_W) && (read_cr0() & CR0_WP);

    if (phys == NO_CHECK) {
        return;
    }
    old = phys == NO_PHYS ? 0 : word_at(phys);
    chk_wr(lin, v);
    if (phys == NO_PHYS) {
        expect(last_vec == 14 && last_err == 2 && last_cr2 == lin,
               "CPL0 write to a not-present page faults", lin, FAULT,
               0xe0002);
    } else if (ro) {
        expect(last_vec == 14 && last_err == 3 && word_at(phys) == old,
               "CPL0 write to a read-only page faults (CR0.WP=1)", lin,
               FAULT, 0xe0003);
    } else {
        expect(last_vec == NO_VEC && word_at(phys) == v,
               "CPL0 write lands in the frame", lin, word_at(phys), v);
    }
}

/* The same at CPL3: a supervisor or read-only page faults, whatever WP. */
static void expect_user_write(const struct space *s, u32 lin, u32 v)
{
    u32 phys = walk(s, lin), old;
    int ok = (walk_flags & (PTE_W | PTE_U)) == (PTE_W | PTE_U);

    if (phys == NO_CHECK) {
        return;
    }
    old = phys == NO_PHYS ? 0 : word_at(phys);
    user_wval = v;
    user(user_write, lin);
    if (phys == NO_PHYS) {
        expect(last_vec == 14 && last_err == 6 && last_cr2 == lin,
               "CPL3 write to a not-present page faults", lin, FAULT,
               0xe0006);
    } else if (!ok) {
        expect(last_vec == 14 && last_err == 7 && word_at(phys) == old,
               "CPL3 write to a read-only or supervisor page faults", lin,
               FAULT, 0xe0007);
    } else {
        expect(last_vec == NO_VEC && word_at(phys) == v,
               "CPL3 write lands in the frame", lin, word_at(phys), v);
    }
}

static void check_ad(u32 addr, u32 want, const char *what)
{
    u32 e = (u32)ent(addr) & (PTE_A | PTE_D);

    check(e == want, what, e, want);
}

/* Kinds of store to a table through its data mapping. */
enum { S1, S2, S4, S8, S16, SCX8, SMOVS, SSTOS, NSTORES };
static const u8 store_width[NSTORES] = { 1, 2, 4, 8, 16, 8, 64, 32 };

/* One store of st_kind of st_src to @a: at CPL0, or at CPL3 by user(). */
static void do_store(u32 a)
{
    u32 n, src = (u32)st_src;

    switch (st_kind) {
    case S1:
        asm volatile("movb st_src, %%al\n\tmovb %%al, (%0)"
                     : : "r"(a) : "eax", "memory");
        break;
    case S2:
        asm volatile("movw st_src, %%ax\n\tmovw %%ax, (%0)"
                     : : "r"(a) : "eax", "memory");
        break;
    case S4:
        asm volatile("movl st_src, %%eax\n\tmovl %%eax, (%0)"
                     : : "r"(a) : "eax", "memory");
        break;
    case S8:
        asm volatile("movq st_src, %%xmm0\n\tmovq %%xmm0, (%0)"
                     : : "r"(a) : "memory");
        break;
    case S16:
        asm volatile("movdqu st_src, %%xmm0\n\tmovdqu %%xmm0, (%0)"
                     : : "r"(a) : "memory");
        break;
    case SCX8:
        asm volatile("movl (%0), %%eax\n\tmovl 4(%0), %%edx\n\t"
                     "movl st_src, %%ebx\n\tmovl st_src+4, %%ecx\n\t"
                     "lock cmpxchg8b (%0)"
                     : : "S"(a) : "eax", "ebx", "ecx", "edx", "memory");
        break;
    case SMOVS:
        n = 16;
        asm volatile("rep movsl" : "+S"(src), "+D"(a), "+c"(n) : : "memory");
        break;
    case SSTOS:
        n = 8;
        asm volatile("rep stosl" : "+D"(a), "+c"(n) : "a"(0) : "memory");
        break;
    }
}

/* ------------------------------------------------------------------ */
/* 1. CR3 reloaded with the same value                                */
/* ------------------------------------------------------------------ */

static void reload_pte(void)
{
    use(sa);
    for (u32 r = 0; r < 64; r++) {
        u32 lin = PRIV + r * 4096 + ((r * 52) & 0xffc);
        u32 old = FRAME(r) + (lin & 0xfff), kept;

        set_pte(sa->priv, lin, FRAME(r) | RWU);
        write_cr3(sa->cr3);
        expect_read(sa, lin);
        expect_write(sa, lin, 0x1000 + r);
        set_pte(sa->priv, lin, FRAME(64 + r) | RWU);
        /* PWT and PCD change nothing of the address space */
        write_cr3(sa->cr3 | (r & 3) << 3);
        expect_read(sa, lin);
        expect_write(sa, lin, 0x2000 + r);
        expect_user_write(sa, lin, 0x3000 + r);
        kept = word_at(old);
        expect(kept == 0x1000 + r, "the old frame keeps its data", lin, kept,
               0x1000 + r);
    }
    write_cr3(sa->cr3);
    verdict("PTE changed, no INVLPG, CR3 reloaded with the same value (or "
            "PWT and PCD changed): the new frame is read and written at "
            "CPL0 and CPL3");
}

static void reload_rights(void)
{
    static const u32 fl[6] = {
        PTE_P | PTE_U, PTE_P | PTE_W, 0, RWU, PTE_P, RWU,
    };

    for (u32 r = 0; r < 48; r++) {
        u32 lin = PRIV + (r & 15) * 4096 + 8 * r;

        set_pte(sa->priv, lin, FRAME(128 + (r & 15)) | fl[r % 6]);
        write_cr3(sa->cr3);
        expect_read(sa, lin);
        expect_write(sa, lin, r);
        expect_user_write(sa, lin, ~r);
    }
    verdict("PTE made read-only, supervisor, not present, present, then "
            "CR3 reloaded: reads and writes fault exactly as it says");
}

static void reload_pde(void)
{
    u32 t = table();

    for (u32 j = 0; j < 64; j++) {
        set_ent(t + j * esize, FRAME(192 + j) | RWU);
        set_pte(sa->priv, PRIV + j * 4096, FRAME(256 + j) | RWU);
    }
    write_cr3(sa->cr3);
    touch(sa, PRIV, 64);
    set_pde(sa, PRIV, t | RWU);
    write_cr3(sa->cr3);
    touch(sa, PRIV, 64);
    set_pde(sa, PRIV, SCRATCH | RWU | PTE_PS);
    write_cr3(sa->cr3);
    touch(sa, PRIV, 64);
    for (u32 j = 0; j < 64; j += 9) {
        expect_write(sa, PRIV + j * 4096 + 0x40, j);
    }
    set_pde(sa, PRIV, 0);
    write_cr3(sa->cr3);
    touch(sa, PRIV, 8);
    set_pde(sa, PRIV, sa->priv | RWU);
    write_cr3(sa->cr3);
    touch(sa, PRIV, 64);
    verdict("PDE changed (another table, a large page, not present, the "
            "first table), CR3 reloaded with the same value: all of it "
            "translates anew");
}

/*
 * A TLB entry may outlive a change of its PTE until the flush, and the
 * softmmu's does; a window's mapping must not outlive the flush.  X's
 * rights are reduced (same frame, A and D set; read-only or supervisor)
 * without INVLPG; INVLPG of another page Y then applies the queued
 * invalidations, so X leaves the windows but not the softmmu TLB; X is
 * read at CPL0 and CPL3 and may come back from that TLB entry (the
 * frame is the same either way; whether the CPL3 read of a page made
 * supervisor faults is not, but both modes take the softmmu's entry).
 * After a CR3 write, X's new rights must hold.  @pde: reduce them in
 * the PDE.
 */
static void stale_refill(u32 r, int pde)
{
    u32 x = PRIV + (480 + (r & 7)) * 4096 + 4 * r, y = PRIV + 500 * 4096;
    u32 f = FRAME(1960 + (r & 7)), t = table();
    u64 ad = PTE_A | PTE_D, rights = r & 1 ? PTE_P | PTE_U : PTE_P | PTE_W;

    for (u32 j = 0; j < nents; j++) {
        set_ent(t + j * esize, ent(sa->priv + j * esize));
    }
    set_pte(t, x, f | RWU);
    set_pte(t, y, FRAME(1970) | RWU);
    set_pde(sa, PRIV, t | RWU);
    use(sa);
    expect_write(sa, x, r);
    expect_user_write(sa, x, ~r);
    expect_read(sa, y);
    if (pde) {
        set_pde(sa, PRIV, t | rights | PTE_A);
    } else {
        set_pte(t, x, f | rights | ad);
    }
    invlpg(y);
    chk_rd(x);
    user(user_read, x);
    if (r & 2) {
        use(sa);
    } else {
        use(sb);
        use(sa);
    }
    expect_write(sa, x, r ^ 0xff);
    expect_read(sa, x);
    expect_user_write(sa, x, r ^ 0xf0);
    set_pde(sa, PRIV, sa->priv | RWU);
}

static void stale_refills(void)
{
    for (u32 r = 0; r < 32; r++) {
        stale_refill(r, r >= 16);
    }
    use(sa);
    verdict("rights reduced in a PTE or PDE without INVLPG, INVLPG of "
            "another page, a read that may use the old TLB entry, then a "
            "CR3 write: the new rights hold at CPL0 and CPL3");
}

/*
 * A 2-level page table translates 4 MiB, two halves of 2 MiB.  Every PTE
 * of the first half rewritten, its 512 pages mapped before (so that the
 * invalidations of the stores add up to that half exactly), INVLPG of
 * an unrelated page, then PTEs of the second half, mapped all along,
 * changed: after a CR3 write they must be used.  With PAE the same on
 * half of a table.
 */
static void half_table(void)
{
    u32 half = nents / 2, far = PRIV + (half + 200) * 4096;

    for (u32 j = 0; j < nents; j++) {
        set_pte(sa->priv, PRIV + j * 4096, FRAME(j) | RWU);
    }
    use(sa);
    for (u32 r = 0; r < 4; r++) {
        for (u32 j = 0; j < half; j++) {
            chk_rd(PRIV + j * 4096);
        }
        touch(sa, PRIV + half * 4096, 16);
        for (u32 j = 0; j < half; j++) {
            set_pte(sa->priv, PRIV + j * 4096, FRAME(j + 1024 * (~r & 1)) |
                    RWU);
        }
        invlpg(far);
        for (u32 j = half; j < half + 16; j++) {
            set_pte(sa->priv, PRIV + j * 4096, FRAME(j + 1024 * (~r & 1)) |
                    RWU);
        }
        write_cr3(sa->cr3);
        touch(sa, PRIV + half * 4096, 16);
        touch(sa, PRIV, 4);
    }
    verdict("every PTE of one half of a table rewritten, INVLPG elsewhere, "
            "then PTEs of the other half changed: after a CR3 reload both "
            "halves use the new entries");
}

static void reload_cases(void)
{
    reload_pte();
    reload_rights();
    reload_pde();
    stale_refills();
    half_table();
}

/* ------------------------------------------------------------------ */
/* 2. Spaces changed while another is current                        */
/* ------------------------------------------------------------------ */

static void parked_changes(void)
{
    static const u32 fl[4] = { RWU, 0, PTE_P | PTE_U, PTE_P | PTE_W };
    u32 t = table();

    for (u32 j = 0; j < 32; j++) {
        set_pte(sa->priv, PRIV + j * 4096, FRAME(300 + j) | RWU);
        set_pte(sb->priv, PRIV + j * 4096, FRAME(340 + j) | RWU);
        set_pte(shared_pt, SHARED + j * 4096, FRAME(380 + j) | RWU);
        set_ent(t + j * esize, FRAME(420 + j) | RWU);
    }
    use(sa);
    touch(sa, PRIV, 32);
    touch(sa, SHARED, 32);
    for (u32 j = 0; j < 32; j += 3) {
        expect_write(sa, PRIV + j * 4096 + 16, j);
    }
    use(sb);
    touch(sb, PRIV, 32);
    touch(sb, SHARED, 32);
    /* A's PTEs and a PDE, written through B's identity mapping */
    for (u32 j = 0; j < 32; j++) {
        set_pte(sa->priv, PRIV + j * 4096, FRAME(460 + j) | fl[j & 3]);
    }
    set_pde(sa, NEWPT, t | RWU);
    touch(sb, PRIV, 32);
    touch(sb, NEWPT, 2);
    use(sa);
    touch(sa, PRIV, 32);
    touch(sa, NEWPT, 32);
    for (u32 j = 0; j < 32; j++) {
        expect_write(sa, PRIV + j * 4096 + 20, j);
        expect_user_write(sa, PRIV + j * 4096 + 24, j);
    }
    set_pde(sa, NEWPT, 0);
    write_cr3(sa->cr3);
    touch(sa, NEWPT, 2);
    verdict("A's PTEs (new frame, not present, read-only, supervisor) and "
            "a PDE changed while B is current: A uses them once back");
}

static void shared_changes(void)
{
    u32 t = table();

    for (u32 j = 0; j < 32; j++) {
        set_ent(t + j * esize, FRAME(620 + j) | RWU);
    }
    use(sa);
    touch(sa, SHARED, 32);
    use(sb);
    touch(sb, SHARED, 32);
    for (u32 j = 0; j < 32; j++) {
        set_pte(shared_pt, SHARED + j * 4096, FRAME(500 + j) | RWU);
    }
    use(sa);
    touch(sa, SHARED, 32);
    use(sb);
    touch(sb, SHARED, 32);
    for (u32 j = 0; j < 32; j++) {
        set_pte(shared_pt, SHARED + j * 4096, FRAME(540 + j) | RWU);
    }
    write_cr3(sb->cr3);
    touch(sb, SHARED, 32);
    use(sa);
    touch(sa, SHARED, 32);
    /* B's PDE of the shared region, changed while A is current */
    set_pde(sb, SHARED, t | RWU);
    use(sb);
    touch(sb, SHARED, 32);
    use(sa);
    touch(sa, SHARED, 32);
    set_pde(sb, SHARED, shared_pt | RWU);
    use(sb);
    touch(sb, SHARED, 32);
    verdict("the table both spaces share, changed while B is current, "
            "and B's PDE of it changed while A is: each space sees the "
            "change after its next CR3 write");
}

/* With PAE one directory is the same page in every space. */
static void shared_dir(void)
{
    u32 t = table(), pde = pae ? kpd + ((KHIGH >> 21) & 511) * 8 : 0;

    for (u32 j = 0; j < 16; j++) {
        set_pte(khigh_pt, KHIGH + j * 4096, FRAME(580 + j) | RWU);
        set_ent(t + j * esize, FRAME(600 + j) | RWU);
    }
    use(sa);
    touch(sa, KHIGH, 16);
    use(sb);
    touch(sb, KHIGH, 16);
    if (pae) {
        set_ent(pde, t | RWU);
    } else {
        set_pde(sa, KHIGH, t | RWU);
        set_pde(sb, KHIGH, t | RWU);
    }
    use(sa);
    touch(sa, KHIGH, 16);
    use(sb);
    touch(sb, KHIGH, 16);
    if (pae) {
        set_ent(pde, khigh_pt | RWU);
    } else {
        set_pde(sa, KHIGH, khigh_pt | RWU);
        set_pde(sb, KHIGH, khigh_pt | RWU);
    }
    use(sa);
    touch(sa, KHIGH, 16);
    verdict(pae ? "a PDE of the directory every space shares, changed "
            "while B is current: A and B use the new table"
            : "the PDEs of 3 GiB in A and B, changed while B is current: "
            "A and B use the new table");
}

/*
 * More entries changed while a space is parked than a queue of
 * invalidations holds, none adjacent so that none merge.
 */
static void many_parked(void)
{
    for (u32 i = 0; i < 200; i++) {
        set_pte(sa->priv, PRIV + 2 * i * 4096, FRAME(640 + i) | RWU);
        set_pte(sa->priv2, PRIV2 + 2 * i * 4096, FRAME(840 + i) | RWU);
    }
    use(sa);
    for (u32 i = 0; i < 200; i++) {
        expect_read0(sa, PRIV + 2 * i * 4096 + 4 * i);
        expect_read3(sa, PRIV2 + 2 * i * 4096 + 4 * i);
    }
    use(sb);
    for (u32 i = 0; i < 200; i++) {
        set_pte(sa->priv, PRIV + 2 * i * 4096, FRAME(1040 + i) | RWU);
        set_pte(sa->priv2, PRIV2 + 2 * i * 4096, FRAME(1240 + i) | RWU);
    }
    use(sa);
    for (u32 i = 0; i < 200; i++) {
        expect_read(sa, PRIV + 2 * i * 4096 + 4 * i);
        expect_read(sa, PRIV2 + 2 * i * 4096 + 4 * i);
    }
    verdict("400 PTEs of A, none adjacent, changed while B is current: "
            "A uses every new one");
}

/* A PTE of a parked space needs no INVLPG: the CR3 write flushes it. */
static void invlpg_elsewhere(void)
{
    u32 base = PRIV + 200 * 4096;

    for (u32 j = 0; j < 16; j++) {
        set_pte(sa->priv, base + j * 4096, FRAME(1400 + j) | RWU);
        set_pte(sb->priv, base + j * 4096, FRAME(1420 + j) | RWU);
    }
    use(sa);
    touch(sa, base, 16);
    use(sb);
    touch(sb, base, 16);
    /* no INVLPG anywhere */
    for (u32 j = 0; j < 16; j++) {
        set_pte(sa->priv, base + j * 4096, FRAME(1440 + j) | RWU);
    }
    use(sa);
    touch(sa, base, 16);
    /* INVLPG of the same addresses, but in B, where B's pages are */
    use(sb);
    for (u32 j = 0; j < 16; j++) {
        set_pte(sa->priv, base + j * 4096, FRAME(1460 + j) | RWU);
        invlpg(base + j * 4096);
    }
    touch(sb, base, 16);
    use(sa);
    touch(sa, base, 16);
    /* through a third space */
    use(sb);
    for (u32 j = 0; j < 16; j++) {
        set_pte(sa->priv, base + j * 4096, FRAME(1480 + j) | RWU);
    }
    use(&sp[2]);
    touch(&sp[2], base, 2);
    use(sa);
    touch(sa, base, 16);
    /* an INVLPG in A first, which must not use up the later change */
    for (u32 j = 0; j < 16; j++) {
        invlpg(base + j * 4096);
    }
    touch(sa, base, 16);
    use(sb);
    for (u32 j = 0; j < 16; j++) {
        set_pte(sa->priv, base + j * 4096, FRAME(1500 + j) | RWU);
    }
    use(sa);
    touch(sa, base, 16);
    /* changed in A itself, no INVLPG, then B, then A */
    for (u32 j = 0; j < 16; j++) {
        set_pte(sa->priv, base + j * 4096, FRAME(1520 + j) | RWU);
    }
    use(sb);
    touch(sb, base, 16);
    use(sa);
    touch(sa, base, 16);
    verdict("PTEs of A changed while B is current: no INVLPG, INVLPG in B, "
            "via a third space, after an INVLPG in A, or changed in A "
            "itself: A uses the new ones once back");
}

/*
 * An address space made while A is current, as fork and exec do: its
 * tables are written as data through A's identity mapping (A's window
 * then holds them writable), CR3 goes to it, A changes them again (also
 * at CPL3 through a view).  And first its root is one that had another
 * address space, still in a window: a reused directory.
 */
static void fork_space(void)
{
    struct space *c = &sp[NSPACES - 1];
    u32 pde, vpd = VIEW + V_FORK * 4096;

    for (u32 j = 0; j < 16; j++) {
        set_pte(c->priv, PRIV + j * 4096, FRAME(1080 + j) | RWU);
    }
    use(c);
    touch(c, PRIV, 16);
    use(sa);
    rebuild_space(c);
    for (u32 j = 0; j < 32; j++) {
        set_pte(c->priv, PRIV + j * 4096, FRAME(1100 + j) | RWU);
    }
    use(c);
    touch(c, PRIV, 32);
    touch(c, SHARED, 8);
    use(sa);
    for (u32 j = 0; j < 32; j++) {
        set_pte(c->priv, PRIV + j * 4096,
                FRAME(1140 + j) | (j & 3 ? RWU : PTE_P | PTE_U));
    }
    use(c);
    touch(c, PRIV, 32);
    for (u32 j = 0; j < 32; j += 4) {
        expect_write(c, PRIV + j * 4096 + 0x44, j);
    }
    /* its PDE, at CPL3 in A through a view of its directory */
    pde = pde_at(c, PRIV);
    use(sa);
    set_pte(sa->view, vpd, (pde & ~0xfffu) | RWU);
    write_cr3(sa->cr3);
    user_wval = c->priv2 | RWU;
    user(user_put, vpd + (pde & 0xfff));
    expect(last_vec == NO_VEC, "a PDE written at CPL3 through a view", pde,
           last_vec, NO_VEC);
    use(c);
    touch(c, PRIV, 32);
    set_pde(c, PRIV, c->priv | RWU);
    use(c);
    touch(c, PRIV, 8);
    verdict("a space built while A is current on a root that held another "
            "(a reused directory), switched to, then changed from A at CPL0 "
            "and CPL3: it uses the new tables and every change");
}

/*
 * The high part of the space as X sees it: KHIGH with PAE (X's PDPTE
 * 3), the last 4 MiB in 2-level (X's last PDE).
 */
#define TOP_OF      (pae ? KHIGH : 0xffc00000u)
#define X_LAST(x)   (pae ? (x)->cr3 + 24 : (x)->dir + 4092)

/* VIEW pages onto the tables of X and Y, and where X's end meets Y's start. */
static void straddle_views(struct space *x, struct space *y, u32 *a)
{
    u32 v = VIEW + V_ROOTS * 4096;

    if (pae) {
        /* both PDPTs are in pdpt_page, X's ends where Y's starts */
        set_pte(sa->view, v, pdpt_page | RWU);
        *a = v + (x->cr3 & 0xfff) + 24;
    } else {
        set_pte(sa->view, v, x->dir | RWU);
        set_pte(sa->view, v + 4096, y->dir | RWU);
        *a = v + 4096 - 4;
    }
}

/*
 * One store across the tables of two roots: the end of X's directory
 * (PAE: X's PDPT) and the start of Y's, rewritten with what is there.
 * X uses its new entry after its next CR3 load; Y is intact.
 */
static void root_store(struct space *x, struct space *y, u32 a, u64 xe,
                       int cpl3)
{
    u32 yfirst = pae ? y->cr3 : y->dir, xlast = X_LAST(x);
    u64 ye = ent(yfirst);

    for (u32 i = 0; i < esize; i++) {
        st_src[i] = (u8)(xe >> (8 * i));
        st_src[esize + i] = (u8)(ye >> (8 * i));
    }
    st_kind = pae ? S16 : S8;
    if (cpl3) {
        user(do_store, a);
    } else {
        do_store(a);
    }
    expect(ent(yfirst) == ye && ent(xlast) == xe, "a store across two "
           "roots' tables", a, (u32)ent(xlast), (u32)xe);
}

static void root_straddle(void)
{
    struct space *x = &sp[2], *y = &sp[3];
    u32 t = table(), top = TOP_OF, a, old, xnew;

    for (u32 j = 0; j < 16; j++) {
        set_ent(t + j * esize, FRAME(1900 + j) | RWU);
    }
    xnew = t | RWU;
    if (pae) {
        /* a directory for 3-4 GiB like kpd, but with t at KHIGH */
        xnew = table() | PTE_P;
        set_ent(xnew - PTE_P + ((KHIGH >> 21) & 511) * 8, t | RWU);
    }
    old = (u32)ent(X_LAST(x));
    straddle_views(x, y, &a);
    for (u32 r = 0; r < 8; r++) {
        use(x);
        touch(x, top, 16);
        use(y);
        touch(y, top, 4);
        touch(y, 0x100000, 4);
        use(sa);
        write_cr3(sa->cr3);
        root_store(x, y, a, r & 1 ? old : xnew, r & 2);
        use(x);
        touch(x, top, 16);
        use(y);
        touch(y, top, 4);
        touch(y, 0x100000, 4);
    }
    verdict(pae ? "one 16-byte store across two PDPTs in one page, X's "
            "last PDPTE and Y's first (CPL0 and CPL3): X uses its new "
            "directory after its next CR3 load, Y is intact"
            : "one 8-byte store across two directories, X's last PDE and "
            "Y's first (CPL0 and CPL3): X uses its new table after its "
            "next CR3 load, Y is intact");
}

static void spaces_cases(void)
{
    parked_changes();
    shared_changes();
    shared_dir();
    many_parked();
    invlpg_elsewhere();
    fork_space();
    root_straddle();
}

/* ------------------------------------------------------------------ */
/* 3. Ping-pong and round robins                                      */
/* ------------------------------------------------------------------ */

static void pp_visit(struct space *s, u32 lin, u32 r, int second)
{
    u32 plin = PRIV + (r & 31) * 4096 + 0x10;

    use(s);
    if ((r & 3) == 3) {
        expect_read(s, lin);
    } else {
        expect_read0(s, lin);
    }
    /* a write in one root is read in the other */
    if (r % 16 == 5 && !second) {
        expect_write(s, lin, r);
    }
    expect_read0(s, plin);
}

static void ping_pong(void)
{
    for (u32 j = 0; j < 64; j++) {
        set_pte(shared_pt, SHARED + j * 4096, FRAME(j * 3) | RWU);
    }
    for (u32 j = 0; j < 32; j++) {
        set_pte(sa->priv, PRIV + j * 4096, FRAME(200 + j) | RWU);
        set_pte(sb->priv, PRIV + j * 4096, FRAME(240 + j) | RWU);
    }
    use(sb);
    touch(sb, SHARED, 64);
    use(sa);
    touch(sa, SHARED, 64);
    /*
     * The order of the roots changes every two rounds, so that the PTE
     * is changed under either root and read first after a switch or
     * after a reload of the same root.
     */
    for (u32 r = 0; r < 16384; r++) {
        struct space *first = (r >> 1) & 1 ? sb : sa;
        u32 j = (r * 7) & 63, lin = SHARED + j * 4096 + ((r * 4) & 0xffc);

        set_pte(shared_pt, lin, FRAME(r * 13 + 5) | RWU);
        pp_visit(first, lin, r, 0);
        pp_visit(first == sa ? sb : sa, lin, r, 1);
    }
    verdict("16384 rounds, a PTE of the shared table changed each time, "
            "read through both roots: always the new frame");
}

/*
 * Visit the first @n spaces in turn, @laps times; in each read a page
 * of its own and a shared one, then change the PTEs that the next
 * visit reads.
 */
static void round_robin(u32 n, u32 laps, const char *what)
{
    for (u32 i = 0; i < n; i++) {
        for (u32 k = 0; k < 8; k++) {
            set_pte(sp[i].priv, PRIV + k * 4096, FRAME(300 + i * 8 + k) | RWU);
        }
    }
    for (u32 k = 0; k < 8; k++) {
        set_pte(shared_pt, SHARED + k * 4096, FRAME(400 + k) | RWU);
    }
    for (u32 v = 0; v < n * laps; v++) {
        struct space *s = &sp[v % n], *next = &sp[(v + 1) % n];
        u32 k = (v * 3 + v / n) & 7;
        u32 nk = ((v + 1) * 3 + (v + 1) / n) & 7;

        use(s);
        expect_read(s, PRIV + k * 4096 + 4 * (v & 63));
        expect_read(s, SHARED + k * 4096 + 4 * (v & 63));
        set_pte(next->priv, PRIV + nk * 4096, FRAME(500 + v) | RWU);
        set_pte(shared_pt, SHARED + nk * 4096, FRAME(1500 + v) | RWU);
    }
    verdict(what);
}

static void ping_pong_cases(void)
{
    ping_pong();
    round_robin(8, 64, "round robin over 8 roots, each changing the next "
                "one's PTE and a shared one: every visit sees both");
    round_robin(NSPACES, 48, "round robin over 12 roots (more than the "
                "fast mode keeps): every visit sees both changes");
}

/* ------------------------------------------------------------------ */
/* 4. Page tables as data                                             */
/* ------------------------------------------------------------------ */

/*
 * What VIEW shows of A: page 0 its table at PRIV, 1 the one at PRIV2,
 * 2 a data page, 3 the first table again; so stores can cross from a
 * table into a table, into data, and from data into a table.
 */
#define V_DATA_FRAME FRAME(2000)

static u32 view_page_phys(u32 pg)
{
    switch (pg) {
    case 1:
        return sa->priv2;
    case V_DATA:
        return V_DATA_FRAME;
    }
    return sa->priv;
}

/* Byte @off of VIEW in shadow[], where page 3 is page 0. */
static u32 shadow_index(u32 off)
{
    return off >= 3 * 4096 ? off - 3 * 4096 : off;
}

/* The page whose entry is at byte @off of VIEW, or NO_PHYS (data). */
static u32 view_entry_lin(u32 off)
{
    u32 pg = off >> 12, e = (off & 0xfff) / esize;

    if (pg == V_DATA) {
        return NO_PHYS;
    }
    return (pg == 1 ? PRIV2 : PRIV) + e * 4096;
}

/* The pages whose entries are in bytes [lo, hi) of VIEW, and next ones. */
static void touch_entries(u32 lo, u32 hi)
{
    u32 from = lo >= esize ? lo - esize : 0;

    for (u32 b = from & ~(esize - 1); b < hi + esize &&
         b < V_NPAGES * 4096; b += esize) {
        u32 lin = view_entry_lin(b);

        if (lin != NO_PHYS) {
            expect_read(sa, lin + ((b * 3) & 0xffc));
        }
    }
}

static void invlpg_entries(u32 lo, u32 hi)
{
    for (u32 b = lo & ~(esize - 1); b < hi; b += esize) {
        if (view_entry_lin(b) != NO_PHYS) {
            invlpg(view_entry_lin(b));
        }
    }
}

static void save_view(void)
{
    for (u32 i = 0; i < 3 * 4096; i++) {
        shadow[i] = *(volatile u8 *)(view_page_phys(i >> 12) + (i & 0xfff));
    }
}

/* Bytes of the first three pages of VIEW that differ from shadow[]. */
static u32 view_changed(void)
{
    u32 bad = 0;

    for (u32 i = 0; i < 3 * 4096; i++) {
        bad += *(volatile u8 *)(view_page_phys(i >> 12) + (i & 0xfff)) !=
               shadow[i];
    }
    return bad;
}

/* After a store to bytes [lo, hi) of VIEW: the flush, the translations. */
static void view_flushed(u32 lo, u32 hi, int reload)
{
    if (reload) {
        write_cr3(sa->cr3);
    } else {
        invlpg_entries(lo, hi);
    }
    touch_entries(lo, hi);
}

/*
 * One store of @kind at byte @off of VIEW, at CPL3 when @cpl3, of
 * entries made for round @r (zeros for rep stos): the pages must then
 * hold exactly those bytes, and after INVLPG of the pages whose entries
 * it touched, or a CR3 reload when @reload, those pages translate by
 * them.  The pages around are read first, so that the old translations
 * are in place and A and D do not change afterwards.
 */
static void view_store(u32 kind, u32 off, u32 r, int cpl3, int reload)
{
    u32 n = store_width[kind], bad;

    for (u32 i = 0; i < n; i++) {
        u32 b = shadow_index(off + i);

        st_src[i] = kind == SSTOS ? 0 :
                    (u8)(newent(b / esize, r) >> (8 * (b % esize)));
    }
    touch_entries(off, off + n);
    save_view();
    for (u32 i = 0; i < n; i++) {
        shadow[shadow_index(off + i)] = st_src[i];
    }
    st_kind = kind;
    if (cpl3) {
        user(do_store, VIEW + off);
    } else {
        do_store(VIEW + off);
    }
    bad = view_changed();
    expect(bad == 0, "the store changed exactly its bytes", off, bad, kind);
    view_flushed(off, off + n, reload);
}

/* Where a store of @kind at entry @e goes, for round @r. */
static u32 store_off(u32 kind, u32 e, u32 r)
{
    u32 off = e * esize, n = store_width[kind];

    switch (kind) {
    case S1:
        off += r & 1;           /* the flags, or frame bits 12-15 */
        break;
    case S2:
        off += 2;               /* frame bits 16-31 */
        break;
    case S4:
        off += r & 1 ? 2 : 0;   /* across two entries, or one */
        break;
    case S8:
    case S16:
        off += r & 1 ? 4 : 0;   /* PAE: across entries, or whole ones */
        break;
    case SCX8:
        off &= ~7u;
        break;
    }
    return off + n <= 2 * 4096 ? off : 2 * 4096 - n;
}

/*
 * A's two tables made again (the high halves of PAE entries too, which
 * some stores here fill), and A current.
 */
static void reset_tables(void)
{
    for (u32 e = 0; e < nents; e++) {
        set_ent(sa->priv + e * esize, newent(e, 0));
        set_ent(sa->priv2 + e * esize, newent(e + nents, 0));
    }
    use(sa);
}

static void view_setup(void)
{
    set_pte(sa->view, VIEW, sa->priv | RWU);
    set_pte(sa->view, VIEW + 4096, sa->priv2 | RWU);
    set_pte(sa->view, VIEW + V_DATA * 4096, V_DATA_FRAME | RWU);
    set_pte(sa->view, VIEW + 3 * 4096, sa->priv | RWU);
    reset_tables();
}

static void views(void)
{
    /* stores across page borders: table|table, table|data, data|table */
    static const u16 border[] = {
        4096 - 8, 4096 - 4, 4096 - 2, 8192 - 8, 8192 - 3, 8192 - 1,
        12288 - 8, 12288 - 4, 12288 - 1, 12288 - 12,
    };

    view_setup();
    for (u32 off = 0; off < 8192; off += 4 * 5) {
        u32 want = word_at(view_page_phys(off >> 12) + (off & 0xfff));
        u32 x = chk_rd(VIEW + off);

        expect(x == want, "CPL0 read of a table through its view", off, x,
               want);
        user(user_read, VIEW + off);
        expect(user_val == want, "CPL3 read of a table through its view",
               off, user_val, want);
    }
    verdict("page tables read through a data mapping at CPL0 and CPL3");

    for (u32 r = 1; r <= 512; r++) {
        u32 kind = r % NSTORES, e = (r * 37) % (2 * nents);

        view_store(kind, store_off(kind, e, r), r, (r / NSTORES) & 1,
                   (r / 3) & 1);
    }
    for (u32 r = 0; r < 3 * NSTORES * sizeof(border) / 2; r++) {
        u32 kind = r % NSTORES, b = border[(r / NSTORES) % 10];
        u32 n = store_width[kind];
        u32 off = b + n > 12288 + 64 ? 12288 + 64 - n : b;

        view_store(kind, off, 600 + r, r & 1, (r >> 1) & 1);
    }
    verdict("entries written through a data mapping of the tables (1, 2, "
            "4, 8, 16 bytes, cmpxchg8b, rep movs, rep stos; across entries, "
            "across two tables, from a data page into a table and back; "
            "CPL0 and CPL3): the pages hold the bytes, and INVLPG or a CR3 "
            "reload makes the entries translate");
}

/*
 * Other instructions that store: read-modify-writes, atomics as Linux
 * uses them on PTEs, pop to memory, x87 and SSE stores, descriptor-table
 * and machine-status stores.  Each runs once on a copy of the bytes
 * (op_ref) and once on the table through VIEW; both must end equal.
 */
u32 op_eax, op_ecx, op_esp;
u64 op_f64;
u8 op_ref[64] __attribute__((aligned(16)));
u8 op_mask[16] __attribute__((aligned(16)));

static void i_btr_w(u32 a)
{
    asm volatile("lock btrl $1, (%0)" : : "r"(a) : "memory", "cc");
}

static void i_bts_u(u32 a)
{
    asm volatile("lock btsl $2, (%0)" : : "r"(a) : "memory", "cc");
}

static void i_btr_p(u32 a)
{
    asm volatile("btrl $0, (%0)" : : "r"(a) : "memory", "cc");
}

static void i_and(u32 a)
{
    asm volatile("lock andl $0xffffefdf, (%0)" : : "r"(a) : "memory", "cc");
}

static void i_or(u32 a)
{
    asm volatile("orl $0x4000, (%0)" : : "r"(a) : "memory", "cc");
}

static void i_xor(u32 a)
{
    asm volatile("xorl $0x00102000, (%0)" : : "r"(a) : "memory", "cc");
}

static void i_xchg(u32 a)
{
    asm volatile("movl op_eax, %%eax\n\txchgl %%eax, (%0)"
                 : : "r"(a) : "eax", "memory");
}

static void i_xadd(u32 a)
{
    asm volatile("movl $0x3000, %%eax\n\tlock xaddl %%eax, (%0)"
                 : : "r"(a) : "eax", "memory", "cc");
}

static void i_cmpxchg(u32 a)
{
    asm volatile("movl (%0), %%eax\n\tmovl op_eax, %%ecx\n\t"
                 "lock cmpxchgl %%ecx, (%0)"
                 : : "r"(a) : "eax", "ecx", "memory", "cc");
}

static void i_add(u32 a)
{
    asm volatile("addl $0x5000, (%0)" : : "r"(a) : "memory", "cc");
}

static void i_inc(u32 a)
{
    asm volatile("incl (%0)" : : "r"(a) : "memory", "cc");
}

static void i_pop(u32 a)
{
    asm volatile("pushl op_eax\n\tpopl (%0)" : : "r"(a) : "memory");
}

static void i_push(u32 a)
{
    asm volatile("movl %%esp, op_esp\n\tleal 4(%0), %%esp\n\t"
                 "pushl op_eax\n\tmovl op_esp, %%esp" : : "r"(a) : "memory");
}

static void i_fistp(u32 a)
{
    asm volatile("fildl op_eax\n\tfistpl (%0)" : : "r"(a) : "memory");
}

static void i_fstp(u32 a)
{
    asm volatile("fldl op_f64\n\tfstpl (%0)" : : "r"(a) : "memory");
}

static void i_movnti(u32 a)
{
    asm volatile("movl op_eax, %%eax\n\tmovnti %%eax, (%0)"
                 : : "r"(a) : "eax", "memory");
}

static void i_maskmov(u32 a)
{
    asm volatile("movdqu st_src, %%xmm0\n\tmovdqu op_mask, %%xmm1\n\t"
                 "maskmovdqu %%xmm1, %%xmm0" : : "D"(a) : "memory");
}

static void i_sgdt(u32 a)
{
    asm volatile("sgdt (%0)" : : "r"(a) : "memory");
}

static void i_smsw(u32 a)
{
    asm volatile("smsw (%0)" : : "r"(a) : "memory");
}

static void i_str(u32 a)
{
    asm volatile("str (%0)" : : "r"(a) : "memory");
}

static void i_setc(u32 a)
{
    asm volatile("stc\n\tsetc (%0)" : : "r"(a) : "memory", "cc");
}

struct istore {
    void (*fn)(u32 a);
    u8 off;     /* from the start of an entry */
    u8 len;     /* bytes it stores */
};

static const struct istore istores[] = {
    { i_btr_w, 0, 4 }, { i_bts_u, 0, 4 }, { i_btr_p, 0, 4 },
    { i_and, 0, 4 }, { i_or, 0, 4 }, { i_xor, 0, 4 }, { i_xchg, 0, 4 },
    { i_xadd, 0, 4 }, { i_cmpxchg, 0, 4 }, { i_add, 0, 4 },
    { i_inc, 0, 4 }, { i_pop, 0, 4 }, { i_push, 0, 4 },
    { i_fistp, 0, 4 }, { i_fstp, 0, 8 }, { i_movnti, 0, 4 },
    { i_maskmov, 0, 16 }, { i_sgdt, 2, 6 }, { i_smsw, 0, 2 },
    { i_str, 0, 2 }, { i_setc, 0, 1 },
};
#define NISTORES (sizeof(istores) / sizeof(istores[0]))

/* Operands for an instruction at entry @e, round @r: new entries. */
static void insn_operands(u32 e, u32 r)
{
    u64 lo = newent(e, r), hi = newent(e + 1, r);

    op_eax = (u32)lo;
    op_f64 = pae ? lo : (u32)lo | hi << 32;
    for (u32 i = 0; i < 16; i++) {
        u32 k = i / esize;

        st_src[i] = (u8)(newent(e + k, r + 1) >> (8 * (i % esize)));
        /* whole entries only, every other one */
        op_mask[i] = k & 1 ? 0 : 0x80;
    }
}

/* Instruction @s at entry @e of VIEW page 0 (A's table at PRIV). */
static void insn_store(const struct istore *s, u32 e, u32 r, int cpl3)
{
    u32 off = e * esize + s->off, lo = off & ~15u, bad;

    if (lo + 64 > 4096) {
        lo = 4096 - 64;
    }
    insn_operands(e, r);
    touch_entries(off, off + s->len);
    save_view();
    for (u32 i = 0; i < 64; i++) {
        op_ref[i] = shadow[lo + i];
    }
    s->fn((u32)op_ref + off - lo);
    for (u32 i = 0; i < 64; i++) {
        shadow[lo + i] = op_ref[i];
    }
    if (cpl3) {
        user(s->fn, VIEW + off);
    } else {
        s->fn(VIEW + off);
    }
    bad = view_changed();
    expect(bad == 0, "the instruction stored into the table what it "
           "stores elsewhere", off, bad, (u32)(s - istores));
    view_flushed(off, off + s->len, r & 2);
}

static void insn_stores(void)
{
    use(sa);
    asm volatile("fninit");
    for (u32 r = 0; r < 6 * NISTORES; r++) {
        u32 k = r % NISTORES, e = (r * 13 + 5) % (nents - 4);

        insn_store(&istores[k], e, r, (r / NISTORES) & 1);
    }
    asm volatile("fninit");
    verdict("entries changed through a data mapping by read-modify-writes "
            "and atomics (btr, bts, and, or, xor, xchg, xadd, cmpxchg, add, "
            "inc), pop, push, fistp, fstp, movnti, maskmovdqu, sgdt, smsw, "
            "str, setc, at CPL0 and CPL3: they hold what the instruction "
            "stores elsewhere and translate after INVLPG or a CR3 reload");
}

/*
 * FXSAVE into a page table: a helper's store rather than a direct one,
 * 288 bytes at once.  XMM0-7 hold new entries; the x87 state before
 * them makes junk entries, never used and rewritten afterwards.
 */
static void fxsave_table(void)
{
    static u8 img[128] __attribute__((aligned(16)));
    u32 bad = 0;

    for (u32 i = 0; i < 128; i++) {
        u32 b = 4096 + 160 + i;

        img[i] = (u8)(newent(b / esize, 300) >> (8 * (b % esize)));
    }
    touch_entries(4096 + 160, 4096 + 288);
    asm volatile("fninit\n\t"
                 "movdqu (%0), %%xmm0\n\tmovdqu 16(%0), %%xmm1\n\t"
                 "movdqu 32(%0), %%xmm2\n\tmovdqu 48(%0), %%xmm3\n\t"
                 "movdqu 64(%0), %%xmm4\n\tmovdqu 80(%0), %%xmm5\n\t"
                 "movdqu 96(%0), %%xmm6\n\tmovdqu 112(%0), %%xmm7\n\t"
                 "fxsave (%1)\n\t"
                 "fxrstor good_fx"
                 : : "r"(img), "r"(VIEW + 4096) : "memory");
    for (u32 i = 0; i < 128; i++) {
        bad += *(volatile u8 *)(sa->priv2 + 160 + i) != img[i];
    }
    expect(bad == 0, "FXSAVE wrote XMM0-7 into the table", 160, bad, 0);
    write_cr3(sa->cr3);
    touch_entries(4096 + 160, 4096 + 288);
    for (u32 e = 0; e < 160 / esize; e++) {
        set_ent(sa->priv2 + e * esize, newent(e + nents, 0));
    }
    write_cr3(sa->cr3);
    verdict("FXSAVE into a page table through its data mapping: the "
            "entries it wrote translate after a CR3 reload");
}

/* lib.c's TSS, found through the GDT: where it holds ESP0. */
static volatile u32 *tss_esp0(void)
{
    struct {
        u16 pad, limit;
        u32 base;
    } __attribute__((packed, aligned(4))) gdtr;
    u64 d;

    asm volatile("sgdt %0" : "=m"(gdtr.limit));
    d = ((u64 *)gdtr.base)[SEL_TSS >> 3];
    return (u32 *)(((u32)(d >> 16) & 0xffffff) | (u32)(d >> 56) << 24) + 1;
}

static void user_nothing(u32 unused)
{
}

/*
 * The CPU's own stores: the frame that int $0x80 from CPL3 pushes (EIP,
 * CS, EFLAGS, ESP, SS) at TSS.ESP0, pointed into A's table.  With PAE
 * some of those entries get bits above 4 GiB and are not checked.
 */
static void int_frame(void)
{
    volatile u32 *esp0 = tss_esp0();
    u32 saved = *esp0;

    for (u32 r = 0; r < 64; r++) {
        u32 off = 256 + r * 40, ss;

        touch_entries(off, off + 20);
        *esp0 = VIEW + off + 20;
        user(user_nothing, 0);
        *esp0 = saved;
        ss = word_at(sa->priv + off + 16) & 0xffff;
        expect(ss == SEL_UDATA, "the frame's SS is in the table", off, ss,
               SEL_UDATA);
        view_flushed(off, off + 20, r & 1);
    }
    verdict("the frame of int $0x80 from CPL3 (the CPU's stores at "
            "TSS.ESP0) pushed into a page table through its data mapping: "
            "the entries translate after INVLPG or a CR3 reload");
}

/*
 * The tables seen through one large page (4 MiB at PT_AREA; with PAE
 * 2 MiB, which holds A's tables too), written through it.
 */
static u32 large_view(u32 t)
{
    return LARGE + t - PT_AREA;
}

static void large_views(void)
{
    reset_tables();
    set_pde(sa, LARGE, PT_AREA | RWU | PTE_PS);
    write_cr3(sa->cr3);
    for (u32 e = 0; e < nents; e += 7) {
        u32 x = chk_rd(large_view(sa->priv) + e * esize);

        expect(x == word_at(sa->priv + e * esize), "a table read through "
               "a large page", e, x, word_at(sa->priv + e * esize));
    }
    for (u32 r = 0; r < 64; r++) {
        u32 e = (r * 29 + 3) % nents, lin = PRIV + e * 4096;

        expect_read(sa, lin);
        if (r & 1) {
            user_wval = (u32)newent(e, 700 + r);
            user(user_put, large_view(sa->priv) + e * esize);
        } else {
            wr32(large_view(sa->priv) + e * esize, (u32)newent(e, 700 + r));
        }
        expect(last_vec == NO_VEC && ent(sa->priv + e * esize) ==
               newent(e, 700 + r), "a PTE written through a large page",
               lin, (u32)ent(sa->priv + e * esize), (u32)newent(e, 700 + r));
        if (r & 2) {
            write_cr3(sa->cr3);
        } else {
            invlpg(lin);
        }
        expect_read(sa, lin);
    }
    set_pde(sa, LARGE, 0);
    write_cr3(sa->cr3);
    verdict("PTEs written through a large page that maps the tables, at "
            "CPL0 and CPL3: used after INVLPG or a CR3 reload");
}

/*
 * A PDE pointing to its own directory: REC + 4 KiB * i shows what PDE i
 * points to as data, REC + 4 KiB * (REC's own index) the directory.
 */
static u32 rec_page(u32 lin)
{
    return REC + ((lin >> span) & (nents - 1)) * 4096;
}

static void rec_pte_stores(u32 tv)
{
    for (u32 j = 0; j < 32; j++) {
        u32 lin = PRIV + j * 4096 + 4 * j;
        u64 e = FRAME(900 + j) | (j % 5 == 4 ? PTE_P | PTE_U : RWU);

        expect_read(sa, lin);
        if (j & 1) {
            user_wval = (u32)e;
            user(user_put, tv + j * esize);
        } else {
            wr32(tv + j * esize, (u32)e);
        }
        expect(last_vec == NO_VEC && ent(sa->priv + j * esize) == e,
               "a PTE written through the recursive mapping", lin,
               (u32)ent(sa->priv + j * esize), (u32)e);
        if (j % 3) {
            invlpg(lin);
        } else {
            write_cr3(sa->cr3);
        }
        expect_read(sa, lin);
        expect_write(sa, lin, j);
    }
}

static void recursive(void)
{
    u32 rec = pde_at(sa, REC), pd = rec & ~0xfffu, self = rec_page(REC);
    u32 tv = rec_page(PRIV), t = table(), x;

    reset_tables();
    set_ent(rec, pd | RWU);
    write_cr3(sa->cr3);
    for (u32 i = 0; i < nents; i += 3) {
        x = chk_rd(self + i * esize);
        expect(x == word_at(pd + i * esize), "the directory read through "
               "itself", i, x, word_at(pd + i * esize));
        x = chk_rd(tv + i * esize);
        expect(x == word_at(sa->priv + i * esize), "a table read through "
               "the recursive PDE", i, x, word_at(sa->priv + i * esize));
    }
    user(user_read, self + ((REC >> span) & (nents - 1)) * esize);
    expect(user_val == (pd | RWU | PTE_A), "CPL3 reads the recursive PDE "
           "through itself", self, user_val, pd | RWU | PTE_A);
    rec_pte_stores(tv);
    /* a PDE written through it: INVLPG covers one page, a reload all */
    for (u32 j = 0; j < 16; j++) {
        set_ent(t + j * esize, FRAME(950 + j) | RWU);
    }
    wr32(self + ((NEWPT >> span) & (nents - 1)) * esize, t | RWU);
    invlpg(NEWPT + 5 * 4096);
    expect_read(sa, NEWPT + 5 * 4096);
    write_cr3(sa->cr3);
    touch(sa, NEWPT, 16);
    wr32(self + ((NEWPT >> span) & (nents - 1)) * esize, 0);
    /* the recursive PDE removed through itself */
    wr32(self + ((REC >> span) & (nents - 1)) * esize, 0);
    write_cr3(sa->cr3);
    expect_read(sa, self);
    expect_read(sa, tv);
    touch(sa, NEWPT, 2);
    x = (u32)ent(rec);
    expect(x == 0, "the recursive PDE cleared through itself", rec, x, 0);
    set_ent(rec, pd | RWU);
    write_cr3(sa->cr3);
    expect_read(sa, self);
    expect_read(sa, tv + 8);
    set_ent(rec, 0);
    write_cr3(sa->cr3);
    verdict("a recursive PDE: the directory and a table read through it, "
            "PTEs, a PDE and itself written through it at CPL0 and CPL3, "
            "used after INVLPG or a CR3 reload");
}

static void views_cases(void)
{
    views();
    insn_stores();
    fxsave_table();
    int_frame();
    large_views();
    recursive();
}

/* ------------------------------------------------------------------ */
/* 5. Data that becomes a page table                                  */
/* ------------------------------------------------------------------ */

/* Entry @e (the low half) stored through @base, at CPL0 or CPL3. */
static void put_entry(u32 base, u32 e, u64 v, int cpl3)
{
    u32 a = base + e * esize;

    if (cpl3) {
        user_wval = (u32)v;
        user(user_put, a);
    } else {
        wr32(a, (u32)v);
    }
    expect(last_vec == NO_VEC, "a store through a data mapping of a table",
           a, last_vec, NO_VEC);
}

static void put_entries(u32 base, u32 from, u32 to, int cpl3)
{
    for (u32 e = from; e < to; e++) {
        put_entry(base, e, newent(e, 1), cpl3);
    }
}

/*
 * Entry @e of the new table changed through @base (a data mapping),
 * then INVLPG or a CR3 reload, then A's translation.
 */
static void table_store(u32 base, u32 e, u32 r, int cpl3, int reload)
{
    u32 lin = NEWPT + e * 4096 + 4 * r;

    expect_read(sa, lin);
    put_entry(base, e, newent(e, r), cpl3);
    if (reload) {
        write_cr3(sa->cr3);
    } else {
        invlpg(lin);
    }
    expect_read(sa, lin);
}

/* Written as data: two mappings in A, one in B, the identity in all. */
static void fill_as_data(u32 p, u32 va, u32 va2)
{
    use(sa);
    put_entries(va, 0, 64, 0);
    put_entries(va2, 64, 128, 0);
    put_entries(va, 128, 192, 1);
    put_entries(p, 192, 256, 0);
    use(sb);
    put_entries(va, 256, 320, 0);
    put_entries(va, 320, 384, 1);
    put_entries(p, 384, 448, 0);
    for (u32 i = 2; i < 8; i++) {
        use(&sp[i]);
        put_entries(p, 446 + i, 447 + i, 0);
    }
    use(sa);
    for (u32 e = 0; e < 454; e++) {
        u32 want = (u32)newent(e, 1), x = chk_rd(va + e * esize);

        expect(x == want && word_at(p + e * esize) == want,
               "data written through the mappings", e, x, want);
    }
    verdict("a page written as data through two mappings in A, one in B, "
            "the identity in 8 spaces, at CPL0 and CPL3, holds the data");
}

static void data_to_table(void)
{
    u32 p = FRAME(2040), va = VIEW + V_P * 4096, va2 = VIEW + (V_P + 1) * 4096;

    for (u32 i = 0; i < 4096; i += 4) {
        *(volatile u32 *)(p + i) = 0;
    }
    set_pte(sa->view, va, p | RWU);
    set_pte(sa->view, va2, p | RWU);
    set_pte(sb->view, va, p | RWU);
    fill_as_data(p, va, va2);

    set_pde(sa, NEWPT, p | RWU);
    write_cr3(sa->cr3);
    touch(sa, NEWPT, 456);      /* the last two not present */
    for (u32 r = 0; r < 8; r++) {
        u32 e = r * 40;

        table_store(va, e, r + 2, 0, 0);
        table_store(va2, e + 1, r + 2, 0, 0);
        table_store(va, e + 2, r + 2, 1, 0);
        table_store(va2, e + 3, r + 2, 1, 1);
        table_store(p, e + 4, r + 2, 0, r & 1);
        /* from the spaces whose windows had it writable */
        for (u32 i = 1; i < 8; i++) {
            u32 lin = NEWPT + (e + 4 + i) * 4096;

            expect_read(sa, lin);
            use(&sp[i]);
            put_entry(i == 1 ? va : p, e + 4 + i, newent(e + 4 + i, r + 2),
                      i == 1 && (r & 1));
            use(sa);
            expect_read(sa, lin);
        }
    }
    verdict("that page made a table of A: stores through each old data "
            "mapping (two views, CPL0 and CPL3, the identity, 7 other "
            "spaces) change A's translations after INVLPG or CR3 writes");

    set_pde(sb, NEWPT, p | RWU);
    use(sb);
    touch(sb, NEWPT, 64);
    use(sa);
    put_entry(va2, 10, newent(10, 20), 0);
    put_entry(va, 11, newent(11, 20), 1);
    use(sb);
    touch(sb, NEWPT, 16);
    set_pde(sa, NEWPT, 0);
    set_pde(sb, NEWPT, 0);
    use(sa);
    touch(sa, NEWPT, 2);
    verdict("the table of B too: stores in A through A's data mappings "
            "reach B's translations");
}

/*
 * A fresh page of the table area, written as data through a large page
 * that maps the area (its window pages writable, batched with their
 * neighbours), then made a page table, then written there again.
 */
static void large_data_to_table(void)
{
    u32 p = table(), lv = large_view(p);

    set_pde(sa, LARGE, PT_AREA | RWU | PTE_PS);
    use(sa);
    for (u32 e = 0; e < 128; e++) {
        put_entry(lv, e, newent(e, 800), e >= 64);
    }
    for (u32 e = 0; e < 128; e++) {
        expect(chk_rd(lv + e * esize) == (u32)newent(e, 800), "data written "
               "through a large page", e, chk_rd(lv + e * esize),
               (u32)newent(e, 800));
    }
    set_pde(sa, NEWPT, p | RWU);
    write_cr3(sa->cr3);
    touch(sa, NEWPT, 128);
    for (u32 r = 0; r < 64; r++) {
        table_store(lv, (r * 3) & 127, 801 + r, r & 1, (r >> 1) & 1);
    }
    set_pde(sa, NEWPT, 0);
    set_pde(sa, LARGE, 0);
    write_cr3(sa->cr3);
    verdict("a page written as data through a large page, then made a "
            "table: stores through the large page at CPL0 and CPL3 change "
            "translations after INVLPG or a CR3 reload");
}

static void data_to_table_cases(void)
{
    data_to_table();
    large_data_to_table();
}

/* ------------------------------------------------------------------ */
/* 6. A page table that becomes data                                  */
/* ------------------------------------------------------------------ */

/* Heavy writers of 4 KiB of heavy_src into @a. */
enum { H_STOS, H_MOVS, H_WORDS, H_USER, H_SSE, H_CX8, H_OTHER, NHEAVY };

static void copy_words(u32 a)
{
    for (u32 i = 0; i < 1024; i++) {
        ((volatile u32 *)a)[i] = heavy_src[i];
    }
}

static void copy_sse(u32 a)
{
    for (u32 i = 0; i < 1024; i += 4) {
        asm volatile("movdqu (%0), %%xmm0\n\tmovdqu %%xmm0, (%1)"
                     : : "r"(&heavy_src[i]), "r"(a + i * 4) : "memory");
    }
}

static void copy_cx8(u32 a)
{
    for (u32 i = 0; i < 1024; i += 2) {
        asm volatile("movl (%0), %%eax\n\tmovl 4(%0), %%edx\n\t"
                     "movl (%1), %%ebx\n\tmovl 4(%1), %%ecx\n\t"
                     "lock cmpxchg8b (%0)"
                     : : "S"(a + i * 4), "D"(&heavy_src[i])
                     : "eax", "ebx", "ecx", "edx", "memory");
    }
}

static void copy_movs(u32 a)
{
    u32 src = (u32)heavy_src, n = 1024;

    asm volatile("rep movsl" : "+S"(src), "+D"(a), "+c"(n) : : "memory");
}

static void fill_stos(u32 a)
{
    u32 n = 1024;

    asm volatile("rep stosl" : "+D"(a), "+c"(n) : "a"(heavy_src[0])
                 : "memory");
}

/* Round @r's data: valid entries, junk, or one word (for rep stos). */
static void heavy_data(u32 r, u32 how)
{
    for (u32 i = 0; i < 1024; i++) {
        u32 e = i * 4 / esize, hi = (i * 4) % esize;

        if (how == H_STOS) {
            heavy_src[i] = FRAME(r) | RWU;
        } else if (r & 1) {
            heavy_src[i] = (i * 0x9e3779b1u) ^ (r << 8);
        } else {
            heavy_src[i] = hi ? 0 : (u32)newent(e, r);
        }
    }
}

static void heavy_write(u32 q, u32 vq, u32 r)
{
    u32 how = r % NHEAVY, bad = 0;

    heavy_data(r, how);
    switch (how) {
    case H_STOS:
        fill_stos(q);
        break;
    case H_MOVS:
        copy_movs(vq);
        break;
    case H_WORDS:
        copy_words(vq);
        break;
    case H_USER:
        user(copy_words, vq);
        break;
    case H_SSE:
        copy_sse(vq);
        break;
    case H_CX8:
        copy_cx8(vq);
        break;
    default:
        use(sb);
        copy_words(vq);
        use(sa);
    }
    for (u32 i = 0; i < 1024; i++) {
        bad += word_at(q + i * 4) != heavy_src[i];
    }
    for (u32 i = r & 15; i < 1024; i += 16) {
        bad += chk_rd(vq + i * 4) != heavy_src[i];
    }
    expect(bad == 0, "the data written to the former table", r, bad, how);
}

static void table_stops(void)
{
    u32 q = table(), vq = VIEW + V_Q * 4096;

    for (u32 e = 0; e < nents; e++) {
        set_ent(q + e * esize, newent(e, 7));
    }
    set_pde(sa, OLDPT, q | RWU);
    set_pde(sb, OLDPT, q | RWU);
    set_pte(sa->view, vq, q | RWU);
    set_pte(sb->view, vq, q | RWU);
    use(sa);
    touch(sa, OLDPT, 128);
    use(sb);
    touch(sb, OLDPT, 128);
    /* not B's table any more, still A's: written under B */
    set_pde(sb, OLDPT, 0);
    write_cr3(sb->cr3);
    touch(sb, OLDPT, 8);
    for (u32 e = 0; e < 128; e++) {
        wr32(vq + e * esize, (u32)newent(e, 8));
    }
    use(sa);
    touch(sa, OLDPT, 128);
    use(sb);
    touch(sb, OLDPT, 8);
    verdict("a table dropped by B and written there as data: A, which "
            "still uses it, sees the stores; B faults");

    use(sa);
    set_pde(sa, OLDPT, 0);
    write_cr3(sa->cr3);
    for (u32 r = 0; r < 112; r++) {
        heavy_write(q, vq, r);
        expect_read(sa, OLDPT + ((r * 37) & 127) * 4096);
        if (r % 4 == 3) {
            use(sb);
            expect_read(sb, OLDPT + ((r * 41) & 127) * 4096);
            use(sa);
        }
    }
    verdict("the table dropped by A too, then 112 times 4 KiB written as "
            "data (rep stos/movs, words at CPL0 and CPL3, 16 bytes, "
            "cmpxchg8b, from B): the data is right, and its old "
            "translations are gone in A and B");

    heavy_data(0, H_WORDS);
    copy_words(vq);
    set_pde(sa, OLDPT, q | RWU);
    write_cr3(sa->cr3);
    touch(sa, OLDPT, 64);
    set_pde(sa, OLDPT, 0);
    write_cr3(sa->cr3);
    verdict("and a table again: it translates by what was written");
}

/* ------------------------------------------------------------------ */
/* 7. CR0.WP                                                          */
/* ------------------------------------------------------------------ */

static void wp_toggle(void)
{
    u32 cr0 = read_cr0() | CR0_WP;
    u32 ro = PRIV + 100 * 4096, sro = PRIV + 101 * 4096;

    set_pte(sa->priv, ro, FRAME(1600) | PTE_P | PTE_U);
    set_pte(sa->priv, sro, FRAME(1601) | PTE_P);
    set_pte(sb->priv, ro, FRAME(1602) | PTE_P | PTE_U);
    set_pte(sb->priv, sro, FRAME(1603) | PTE_P);
    use(sa);
    for (u32 r = 0; r < 2048; r++) {
        u32 lin = (r & 1 ? sro : ro) + ((r * 8) & 0xffc);

        write_cr0(cr0 & ~CR0_WP);
        expect_write(cur, lin, r);
        expect_user_write(cur, lin, ~r);
        if (r % 8 == 3) {
            use(other());
        }
        write_cr0(cr0);
        expect_write(cur, lin, r ^ 0x5a5a);
        expect_read(cur, lin);
        if (r % 16 == 9) {
            use(other());
        }
    }
    write_cr0(cr0);
    verdict("CR0.WP toggled 4096 times with read-only user and supervisor "
            "pages mapped in two spaces, switched under WP=0 and WP=1: "
            "WP=0 lets CPL0 write them, WP=1 faults (error code 3), CPL3 "
            "always faults (7)");
    check_ad(pte_at(sa->priv, ro), PTE_A | PTE_D, "CPL0 writes with WP=0 "
             "set A and D in a read-only PTE");
    check_ad(pte_at(sb->priv, sro), PTE_A | PTE_D, "and in a read-only "
             "supervisor PTE");
}

/* ------------------------------------------------------------------ */
/* 8. CR4.PGE                                                         */
/* ------------------------------------------------------------------ */

/*
 * Flush the global page @lin (changed) and @plin (not global) as round
 * @r says: PGE off and on, PGE off then a CR3 reload, or INVLPG.
 */
static void pge_flush(u32 cr4, u32 lin, u32 plin, u32 r)
{
    switch (r % 3) {
    case 0:
        write_cr4(cr4);
        write_cr4(cr4 | CR4_PGE);
        break;
    case 1:
        write_cr4(cr4);
        expect_read(cur, lin);
        write_cr3(cur->cr3);
        write_cr4(cr4 | CR4_PGE);
        break;
    default:
        invlpg(lin);
        invlpg(plin);
    }
}

/*
 * PAE: a MOV to CR4 that changes PGE (or PAE, PSE, and CR0.CD, NW, PG)
 * loads the four PDPTEs from the PDPT, as a CR3 write does (SDM 4.4.1).
 * So A's PDPTE of 1-2 GiB changed to a copy of its directory whose PDE
 * of PRIV points to another table, then PGE toggled: A uses the copy;
 * changed back, toggled again: the first directory.
 */
static void pdpte_pge(void)
{
    u32 cr4 = read_cr4() & ~CR4_PGE, pd1 = sa->dir + 4096;
    u32 copy = table(), t = table();
    u64 old = ent(sa->cr3 + 8);

    for (u32 i = 0; i < 512; i++) {
        set_ent(copy + i * 8, ent(pd1 + i * 8));
    }
    for (u32 j = 0; j < 16; j++) {
        set_ent(t + j * 8, FRAME(1990 + j) | RWU);
        set_pte(sa->priv, PRIV + j * 4096, FRAME(1975 + j) | RWU);
    }
    set_ent(copy + ((PRIV >> 21) & 511) * 8, t | RWU);
    use(sa);
    for (u32 r = 0; r < 8; r++) {
        touch(sa, PRIV, 16);
        set_ent(sa->cr3 + 8, r & 1 ? old : copy | PTE_P);
        write_cr4(r & 2 ? cr4 : cr4 | CR4_PGE);
        write_cr4(r & 2 ? cr4 | CR4_PGE : cr4);
        touch(sa, PRIV, 16);
    }
    write_cr4(cr4);
    use(sa);
    verdict("PAE: A's PDPTE changed, then CR4.PGE toggled (which loads the "
            "PDPTEs): A uses the directory the new PDPTE points to");
}

static void pge_toggle(void)
{
    u32 cr4 = read_cr4() & ~CR4_PGE;

    for (u32 j = 0; j < 16; j++) {
        set_pte(global_pt, GLOBAL + j * 4096, FRAME(1700 + j) | RWU | PTE_G);
        set_pte(sa->priv, PRIV + (400 + j) * 4096, FRAME(1720 + j) | RWU);
        set_pte(sb->priv, PRIV + (400 + j) * 4096, FRAME(1740 + j) | RWU);
    }
    write_cr4(cr4 | CR4_PGE);
    use(sa);
    for (u32 r = 0; r < 1536; r++) {
        u32 j = r & 15, lin = GLOBAL + j * 4096 + ((r * 4) & 0xffc);
        u32 plin = PRIV + (400 + j) * 4096 + 0x20;
        u32 fl = r % 7 == 6 ? PTE_P | PTE_U | PTE_G : RWU | PTE_G;

        expect_read(cur, lin);
        expect_read(cur, plin);
        if (r & 2) {
            use(other());
        }
        set_pte(global_pt, lin, FRAME(1760 + ((r * 5) & 255)) | fl);
        set_pte(cur->priv, plin, FRAME(1760 + ((r * 11) & 255)) | RWU);
        /* a global page may outlive this: nothing is read until the flush */
        if (r & 4) {
            use(other());
        }
        pge_flush(cr4, lin, plin, r);
        expect_read(cur, lin);
        expect_write(cur, lin, r);
        expect_read(cur, plin);
    }
    verdict("global pages changed (and a non-global one), across CR3 "
            "writes: a CR4.PGE toggle or INVLPG makes the change visible");

    write_cr4(cr4);
    for (u32 r = 0; r < 64; r++) {
        u32 lin = GLOBAL + (r & 15) * 4096 + 0x30;

        expect_read(cur, lin);
        set_pte(global_pt, lin, FRAME(1800 + r) | RWU | PTE_G);
        use(r & 1 ? other() : cur);
        expect_read(cur, lin);
    }
    verdict("CR4.PGE=0: G means nothing, and a CR3 write flushes a global "
            "page");
    if (pae) {
        pdpte_pge();
    }
}

/* ------------------------------------------------------------------ */
/* 9. Accessed and Dirty                                              */
/* ------------------------------------------------------------------ */

/*
 * Round @r: clear A and D of a PTE of one space while the other is
 * current, switch to it, read or write at CPL0 or CPL3.  The CR3 write
 * dropped the translation, so the access walks and sets them again.
 */
static void ad_round(u32 r)
{
    struct space *s = r & 1 ? sa : sb;
    u32 lin = PRIV + (304 + ((r >> 1) & 7)) * 4096, a = pte_at(s->priv, lin);
    u32 want = r & 2 ? PTE_A | PTE_D : PTE_A, got;

    use(s == sa ? sb : sa);
    clear_bits(a, PTE_A | PTE_D);
    use(s);
    user_wval = r;
    if (r & 4) {
        user(r & 2 ? user_write : user_read, lin);
    } else if (r & 2) {
        chk_wr(lin, r);
    } else {
        chk_rd(lin);
    }
    got = (u32)ent(a) & (PTE_A | PTE_D);
    expect(got == want, "A and D after the access", lin, got, want);
}

static void ad_basic(void)
{
    u32 lin = PRIV + 300 * 4096 + 0x80, pte = pte_at(sa->priv, lin);
    u32 pde = pde_at(sa, lin);

    /* the recursive PDE wrote through this PDE as a PTE: D is set */
    set_ent(pte, FRAME(1840) | RWU);
    clear_bits(pde, PTE_D);
    use(sa);
    chk_rd(lin);
    check_ad(pte, PTE_A, "a read sets A, not D");
    chk_wr(lin, 1);
    check_ad(pte, PTE_A | PTE_D, "a write sets D");
    use(sb);
    clear_bits(pte, PTE_A | PTE_D);
    clear_bits(pde, PTE_A);
    use(sa);
    chk_rd(lin);
    check_ad(pte, PTE_A, "A and D cleared while B is current: back in A, "
             "a read sets A again");
    check_ad(pde, PTE_A, "and A in the PDE, not D (it points to a table)");
    chk_wr(lin, 2);
    check_ad(pte, PTE_A | PTE_D, "and a write D");
    clear_bits(pte, PTE_D);
    invlpg(lin);
    chk_wr(lin, 3);
    check_ad(pte, PTE_A | PTE_D, "D cleared, INVLPG: a write sets it");
    clear_bits(pte, PTE_A | PTE_D);
    write_cr3(sa->cr3);
    user(user_read, lin);
    check_ad(pte, PTE_A, "A and D cleared, CR3 reloaded: a CPL3 read sets "
             "A");
    user_wval = 4;
    user(user_write, lin);
    check_ad(pte, PTE_A | PTE_D, "and a CPL3 write D");
    set_ent(pte, FRAME(1841) | PTE_P | PTE_U);
    write_cr3(sa->cr3);
    chk_rd(lin);
    chk_wr(lin, 5);
    check_ad(pte, PTE_A, "a faulting write leaves D clear");
}

static void ad_shared(void)
{
    u32 lin = SHARED + 300 * 4096, pte = pte_at(shared_pt, lin);

    set_ent(pte, FRAME(1842) | RWU);
    use(sa);
    chk_rd(lin);
    use(sb);
    chk_rd(lin);
    clear_bits(pte, PTE_A | PTE_D);
    use(sa);
    chk_wr(lin, 6);
    check_ad(pte, PTE_A | PTE_D, "a shared PTE's A and D cleared while B is "
             "current: a write in A sets both");
    clear_bits(pte, PTE_A | PTE_D);
    use(sb);
    chk_rd(lin);
    check_ad(pte, PTE_A, "cleared in A, then a read in B sets A");
    for (u32 j = 0; j < 8; j++) {
        set_pte(sa->priv, PRIV + (304 + j) * 4096, FRAME(1850 + j) | RWU);
        set_pte(sb->priv, PRIV + (304 + j) * 4096, FRAME(1860 + j) | RWU);
    }
    for (u32 r = 0; r < 256; r++) {
        ad_round(r);
    }
    verdict("256 rounds: A and D of a space's PTE cleared while the other "
            "is current, then a read or write in it at CPL0 or CPL3 sets "
            "them as it must");
}

static void ad_large_global(void)
{
    u32 pde = pde_at(sa, LARGE), glin = GLOBAL + 20 * 4096;
    u32 gpte = pte_at(global_pt, glin), cr4 = read_cr4() & ~CR4_PGE;

    set_ent(pde, SCRATCH | RWU | PTE_PS);
    use(sa);
    chk_rd(LARGE + 0x5000);
    check_ad(pde, PTE_A, "a large page read: A in the PDE, not D");
    chk_wr(LARGE + 0x7000, 7);
    check_ad(pde, PTE_A | PTE_D, "a large page written: D");
    use(sb);
    clear_bits(pde, PTE_A | PTE_D);
    use(sa);
    chk_rd(LARGE + 0x9000);
    check_ad(pde, PTE_A, "cleared while B is current: a read in A sets A");
    set_ent(pde, 0);

    set_ent(gpte, FRAME(1870) | RWU | PTE_G);
    write_cr4(cr4 | CR4_PGE);
    chk_rd(glin);
    chk_wr(glin, 8);
    clear_bits(gpte, PTE_A | PTE_D);
    write_cr4(cr4);
    write_cr4(cr4 | CR4_PGE);
    chk_rd(glin);
    check_ad(gpte, PTE_A, "a global PTE's A and D cleared, CR4.PGE "
             "toggled: a read sets A");
    chk_wr(glin, 9);
    check_ad(gpte, PTE_A | PTE_D, "and a write D");
    write_cr4(cr4);
}

/* Stores through a recursive PDE set D in the entries used as PTEs. */
static void ad_recursive(void)
{
    u32 rec = pde_at(sa, REC), pde = pde_at(sa, PRIV);
    u32 self = rec_page(REC);

    set_ent(rec, (rec & ~0xfffu) | RWU);
    clear_bits(pde, PTE_A | PTE_D);
    write_cr3(sa->cr3);
    chk_rd(rec_page(PRIV) + 2 * esize);
    check_ad(pde, PTE_A, "a read through the recursive PDE sets A in the "
             "PDE it used as a PTE");
    wr32(rec_page(PRIV) + 2 * esize, (u32)ent(sa->priv + 2 * esize));
    check_ad(pde, PTE_A | PTE_D, "and a write D");
    /* not to the recursive PDE: the store would clear the D it sets */
    wr32(self + ((NEWPT >> span) & (nents - 1)) * esize, 0);
    check_ad(rec, PTE_A | PTE_D, "a write to the directory through itself: "
             "D in the recursive PDE");
    set_ent(rec, 0);
    write_cr3(sa->cr3);
}

static void accessed_dirty(void)
{
    ad_basic();
    ad_shared();
    ad_large_global();
    ad_recursive();
}

/* ------------------------------------------------------------------ */

struct phase {
    const char *name;
    void (*run)(void);
};

/* ------------------------------------------------------------------ */
/* 10. Code in global and non-global pages                            */
/* ------------------------------------------------------------------ */

/*
 * The fast mode keeps the TBs its jump cache found in global pages
 * across CR3 writes, as the architecture keeps their translations, and
 * drops the others.  So code is checked like data: each code frame
 * holds a function that stores its own number to user_val, and a call
 * of a page, at CPL0 or CPL3 and always indirect (a jump-cache lookup),
 * must run the frame that a software walk finds after each flush.
 */
#define CODE_FRAME(k)   FRAME(1540 + (k))
#define CODE_PRIV       (PRIV + 440 * 4096)
#define CODE_GLOBAL     (GLOBAL + 40 * 4096)

/* Frame @k: movl $v, user_val; ret */
static void put_code(u32 k, u32 v)
{
    volatile u8 *p = (volatile u8 *)CODE_FRAME(k);
    u32 a = (u32)&user_val;

    p[0] = 0xc7;
    p[1] = 0x05;
    for (u32 i = 0; i < 4; i++) {
        p[2 + i] = a >> (8 * i);
        p[6 + i] = v >> (8 * i);
    }
    p[10] = 0xc3;
}

static void call_page(u32 lin, int cpl3)
{
    u32 phys = walk(cur, lin), want = ~0u;

    if (phys != NO_PHYS && phys != NO_CHECK) {
        want = *(volatile u32 *)((phys & ~0xfffu) + 6);
    }
    user_val = ~0u;
    if (cpl3) {
        run_user((void (*)(u32))lin, 0);
    } else {
        ((void (*)(void))lin)();
    }
    ncases++;
    mix(user_val);
    expect(user_val == want, cpl3 ? "CPL3 call" : "CPL0 call", lin,
           user_val, want);
}

/* Call @lin in the current space, switch to the other, call it there. */
static void call_in_both(u32 lin, int cpl3)
{
    call_page(lin, cpl3);
    use(other());
    call_page(lin, cpl3);
}

static void code_pages(void)
{
    u32 cr4 = read_cr4() & ~CR4_PGE;

    /* 0-7: A's and B's own pages; 8-15 global ones; 16-31 spares */
    for (u32 k = 0; k < 32; k++) {
        put_code(k, 0xc0de0000u | k);
    }
    for (u32 j = 0; j < 4; j++) {
        set_pte(sa->priv, CODE_PRIV + j * 4096, CODE_FRAME(j) | RWU);
        set_pte(sb->priv, CODE_PRIV + j * 4096, CODE_FRAME(4 + j) | RWU);
        set_pte(global_pt, CODE_GLOBAL + j * 4096,
                CODE_FRAME(8 + j) | RWU | PTE_G);
    }
    write_cr4(cr4 | CR4_PGE);
    use(sa);
    for (u32 r = 0; r < 1024; r++) {
        u32 j = r & 3, lin = CODE_PRIV + j * 4096;
        int cpl3 = r & 4;

        call_in_both(lin, cpl3);
        if (r % 8 == 5) {
            /* the other space's page moves while it is switched out */
            struct space *o = other();

            set_pte(o->priv, lin, CODE_FRAME(16 + (r & 15)) | RWU);
            use(o);
            call_page(lin, !cpl3);
        }
        if (r % 16 == 11) {
            put_code(16 + (r & 15), 0xc0de1000u + r);
            call_in_both(lin, cpl3);
        }
    }
    verdict("code in non-global pages that differ between two spaces, "
            "moved while switched out and rewritten: every call after a "
            "CR3 write runs the frame its space maps now");

    for (u32 r = 0; r < 1024; r++) {
        u32 j = r & 3, lin = CODE_GLOBAL + j * 4096;
        int cpl3 = r & 4;

        call_in_both(lin, cpl3);
        if (r % 4 == 2) {
            set_pte(global_pt, lin,
                    CODE_FRAME(8 + ((r / 4) & 7)) | RWU | PTE_G);
            use(other());
            /* a global page may outlive the CR3 write: no call here */
            pge_flush(cr4, lin, CODE_PRIV, r / 4);
            call_page(lin, cpl3);
        }
        if (r % 32 == 17) {
            put_code(8 + ((r / 4) & 7), 0xc0de2000u + r);
            call_page(lin, cpl3);
        }
    }
    verdict("code in global pages, called across CR3 writes, moved and "
            "then flushed by INVLPG or a CR4.PGE toggle, and rewritten: "
            "every call runs the frame the page maps now");

    write_cr4(cr4);
    for (u32 r = 0; r < 256; r++) {
        u32 lin = CODE_GLOBAL + (r & 3) * 4096;

        call_page(lin, r & 4);
        set_pte(global_pt, lin, CODE_FRAME(8 + (r & 7)) | RWU | PTE_G);
        use(r & 8 ? other() : cur);
        call_page(lin, r & 4);
    }
    verdict("CR4.PGE=0: code in pages marked global is flushed by a CR3 "
            "write like any other");
}

static const struct phase phases[] = {
    { "reload", reload_cases },
    { "spaces", spaces_cases },
    { "pingpong", ping_pong_cases },
    { "tables-as-data", views_cases },
    { "data-to-table", data_to_table_cases },
    { "table-stops", table_stops },
    { "wp", wp_toggle },
    { "pge", pge_toggle },
    { "accessed-dirty", accessed_dirty },
    { "code", code_pages },
};

static void run_format(int p)
{
    static char name[48];
    const char *prefix = p ? "pae-" : "2level-";

    set_format(p);
    build();
    write_cr4(read_cr4() | (p ? CR4_PAE : CR4_PSE));
    use(sa);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
    for (u32 i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
        u32 n = 0;

        for (const char *s = prefix; *s; s++) {
            name[n++] = *s;
        }
        for (const char *s = phases[i].name; *s; s++) {
            name[n++] = *s;
        }
        name[n] = 0;
        phase_begin(name);
        phases[i].run();
        hash_tables();
        phase_end();
    }
    paging_off();
}

int attack_main(void)
{
    run_format(0);
    run_format(1);
    return finish("switch");
}
