/*! \file overload.c
 *  Overload control (see overload.h): the loop-lag sampler and the state with its hysteresis. */

#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/stat_item.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/overload.h>

#define LAG_TICK_US	100000	/* the sampler's period */
#define TICKS_PER_S	(1000000 / LAG_TICK_US)
static const char WHY_DROPS[] = "receive drops";

/* timed by the real clock (uigw_real_mono_us()): a test's fake clock moves in jumps that are no lag */
#define CALM_HOLD_US	1000000	/* every input under its low mark this long before overload ends */

void uigw_overload_defaults(struct uigw_overload_cfg *cfg)
{
	*cfg = (struct uigw_overload_cfg){
		.store_high = 20000, .store_low = 5000,
		/* what contrib/bench/smpp measured (doc/smpp.md "Overload"): the answers' commits come before every
		 * next screen, and a gateway short of CPU commits late far under the backlog's mark */
		.store_delay_high_ms = 500, .store_delay_low_ms = 200,
		.lag_high_ms = 250, .lag_low_ms = 50,
		.delay_high_ms = 200, .delay_low_ms = 50,
		/* a stall of the process (a capped cgroup's period, the VM's neighbours, a WAL checkpoint) leaves a
		 * queue that the gateway works off within a few hundred ms when it has headroom: only a delay that
		 * stays is overload (CoDel's rule; doc/dialogs.md "Overload"). Individual late requests meanwhile meet
		 * max-wait. */
		.window_ms = 300,
		.retry_after_s = 5,
		.max_wait_ms = 300,
		/* the kernel dropping requests is overload beyond doubt: at 5x on SIP the socket's 4 MiB filled
		 * before the queue delay had stood past its mark for the window (doc/ims.md "Overload") */
		.rx_drops_high = 1,
	};
}

static void set_stats(struct uigw *gw);

static void set_stats(struct uigw *gw)
{
	osmo_stat_item_set(osmo_stat_item_group_get_item(gw->stats, UIGW_STAT_OVERLOAD), gw->overload.active);
	osmo_stat_item_set(osmo_stat_item_group_get_item(gw->stats, UIGW_STAT_LOOP_LAG), gw->overload.lag_ms);
	osmo_stat_item_set(osmo_stat_item_group_get_item(gw->stats, UIGW_STAT_QUEUE_DELAY),
			   gw->overload.qdelay.standing_ms);
}

/* A tick's figure of a delay into its window */
static void window_push(struct uigw_overload_window *w, unsigned int ms, unsigned int window_ms)
{
	unsigned int i, n = (window_ms + 99) / 100, least = UINT_MAX;

	if (n < 1)
		n = 1;
	if (n > UIGW_OVERLOAD_WINDOW_TICKS_MAX)
		n = UIGW_OVERLOAD_WINDOW_TICKS_MAX;
	w->ms[w->ticks++ % UIGW_OVERLOAD_WINDOW_TICKS_MAX] = ms;
	w->last_ms = ms;
	if (n > w->ticks)
		n = w->ticks;
	for (i = 1; i <= n; i++) {
		unsigned int v = w->ms[(w->ticks - i) % UIGW_OVERLOAD_WINDOW_TICKS_MAX];

		if (v < least)
			least = v;
	}
	w->standing_ms = least;
}

/* How far an input of \a v is past its mark \a high, per mille of the mark (0: the input is off) */
static unsigned int level_pm(uint64_t v, unsigned int high)
{
	uint64_t l;

	if (!high)
		return 0;
	l = v * 1000 / high;
	return l > UINT_MAX ? UINT_MAX : (unsigned int)l;
}

/* The ticks of a ring (admitted, ended): the second up to the last tick */
osmo_static_assert(ARRAY_SIZE(((struct uigw_overload *)NULL)->admitted) == TICKS_PER_S, admitted_ring_one_second);
osmo_static_assert(ARRAY_SIZE(((struct uigw_overload *)NULL)->ended) == TICKS_PER_S, ended_ring_one_second);
static unsigned int ring_sum(const unsigned int ring[TICKS_PER_S])
{
	unsigned int i, sum = 0;

	for (i = 0; i < TICKS_PER_S; i++)
		sum += ring[i];
	return sum;
}

/* Offered per second: the last tick's, or this one's so far if more */
static unsigned int offered_now(const struct uigw_overload *o)
{
	return OSMO_MAX(o->offered_rate, o->offered_tick * TICKS_PER_S);
}

/* Offered three times what ended in the last second, at least 30/s: a burst's onset (what a stall kept waiting is
 * read at the gateway's own pace, about what ends) */
static bool surge(const struct uigw_overload *o)
{
	return offered_now(o) >= 3 * OSMO_MAX(o->ended_tick + ring_sum(o->ended), 10u);
}

enum { IN_BACKLOG, IN_SDELAY, IN_LAG, IN_QDELAY, IN_DROPS, _IN_NUM };
static const char *const in_why[_IN_NUM] = {
	"store backlog", "store delay", "event loop lag", "queue delay", WHY_DROPS,
};
osmo_static_assert(ARRAY_SIZE(((struct uigw_overload *)NULL)->cut_level) == _IN_NUM, cut_level_per_input);

/* The inputs against their marks: 1 with one at or over its high mark (the farthest past it in *in), -1 all under
 * their low marks, -2 all under half of them, 0 in between; each input's level in lv[], per mille of its high mark */
static int pressure(struct uigw *gw, unsigned int *in, unsigned int lv[_IN_NUM])
{
	struct uigw_overload *o = &gw->overload;
	unsigned int depth = uigw_store_queue_depth(gw->store), i, most = 0;
	/* a delay begins an episode when it stayed past its mark for the window; in one, the latest figure drives the
	 * limit (the burst is known, and a cut a window late is a backlog the admitted dialogs wait behind); so in a
	 * surge: a stall's queue is worked off by the gateway's pace, a surge's is not */
	bool latest = o->active || surge(o);
	unsigned int sdelay = latest ? o->sdelay.last_ms : o->sdelay.standing_ms;
	unsigned int qdelay = latest ? o->qdelay.last_ms : o->qdelay.standing_ms;

	lv[IN_BACKLOG] = level_pm(depth, o->cfg.store_high);
	/* the answers wait for their commit before the next screen: the time that takes is what the subscribers
	 * see, whatever the number of jobs (a gateway short of CPU commits late with a few thousand queued) */
	lv[IN_SDELAY] = level_pm(sdelay, o->cfg.store_delay_high_ms);
	lv[IN_LAG] = level_pm(o->lag_ms, o->cfg.lag_high_ms);
	lv[IN_QDELAY] = level_pm(qdelay, o->cfg.delay_high_ms);
	/* this tick's so far, or the last one's */
	lv[IN_DROPS] = level_pm(OSMO_MAX(o->rx_drops_rate, o->rx_drops_tick * TICKS_PER_S), o->cfg.rx_drops_high);
	for (i = 0; i < _IN_NUM; i++) {
		if (lv[i] >= 1000 && lv[i] > most) {
			*in = i;
			most = lv[i];
		}
	}
	if (most)
		return 1;
	if (o->rx_drops_rate)
		return 0;
	for (i = 1; i <= 2; i++) {
		/* under half of every low mark (-2), or under each (-1) */
		if ((!o->cfg.store_high || depth <= o->cfg.store_low / i) &&
		    (!o->cfg.store_delay_high_ms || o->sdelay.last_ms <= o->cfg.store_delay_low_ms / i) &&
		    (!o->cfg.lag_high_ms || o->lag_ms <= o->cfg.lag_low_ms / i) &&
		    (!o->cfg.delay_high_ms || o->qdelay.last_ms <= o->cfg.delay_low_ms / i))
			continue;
		return i == 1 ? 0 : -1;
	}
	return -2;
}

/* What a cut keeps of the limit for an input \a level past its mark: a quarter less, and the more the farther past
 * it, down to a half at twice the mark (a burst's onset: each tick of a shallow cut is a backlog that the admitted
 * dialogs wait behind) */
static unsigned int keep_pm(unsigned int level)
{
	unsigned int keep = (unsigned int)(1000000ULL / (level ? level : 1));

	return keep > 750 ? 750 : keep < 500 ? 500 : keep;
}

/* The limit's share of the offered rate (the last tick's, or this one's so far if more), per mille */
static void set_share(struct uigw_overload *o)
{
	uint64_t offered = offered_now(o);

	if (!o->limit || !offered || o->limit >= offered)
		o->admit_pm = 1000;
	else
		o->admit_pm = OSMO_MAX(1, (unsigned int)((uint64_t)o->limit * 1000 / offered));
}

/* A cut for the input \a in past its mark: the limit down by what keep_pm() says (of the rate admitted over the last
 * second when an episode begins); where it was is where pressure was seen, unless the last tick saw it too (a cut
 * of a cut). The inputs' levels are kept: the next cut waits until one is no lower than now. */
static void cut(struct uigw_overload *o, unsigned int in, const unsigned int lv[_IN_NUM])
{
	/* lost requests say nothing of how far the gateway is behind: a quarter */
	unsigned int keep = in == IN_DROPS ? 750 : keep_pm(lv[in]);
	unsigned int base = o->limit, sum = o->admitted_tick + ring_sum(o->admitted);
	unsigned int ended = o->ended_tick + ring_sum(o->ended);

	if (!base) {
		/* where pressure was seen: what the last second admitted; the gateway did what ended in it (at a
		 * burst's onset that is what it can do, the admitted ones wait), but at least a quarter of the
		 * admitted (from idle nothing ended yet) ... */
		base = OSMO_MIN(sum, OSMO_MAX(ended, sum / 4));
		/* ... or what it proved it can do lately, if more, up to half again that and no more than is offered:
		 * after a pause (a burst out of quiet) or a stall (nothing ended while it stood) the last second says
		 * little of it, and a limit begun there climbed back for seconds while refusing (contrib/bench/sip: a
		 * 5x burst begun at 913/s where the gateway had served 2,500/s, 0.68 R) */
		base = OSMO_MAX(base, OSMO_MIN(OSMO_MIN(o->ended_peak, base + base / 2), offered_now(o)));
		o->limit_max = OSMO_MAX(sum, base);
	} else if (!o->pressed) {
		o->limit_max = base;
	}
	o->limit = OSMO_MAX(UIGW_OVERLOAD_MIN_RATE, (unsigned int)((uint64_t)base * keep / 1000));
	o->cut_us = uigw_real_mono_us();
	o->cut_keep = keep;
	memcpy(o->cut_level, lv, sizeof(o->cut_level));
	set_share(o);
}

/* The second up to the last tick's end into the decaying peak (a 512th a tick: about 2 % a second, half in 35 s):
 * an episode begun in this tick takes the peak of the ones before. */
static void ended_peak_update(struct uigw_overload *o)
{
	unsigned int ended = ring_sum(o->ended);

	if (ended >= o->ended_peak)
		o->ended_peak = ended;
	else
		o->ended_peak -= OSMO_MIN(o->ended_peak - ended, OSMO_MAX(o->ended_peak / 512, 1u));
}

static void begin(struct uigw *gw, unsigned int in, const unsigned int lv[_IN_NUM])
{
	const char *why = in_why[in];
	struct uigw_overload *o = &gw->overload;

	o->active = true;
	o->since_ms = uigw_wall_ms();
	o->calm_since_us = 0;
	o->episodes++;
	o->refused_now = 0;
	o->why = why;
	o->limit = 0;
	cut(o, in, lv);
	o->tokens = 0;
	o->tokens_us = uigw_real_mono_us();
	/* the writer's upkeep waits: its share of the CPU goes to the answers */
	uigw_store_defer_upkeep(gw->store, true);
	LOGP(DMAIN, LOGL_NOTICE, "overload begins (%s): store backlog %u jobs (high %u), store delay %u ms (at least %u "
	     "ms for %u ms; high %u), loop lag %u ms (high %u), queue delay at least %u ms for %u ms (high %u), receive "
	     "drops %u/s (high %u): new dialogs and pushes limited to %u/s (%u/s admitted over the last second)\n", why,
	     uigw_store_queue_depth(gw->store), o->cfg.store_high, uigw_store_delay_ms(gw->store), o->sdelay.standing_ms,
	     o->cfg.window_ms, o->cfg.store_delay_high_ms, o->lag_ms, o->cfg.lag_high_ms, o->qdelay.standing_ms,
	     o->cfg.window_ms, o->cfg.delay_high_ms, OSMO_MAX(o->rx_drops_rate, o->rx_drops_tick * TICKS_PER_S),
	     o->cfg.rx_drops_high, o->limit, o->limit_max);
	set_stats(gw);
}

static void end(struct uigw *gw)
{
	struct uigw_overload *o = &gw->overload;

	o->active = false;
	LOGP(DMAIN, LOGL_NOTICE, "overload ends after %.1f s (began by %s): %" PRIu64 " new dialogs and pushes "
	     "refused; store backlog %u jobs, loop lag %u ms, queue delay %u ms\n",
	     (uigw_wall_ms() - o->since_ms) / 1000.0, o->why, o->refused_now, uigw_store_queue_depth(gw->store),
	     o->lag_ms, o->qdelay.last_ms);
	o->since_ms = uigw_wall_ms();
	o->limit = 0;
	o->admit_pm = 1000;
	set_stats(gw);
	/* what the burst took (kept responses, queues) back to the system: glibc keeps freed memory otherwise; the
	 * pages it wrote out of SQLite's caches (the writer trims again after releasing its own) */
	uigw_store_release_memory(gw->store);
	uigw_store_defer_upkeep(gw->store, false);
	malloc_trim(0);
}

/* Every tick. In an episode new dialogs are admitted up to a rate, the limit (not a share of what is offered: a
 * share is a rate that moves with the offered load, and an AIMD on it swung the admitted dialogs between a tenth and
 * twice what the gateway can do at 5x; doc/dialogs.md "Overload"). The limit begins at what the gateway did in the
 * last second — the dialogs that ended in it, at least a quarter of those admitted — cut by a quarter (up to a
 * half, keep_pm()): at a burst's onset the last second admitted far more than the gateway can do. While an input
 * stays past its high mark it is cut again, but only once the last cut could show — after the window and the
 * longer of the queue's and the store's delays, the time a dialog admitted now takes to load the gateway — and only
 * for an input no lower than at that cut (each input kept apart: a backlog that a queue delay's deeper cut had not
 * yet brought down is no reason to wait). Between the marks while refusing, a standing queue at the limit, it goes
 * down by 2.5 % a tick; with every input under its low mark it rises: by a thirty-second of the way back to where
 * pressure was last seen (the inputs show a climb past what the gateway can do a second late: a quarter a tick
 * climbed back into the same backlog), beyond that by 1.25 % a tick; with every input under half its low mark by
 * an eighth of the way, beyond it by 2.5 %. As a rate it admits everything again the moment a burst ends.
 * Overload ends when nothing was refused in a tick and the inputs have been calm for a second. */
void uigw_overload_tick(struct uigw *gw)
{
	struct uigw_overload *o = &gw->overload;
	unsigned int lv[_IN_NUM], in = 0, i;
	int p;

	/* nothing read for a tick: nothing waits either */
	if (!o->delay_samples)
		o->delay_ms /= 2;
	window_push(&o->qdelay, o->delay_samples ? o->delay_tick_min_ms : 0, o->cfg.window_ms);
	o->delay_samples = 0;
	window_push(&o->sdelay, uigw_store_delay_ms(gw->store), o->cfg.window_ms);
	o->rx_drops_rate = o->rx_drops_tick * TICKS_PER_S;
	o->rx_drops_tick = 0;
	p = pressure(gw, &in, lv);
	if (o->active)
		LOGP(DMAIN, LOGL_DEBUG, "overload tick: limit %u/s, %u/s offered, %u/s admitted; store backlog %u, store "
		     "delay %u ms, queue delay %u ms, loop lag %u ms, receive drops %u/s: %s\n", o->limit,
		     o->offered_tick * TICKS_PER_S, o->admitted_tick * TICKS_PER_S, uigw_store_queue_depth(gw->store),
		     o->sdelay.last_ms, o->qdelay.last_ms, o->lag_ms, o->rx_drops_rate,
		     p > 0 ? in_why[in] : p < 0 ? "calm" : "between the marks");
	ended_peak_update(o);
	o->ended[o->n_ticks % ARRAY_SIZE(o->ended)] = o->ended_tick;
	o->ended_tick = 0;
	o->admitted[o->n_ticks++ % ARRAY_SIZE(o->admitted)] = o->admitted_tick;
	o->offered_rate = o->offered_tick * TICKS_PER_S;
	o->offered_tick = o->admitted_tick = 0;
	if (p > 0) {
		/* a dialog admitted now loads the gateway once it is read and its answer committed */
		int64_t hold_us = (int64_t)(o->cfg.window_ms +
					    OSMO_MIN(OSMO_MAX(o->qdelay.last_ms, o->sdelay.last_ms), 2000)) * 1000;

		if (!o->active) {
			begin(gw, in, lv);
		} else if (uigw_real_mono_us() - o->cut_us >= hold_us) {
			/* a queue standing at max-wait for twice the hold: its delay cannot rise further, what waited
			 * longer is refused as it is read (contrib/bench/sip, 5x: the queue stood at 293-297 ms for 5 s
			 * after a cut at 297, every request read either late or admitted, the limit above what was
			 * admitted and never cut again; the goodput was about 2,600/s there, 4,300/s before it) */
			bool deadline = o->cfg.max_wait_ms && o->qdelay.last_ms >= o->cfg.max_wait_ms * 9 / 10 &&
					uigw_real_mono_us() - o->cut_us >= 2 * hold_us;

			/* an input past its mark and no lower than at the last cut (requests lost while the limit stands:
			 * however many; a queue at the deadline: however long) */
			for (i = 0; i < _IN_NUM; i++) {
				if (lv[i] >= 1000 && (lv[i] >= o->cut_level[i] || i == IN_DROPS ||
						      (i == IN_QDELAY && deadline))) {
					cut(o, i, lv);
					break;
				}
			}
		}
		o->pressed = true;
		o->calm_since_us = 0;
		set_share(o);
		return;
	}
	o->pressed = false;
	if (!o->active)
		return;
	if (p < 0 && o->admit_pm < 1000) {
		/* back toward where pressure was seen by a thirty-second of the way a tick (a quarter in a second:
		 * the inputs show a climb past what the gateway can do a second late), beyond it by 1.25 % a tick;
		 * far under every mark by an eighth and 2.5 % */
		if (p == -2)
			i = o->limit < o->limit_max ? OSMO_MAX((o->limit_max - o->limit) / 8, o->limit / 40) : o->limit / 40;
		else
			i = o->limit < o->limit_max ? OSMO_MAX((o->limit_max - o->limit) / 32, o->limit / 200) :
			    o->limit / 80;
		/* at least half the floor: an episode begun while nothing was admitted (a store failing refuses first)
		 * starts at the floor, and a tick's percent of it is nothing (tests/smpp/disk_full.sh: 8 s back) */
		o->limit += OSMO_MAX(i, UIGW_OVERLOAD_MIN_RATE / 2);
	} else if (p == 0 && o->admit_pm < 1000) {
		i = o->limit - o->limit / 40;
		o->limit = OSMO_MAX(UIGW_OVERLOAD_MIN_RATE, i);
	}
	set_share(o);
	if (p < 0 && o->admit_pm == 1000) {
		if (!o->calm_since_us)
			o->calm_since_us = uigw_real_mono_us();
		else if (uigw_real_mono_us() - o->calm_since_us >= CALM_HOLD_US)
			end(gw);
	} else {
		o->calm_since_us = 0;
	}
}

bool uigw_overload_refuse(struct uigw *gw)
{
	struct uigw_overload *o = &gw->overload;
	unsigned int lv[_IN_NUM], in = 0;

	o->offered_tick++;
	/* an input past its high mark between two ticks: cut at once, do not wait for the tick */
	if (!o->active && pressure(gw, &in, lv) > 0)
		begin(gw, in, lv);
	if (o->limit) {
		/* no more than the limit, saved up over one tick at most (a read after a stall brings many at once) ... */
		int64_t now = uigw_real_mono_us();

		o->tokens += (now - o->tokens_us) * o->limit;
		o->tokens_us = now;
		if (o->tokens > (int64_t)o->limit * LAG_TICK_US)
			o->tokens = (int64_t)o->limit * LAG_TICK_US;
		if (o->tokens < 1000000)
			return true;
	}
	if (o->admit_pm < 1000) {
		/* ... and of those the limit's share of the last tick's rate, spread evenly (a credit, no randomness) */
		o->credit_pm += o->admit_pm;
		if (o->credit_pm < 1000)
			return true;
		o->credit_pm -= 1000;
	}
	if (o->limit)
		o->tokens -= 1000000;
	o->admitted_tick++;
	return false;
}

bool uigw_overload_late(const struct uigw *gw, int64_t waited_ms)
{
	return gw->overload.cfg.max_wait_ms && waited_ms >= (int64_t)gw->overload.cfg.max_wait_ms;
}

bool uigw_overloaded(struct uigw *gw)
{
	return gw->overload.active;
}

/* resident set in kB, -1 if unknown */
static long rss_kb(void)
{
	long pages = -1, rss = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

void uigw_memory_tick(struct uigw *gw)
{
	struct uigw_overload *o = &gw->overload;
	struct mallinfo2 mi;
	long before, after;

	if (++o->trim_ticks < 5)
		return;
	o->trim_ticks = 0;
	mi = mallinfo2();
	if (mi.fordblks < 8 << 20 || mi.fordblks * 4 < mi.uordblks)
		return;
	before = rss_kb();
	malloc_trim(0);
	after = rss_kb();
	o->trims++;
	if (before > 0 && after > 0 && before > after)
		o->trimmed_kb += before - after;
	LOGP(DMAIN, LOGL_INFO, "%zu KiB free in the heap (%zu KiB in use): malloc_trim, RSS %ld -> %ld KiB\n",
	     mi.fordblks / 1024, mi.uordblks / 1024, before, after);
}

void uigw_drain(struct uigw *gw, bool on)
{
	struct uigw_overload *o = &gw->overload;

	if (o->draining == on)
		return;
	o->draining = on;
	o->drain_since_ms = uigw_wall_ms();
	if (on)
		LOGP(DMAIN, LOGL_NOTICE, "draining: every new dialog and push is refused, the %u under way go on\n",
		     gw->n_dialogs);
	else
		LOGP(DMAIN, LOGL_NOTICE, "drain ended: new dialogs are admitted again\n");
}

void uigw_overload_rx_dropped(struct uigw *gw, unsigned int n)
{
	gw->overload.rx_drops_tick += n;
	gw->overload.rx_drops += n;
}

void uigw_overload_delay_sample(struct uigw *gw, unsigned int ms)
{
	struct uigw_overload *o = &gw->overload;

	o->delay_ms = (o->delay_ms * 3 + ms) / 4;
	if (!o->delay_samples || ms < o->delay_tick_min_ms)
		o->delay_tick_min_ms = ms;
	if (ms > o->delay_peak_ms)
		o->delay_peak_ms = ms;
	o->delay_samples++;
}

/* How late the sampler fires is how long the loop was busy: smoothed over ~4 samples (a single long callback
 * counts, a lone one does not start overload by itself unless it is long) */
static void lag_cb(void *data)
{
	struct uigw *gw = data;
	struct uigw_overload *o = &gw->overload;
	int64_t now = uigw_real_mono_us(), late = now - o->lag_due_us;
	unsigned int sample = late > 0 ? late / 1000 : 0;

	o->lag_ms = (o->lag_ms * 3 + sample) / 4;
	if (sample > o->lag_peak_ms)
		o->lag_peak_ms = sample;
	uigw_overload_tick(gw);
	set_stats(gw);
	o->lag_due_us = now + LAG_TICK_US;
	osmo_timer_schedule(&o->lag_timer, 0, LAG_TICK_US);
}

void uigw_overload_start(struct uigw *gw)
{
	struct uigw_overload *o = &gw->overload;

	o->admit_pm = 1000;
	osmo_timer_setup(&o->lag_timer, lag_cb, gw);
	o->lag_due_us = uigw_real_mono_us() + LAG_TICK_US;
	osmo_timer_schedule(&o->lag_timer, 0, LAG_TICK_US);
}

void uigw_overload_stop(struct uigw *gw)
{
	osmo_timer_del(&gw->overload.lag_timer);
}
