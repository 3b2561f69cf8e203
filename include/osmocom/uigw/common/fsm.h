/*! \file fsm.h
 *  osmo_fsm helpers every layer may use. */
#pragma once

#include <osmocom/core/fsm.h>
#include <osmocom/core/timer.h>

/*! osmo_fsm_inst_state_chg_ms() with the timeout to the millisecond. libosmocore 1.7.0 (Debian 12) drops the
 *  sub-second part of a millisecond timeout (500 ms fires at once, 1500 ms after one second); this one changes
 *  the state the same way and then schedules the instance's timer exactly. For states without onenter (the
 *  re-schedule touches the instance after the change). */
static inline int uigw_fsm_state_chg_ms(struct osmo_fsm_inst *fi, uint32_t new_state, unsigned long timeout_ms,
					int T)
{
	int rc = osmo_fsm_inst_state_chg_ms(fi, new_state, timeout_ms, T);

	if (rc == 0 && timeout_ms)
		osmo_timer_schedule(&fi->timer, timeout_ms / 1000, (timeout_ms % 1000) * 1000);
	return rc;
}
