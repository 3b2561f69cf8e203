/*! \file overload.h
 *  Overload control: one measure of the gateway's load, taken by the core, that every channel and the trigger
 *  path consult through uigw_admit() (core/chan.h) before anything new begins. Inputs: the store's backlog (jobs
 *  submitted and not completed), the event loop's lag (how late a 100 ms timer fires, smoothed) and the queue
 *  delay (how long requests waited in the kernel before the gateway read them, as the channels that can tell
 *  report it: SIP over UDP from the datagrams' receive timestamps); each with a high mark that starts overload and
 *  a low mark that, held for a second by every input, ends it (hysteresis).
 *  While overloaded new dialogs and pushes are refused explicitly, each channel in its own way (SIP 503 with
 *  Retry-After, SMPP ESME_RTHROTTLED, the busy screen / ussd-Busy on USSD, HTTP 503 on the API); the dialogs under
 *  way go on. Settings: node uigw, `overload ...`; state: `show overload`, the stat items overload:active,
 *  loop:lag and loop:queue-delay (ms), counter dialog:busy-overload, one log line when it begins and one when it ends. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <osmocom/core/timer.h>

struct uigw;

/*! The delays' window at most, in ticks of the lag timer (100 ms) */
#define UIGW_OVERLOAD_WINDOW_TICKS_MAX	50

/*! A delay over the window: the last ticks' figures, the latest and the least of them */
struct uigw_overload_window {
	unsigned int ms[UIGW_OVERLOAD_WINDOW_TICKS_MAX];	/*!< a ring */
	unsigned int ticks;		/*!< written to it */
	unsigned int last_ms;		/*!< the latest tick's: under the low mark, calm */
	unsigned int standing_ms;	/*!< the least over the window: past the high mark, pressure */
};

struct uigw_overload_cfg {
	unsigned int store_high, store_low;	/*!< store jobs not completed; high 0: not an input */
	unsigned int store_delay_high_ms, store_delay_low_ms;	/*!< store jobs' submission to completion; high 0: not
								 *   an input */
	unsigned int lag_high_ms, lag_low_ms;	/*!< event loop lag; high 0: not an input */
	unsigned int delay_high_ms, delay_low_ms;	/*!< queue delay; high 0: not an input */
	unsigned int window_ms;			/*!< a delay (queue, store) is past its high mark only when it
						 *   stayed there this long: a standing queue, not a transient one */
	unsigned int retry_after_s;		/*!< what peers that can be told are told to wait (SIP, HTTP) */
	unsigned int max_wait_ms;		/*!< a request that would begin a dialog and waited this long in
						 *   the kernel is refused at once, whatever the limit (0: off) */
	unsigned int rx_drops_high;		/*!< datagrams per second that the kernel dropped at a channel's
						 *   socket, its receive buffer full: pressure at once (0: not an
						 *   input) */
};

struct uigw_overload {
	struct uigw_overload_cfg cfg;
	bool active;			/*!< an episode runs: from an input past its high mark until all of the new
					 *   dialogs are admitted again and every input was calm for a second */
	unsigned int limit;		/*!< new dialogs admitted per second in an episode (0: no episode) */
	unsigned int limit_max;		/*!< the limit when pressure was last seen after a tick without */
	bool pressed;			/*!< the last tick saw pressure */
	int64_t cut_us;			/*!< monotonic: when it was last cut */
	unsigned int cut_keep;		/*!< what that cut kept, per mille (how far past its mark the input was) */
	unsigned int cut_level[5];	/*!< how far each input was at that cut, per mille of its high mark
					 *   (cut again only for one past its mark and no lower) */
	unsigned int offered_tick;	/*!< new dialogs and pushes asked for in this tick ... */
	unsigned int admitted_tick;	/*!< ... and admitted */
	unsigned int offered_rate;	/*!< per second, by the last tick */
	unsigned int admitted[10];	/*!< admitted in each of the last ten ticks (a ring) */
	unsigned int ended_tick;	/*!< dialogs ended in this tick ... */
	unsigned int ended[10];		/*!< ... and in each of the last ten (a ring, beside admitted) */
	unsigned int ended_peak;	/*!< the most dialogs that ended in one second lately (decays ~2 % a second):
					 *   what the gateway proved it can do, an episode's base after a pause or stall */
	unsigned int n_ticks;
	unsigned int admit_pm;		/*!< the share of new dialogs admitted in this tick: the limit over the
					 *   offered rate, per mille (1000: all) */
	unsigned int credit_pm;		/*!< spreads the admitted ones evenly */
	int64_t tokens;			/*!< ... and no more than the limit allows: admissions left, in millionths */
	int64_t tokens_us;		/*!< monotonic: when they were last topped up */
	int64_t since_ms;		/*!< wall clock: began (active), or ended */
	int64_t calm_since_us;		/*!< monotonic: every input under its low mark since, 0: not */
	const char *why;		/*!< the input that began it */
	unsigned int lag_ms;		/*!< smoothed loop lag */
	unsigned int lag_peak_ms;	/*!< the largest sample since the last `show overload` */
	unsigned int delay_ms;		/*!< smoothed queue delay (decays while no channel reports one); shown */
	unsigned int delay_peak_ms;
	unsigned int delay_samples;	/*!< reported since the last tick of the lag timer */
	unsigned int delay_tick_min_ms;	/*!< the least of them */
	struct uigw_overload_window qdelay;	/*!< the queue delay's input: each tick's least (0 if nothing was
						 *   reported in it: nothing waited then) */
	struct uigw_overload_window sdelay;	/*!< the store delay's input: its figure at each tick */
	unsigned int rx_drops_tick;	/*!< datagrams the kernel dropped, reported in this tick ... */
	unsigned int rx_drops_rate;	/*!< ... and per second by the last tick: the receive drops' input */
	uint64_t rx_drops;		/*!< ... in all */
	uint64_t episodes;		/*!< times it began */
	uint64_t refused;		/*!< new dialogs and pushes refused while active, in all */
	uint64_t refused_now;		/*!< ... in the current (or the last) episode */
	bool draining;			/*!< the operator's `drain`: every new dialog refused, those under way go
					 *   on (maintenance, a restart without cutting anyone off) */
	int64_t drain_since_ms;		/*!< wall clock */
	uint64_t trims;			/*!< free heap given back to the system (uigw_memory_tick()) */
	int64_t trimmed_kb;		/*!< RSS given back by them, in all */
	unsigned int trim_ticks;
	struct osmo_timer_list lag_timer;
	int64_t lag_due_us;
};

/*! Defaults: store backlog 20000 / 5000 jobs, store delay 500 / 200 ms, loop lag 250 / 50 ms, queue delay 200 / 50 ms
 *  standing for 300 ms, receive drops 1/s, Retry-After 5 s, max-wait 300 ms. */
void uigw_overload_defaults(struct uigw_overload_cfg *cfg);
/*! Start measuring the loop's lag (uigw_start()); uigw_overload_stop() at the end. */
void uigw_overload_start(struct uigw *gw);
void uigw_overload_stop(struct uigw *gw);
/*! A channel read a request that had waited \a ms in the kernel (its oldest of a read batch). */
void uigw_overload_delay_sample(struct uigw *gw, unsigned int ms);
/*! A channel's socket lost \a n datagrams in the kernel (its receive buffer full, SO_RXQ_OVFL): the requests come
 *  again after their client's retransmission timer, late, and the gateway read more than it can do. */
void uigw_overload_rx_dropped(struct uigw *gw, unsigned int n);
/*! Is a request that waited \a waited_ms in the kernel before it was read (-1: not known) past `overload max-wait`?
 *  Such a request is refused whatever the limit (uigw_admit_waited()): the limit follows the queue only
 *  a tick or more later, and a request admitted after a long wait is the latency the subscriber sees (and, past
 *  T1, a request its client has sent again). Refusing the late ones, which costs little, empties the queue. */
bool uigw_overload_late(const struct uigw *gw, int64_t waited_ms);
/*! The least limit, new dialogs per second: a trickle goes on even under the worst load (the measure needs it). */
#define UIGW_OVERLOAD_MIN_RATE 10
/*! Is an overload episode running? */
bool uigw_overloaded(struct uigw *gw);
/*! Once a second (housekeeping): every 5 s, when the heap holds 8 MiB or more free and that is a quarter of what is
 *  in use, malloc_trim() gives it back (glibc keeps freed memory: a burst's kept responses, expiring 32 s later,
 *  would otherwise hold the peak's RSS for good). */
void uigw_memory_tick(struct uigw *gw);
/*! The operator's drain (VTY `drain` / `no drain`): while on, uigw_admit() refuses every new dialog and push. */
void uigw_drain(struct uigw *gw, bool on);
/*! Should this new dialog or push be refused (uigw_admit())? While an episode runs, refuses what goes beyond the
 *  limit (new dialogs per second, spread evenly over the offered ones); an input past its high mark begins one at
 *  once. */
bool uigw_overload_refuse(struct uigw *gw);
/*! The controller's step (every 100 ms by the loop-lag timer; tests call it directly). */
void uigw_overload_tick(struct uigw *gw);
