/*
 * hello: the smallest guest test, prints a fixed line.
 */
#include "qftest.h"

int main(void)
{
    static const char msg[] = "hello from the qemu-fast guest";

    printf("%s\n", msg);
    return qf_finish("hello", qf_hash(QF_HASH_INIT, msg, sizeof(msg) - 1));
}
