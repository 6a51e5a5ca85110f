/*
 * A guest that fills all of its RAM: with paging on (an identity map of
 * 4 MiB pages over the whole 4 GiB), write every 4 KiB page from the end
 * of the kernel to the top of RAM (size from the multiboot memory map
 * would need the info block; the size is probed instead: a page is RAM if
 * it keeps what was written), then read all of them back.  Prints the
 * number of pages and a checksum; the runner compares both modes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

typedef unsigned int u32;

extern char __bss_en[];
static u32 page_dir[1024] __attribute__((aligned(4096)));

static void outs(const char *s)
{
    while (*s) {
        asm volatile("outb %0, $0xe9" : : "a"(*s++));
    }
}

static void outx(u32 v)
{
    for (int i = 28; i >= 0; i -= 4) {
        asm volatile("outb %0, $0xe9" : : "a"("0123456789abcdef"[(v >> i) & 15]));
    }
}

int main(void)
{
    u32 first = ((u32)__bss_en + 0xfff) & ~0xfffu;
    u32 top, sum = 0, bad = 0, cr;

    for (u32 i = 0; i < 1024; i++) {
        page_dir[i] = (i << 22) | 0x83;      /* PS RW P */
    }
    asm volatile("mov %0, %%cr3" : : "r"(page_dir));
    asm volatile("mov %%cr4, %0" : "=r"(cr));
    asm volatile("mov %0, %%cr4" : : "r"(cr | 0x10));
    asm volatile("mov %%cr0, %0" : "=r"(cr));
    asm volatile("mov %0, %%cr0" : : "r"(cr | 0x80000000u));

    /* write every page up to 3 GiB until one does not keep its value */
    for (top = first; top < 0xc0000000u; top += 4096) {
        volatile u32 *p = (volatile u32 *)top;
        u32 v = top * 2654435761u;

        for (u32 i = 0; i < 1024; i += 64) {
            p[i] = v + i;
        }
        if (p[0] != v) {
            break;
        }
    }
    outs("fillram: RAM ends at ");
    outx(top);
    outs(", ");
    outx((top - first) >> 12);
    outs(" pages written\n");
    for (u32 a = first; a < top; a += 4096) {
        volatile u32 *p = (volatile u32 *)a;
        u32 v = a * 2654435761u;

        for (u32 i = 0; i < 1024; i += 64) {
            bad |= p[i] != v + i;
            sum = (sum ^ p[i]) * 16777619u;
        }
    }
    outs("fillram: checksum ");
    outx(sum);
    outs(bad ? " FAILED\n" : " PASSED\n");
    return bad ? 1 : 0;
}
