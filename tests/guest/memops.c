/*
 * memops: string and memory functions over several sizes and alignments,
 * including buffers that cross page boundaries and strings that end right
 * before an inaccessible page.  Each result is checked against a plain
 * byte loop and folded into a checksum.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qftest.h"

#define PAGE 4096
#define AREA (4 * PAGE)

static const size_t sizes[] = {
    0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 100, 255, 256,
    1000, 4095, 4096, 4097, 8197,
};
static const size_t src_offs[] = { 0, 1, 3, 4, 7, 15, PAGE - 5 };
static const size_t dst_offs[] = { 0, 2, 5, 8, PAGE - 3 };

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t *src, *dst, *ref;
static uint32_t seed = 12345;

static uint8_t rnd8(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 16;
}

/* Byte loops through volatile pointers so the compiler keeps them. */
static void ref_copy(uint8_t *d, const uint8_t *s, size_t n)
{
    volatile uint8_t *vd = d;
    const volatile uint8_t *vs = s;
    size_t i;

    if (d < s) {
        for (i = 0; i < n; i++) {
            vd[i] = vs[i];
        }
    } else {
        for (i = n; i > 0; i--) {
            vd[i - 1] = vs[i - 1];
        }
    }
}

static void ref_set(uint8_t *d, int c, size_t n)
{
    volatile uint8_t *vd = d;
    size_t i;

    for (i = 0; i < n; i++) {
        vd[i] = c;
    }
}

static int ref_cmp(const uint8_t *a, const uint8_t *b, size_t n)
{
    const volatile uint8_t *va = a, *vb = b;
    size_t i;

    for (i = 0; i < n; i++) {
        if (va[i] != vb[i]) {
            return va[i] < vb[i] ? -1 : 1;
        }
    }
    return 0;
}

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

static void fill(uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        p[i] = rnd8();
    }
}

static uint32_t test_memcpy(uint32_t h)
{
    size_t i, j, k;

    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        for (j = 0; j < ARRAY_SIZE(src_offs); j++) {
            for (k = 0; k < ARRAY_SIZE(dst_offs); k++) {
                size_t n = sizes[i], so = src_offs[j], d = dst_offs[k];

                if (so + n > AREA || d + n + 16 > AREA) {
                    continue;
                }
                memset(dst, 0xa5, AREA);
                memset(ref, 0xa5, AREA);
                memcpy(dst + d, src + so, n);
                ref_copy(ref + d, src + so, n);
                QF_CHECK(ref_cmp(dst, ref, AREA) == 0,
                         "memcpy n=%zu src+%zu dst+%zu", n, so, d);
                h = qf_hash(h, dst + d, n + 16);
            }
        }
    }
    printf("memcpy:  %08x\n", h);
    return h;
}

static uint32_t test_memset(uint32_t h)
{
    static const int values[] = { 0, 0xff, 0x5a };
    size_t i, k, v;

    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        for (k = 0; k < ARRAY_SIZE(dst_offs); k++) {
            for (v = 0; v < ARRAY_SIZE(values); v++) {
                size_t n = sizes[i], d = dst_offs[k];

                if (d + n + 16 > AREA) {
                    continue;
                }
                memset(dst, 0x11, AREA);
                memset(ref, 0x11, AREA);
                memset(dst + d, values[v], n);
                ref_set(ref + d, values[v], n);
                QF_CHECK(ref_cmp(dst, ref, AREA) == 0,
                         "memset n=%zu dst+%zu c=%d", n, d, values[v]);
                h = qf_hash(h, dst + d, n + 16);
            }
        }
    }
    printf("memset:  %08x\n", h);
    return h;
}

static uint32_t test_memmove(uint32_t h)
{
    static const long shifts[] = { -17, -8, -3, -1, 1, 2, 9, 64, 4093 };
    size_t i, k;

    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        for (k = 0; k < ARRAY_SIZE(shifts); k++) {
            size_t n = sizes[i];
            long base = PAGE / 2 + 4200;
            long to = base + shifts[k];

            if (to < 0 || base + n > AREA || to + n > AREA) {
                continue;
            }
            memcpy(dst, src, AREA);
            memcpy(ref, src, AREA);
            memmove(dst + to, dst + base, n);
            ref_copy(ref + to, ref + base, n);
            QF_CHECK(ref_cmp(dst, ref, AREA) == 0,
                     "memmove n=%zu shift=%ld", n, shifts[k]);
            h = qf_hash(h, dst + to, n);
        }
    }
    printf("memmove: %08x\n", h);
    return h;
}

static uint32_t test_compare(uint32_t h)
{
    size_t i, j;

    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        for (j = 0; j < ARRAY_SIZE(src_offs); j++) {
            size_t n = sizes[i], so = src_offs[j];
            size_t pos;
            int r, e;

            if (so + n > AREA || n == 0) {
                continue;
            }
            memcpy(dst + 3, src + so, n);
            r = sign(memcmp(dst + 3, src + so, n));
            QF_CHECK(r == 0, "memcmp equal n=%zu", n);
            h = qf_hash_u32(h, r);

            /* Change one byte near the end, compare both ways. */
            pos = n - 1 - (n / 3);
            dst[3 + pos] ^= 0x80;
            r = sign(memcmp(dst + 3, src + so, n));
            e = ref_cmp(dst + 3, src + so, n);
            QF_CHECK(r == e, "memcmp n=%zu pos=%zu: %d != %d", n, pos, r, e);
            h = qf_hash_u32(h, r);
            r = sign(memcmp(src + so, dst + 3, n));
            QF_CHECK(r == -e, "memcmp reversed n=%zu", n);
            h = qf_hash_u32(h, r);
        }
    }
    printf("memcmp:  %08x\n", h);
    return h;
}

/* Build NUL-terminated strings of letters and check the str* functions. */
static uint32_t test_strings(uint32_t h)
{
    char *a = (char *)dst, *b = (char *)ref;
    size_t i, j;

    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        for (j = 0; j < ARRAY_SIZE(src_offs); j++) {
            size_t n = sizes[i], o = src_offs[j] % 16;
            size_t k;
            int r;

            if (o + n + 1 > AREA) {
                continue;
            }
            for (k = 0; k < n; k++) {
                a[o + k] = 'a' + src[k] % 26;
            }
            a[o + n] = 0;
            QF_CHECK(strlen(a + o) == n, "strlen n=%zu off=%zu", n, o);
            strcpy(b + 5, a + o);
            QF_CHECK(strcmp(a + o, b + 5) == 0, "strcpy/strcmp n=%zu", n);
            if (n > 0) {
                b[5 + n / 2] = 'z' + 1;
                r = sign(strcmp(a + o, b + 5));
                QF_CHECK(r < 0, "strcmp n=%zu: %d", n, r);
                h = qf_hash_u32(h, r);
                r = sign(strncmp(a + o, b + 5, n / 2));
                QF_CHECK(r == 0, "strncmp n=%zu: %d", n, r);
                h = qf_hash_u32(h, r);
                QF_CHECK(strchr(a + o, 'z' + 1) == NULL, "strchr n=%zu", n);
                QF_CHECK(strchr(b + 5, 'z' + 1) == b + 5 + n / 2,
                         "strchr hit n=%zu", n);
                QF_CHECK(memchr(b + 5, 'z' + 1, n) == b + 5 + n / 2,
                         "memchr n=%zu", n);
            }
            h = qf_hash(h, a + o, n);
        }
    }
    printf("strings: %08x\n", h);
    return h;
}

/*
 * Strings and buffers that end exactly at the boundary of an inaccessible
 * page: the library reads in wide aligned chunks and must not fault.
 */
static uint32_t test_page_edge(uint32_t h)
{
    uint8_t *map;
    size_t n;

    map = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        qf_fail("mmap");
        return h;
    }
    if (mprotect(map + PAGE, PAGE, PROT_NONE) != 0) {
        qf_fail("mprotect");
        return h;
    }
    for (n = 1; n <= 70; n++) {
        char *s = (char *)map + PAGE - n;
        uint8_t *d = dst + 1;

        memset(s, 'q', n - 1);
        s[n - 1] = 0;
        QF_CHECK(strlen(s) == n - 1, "edge strlen %zu", n);
        QF_CHECK(strchr(s, 'x') == NULL, "edge strchr %zu", n);
        QF_CHECK(memchr(s, 0, n) == s + n - 1, "edge memchr %zu", n);
        memcpy(d, s, n);
        QF_CHECK(memcmp(d, s, n) == 0, "edge memcmp %zu", n);
        QF_CHECK(strcmp((char *)d, s) == 0, "edge strcmp %zu", n);
        memset(s, (int)n, n);
        h = qf_hash(h, s, n);
    }
    munmap(map, 2 * PAGE);
    printf("edges:   %08x\n", h);
    return h;
}

int main(void)
{
    uint32_t h = QF_HASH_INIT;

    src = aligned_alloc(PAGE, AREA);
    dst = aligned_alloc(PAGE, AREA);
    ref = aligned_alloc(PAGE, AREA);
    if (!src || !dst || !ref) {
        qf_fail("out of memory");
        return qf_finish("memops", 0);
    }
    fill(src, AREA);
    h = test_memcpy(h);
    h = test_memset(h);
    h = test_memmove(h);
    h = test_compare(h);
    h = test_strings(h);
    h = test_page_edge(h);
    return qf_finish("memops", h);
}
