/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the qemu-fast benchmark workloads.
 *
 * Every workload takes one optional argument, a positive integer scale
 * factor (default 1) or "quick" (1/8 of the default work), times its
 * measured part with CLOCK_MONOTONIC and prints exactly one line:
 *
 *   bench NAME seconds=S.SSSSSS ops=N unit=UNIT checksum=HEX
 *
 * which a workload may end with one more figure, KEY=S.SSSSSS: seconds
 * of a part timed besides the measured one (rsswitch's touch=, its
 * touching without the switches), never in the checksum; or, on
 * failure, one line "bench NAME error: ..." and a non-zero exit.
 * Bad arguments give a usage line on stderr and exit status 2.
 */
#ifndef BENCH_H
#define BENCH_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Largest scale factor accepted, keeps every count far from overflow. */
#define BENCH_MAX_SCALE 100000

/* 64-bit FNV-1a */
#define BENCH_HASH_INIT 0xcbf29ce484222325ull

static const char *bench_name = "?";
static uint64_t bench_scale_num = 1;
static uint64_t bench_scale_den = 1;

/* Keeps the compiler from dropping or merging memory accesses around it. */
#define bench_barrier() __asm__ __volatile__("" : : : "memory")

static inline void __attribute__((noreturn, format(printf, 1, 2)))
bench_fail(const char *fmt, ...)
{
    va_list ap;

    printf("bench %s error: ", bench_name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    exit(1);
}

static inline void __attribute__((noreturn)) bench_usage(void)
{
    fprintf(stderr, "usage: %s [SCALE|quick]  (SCALE: integer 1..%d, "
            "default 1; quick: 1/8 of the default work)\n",
            bench_name, BENCH_MAX_SCALE);
    exit(2);
}

/* Parses the command line; exits with status 2 on a bad argument. */
static inline void bench_init(const char *name, int argc, char **argv)
{
    const char *s;
    uint64_t v = 0;

    bench_name = name;
    if (argc > 2) {
        bench_usage();
    }
    if (argc < 2) {
        return;
    }
    s = argv[1];
    if (strcmp(s, "quick") == 0) {
        bench_scale_num = 1;
        bench_scale_den = 8;
        return;
    }
    if (*s == '\0') {
        bench_usage();
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            bench_usage();
        }
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > BENCH_MAX_SCALE) {
            bench_usage();
        }
    }
    if (v == 0) {
        bench_usage();
    }
    bench_scale_num = v;
    bench_scale_den = 1;
}

/* A count of the default work, scaled; never less than 1. */
static inline uint64_t bench_count(uint64_t base)
{
    uint64_t n = base * bench_scale_num / bench_scale_den;

    return n ? n : 1;
}

/* Nanoseconds of CLOCK_MONOTONIC. */
static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        bench_fail("clock_gettime: %s", strerror(errno));
    }
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t bench_hash(uint64_t h, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Hashes the value's bytes in little-endian order. */
static inline uint64_t bench_hash_u64(uint64_t h, uint64_t v)
{
    int i;

    for (i = 0; i < 8; i++) {
        h ^= (uint8_t)(v >> (i * 8));
        h *= 0x100000001b3ull;
    }
    return h;
}

/* xorshift64 (Marsaglia 13/7/17); the state must not be zero. */
static inline uint64_t bench_rand(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

/* Prints " KEY=S.SSSSSS", nanoseconds as seconds to the microsecond. */
static inline void bench_print_seconds(const char *key, uint64_t ns)
{
    printf(" %s=%" PRIu64 ".%06" PRIu64, key, ns / 1000000000u,
           ns % 1000000000u / 1000u);
}

/* One more time of a program's own on its result line: KEY=seconds. */
struct bench_extra {
    const char *key;
    uint64_t ns;
};

/*
 * Prints the result line, ending with the N extra times of EXTRA (KEY=S
 * each); returns the exit status for main().
 */
static inline int bench_result_with(uint64_t start_ns, uint64_t end_ns,
                                    uint64_t ops, const char *unit,
                                    uint64_t checksum,
                                    const struct bench_extra *extra,
                                    unsigned n)
{
    unsigned i;

    printf("bench %s", bench_name);
    bench_print_seconds("seconds", end_ns - start_ns);
    printf(" ops=%" PRIu64 " unit=%s checksum=%016" PRIx64, ops, unit,
           checksum);
    for (i = 0; i < n; i++) {
        bench_print_seconds(extra[i].key, extra[i].ns);
    }
    printf("\n");
    if (fflush(stdout) != 0 || ferror(stdout)) {
        return 1;
    }
    return 0;
}

/* Prints the result line; returns the exit status for main(). */
static inline int bench_result(uint64_t start_ns, uint64_t end_ns,
                               uint64_t ops, const char *unit,
                               uint64_t checksum)
{
    return bench_result_with(start_ns, end_ns, ops, unit, checksum, NULL, 0);
}

#endif /* BENCH_H */
