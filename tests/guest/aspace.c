/*
 * aspace: address spaces that change while their process is switched
 * out, and processes that share virtual addresses but not memory.
 *
 * - cow: fork, then parent and child write the same pages in turns; each
 *   sees only its own data, and after the child is gone the parent's
 *   copy-on-write pages are writable and right;
 * - remote: the parent writes into and reads from a child blocked on a
 *   pipe (process_vm_writev/readv), into pages the child shares with it
 *   copy-on-write, owns or has never touched; the child checks the data;
 * - mprotect: mprotect, munmap, mmap and mremap in one process, each
 *   followed by a switch to a second process with the same addresses,
 *   then the fault or the data the call implies;
 * - madvise: MADV_DONTNEED empties private anonymous pages (they read
 *   as zero, the other process's copy stays) and keeps the data of a
 *   mapping shared by both;
 * - resident: a ping-pong between two processes that each keep a few MiB
 *   at the same addresses and check all of it after every switch.
 *
 * Every case runs hundreds to thousands of rounds and checks the values
 * it expects; the output holds only counts and hashes of those values.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qftest.h"
#include "../lib/fullio.h"

#define PAGE 4096
#define PAGE_WORDS (PAGE / 4)

#define COW_PAGES 16        /* pages both processes write */
#define COW_FORKS 150
#define COW_TURNS 8         /* writes in turn per fork */

#define RM_PAGES 40         /* pages of each kind the parent writes into */
#define RM_FORKS 12         /* one child per RM_PAGES rounds */

#define MP_PAGES 8          /* the region mprotect & co. work on */
#define MP_ROUNDS 200

#define MA_PAGES 16
#define MA_ZAP 4            /* pages emptied per MADV_DONTNEED */
#define MA_FORKS 25
#define MA_ROUNDS 12        /* rounds per fork */

#define RS_MIB 3            /* resident in each process */
#define RS_SWITCHES 400

/* ---- processes and the pipes between them ---- */

/*
 * A message on the pipes: a turn handed over, the end of a case, or (to
 * a child that runs in a user-mode emulator, see remote_init) a store or
 * load the child does for its parent.
 */
enum { MSG_TURN, MSG_DONE, MSG_STORE, MSG_LOAD };

struct msg {
    uint32_t op;
    uint32_t val;       /* MSG_TURN: the turn; MSG_STORE/LOAD: length */
    uint32_t addr;      /* MSG_STORE/LOAD */
};

struct peer {
    pid_t pid;
    int in, out;        /* read from / write to the other process */
};

/* In a child, a broken pipe ends it with this status: the parent fails. */
#define CHILD_PIPE_ERROR 99

static void send_msg(struct peer *p, uint32_t op, uint32_t val)
{
    struct msg m = { op, val, 0 };

    if (write_full(p->out, &m, sizeof(m)) != 0) {
        if (p->pid == 0) {
            _exit(CHILD_PIPE_ERROR);
        }
        qf_fail("write to the child failed");
    }
}

/*
 * The next turn or MSG_DONE (returned as -1); stores and loads asked for
 * on the way are done here.  In the parent a broken pipe fails the case
 * and returns -1 too.
 */
static int64_t recv_turn(struct peer *p)
{
    uint8_t data[64];
    struct msg m;

    for (;;) {
        if (read_full(p->in, &m, sizeof(m)) != 0) {
            if (p->pid == 0) {
                _exit(CHILD_PIPE_ERROR);
            }
            qf_fail("the child stopped answering");
            return -1;
        }
        switch (m.op) {
        case MSG_TURN:
            return m.val;
        case MSG_DONE:
            return -1;
        case MSG_STORE:
            if (m.val > sizeof(data) || read_full(p->in, data, m.val) != 0) {
                _exit(CHILD_PIPE_ERROR);
            }
            memcpy((void *)(uintptr_t)m.addr, data, m.val);
            break;
        case MSG_LOAD:
            if (m.val > sizeof(data)) {
                _exit(CHILD_PIPE_ERROR);
            }
            memcpy(data, (void *)(uintptr_t)m.addr, m.val);
            if (write_full(p->out, data, m.val) != 0) {
                _exit(CHILD_PIPE_ERROR);
            }
            break;
        default:
            _exit(CHILD_PIPE_ERROR);
        }
    }
}

/* Hand the turn over and wait until it comes back. */
static void pass_turn(struct peer *p, uint32_t turn)
{
    send_msg(p, MSG_TURN, turn);
    if (recv_turn(p) != (int64_t)turn + 1) {
        qf_fail("the child did not hand turn %u back", turn);
    }
}

/*
 * Fork a child that runs fn(peer, arg) and exits with its result (0 when
 * it found nothing wrong).  In the parent, *p then talks to the child.
 */
static int start_child(struct peer *p, int (*fn)(struct peer *, void *),
                       void *arg)
{
    int to_child[2], to_parent[2];

    if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
        qf_fail("pipe");
        return -1;
    }
    fflush(stdout);   /* do not duplicate buffered output in the child */
    p->pid = fork();
    if (p->pid < 0) {
        qf_fail("fork");
        return -1;
    }
    if (p->pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        p->in = to_child[0];
        p->out = to_parent[1];
        _exit(fn(p, arg));
    }
    close(to_child[0]);
    close(to_parent[1]);
    p->in = to_parent[0];
    p->out = to_child[1];
    return 0;
}

/*
 * Tell the child the case is over, read the word it sends back then
 * when @result is not NULL, and collect its exit status.
 */
static void finish_child(struct peer *p, const char *what, uint32_t *result)
{
    int status;

    send_msg(p, MSG_DONE, 0);
    if (result && read_full(p->in, result, sizeof(*result)) != 0) {
        qf_fail("%s: no result from the child", what);
    }
    close(p->out);
    close(p->in);
    if (waitpid(p->pid, &status, 0) != p->pid) {
        qf_fail("%s: waitpid", what);
        return;
    }
    QF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "%s: the child found errors or died (status %#x)", what, status);
}

static uint8_t *map_anon(size_t pages, int shared)
{
    uint8_t *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
                      (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS,
                      -1, 0);

    if (p == MAP_FAILED) {
        qf_fail("mmap of %zu pages", pages);
        return NULL;
    }
    return p;
}

/* A value for word w of page i in version v; never 0. */
static uint32_t value(uint32_t v, uint32_t i, uint32_t w)
{
    return ((v * 0x01000193u + i) * 2654435761u ^ w * 0x9e3779b9u) | 1;
}

/* Words of a page that the cases write: spread over the page. */
static const uint32_t page_words[] = { 0, 257, 514, PAGE_WORDS - 1 };
#define NWORDS (sizeof(page_words) / sizeof(page_words[0]))

static void write_page(uint8_t *base, uint32_t i, uint32_t v)
{
    volatile uint32_t *p = (uint32_t *)(base + (size_t)i * PAGE);
    size_t w;

    for (w = 0; w < NWORDS; w++) {
        p[page_words[w]] = value(v, i, w);
    }
}

/* Does page i hold version v (or zeros when v is 0)? */
static int page_is(const uint8_t *base, uint32_t i, uint32_t v)
{
    const volatile uint32_t *p = (const uint32_t *)(base + (size_t)i * PAGE);
    size_t w;

    for (w = 0; w < NWORDS; w++) {
        if (p[page_words[w]] != (v ? value(v, i, w) : 0)) {
            return 0;
        }
    }
    return 1;
}

/* ---- faults ---- */

static sigjmp_buf fault_jmp;
static volatile int fault_code;
static void *volatile fault_addr;
static volatile int probing;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (!probing) {
        /* Not a probe: the fault kills the program when it comes again. */
        signal(SIGSEGV, SIG_DFL);
        return;
    }
    probing = 0;
    fault_code = sig == SIGSEGV ? si->si_code : -1;
    fault_addr = si->si_addr;
    siglongjmp(fault_jmp, 1);
}

static void catch_segv(int on)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    if (on) {
        sa.sa_sigaction = segv_handler;
        sa.sa_flags = SA_SIGINFO;
    } else {
        sa.sa_handler = SIG_DFL;
    }
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0) {
        qf_fail("sigaction");
    }
}

/*
 * Load (store when @store) the word at @p; *val is the value loaded or
 * stored.  Returns the si_code of the SIGSEGV it raised, 0 if none.
 */
static int probe(uint32_t *p, int store, uint32_t *val)
{
    fault_code = 0;
    fault_addr = NULL;
    if (sigsetjmp(fault_jmp, 1) == 0) {
        probing = 1;
        if (store) {
            *(volatile uint32_t *)p = *val;
        } else {
            *val = *(volatile uint32_t *)p;
        }
        probing = 0;
        return 0;
    }
    if (fault_addr != p) {
        qf_fail("fault address is not the accessed one");
    }
    return fault_code;
}

/* ---- cow ---- */

/*
 * Both processes write pages in turns.  The child writes every page; the
 * parent only the pages of its half (the other half it keeps sharing
 * with the child until the child is gone).  Versions: the parent writes
 * odd ones, the child even ones, all different from the pre-fork one.
 */
struct cow {
    uint8_t *pages;
    uint32_t fork;
    uint32_t prefork;   /* the version all pages held at the fork */
    uint32_t hash;
};

static uint32_t cow_version(uint32_t fork, uint32_t turn, int child)
{
    return 1000000 + fork * 100 + turn * 2 + child;
}

static int cow_parent_writes(uint32_t fork, uint32_t i)
{
    return (i < COW_PAGES / 2) ^ (fork & 1);
}

static int cow_child(struct peer *p, void *arg)
{
    struct cow *c = arg;
    uint32_t i, mine = c->prefork;
    int64_t turn;
    int bad = 0;

    while ((turn = recv_turn(p)) >= 0) {
        for (i = 0; i < COW_PAGES; i++) {
            bad += !page_is(c->pages, i, mine);
        }
        mine = cow_version(c->fork, turn, 1);
        for (i = 0; i < COW_PAGES; i++) {
            write_page(c->pages, i, mine);
        }
        send_msg(p, MSG_TURN, turn + 1);
    }
    return bad != 0;
}

/* Does every page of the parent hold what the parent expects? */
static int cow_check_parent(struct cow *c, uint32_t mine)
{
    uint32_t i;
    int bad = 0;

    for (i = 0; i < COW_PAGES; i++) {
        uint32_t v = cow_parent_writes(c->fork, i) ? mine : c->prefork;

        bad += !page_is(c->pages, i, v);
        c->hash = qf_hash(c->hash, c->pages + (size_t)i * PAGE, 4);
    }
    return bad;
}

static uint32_t test_cow(uint32_t h)
{
    struct cow c = { .hash = QF_HASH_INIT };
    uint32_t i, f, t, mine;
    struct peer p;
    int bad = 0, bad_after = 0;

    c.pages = map_anon(COW_PAGES, 0);
    if (!c.pages) {
        return h;
    }
    for (f = 0; f < COW_FORKS; f++) {
        c.fork = f;
        c.prefork = mine = cow_version(f, 0, 0) + 99;
        for (i = 0; i < COW_PAGES; i++) {
            write_page(c.pages, i, c.prefork);
        }
        if (start_child(&p, cow_child, &c) != 0) {
            return h;
        }
        /* Who writes first alternates from fork to fork. */
        for (t = f & 1; t < COW_TURNS + (f & 1); t++) {
            if (t & 1) {
                pass_turn(&p, t);
            } else {
                mine = cow_version(f, t, 0);
                for (i = 0; i < COW_PAGES; i++) {
                    if (cow_parent_writes(f, i)) {
                        write_page(c.pages, i, mine);
                    }
                }
            }
            bad += cow_check_parent(&c, mine);
        }
        finish_child(&p, "cow", NULL);
        /* Alone again: every page writable, the shared half too. */
        bad_after += cow_check_parent(&c, mine);
        mine = cow_version(f, COW_TURNS, 0) + 1;
        for (i = 0; i < COW_PAGES; i++) {
            write_page(c.pages, i, mine);
        }
        for (i = 0; i < COW_PAGES; i++) {
            bad_after += !page_is(c.pages, i, mine);
        }
    }
    munmap(c.pages, COW_PAGES * PAGE);
    QF_CHECK(bad == 0, "cow: %d pages of the parent wrong while the child ran",
             bad);
    QF_CHECK(bad_after == 0, "cow: %d pages wrong after the child exited",
             bad_after);
    printf("cow: %d forks, %d turns each, parent saw %08x\n", COW_FORKS,
           COW_TURNS, c.hash);
    return qf_hash_u32(h, c.hash);
}

/* ---- remote ---- */

/*
 * How the parent reaches into a child: process_vm_writev/readv; the
 * child's /proc/PID/mem when the kernel lacks those; and in a user-mode
 * emulator (qemu-i386 implements neither them nor ptrace, and its
 * /proc/PID/mem addresses the emulator, not the guest) the child does
 * the stores and loads itself when it is woken, which keeps the output
 * the same.  A kernel always has ptrace: ENOSYS from it means an
 * emulator.
 */
enum { REMOTE_VM, REMOTE_MEM, REMOTE_RELAY };

static int remote_mode;
static int remote_fd = -1;

/* Returns 0, or -1 when no way works (the case fails). */
static int remote_init(struct peer *p, void *addr)
{
    struct iovec local, remote;
    uint32_t v;
    char path[32];

    remote_fd = -1;
    local.iov_base = &v;
    local.iov_len = sizeof(v);
    remote.iov_base = addr;
    remote.iov_len = sizeof(v);
    if (process_vm_readv(p->pid, &local, 1, &remote, 1, 0) == sizeof(v)) {
        remote_mode = REMOTE_VM;
        return 0;
    }
    if (errno != ENOSYS) {
        qf_fail("remote: process_vm_readv: %s", strerror(errno));
        return -1;
    }
    if (ptrace(PTRACE_PEEKDATA, getpid(), NULL, NULL) == -1 &&
        errno == ENOSYS) {
        remote_mode = REMOTE_RELAY;
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)p->pid);
    remote_fd = open(path, O_RDWR);
    if (remote_fd < 0) {
        qf_fail("remote: no process_vm_readv, and %s: %s", path,
                strerror(errno));
        return -1;
    }
    remote_mode = REMOTE_MEM;
    return 0;
}

static void remote_done(void)
{
    if (remote_fd >= 0) {
        close(remote_fd);
        remote_fd = -1;
    }
}

/* Copy len bytes between buf and the child's addr; 0 on success. */
static int remote_copy(struct peer *p, void *addr, void *buf, size_t len,
                       int store)
{
    struct iovec local = { buf, len }, remote = { addr, len };
    struct msg m = { store ? MSG_STORE : MSG_LOAD, len,
                     (uint32_t)(uintptr_t)addr };
    ssize_t n = -1;

    switch (remote_mode) {
    case REMOTE_VM:
        n = store ? process_vm_writev(p->pid, &local, 1, &remote, 1, 0)
                  : process_vm_readv(p->pid, &local, 1, &remote, 1, 0);
        break;
    case REMOTE_MEM:
        n = store ? pwrite(remote_fd, buf, len, (off_t)(uintptr_t)addr)
                  : pread(remote_fd, buf, len, (off_t)(uintptr_t)addr);
        break;
    case REMOTE_RELAY:
        if (write_full(p->out, &m, sizeof(m)) == 0 &&
            (store ? write_full(p->out, buf, len)
                   : read_full(p->in, buf, len)) == 0) {
            n = len;
        }
        break;
    }
    return n == (ssize_t)len ? 0 : -1;
}

/*
 * Three kinds of pages in the child: shared[] it has read, so that it
 * maps the parent's frames until a store breaks the sharing; owned[] it
 * has written (its own frames); fresh[] nobody has touched.  In round k
 * the parent stores a record into page k of each, the child checks them
 * and stores a reply next to the record in shared[k], the parent loads
 * it and the record back.
 */
struct remote {
    uint8_t *shared, *owned, *fresh;
    uint32_t fork;
};

#define RM_REC_WORDS 4
#define RM_REPLY_OFF 2064   /* after page_words[2] */

static uint32_t rm_off(uint32_t k)
{
    return 16 + (k % 56) * 16;      /* between page_words[0] and [1] */
}

static void rm_record(uint32_t *rec, uint32_t fork, uint32_t k,
                      uint32_t kind)
{
    uint32_t w;

    for (w = 0; w < RM_REC_WORDS; w++) {
        rec[w] = value(fork * 1000 + k * 4 + kind, k, 10 + w);
    }
}

static int rm_has(const uint8_t *page, uint32_t off, const uint32_t *rec)
{
    return memcmp(page + off, rec, RM_REC_WORDS * 4) == 0;
}

/* Version of the shared and owned pages: before the fork, and after. */
#define RM_PREFORK(f) (2000000 + (f) * 2)
#define RM_OWNED(f) (2000001 + (f) * 2)

static int remote_child(struct peer *p, void *arg)
{
    struct remote *r = arg;
    uint32_t rec[RM_REC_WORDS], reply[RM_REC_WORDS], i, k;
    int64_t turn;
    int bad = 0;

    for (i = 0; i < RM_PAGES; i++) {
        bad += !page_is(r->shared, i, RM_PREFORK(r->fork));
        write_page(r->owned, i, RM_OWNED(r->fork));
    }
    send_msg(p, MSG_TURN, 0);
    while ((turn = recv_turn(p)) >= 0) {
        k = turn;
        if (k >= RM_PAGES) {
            return 1;
        }
        rm_record(rec, r->fork, k, 0);
        bad += !rm_has(r->shared + k * PAGE, rm_off(k), rec);
        bad += !page_is(r->shared, k, RM_PREFORK(r->fork));
        rm_record(rec, r->fork, k, 1);
        bad += !rm_has(r->owned + k * PAGE, rm_off(k), rec);
        bad += !page_is(r->owned, k, RM_OWNED(r->fork));
        rm_record(rec, r->fork, k, 2);
        bad += !rm_has(r->fresh + k * PAGE, rm_off(k), rec);
        bad += !page_is(r->fresh, k, 0);
        rm_record(reply, r->fork, k, 3);
        memcpy(r->shared + k * PAGE + RM_REPLY_OFF, reply, sizeof(reply));
        send_msg(p, MSG_TURN, turn + 1);
    }
    /* Every record is still where it was stored. */
    for (k = 0; k < RM_PAGES; k++) {
        rm_record(rec, r->fork, k, 0);
        bad += !rm_has(r->shared + k * PAGE, rm_off(k), rec);
        rm_record(rec, r->fork, k, 1);
        bad += !rm_has(r->owned + k * PAGE, rm_off(k), rec);
        rm_record(rec, r->fork, k, 2);
        bad += !rm_has(r->fresh + k * PAGE, rm_off(k), rec);
    }
    return bad != 0;
}

static uint32_t test_remote(uint32_t h)
{
    uint32_t rec[RM_REC_WORDS], got[RM_REC_WORDS], i, k, f;
    uint32_t hash = QF_HASH_INIT;
    uint8_t *kinds[3];
    struct remote r;
    struct peer p;
    int bad = 0, failed = 0, rounds = 0;

    r.shared = map_anon(RM_PAGES, 0);
    r.owned = map_anon(RM_PAGES, 0);
    kinds[0] = r.shared;
    kinds[1] = r.owned;
    if (!r.shared || !r.owned) {
        return h;
    }
    for (f = 0; f < RM_FORKS && !failed; f++) {
        r.fork = f;
        r.fresh = map_anon(RM_PAGES, 0);
        if (!r.fresh) {
            return h;
        }
        kinds[2] = r.fresh;
        for (i = 0; i < RM_PAGES; i++) {
            write_page(r.shared, i, RM_PREFORK(f));
            write_page(r.owned, i, RM_PREFORK(f));
        }
        if (start_child(&p, remote_child, &r) != 0) {
            return h;
        }
        /* The child has read and written its pages and waits. */
        if (recv_turn(&p) != 0 || remote_init(&p, r.shared) != 0) {
            failed = 1;
        }
        for (k = 0; k < RM_PAGES && !failed; k++) {
            for (i = 0; i < 3; i++) {
                rm_record(rec, f, k, i);
                if (remote_copy(&p, kinds[i] + k * PAGE + rm_off(k), rec,
                                sizeof(rec), 1) != 0) {
                    qf_fail("remote: store into the child: %s",
                            strerror(errno));
                    failed = 1;
                }
            }
            pass_turn(&p, k);
            rm_record(rec, f, k, 3);
            memset(got, 0, sizeof(got));
            if (remote_copy(&p, r.shared + k * PAGE + RM_REPLY_OFF, got,
                            sizeof(got), 0) != 0) {
                qf_fail("remote: load from the child: %s", strerror(errno));
                failed = 1;
            }
            bad += memcmp(got, rec, sizeof(rec)) != 0;
            hash = qf_hash(hash, got, sizeof(got));
            rm_record(rec, f, k, 2);
            memset(got, 0, sizeof(got));
            if (remote_copy(&p, r.fresh + k * PAGE + rm_off(k), got,
                            sizeof(got), 0) != 0) {
                failed = 1;
            }
            bad += memcmp(got, rec, sizeof(rec)) != 0;
            hash = qf_hash(hash, got, sizeof(got));
            rounds++;
        }
        finish_child(&p, "remote", NULL);
        remote_done();
        /* The stores went into the child's memory, not the parent's. */
        for (i = 0; i < RM_PAGES; i++) {
            bad += !page_is(r.shared, i, RM_PREFORK(f));
            bad += !page_is(r.owned, i, RM_PREFORK(f));
            bad += !page_is(r.fresh, i, 0);
            bad += *(uint32_t *)(r.shared + i * PAGE + rm_off(i)) != 0;
            bad += *(uint32_t *)(r.fresh + i * PAGE + rm_off(i)) != 0;
        }
        munmap(r.fresh, RM_PAGES * PAGE);
    }
    munmap(r.shared, RM_PAGES * PAGE);
    munmap(r.owned, RM_PAGES * PAGE);
    QF_CHECK(bad == 0, "remote: %d values wrong", bad);
    printf("remote: %d rounds of stores into and loads from a blocked "
           "child, loaded %08x\n", rounds, hash);
    return qf_hash_u32(h, hash);
}

/* ---- mprotect, munmap, mremap ---- */

/*
 * The parent changes its mappings of a region; the child has the same
 * region at the same addresses and checks and rewrites its copy on
 * every turn.  want[i] is the version page i holds in the parent (0:
 * zeros), state[i] whether it can be read.
 */
enum { MP_RW, MP_RO, MP_NONE, MP_GONE };

struct mprot {
    uint8_t *base;
    uint8_t *spare;     /* one page the region's pages move to and back */
    uint32_t want[MP_PAGES];
    int state[MP_PAGES];
    uint32_t turn;
    uint32_t hash;
    int bad;
    struct peer *peer;
};

static int mprot_child(struct peer *p, void *arg)
{
    struct mprot *m = arg;
    uint32_t i, mine = 0;
    int64_t turn;
    int bad = 0;

    while ((turn = recv_turn(p)) >= 0) {
        for (i = 0; i < MP_PAGES; i++) {
            bad += !page_is(m->base, i, mine ? mine : m->want[i]);
        }
        mine = 3000000 + turn;
        for (i = 0; i < MP_PAGES; i++) {
            write_page(m->base, i, mine);
        }
        send_msg(p, MSG_TURN, turn + 1);
    }
    return bad != 0;
}

/* A switch to the child and back, then every readable page is checked. */
static void mp_switch(struct mprot *m)
{
    uint32_t i;

    pass_turn(m->peer, m->turn++);
    for (i = 0; i < MP_PAGES; i++) {
        if (m->state[i] == MP_RW || m->state[i] == MP_RO) {
            m->bad += !page_is(m->base, i, m->want[i]);
        }
    }
}

/* Access word 0 of @page; it must fault with @code (0: must not). */
static void mp_expect(struct mprot *m, uint8_t *page, int store,
                      uint32_t val, int code, const char *what)
{
    uint32_t v = val;
    int got = probe((uint32_t *)page, store, &v);

    if (got != code) {
        qf_fail("mprotect: %s: si_code %d, expected %d (turn %u)", what, got,
                code, m->turn);
    } else if (!code && v != val) {
        qf_fail("mprotect: %s: read %08x, expected %08x (turn %u)", what, v,
                val, m->turn);
    }
    m->hash = qf_hash_u32(m->hash, got);
    m->hash = qf_hash_u32(m->hash, got ? 0 : v);
}

static uint8_t *mp_page(struct mprot *m, uint32_t i)
{
    return m->base + (size_t)i * PAGE;
}

static void mp_rewrite(struct mprot *m, uint32_t i, uint32_t v)
{
    m->want[i] = v;
    write_page(m->base, i, v);
}

static int mp_call(int ret, const char *what)
{
    if (ret != 0) {
        qf_fail("mprotect: %s: %s", what, strerror(errno));
    }
    return ret;
}

static void mprot_round(struct mprot *m, uint32_t r)
{
    uint32_t a = r % MP_PAGES, b = (r + 3) % MP_PAGES, c = (r + 5) % MP_PAGES;
    uint32_t va = 3500000 + r * 4;
    void *q;

    /* Read-only: loads work, stores fault, the data stays. */
    mp_call(mprotect(mp_page(m, a), PAGE, PROT_READ), "PROT_READ");
    m->state[a] = MP_RO;
    mp_switch(m);
    mp_expect(m, mp_page(m, a), 0, value(m->want[a], a, 0), 0,
              "load from a read-only page");
    mp_expect(m, mp_page(m, a), 1, 0x5a5a5a5a, SEGV_ACCERR,
              "store to a read-only page");
    m->bad += !page_is(m->base, a, m->want[a]);

    /* No access at all. */
    mp_call(mprotect(mp_page(m, a), PAGE, PROT_NONE), "PROT_NONE");
    m->state[a] = MP_NONE;
    mp_switch(m);
    mp_expect(m, mp_page(m, a), 0, 0, SEGV_ACCERR,
              "load from a PROT_NONE page");

    /* Writable again, with the old data. */
    mp_call(mprotect(mp_page(m, a), PAGE, PROT_READ | PROT_WRITE),
            "PROT_READ|PROT_WRITE");
    m->state[a] = MP_RW;
    mp_switch(m);
    mp_expect(m, mp_page(m, a), 1, value(va, a, 0), 0,
              "store after PROT_READ|PROT_WRITE");
    mp_rewrite(m, a, va);

    /* Unmapped, then mapped anew: zeros. */
    mp_call(munmap(mp_page(m, b), PAGE), "munmap");
    m->state[b] = MP_GONE;
    mp_switch(m);
    mp_expect(m, mp_page(m, b), 0, 0, SEGV_MAPERR, "load from an unmapped page");
    if (mmap(mp_page(m, b), PAGE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
        qf_fail("mprotect: mmap MAP_FIXED: %s", strerror(errno));
        return;
    }
    m->state[b] = MP_RW;
    m->want[b] = 0;
    mp_switch(m);
    mp_expect(m, mp_page(m, b), 0, 0, 0, "load from a new page");
    mp_rewrite(m, b, va + 1);

    /* Page c moves to the spare page and back. */
    q = mremap(mp_page(m, c), PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
               m->spare);
    if (q != m->spare) {
        qf_fail("mprotect: mremap away: %s", strerror(errno));
        return;
    }
    m->state[c] = MP_GONE;
    mp_switch(m);
    mp_expect(m, m->spare, 0, value(m->want[c], c, 0), 0,
              "load from a moved page");
    mp_expect(m, mp_page(m, c), 0, 0, SEGV_MAPERR,
              "load from where a page moved away");
    q = mremap(m->spare, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
               mp_page(m, c));
    if (q != mp_page(m, c)) {
        qf_fail("mprotect: mremap back: %s", strerror(errno));
        return;
    }
    m->state[c] = MP_RW;
    mp_switch(m);
    mp_expect(m, m->spare, 0, 0, SEGV_MAPERR,
              "load from where a page moved back from");
    mp_expect(m, mp_page(m, c), 1, value(va + 2, c, 0), 0,
              "store to a page moved back");
    mp_rewrite(m, c, va + 2);
    if (mmap(m->spare, PAGE, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
        qf_fail("mprotect: mmap of the spare page: %s", strerror(errno));
        return;
    }

    /*
     * Every fourth round the region shrinks by two pages and grows back
     * (from its third last page: growing in place needs a range in one
     * mapping, and the calls above leave the region in several).
     */
    if (r % 4 == 3) {
        if (mremap(mp_page(m, MP_PAGES - 3), 3 * PAGE, PAGE, 0) !=
            mp_page(m, MP_PAGES - 3)) {
            qf_fail("mprotect: mremap shrink: %s", strerror(errno));
            return;
        }
        m->state[MP_PAGES - 2] = m->state[MP_PAGES - 1] = MP_GONE;
        mp_switch(m);
        mp_expect(m, mp_page(m, MP_PAGES - 1), 0, 0, SEGV_MAPERR,
                  "load past a shrunk region");
        mp_expect(m, mp_page(m, MP_PAGES - 3), 0,
                  value(m->want[MP_PAGES - 3], MP_PAGES - 3, 0), 0,
                  "load from a shrunk region");
        /*
         * A kernel grows the mapping in place, qemu-i386 (whose guest
         * space is one reserved host mapping) only by moving it: then
         * it moves back.
         */
        q = mremap(mp_page(m, MP_PAGES - 3), PAGE, 3 * PAGE, MREMAP_MAYMOVE);
        if (q != MAP_FAILED && q != mp_page(m, MP_PAGES - 3)) {
            q = mremap(q, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
                       mp_page(m, MP_PAGES - 3));
        }
        if (q != mp_page(m, MP_PAGES - 3)) {
            qf_fail("mprotect: mremap grow: %s", strerror(errno));
            return;
        }
        m->state[MP_PAGES - 2] = m->state[MP_PAGES - 1] = MP_RW;
        m->want[MP_PAGES - 2] = m->want[MP_PAGES - 1] = 0;
        mp_switch(m);
        mp_rewrite(m, MP_PAGES - 2, va + 3);
        mp_rewrite(m, MP_PAGES - 1, va + 3);
    }
}

static uint32_t test_mprotect(uint32_t h)
{
    struct mprot m;
    struct peer p;
    uint32_t i, r;

    memset(&m, 0, sizeof(m));
    m.hash = QF_HASH_INIT;
    m.peer = &p;
    m.base = map_anon(MP_PAGES, 0);
    m.spare = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!m.base || m.spare == MAP_FAILED) {
        qf_fail("mprotect: mmap");
        return h;
    }
    for (i = 0; i < MP_PAGES; i++) {
        mp_rewrite(&m, i, 3400000 + i);
        m.state[i] = MP_RW;
    }
    catch_segv(1);
    if (start_child(&p, mprot_child, &m) != 0) {
        return h;
    }
    for (r = 0; r < MP_ROUNDS && qf_failures < 10; r++) {
        mprot_round(&m, r);
    }
    finish_child(&p, "mprotect", NULL);
    catch_segv(0);
    for (i = 0; i < MP_PAGES; i++) {
        m.bad += !page_is(m.base, i, m.want[i]);
    }
    munmap(m.base, MP_PAGES * PAGE);
    munmap(m.spare, PAGE);
    QF_CHECK(m.bad == 0, "mprotect: %d pages wrong after a switch", m.bad);
    printf("mprotect: %d rounds, %u switches, faults and loads %08x\n",
           MP_ROUNDS, m.turn, m.hash);
    return qf_hash_u32(h, m.hash);
}

/* ---- madvise ---- */

/*
 * priv[] is private, shared[] shared by parent and child.  In round r
 * the parent rewrites some private pages, empties MA_ZAP of them with
 * MADV_DONTNEED (zeros from then on; the child's copy, forked before,
 * keeps its data); then each process in turn rewrites MA_ZAP shared
 * pages and drops them with MADV_DONTNEED: the other must still read
 * the data.  Both track the shared pages' versions in sh_want[].
 */
struct madv {
    uint8_t *priv, *shared;
    uint32_t want[MA_PAGES];        /* the parent's private pages */
    uint32_t sh_want[MA_PAGES];
    uint32_t fork;
};

static uint32_t ma_first(uint32_t r, int child)
{
    return (r * 5 + (child ? 7 : 0)) % (MA_PAGES - MA_ZAP + 1);
}

/* Rewrite MA_ZAP shared pages and drop them from this process. */
static int ma_shared_turn(struct madv *a, uint32_t r, int child)
{
    uint32_t s = ma_first(r, child), i;

    for (i = s; i < s + MA_ZAP; i++) {
        a->sh_want[i] = 4000000 + a->fork * 1000 + r * 2 + child;
        write_page(a->shared, i, a->sh_want[i]);
    }
    return madvise(a->shared + (size_t)s * PAGE, MA_ZAP * PAGE,
                   MADV_DONTNEED);
}

static int ma_shared_bad(struct madv *a)
{
    uint32_t i;
    int bad = 0;

    for (i = 0; i < MA_PAGES; i++) {
        bad += !page_is(a->shared, i, a->sh_want[i]);
    }
    return bad;
}

static int madv_child(struct peer *p, void *arg)
{
    struct madv *a = arg;
    uint32_t i;
    int64_t turn;
    int bad = 0;

    while ((turn = recv_turn(p)) >= 0) {
        /* The private copy is as it was at the fork. */
        for (i = 0; i < MA_PAGES; i++) {
            bad += !page_is(a->priv, i, a->want[i]);
        }
        if (turn & 1) {
            /* The parent's shared turn of round turn / 2 came first. */
            uint32_t s = ma_first(turn / 2, 0);

            for (i = s; i < s + MA_ZAP; i++) {
                a->sh_want[i] = 4000000 + a->fork * 1000 + turn / 2 * 2;
            }
            bad += ma_shared_bad(a);
            bad += ma_shared_turn(a, turn / 2, 1) != 0;
            bad += ma_shared_bad(a);
        }
        send_msg(p, MSG_TURN, turn + 1);
    }
    return bad != 0;
}

static uint32_t test_madvise(uint32_t h)
{
    uint32_t hash = QF_HASH_INIT, f, r, i, s, turn;
    int bad_priv = 0, bad_shared = 0, calls = 0;
    struct madv a;
    struct peer p;

    memset(&a, 0, sizeof(a));
    a.priv = map_anon(MA_PAGES, 0);
    a.shared = map_anon(MA_PAGES, 1);
    if (!a.priv || !a.shared) {
        return h;
    }
    for (f = 0; f < MA_FORKS; f++) {
        a.fork = f;
        /* Private pages the child will share until the parent writes. */
        for (i = 0; i < MA_PAGES; i++) {
            a.want[i] = 4500000 + f * 100 + i;
            write_page(a.priv, i, a.want[i]);
        }
        if (start_child(&p, madv_child, &a) != 0) {
            return h;
        }
        for (r = 0; r < MA_ROUNDS; r++) {
            turn = r * 2;
            for (i = r % 3; i < MA_PAGES; i += 3) {
                a.want[i] = 4600000 + f * 100 + r;
                write_page(a.priv, i, a.want[i]);
            }
            pass_turn(&p, turn);
            s = (r * 3 + f) % (MA_PAGES - MA_ZAP + 1);
            calls++;
            if (madvise(a.priv + (size_t)s * PAGE, MA_ZAP * PAGE,
                        MADV_DONTNEED) != 0) {
                qf_fail("madvise: private: %s", strerror(errno));
            }
            for (i = s; i < s + MA_ZAP; i++) {
                a.want[i] = 0;
            }
            for (i = 0; i < MA_PAGES; i++) {
                bad_priv += !page_is(a.priv, i, a.want[i]);
                hash = qf_hash(hash, a.priv + (size_t)i * PAGE, 4);
            }
            calls++;
            if (ma_shared_turn(&a, r, 0) != 0) {
                qf_fail("madvise: shared: %s", strerror(errno));
            }
            pass_turn(&p, turn + 1);
            /* The child's shared turn */
            s = ma_first(r, 1);
            for (i = s; i < s + MA_ZAP; i++) {
                a.sh_want[i] = 4000000 + f * 1000 + r * 2 + 1;
            }
            bad_shared += ma_shared_bad(&a);
            for (i = 0; i < MA_PAGES; i++) {
                hash = qf_hash(hash, a.shared + (size_t)i * PAGE, 4);
                bad_priv += !page_is(a.priv, i, a.want[i]);
            }
        }
        finish_child(&p, "madvise", NULL);
        bad_shared += ma_shared_bad(&a);
    }
    munmap(a.priv, MA_PAGES * PAGE);
    munmap(a.shared, MA_PAGES * PAGE);
    QF_CHECK(bad_priv == 0, "madvise: %d private pages wrong", bad_priv);
    QF_CHECK(bad_shared == 0, "madvise: %d shared pages wrong", bad_shared);
    printf("madvise: %d calls in %d rounds, read %08x\n", calls,
           MA_FORKS * MA_ROUNDS, hash);
    return qf_hash_u32(h, hash);
}

/* ---- resident ---- */

/*
 * Both processes fill RS_MIB MiB at the same addresses with their own
 * data.  After every switch the one that runs sums all of it, compares
 * the sum with the one it keeps, and rewrites one word of every page
 * (updating the sum).
 */
struct resident {
    uint32_t *words;
    uint32_t nwords;
    uint32_t sum[4];    /* of the words at indexes 0, 1, 2, 3 modulo 4 */
    uint32_t turns;
    int bad;
};

static void rs_sum(const uint32_t *w, uint32_t n, uint32_t *sum)
{
    uint32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, i;

    for (i = 0; i < n; i += 4) {
        s0 += w[i];
        s1 += w[i + 1];
        s2 += w[i + 2];
        s3 += w[i + 3];
    }
    sum[0] = s0;
    sum[1] = s1;
    sum[2] = s2;
    sum[3] = s3;
}

static uint32_t rs_total(const struct resident *rs)
{
    return rs->sum[0] + (rs->sum[1] ^ 0x55555555u) + rs->sum[2] * 3 +
           (rs->sum[3] ^ 0xaaaaaaaau);
}

static void rs_fill(struct resident *rs, uint32_t seed)
{
    uint32_t x = seed, i;

    for (i = 0; i < rs->nwords; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        rs->words[i] = x;
    }
    rs_sum(rs->words, rs->nwords, rs->sum);
}

/* Are the sums those of the words? */
static void rs_check(struct resident *rs)
{
    uint32_t sum[4];

    rs_sum(rs->words, rs->nwords, sum);
    rs->bad += memcmp(sum, rs->sum, sizeof(sum)) != 0;
}

/* Check the sums, then rewrite one word of every page and update them. */
static void rs_turn(struct resident *rs, uint32_t turn)
{
    uint32_t i, n = rs->nwords / PAGE_WORDS;

    rs_check(rs);
    for (i = 0; i < n; i++) {
        uint32_t k = (turn + i) % PAGE_WORDS;
        volatile uint32_t *w = rs->words + (size_t)i * PAGE_WORDS + k;
        uint32_t v = *w, nv = v * 2654435761u + turn;

        *w = nv;
        rs->sum[k % 4] += nv - v;
    }
    rs->turns++;
}

static int resident_child(struct peer *p, void *arg)
{
    struct resident *rs = arg;
    int64_t turn;

    rs_fill(rs, 0x2545f491u);
    send_msg(p, MSG_TURN, 0);
    while ((turn = recv_turn(p)) >= 0) {
        rs_turn(rs, turn);
        send_msg(p, MSG_TURN, turn + 1);
    }
    rs_check(rs);
    rs->sum[0] = rs_total(rs);
    if (write_full(p->out, rs->sum, sizeof(rs->sum[0])) != 0) {
        return 1;
    }
    return rs->bad != 0;
}

static uint32_t test_resident(uint32_t h)
{
    struct resident rs;
    uint32_t turn, child_sum = 0;
    struct peer p;

    memset(&rs, 0, sizeof(rs));
    rs.nwords = (RS_MIB << 20) / 4;
    rs.words = (uint32_t *)map_anon(rs.nwords / PAGE_WORDS, 0);
    if (!rs.words) {
        return h;
    }
    if (start_child(&p, resident_child, &rs) != 0) {
        return h;
    }
    rs_fill(&rs, 0x9e3779b9u);
    if (recv_turn(&p) != 0) {
        qf_fail("resident: the child did not start");
    }
    for (turn = 0; turn < RS_SWITCHES; turn += 2) {
        rs_turn(&rs, turn + 1);
        pass_turn(&p, turn);
    }
    rs_check(&rs);
    finish_child(&p, "resident", &child_sum);
    QF_CHECK(rs.bad == 0, "resident: %d of %u checks of the sums failed",
             rs.bad, rs.turns + 1);
    printf("resident: 2 x %d MiB, %d switches, sums %08x %08x\n", RS_MIB,
           RS_SWITCHES, rs_total(&rs), child_sum);
    munmap(rs.words, RS_MIB << 20);
    h = qf_hash_u32(h, rs_total(&rs));
    return qf_hash_u32(h, child_sum);
}

int main(void)
{
    uint32_t h = QF_HASH_INIT;

    /* A child that died makes writes fail with EPIPE, reported. */
    signal(SIGPIPE, SIG_IGN);
    h = test_cow(h);
    h = test_remote(h);
    h = test_mprotect(h);
    h = test_madvise(h);
    h = test_resident(h);
    return qf_finish("aspace", h);
}
