/*
 * Differential fuzz harness: a multiboot kernel (upstream's boot.S and
 * minilib) that runs the generated cases of tests/fuzz/gen.py one after
 * the other and prints one line per case on the debug console:
 *
 *   C <n> <eax> <ebx> <ecx> <edx> <esi> <edi> <ebp> <esp> <eflags>
 *     F<faults> <fault-hash> <vec>/<err>/<cr2>/<insn> X<fpu-hash>
 *     M<arena-hash> L<low-hash> P<page-table-hash>
 *
 * (one line).  tests/fuzz/run compares these lines between two modes.
 *
 * Memory: the arena is 32 pages of RAM at 8 MiB, refilled with a
 * pseudo-random pattern before every case.  With paging on, the test
 * pages (16 at linear 0, 16 at 0x40000000, 16 at the top 64 KiB) map
 * arena pages chosen by the case, the 4 MiB page at 0x80000000 maps
 * 8 MiB (the arena) or nothing, and 0-16 MiB is identity mapped with
 * 4 MiB pages (0-4 MiB with 4 KiB pages, as page table 0 also holds the
 * test pages at 0).  0x01000000 aliases physical 0-4 MiB so that the
 * harness can hash physical page 0-15 with paging on.
 *
 * That is the "2level" paging (tests/fuzz/run --paging, -m 64M).  Built
 * with FZ_PAE_HIGH=1, the harness runs the same cases with "pae-high"
 * paging (-m 6G: RAM at 0-3 GiB and 0x1_0000_0000-0x1_c000_0000): PAE,
 * the same linear layout and rights, but the four page directories and
 * the page tables are pages at 4 GiB (HIGH_TABLES; only the PDPT stays
 * low, CR3 being 32-bit) and the cases' pages are above 4 GiB too:
 *
 *   - arena page k of a test PTE is page k of the "high arena", the
 *     2 MiB at HIGH_ARENA, for even k and of the arena at 8 MiB for
 *     odd k, so that a test page is often a high frame followed by a
 *     low one (or the reverse), and the aliases of a case mix both;
 *   - linear 8-10 MiB (the arena and the stacks of paging-on cases)
 *     and 0x80000000 are the high arena as 2 MiB pages, 0x80200000 is
 *     physical 10 MiB as in 2level: a high then a low 2 MiB page;
 *   - the entries a case runs through (test PTEs, the 2 MiB PDEs, the
 *     PDEs of the mid and top page tables) start every case with
 *     Accessed and Dirty clear, and P hashes every page-table page.
 *
 * Paging off, the harness could not reach above 4 GiB: in pae-high it
 * keeps paging on outside the cases, and reaches the low 64 KiB, both
 * arenas and the tables through windows at 0x01000000 (LOW_ALIAS) and
 * 0x01200000 (TABLES_ALIAS), which the cases never touch.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */


typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long long u64;

#ifndef FZ_PAE_HIGH
#define FZ_PAE_HIGH 0           /* 1: pae-high paging, else 2level */
#endif

#define ARENA 0x00800000u
#define ARENA_PAGES 32
#define LOW_ALIAS 0x01000000u

#define CR0_PG 0x80000000u
#define CR4_PAE 0x20u

/* pae-high: physical addresses above 4 GiB (RAM with -m 6G) */
#define HIGH_TABLES 0x100000000ull      /* the page-table pages */
#define HIGH_ARENA 0x1bfe00000ull       /* 2 MiB, the last of the RAM */
/* and the harness's windows (a page table, a 2 MiB page) */
#define LOW_ARENA_ALIAS (LOW_ALIAS + 0x20000)
#define HIGH_ARENA_ALIAS (LOW_ALIAS + 0x40000)
#define TABLES_ALIAS (LOW_ALIAS + 0x200000)

/* PAE entries */
#define PG_P 0x001u
#define PG_RW 0x002u
#define PG_U 0x004u
#define PG_A 0x020u
#define PG_D 0x040u
#define PG_PS 0x080u

/* flags of a case */
#define F_PAGING 1
#define F_WP 2
#define F_RING3 4
#define F_INVLPG 8
#define F_BIG 16        /* 4 MiB page at 0x80000000 present */
#define F_BIG_RW 32
#define F_BIG_U 64

/* a test PTE: bit 15 present, 14 writable, 13 user, low bits arena page */
#define T_P 0x8000
#define T_RW 0x4000
#define T_U 0x2000

struct fz_case {
    u32 code, end;          /* first instruction, the int $0x30 */
    const u32 *tab;         /* [start, next] of each instruction */
    u32 ntab;
    u32 flags;
    u32 esp, eflags;
    u32 regs[7];            /* eax ebx ecx edx esi edi ebp */
    u32 sel[4];             /* ds es fs gs: 0 flat, 1-4 fuzz segment */
    u32 base[4];            /* bases of the fuzz segments */
    u16 pte[48];
};

extern const struct fz_case fz_cases[];
extern const u32 fz_ncases, fz_seed, fz_first;
extern const u32 fz_stubs[32];
extern void fz_case_end(void);
extern void fz_run_case(void *start);

struct fz_start {
    u32 eax, ebx, ecx, edx, esi, edi, ebp, esp, eflags, eip, cs, ss;
    u32 ds, es, fs, gs;
};

/* what the stubs push, lowest address first */
struct frame {
    u32 gs, fs, es, ds;
    u32 edi, esi, ebp, esp0, ebx, edx, ecx, eax;
    u32 vec, err, eip, cs, eflags;
    u32 esp3, ss3;          /* only from CPL 3 */
};

/* GDT */
#define SEL_CODE0 0x08
#define SEL_DATA0 0x10
#define SEL_CODE3 0x1b
#define SEL_DATA3 0x23
#define SEL_TSS 0x28
#define SEL_FUZZ(i) (0x30 + 8 * (i) + 3)

static u64 gdt[10] __attribute__((aligned(8)));
static u64 idt[0x31] __attribute__((aligned(8)));
static u32 tss[26] __attribute__((aligned(16)));
static u8 irq_stack[16384] __attribute__((aligned(16)));

static u32 pd[1024] __attribute__((aligned(4096)));
static u32 pt0[1024] __attribute__((aligned(4096)));
static u32 pt_mid[1024] __attribute__((aligned(4096)));
static u32 pt_top[1024] __attribute__((aligned(4096)));

/* pae-high: the page-table pages at HIGH_TABLES, in this order */
enum { T_PD0, T_PD1, T_PD2, T_PD3, T_PT0, T_PT_MID, T_PT_TOP, T_PT_ALIAS,
       T_PAGES };
static u64 pdpt[4] __attribute__((aligned(32)));
static u64 boot_pdpt[4] __attribute__((aligned(32)));
static u64 boot_pd[512] __attribute__((aligned(4096)));

static u8 fxarea[512] __attribute__((aligned(16)));

/* results of the running case */
static const struct fz_case *cur;
static u32 nfaults, fault_hash, first_fault[4];
static u32 res[9];
static int case_over;

static u64 seg_desc(u32 base, u32 limit, u32 access, u32 flags)
{
    return (u64)(limit & 0xffff) | ((u64)(base & 0xffffff) << 16) |
           ((u64)access << 40) | ((u64)((limit >> 16) & 0xf) << 48) |
           ((u64)flags << 52) | ((u64)(base >> 24) << 56);
}

static u64 gate(u32 off, u32 dpl)
{
    return (u64)(off & 0xffff) | ((u64)SEL_CODE0 << 16) |
           ((u64)(0x8e | (dpl << 5)) << 40) | ((u64)(off >> 16) << 48);
}

/* port 0xe9 (isa-debugcon) */
static void outc(char c)
{
    asm volatile("outb %0, $0xe9" : : "a"(c));
}

static void put_hex(u32 v)
{
    for (int i = 28; i >= 0; i -= 4) {
        outc("0123456789abcdef"[(v >> i) & 15]);
    }
}

static void put_str(const char *s)
{
    while (*s) {
        outc(*s++);
    }
}

static u32 mix(u32 h, u32 v)
{
    return (h ^ v) * 16777619u;
}

static u32 hash_words(u32 h, const u32 *p, u32 n)
{
    for (u32 i = 0; i < n; i++) {
        h = mix(h, p[i]);
    }
    return h;
}

static u32 read_cr(int n)
{
    u32 v = 0;

    switch (n) {
    case 0: asm volatile("mov %%cr0, %0" : "=r"(v)); break;
    case 2: asm volatile("mov %%cr2, %0" : "=r"(v)); break;
    case 3: asm volatile("mov %%cr3, %0" : "=r"(v)); break;
    case 4: asm volatile("mov %%cr4, %0" : "=r"(v)); break;
    }
    return v;
}

static void write_cr0(u32 v) { asm volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static void write_cr3(u32 v) { asm volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static void write_cr4(u32 v) { asm volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

/* Called by the exception stubs: record the fault, skip the instruction. */
void fz_fault(struct frame *f)
{
    u32 cr2 = f->vec == 14 ? read_cr(2) : 0;
    u32 idx = 0xffffffffu;

    if (!cur || case_over) {
        put_str("\nFZ-ABORT fault outside a case: vector ");
        put_hex(f->vec);
        put_str(" eip ");
        put_hex(f->eip);
        put_str("\n");
        asm volatile("mov $0xfe, %%eax; out %%ax, $0xf4; 1: hlt; jmp 1b"
                     : : : "eax");
    }
    for (u32 i = 0; i < cur->ntab; i++) {
        if (cur->tab[2 * i] == f->eip) {
            idx = i;
            break;
        }
    }
    if (nfaults == 0) {
        first_fault[0] = f->vec;
        first_fault[1] = f->err;
        first_fault[2] = cr2;
        first_fault[3] = idx;
    }
    nfaults++;
#ifdef FZ_VERBOSE
    put_str("  fault ");
    put_hex(f->vec);
    outc(' ');
    put_hex(f->err);
    outc(' ');
    put_hex(cr2);
    outc(' ');
    put_hex(idx);
    outc('\n');
#endif
    fault_hash = mix(mix(mix(mix(fault_hash, f->vec), f->err), cr2), idx);
    if (idx == 0xffffffffu || nfaults > 200) {
        /* not one of the case's instructions: end the case there */
        f->eip = cur->end;
    } else {
        f->eip = cur->tab[2 * idx + 1];
    }
}

/* Called from int $0x30 at the end of a case. */
void fz_end(struct frame *f)
{
    res[0] = f->eax;
    res[1] = f->ebx;
    res[2] = f->ecx;
    res[3] = f->edx;
    res[4] = f->esi;
    res[5] = f->edi;
    res[6] = f->ebp;
    res[7] = (f->cs & 3) ? f->esp3 : (u32)&f->esp3;
    res[8] = f->eflags;
    case_over = 1;
    for (int i = 0; i < 512; i++) {
        fxarea[i] = 0;
    }
    asm volatile("fxsave %0; fninit; emms" : "=m"(fxarea) : : "memory");
}

static u32 rng;

static u32 next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void setup_cpu(void)
{
    gdt[0] = 0;
    gdt[1] = seg_desc(0, 0xfffff, 0x9b, 0xc);
    gdt[2] = seg_desc(0, 0xfffff, 0x93, 0xc);
    gdt[3] = seg_desc(0, 0xfffff, 0xfb, 0xc);
    gdt[4] = seg_desc(0, 0xfffff, 0xf3, 0xc);
    gdt[5] = seg_desc((u32)tss, sizeof(tss) - 1, 0x89, 0);
    for (int i = 0; i < 4; i++) {
        gdt[6 + i] = seg_desc(0, 0xfffff, 0xf3, 0xc);
    }
    tss[1] = (u32)irq_stack + sizeof(irq_stack);   /* esp0 */
    tss[2] = SEL_DATA0;                              /* ss0 */
    tss[25] = sizeof(tss) << 16;                     /* no I/O bitmap */

    struct { u16 limit; u32 base; } __attribute__((packed)) gdtr = {
        sizeof(gdt) - 1, (u32)gdt
    }, idtr = { sizeof(idt) - 1, (u32)idt };

    asm volatile("lgdt %0\n\t"
                 "ljmp $0x08, $1f\n1:\n\t"
                 "mov $0x10, %%eax\n\t"
                 "mov %%eax, %%ds\n\tmov %%eax, %%es\n\tmov %%eax, %%ss\n\t"
                 "mov %%eax, %%fs\n\tmov %%eax, %%gs\n\t"
                 "mov $0x28, %%eax\n\tltr %%ax"
                 : : "m"(gdtr) : "eax", "memory");
    for (int v = 0; v < 32; v++) {
        idt[v] = gate(fz_stubs[v], 0);
    }
    for (int v = 32; v < 0x30; v++) {
        idt[v] = gate(fz_stubs[13], 0);
    }
    idt[0x30] = gate((u32)fz_case_end, 3);
    asm volatile("lidt %0" : : "m"(idtr) : "memory");

    /* x87 with native errors (NE, MP), SSE on (OSFXSR, OSXMMEXCPT), PSE */
    write_cr0((read_cr(0) & ~0x0000000cu) | 0x00000022u);
    write_cr4(read_cr(4) | 0x610);
    asm volatile("fninit");
}

static u32 test_va(int i)
{
    if (i < 16) {
        return i << 12;
    } else if (i < 32) {
        return 0x40000000u + ((i - 16) << 12);
    }
    return 0xffff0000u + ((i - 32) << 12);
}

/*
 * 2level: the fixed part of the page tables; A and D set so that they
 * never change.
 */
static void setup_paging_2level(void)
{
    for (u32 i = 0; i < 1024; i++) {
        pt0[i] = (i << 12) | 0x67;                   /* D A U RW P */
        pt_mid[i] = 0;
        pt_top[i] = 0;
        pd[i] = 0;
    }
    pd[0] = (u32)pt0 | 0x67;
    for (u32 i = 1; i < 4; i++) {
        pd[i] = (i << 22) | 0xe7;                    /* PS D A U RW P */
    }
    pd[LOW_ALIAS >> 22] = 0xe3;                      /* PS D A RW P, phys 0 */
    pd[0x40000000u >> 22] = (u32)pt_mid | 0x67;
    pd[1023] = (u32)pt_top | 0x67;
    write_cr3((u32)pd);
}

static u32 *test_pte(int i)
{
    if (i < 16) {
        return &pt0[i];
    } else if (i < 32) {
        return &pt_mid[i - 16];
    }
    return &pt_top[1008 + i - 32];
}

/* 2level: the test PTEs and the 4 MiB page of a case */
static void map_case_2level(const struct fz_case *c)
{
    for (int i = 0; i < 48; i++) {
        u16 t = c->pte[i];
        u32 pte = 0;

        if (t & T_P) {
            pte = (ARENA + ((t & 0x1f) << 12)) | 1;
            pte |= (t & T_RW) ? 2 : 0;
            pte |= (t & T_U) ? 4 : 0;
        }
        *test_pte(i) = pte;
    }
    pd[0x80000000u >> 22] = (c->flags & F_BIG) ?
        (ARENA | 0x81 | ((c->flags & F_BIG_RW) ? 2 : 0) |
         ((c->flags & F_BIG_U) ? 4 : 0)) : 0;
}

/* pae-high, see the top of the file: page-table page T, in its window */
static u64 *pae_table(int t)
{
    return (u64 *)(TABLES_ALIAS + t * 4096);
}

static u64 pae_table_phys(int t)
{
    return HIGH_TABLES + t * 4096;
}

/* the PDE of linear address LIN */
static u64 *pae_pde(u32 lin)
{
    return &pae_table(T_PD0 + (lin >> 30))[(lin >> 21) & 511];
}

static u64 *pae_test_pte(int i)
{
    static const int pt[3] = { T_PT0, T_PT_MID, T_PT_TOP };

    return &pae_table(pt[i / 16])[(test_va(i) >> 12) & 511];
}

/* Arena page K of a test PTE: even pages high, odd ones low. */
static u64 pae_arena_page(u32 k)
{
    return ((k & 1) ? ARENA : HIGH_ARENA) + (k << 12);
}

/*
 * pae-high: the fixed part of the tables, A and D set so that they
 * never change; the rest is written for every case by map_case_pae_high().
 */
static void pae_build_tables(void)
{
    const u64 rw = PG_A | PG_RW | PG_P;
    const u64 big = PG_PS | PG_D | rw;
    u64 *pd0 = pae_table(T_PD0);
    u64 *pt0 = pae_table(T_PT0);
    u64 *win = pae_table(T_PT_ALIAS);

    for (u32 i = 0; i < T_PAGES * 512; i++) {
        pae_table(0)[i] = 0;
    }
    pd0[0] = pae_table_phys(T_PT0) | PG_U | rw;
    for (u32 i = 1; i < 8; i++) {
        pd0[i] = (i << 21) | PG_U | big;            /* identity 2-16 MiB */
    }
    for (u32 i = 16; i < 512; i++) {
        pt0[i] = (i << 12) | PG_D | PG_U | rw;
    }
    /* the windows: the harness's only way above 4 GiB */
    pd0[LOW_ALIAS >> 21] = pae_table_phys(T_PT_ALIAS) | rw;
    pd0[TABLES_ALIAS >> 21] = HIGH_TABLES | big;
    for (u32 i = 0; i < 16; i++) {
        win[i] = (i << 12) | PG_D | rw;
    }
    for (u32 i = 0; i < ARENA_PAGES; i++) {
        win[(LOW_ARENA_ALIAS - LOW_ALIAS) / 4096 + i] =
            (ARENA + (i << 12)) | PG_D | rw;
        win[(HIGH_ARENA_ALIAS - LOW_ALIAS) / 4096 + i] =
            (HIGH_ARENA + (i << 12)) | PG_D | rw;
    }
}

/*
 * pae-high: paging off, the harness cannot write above 4 GiB.  Build the
 * tables through a bootstrap directory below 4 GiB that maps 0-8 MiB
 * and HIGH_TABLES at TABLES_ALIAS as the real one does, then switch to
 * the real one for good: from here on paging is on outside the cases.
 */
static void setup_paging_pae_high(void)
{
    const u64 big = PG_PS | PG_D | PG_A | PG_RW | PG_P;

    for (u32 i = 0; i < 4; i++) {
        boot_pd[i] = (i << 21) | big;
    }
    boot_pd[TABLES_ALIAS >> 21] = HIGH_TABLES | big;
    boot_pdpt[0] = (u32)boot_pd | PG_P;
    write_cr4(read_cr(4) | CR4_PAE);
    write_cr3((u32)boot_pdpt);
    write_cr0(read_cr(0) | CR0_PG);
    pae_build_tables();
    for (int i = 0; i < 4; i++) {
        pdpt[i] = pae_table_phys(T_PD0 + i) | PG_P;
    }
    write_cr3((u32)pdpt);
}

/*
 * pae-high: the test PTEs and the 2 MiB pages of a case, and every entry
 * it runs through with Accessed and Dirty clear, so that the walker
 * writes them.
 */
static void map_case_pae_high(const struct fz_case *c)
{
    const u64 table = PG_U | PG_RW | PG_P;
    u64 big = 0;

    for (int i = 0; i < 48; i++) {
        u16 t = c->pte[i];
        u64 pte = 0;

        if (t & T_P) {
            pte = pae_arena_page(t & 0x1f) | PG_P;
            pte |= (t & T_RW) ? PG_RW : 0;
            pte |= (t & T_U) ? PG_U : 0;
        }
        *pae_test_pte(i) = pte;
    }
    *pae_pde(0x40000000u) = pae_table_phys(T_PT_MID) | table;
    *pae_pde(0xffff0000u) = pae_table_phys(T_PT_TOP) | table;
    *pae_pde(ARENA) = HIGH_ARENA | PG_PS | table;
    if (c->flags & F_BIG) {
        big = PG_PS | PG_P | ((c->flags & F_BIG_RW) ? PG_RW : 0) |
              ((c->flags & F_BIG_U) ? PG_U : 0);
    }
    /* the 4 MiB page of 2level, but its first half above 4 GiB */
    *pae_pde(0x80000000u) = big ? HIGH_ARENA | big : 0;
    *pae_pde(0x80200000u) = big ? (ARENA + 0x200000u) | big : 0;
}

static void invlpg(u32 va)
{
    asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* INVLPG of every page map_case_*() may have changed */
static void invalidate_case(void)
{
    for (int i = 0; i < 48; i++) {
        invlpg(test_va(i));
    }
    invlpg(0x80000000u);
    if (FZ_PAE_HIGH) {
        invlpg(0x80200000u);
        invlpg(ARENA);
    }
}

static void fill_words(u32 *p, u32 n)
{
    for (u32 i = 0; i < n; i++) {
        p[i] = next_rand();
    }
}

/*
 * A fresh arena, and physical 0-64 KiB, which holds time-dependent BIOS
 * data; in pae-high both arenas through the windows.
 */
static void fill_memory(int was_paging)
{
    if (FZ_PAE_HIGH) {
        fill_words((u32 *)HIGH_ARENA_ALIAS, ARENA_PAGES * 1024);
        fill_words((u32 *)LOW_ARENA_ALIAS, ARENA_PAGES * 1024);
    } else {
        fill_words((u32 *)ARENA, ARENA_PAGES * 1024);
    }
    fill_words((u32 *)(was_paging ? LOW_ALIAS : 0), 16 * 1024);
}

/*
 * The M, L and P hashes of a case, hashed through the identity map (or
 * with paging off) in 2level, through the windows in pae-high.
 */
static void hash_memory(int paging, u32 h[3])
{
    if (FZ_PAE_HIGH) {
        h[0] = hash_words(2166136261u, (const u32 *)HIGH_ARENA_ALIAS,
                          ARENA_PAGES * 1024);
        h[0] = hash_words(h[0], (const u32 *)LOW_ARENA_ALIAS,
                          ARENA_PAGES * 1024);
        h[1] = hash_words(2166136261u, (const u32 *)LOW_ALIAS, 16 * 1024);
        h[2] = hash_words(2166136261u, (const u32 *)pae_table(0),
                          T_PAGES * 1024);
        return;
    }
    h[0] = hash_words(2166136261u, (const u32 *)ARENA, ARENA_PAGES * 1024);
    h[1] = hash_words(2166136261u, (const u32 *)(paging ? LOW_ALIAS : 0),
                      16 * 1024);
    h[2] = hash_words(2166136261u, pd, 1024);
    h[2] = hash_words(h[2], pt0, 16);
    h[2] = hash_words(h[2], pt_mid, 16);
    h[2] = hash_words(h[2], &pt_top[1008], 16);
}

static void run_one(u32 n)
{
    const struct fz_case *c = &fz_cases[n];
    u32 cr0 = read_cr(0);
    int was_paging = (cr0 & 0x80000000u) != 0;
    int paging = (c->flags & F_PAGING) != 0;
    struct fz_start st;

    rng = fz_seed * 2654435761u + (fz_first + n) * 40503u + 1;
    fill_memory(was_paging);
    if (FZ_PAE_HIGH) {
        map_case_pae_high(c);
    } else {
        map_case_2level(c);
    }
    if (was_paging && paging && (c->flags & F_INVLPG)) {
        invalidate_case();
    } else if (was_paging) {
        write_cr3(FZ_PAE_HIGH ? (u32)pdpt : (u32)pd);
    }
    cr0 = (cr0 & ~0x00010000u) | ((c->flags & F_WP) ? 0x00010000u : 0);
    cr0 = paging ? (cr0 | 0x80000000u) : (cr0 & ~0x80000000u);
    write_cr0(cr0);

    /* segments */
    for (int i = 0; i < 4; i++) {
        gdt[6 + i] = seg_desc(c->base[i], 0xfffff, 0xf3, 0xc);
    }

    /* x87 and SSE registers from the arena */
    asm volatile("fninit\n\t"
                 "movdqu 0x000(%0), %%xmm0\n\tmovdqu 0x010(%0), %%xmm1\n\t"
                 "movdqu 0x020(%0), %%xmm2\n\tmovdqu 0x030(%0), %%xmm3\n\t"
                 "movdqu 0x040(%0), %%xmm4\n\tmovdqu 0x050(%0), %%xmm5\n\t"
                 "movdqu 0x060(%0), %%xmm6\n\tmovdqu 0x070(%0), %%xmm7\n\t"
                 "movq 0x080(%0), %%mm0\n\tmovq 0x088(%0), %%mm1\n\t"
                 "emms\n\tfldl 0x90(%0)\n\tfldl 0x98(%0)\n\tfldpi"
                 : : "r"(ARENA + 0x1f000) : "memory");

    st.eax = c->regs[0];
    st.ebx = c->regs[1];
    st.ecx = c->regs[2];
    st.edx = c->regs[3];
    st.esi = c->regs[4];
    st.edi = c->regs[5];
    st.ebp = c->regs[6];
    st.esp = c->esp;
    st.eflags = c->eflags;
    st.eip = c->code;
    if (c->flags & F_RING3) {
        st.cs = SEL_CODE3;
        st.ss = SEL_DATA3;
    } else {
        st.cs = SEL_CODE0;
        st.ss = SEL_DATA0;
    }
    u32 *segs = &st.ds;
    for (int i = 0; i < 4; i++) {
        segs[i] = c->sel[i] ? SEL_FUZZ(c->sel[i] - 1) : SEL_DATA3;
    }

    cur = c;
    nfaults = 0;
    fault_hash = 2166136261u;
    first_fault[0] = first_fault[1] = first_fault[2] = first_fault[3] = 0;
    case_over = 0;
    fz_run_case(&st);
    asm volatile("cld");
    if (FZ_PAE_HIGH && !paging) {
        /* the harness needs paging for its windows above 4 GiB */
        write_cr0(read_cr(0) | CR0_PG);
    }

    u32 h[3];
    hash_memory(paging, h);
    u32 hx = hash_words(2166136261u, (const u32 *)fxarea, 128);

    put_str("C ");
    put_hex(fz_first + n);
    for (int i = 0; i < 9; i++) {
        outc(' ');
        put_hex(res[i]);
    }
    put_str(" F");
    put_hex(nfaults);
    outc(' ');
    put_hex(fault_hash);
    for (int i = 0; i < 4; i++) {
        outc(i ? '/' : ' ');
        put_hex(first_fault[i]);
    }
    put_str(" X");
    put_hex(hx);
    put_str(" M");
    put_hex(h[0]);
    put_str(" L");
    put_hex(h[1]);
    put_str(" P");
    put_hex(h[2]);
    outc('\n');
}

int main(void)
{
    setup_cpu();
    if (FZ_PAE_HIGH) {
        setup_paging_pae_high();
    } else {
        setup_paging_2level();
    }
    put_str("FZ begin seed ");
    put_hex(fz_seed);
    put_str(" cases ");
    put_hex(fz_ncases);
    outc('\n');
    for (u32 n = 0; n < fz_ncases; n++) {
        run_one(n);
    }
    write_cr0(read_cr(0) & ~0x80000000u);
    put_str("FZ done\n");
    return 0;
}
