/*
 * Unit tests for the QEMU-free i386 parts of the windows:
 * target-i386/tcg/system/direct-window-prot.c (MMU indexes, rights) and
 * direct-window-walk.c (the page walk) (TAP output)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "direct-window-prot.h"
#include "direct-window-walk.h"
#include "tcg/direct-window-core.h"
#include "tap.h"

#include <string.h>

#define PG  DW_PAGE_SIZE

/* A mappable, accessed, dirty, writable supervisor RAM page. */
static struct dw_page ram_page(int fd, uint64_t offset)
{
    struct dw_page pg = {
        .present = true, .writable = true, .user = false,
        .accessed = true, .dirty = true,
        .is_ram = true, .readonly = false, .dirty_all = true,
        .is_code = false, .force_slow = false,
        .fd = fd, .offset = offset,
    };
    return pg;
}

/* ------------------------------------------------------------------ */
/* Layout                                                             */
/* ------------------------------------------------------------------ */

static void test_slot_map(void)
{
    unsigned idx, slot;

    CHECK_EQ(dw_mmu_idx_to_slot(1), 0);
    CHECK_EQ(dw_mmu_idx_to_slot(3), 1);
    CHECK_EQ(dw_mmu_idx_to_slot(5), 2);
    for (idx = 0; idx < 16; idx++) {
        if (idx != 1 && idx != 3 && idx != 5) {
            CHECK_EQ(dw_mmu_idx_to_slot(idx), -1);
        }
    }
    CHECK_EQ(dw_mmu_idx_to_slot(~0u), -1);
    for (slot = 0; slot < DW_NB_SLOTS; slot++) {
        CHECK_EQ(dw_mmu_idx_to_slot(dw_slot_to_mmu_idx(slot)), slot);
        CHECK_EQ(dw_window_slot(slot), slot);
    }
    /* Window k of a slot is k * DW_NB_SLOTS + slot: all distinct. */
    for (slot = 0; slot < DW_NB_SLOTS; slot++) {
        CHECK_EQ(dw_slot_window(slot, 0), slot);
        for (idx = 0; idx < DW_ROOT_WINDOWS; idx++) {
            CHECK(dw_slot_window(slot, idx) < DW_NB_WINDOWS);
            CHECK_EQ(dw_window_slot(dw_slot_window(slot, idx)), slot);
        }
    }
    CHECK_EQ(dw_slot_window(DW_NB_SLOTS - 1, DW_ROOT_WINDOWS - 1),
             DW_NB_WINDOWS - 1);
}

/* ------------------------------------------------------------------ */
/* Protection                                                         */
/* ------------------------------------------------------------------ */

static void test_access_for_slot(void)
{
    struct dw_access a;

    a = dw_access_for_slot(0, true);
    CHECK(!a.user && a.smap && a.wp);
    a = dw_access_for_slot(1, false);
    CHECK(a.user && !a.smap && !a.wp);
    a = dw_access_for_slot(2, true);
    CHECK(!a.user && !a.smap && a.wp);
}

static void test_prot_basic(void)
{
    struct dw_access kn = dw_access_for_slot(2, true);
    struct dw_page pg;

    pg = ram_page(3, 0);
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_RW);

    /* Each reason to keep writes trapping. */
    pg = ram_page(3, 0);
    pg.dirty = false;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_READ);
    pg = ram_page(3, 0);
    pg.writable = false;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_READ);
    pg = ram_page(3, 0);
    pg.dirty_all = false;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_READ);
    pg = ram_page(3, 0);
    pg.is_code = true;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_READ);
    pg = ram_page(3, 0);
    pg.readonly = true;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_READ);

    /* Each reason not to map at all. */
    pg = ram_page(3, 0);
    pg.present = false;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_NONE);
    pg = ram_page(3, 0);
    pg.accessed = false;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_NONE);
    pg = ram_page(3, 0);
    pg.is_ram = false;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_NONE);
    pg = ram_page(-1, 0);
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_NONE);
    pg = ram_page(3, 0);
    pg.force_slow = true;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_NONE);
    /* ROM that is not RAM-backed (romd in I/O mode) is MMIO. */
    pg = ram_page(3, 0);
    pg.is_ram = false;
    pg.readonly = true;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_NONE);
}

static void test_prot_privilege(void)
{
    struct dw_access ksmap = dw_access_for_slot(0, true);
    struct dw_access user = dw_access_for_slot(1, true);
    struct dw_access knosmap = dw_access_for_slot(2, true);
    struct dw_access knowp = dw_access_for_slot(2, false);
    struct dw_access userwp0 = dw_access_for_slot(1, false);
    struct dw_page sup = ram_page(3, 0);
    struct dw_page usr = ram_page(3, 0);

    usr.user = true;
    CHECK_EQ(dw_page_prot(&sup, &user), DW_PROT_NONE);
    CHECK_EQ(dw_page_prot(&usr, &user), DW_PROT_RW);
    CHECK_EQ(dw_page_prot(&sup, &ksmap), DW_PROT_RW);
    CHECK_EQ(dw_page_prot(&usr, &ksmap), DW_PROT_NONE);
    CHECK_EQ(dw_page_prot(&usr, &knosmap), DW_PROT_RW);

    /* Read-only PTE: CR0.WP=0 lets the supervisor write, never user. */
    sup.writable = false;
    usr.writable = false;
    CHECK_EQ(dw_page_prot(&sup, &knosmap), DW_PROT_READ);
    CHECK_EQ(dw_page_prot(&sup, &knowp), DW_PROT_RW);
    CHECK_EQ(dw_page_prot(&usr, &userwp0), DW_PROT_READ);
    /* ...but still not before D is set. */
    sup.dirty = false;
    CHECK_EQ(dw_page_prot(&sup, &knowp), DW_PROT_READ);
}

/* ------------------------------------------------------------------ */
/* i386 page walk                                                     */
/* ------------------------------------------------------------------ */

/* 64 KiB of fake guest-physical memory holding page tables. */
static uint8_t walk_mem[16 * PG];
static unsigned walk_reads;

static uint64_t walk_read(void *opaque, uint64_t pa, bool wide)
{
    uint64_t v = 0;

    (void)opaque;
    walk_reads++;
    if (pa + (wide ? 8 : 4) > sizeof(walk_mem)) {
        return 0;           /* outside RAM: reads as not present */
    }
    memcpy(&v, walk_mem + pa, wide ? 8 : 4);
    return v;
}

static void walk_put32(uint64_t pa, uint32_t v)
{
    memcpy(walk_mem + pa, &v, 4);
}

static void walk_put64(uint64_t pa, uint64_t v)
{
    memcpy(walk_mem + pa, &v, 8);
}

#define E_P   0x001u
#define E_W   0x002u
#define E_U   0x004u
#define E_A   0x020u
#define E_D   0x040u
#define E_PS  0x080u
#define E_G   0x100u

static uint64_t walk32(const struct dw_paging *p, uint32_t vaddr)
{
    return dw_walk(p, vaddr, walk_read, NULL);
}

static void test_walk_legacy(void)
{
    struct dw_paging p = { .cr3 = 1 * PG, .a20_mask = ~0ULL,
                           .phys_bits = 36 };
    uint32_t va = 0x00403000;           /* PDE 1, PTE 3 */

    memset(walk_mem, 0, sizeof(walk_mem));
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_P | E_W | E_U | E_A);
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_P | E_W | E_U | E_A | E_D);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID | DW_WALK_W |
                             DW_WALK_U | DW_WALK_D);
    /* The offset inside the page does not matter. */
    CHECK_EQ(walk32(&p, va + 0xabc), walk32(&p, va));

    /* Rights are the AND over both levels. */
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_P | E_U | E_A);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID | DW_WALK_U |
                             DW_WALK_D);
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_P | E_W | E_A);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID | DW_WALK_W |
                             DW_WALK_D);

    /* Bit 7 of a 4 KiB PTE is PAT, not a large page. */
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_P | E_A | E_PS);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID);

    /* G is the leaf's: bit 8 of a PDE that points to a table is not. */
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_P | E_A | E_G);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID | DW_WALK_G);
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_P | E_W | E_A | E_G);
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID);
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_P | E_W | E_A);

    /* Clean leaf: no D in the summary, so a RW mapping is not kept. */
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_P | E_W | E_U | E_A);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID | DW_WALK_W);

    /* Not present or not accessed, at either level: unknown. */
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_W | E_U | E_A);
    CHECK_EQ(walk32(&p, va), 0);
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_P | E_W | E_U);
    CHECK_EQ(walk32(&p, va), 0);
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_P | E_A);
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_P | E_W | E_U);
    CHECK_EQ(walk32(&p, va), 0);
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_W | E_U | E_A);
    CHECK_EQ(walk32(&p, va), 0);

    /* Another CR3 sees another page directory. */
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID);
    p.cr3 = 3 * PG;
    CHECK_EQ(walk32(&p, va), 0);
    walk_put32(3 * PG + 1 * 4, 2 * PG | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID);
}

static void test_walk_pse_a20(void)
{
    struct dw_paging p = { .cr3 = 1 * PG, .a20_mask = ~0ULL,
                           .phys_bits = 36, .pse = true };
    uint32_t va = 0xc0512000;           /* PDE 0x301 */

    memset(walk_mem, 0, sizeof(walk_mem));
    walk_put32(1 * PG + 0x301 * 4, 0x00400000 | E_PS | E_P | E_W | E_A |
                                   E_D);
    CHECK_EQ(walk32(&p, va), 0x00512000 | DW_WALK_VALID | DW_WALK_W |
                             DW_WALK_D | DW_WALK_LARGE);
    walk_put32(1 * PG + 0x301 * 4, 0x00400000 | E_PS | E_P | E_A | E_G);
    CHECK_EQ(walk32(&p, va), 0x00512000 | DW_WALK_VALID | DW_WALK_G |
                             DW_WALK_LARGE);
    walk_put32(1 * PG + 0x301 * 4, 0x00400000 | E_PS | E_P | E_W | E_A |
                                   E_D);
    /* Its neighbours differ by the frame only. */
    CHECK_EQ(walk32(&p, va + 5 * PG), walk32(&p, va) + 5 * PG);
    /* PSE-36 or reserved bits: not kept. */
    walk_put32(1 * PG + 0x301 * 4, 0x00402000 | E_PS | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0);

    /* Without CR4.PSE the PS bit is ignored: the PDE points to a PT. */
    walk_put32(1 * PG + 0x301 * 4, 2 * PG | E_PS | E_P | E_A);
    walk_put32(2 * PG + 0x112 * 4, 0x00777000 | E_P | E_A);
    p.pse = false;
    CHECK_EQ(walk32(&p, va), 0x00777000 | DW_WALK_VALID);

    /* A20 off masks bit 20 of the table addresses and of the page. */
    p.a20_mask = ~(1ULL << 20);
    walk_put32(2 * PG + 0x112 * 4, 0x00177000 | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0x00077000 | DW_WALK_VALID);
}

static void test_walk_pae(void)
{
    struct dw_paging p = { .cr3 = 1 * PG + 0x20, .a20_mask = ~0ULL,
                           .phys_bits = 36, .pae = true };
    uint32_t va = 0xc0603000;   /* PDPTE 3, PDE 3, PTE 3 */
    uint64_t leaf = 0x923456000ULL | E_P | E_W | E_U | E_A | E_D;

    memset(walk_mem, 0, sizeof(walk_mem));
    walk_put64(1 * PG + 0x20 + 3 * 8, 2 * PG | E_P);
    walk_put64(2 * PG + 3 * 8, 3 * PG | E_P | E_W | E_U | E_A);
    walk_put64(3 * PG + 3 * 8, leaf);
    CHECK_EQ(walk32(&p, va), 0x923456000ULL | DW_WALK_VALID | DW_WALK_W |
                             DW_WALK_U | DW_WALK_D);

    /* NX is reserved without EFER.NXE and ignored (for data) with it. */
    walk_put64(3 * PG + 3 * 8, leaf | (1ULL << 63));
    CHECK_EQ(walk32(&p, va), 0);
    p.nxe = true;
    CHECK_EQ(walk32(&p, va), 0x923456000ULL | DW_WALK_VALID | DW_WALK_W |
                             DW_WALK_U | DW_WALK_D);

    /* Address bits past MAXPHYADDR are reserved. */
    walk_put64(3 * PG + 3 * 8, leaf | (1ULL << 40));
    CHECK_EQ(walk32(&p, va), 0);
    walk_put64(3 * PG + 3 * 8, leaf);

    /* Bit 5, which QEMU's walker sets in PDPTEs, is accepted. */
    walk_put64(1 * PG + 0x20 + 3 * 8, 2 * PG | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0x923456000ULL | DW_WALK_VALID | DW_WALK_W |
                             DW_WALK_U | DW_WALK_D);
    walk_put64(1 * PG + 0x20 + 3 * 8, 2 * PG | E_P);

    /* PDPTE reserved bits (here R/W) and not present. */
    walk_put64(1 * PG + 0x20 + 3 * 8, 2 * PG | E_P | E_W);
    CHECK_EQ(walk32(&p, va), 0);
    walk_put64(1 * PG + 0x20 + 3 * 8, 2 * PG);
    CHECK_EQ(walk32(&p, va), 0);
    walk_put64(1 * PG + 0x20 + 3 * 8, 2 * PG | E_P);

    /* 2 MiB page. */
    walk_put64(2 * PG + 3 * 8, 0x40000000ULL | E_PS | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0x40003000ULL | DW_WALK_VALID | DW_WALK_LARGE);
    walk_put64(2 * PG + 3 * 8, 0x40002000ULL | E_PS | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0);
}

/*
 * Guest-physical memory for page tables above 4 GiB: walk_mem's pages
 * 2 and up exist only at 4 GiB + their offset, page 1 (the PDPT, which
 * CR3 keeps below 4 GiB) only at its own address.  A walk that narrowed
 * a table's address to 32 bits would read nothing.
 */
static uint64_t walk_read_high(void *opaque, uint64_t pa, bool wide)
{
    const uint64_t four_g = 1ULL << 32;

    if (pa >= four_g) {
        pa -= four_g;
        if (pa < 2 * PG) {
            return 0;
        }
    } else if (pa >= 2 * PG) {
        return 0;
    }
    return walk_read(opaque, pa, wide);
}

static void test_walk_pae_high_tables(void)
{
    const uint64_t four_g = 1ULL << 32;
    struct dw_paging p = { .cr3 = 1 * PG, .a20_mask = ~0ULL,
                           .phys_bits = 36, .pae = true };
    uint32_t va = 0x80403000;   /* PDPTE 2, PDE 2, PTE 3 */

    memset(walk_mem, 0, sizeof(walk_mem));
    walk_put64(1 * PG + 2 * 8, (four_g + 2 * PG) | E_P);
    walk_put64(2 * PG + 2 * 8, (four_g + 3 * PG) | E_P | E_W | E_A);
    walk_put64(3 * PG + 3 * 8, 0xb80005000ULL | E_P | E_W | E_A | E_D);
    CHECK_EQ(dw_walk(&p, va, walk_read_high, NULL),
             0xb80005000ULL | DW_WALK_VALID | DW_WALK_W | DW_WALK_D);

    /* A 2 MiB page above 4 GiB, from a directory above 4 GiB. */
    walk_put64(2 * PG + 2 * 8, 0x1c0200000ULL | E_PS | E_P | E_A);
    CHECK_EQ(dw_walk(&p, va, walk_read_high, NULL),
             0x1c0203000ULL | DW_WALK_VALID | DW_WALK_LARGE);

    /* The same tables seen 4 GiB lower are not there. */
    walk_put64(1 * PG + 2 * 8, 2 * PG | E_P);
    CHECK_EQ(dw_walk(&p, va, walk_read_high, NULL), 0);
}

int main(void)
{
    run_test("mmu index <-> slot table", test_slot_map);
    run_test("access context per slot", test_access_for_slot);
    run_test("protection: RAM, dirty, code, ROM, MMIO", test_prot_basic);
    run_test("protection: user, SMAP, CR0.WP", test_prot_privilege);
    run_test("walk: 2-level, rights, A/D, CR3", test_walk_legacy);
    run_test("walk: PSE 4 MiB pages, A20", test_walk_pse_a20);
    run_test("walk: PAE, NX, reserved bits, 2 MiB", test_walk_pae);
    run_test("walk: PAE tables and frames above 4 GiB",
             test_walk_pae_high_tables);

    return tap_done();
}
