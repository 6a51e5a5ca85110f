/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * matmul: double-precision matrix multiply, C += A * B with 160 x 160
 * matrices, repeated.  The loops run in i-k-j order, so each element of C
 * sees its multiply-adds in the same order whatever the compiler
 * vectorizes; with SSE2 arithmetic (the i386 build uses -mfpmath=sse) the
 * result is bit for bit the same on i386 and x86-64.
 *
 * ops = multiply-adds; checksum = the bits of the final C.
 */
#include "bench.h"

#define N       160
#define REPS    8u                  /* products at scale 1 */
#define SEED    0x94d049bb133111ebull

static double a[N][N], b[N][N], c[N][N];

static void __attribute__((noinline)) multiply_add(void)
{
    int i, j, k;

    for (i = 0; i < N; i++) {
        for (k = 0; k < N; k++) {
            double aik = a[i][k];

            for (j = 0; j < N; j++) {
                c[i][j] += aik * b[k][j];
            }
        }
    }
}

/* A value in [-1, 1) with few significant bits, exact in a double. */
static double small_value(uint64_t *seed)
{
    return (double)((int)(bench_rand(seed) % 2001) - 1000) / 1024.0;
}

int main(int argc, char **argv)
{
    uint64_t seed = SEED, reps, r, start, end, checksum;
    int i, j;

    bench_init("matmul", argc, argv);
    reps = bench_count(REPS);

    for (i = 0; i < N; i++) {
        for (j = 0; j < N; j++) {
            a[i][j] = small_value(&seed);
            b[i][j] = small_value(&seed);
            c[i][j] = 0.0;
        }
    }

    start = bench_now_ns();
    for (r = 0; r < reps; r++) {
        multiply_add();
        bench_barrier();
    }
    end = bench_now_ns();

    checksum = BENCH_HASH_INIT;
    for (i = 0; i < N; i++) {
        for (j = 0; j < N; j++) {
            uint64_t bits;

            memcpy(&bits, &c[i][j], sizeof(bits));
            checksum = bench_hash_u64(checksum, bits);
        }
    }
    return bench_result(start, end, reps * N * N * N, "madds", checksum);
}
