/*
 * procs: fork a child and play ping-pong over two pipes, check that the
 * child's memory is a copy-on-write copy, and collect exit statuses with
 * waitpid (normal exit and death by a signal).
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qftest.h"
#include "../lib/fullio.h"

#define MESSAGES 1000

static uint32_t shared_word = 0xc0ffee;

static uint32_t reply_for(uint32_t v)
{
    return v * 2654435761u + 0x9e3779b9u;
}

/* The child: answer every message, then send its own checksum. */
static void child(int in, int out)
{
    uint32_t h = QF_HASH_INIT, v;
    int i;

    shared_word = 0xdead;   /* must not be seen by the parent */
    for (i = 0; i < MESSAGES; i++) {
        if (read_full(in, &v, sizeof(v)) != 0) {
            _exit(10);
        }
        h = qf_hash_u32(h, v);
        v = reply_for(v);
        if (write_full(out, &v, sizeof(v)) != 0) {
            _exit(11);
        }
    }
    if (write_full(out, &h, sizeof(h)) != 0) {
        _exit(12);
    }
    /* The parent closes its end: the next read sees end of file */
    if (read(in, &v, sizeof(v)) != 0) {
        _exit(13);
    }
    _exit(42);
}

static uint32_t test_pingpong(uint32_t h)
{
    int to_child[2], to_parent[2];
    uint32_t v, sent = QF_HASH_INIT, child_hash;
    int i, status, bad = 0;
    pid_t pid;

    if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
        qf_fail("pipe");
        return h;
    }
    fflush(stdout);   /* do not duplicate buffered output in the child */
    pid = fork();
    if (pid < 0) {
        qf_fail("fork");
        return h;
    }
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        child(to_child[0], to_parent[1]);
    }
    close(to_child[0]);
    close(to_parent[1]);

    for (i = 0; i < MESSAGES; i++) {
        v = (uint32_t)i * 0x01000193u ^ 0x5bd1e995u;
        sent = qf_hash_u32(sent, v);
        if (write_full(to_child[1], &v, sizeof(v)) != 0) {
            qf_fail("write to child at message %d", i);
            break;
        }
        if (read_full(to_parent[0], &v, sizeof(v)) != 0) {
            qf_fail("read from child at message %d", i);
            break;
        }
        if (v != reply_for((uint32_t)i * 0x01000193u ^ 0x5bd1e995u)) {
            bad++;
        }
        h = qf_hash_u32(h, v);
    }
    QF_CHECK(bad == 0, "%d wrong replies", bad);
    if (read_full(to_parent[0], &child_hash, sizeof(child_hash)) != 0) {
        qf_fail("no checksum from the child");
        child_hash = 0;
    }
    QF_CHECK(child_hash == sent, "child checksum %08x, sent %08x",
             child_hash, sent);
    close(to_child[1]);

    if (waitpid(pid, &status, 0) != pid) {
        qf_fail("waitpid");
        return h;
    }
    printf("ping-pong: %d messages, replies %08x, child saw %08x\n",
           MESSAGES, h, child_hash);
    printf("child: exited=%d status=%d\n", WIFEXITED(status),
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    QF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42,
             "child exit status %#x", status);
    QF_CHECK(shared_word == 0xc0ffee, "child write visible in the parent");
    close(to_parent[0]);
    return qf_hash_u32(h, status);
}

static uint32_t test_signal_child(uint32_t h)
{
    int status;
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        qf_fail("fork");
        return h;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        raise(SIGTERM);
        _exit(1);
    }
    if (waitpid(pid, &status, 0) != pid) {
        qf_fail("waitpid");
        return h;
    }
    printf("child: signaled=%d signal=%d\n", WIFSIGNALED(status),
           WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    QF_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
             "child status %#x", status);
    return qf_hash_u32(h, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int main(void)
{
    uint32_t h = QF_HASH_INIT;

    h = test_pingpong(h);
    h = test_signal_child(h);
    return qf_finish("procs", h);
}
