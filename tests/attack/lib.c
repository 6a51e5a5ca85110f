/*
 * Attack kernels: descriptor tables, fault recording, probes, sweeps.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "attack.h"

const char *const op_name[NOPS] = {
    "r1", "r2", "r4", "r8", "r10", "r16", "r512",
    "w1", "w2", "w4", "w8", "w10", "w16", "w512",
    "inc4", "cx8", "lds", "les", "lfs",
};
const u8 op_width[NOPS] = {
    1, 2, 4, 8, 10, 16, 255, 1, 2, 4, 8, 10, 16, 255, 4, 8, 6, 6, 6,
};

volatile u32 recover_eip, recover_esp;
volatile u32 last_vec, last_err, last_cr2;
u32 ncases, nfaults, rhash, fhash;
u32 check_failures;
u32 cur_fs = SEL_KDATA;
static u32 tot_cases, tot_faults, tot_hash = 2166136261u;
static const char *phase_name;
static u32 nohash_lo, nohash_hi;
u32 a20_mask = ~0u;

/* Scratch of the probes; globals so that ring 3 reaches them too. */
u8 buf[512] __attribute__((aligned(16)));
u8 wsrc[512] __attribute__((aligned(16)));
u8 good_fx[512] __attribute__((aligned(16)));
u32 stk_target, stk_esp, stk_ebp, stk_res[8];

static u64 gdt[8];
static u64 idt[256];
static u32 tss[26];
extern const u32 stub_table[32];
extern void syscall_stub(void);
extern u8 tstack_top[];

struct frame {
    u32 gs, fs, es, ds;
    u32 edi, esi, ebp, esp0, ebx, edx, ecx, eax;
    u32 vec, err, eip, cs, eflags, uesp, uss;
};

static u32 fnv(u32 h, u32 v)
{
    for (int i = 0; i < 4; i++) {
        h = (h ^ (v & 0xff)) * 16777619u;
        v >>= 8;
    }
    return h;
}

void mix(u32 v)
{
    rhash = fnv(rhash, v);
}

static void mix_bytes(const u8 *p, u32 n)
{
    for (u32 i = 0; i < n; i++) {
        rhash = (rhash ^ p[i]) * 16777619u;
    }
}

void set_nohash(u32 lo, u32 hi)
{
    nohash_lo = lo;
    nohash_hi = hi;
}

static int hashable(u32 addr)
{
    return (addr & a20_mask) - nohash_lo >= nohash_hi - nohash_lo;
}

void outb(u16 port, u8 v)
{
    asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

u8 inb(u16 port)
{
    u8 v;

    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void die(u32 code)
{
    asm volatile("outl %0, $0xf4" : : "a"(code));
    for (;;) {
        asm volatile("cli; hlt");
    }
}

void trap_handler(struct frame *f)
{
    u32 cr2;

    asm volatile("movl %%cr2, %0" : "=r"(cr2));
    if (!recover_eip || f->vec == 8) {
        ml_printf("attack: UNEXPECTED fault vector %d error %x eip %x "
                  "cs %x cr2 %x in phase %s case %d\n", f->vec, f->err,
                  f->eip, f->cs, cr2, phase_name, ncases);
        die(3);
    }
    if (f->vec != 14) {
        cr2 = 0;
    }
    last_vec = f->vec;
    last_err = f->err;
    last_cr2 = cr2;
    nfaults++;
    fhash = fnv(fhash, f->vec);
    fhash = fnv(fhash, f->err);
    fhash = fnv(fhash, cr2);
    fhash = fnv(fhash, ncases);
    f->eip = recover_eip;
    if ((f->cs & 3) && recover_esp) {
        f->uesp = recover_esp;
    }
}

static u64 desc(u32 base, u32 limit, u32 access, u32 flags)
{
    u32 lo = (limit & 0xffff) | (base << 16);
    u32 hi = ((base >> 16) & 0xff) | (access << 8) | (limit & 0xf0000) |
             (flags << 20) | (base & 0xff000000);

    return ((u64)hi << 32) | lo;
}

static u64 gate(u32 off, u32 attr)
{
    return ((u64)((off & 0xffff0000) | (attr << 8)) << 32) |
           (off & 0xffff) | (SEL_KCODE << 16);
}

static u32 fs_base;

void set_seg(u32 sel, u32 base, u32 limit, int gran4k)
{
    fs_base = base;
    u32 access = (sel & 3) ? 0xf2 : 0x92;

    gdt[sel >> 3] = desc(base, limit, access, gran4k ? 0xc : 0x4);
}

void load_fs(u32 sel)
{
    cur_fs = sel;
    asm volatile("movl %0, %%fs" : : "r"(sel) : "memory");
}

u32 read_cr0(void)
{
    u32 v;

    asm volatile("movl %%cr0, %0" : "=r"(v));
    return v;
}

void write_cr0(u32 v)
{
    asm volatile("movl %0, %%cr0" : : "r"(v) : "memory");
}

u32 read_cr4(void)
{
    u32 v;

    asm volatile("movl %%cr4, %0" : "=r"(v));
    return v;
}

void write_cr4(u32 v)
{
    asm volatile("movl %0, %%cr4" : : "r"(v) : "memory");
}

void write_cr3(u32 v)
{
    asm volatile("movl %0, %%cr3" : : "r"(v) : "memory");
}

void invlpg(u32 addr)
{
    asm volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

void paging_off(void)
{
    write_cr0(read_cr0() & ~CR0_PG);
    write_cr4(read_cr4() & ~(CR4_PSE | CR4_PAE));
}

static u32 pt_next;

void pt_reset(void)
{
    pt_next = PT_AREA;
}

u32 *pt_alloc(void)
{
    u32 *t = (u32 *)pt_next;

    if (pt_next >= PT_AREA_END) {
        ml_printf("attack: out of page-table space\n");
        die(5);
    }
    pt_next += 4096;
    for (int i = 0; i < 1024; i++) {
        t[i] = 0;
    }
    return t;
}

u64 *pt_alloc64(void)
{
    return (u64 *)pt_alloc();
}

/* Word i of [phys, phys + bytes) gets a value that depends on its address. */
void fill_words(u32 phys, u32 bytes, u32 seed)
{
    u32 *p = (u32 *)phys;

    for (u32 i = 0; i < bytes / 4; i++) {
        p[i] = ((phys + i * 4) * 0x9e3779b1u) ^ seed;
    }
}

/* How many words of [phys, phys + bytes) lost what fill_words() put there. */
u32 words_changed(u32 phys, u32 bytes, u32 seed)
{
    const u32 *p = (const u32 *)phys;
    u32 n = 0;

    for (u32 i = 0; i < bytes / 4; i++) {
        n += p[i] != (((phys + i * 4) * 0x9e3779b1u) ^ seed);
    }
    return n;
}

/* Clear what the BIOS left in RAM (timer ticks, calibration) outside the kernel. */
static void scrub_ram(void)
{
    fill_words(0, 0xa0000, 0x5eed0000);
    fill_words(0x100000, 0x100000, 0x5eed0001);
    fill_words(0x300000, RAM_SIZE - 0x300000, 0x5eed0002);
}

static void init(void)
{
    u32 cr0;

    gdt[0] = 0;
    gdt[1] = desc(0, 0xfffff, 0x9a, 0xc);
    gdt[2] = desc(0, 0xfffff, 0x92, 0xc);
    gdt[3] = desc(0, 0xfffff, 0xfa, 0xc);
    gdt[4] = desc(0, 0xfffff, 0xf2, 0xc);
    tss[1] = (u32)tstack_top;           /* esp0 */
    tss[2] = SEL_KDATA;                 /* ss0 */
    tss[25] = sizeof(tss) << 16;        /* no I/O bitmap */
    gdt[5] = desc((u32)tss, sizeof(tss) - 1, 0x89, 0x0);
    gdt[6] = desc(0, 0xfffff, 0x92, 0xc);
    gdt[7] = desc(0, 0xfffff, 0xf2, 0xc);
    for (int i = 0; i < 32; i++) {
        idt[i] = gate(stub_table[i], 0x8e);
    }
    idt[0x80] = gate((u32)syscall_stub, 0xee);

    struct {
        u16 pad, limit;
        u32 base;
    } __attribute__((packed, aligned(4))) gdtr = { 0, sizeof(gdt) - 1,
                                                   (u32)gdt },
      idtr = { 0, sizeof(idt) - 1, (u32)idt };
    asm volatile("lgdt %0\n\t"
                 "ljmp $0x08, $1f\n"
                 "1:\tmovl $0x10, %%eax\n\t"
                 "movl %%eax, %%ds\n\t"
                 "movl %%eax, %%es\n\t"
                 "movl %%eax, %%fs\n\t"
                 "movl %%eax, %%gs\n\t"
                 "movl %%eax, %%ss\n\t"
                 "lidt %1\n\t"
                 "movw $0x28, %%ax\n\t"
                 "ltr %%ax"
                 : : "m"(gdtr.limit), "m"(idtr.limit) : "eax", "memory");

    /* x87 and SSE: EM off, MP and NE on, OSFXSR and OSXMMEXCPT. */
    cr0 = read_cr0();
    write_cr0((cr0 & ~0x4u) | 0x22u);
    write_cr4(read_cr4() | 0x600u);
    asm volatile("fninit\n\tfxsave good_fx" : : : "memory");
    for (int i = 0; i < 512; i++) {
        wsrc[i] = i * 7 + 1;
    }
    scrub_ram();
}

int kmain(void)
{
    extern int attack_main(void);

    init();
    return attack_main();
}

void phase_begin(const char *name)
{
    phase_name = name;
    ml_printf("phase %s: begin\n", name);
    ncases = 0;
    nfaults = 0;
    rhash = 2166136261u;
    fhash = 2166136261u;
}

void phase_end(void)
{
    ml_printf("phase %s: %d cases, %d faults, reads %x, faults %x\n",
              phase_name, ncases, nfaults, rhash, fhash);
    tot_cases += ncases;
    tot_faults += nfaults;
    tot_hash = fnv(fnv(tot_hash, rhash), fhash);
}

int finish(const char *kernel)
{
    ml_printf("attack %s: %d cases, %d faults, hash %x, %d checks failed\n",
              kernel, tot_cases, tot_faults, tot_hash, check_failures);
    return check_failures ? 1 : 0;
}

void check(int cond, const char *what, u32 a, u32 b)
{
    if (cond) {
        ml_printf("check %s: ok\n", what);
    } else {
        ml_printf("check %s: FAILED (%x %x)\n", what, a, b);
        check_failures++;
    }
}

/* The recovery point of a probe: the fault handler resumes at 1:. */
#define REC_BEGIN "movl $1f, recover_eip\n\t"
#define REC_END "\n1:\tmovl $0, recover_eip\n\t"

/*
 * One probe body for a segment prefix SEG ("" or "%%fs:"): @a is the
 * offset, the values read go to buf or *v.
 */
#define PROBE_BODY(SEG)                                                     \
    switch (op) {                                                           \
    case R1:                                                                \
        asm volatile(REC_BEGIN "movzbl " SEG "(%1), %0" REC_END             \
                     : "+r"(v) : "r"(a) : "memory");                        \
        break;                                                              \
    case R2:                                                                \
        asm volatile(REC_BEGIN "movzwl " SEG "(%1), %0" REC_END             \
                     : "+r"(v) : "r"(a) : "memory");                        \
        break;                                                              \
    case R4:                                                                \
        asm volatile(REC_BEGIN "movl " SEG "(%1), %0" REC_END               \
                     : "+r"(v) : "r"(a) : "memory");                        \
        break;                                                              \
    case R8:                                                                \
        asm volatile(REC_BEGIN "movq " SEG "(%0), %%xmm0\n\t"               \
                     "movq %%xmm0, buf" REC_END                             \
                     : : "r"(a) : "memory");                               \
        break;                                                              \
    case R10:                                                               \
        asm volatile(REC_BEGIN "fldt " SEG "(%0)\n\t"                       \
                     "fstpt buf" REC_END "fninit"                           \
                     : : "r"(a) : "memory");                                \
        break;                                                              \
    case R16:                                                               \
        asm volatile(REC_BEGIN "movdqu " SEG "(%0), %%xmm0\n\t"             \
                     "movdqu %%xmm0, buf" REC_END                           \
                     : : "r"(a) : "memory");                               \
        break;                                                              \
    case R512:                                                              \
        asm volatile(REC_BEGIN "fxrstor " SEG "(%0)\n\t"                    \
                     "fxsave buf" REC_END "fxrstor good_fx"                 \
                     : : "r"(a) : "memory");                                \
        break;                                                              \
    case W1:                                                                \
        asm volatile(REC_BEGIN "movb %b1, " SEG "(%0)" REC_END              \
                     : : "r"(a), "q"(w) : "memory");                        \
        break;                                                              \
    case W2:                                                                \
        asm volatile(REC_BEGIN "movw %w1, " SEG "(%0)" REC_END              \
                     : : "r"(a), "r"(w) : "memory");                        \
        break;                                                              \
    case W4:                                                                \
        asm volatile(REC_BEGIN "movl %1, " SEG "(%0)" REC_END               \
                     : : "r"(a), "r"(w) : "memory");                        \
        break;                                                              \
    case W8:                                                                \
        asm volatile("movq wsrc, %%xmm0\n\t"                                \
                     REC_BEGIN "movq %%xmm0, " SEG "(%0)" REC_END           \
                     : : "r"(a) : "memory");                               \
        break;                                                              \
    case W10:                                                               \
        asm volatile("fldt wsrc\n\t"                                        \
                     REC_BEGIN "fstpt " SEG "(%0)" REC_END "fninit"         \
                     : : "r"(a) : "memory");                                \
        break;                                                              \
    case W16:                                                               \
        asm volatile("movdqu wsrc, %%xmm0\n\t"                              \
                     REC_BEGIN "movdqu %%xmm0, " SEG "(%0)" REC_END         \
                     : : "r"(a) : "memory");                               \
        break;                                                              \
    case W512:                                                              \
        asm volatile(REC_BEGIN "fxsave " SEG "(%0)" REC_END                 \
                     : : "r"(a) : "memory");                                \
        break;                                                              \
    case INC4:                                                              \
        asm volatile(REC_BEGIN "incl " SEG "(%0)" REC_END                   \
                     : : "r"(a) : "memory");                                \
        break;                                                              \
    case CX8:                                                               \
        lo = w;                                                             \
        hi = ~w;                                                            \
        asm volatile(REC_BEGIN "lock cmpxchg8b " SEG "(%2)" REC_END         \
                     : "+a"(lo), "+d"(hi)                                   \
                     : "S"(a), "b"(w * 3), "c"(w * 5) : "memory");          \
        v = lo ^ (hi * 3);                                                  \
        break;                                                              \
    case LDS:                                                               \
        asm volatile(REC_BEGIN "lds " SEG "(%2), %0\n\t"                    \
                     "movl %%ds, %1\n"                                     \
                     "1:\tpush %%ss\n\tpop %%ds\n\t"                        \
                     "movl $0, recover_eip"                                 \
                     : "+r"(v), "+r"(sel) : "r"(a) : "memory");             \
        break;                                                              \
    case LES:                                                               \
        asm volatile(REC_BEGIN "les " SEG "(%2), %0\n\t"                    \
                     "movl %%es, %1\n"                                     \
                     "1:\tpush %%ss\n\tpop %%es\n\t"                        \
                     "movl $0, recover_eip"                                 \
                     : "+r"(v), "+r"(sel) : "r"(a) : "memory");             \
        break;                                                              \
    case LFS:                                                               \
        asm volatile(REC_BEGIN "lfs " SEG "(%2), %0\n\t"                    \
                     "movl %%fs, %1" REC_END                                \
                     "movl cur_fs, %%eax\n\tmovl %%eax, %%fs\n\t"           \
                     : "+r"(v), "+r"(sel) : "r"(a) : "memory", "eax");      \
        break;                                                              \
    }

static void probe_prep(int op)
{
    u32 n = op_width[op] == 255 ? 512 : 16;

    for (u32 i = 0; i < n; i++) {
        buf[i] = 0xcc;
    }
    last_vec = NO_VEC;
}

static void probe_done(int op, u32 addr, u32 v, u32 sel)
{
    ncases++;
    if (!hashable(addr) && last_vec == NO_VEC) {
        return;
    }
    switch (op) {
    case R8:
        mix_bytes(buf, 8);
        break;
    case R10:
        mix_bytes(buf, 10);
        break;
    case R16:
        mix_bytes(buf, 16);
        break;
    case R512:
        mix_bytes(buf, 512);
        break;
    case LDS:
    case LES:
    case LFS:
        mix(sel);
        /* fall through */
    default:
        mix(v);
    }
}

u32 probe(int op, u32 a)
{
    u32 v = 0xa5a5a5a5, w = ncases * 0x9e3779b1u + 0x1234567, sel = 0;
    u32 lo, hi;

    if (op_width[op] <= 16 && op >= W1 && op <= W16) {
        for (int i = 0; i < 16; i++) {
            wsrc[i] = (u8)(w >> (i & 3) * 8) + i;
        }
    }
    probe_prep(op);
    PROBE_BODY("")
    probe_done(op, a, v, sel);
    return last_vec;
}

u32 probe_fs(int op, u32 a)
{
    u32 v = 0xa5a5a5a5, w = ncases * 0x9e3779b1u + 0x7654321, sel = 0;
    u32 lo, hi;

    probe_prep(op);
    PROBE_BODY("%%fs:")
    probe_done(op, 0, v, sel);
    return last_vec;
}

u32 rd32(u32 addr)
{
    u32 v = 0xa5a5a5a5;

    probe_prep(R4);
    asm volatile(REC_BEGIN "movl (%1), %0" REC_END
                 : "+r"(v) : "r"(addr) : "memory");
    probe_done(R4, addr, v, 0);
    return v;
}

u32 wr32(u32 addr, u32 w)
{
    probe_prep(W4);
    asm volatile(REC_BEGIN "movl %1, (%0)" REC_END
                 : : "r"(addr), "r"(w) : "memory");
    probe_done(W4, addr, 0, 0);
    return last_vec;
}

void user(void (*fn)(u32), u32 arg)
{
    cur_fs = SEL_UDATA;
    run_user(fn, arg);
    load_fs(SEL_KDATA);
}

/*
 * @write: 0 none, 1 every page, N every Nth page.  @step: every step-th
 * page only (a sample).
 */
void sweep_step(u32 first, u32 last, int write, u32 step)
{
    for (u32 p = first; p <= last && p >= first; p += step) {
        probe(R4, p << 12 | ((p * 68) & 0xffc));
        if (write && p % write == 0) {
            probe(W4, p << 12 | ((p * 132 + 8) & 0xffc));
        }
        if ((p & 15) == 15 || step >= 16) {
            /* an 8-byte load across the end of the page */
            probe(R8, p << 12 | 0xffc);
        }
    }
}

void sweep(u32 first, u32 last, int write)
{
    sweep_step(first, last, write, 1);
}

void edge_probes(u32 edge)
{
    static const u8 back[] = { 1, 2, 3, 4, 5, 8, 9, 10, 15, 16 };

    for (int op = 0; op < NOPS; op++) {
        for (u32 i = 0; i < sizeof(back); i++) {
            u32 a = edge - back[i];

            if (op_width[op] == 255) {
                a = edge - back[i] * 32;    /* 16-aligned or not */
            }
            probe(op, a);
            if (op >= W1 && op <= CX8) {
                /* read back both sides of the edge */
                probe(R4, edge - 4);
                probe(R4, edge);
                probe(R16, a);
            }
        }
    }
}

/* A stack case: ESP = stk_target for BODY; recovery restores ESP, EBP. */
#define STACK_CASE(BODY)                                                    \
    do {                                                                    \
        last_vec = NO_VEC;                                                  \
        for (int i = 0; i < 8; i++) {                                       \
            stk_res[i] = 0x5a5a5a5a;                                        \
        }                                                                   \
        asm volatile("movl %%ebp, stk_ebp\n\t"                              \
                     "movl %%esp, stk_esp\n\t"                              \
                     "movl %%esp, recover_esp\n\t"                          \
                     REC_BEGIN                                              \
                     "movl stk_target, %%esp\n\t"                           \
                     BODY                                                   \
                     "\n1:\tmovl stk_esp, %%esp\n\t"                        \
                     "movl stk_ebp, %%ebp\n\t"                              \
                     "movl $0, recover_eip\n\t"                             \
                     "movl $0, recover_esp\n\t"                             \
                     "cld"                                                  \
                     : : : "eax", "ecx", "edx", "ebx", "esi", "edi",        \
                       "memory");                                           \
        ncases++;                                                           \
        for (int i = 0; i < 8; i++) {                                       \
            mix(stk_res[i]);                                                \
        }                                                                   \
    } while (0)

void stack_probes(u32 t)
{
    static const u32 delta[] = { 0, 2, 4, (u32)-2, (u32)-4, 6, 1 };

    for (u32 i = 0; i < sizeof(delta) / 4; i++) {
        stk_target = t + delta[i];
        STACK_CASE("pushl $0x11223344\n\tpopl %%eax\n\tmovl %%eax, stk_res");
        STACK_CASE("pushw $0x5566\n\tpushw $0x7788\n\t"
                   "popl %%eax\n\tmovl %%eax, stk_res");
        STACK_CASE("popl %%eax\n\tpopl %%ecx\n\t"
                   "movl %%eax, stk_res\n\tmovl %%ecx, stk_res+4");
        /* ret only to where call went: ROM or nothing may be at ESP */
        STACK_CASE("call 2f\n4:\tjmp 3f\n"
                   "2:\tmovl (%%esp), %%eax\n\tmovl %%eax, stk_res\n\t"
                   "cmpl $4b, %%eax\n\tjne 3f\n\tret\n"
                   "3:");
        STACK_CASE("movl $0x1111, %%eax\n\tmovl $0x2222, %%ecx\n\t"
                   "movl $0x3333, %%edx\n\tmovl $0x4444, %%ebx\n\t"
                   "movl $0x5555, %%esi\n\tmovl $0x6666, %%edi\n\t"
                   "pushal\n\txorl %%eax, %%eax\n\tpopal\n\t"
                   "movl %%eax, stk_res\n\tmovl %%ecx, stk_res+4\n\t"
                   "movl %%edx, stk_res+8\n\tmovl %%ebx, stk_res+12\n\t"
                   "movl %%esi, stk_res+16\n\tmovl %%edi, stk_res+20\n\t"
                   "movl %%ebp, stk_res+24");
        STACK_CASE("popal\n\t"
                   "movl %%eax, stk_res\n\tmovl %%ecx, stk_res+4\n\t"
                   "movl %%edx, stk_res+8\n\tmovl %%ebx, stk_res+12\n\t"
                   "movl %%esi, stk_res+16\n\tmovl %%edi, stk_res+20\n\t"
                   "movl %%ebp, stk_res+24");
        STACK_CASE("pushl stk_target\n\tpushfl\n\tpopl %%eax\n\tpopl %%ecx\n\t"
                   "movl %%ecx, stk_res");
    }
}

/* A string case: ESI, EDI, ECX from str_in; afterwards they go to stk_res. */
u32 str_in[3];

#define STRING_CASE(BODY)                                                   \
    do {                                                                    \
        last_vec = NO_VEC;                                                  \
        probe_prep(R16);                                                    \
        asm volatile("movl str_in, %%esi\n\t"                               \
                     "movl str_in+4, %%edi\n\t"                             \
                     "movl str_in+8, %%ecx\n\t"                             \
                     "movl $0x600dcafe, %%eax\n\t"                          \
                     REC_BEGIN BODY REC_END                                 \
                     "cld\n\t"                                              \
                     "movl %%esi, stk_res\n\t"                              \
                     "movl %%edi, stk_res+4\n\t"                            \
                     "movl %%ecx, stk_res+8\n\t"                            \
                     "movl %%eax, stk_res+12"                               \
                     : : : "eax", "ecx", "esi", "edi", "memory");           \
        ncases++;                                                           \
        for (int i = 0; i < 4; i++) {                                       \
            mix(stk_res[i]);                                                \
        }                                                                   \
        mix_bytes(buf, 16);                                                 \
    } while (0)

static void str_set(u32 esi, u32 edi, u32 ecx)
{
    str_in[0] = esi;
    str_in[1] = edi;
    str_in[2] = ecx;
}

void string_probes(u32 t)
{
    u32 b = (u32)buf;

    str_set(t - 8, b, 4);           /* read across t */
    STRING_CASE("rep movsl");
    str_set(b, t - 5, 10);          /* write across t */
    STRING_CASE("rep movsb");
    str_set(0, t - 6, 3);
    STRING_CASE("rep stosl");
    str_set(t + 4, b + 12, 4);      /* backwards across t */
    STRING_CASE("std\n\trep movsl");
    str_set(t - 4, t - 12, 4);      /* both sides near t */
    STRING_CASE("rep movsl");
    str_set(t - 2, 0, 1);
    STRING_CASE("lodsl");
    str_set(t - 3, b, 5);
    STRING_CASE("repe cmpsb");
    str_set(0, t - 2, 3);
    STRING_CASE("repne scasw");
    str_set(t + 2, t - 2, 1);
    STRING_CASE("std\n\tmovsl");
}

/* States of the top page and of page 0 that edge_states() goes through. */
const u32 top_state[4] = {
    PTE_P | PTE_W | PTE_U, PTE_P | PTE_U, 0, PTE_P | PTE_W,
};
static const u32 zero_state[3] = {
    PTE_P | PTE_W | PTE_U, 0, PTE_P | PTE_U,
};

void edge_user(u32 unused)
{
    edge_probes(0);
    string_probes(0);
    stack_probes(0);
}

void edge_states(void (*set_edge)(u32 top, u32 zero, u32 k))
{
    for (u32 t = 0; t < 4; t++) {
        for (u32 z = 0; z < 3; z++) {
            u32 top = top_state[t], zero = zero_state[z];

            set_edge(top, zero, t * 3 + z);
            edge_probes(0);
            string_probes(0);
            /* a CPL0 fault on a push here would be a triple fault */
            if ((top & PTE_W) && (zero & PTE_W)) {
                stack_probes(0);
            }
            user(edge_user, 0);
            ml_printf("  top %x zero %x: reads %x\n", top, zero, rhash);
        }
    }
    set_edge(top_state[0], zero_state[0], 0);
}

void large_top_states(void (*set_top)(u32 t))
{
    for (u32 t = 0; t < 4; t++) {
        set_top(t);
        edge_probes(0);
        string_probes(0);
        user(edge_user, 0);
    }
}
