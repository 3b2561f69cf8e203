/*! \file map_priv.h
 *  Inside channel map: the adapter, its TCAP transactions and the transaction layer (map_tcap.c) that
 *  map_chan.c (the channel operations, receiving, the link) builds on. */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/hashtable.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/timer.h>
#include <osmocom/sigtran/sccp_sap.h>
#include <osmocom/uigw/common/channel.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/codec/ss_codec.h>
#include <osmocom/uigw/codec/tcap.h>
#include <osmocom/uigw/codec/map.h>
#include <osmocom/uigw/chan/map.h>

struct uigw_dialog;

enum map_ctr {
	MAP_CTR_RX_BEGIN,
	MAP_CTR_RX_CONTINUE,
	MAP_CTR_RX_END,
	MAP_CTR_RX_ABORT,
	MAP_CTR_RX_MALFORMED,
	MAP_CTR_RX_UNKNOWN_TID,
	MAP_CTR_RX_UNKNOWN_OP,
	MAP_CTR_RX_RETURN_ERROR,
	MAP_CTR_RX_REJECT,
	MAP_CTR_RX_NOTICE,
	MAP_CTR_TX_BEGIN,
	MAP_CTR_TX_CONTINUE,
	MAP_CTR_TX_END,
	MAP_CTR_TX_U_ABORT,
	MAP_CTR_TX_P_ABORT,
	MAP_CTR_TX_REJECT,
	MAP_CTR_TX_RETURN_ERROR,
	MAP_CTR_TX_FAILED,
	MAP_CTR_ACN_REFUSED,
	MAP_CTR_TIMEOUT_ANSWER,
	MAP_CTR_TIMEOUT_PUSH,
	MAP_CTR_TIMEOUT_GUARD,
	MAP_CTR_PUSH_DELIVERED,
	MAP_CTR_PUSH_FAILED,
};

/*! The life of one transaction (osmo_fsm "MAP_TCAP", `show fsm-instances MAP_TCAP`). */
enum trans_state {
	TR_ST_WAIT_SCREEN,	/*!< our turn: the engine's next screen is due (MO after the Begin or an answer) */
	TR_ST_PUSH_READY,	/*!< a push prepared: the first screen goes out in our TC-BEGIN */
	TR_ST_PUSH_SENT,	/*!< our TC-BEGIN is out: the network's first answer is due (X202) */
	TR_ST_WAIT_ANSWER,	/*!< our 60/61 is out: the subscriber's answer is due (X201) */
	TR_ST_DONE,		/*!< ended: gone once no call into the core is on the stack */
};

enum trans_event {
	TR_EV_SCREEN_SENT,	/*!< our Continue/Begin with a request went out */
	TR_EV_ANSWER,		/*!< the subscriber's answer came */
	TR_EV_END,		/*!< the transaction ends (either side) */
};

/*! One TCAP transaction, bound to at most one dialog. A talloc child of its FSM instance. */
struct map_trans {
	struct llist_head list;
	struct hlist_node hnode;	/*!< in m->by_tid */
	struct osmo_fsm_inst *fi;
	struct uigw_map *m;
	uint32_t tid;			/*!< our transaction id */
	struct uigw_tcap_tid peer;	/*!< the peer's (len 0 until its first message) */
	struct osmo_sccp_addr peer_addr;	/*!< where our messages go */
	bool mo;			/*!< begun by the network side (processUnstructuredSS-Request) */
	bool aare_due;			/*!< our first backward message carries the AARE */
	int8_t ms_invoke_id;		/*!< MO: the invoke id of the 59 */
	int8_t our_invoke_id;		/*!< the invoke id of our last request */
	int our_op;			/*!< that request's operation: 60 or 61 */
	bool final_notice;		/*!< our 61 is the dialog's last screen: close after its answer */
	struct uigw_dialog *dlg;	/*!< running dialog, or NULL */
	bool in_core;			/*!< inside a call into the dialog engine: free later */
	char subscriber[UIGW_MSISDN_MAXLEN];
	int64_t started_ms;		/*!< for X203 (m->trans is in this order) */
};

#define TR_DONE(t) ((t)->fi->state == TR_ST_DONE)

struct uigw_map {
	struct uigw *gw;
	struct uigw_chan *chan;
	struct uigw_map_cfg cfg;
	void *ss7_ctx;
	struct osmo_sccp_instance *sccp;
	struct osmo_sccp_user *scu;
	struct osmo_sccp_addr local_addr;
	bool started;
	struct llist_head trans;
	unsigned int n_trans;
	DECLARE_HASHTABLE(by_tid, 14);	/* 16,384 chains: a few transactions each at 10,000 dialogs/s */
	struct osmo_timer_list guard;	/*!< X203: one sweep a second over the oldest transactions */
	uint32_t next_tid;
	unsigned int tx_queued;	/*!< TCAP messages given to SCCP since an IPA link last sent (map_ipa.c) */
	struct rate_ctr_group *ctrs;
	struct osmo_tdef *tdefs;
};

#define LOGPTR(t, level, fmt, args...) \
	LOGP(DMAP, level, "tid %08x/%s: " fmt, (t)->tid, (t)->subscriber[0] ? (t)->subscriber : "-", ## args)

static inline void ctr_inc(struct uigw_map *m, enum map_ctr c)
{
	rate_ctr_inc2(m->ctrs, c);
}

static inline unsigned long tdef_ms(struct uigw_map *m, int T)
{
	return osmo_tdef_get(m->tdefs, T, OSMO_TDEF_MS, 1000);
}

/* map_tcap.c: transactions and what they send */
extern struct osmo_fsm map_tr_fsm;
struct map_trans *map_tr_find(struct uigw_map *m, uint32_t tid);
/*! A new transaction with our next tid; mo: begun by the network side, else a push (state PUSH_READY). */
struct map_trans *map_tr_alloc(struct uigw_map *m, bool mo);
void map_tr_free(struct map_trans *t);
/*! Ended (state DONE); freed unless a call into the engine is still on the stack for it. */
void map_tr_done(struct map_trans *t);
/*! One TCAP message to \a called. \returns 0 or negative errno */
int map_tx_tcap(struct uigw_map *m, const struct osmo_sccp_addr *called, const struct uigw_tcap_msg *tm);
/*! An AARE for networkUnstructuredSsContext-v2 in \a tm. */
void map_set_aare(struct uigw_tcap_msg *tm, uint8_t result, uint8_t diag);
/*! A Continue or End of \a t with at most one component; the AARE rides along with the first. */
int map_tx_trans(struct map_trans *t, enum uigw_tcap_type type, const struct uigw_ss_comp *c);
int map_tx_u_abort(struct uigw_map *m, const struct osmo_sccp_addr *to, const struct uigw_tcap_tid *dtid,
		   bool aare_due, enum uigw_map_uabort why, uint8_t reason);
/*! TC-U-ABORT of \a t to its peer (logged only if the peer never answered). */
void map_tr_abort(struct map_trans *t, const char *why);
int map_tx_p_abort(struct uigw_map *m, const struct osmo_sccp_addr *to, const struct uigw_tcap_tid *dtid,
		   uint8_t cause);
int map_tx_end_error(struct map_trans *t, int8_t invoke_id, int err);
int map_tx_end_reject(struct map_trans *t, bool has_invoke_id, int8_t invoke_id, uint8_t tag, uint8_t code);
/*! X203: the timer callback sweeping the oldest transactions (m->guard). */
void map_guard_sweep_cb(void *data);
void map_link_tune(struct uigw_map *m);
/* map_ipa.c: batched reads and writes on the IPA client links of \a inst's ASPs (installed, or again after a
 * restart of an ASP; called once a second) */
void map_ipa_tune(struct uigw_map *m, struct osmo_ss7_instance *inst);
