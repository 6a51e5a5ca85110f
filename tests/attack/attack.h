/*
 * Attack kernels: shared declarations.
 *
 * Every kernel runs a list of phases; each phase tries guest accesses
 * ("cases") that may fault.  A fault is recorded (vector, error code,
 * CR2, case number) and the faulting instruction is skipped: each probe
 * stores a recovery EIP before its access.  What the accesses read goes
 * into a hash.  The kernels print their counts and hashes; the runner
 * compares the output under fast=off (the softmmu) and fast=seg.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef ATTACK_H
#define ATTACK_H

#include <minilib.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

/* Selectors of the kernels' GDT. */
#define SEL_KCODE   0x08
#define SEL_KDATA   0x10
#define SEL_UCODE   0x1b
#define SEL_UDATA   0x23
#define SEL_TSS     0x28
#define SEL_KVAR    0x30    /* ring-0 data segment, base set by set_seg() */
#define SEL_UVAR    0x3b    /* ring-3 data segment, base set by set_seg() */

/* Physical memory the kernels use (with -m 128M). */
#define RAM_SIZE    0x8000000u
#define PT_AREA     0x400000u   /* page tables: 4 MiB from here */
#define PT_AREA_END 0x800000u
#define SCRATCH     0x1000000u  /* 1024 pages that the sweeps alias */
#define SCRATCH2    0x1400000u  /* 1024 more, targets of remaps */
#define NO_VEC      0xffu

/* Probe operations: a width and a kind of access. */
enum {
    R1, R2, R4, R8, R10, R16, R512,
    W1, W2, W4, W8, W10, W16, W512,
    INC4, CX8, LDS, LES, LFS,
    NOPS
};
extern const char *const op_name[NOPS];
extern const u8 op_width[NOPS];

/* Accounting (globals, written at ring 3 too: kernel pages are U=1). */
extern volatile u32 recover_eip, recover_esp;
extern volatile u32 last_vec, last_err, last_cr2;
extern u32 ncases, nfaults, rhash, fhash;
extern u32 check_failures;

void mix(u32 v);
void phase_begin(const char *name);
void phase_end(void);
int finish(const char *kernel);
void check(int cond, const char *what, u32 a, u32 b);

/* Hash nothing read from linear [lo, hi) (BIOS data that varies by run). */
void set_nohash(u32 lo, u32 hi);
extern u32 a20_mask;            /* applied to addresses before that test */

/*
 * One access of kind @op at linear @addr (through FS when @fs), counted
 * as one case.  Returns the fault vector, or NO_VEC.
 */
u32 probe(int op, u32 addr);
u32 probe_fs(int op, u32 off);
u32 rd32(u32 addr);            /* probe(R4) returning the value read */
u32 wr32(u32 addr, u32 v);     /* a W4 probe of @v; returns the vector */

/* Stack and string accesses with ESP/ESI/EDI at @addr. */
void stack_probes(u32 addr);
void string_probes(u32 addr);

/* Set the base of SEL_KVAR/SEL_UVAR (flat limit) and load it into FS. */
void set_seg(u32 sel, u32 base, u32 limit, int gran4k);
void load_fs(u32 sel);

/* Every linear page in [first, last] (page numbers): R4 probe, and a W4 probe when @write. */
void sweep(u32 first, u32 last, int write);
void sweep_step(u32 first, u32 last, int write, u32 step);

/* Every probe op at the addresses just below @edge (an address or 0 for 4 GiB). */
void edge_probes(u32 edge);

/*
 * The edges of the space with the top page and page 0 in every state:
 * @set_edge maps the top page with flags @top (0: not present) to the
 * @k-th frame of SCRATCH2, page 0 with flags @zero, and invalidates both;
 * then every probe runs there at CPL0 and CPL3 (edge_user).
 */
extern const u32 top_state[4];
void edge_user(u32 unused);
void edge_states(void (*set_edge)(u32 top, u32 zero, u32 k));

/*
 * The same with large pages: @set_top(t) makes the last large page of
 * the space top_state[t] for t < 3, a page table again for t == 3, and
 * reloads CR3; every probe runs at the top at CPL0 and CPL3 each time.
 */
void large_top_states(void (*set_top)(u32 t));

/* Call @fn(@arg) at CPL3 (FS holds the ring-3 flat selector there). */
void run_user(void (*fn)(u32), u32 arg);
void user(void (*fn)(u32), u32 arg);

/* Control registers and paging. */
u32 read_cr0(void);
void write_cr0(u32 v);
u32 read_cr4(void);
void write_cr4(u32 v);
void write_cr3(u32 v);
void invlpg(u32 addr);
void paging_off(void);
void pt_reset(void);
u32 *pt_alloc(void);            /* a zeroed 4 KiB table in PT_AREA */
u64 *pt_alloc64(void);
void outb(u16 port, u8 v);
u8 inb(u16 port);
void fill_words(u32 phys, u32 bytes, u32 seed);
u32 words_changed(u32 phys, u32 bytes, u32 seed);

#define PTE_P   0x001u
#define PTE_W   0x002u
#define PTE_U   0x004u
#define PTE_A   0x020u
#define PTE_D   0x040u
#define PTE_PS  0x080u
#define CR0_PG  0x80000000u
#define CR0_WP  0x00010000u
#define CR4_PSE 0x10u
#define CR4_PAE 0x20u

#endif
