/*! \file uigw.h
 *  The gateway root object and the channel vocabulary shared by every module. */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/hashtable.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/tdef.h>
#include <osmocom/uigw/common/channel.h>
#include <osmocom/uigw/core/overload.h>

struct uigw_chan;
struct uigw_store;

#define UIGW_TDEF_GROUPS_MAX	8
struct uigw_store_cfg;
struct uigw_campaign_set;
struct uigw_campaign;
struct uigw_dialog;
struct uigw_profile;
struct rate_ctr_group;
struct osmo_stat_item_group;
struct osmo_tdef;
struct uigw_http_client;

/*! Rate counters of the core (gateway-wide). */
enum uigw_ctr {
	UIGW_CTR_DLG_BEGIN,
	UIGW_CTR_DLG_COMPLETED,
	UIGW_CTR_DLG_ABANDONED,
	UIGW_CTR_DLG_TIMEOUT,
	UIGW_CTR_DLG_REJECTED,
	UIGW_CTR_DLG_BUSY,
	UIGW_CTR_DLG_RESUMED,
	UIGW_CTR_DLG_UNROUTED,
	UIGW_CTR_STEPS,
	UIGW_CTR_INVALID_INPUT,
	UIGW_CTR_RESPONSES,
	UIGW_CTR_STORE_ERRORS,
	UIGW_CTR_CAMPAIGN_RELOAD,
	UIGW_CTR_CAMPAIGN_RELOAD_FAIL,
	UIGW_CTR_PUSH_CAPPED,
	UIGW_CTR_TRIGGER,
	UIGW_CTR_TRIGGER_REFUSED,
	UIGW_CTR_EXT_REQUESTS,
	UIGW_CTR_EXT_ERRORS,
	UIGW_CTR_BUSY_STORE,
	UIGW_CTR_BUSY_OVERLOAD,
	UIGW_CTR_BUSY_DRAIN,
	UIGW_CTR_CTRL_DROPPED,
	UIGW_CTR_BUSY_LATE,
};

/*! Dialog counters kept per channel (group "uigw:channel", named after it) and per campaign (group
 *  "uigw:campaign", named after it, created when its first dialog begins and kept until the end, so that they
 *  only grow): the labels channel= and campaign= of GET /metrics. */
enum uigw_dctr {
	UIGW_DCTR_BEGIN,
	UIGW_DCTR_COMPLETED,
	UIGW_DCTR_ABANDONED,
	UIGW_DCTR_TIMEOUT,
	UIGW_DCTR_REJECTED,
	UIGW_DCTR_STEPS,
	UIGW_DCTR_RESPONSES,
	_UIGW_DCTR_NUM
};

/*! Stat items of the core. */
enum uigw_stat {
	UIGW_STAT_DLG_ACTIVE,
	UIGW_STAT_STORE_QUEUE,
	UIGW_STAT_CAMPAIGNS,
	UIGW_STAT_OVERLOAD,
	UIGW_STAT_LOOP_LAG,
	UIGW_STAT_QUEUE_DELAY,
};

/*! Gateway settings owned by the VTY configuration (node `uigw`). */
struct uigw_config {
	char *campaigns_dir;		/*!< folder with *.conf campaign files */
	char *country_code;		/*!< digits, e.g. "49", for E.164 normalisation */
	char *national_prefix;		/*!< trunk prefix, e.g. "0" */
	char *pseudonym_secret;		/*!< configured secret of the keyed subscriber hash; NULL: the key file */
	char *default_language;		/*!< ISO 639-1, e.g. "en" */
	unsigned int max_dialogs;	/*!< active dialogs past which channels get "busy" */
	unsigned int resume_window;	/*!< seconds a cut-off USSD dialog can be resumed */
	unsigned int max_retries;	/*!< invalid inputs before the dialog ends */
	unsigned int ctrl_msg_timeout_s;	/*!< a CTRL message incomplete this long closes its connection */
	char *busy_text;		/*!< answer when max_dialogs is reached */
	char *unrouted_text;		/*!< answer when no campaign matches */
	char *stop_keywords;		/*!< words that opt out (SMS, MESSAGE), space separated; NULL: none */
	char *stop_reply;		/*!< confirmation of an opt-out */
	char *start_keywords;		/*!< words that opt back in; NULL: none */
	char *start_reply;		/*!< confirmation of an opt-in */
	struct llist_head kw_langs;	/*!< struct uigw_kw_lang: keywords and confirmations of other languages */
	char *push_stop_key;		/*!< the "stop these messages" option of pushed USSD/USSI dialogs; NULL: none */
	char *push_stop_label;		/*!< its label */
	unsigned int push_cap_count;	/*!< at most this many pushes per subscriber (all campaigns)... */
	unsigned int push_cap_per;	/*!< ...within this many seconds (0: no gateway-wide cap) */
	char *network_code;		/*!< MCC and MNC ("26201") told to external applications, or NULL */
	/* when pushes may go out (core/schedule.h) */
	int quiet_from, quiet_to;	/*!< quiet hours, minutes of the day in the subscriber's zone; -1: none */
	bool quiet_refuse;		/*!< a push inside them is refused (quiet_hours), not put off */
	char *tz_default;		/*!< the subscribers' zone without a rule; NULL: the machine's local time */
	struct llist_head tz_rules;	/*!< struct uigw_tz_rule */
	unsigned int defer_max;		/*!< pushes put off at most (default 100000) */
	int roaming_policy;		/*!< enum uigw_roaming_policy of campaigns that name none (default allow) */
	bool test_results;		/*!< the test drive's dialogs count in results, summaries, webhooks and campaign
					 *   counters (test-drive-results include; default: left out, the VTY shows them) */
};

/*! Opt-out keywords and confirmations in one language (node uigw: keywords LANG ...). A subscriber who wrote
 *  one of these gets this language's confirmation. */
struct uigw_kw_lang {
	struct llist_head list;
	char lang[8];			/*!< ISO 639-1 */
	char *stop, *start;		/*!< space-separated words, or NULL */
	char *stop_reply, *start_reply;	/*!< or NULL: the default language's */
};

/*! The gateway: the single root object, passed to every function that needs it. */
/*! Where the instance's number (1..4095) sits in a dialog id on a shared store: above the start time's seconds
 *  (< 2^31 until 2038) << 20. */
#define UIGW_DIALOG_ID_INSTANCE_SHIFT	51

struct uigw {
	void *ctx;			/*!< talloc parent of everything below */
	struct uigw_config cfg;
	char *pseudonym_key;			/*!< what subscribers are hashed with (core/pseudonym.h), set at start */
	struct uigw_store *store;
	struct uigw_store_cfg *store_cfg;	/*!< settings of node `store`; NULL: run without a store */
	struct uigw_campaign_set *campaigns;	/*!< the set in service */
	struct llist_head proposals;		/*!< struct uigw_proposal: proposed, not approved (core/proposal.h) */
	unsigned int load_generation;		/*!< count of successful (re)loads */

	struct llist_head dialogs;		/*!< all active struct uigw_dialog */
	unsigned int n_dialogs;
	/* the dialog tables, 1 << dialog_bits chains each: doubled and halved with the dialogs (dialog_table.c), so
	 * that a chain holds about one dialog at 10,000 dialogs as at max-dialogs' 200,000 */
	struct hlist_head *dialogs_by_sub;	/*!< (subscriber, channel) -> dialog */
	struct hlist_head *dialogs_by_id;	/*!< dialog id -> dialog */
	unsigned int dialog_bits;
	/*! The last dialogs that ended, for uigw_dialog_status() until their record is committed (a ring). */
	struct uigw_dialog_ended {
		uint64_t id;
		char campaign[33];
		int8_t channel;
		uint8_t outcome;		/*!< enum uigw_outcome */
		uint8_t refusal;		/*!< enum uigw_refusal */
		bool network_initiated;
		unsigned int steps;
		int64_t started_ms, ended_ms;
	} ended[256];
	unsigned int ended_next;
	struct llist_head resumables;		/*!< struct uigw_resume, oldest first */
	DECLARE_HASHTABLE(resume_by_sub, 14);
	uint64_t next_dialog_id;	/*!< seconds << 20 + ms * 1024 at the start, counting; on a shared store with
					 *   the instance's number << UIGW_DIALOG_ID_INSTANCE_SHIFT */

	/*! Pseudonyms whose operator-only mapping row was written recently: the mapping's last_seen needs a
	 *  precision of hours, not a write per dialog (direct-mapped; a collision only costs one more write). */
	struct uigw_seen {
		uint64_t key;		/*!< first 16 hex digits of the pseudonym, as a number */
		int64_t written;	/*!< monotonic seconds of the last write */
	} *seen;
	unsigned int seen_size;		/*!< power of two */

	struct uigw_chan *chan[_UIGW_CHAN_NUM];	/*!< the registered channels (core/chan.h), NULL if none */
	void *api;				/*!< the HTTP API (src/api), opaque to the core; NULL if none */
	struct llist_head extapps;		/*!< struct uigw_extapp: routes to external applications */
	struct uigw_http_client *http;		/*!< their requests (created with the first) */
	uint64_t rng;				/*!< the events' sampling (core/event.c); 0: not seeded yet */
	struct rate_ctr_group *ctrs;
	struct osmo_stat_item_group *stats;
	struct rate_ctr_group *chan_ctrs[_UIGW_CHAN_NUM];	/*!< enum uigw_dctr per channel */
	struct llist_head camp_ctrs;		/*!< struct uigw_camp_ctrs: enum uigw_dctr per campaign name */
	unsigned int camp_ctrs_next;		/*!< index of the next campaign group */
	struct osmo_tdef *tdefs;			/*!< the core's group "dialog" */
	/*! Every timer group of the gateway (the core's and the channels'), for the standard `timer` and
	 *  `show timer` VTY commands; terminated by an empty entry. */
	struct osmo_tdef_group tdef_groups[UIGW_TDEF_GROUPS_MAX + 1];
	uint32_t tdef_groups_own_node;		/*!< bit i: group i is written by its channel's own node */

	struct osmo_timer_list housekeeping;	/*!< once a second: stat items, expired resume records */
	struct uigw_overload overload;		/*!< overload control (core/overload.h); settings in node uigw */

	/* network-initiated interactions (push_cap.c) */
	struct llist_head push_pending;		/*!< pushes sent whose push row is not committed yet */
	/* pushes put off (schedule.c) */
	struct llist_head deferred;		/*!< struct uigw_deferred, by due time */
	unsigned int n_deferred;
	int64_t defer_next_id;
	struct osmo_timer_list defer_timer;
	/*! Where subscribers roam, as their last dialog told (direct-mapped by number) */
	struct uigw_roam {
		uint32_t key;			/*!< hash of the number, 0: empty */
		bool roaming;
		char visited[48];
		int64_t time_ms;
	} *roam;
	unsigned int roam_size;			/*!< power of two */

	/* the outbox (core/dialog_outbox.c) */
	unsigned int chan_depth;		/*!< calls of a channel into the core on the stack */
	struct uigw_dialog *begin_dlg;		/*!< the dialog uigw_dialog_begin() works on, while it is alive */
	struct llist_head outbox;		/*!< dialogs with a held-back screen or end, oldest first */
	struct osmo_timer_list outbox_timer;
};

/*! The gateway the VTY commands act on: the one root object, since libosmocore's VTY commands carry no
 *  context of their own (CTRL commands get theirs from the CTRL handle). Channel nodes put their adapter in
 *  vty->index when entered. Set by uigw_alloc() when unset, cleared by uigw_free() of that gateway. */
extern struct uigw *uigw_vty_root;

/*! Add a timer group (a channel's osmo_tdef array) to the gateway's `timer` / `show timer` commands.
 *  \param[in] own_node  the channel writes these timers in its own configuration node (not node uigw)
 *  \returns 0, or -ENOSPC */
/*! Count a dialog event on its channel's and its campaign's counters (camp NULL: the channel's only). */
void uigw_count(struct uigw *gw, enum uigw_channel ch, struct uigw_campaign *camp, enum uigw_dctr c);

int uigw_tdef_group_add(struct uigw *gw, const char *name, const char *desc, struct osmo_tdef *tdefs, bool own_node);

/*! Allocate the gateway with its embedded defaults (nothing opened yet). */
struct uigw *uigw_alloc(void *ctx);
/*! Load campaigns and open the store after the configuration was read.
 *  \returns 0 on success, negative errno (logged) on failure */
int uigw_start(struct uigw *gw);
/*! Close everything: end dialogs, flush and close the store, free. */
void uigw_free(struct uigw *gw);


/*! (Re)load the campaign folder. On any error the set in service stays active.
 *  \param[out] err  receives "file:line: reason" on failure
 *  \returns 0 on success, negative errno on failure */
int uigw_campaigns_reload(struct uigw *gw, char *err, size_t err_len);
