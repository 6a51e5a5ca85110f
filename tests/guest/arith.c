/*
 * arith: integer, 64-bit, bit, float and double arithmetic on values from
 * a fixed pseudo-random sequence, a few known answers, and a CRC32.
 * Operands go through volatile variables so that the compiler cannot fold
 * the operations away at build time.
 */
#include <math.h>
#include <string.h>

#include "qftest.h"

#define ROUNDS 2000

static uint32_t seed = 0x2545f491;

static uint32_t rnd32(void)
{
    /* xorshift32 */
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return seed;
}

static uint32_t test_int32(uint32_t h)
{
    int i;

    for (i = 0; i < ROUNDS; i++) {
        volatile uint32_t a = rnd32(), b = rnd32() >> (i % 31);
        volatile int32_t sa = (int32_t)a, sb = (int32_t)b;
        volatile unsigned n = i % 32;
        uint32_t q, r;
        int32_t sq, sr;

        h = qf_hash_u32(h, a + b);
        h = qf_hash_u32(h, a - b);
        h = qf_hash_u32(h, a * b);
        h = qf_hash_u32(h, (uint32_t)(sa * sb));
        h = qf_hash_u32(h, a << n);
        h = qf_hash_u32(h, a >> n);
        h = qf_hash_u32(h, (uint32_t)(sa >> n));
        h = qf_hash_u32(h, (a << n) | (a >> ((32 - n) & 31)));
        h = qf_hash_u32(h, (uint32_t)(((uint64_t)a * b) >> 32));
        h = qf_hash_u32(h, (uint32_t)(((int64_t)sa * sb) >> 32));
        if (b != 0) {
            q = a / b;
            r = a % b;
            QF_CHECK(q * b + r == a && r < b, "udiv %08x/%08x", a, b);
            h = qf_hash_u32(h, q);
            h = qf_hash_u32(h, r);
            if (!(sa == INT32_MIN && sb == -1)) {
                sq = sa / sb;
                sr = sa % sb;
                QF_CHECK(sq * sb + sr == sa, "sdiv %d/%d", sa, sb);
                QF_CHECK(sr == 0 || (sr < 0) == (sa < 0),
                         "srem sign %d %% %d", sa, sb);
                h = qf_hash_u32(h, sq);
                h = qf_hash_u32(h, sr);
            }
        }
        h = qf_hash_u32(h, a < b);
        h = qf_hash_u32(h, sa < sb);
    }
    printf("int32:   %08x\n", h);
    return h;
}

static uint32_t test_int64(uint32_t h)
{
    int i;

    for (i = 0; i < ROUNDS; i++) {
        volatile uint64_t a = ((uint64_t)rnd32() << 32) | rnd32();
        volatile uint64_t b = (((uint64_t)rnd32() << 32) | rnd32()) >> (i % 63);
        volatile int64_t sa = (int64_t)a, sb = (int64_t)b;
        volatile unsigned n = i % 64;
        uint64_t v[8];
        int k;

        v[0] = a + b;
        v[1] = a - b;
        v[2] = a * b;
        v[3] = a << n;
        v[4] = a >> n;
        v[5] = (uint64_t)(sa >> n);
        v[6] = b ? a / b : 0;
        v[7] = b ? a % b : 0;
        if (b) {
            QF_CHECK(v[6] * b + v[7] == a && v[7] < b,
                     "udiv64 %016llx/%016llx",
                     (unsigned long long)a, (unsigned long long)b);
        }
        for (k = 0; k < 8; k++) {
            h = qf_hash(h, &v[k], 8);
        }
        if (sb != 0 && !(sa == INT64_MIN && sb == -1)) {
            int64_t sq = sa / sb, sr = sa % sb;

            QF_CHECK(sq * sb + sr == sa, "sdiv64");
            h = qf_hash(h, &sq, 8);
            h = qf_hash(h, &sr, 8);
        }
    }
    /* Known answers */
    {
        volatile uint64_t x = 1000000007ull, y = 998244353ull;

        QF_CHECK(x * y == 998244359987710471ull, "mul64 known answer");
        QF_CHECK(0xffffffffffffffffull / x == 18446743944ull,
                 "div64 known answer");
        QF_CHECK((x * y) % 0x100000001ull == 3460321299ull,
                 "mod64 known answer");
    }
    printf("int64:   %08x\n", h);
    return h;
}

static uint32_t test_bits(uint32_t h)
{
    int i;

    for (i = 0; i < ROUNDS; i++) {
        volatile uint32_t a = rnd32() >> (i % 32);
        volatile uint64_t b = ((uint64_t)rnd32() << 32 | rnd32()) >> (i % 64);

        h = qf_hash_u32(h, __builtin_bswap32(a));
        h = qf_hash_u32(h, __builtin_popcount(a));
        h = qf_hash_u32(h, __builtin_parity(a));
        h = qf_hash_u32(h, __builtin_popcountll(b));
        if (a) {
            h = qf_hash_u32(h, __builtin_clz(a));
            h = qf_hash_u32(h, __builtin_ctz(a));
        }
        if (b) {
            h = qf_hash_u32(h, __builtin_clzll(b));
            h = qf_hash_u32(h, __builtin_ctzll(b));
        }
        h = qf_hash_u32(h, (uint32_t)(int8_t)a);
        h = qf_hash_u32(h, (uint32_t)(int16_t)a);
        h = qf_hash_u32(h, (uint32_t)(uint16_t)a);
    }
    QF_CHECK(__builtin_bswap32(0x12345678) == 0x78563412, "bswap32");
    printf("bits:    %08x\n", h);
    return h;
}

static uint32_t hash_double(uint32_t h, double d)
{
    uint64_t bits;

    memcpy(&bits, &d, sizeof(bits));
    return qf_hash(h, &bits, sizeof(bits));
}

static uint32_t hash_float(uint32_t h, float f)
{
    uint32_t bits;

    memcpy(&bits, &f, sizeof(bits));
    return qf_hash_u32(h, bits);
}

static uint32_t test_float(uint32_t h)
{
    int i;

    for (i = 0; i < ROUNDS; i++) {
        volatile float a = (float)(int32_t)rnd32() / 65536.0f;
        volatile float b = (float)(rnd32() % 100000 + 1) / 7.0f;
        volatile float r;

        r = a + b;
        h = hash_float(h, r);
        r = a - b;
        h = hash_float(h, r);
        r = a * b;
        h = hash_float(h, r);
        r = a / b;
        h = hash_float(h, r);
        r = sqrtf(b);
        h = hash_float(h, r);
        h = qf_hash_u32(h, (uint32_t)(int32_t)a);
        h = qf_hash_u32(h, a < b);
    }
    printf("float:   %08x\n", h);
    return h;
}

static uint32_t test_double(uint32_t h)
{
    volatile double third = 1.0, two = 2.0, big = 1e300, tiny = 1e-300;
    volatile double r;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        volatile double a = (double)(int32_t)rnd32() * 1.25e-3;
        volatile double b = (double)((uint64_t)rnd32() << 20 | 1) / 3.0;

        r = a + b;
        h = hash_double(h, r);
        r = a - b;
        h = hash_double(h, r);
        r = a * b;
        h = hash_double(h, r);
        r = a / b;
        h = hash_double(h, r);
        r = sqrt(b);
        h = hash_double(h, r);
        h = qf_hash_u32(h, (uint32_t)(int64_t)(a * 1000.0));
        h = qf_hash_u32(h, (uint32_t)(int32_t)a);
        h = qf_hash_u32(h, (uint32_t)(b / 1e6));
        h = qf_hash_u32(h, a <= b);
    }

    /* Known answers (exactly rounded IEEE results) */
    r = third / 3.0;
    h = hash_double(h, r);
    QF_CHECK(r == 0x1.5555555555555p-2, "1/3");
    r = sqrt(two);
    h = hash_double(h, r);
    QF_CHECK(r == 0x1.6a09e667f3bcdp+0, "sqrt(2)");
    r = tiny * tiny;
    QF_CHECK(r == 0.0, "underflow to 0");
    r = big * big;
    QF_CHECK(isinf(r), "overflow to inf");
    r = r - r;  /* r is inf from above; x87 would keep 1e600 in a register */
    QF_CHECK(isnan(r), "inf - inf is nan");
    r = 0.1 + 0.2;
    QF_CHECK(r == 0x1.3333333333334p-2, "0.1 + 0.2");
    printf("double:  %08x (1/3 = %.17g, sqrt 2 = %.17g)\n", h,
           third / 3.0, sqrt(two));
    return h;
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, size_t len)
{
    static uint32_t table[256];
    size_t i;

    if (!table[1]) {
        uint32_t c;
        int n, k;

        for (n = 0; n < 256; n++) {
            c = n;
            for (k = 0; k < 8; k++) {
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            }
            table[n] = c;
        }
    }
    crc = ~crc;
    for (i = 0; i < len; i++) {
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

static uint32_t test_crc32(uint32_t h)
{
    static uint8_t buf[65536];
    uint32_t c;
    size_t i;

    c = crc32(0, (const uint8_t *)"123456789", 9);
    QF_CHECK(c == 0xcbf43926, "crc32 check value %08x", c);
    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = rnd32() >> 24;
    }
    c = crc32(0, buf, sizeof(buf));
    printf("crc32:   %08x\n", c);
    return qf_hash_u32(h, c);
}

int main(void)
{
    uint32_t h = QF_HASH_INIT;

    h = test_int32(h);
    h = test_int64(h);
    h = test_bits(h);
    h = test_float(h);
    h = test_double(h);
    h = test_crc32(h);
    return qf_finish("arith", h);
}
