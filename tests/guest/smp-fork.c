/*
 * smp-fork: fork and exec from a multi-threaded process while its other
 * threads write.
 *
 * NW threads on the other CPUs increment counters in private memory all
 * the time: lap c stores c into every word of the thread's page, in
 * order.  The main thread (CPU 0) forks FORKS times, every other time
 * from a thread it starts on the last CPU.  The child (single-threaded)
 *   - sees a consistent snapshot of every writer's page: a prefix of the
 *     stores of the lap in progress (words c..c, then c-1..c-1);
 *   - sees the snapshot unchanged after the parent saw every writer make
 *     two more laps (copy-on-write: the writers' stores stay in the
 *     parent), and sees its own region as it was at the fork after the
 *     parent rewrote it;
 *   - writes its own values over all of it, which the parent must never
 *     see (the parent's writer pages stay counts, its region its data);
 *   - execs its own binary (readlink /proc/self/exe) with arguments; the
 *     new image checks them and exits with a status derived from the
 *     fork number, which the parent checks.
 * At the end the writers stop and each page must hold its last lap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qftest.h"
#include "qfsmp.h"
#include "../lib/fullio.h"

#define PAGE 4096
#define NW 3                /* writer threads */
#define BW 256              /* words each writer stores per lap */
#define FORKS 40
#define REGION_WORDS 2048   /* the main thread's region: 2 pages */

#define JUNK 0xc0000000u    /* the child's values have these bits set */


/* ---- the writers ---- */

static volatile uint32_t *blk[NW];      /* a private page each */
static uint32_t laps[NW][16];           /* laps completed */
static uint32_t stop;

static void *writer(void *arg)
{
    int i = (intptr_t)arg;
    volatile uint32_t *b = blk[i];
    uint32_t c = 0, j;

    pin_worker(i);
    while (!load_acq(&stop)) {
        c++;
        for (j = 0; j < BW; j++) {
            b[j] = c;
        }
        store_rel(&laps[i][0], c);
        if (ncpus < NW + 1 && c % 16 == 0) {
            sched_yield();      /* writers sharing a CPU take turns */
        }
    }
    return NULL;
}

/*
 * A page of writer i read by a process where nothing writes it: a prefix
 * of the stores of one lap.  Returns 0 when right.
 */
static int snapshot_bad(const volatile uint32_t *b)
{
    uint32_t j, c = b[0];

    for (j = 1; j < BW; j++) {
        if (b[j] > b[j - 1] || b[j] + 1 < c) {
            return 1;
        }
    }
    return 0;
}

/*
 * The page read while its writer runs: read backwards, each word is at
 * least the one after it, and no value is the child's.  0 when right.
 */
static int live_bad(const volatile uint32_t *b)
{
    uint32_t j, prev = 0, v;

    for (j = BW; j-- > 0;) {
        v = b[j];
        if (v < prev || (v & JUNK)) {
            return 1;
        }
        prev = v;
    }
    return 0;
}

/* ---- forks ---- */

static uint32_t *region;
static char exe[256];

static uint32_t region_value(uint32_t f, uint32_t gen, uint32_t w)
{
    return ((f * 4 + gen) * 2654435761u ^ w * 0x9e3779b9u) & ~JUNK;
}

static void region_fill(uint32_t f, uint32_t gen)
{
    uint32_t w;

    for (w = 0; w < REGION_WORDS; w++) {
        region[w] = region_value(f, gen, w);
    }
}

static int region_is(uint32_t f, uint32_t gen)
{
    uint32_t w;

    for (w = 0; w < REGION_WORDS; w++) {
        if (region[w] != region_value(f, gen, w)) {
            return 0;
        }
    }
    return 1;
}

/* Child checks: bits of the mask it sends and passes to the new image. */
enum {
    C_REGION_AT_FORK = 1, C_SNAPSHOT = 2, C_SNAPSHOT_CHANGED = 4,
    C_REGION_CHANGED = 8, C_OWN_WRITES = 16, C_PIPE = 32,
};

static uint32_t snap[NW][BW];

/* After a fork of a multi-threaded process: nothing that takes locks. */
static void utoa(char *s, uint32_t v)
{
    char tmp[12];
    int n = 0;

    do {
        tmp[n++] = '0' + v % 10;
        v /= 10;
    } while (v);
    while (n) {
        *s++ = tmp[--n];
    }
    *s = 0;
}

static void child(uint32_t f, int in, int out)
{
    uint32_t bad = 0, msg, i, j;
    char farg[16], barg[16];
    char *argv[] = { exe, "exec-child", farg, barg, NULL };
    char *envp[] = { NULL };

    if (!region_is(f, 0)) {
        bad |= C_REGION_AT_FORK;
    }
    for (i = 0; i < NW; i++) {
        for (j = 0; j < BW; j++) {
            snap[i][j] = blk[i][j];
        }
        if (snapshot_bad(blk[i])) {
            bad |= C_SNAPSHOT;
        }
    }
    msg = bad;
    if (write_full(out, &msg, 4) != 0 || read_full(in, &msg, 4) != 0) {
        _exit(100 + C_PIPE);
    }
    /* the parent's writers made two more laps and it rewrote its region */
    for (i = 0; i < NW; i++) {
        for (j = 0; j < BW; j++) {
            if (blk[i][j] != snap[i][j]) {
                bad |= C_SNAPSHOT_CHANGED;
            }
        }
    }
    if (!region_is(f, 0)) {
        bad |= C_REGION_CHANGED;
    }
    for (i = 0; i < NW; i++) {
        for (j = 0; j < BW; j++) {
            blk[i][j] = JUNK | f << 16 | j;
        }
    }
    for (j = 0; j < REGION_WORDS; j++) {
        region[j] = JUNK | j;
    }
    for (i = 0; i < NW; i++) {
        for (j = 0; j < BW; j++) {
            if (blk[i][j] != (JUNK | f << 16 | j)) {
                bad |= C_OWN_WRITES;
            }
        }
    }
    msg = bad;
    if (write_full(out, &msg, 4) != 0 || read_full(in, &msg, 4) != 0) {
        _exit(100 + C_PIPE);
    }
    utoa(farg, f);
    utoa(barg, bad);
    execve(exe, argv, envp);
    _exit(99);
}

/* The exec'd image: exit 10 + f % 100 when the child found nothing. */
static int exec_child(char **argv)
{
    uint32_t f = strtoul(argv[2], NULL, 10);
    uint32_t bad = strtoul(argv[3], NULL, 10);

    if (bad) {
        return 100 + (bad & 63);
    }
    return 10 + f % 100;
}

struct fork_result {
    uint32_t f;
    uint32_t child_bad;     /* bits from the child's messages */
    uint32_t parent_bad;
    int status;
};

static void *fork_round(void *arg)
{
    struct fork_result *res = arg;
    int to_child[2], to_parent[2];
    uint32_t f = res->f, msg, seen[NW], i;
    pid_t pid;

    res->child_bad = res->parent_bad = 0;
    res->status = -1;
    region_fill(f, 0);
    if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
        res->parent_bad |= 1;
        return NULL;
    }
    pid = fork();
    if (pid < 0) {
        res->parent_bad |= 2;
        return NULL;
    }
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        child(f, to_child[0], to_parent[1]);
    }
    close(to_child[0]);
    close(to_parent[1]);
    if (read_full(to_parent[0], &msg, 4) != 0) {
        res->parent_bad |= 4;
        msg = 0;
    }
    res->child_bad |= msg;
    /* every writer makes two more laps; the region changes */
    for (i = 0; i < NW; i++) {
        seen[i] = load_acq(&laps[i][0]);
    }
    for (i = 0; i < NW; i++) {
        WAIT_UNTIL(load_acq(&laps[i][0]) >= seen[i] + 2);
    }
    region_fill(f, 1);
    if (write_full(to_child[1], &msg, 4) != 0 ||
        read_full(to_parent[0], &msg, 4) != 0) {
        res->parent_bad |= 8;
        msg = 0;
    }
    res->child_bad |= msg;
    /* the child's writes are its own */
    if (!region_is(f, 1)) {
        res->parent_bad |= 16;
    }
    for (i = 0; i < NW; i++) {
        if (live_bad(blk[i])) {
            res->parent_bad |= 32;
        }
    }
    if (write_full(to_child[1], &msg, 4) != 0) {
        res->parent_bad |= 64;
    }
    close(to_child[1]);
    close(to_parent[0]);
    if (waitpid(pid, &res->status, 0) != pid) {
        res->parent_bad |= 128;
    }
    return NULL;
}

static void *fork_thread(void *arg)
{
    pin(ncpus - 1);
    return fork_round(arg);
}

int main(int argc, char **argv)
{
    pthread_t thr[NW], forker;
    struct fork_result res;
    uint32_t h = QF_HASH_INIT, f, i, j, last, bad = 0, threads = 0;
    ssize_t n;

    if (argc == 4 && strcmp(argv[1], "exec-child") == 0) {
        return exec_child(argv);
    }
    ncpus = sysconf(_SC_NPROCESSORS_ONLN);
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        printf("FAIL: readlink /proc/self/exe\n");
        return 2;
    }
    exe[n] = 0;
    region = mmap(NULL, REGION_WORDS * 4, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
        printf("FAIL: mmap\n");
        return 2;
    }
    for (i = 0; i < NW; i++) {
        blk[i] = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (blk[i] == MAP_FAILED) {
            printf("FAIL: mmap\n");
            return 2;
        }
    }
    fflush(stdout);     /* nothing buffered to duplicate in the children */
    pin(0);
    for (i = 0; i < NW; i++) {
        if (pthread_create(&thr[i], NULL, writer, (void *)(intptr_t)i)) {
            printf("FAIL: pthread_create\n");
            return 2;
        }
    }
    for (f = 0; f < FORKS; f++) {
        res.f = f;
        if (f & 1) {
            /* from a thread on another CPU: the last one */
            if (pthread_create(&forker, NULL, fork_thread, &res) != 0) {
                printf("FAIL: pthread_create\n");
                return 2;
            }
            pthread_join(forker, NULL);
            threads++;
        } else {
            fork_round(&res);
        }
        if (res.child_bad || res.parent_bad || !WIFEXITED(res.status) ||
            WEXITSTATUS(res.status) != 10 + f % 100) {
            if (bad++ == 0) {
                qf_fail("fork %u: child found %#x, parent found %#x, exit "
                        "status %#x (want exit %u)", f, res.child_bad,
                        res.parent_bad, res.status, 10 + f % 100);
            }
        }
        h = qf_hash_u32(h, WIFEXITED(res.status) ? WEXITSTATUS(res.status)
                                                 : 1000);
    }
    store_rel(&stop, 1);
    for (i = 0; i < NW; i++) {
        pthread_join(thr[i], NULL);
        last = laps[i][0];
        for (j = 0; j < BW; j++) {
            if (blk[i][j] != last) {
                bad++;
                qf_fail("writer %u: word %u holds %08x after lap %u", i, j,
                        blk[i][j], last);
                break;
            }
        }
    }
    QF_CHECK(bad == 0, "%u forks or pages wrong", bad);
    printf("fork: %d forks (%u from a second thread) while %d threads "
           "wrote, children exec'd, exit statuses %08x\n", FORKS, threads,
           NW, h);
    return qf_finish("smp-fork", h);
}
