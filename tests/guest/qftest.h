/*
 * Helpers shared by the qemu-fast guest test programs.
 *
 * Every program prints only deterministic text on stdout (no times, pids
 * or addresses), so that its output can be compared byte for byte between
 * user-mode qemu-i386 and a run inside the Linux guest.
 */
#ifndef QFTEST_H
#define QFTEST_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int qf_failures;

/* FNV-1a, 32 bit */
static inline uint32_t qf_hash(uint32_t h, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static inline uint32_t qf_hash_u32(uint32_t h, uint32_t v)
{
    return qf_hash(h, &v, sizeof(v));
}

#define QF_HASH_INIT 2166136261u

/* Report a failed check on stdout (stderr would reorder the output). */
static inline void qf_fail(const char *fmt, ...)
{
    va_list ap;

    printf("FAIL: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    qf_failures++;
}

#define QF_CHECK(cond, ...) do {    \
        if (!(cond)) {              \
            qf_fail(__VA_ARGS__);   \
        }                           \
    } while (0)

/* Print the final line and return the exit status for main(). */
static inline int qf_finish(const char *name, uint32_t checksum)
{
    printf("%s: checksum %08x, %s\n", name, checksum,
           qf_failures ? "FAILED" : "ok");
    fflush(stdout);
    return qf_failures ? 1 : 0;
}

/*
 * Generated code, stored byte by byte: volatile, so that every byte is
 * stored, in order (the programs that rewrite code under themselves
 * depend on it).
 */
static inline void qf_put8(uint8_t *p, uint8_t v)
{
    *(volatile uint8_t *)p = v;     /* volatile: see above */
}

static inline void qf_put32(uint8_t *p, uint32_t v)
{
    int i;

    for (i = 0; i < 4; i++) {
        qf_put8(p + i, v >> (8 * i));
    }
}

/* At @p: "mov $imm, %eax; ret"; returns the end (the imm is at @p + 1). */
static inline uint8_t *qf_emit_mov_ret(uint8_t *p, uint32_t imm)
{
    qf_put8(p, 0xb8);
    qf_put32(p + 1, imm);
    qf_put8(p + 5, 0xc3);
    return p + 6;
}

/* One check of a program: folds what it saw into the checksum. */
struct qf_check {
    uint32_t (*check)(uint32_t h);
    const char *name;
};

/* Run @n checks in order, each line after it ends, then the final line. */
static inline int qf_run_checks(const char *name,
                                const struct qf_check *checks, size_t n)
{
    uint32_t h = QF_HASH_INIT;
    size_t i;

    for (i = 0; i < n; i++) {
        h = checks[i].check(h);
        printf("%s: ok\n", checks[i].name);
    }
    return qf_finish(name, h);
}

#endif /* QFTEST_H */
