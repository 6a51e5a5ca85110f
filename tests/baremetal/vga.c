/*
 * VGA text mode through MMIO: the legacy VGA window at 0xB8000 is I/O
 * memory of the VGA device, not RAM, so in fast mode every access to it
 * must leave the direct path and reach the device exactly as under the
 * softmmu.  Writes it with 1-, 2- and 4-byte stores and rep movs/stos,
 * reads it back, prints what it read, then halts with the text on screen
 * so that the test can take a screendump of it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <minilib.h>

#define COLS 80
#define ROWS 25

/* VGA memory is device memory: every access must happen, in order. */
static volatile unsigned short *const vga = /* MMIO */
    (unsigned short *)0xb8000;

static inline void outb(unsigned short port, unsigned char val)
{
    asm volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

/* A steady screen: no blinking hardware cursor in the screendump. */
static void cursor_off(void)
{
    outb(0x3d4, 0x0a);
    outb(0x3d5, 0x20);
}

/* Clear with 4-byte stores: two cells each. */
static void clear(void)
{
    volatile unsigned int *p = (volatile unsigned int *)vga; /* MMIO */

    for (int i = 0; i < COLS * ROWS / 2; i++) {
        p[i] = 0x07200720;
    }
}

/* Row @row with 2-byte stores, one cell each. */
static void put_words(int row, const char *s, unsigned char attr)
{
    for (int i = 0; s[i]; i++) {
        vga[row * COLS + i] = (attr << 8) | (unsigned char)s[i];
    }
}

/* Row @row with byte stores: character and attribute separately. */
static void put_bytes(int row, const char *s, unsigned char attr)
{
    volatile unsigned char *b = (volatile unsigned char *)vga; /* MMIO */

    for (int i = 0; s[i]; i++) {
        b[2 * (row * COLS + i)] = s[i];
        b[2 * (row * COLS + i) + 1] = attr;
    }
}

/* Row @row with rep movsw from a RAM buffer. */
static void put_movs(int row, const char *s, unsigned char attr)
{
    unsigned short buf[COLS];
    int n = 0;
    void *dst = (void *)(vga + row * COLS);
    void *src = buf;
    int cnt;

    while (s[n] && n < COLS) {
        buf[n] = (attr << 8) | (unsigned char)s[n];
        n++;
    }
    cnt = n;
    asm volatile("cld; rep movsw"
                 : "+D"(dst), "+S"(src), "+c"(cnt) : : "memory");
}

/* Row @row filled with rep stosw. */
static void fill_stos(int row, unsigned short cell)
{
    void *dst = (void *)(vga + row * COLS);
    int cnt = COLS;

    asm volatile("cld; rep stosw" : "+D"(dst), "+c"(cnt) : "a"(cell)
                 : "memory");
}

/* Read row @row back as text, and check its attribute. */
static int check_row(int row, const char *want, unsigned char attr)
{
    char got[COLS + 1];
    int i, bad = 0;

    for (i = 0; want[i] && i < COLS; i++) {
        unsigned short cell = vga[row * COLS + i];

        got[i] = cell & 0xff;
        bad |= got[i] != want[i] || (cell >> 8) != attr;
    }
    got[i] = 0;
    ml_printf("row %d: %s [%s]\n", row, got, bad ? "MISMATCH" : "ok");
    return bad;
}

int main(void)
{
    static const char *const words =
        "qemu-fast: VGA text through 2-byte stores";
    static const char *const bytes = "byte stores: character, then attribute";
    static const char *const movs = "rep movsw from RAM into the VGA window";
    unsigned int sum = 0;
    int bad = 0;

    cursor_off();
    clear();
    put_words(2, words, 0x1f);
    put_bytes(4, bytes, 0x2e);
    put_movs(6, movs, 0x4f);
    fill_stos(8, 0x3023);

    bad |= check_row(2, words, 0x1f);
    bad |= check_row(4, bytes, 0x2e);
    bad |= check_row(6, movs, 0x4f);
    for (int i = 0; i < COLS; i++) {
        bad |= vga[8 * COLS + i] != 0x3023;
    }
    for (int i = 0; i < COLS * ROWS; i++) {
        sum = sum * 31 + vga[i];
    }
    ml_printf("screen checksum %x\n", sum);
    ml_printf("vga: %s\n", bad ? "FAILED" : "PASSED");
    ml_printf("vga: screen ready\n");
    /* Keep the text on screen until the test has its screendump. */
    for (;;) {
        asm volatile("cli; hlt");
    }
    return 0;
}
