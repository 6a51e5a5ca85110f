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
 * SPDX-License-Identifier: GPL-2.0-or-later
 */


typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long long u64;

#define ARENA 0x00800000u
#define ARENA_PAGES 32
#define LOW_ALIAS 0x01000000u

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

/* The fixed part of the page tables; A and D set so that they never change. */
static void setup_paging(void)
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

static u32 test_va(int i)
{
    if (i < 16) {
        return i << 12;
    } else if (i < 32) {
        return 0x40000000u + ((i - 16) << 12);
    }
    return 0xffff0000u + ((i - 32) << 12);
}

static void run_one(u32 n)
{
    const struct fz_case *c = &fz_cases[n];
    u32 cr0 = read_cr(0);
    int was_paging = (cr0 & 0x80000000u) != 0;
    int paging = (c->flags & F_PAGING) != 0;
    struct fz_start st;

    /* fresh arena */
    rng = fz_seed * 2654435761u + (fz_first + n) * 40503u + 1;
    for (u32 i = 0; i < ARENA_PAGES * 1024; i++) {
        ((u32 *)ARENA)[i] = next_rand();
    }
    /* and physical 0-64 KiB, which holds time-dependent BIOS data */
    u32 *lowp = (u32 *)(was_paging ? LOW_ALIAS : 0);
    for (u32 i = 0; i < 16 * 1024; i++) {
        lowp[i] = next_rand();
    }

    /* test mappings */
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
    if (was_paging && paging && (c->flags & F_INVLPG)) {
        for (int i = 0; i < 48; i++) {
            asm volatile("invlpg (%0)" : : "r"(test_va(i)) : "memory");
        }
        asm volatile("invlpg (%0)" : : "r"(0x80000000u) : "memory");
    } else if (was_paging) {
        write_cr3((u32)pd);
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

    /* memory, hashed through the identity map (or with paging off) */
    u32 hm = hash_words(2166136261u, (const u32 *)ARENA, ARENA_PAGES * 1024);
    u32 low = paging ? LOW_ALIAS : 0;
    u32 hl = hash_words(2166136261u, (const u32 *)low, 16 * 1024);
    u32 hp = hash_words(2166136261u, pd, 1024);
    hp = hash_words(hp, pt0, 16);
    hp = hash_words(hp, pt_mid, 16);
    hp = hash_words(hp, &pt_top[1008], 16);
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
    put_hex(hm);
    put_str(" L");
    put_hex(hl);
    put_str(" P");
    put_hex(hp);
    outc('\n');
}

int main(void)
{
    setup_cpu();
    setup_paging();
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
