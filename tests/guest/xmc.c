/*
 * xmc: cross-modifying code between two vCPUs (Intel SDM vol. 3, 8.1.3).
 *
 * A writer thread rewrites the immediate of "mov $imm, %eax; ret" in an
 * RWX page, then publishes the round number (release).  A reader thread
 * on the other CPU sees it (acquire), executes CPUID (serializing) and
 * calls the function, which must return the new immediate: a stale
 * translation of the old bytes is a failure.  Phase "cross" has the
 * reader call the very function being rewritten while it waits, so that
 * it translates it again while the writer stores; phase "same-page" has
 * it run another function on the same page, so that the page always
 * holds code while the writer patches it.
 *
 * The threads are pinned to CPUs 0 and 1 when there are two; only
 * handshakes order them, never timing.  The first stale value stops the
 * test with a message and exit status 1.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qftest.h"

#define ROUNDS 5000

typedef uint32_t (*fn_t)(void);

static uint8_t *page;
static uint8_t *target;         /* rewritten by the writer */
static uint8_t *other;          /* another function on the same page */
static uint8_t *spin_fn;        /* what the reader calls while it waits */
static int ncpus;
static int stale;               /* set by the reader at the first failure */
static uint32_t flag, ack;      /* round published / round checked */
static uint32_t ready;          /* the reader has run the code once */

static uint32_t value(int phase, uint32_t round)
{
    return (round * 2654435761u) ^ (phase ? 0xa5a50000u : 0x5a5a0000u);
}

/* mov $imm, %eax; ret */
static void emit(uint8_t *p, uint32_t imm)
{
    p[0] = 0xb8;
    *(volatile uint32_t *)(p + 1) = imm;
    p[5] = 0xc3;
}

static void serialize(void)
{
    uint32_t a = 0, b, c = 0, d;

    asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "memory");
}

static void pin(int cpu)
{
    cpu_set_t set;

    if (ncpus >= 2) {
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set) != 0) {
            perror("sched_setaffinity");
            exit(2);
        }
    }
}

/* Busy wait; with a single CPU let the other thread run. */
static void relax(void)
{
    if (ncpus < 2) {
        sched_yield();
    } else {
        asm volatile("pause" ::: "memory");
    }
}

static void *reader(void *arg)
{
    int phase = *(int *)arg;
    uint32_t round, got, want;

    pin(1);
    /*
     * Translated once before the first modification: a store that lands
     * while another vCPU translates the page for the first time is not
     * what this test checks (README, "Not guaranteed").
     */
    ((fn_t)spin_fn)();
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    for (round = 1; round <= ROUNDS; round++) {
        while (__atomic_load_n(&flag, __ATOMIC_ACQUIRE) != round) {
            ((fn_t)spin_fn)();
            relax();
        }
        serialize();
        got = ((fn_t)target)();
        want = value(phase, round);
        if (got != want) {
            printf("FAIL: round %u: function returned %08x (round %d's "
                   "value), want %08x\n", round, got,
                   got == value(phase, round - 1) ? (int)round - 1 : -1,
                   want);
            __atomic_store_n(&stale, 1, __ATOMIC_RELAXED);
        }
        __atomic_store_n(&ack, round, __ATOMIC_RELEASE);
        if (got != want) {
            break;
        }
    }
    return NULL;
}

/* Run one phase; return the number of rounds that passed. */
static uint32_t run(int phase)
{
    pthread_t thr;
    uint32_t round, done = 0;

    flag = ack = ready = 0;
    emit(target, value(phase, 0));
    emit(other, 0);
    spin_fn = phase ? other : target;
    if (pthread_create(&thr, NULL, reader, &phase) != 0) {
        perror("pthread_create");
        exit(2);
    }
    pin(0);
    while (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
        relax();
    }
    for (round = 1; round <= ROUNDS; round++) {
        /* one 32-bit store of the immediate, then publish the round */
        *(volatile uint32_t *)(target + 1) = value(phase, round);
        __atomic_store_n(&flag, round, __ATOMIC_RELEASE);
        while (__atomic_load_n(&ack, __ATOMIC_ACQUIRE) != round) {
            relax();
        }
        if (__atomic_load_n(&stale, __ATOMIC_RELAXED)) {
            break;
        }
        done = round;
    }
    pthread_join(thr, NULL);
    return done;
}

int main(void)
{
    static const char *const names[2] = { "cross", "same-page" };
    uint32_t h = QF_HASH_INIT, done;
    int phase;

    /* The output is the same on one CPU (no pinning) as on several. */
    ncpus = sysconf(_SC_NPROCESSORS_ONLN);
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    /* the immediate (target + 1) is 4-byte aligned */
    target = page + 0x100 - 1;
    other = page + 0x800;

    for (phase = 0; phase < 2; phase++) {
        done = run(phase);
        printf("%s: %u of %u rounds ok\n", names[phase], done, ROUNDS);
        h = qf_hash_u32(h, done);
        if (stale) {
            break;
        }
    }
    QF_CHECK(!stale, "stale code executed after CPUID");
    fflush(stdout);
    return qf_finish("xmc", h);
}
