/*
 * qemu-fast direct windows: jumps to another page, for translators
 *
 * A translator whose direct jump leaves the page (so that it cannot use
 * goto_tb) may go through the vCPU's table of remembered cross-page
 * jumps instead of looking its TB up; see direct-window-xlink.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TCG_DIRECT_WINDOW_XLINK_H
#define TCG_DIRECT_WINDOW_XLINK_H

#include "tcg/tcg-op.h"

#ifndef CONFIG_USER_ONLY
/*
 * May the TB being translated remember its cross-page jumps?  Only in
 * seg mode, with -accel tcg,fast-xlink=on, and with chaining allowed.
 */
bool dw_xlink_usable(void);

/*
 * At the end of the TB, once @pc holds the address the direct jump of
 * jump slot @n goes to (pc, not eip: with cs_base added, as the TB
 * lookup takes it) and nothing but the jump is left: jump to the code
 * remembered for it, or look the TB up and remember it.  Ends the TB.
 */
void dw_xlink_gen_jump(TCGv pc, unsigned n);
#else
/* The fast mode is system emulation's: nothing is remembered. */
static inline bool dw_xlink_usable(void)
{
    return false;
}

static inline void dw_xlink_gen_jump(TCGv pc, unsigned n)
{
    g_assert_not_reached();
}
#endif

#endif /* TCG_DIRECT_WINDOW_XLINK_H */
