/*
 * Attack kernel "paehigh": PAE paging whose page directories, page
 * tables and many data frames are in RAM above 4 GiB.  It needs -m 6G:
 * the pc machine then has RAM at 0-3 GiB and at 0x100000000-0x1c0000000.
 * Only the PDPT is low (CR3 holds 32 bits in legacy PAE), so the page
 * walker reads every directory and table, and sets Accessed and Dirty,
 * at physical addresses past 4 GiB.
 *
 * Low bootstrap tables map a window onto high RAM; the real tables are
 * written there, then CR3 moves to them.  Linear 0-32 MiB is the
 * identity, then the window (2 MiB supervisor pages onto 0x100000000 +
 * 0-32 MiB and onto the last 2 MiB of RAM), then every 2 MiB is the same
 * high page table: even frames above 4 GiB and odd ones below, so every
 * page border crosses between high and low RAM, with groups of
 * not-present, supervisor, read-only, last-frame-of-RAM, past-the-end
 * and ROM frames.  Every page is read and written at CPL0 and CPL3,
 * every width at the borders and at the top of the space; 8/10/16-byte
 * stores and loads across high/low borders are checked byte for byte
 * through the window and the identity; A/D bits in the high tables are
 * checked entry by entry; high PTEs and PDEs change under INVLPG, CR3
 * reloads and a CR3 switch; then the same with 2 MiB pages.  The low
 * RAM 4 GiB below the high tables and frames must keep its contents.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "attack.h"

#define LIN(pde, pte)   ((u32)(pde) << 21 | (u32)(pte) << 12)
#define RWU             (PTE_P | PTE_W | PTE_U)
#define FRAME_MASK      0xffffff000ull  /* bits 12-35 (MAXPHYADDR 36) */
#define NO_PHYS         (~0ull)

/* Physical memory above 4 GiB (with -m 6G). */
#define HIGH            0x100000000ull
#define HIGH_END        0x1c0000000ull
#define HTOP            (HIGH_END - 0x200000)   /* the last 2 MiB of RAM */
/*
 * The high paging structures and frames sit exactly 4 GiB above low
 * areas that nothing else writes (SENTINEL, SCRATCH), filled with a
 * pattern: an access that lost bit 32 would show up there.
 */
#define SENTINEL        (PT_AREA + 0x100000)
#define SENTINEL_SIZE   0x100000u
#define HPT             (HIGH + SENTINEL)
#define HSCRATCH        (HIGH + SCRATCH)        /* the aliased high frames */
#define HSCRATCH2       (HIGH + SCRATCH2)       /* top pages of edge_states */

/* Linear layout: PDE numbers. */
#define WIN_PDE         16      /* 16-31: window onto HIGH + 0-32 MiB */
#define WIN             LIN(WIN_PDE, 0)
#define WIN_SIZE        0x2000000u
#define WTOP_PDE        32      /* window onto the last 2 MiB of RAM */
#define WTOP            LIN(WTOP_PDE, 0)
#define ALIAS_PDE       33      /* 33-2046: aliases; 2047: top_pt */
#define AD_PDE          1000    /* 1000-1002 during the A/D tests */

/* pd: the 2048 PDEs of the four (high) page directories, one array */
static u64 *pdpt, *pd, *low_pt, *alias_pt, *top_pt, *ad_pt, *remap_pt;
static u32 hpt_used;

/* Globals: CPL3 code uses them too. */
u32 user_val;
u8 split_src[16] __attribute__((aligned(16)));
u8 split_dst[16] __attribute__((aligned(16)));
u32 split_width;

/* Where the kernel reaches physical @p: identity, window or WTOP; or 0. */
static void *view(u64 p)
{
    if (p < 0x2000000u) {
        return (void *)(u32)p;
    }
    if (p >= HIGH && p < HIGH + WIN_SIZE) {
        return (void *)(WIN + (u32)(p - HIGH));
    }
    if (p >= HTOP && p < HIGH_END) {
        return (void *)(WTOP + (u32)(p - HTOP));
    }
    return 0;
}

/* The physical address of a high table seen through the window. */
static u64 hphys(const u64 *t)
{
    return HIGH + ((u32)t - WIN);
}

/* @n consecutive zeroed 4 KiB tables in RAM above 4 GiB. */
static u64 *hpt_alloc(u32 n)
{
    u64 *t = view(HPT + hpt_used);

    hpt_used += n * 4096;
    for (u32 i = 0; i < n * 512; i++) {
        t[i] = 0;
    }
    return t;
}

/*
 * The physical address that @lin translates to in the current tables
 * (pdpt), by a walk in software, or NO_PHYS when not present.
 */
static u64 walk(u32 lin)
{
    u64 e = pdpt[lin >> 30];
    u64 *t;

    if (!(e & PTE_P)) {
        return NO_PHYS;
    }
    t = view(e & FRAME_MASK);
    e = t[(lin >> 21) & 511];
    if (!(e & PTE_P)) {
        return NO_PHYS;
    }
    if (e & PTE_PS) {
        return (e & FRAME_MASK & ~0x1fffffull) | (lin & 0x1fffff);
    }
    t = view(e & FRAME_MASK);
    e = t[(lin >> 12) & 511];
    return e & PTE_P ? (e & FRAME_MASK) | (lin & 0xfff) : NO_PHYS;
}

static u8 *lin_view(u32 lin)
{
    u64 p = walk(lin);

    return p == NO_PHYS ? 0 : view(p);
}

/* The 4 KiB alias entries: groups of 16 by j >> 4. */
static u64 alias_pte(u32 j)
{
    u64 hi = (HSCRATCH + j * 4096) | RWU, lo = (SCRATCH2 + j * 4096) | RWU;

    switch (j >> 4) {
    case 31:
        return 0;                                       /* not present */
    case 30:
        return hi & ~(u64)PTE_U;                        /* supervisor */
    case 29:
        return hi & ~(u64)PTE_W;                        /* read-only */
    case 28:
        return j & 1 ? lo : (HIGH_END - 4096) | RWU;    /* last of RAM */
    case 27:
        return (HIGH_END + j * 4096) | RWU;             /* past RAM */
    case 26:
        return (0xffff0000u + (j & 15) * 4096) | RWU;   /* BIOS ROM */
    }
    return j & 1 ? lo : hi;
}

/* The 2 MiB alias entries: groups by i & 63. */
static u64 alias_pde_2m(u32 i)
{
    u64 hi = HSCRATCH | RWU | PTE_PS, lo = SCRATCH2 | RWU | PTE_PS;

    switch (i & 63) {
    case 63:
        return 0;
    case 62:
        return hi & ~(u64)PTE_U;
    case 61:
        return hi & ~(u64)PTE_W;
    case 60:
        return HIGH_END | RWU | PTE_PS;                 /* past RAM */
    case 58:
        return HTOP | RWU | PTE_PS;     /* then 59: low RAM */
    }
    return i & 1 ? lo : hi;
}

/* What the walker sets in @e when CPL0 reads and writes its page. */
static u64 after_rw(u64 e)
{
    if (!(e & PTE_P)) {
        return e;
    }
    return e | PTE_A | (e & PTE_W ? PTE_D : 0);
}

/*
 * PDEs 1-32 of the first directory: the identity above 2 MiB and the
 * (supervisor) window.  Both the bootstrap and the real tables have them.
 */
static void map_identity_window(u64 *dir)
{
    for (u32 i = 1; i < WIN_PDE; i++) {
        dir[i] = (i << 21) | RWU | PTE_PS;
    }
    for (u32 i = 0; i < WIN_SIZE >> 21; i++) {
        dir[WIN_PDE + i] = (HIGH + (i << 21)) | PTE_P | PTE_W | PTE_PS;
    }
    dir[WTOP_PDE] = HTOP | PTE_P | PTE_W | PTE_PS;
}

/* Paging on with low tables, so that the window can be written. */
static void bootstrap(void)
{
    u64 *boot_pdpt, *boot_pd;

    pt_reset();
    boot_pdpt = pt_alloc64();
    boot_pd = pt_alloc64();
    boot_pdpt[0] = (u32)boot_pd | PTE_P;
    boot_pd[0] = RWU | PTE_PS;
    map_identity_window(boot_pd);
    write_cr4(read_cr4() | CR4_PAE);
    write_cr3((u32)boot_pdpt);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

/*
 * Unassigned addresses drop writes: a pattern written at both ends of
 * the high RAM used here must read back, and must not be what the low
 * RAM 4 GiB below reads.
 */
static int high_ram_present(void)
{
    volatile u32 *low = (u32 *)SCRATCH, *first = view(HSCRATCH);
    volatile u32 *last = view(HIGH_END - 4);

    *low = 0x10c0ffee;
    *first = 0x41c0ffee;
    *last = 0xe9dc0ffe;
    return *first == 0x41c0ffee && *last == 0xe9dc0ffe &&
           *low == 0x10c0ffee;
}

/* The real tables, all above 4 GiB but the PDPT; A and D all clear. */
static void build(void)
{
    pdpt = pt_alloc64();
    pd = hpt_alloc(4);
    for (u32 i = 0; i < 4; i++) {
        pdpt[i] = (hphys(pd) + i * 4096) | PTE_P;
    }
    low_pt = hpt_alloc(1);
    alias_pt = hpt_alloc(1);
    top_pt = hpt_alloc(1);
    ad_pt = hpt_alloc(1);
    remap_pt = hpt_alloc(1);
    for (u32 j = 0; j < 512; j++) {
        low_pt[j] = (j * 4096) | RWU;
        alias_pt[j] = alias_pte(j);
        top_pt[j] = alias_pte(j);
        remap_pt[j] = (HTOP + (j & 255) * 4096) | RWU;
    }
    pd[0] = hphys(low_pt) | RWU;
    map_identity_window(pd);
    for (u32 i = ALIAS_PDE; i < 2047; i++) {
        pd[i] = hphys(alias_pt) | RWU;
    }
    pd[2047] = hphys(top_pt) | RWU;

    fill_words(SCRATCH, 0x800000, 0x10e50000);
    fill_words((u32)view(HSCRATCH), 0x800000, 0x41e50000);
    fill_words(WTOP, 0x200000, 0xe9d50000);
}

static void load_cr3(void)
{
    write_cr3((u32)pdpt);
}

/* Identity (read), the end of RAM (supervisor), every alias. */
static void sweeps(u32 unused)
{
    sweep(0, 0x1fff, 0);
    sweep(WTOP >> 12, (WTOP >> 12) + 511, 0);
    sweep(LIN(ALIAS_PDE, 0) >> 12, 0xfffff, 1);
}

/* A sweep at CPL0 used every alias entry: A and D exactly as needed. */
static void check_alias_ad(void)
{
    u32 bad = 0, first = 0;

    for (u32 j = 0; j < 512; j++) {
        if (alias_pt[j] != after_rw(alias_pte(j))) {
            first = bad++ ? first : j;
        }
    }
    check(bad == 0, "CPL0 sweep: A and D of the 512 high PTEs as required",
          bad, first);
    bad = 0;
    for (u32 i = ALIAS_PDE; i < 2047; i++) {
        /* bit 6 (D) of a PDE that points to a table is ignored */
        if (pd[i] != (hphys(alias_pt) | RWU | PTE_A)) {
            first = bad++ ? first : i;
        }
    }
    check(bad == 0, "CPL0 sweep: A set and bit 6 clear in 2014 high PDEs",
          bad, first);
}

static void set_edge(u32 top, u32 zero, u32 k)
{
    top_pt[511] = top ? (HSCRATCH2 + k * 4096) | top : 0;
    low_pt[0] = zero;
    invlpg(0xfffff000);
    invlpg(0);
}

static void set_top_2m(u32 t)
{
    pd[2047] = t == 3 ? hphys(top_pt) | RWU :
               (HSCRATCH2 | PTE_PS | top_state[t]);
    load_cr3();
}

/* Borders: end of RAM -> alias, high <-> low, last frame, groups. */
static void group_edges(u32 unused)
{
    edge_probes(LIN(ALIAS_PDE, 0));
    edge_probes(LIN(40, 1));
    edge_probes(LIN(40, 2));
    edge_probes(LIN(40, 28 * 16 + 1));
    for (u32 g = 25; g < 32; g++) {
        edge_probes(LIN(41, g * 16));
        edge_probes(LIN(41, g * 16 + 16));
    }
}

static void user_read(u32 a)
{
    user_val = rd32(a);
}

static void user_write(u32 a)
{
    wr32(a, 0x55aa55aa);
}

/* Bytes 0-9 a normal 80-bit value: fldt/fstpt copy it exactly. */
static void split_fill(u32 seed)
{
    for (u32 i = 0; i < 16; i++) {
        split_src[i] = (u8)((seed * 0x9e3779b1u) >> (i & 3) * 8) + i * 29;
    }
    split_src[7] |= 0x80;       /* explicit integer bit */
    split_src[9] = 0x3f;        /* exponent 0x3fxx */
}

static void split_store(u32 lin)
{
    switch (split_width) {
    case 8:
        asm volatile("movq split_src, %%xmm0\n\t"
                     "movq %%xmm0, (%0)" : : "r"(lin) : "memory");
        break;
    case 10:
        asm volatile("fldt split_src\n\t"
                     "fstpt (%0)" : : "r"(lin) : "memory");
        break;
    default:
        asm volatile("movdqu split_src, %%xmm0\n\t"
                     "movdqu %%xmm0, (%0)" : : "r"(lin) : "memory");
    }
}

static void split_load(u32 lin)
{
    switch (split_width) {
    case 8:
        asm volatile("movq (%0), %%xmm0\n\t"
                     "movq %%xmm0, split_dst" : : "r"(lin) : "memory");
        break;
    case 10:
        asm volatile("fldt (%0)\n\t"
                     "fstpt split_dst" : : "r"(lin) : "memory");
        break;
    default:
        asm volatile("movdqu (%0), %%xmm0\n\t"
                     "movdqu %%xmm0, split_dst" : : "r"(lin) : "memory");
    }
}

/*
 * 8-, 10- and 16-byte stores that end 1-15 bytes past @edge, at CPL0 and
 * CPL3: each byte must be in the frame that the tables give for it (read
 * through the window or the identity), and loads there read them back.
 */
static void split_edge(u32 edge, const char *what)
{
    static const u8 widths[] = { 8, 10, 16 };
    static const u8 back[] = { 1, 3, 5, 7, 9, 15 };
    u32 bad = 0, n = 0;

    for (u32 w = 0; w < sizeof(widths); w++) {
        for (u32 b = 0; b < sizeof(back) && back[b] < widths[w]; b++) {
            u32 lin = edge - back[b];

            split_width = widths[w];
            split_fill(edge ^ n);
            if (n & 1) {
                user(split_store, lin);
            } else {
                split_store(lin);
            }
            for (u32 i = 0; i < split_width; i++) {
                u8 *v = lin_view(lin + i);

                bad += !v || *v != split_src[i];
            }
            for (u32 i = 0; i < 16; i++) {
                split_dst[i] = 0xcc;
            }
            if (n & 2) {
                user(split_load, lin);
            } else {
                split_load(lin);
            }
            for (u32 i = 0; i < split_width; i++) {
                bad += split_dst[i] != split_src[i];
            }
            ncases += 2;
            n++;
        }
    }
    mix(bad);
    check(bad == 0, what, edge, bad);
}

/*
 * Across 4 GiB: the top page high, page 0 low (not frame 0 here: the
 * check reads it through the identity, and a null pointer is no view).
 */
static void top_split(void)
{
    top_pt[511] = HSCRATCH2 | RWU;
    low_pt[0] = (SCRATCH2 + 511 * 4096) | RWU;
    invlpg(0xfffff000);
    invlpg(0);
    split_edge(0, "8/10/16-byte accesses: a high top page, then page 0");
    low_pt[0] = RWU;
    invlpg(0);
}

/* Writes through one mapping of a high frame seen through the others. */
static void aliases(void)
{
    u32 j = 0x40, off = 0x100, x;
    u32 a = LIN(300, j) + off, b = LIN(900, j) + off;
    volatile u32 *win = view(HSCRATCH + j * 4096 + off);
    volatile u32 *low = (u32 *)(SCRATCH + j * 4096 + off);
    u32 low_was = *low;

    wr32(a, 0x12345678);
    x = rd32(b);
    check(x == 0x12345678, "a write through one alias of a high frame is "
          "read through another", x, 0);
    check(*win == 0x12345678, "and through the window onto high RAM",
          *win, 0);
    check(*low == low_was, "the low frame 4 GiB below keeps its data",
          *low, low_was);
    user(user_write, b);
    x = rd32(a);
    check(x == 0x55aa55aa && *win == x, "a CPL3 write through an alias is "
          "read at CPL0 through another and the window", x, *win);
    *win = 0xfeedf00d;
    user(user_read, a);
    check(user_val == 0xfeedf00d, "a write through the window is read at "
          "CPL3 through an alias", user_val, 0);

    pd[500] = HSCRATCH | RWU | PTE_PS;
    load_cr3();
    x = rd32(LIN(500, j) + off);
    check(x == 0xfeedf00d, "a 2 MiB page onto the same high frames reads "
          "the write", x, 0);
    wr32(LIN(500, j) + off + 4, 0xabad1dea);
    user(user_read, b + 4);
    check(user_val == 0xabad1dea, "a write through the 2 MiB page is read "
          "at CPL3 through a 4 KiB alias", user_val, 0);
    pd[500] = hphys(alias_pt) | RWU;
    load_cr3();

    /* code in a high frame, written through one alias, run via another */
    for (u32 v = 1; v <= 3; v++) {
        u8 *w = (u8 *)LIN(200, 0x20);
        u32 (*fn)(void) = (u32 (*)(void))LIN(600, 0x20);

        w[0] = 0xb8;            /* mov $v, %eax; ret */
        w[1] = v;
        w[2] = w[3] = w[4] = 0;
        w[5] = 0xc3;
        x = fn();
        check(x == v, "code written to a high frame through an alias runs "
              "through another", x, v);
    }
}

static void check_ad(u64 e, u32 want, const char *what)
{
    check((e & (PTE_A | PTE_D)) == want, what, (u32)e, want);
}

/*
 * Accessed and Dirty, which the walker writes into the high tables:
 * set where an access needs them and nowhere else.  Not checked: A of
 * an entry whose access faults (the SDM lets a CPU set it or not).
 */
static void accessed_dirty(void)
{
    u32 lin = LIN(AD_PDE, 0), big = LIN(AD_PDE + 1, 0);
    u32 big2 = LIN(AD_PDE + 2, 0), bad = 0;

    for (u32 j = 0; j < 512; j++) {
        ad_pt[j] = (HSCRATCH + j * 4096) | RWU;
    }
    ad_pt[6] &= ~(u64)PTE_W;
    pd[AD_PDE] = hphys(ad_pt) | RWU;
    pd[AD_PDE + 1] = HSCRATCH | RWU | PTE_PS;
    pd[AD_PDE + 2] = (HSCRATCH + 0x200000) | RWU | PTE_PS;
    load_cr3();

    rd32(lin + 0x10);
    check_ad(pd[AD_PDE], PTE_A, "read: A set in the high PDE, bit 6 clear");
    check_ad(ad_pt[0], PTE_A, "read: A set in the high PTE, D clear");
    wr32(lin + 0x1020, 0x0d1e7e57);
    check_ad(ad_pt[1], PTE_A | PTE_D, "write: A and D set in the high PTE");
    check(*(u32 *)view(HSCRATCH + 0x1020) == 0x0d1e7e57, "the write is in "
          "the high frame", *(u32 *)view(HSCRATCH + 0x1020), 0);
    rd32(lin + 0x2000);
    check_ad(ad_pt[2], PTE_A, "read first: A set, D clear");
    wr32(lin + 0x2004, 1);
    check_ad(ad_pt[2], PTE_A | PTE_D, "then a write: D set");
    user(user_write, lin + 0x3000);
    check_ad(ad_pt[3], PTE_A | PTE_D, "CPL3 write: A and D set");
    user(user_read, lin + 0x4000);
    check_ad(ad_pt[4], PTE_A, "CPL3 read: A set, D clear");
    check(wr32(lin + 0x6000, 1) == 14 && last_err == 3, "CPL0 write to a "
          "read-only high page faults", last_vec, last_err);
    user(user_write, lin + 0x6000);
    check(last_vec == 14 && last_err == 7, "CPL3 write to a read-only high "
          "page faults", last_vec, last_err);
    check(!(ad_pt[6] & PTE_D), "writes that fault leave D clear",
          (u32)ad_pt[6], 0);
    for (u32 j = 5; j < 512; j++) {
        bad += j != 6 && (ad_pt[j] & (PTE_A | PTE_D));
    }
    check(bad == 0, "PTEs of pages never used: A and D clear", bad, 0);

    rd32(big + 0x5000);
    check_ad(pd[AD_PDE + 1], PTE_A, "2 MiB page read: A set in the high "
             "PDE, D clear");
    wr32(big2 + 0x7000, 2);
    check_ad(pd[AD_PDE + 2], PTE_A | PTE_D, "2 MiB page write: A and D set");
    wr32(big + 0x9000, 3);
    check_ad(pd[AD_PDE + 1], PTE_A | PTE_D, "2 MiB page written after a "
             "read: D set");

    ad_pt[0] &= ~(u64)(PTE_A | PTE_D);
    invlpg(lin);
    wr32(lin + 0x10, 4);
    check_ad(ad_pt[0], PTE_A | PTE_D, "A and D cleared, invlpg, write: both "
             "set again");
    pd[AD_PDE] &= ~(u64)PTE_A;
    ad_pt[4] &= ~(u64)PTE_A;
    load_cr3();
    user(user_read, lin + 0x4000);
    check_ad(pd[AD_PDE], PTE_A, "A cleared, CR3 reload, CPL3 read: A set in "
             "the PDE");
    check_ad(ad_pt[4], PTE_A, "and in the PTE, D still clear");

    for (u32 i = 0; i < 3; i++) {
        pd[AD_PDE + i] = hphys(alias_pt) | RWU;
    }
    load_cr3();
}

/* High PTEs and PDEs changed: INVLPG and CR3 reloads. */
static void remaps(void)
{
    u32 j = 0x40, off = 0x100, x, want;
    u32 a = LIN(300, j) + off, b = LIN(900, j) + off;

    wr32(a, 0x0dd0a11a);
    alias_pt[j] = (HTOP + 0x1000) | RWU;
    invlpg(a);
    x = rd32(a);
    want = *(u32 *)view(HTOP + 0x1000 + off);
    check(x == want, "invlpg after a high PTE changed: the new frame is "
          "read", x, want);
    load_cr3();
    x = rd32(b);
    check(x == want, "CR3 reload: other aliases see the new frame", x, want);
    wr32(a, 0x600df00d);
    x = *(u32 *)view(HTOP + 0x1000 + off);
    check(x == 0x600df00d, "a write goes to the new frame", x, 0);
    alias_pt[j] = alias_pte(j);
    load_cr3();
    x = rd32(a);
    check(x == 0x0dd0a11a, "remapped back: the old frame", x, 0);

    pd[300] = hphys(remap_pt) | RWU;
    invlpg(a);
    x = rd32(a);
    want = *(u32 *)view(HTOP + j * 4096 + off);
    check(x == want, "invlpg after a high PDE changed: the new table is "
          "used", x, want);
    load_cr3();
    x = rd32(LIN(300, 7) + 8);
    want = *(u32 *)view(HTOP + 7 * 4096 + 8);
    check(x == want, "CR3 reload: all of the PDE uses the new table", x,
          want);
    pd[300] = hphys(alias_pt) | RWU;
    load_cr3();
    x = rd32(a);
    check(x == 0x0dd0a11a, "back to the old table", x, 0);

    alias_pt[j] &= ~(u64)PTE_P;
    invlpg(a);
    check(rd32(a) == 0xa5a5a5a5 && last_vec == 14 && last_err == 0 &&
          last_cr2 == a, "a high PTE made not present faults after invlpg",
          last_vec, last_cr2);
    alias_pt[j] |= PTE_P;
    x = rd32(a);
    check(x == 0x0dd0a11a, "present again: read without invlpg", x, 0);
    alias_pt[j] &= ~(u64)PTE_U;
    invlpg(a);
    user(user_read, a);
    check(last_vec == 14 && last_err == 5, "CPL3 read of a supervisor high "
          "page faults", last_vec, last_err);
    alias_pt[j] = (alias_pt[j] | PTE_U) & ~(u64)PTE_W;
    invlpg(a);
    user(user_write, a);
    check(last_vec == 14 && last_err == 7, "CPL3 write to a read-only high "
          "page faults", last_vec, last_err);
    user(user_read, a);
    check(user_val == 0x0dd0a11a, "and CPL3 reads it", user_val, 0);
    alias_pt[j] = alias_pte(j);
    invlpg(a);
}

/*
 * Another address space (a second low PDPT, its first directory a high
 * copy with other tables), and a high PTE of the first changed while it
 * is parked.
 */
static void cr3_switch(void)
{
    u32 j = 0x40, off = 0x100, x, want;
    u32 a = LIN(300, j) + off, b = LIN(900, j) + off;
    u64 *pdpt2 = pt_alloc64(), *pd2 = hpt_alloc(1);

    for (u32 i = 0; i < 512; i++) {
        pd2[i] = pd[i];
    }
    pd2[300] = hphys(remap_pt) | RWU;
    pdpt2[0] = hphys(pd2) | PTE_P;
    for (u32 i = 1; i < 4; i++) {
        pdpt2[i] = pdpt[i];
    }
    user(user_read, a);         /* the old translation in the TLB */
    write_cr3((u32)pdpt2);
    user(user_read, a);
    want = *(u32 *)view(HTOP + j * 4096 + off);
    check(user_val == want, "CR3 switch: CPL3 sees the other space's high "
          "tables", user_val, want);
    x = rd32(b);
    check(x == 0x0dd0a11a, "and the directories they share", x, 0);
    alias_pt[j] = (HTOP + 0x3000) | RWU;
    load_cr3();
    user(user_read, a);
    want = *(u32 *)view(HTOP + 0x3000 + off);
    check(user_val == want, "CR3 back after a high PTE changed while parked: "
          "CPL3 sees the new frame", user_val, want);
    alias_pt[j] = alias_pte(j);
    load_cr3();
}

static void two_mib(void)
{
    for (u32 i = ALIAS_PDE; i < 2047; i++) {
        pd[i] = alias_pde_2m(i);
    }
    load_cr3();
}

static void check_2m_ad(void)
{
    u32 bad = 0, first = 0;

    for (u32 i = ALIAS_PDE; i < 2047; i++) {
        if (pd[i] != after_rw(alias_pde_2m(i))) {
            first = bad++ ? first : i;
        }
    }
    check(bad == 0, "CPL0 sweep: A and D of 2014 high 2 MiB PDEs as "
          "required", bad, first);
}

/*
 * INVLPG of any address of a 2 MiB page drops all of it, after an INVLPG
 * elsewhere made the softmmu forget its large pages.
 */
static void remap_2m(void)
{
    u32 k = 100, lin = LIN(k, 0), far = lin + 0x1ff000, x, want;

    pd[k] = HSCRATCH | RWU | PTE_PS;
    load_cr3();
    x = rd32(far);
    want = *(u32 *)view(HSCRATCH + 0x1ff000);
    check(x == want, "a high 2 MiB page: its frame is read", x, want);
    rd32(LIN(k + 40, 3));
    invlpg(LIN(k + 40, 3));
    pd[k] = HTOP | RWU | PTE_PS;
    invlpg(lin + 0x5000);
    x = rd32(far);
    want = *(u32 *)view(HTOP + 0x1ff000);
    check(x == want, "invlpg inside a high 2 MiB page drops all of it", x,
          want);
    pd[k] = alias_pde_2m(k);
    load_cr3();
}

/*
 * The low PDPT still points at the high directories.  Its bit 5 is not
 * checked: the SDM reserves it in legacy PAE, but QEMU's walker sets it
 * as an Accessed bit.
 */
static void check_structures(void)
{
    u32 bad = 0;

    for (u32 i = 0; i < 4; i++) {
        bad += (pdpt[i] & ~(u64)PTE_A) != ((hphys(pd) + i * 4096) | PTE_P);
    }
    check(bad == 0, "PDPTEs unchanged", bad, 0);
    check_ad(pd[1], PTE_A | PTE_D, "the kernel's high 2 MiB PDE: A and D set");
    check_ad(pd[WIN_PDE + (SENTINEL >> 21)], PTE_A | PTE_D, "the high PDE "
             "of the window onto the tables: A and D set");
}

int attack_main(void)
{
    u32 n;

    set_nohash(0xa0000, 0x100000);
    fill_words(SENTINEL, SENTINEL_SIZE, 0x5e7e0000);
    bootstrap();
    n = high_ram_present();
    check(n, "RAM above 4 GiB reads back what was written", n, 0);
    if (!n) {
        ml_printf("attack paehigh: no RAM above 4 GiB (it needs RAM up to "
                  "0x1c0000000): run with -m 6G\n");
        paging_off();
        return 1;
    }
    build();
    load_cr3();

    phase_begin("high4k-cpl0");
    sweep(0, 0x1fff, 0);
    sweep(WTOP >> 12, (WTOP >> 12) + 511, 0);
    ml_printf("  identity and end of RAM read: reads %x\n", rhash);
    sweep(LIN(ALIAS_PDE, 0) >> 12, 0xfffff, 1);
    ml_printf("  alias sweep: reads %x\n", rhash);
    check_alias_ad();
    edge_states(set_edge);
    group_edges(0);
    phase_end();

    phase_begin("high4k-cpl3");
    user(sweeps, 0);
    user(group_edges, 0);
    phase_end();

    /* alias_pt: even entries high, odd ones low; group 28 the last frame */
    phase_begin("high4k-split");
    split_edge(LIN(40, 1), "8/10/16-byte accesses: high frame, then low");
    split_edge(LIN(40, 2), "8/10/16-byte accesses: low frame, then high");
    split_edge(LIN(40, 28 * 16 + 1), "8/10/16-byte accesses: the last frame "
               "of RAM, then low");
    top_split();
    phase_end();

    phase_begin("high-alias");
    aliases();
    phase_end();

    phase_begin("high-ad");
    accessed_dirty();
    phase_end();

    phase_begin("high-remap");
    remaps();
    cr3_switch();
    phase_end();

    phase_begin("high2m-cpl0");
    two_mib();
    sweeps(0);
    check_2m_ad();
    large_top_states(set_top_2m);
    phase_end();

    phase_begin("high2m-cpl3");
    user(sweeps, 0);
    phase_end();

    /* alias_pde_2m: even PDEs high, odd ones low; 58 (mod 64) the last */
    phase_begin("high2m-split");
    split_edge(LIN(41, 0), "8/10/16-byte accesses: high 2 MiB page, then low");
    split_edge(LIN(42, 0), "8/10/16-byte accesses: low 2 MiB page, then high");
    split_edge(LIN(2 * 64 + 59, 0), "8/10/16-byte accesses: the last 2 MiB "
               "of RAM, then low");
    remap_2m();
    phase_end();

    check_structures();
    paging_off();
    n = words_changed(SCRATCH, 0x400000, 0x10e50000);
    check(n == 0, "low RAM 4 GiB below the high frames kept its data", n, 0);
    n = words_changed(SENTINEL, SENTINEL_SIZE, 0x5e7e0000);
    check(n == 0, "low RAM 4 GiB below the high tables kept its data", n, 0);
    return finish("paehigh");
}
