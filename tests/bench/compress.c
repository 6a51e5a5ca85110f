/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * compress: a small LZ77 compressor over 1 MiB of generated text-like
 * data (words from a random vocabulary, punctuation, some numbers),
 * compressed again and again; the result is decompressed once, untimed,
 * and must give back the input.
 *
 * The compressor is greedy: a hash table holds the last position of each
 * 3-byte prefix, a candidate is taken when its first bytes match.  The
 * output is a sequence of tokens:
 *   0x00-0x7f  literal run, (token + 1) bytes follow
 *   0x80-0xff  match of length (token & 0x7f) + 3, then a 16-bit
 *              little-endian distance (1..65535) back into the output
 *
 * ops = input bytes compressed; checksum = size and bytes of the output.
 */
#include "bench.h"

#define INPUT_BYTES     (1u << 20)
#define REPS            16u         /* compressions of the input at scale 1 */
#define HASH_BITS       14
#define MIN_MATCH       3
#define MAX_MATCH       (0x7f + MIN_MATCH)
#define MAX_LITERALS    128
#define MAX_DISTANCE    65535
#define VOCABULARY      512
#define MAX_WORD        10
#define SEED            0xbf58476d1ce4e5b9ull

/* Worst case: literal runs only */
#define OUTPUT_BYTES    (INPUT_BYTES + INPUT_BYTES / MAX_LITERALS + 16)

static void put(uint8_t *buf, size_t n, size_t *pos, uint8_t c)
{
    if (*pos < n) {
        buf[(*pos)++] = c;
    }
}

static void make_input(uint8_t *buf, size_t n)
{
    static char words[VOCABULARY][MAX_WORD];
    static uint8_t lengths[VOCABULARY];
    uint64_t seed = SEED;
    unsigned sentence = 0, sentence_len = 8;
    size_t pos = 0;
    int i, j;

    for (i = 0; i < VOCABULARY; i++) {
        lengths[i] = 2 + bench_rand(&seed) % (MAX_WORD - 1);
        for (j = 0; j < lengths[i]; j++) {
            words[i][j] = 'a' + bench_rand(&seed) % 26;
        }
    }

    while (pos < n) {
        uint64_t r = bench_rand(&seed);

        if (r % 50 == 0) {
            /* a number: mostly incompressible */
            int digits = 1 + (r >> 8) % 6;

            for (j = 0; j < digits; j++) {
                put(buf, n, &pos, '0' + bench_rand(&seed) % 10);
            }
        } else {
            /* a word, the smaller of two picks: frequent low indices */
            unsigned w1 = (r >> 8) % VOCABULARY;
            unsigned w2 = (r >> 24) % VOCABULARY;
            unsigned w = w1 < w2 ? w1 : w2;

            for (j = 0; j < lengths[w]; j++) {
                char c = words[w][j];

                if (j == 0 && sentence == 0) {
                    c -= 'a' - 'A';
                }
                put(buf, n, &pos, (uint8_t)c);
            }
        }
        if (++sentence >= sentence_len) {
            put(buf, n, &pos, '.');
            put(buf, n, &pos, (r >> 40) % 4 == 0 ? '\n' : ' ');
            sentence = 0;
            sentence_len = 4 + (r >> 44) % 12;
        } else if ((r >> 40) % 16 == 0) {
            put(buf, n, &pos, ',');
            put(buf, n, &pos, ' ');
        } else {
            put(buf, n, &pos, ' ');
        }
    }
}

static inline uint32_t hash3(const uint8_t *p)
{
    uint32_t v = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;

    return (v * 2654435761u) >> (32 - HASH_BITS);
}

static size_t emit_literals(uint8_t *out, size_t op,
                            const uint8_t *lit, size_t len)
{
    while (len > 0) {
        size_t run = len < MAX_LITERALS ? len : MAX_LITERALS;

        out[op++] = (uint8_t)(run - 1);
        memcpy(out + op, lit, run);
        op += run;
        lit += run;
        len -= run;
    }
    return op;
}

/* Compresses in[0..n) into out; table has 1 << HASH_BITS entries. */
static size_t __attribute__((noinline))
lz_compress(const uint8_t *in, size_t n, uint8_t *out, uint32_t *table)
{
    size_t ip = 0, op = 0, lit_start = 0;

    /* entries are position + 1, 0 is empty */
    memset(table, 0, sizeof(*table) << HASH_BITS);
    while (ip + MIN_MATCH <= n) {
        uint32_t h = hash3(in + ip);
        uint32_t cand = table[h];

        table[h] = (uint32_t)ip + 1;
        if (cand != 0) {
            size_t ref = cand - 1;
            size_t dist = ip - ref;

            if (dist <= MAX_DISTANCE && in[ref] == in[ip] &&
                in[ref + 1] == in[ip + 1] && in[ref + 2] == in[ip + 2]) {
                size_t limit = n - ip < MAX_MATCH ? n - ip : MAX_MATCH;
                size_t len = MIN_MATCH, k;

                while (len < limit && in[ref + len] == in[ip + len]) {
                    len++;
                }
                op = emit_literals(out, op, in + lit_start, ip - lit_start);
                out[op++] = (uint8_t)(0x80 | (len - MIN_MATCH));
                out[op++] = (uint8_t)dist;
                out[op++] = (uint8_t)(dist >> 8);
                for (k = ip + 1; k < ip + len && k + MIN_MATCH <= n; k++) {
                    table[hash3(in + k)] = (uint32_t)k + 1;
                }
                ip += len;
                lit_start = ip;
                continue;
            }
        }
        ip++;
    }
    return emit_literals(out, op, in + lit_start, n - lit_start);
}

/* Returns the decompressed size, or (size_t)-1 on a malformed input. */
static size_t lz_decompress(const uint8_t *in, size_t n,
                            uint8_t *out, size_t out_size)
{
    size_t ip = 0, op = 0;

    while (ip < n) {
        uint8_t t = in[ip++];

        if (t < 0x80) {
            size_t len = (size_t)t + 1;

            if (len > n - ip || len > out_size - op) {
                return (size_t)-1;
            }
            memcpy(out + op, in + ip, len);
            ip += len;
            op += len;
        } else {
            size_t len = (size_t)(t & 0x7f) + MIN_MATCH, dist, k;

            if (n - ip < 2) {
                return (size_t)-1;
            }
            dist = in[ip] | (size_t)in[ip + 1] << 8;
            ip += 2;
            if (dist == 0 || dist > op || len > out_size - op) {
                return (size_t)-1;
            }
            for (k = 0; k < len; k++) {
                out[op + k] = out[op + k - dist];
            }
            op += len;
        }
    }
    return op;
}

int main(int argc, char **argv)
{
    uint64_t reps, r, start, end, checksum, total = 0;
    uint8_t *in, *out, *back;
    uint32_t *table;
    size_t size = 0, back_size;

    bench_init("compress", argc, argv);
    reps = bench_count(REPS);

    in = malloc(INPUT_BYTES);
    out = malloc(OUTPUT_BYTES);
    back = malloc(INPUT_BYTES);
    table = malloc(sizeof(*table) << HASH_BITS);
    if (!in || !out || !back || !table) {
        bench_fail("out of memory");
    }
    make_input(in, INPUT_BYTES);
    memset(out, 0, OUTPUT_BYTES);

    start = bench_now_ns();
    for (r = 0; r < reps; r++) {
        size = lz_compress(in, INPUT_BYTES, out, table);
        bench_barrier();
        total += size;
    }
    end = bench_now_ns();

    back_size = lz_decompress(out, size, back, INPUT_BYTES);
    if (back_size != INPUT_BYTES || memcmp(in, back, INPUT_BYTES) != 0) {
        bench_fail("round trip failed (%zu bytes compressed to %zu, "
                   "decompressed to %zu)",
                   (size_t)INPUT_BYTES, size, back_size);
    }

    checksum = bench_hash_u64(BENCH_HASH_INIT, total);
    checksum = bench_hash(checksum, out, size);
    return bench_result(start, end, reps * INPUT_BYTES, "bytes", checksum);
}
