/*
 * qemu-fast direct windows: the return-address stack, for translators
 *
 * A translator that knows its calls and returns pushes at a call and
 * predicts at a return; see direct-window-ras.c for how the prediction
 * stays right.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TCG_DIRECT_WINDOW_RAS_H
#define TCG_DIRECT_WINDOW_RAS_H

#include "tcg/tcg-op.h"

#ifndef CONFIG_USER_ONLY
/*
 * May the TB being translated push or predict?  Only in seg mode, with
 * the stack on (-accel tcg,fast-ras=on), and with chaining allowed.
 */
bool dw_ras_usable(void);

/*
 * At a call that ends the TB being translated: push @ret_pc, the address
 * of the instruction after the call, with the TB's @cs_base and @flags.
 * @ret_pc must lie on the page where the TB starts
 * (translator_use_goto_tb()), and the TB must not use its jump slot 1.
 */
void dw_ras_gen_push(TCGv ret_pc, uint64_t cs_base, uint32_t flags);

/*
 * At a return, once @pc holds the address it returns to and nothing but
 * the jump is left: pop the top entry, and when it is the call that
 * @pc returns to, made with this TB's @cs_base and @flags, jump to the TB
 * linked in the calling TB's return slot.  Falls through otherwise: the
 * caller then looks the next TB up as usual.
 */
void dw_ras_gen_return(TCGv pc, uint64_t cs_base, uint32_t flags);
#else
/* The fast mode is system emulation's: nothing is ever pushed. */
static inline bool dw_ras_usable(void)
{
    return false;
}

static inline void dw_ras_gen_push(TCGv ret_pc, uint64_t cs_base,
                                   uint32_t flags)
{
    g_assert_not_reached();
}

static inline void dw_ras_gen_return(TCGv pc, uint64_t cs_base,
                                     uint32_t flags)
{
    g_assert_not_reached();
}
#endif

#endif /* TCG_DIRECT_WINDOW_RAS_H */
