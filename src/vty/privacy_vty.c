/*! \file privacy_vty.c
 *  The operator's view of one subscriber (enable node): `show subscriber MSISDN`, the one opt-out list of every
 *  channel, `subscriber MSISDN (optout|optin)`, and a subscriber's data: `subscriber MSISDN export FILE` (JSON of
 *  everything held about them) and `subscriber MSISDN erase` (core/optout.h); the opt-out keywords and the stop
 *  option of pushed dialogs (node uigw); the retention periods (node store) and `store purge`. */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <jansson.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/core/pseudonym.h>
#include <osmocom/uigw/core/optout.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/vty/vty.h>
#include <osmocom/uigw/common/vty_nodes.h>

#define g_gw uigw_vty_root

#define SUB_STR "A subscriber\n" "Number (E.164, or national with the configured prefixes)\n"

static int number(struct vty *vty, const char *in, char *out, size_t len)
{
	if (uigw_e164_normalize(in, g_gw->cfg.country_code, g_gw->cfg.national_prefix, out, len) < 0) {
		vty_out(vty, "%% Not a subscriber number: %s%s", in, VTY_NEWLINE);
		return -1;
	}
	return 0;
}

static void job_free(struct uigw_store_job *job, void *data)
{
	talloc_free(job);
}

DEFUN(sub_optout, sub_optout_cmd, "subscriber MSISDN (optout|optin)",
      SUB_STR "Opt the subscriber out of network-initiated interactions, on every channel\n"
      "Opt the subscriber back in\n")
{
	bool out = !strcmp(argv[1], "optout");
	char msisdn[UIGW_MSISDN_MAXLEN];

	if (number(vty, argv[0], msisdn, sizeof(msisdn)) < 0)
		return CMD_WARNING;
	if (!uigw_optout_submit(g_gw, msisdn, out, UIGW_CHAN_VTY, job_free, NULL)) {
		vty_out(vty, "%% Not recorded (no store, or the store refused it: show store)%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	/* the operator reads the state the next command sees: committed now */
	uigw_store_drain(g_gw->store);
	vty_out(vty, "%% %s opted %s network-initiated interactions on every channel%s", msisdn,
		out ? "out of" : "back into", VTY_NEWLINE);
	return CMD_SUCCESS;
}

DEFUN(sub_optout_scope, sub_optout_scope_cmd, "subscriber MSISDN (optout|optin) (campaign|tenant) NAME",
      SUB_STR "Opt the subscriber out of pushes of ...\n" "Opt the subscriber back in to pushes of ...\n"
      "One campaign\n" "Every campaign of one tenant (operator: the operator's own)\n" "Its name\n")
{
	bool out = !strcmp(argv[1], "optout");
	char msisdn[UIGW_MSISDN_MAXLEN], scope[64];

	if (number(vty, argv[0], msisdn, sizeof(msisdn)) < 0)
		return CMD_WARNING;
	snprintf(scope, sizeof(scope), "%s:%s", argv[2], argv[3]);
	if (!uigw_optout_submit_scope(g_gw, msisdn, out, UIGW_CHAN_VTY, scope, job_free, NULL)) {
		vty_out(vty, "%% Not recorded (no store, or the store refused it: show store)%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	uigw_store_drain(g_gw->store);
	vty_out(vty, "%% %s opted %s pushes of %s %s%s", msisdn, out ? "out of" : "back into", argv[2], argv[3],
		VTY_NEWLINE);
	return CMD_SUCCESS;
}

static void scope_line(const char *scope, int64_t time_ms, const char *channel, void *data)
{
	struct vty *vty = data;

	vty_out(vty, " opted out of %s (via %s)%s", scope, channel ? channel : "-", VTY_NEWLINE);
}

DEFUN(show_subscriber, show_subscriber_cmd, "show subscriber MSISDN",
      SHOW_STR SUB_STR)
{
	char msisdn[UIGW_MSISDN_MAXLEN], pseudo[33];
	int64_t now = uigw_wall_ms();
	unsigned int ch, n = 0;
	int opted, pushes;

	if (number(vty, argv[0], msisdn, sizeof(msisdn)) < 0)
		return CMD_WARNING;
	uigw_pseudonym(g_gw->pseudonym_key, msisdn, pseudo);
	vty_out(vty, "Subscriber %s: pseudonym %s%s", msisdn, pseudo, VTY_NEWLINE);
	if (g_gw->store) {
		opted = uigw_store_is_opted_out(g_gw->store, pseudo);
		pushes = uigw_store_push_count(g_gw->store, pseudo, NULL, now - 86400 * 1000LL);
		vty_out(vty, " network-initiated interactions: %s%s", opted < 0 ? "unknown (store error)" :
			opted ? "opted out" : "allowed", VTY_NEWLINE);
		uigw_store_optout_scopes(g_gw->store, pseudo, scope_line, vty);
		if (pushes >= 0)
			vty_out(vty, " pushes in the last 24 h: %d%s", pushes, VTY_NEWLINE);
	} else {
		vty_out(vty, " no store: nothing is recorded%s", VTY_NEWLINE);
	}
	for (ch = 0; ch < _UIGW_CHAN_NUM; ch++) {
		struct uigw_dialog *dlg = uigw_dialog_find(g_gw, msisdn, ch);

		if (!dlg)
			continue;
		vty_out(vty, " dialog %" PRIu64 " on %s: campaign %s, %" PRId64 " s%s", dlg->id,
			uigw_channel_name(ch), dlg->camp ? dlg->camp->name : "-",
			(now - dlg->started_ms) / 1000, VTY_NEWLINE);
		n++;
	}
	if (!n)
		vty_out(vty, " no dialog now%s", VTY_NEWLINE);
	return CMD_SUCCESS;
}

/* everything the store holds about the subscriber, committed: \returns the rows, or negative errno */
static int export_json(const char *msisdn, json_t **out)
{
	char pseudo[33];
	json_t *o = json_object(), *tables = json_object();
	int n;

	if (!o || !tables) {
		json_decref(o);
		json_decref(tables);
		return -ENOMEM;
	}
	uigw_store_drain(g_gw->store);
	uigw_pseudonym(g_gw->pseudonym_key, msisdn, pseudo);
	n = uigw_store_subscriber_export(g_gw->store, pseudo, tables);
	json_object_set_new(o, "msisdn", json_string(msisdn));
	json_object_set_new(o, "pseudonym", json_string(pseudo));
	json_object_set_new(o, "exported", json_integer(uigw_wall_ms()));
	json_object_set_new(o, "rows", json_integer(n < 0 ? 0 : n));
	json_object_set_new(o, "tables", tables);
	if (n < 0) {
		json_decref(o);
		return n;
	}
	*out = o;
	return n;
}

DEFUN(sub_export, sub_export_cmd, "subscriber MSISDN export FILE",
      SUB_STR "Write everything held about the subscriber to a file, as JSON (mode 0600)\n" "File name\n")
{
	char msisdn[UIGW_MSISDN_MAXLEN];
	json_t *o = NULL;
	int n;

	if (number(vty, argv[0], msisdn, sizeof(msisdn)) < 0)
		return CMD_WARNING;
	if (!g_gw->store) {
		vty_out(vty, "%% No store: nothing is held%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	n = export_json(msisdn, &o);
	if (n < 0) {
		vty_out(vty, "%% Export failed: %s%s", strerror(-n), VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (json_dump_file(o, argv[1], JSON_INDENT(1) | JSON_SORT_KEYS) < 0) {
		vty_out(vty, "%% Cannot write %s%s", argv[1], VTY_NEWLINE);
		json_decref(o);
		return CMD_WARNING;
	}
	json_decref(o);
	vty_out(vty, "%% %d rows about %s written to %s%s", n, msisdn, argv[1], VTY_NEWLINE);
	return CMD_SUCCESS;
}

static void erase_done(struct uigw_store_job *job, void *data)
{
	int *rc = data;

	if (rc)
		*rc = job->rc;
	talloc_free(job);
}

DEFUN(sub_erase, sub_erase_cmd, "subscriber MSISDN erase",
      SUB_STR "Erase everything held about the subscriber (answers, dialogs, reports, opt-out, pushes, receipts, "
      "the number itself); their dialogs end now\n")
{
	char msisdn[UIGW_MSISDN_MAXLEN];
	json_t *o = NULL;
	int before, after, rc = 1;

	if (number(vty, argv[0], msisdn, sizeof(msisdn)) < 0)
		return CMD_WARNING;
	if (!g_gw->store) {
		vty_out(vty, "%% No store: nothing is held%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	/* the rows of their running dialogs are written first, then counted and erased with the rest */
	uigw_subscriber_end_dialogs(g_gw, msisdn);
	before = export_json(msisdn, &o);
	json_decref(o);
	o = NULL;
	if (!uigw_subscriber_erase(g_gw, msisdn, erase_done, &rc)) {
		vty_out(vty, "%% Not erased (the store refused the job: show store)%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	uigw_store_drain(g_gw->store);
	after = export_json(msisdn, &o);
	json_decref(o);
	if (rc != 0 || after != 0) {
		vty_out(vty, "%% Erase of %s failed (%d), %d rows left%s", msisdn, rc, after, VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty_out(vty, "%% %s erased: %d rows, none left%s", msisdn, before, VTY_NEWLINE);
	return CMD_SUCCESS;
}

/* ---- node uigw: the keywords of the one opt-out list (SMS and MESSAGE) ---- */

static int set_words(struct vty *vty, char **dst, int argc, const char **argv)
{
	return uigw_vty_set_words(g_gw, dst, argc, argv, 0);
}

DEFUN(cfg_stop_keywords, cfg_stop_keywords_cmd, "stop-keywords .WORDS",
      "Words that opt the subscriber out of network-initiated interactions on every channel, when a whole SMS or "
      "IMS message is one of them (any case)\n" "Keywords, e.g. STOP STOPP UNSUBSCRIBE\n")
{
	return set_words(vty, &g_gw->cfg.stop_keywords, argc, argv);
}

DEFUN(cfg_no_stop_keywords, cfg_no_stop_keywords_cmd, "no stop-keywords", NO_STR "No opt-out keywords\n")
{
	TALLOC_FREE(g_gw->cfg.stop_keywords);
	return CMD_SUCCESS;
}

DEFUN(cfg_stop_reply, cfg_stop_reply_cmd, "stop-reply .TEXT",
      "Confirmation of an opt-out keyword, sent once it is recorded\n" "Text\n")
{
	return set_words(vty, &g_gw->cfg.stop_reply, argc, argv);
}

DEFUN(cfg_start_keywords, cfg_start_keywords_cmd, "start-keywords .WORDS",
      "Words that opt the subscriber back in (whole SMS or IMS message, any case)\n" "Keywords, e.g. START\n")
{
	return set_words(vty, &g_gw->cfg.start_keywords, argc, argv);
}

DEFUN(cfg_no_start_keywords, cfg_no_start_keywords_cmd, "no start-keywords", NO_STR "No opt-in keywords\n")
{
	TALLOC_FREE(g_gw->cfg.start_keywords);
	return CMD_SUCCESS;
}

DEFUN(cfg_start_reply, cfg_start_reply_cmd, "start-reply .TEXT",
      "Confirmation of an opt-in keyword, sent once it is recorded\n" "Text\n")
{
	return set_words(vty, &g_gw->cfg.start_reply, argc, argv);
}

DEFUN(cfg_push_stop, cfg_push_stop_cmd, "push-stop-option KEY .LABEL",
      "Offer a \"stop these messages\" option on every screen of network-initiated USSD and USSI dialogs: choosing "
      "it opts the subscriber out on every channel, confirmed with stop-reply\n"
      "Its key (one no campaign screen uses, e.g. 99)\n" "Its label, e.g. Stop these messages\n")
{
	osmo_talloc_replace_string(g_gw, &g_gw->cfg.push_stop_key, argv[0]);
	return set_words(vty, &g_gw->cfg.push_stop_label, argc - 1, argv + 1);
}

DEFUN(cfg_no_push_stop, cfg_no_push_stop_cmd, "no push-stop-option", NO_STR "No stop option on pushed dialogs\n")
{
	TALLOC_FREE(g_gw->cfg.push_stop_key);
	TALLOC_FREE(g_gw->cfg.push_stop_label);
	return CMD_SUCCESS;
}

static void write_words(struct vty *vty, const char *name, const char *val, const char *def)
{
	if (!val)
		vty_out(vty, " no %s%s", name, VTY_NEWLINE);
	else if (strcmp(val, def))
		vty_out(vty, " %s %s%s", name, val, VTY_NEWLINE);
}

/* ---- node uigw: keywords and confirmations of other languages ---- */

static struct uigw_kw_lang *kw_lang(const char *lang, bool create)
{
	struct uigw_kw_lang *l;

	llist_for_each_entry(l, &g_gw->cfg.kw_langs, list) {
		if (!strcmp(l->lang, lang))
			return l;
	}
	if (!create)
		return NULL;
	l = talloc_zero(g_gw, struct uigw_kw_lang);
	if (!l)
		return NULL;
	OSMO_STRLCPY_ARRAY(l->lang, lang);
	llist_add_tail(&l->list, &g_gw->cfg.kw_langs);
	return l;
}

DEFUN(cfg_kw_lang, cfg_kw_lang_cmd, "keywords LANG (stop|start|stop-reply|start-reply) .WORDS",
      "Opt-out and opt-in keywords of one more language, with its confirmations (a subscriber who writes one of its "
      "words is answered in it)\n" "ISO 639-1 code, e.g. de\n" "Words that opt out (whole SMS or IMS message)\n"
      "Words that opt back in\n" "Confirmation of its opt-out words\n" "Confirmation of its opt-in words\n"
      "Words, or the text\n")
{
	struct uigw_kw_lang *l;
	char **dst;

	if (strlen(argv[0]) != 2 || !isalpha((unsigned char)argv[0][0]) || !isalpha((unsigned char)argv[0][1])) {
		vty_out(vty, "%% A language is two letters (ISO 639-1)%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	l = kw_lang(argv[0], true);
	if (!l)
		return CMD_WARNING;
	dst = !strcmp(argv[1], "stop") ? &l->stop : !strcmp(argv[1], "start") ? &l->start :
	      !strcmp(argv[1], "stop-reply") ? &l->stop_reply : &l->start_reply;
	return uigw_vty_set_words(l, dst, argc, argv, 2);
}

DEFUN(cfg_no_kw_lang, cfg_no_kw_lang_cmd, "no keywords LANG",
      NO_STR "Opt-out and opt-in keywords of one more language\n" "ISO 639-1 code\n")
{
	struct uigw_kw_lang *l = kw_lang(argv[0], false);

	if (!l) {
		vty_out(vty, "%% No keywords of %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	llist_del(&l->list);
	talloc_free(l);
	return CMD_SUCCESS;
}

void uigw_privacy_vty_write(struct vty *vty)
{
	const struct uigw_config *c = &g_gw->cfg;
	const struct uigw_kw_lang *l;

	write_words(vty, "stop-keywords", c->stop_keywords, UIGW_STOP_KEYWORDS);
	if (c->stop_reply && strcmp(c->stop_reply, UIGW_STOP_REPLY))
		vty_out(vty, " stop-reply %s%s", c->stop_reply, VTY_NEWLINE);
	write_words(vty, "start-keywords", c->start_keywords, UIGW_START_KEYWORDS);
	if (c->start_reply && strcmp(c->start_reply, UIGW_START_REPLY))
		vty_out(vty, " start-reply %s%s", c->start_reply, VTY_NEWLINE);
	llist_for_each_entry(l, &c->kw_langs, list) {
		if (l->stop)
			vty_out(vty, " keywords %s stop %s%s", l->lang, l->stop, VTY_NEWLINE);
		if (l->stop_reply)
			vty_out(vty, " keywords %s stop-reply %s%s", l->lang, l->stop_reply, VTY_NEWLINE);
		if (l->start)
			vty_out(vty, " keywords %s start %s%s", l->lang, l->start, VTY_NEWLINE);
		if (l->start_reply)
			vty_out(vty, " keywords %s start-reply %s%s", l->lang, l->start_reply, VTY_NEWLINE);
	}
	if (c->push_stop_key)
		vty_out(vty, " push-stop-option %s %s%s", c->push_stop_key, c->push_stop_label, VTY_NEWLINE);
}

/* ---- node store: retention periods per kind of record ---- */

DEFUN(cfg_store_retention_kind, cfg_store_retention_kind_cmd,
      "retention (answers|dialogs|reporters|push|receipts|audit|cdrs|mapping) <0-36500>",
      "How long a kind of record is kept (purged hourly in batches; 0: for ever)\n"
      "Answers, reactions, app ratings, flags, offers\n" "Dialogs and their trigger parameters\n"
      "Who reported a spam number (the report and the number's count stay)\n"
      "The log of network-initiated interactions (the frequency caps look back as far as it reaches)\n"
      "SMS delivery receipts\n" "The API's audit log\n"
      "Charging records (the table; files handed over are not touched)\n"
      "The operator's pseudonym -> number mapping (as retention-days)\n"
      "Days\n")
{
	int k = get_string_value(uigw_retention_names, argv[0]);

	if (k == UIGW_RET_MAPPING)
		g_gw->store_cfg->retention_days = atoi(argv[1]);
	else if (k > 0 && k < _UIGW_RET_NUM)
		g_gw->store_cfg->retention[k] = atoi(argv[1]);
	return CMD_SUCCESS;
}

/* ---- node store: charging records as CSV files ---- */

DEFUN(cfg_store_cdr_dir, cfg_store_cdr_dir_cmd, "cdr-directory PATH",
      "Write the charging records also as CSV files for a mediation system (next start)\n"
      "Folder (created 0700 if missing); open files end in .csv.part, closed ones in .csv\n")
{
	osmo_talloc_replace_string(g_gw, (char **)&g_gw->store_cfg->cdr_dir, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_store_no_cdr_dir, cfg_store_no_cdr_dir_cmd, "no cdr-directory",
      NO_STR "Keep the charging records in the table cdr only (default)\n")
{
	g_gw->store_cfg->cdr_dir = NULL;	/* the string stays with g_gw */
	return CMD_SUCCESS;
}

DEFUN(cfg_store_cdr_interval, cfg_store_cdr_interval_cmd, "cdr-interval <1-86400>",
      "Close a CSV file of charging records this long after it was opened (default 3600)\n" "Seconds\n")
{
	g_gw->store_cfg->cdr_interval = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_store_cdr_max_size, cfg_store_cdr_max_size_cmd, "cdr-max-size <1-4194304>",
      "Close a CSV file of charging records when it reaches this size (default 10240)\n" "KiB\n")
{
	g_gw->store_cfg->cdr_max_kb = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_store_cdr_records, cfg_store_cdr_records_cmd, "cdr-records (on|off)",
      "Charging records, one per dialog (next start)\n" "Written (default)\n"
      "Not written: neither the table cdr nor CSV files\n")
{
	g_gw->store_cfg->cdr_off = !strcmp(argv[0], "off");
	return CMD_SUCCESS;
}

DEFUN(cfg_store_cdr_subscriber, cfg_store_cdr_subscriber_cmd, "cdr-subscriber (pseudonym|msisdn)",
      "How charging records name the subscriber\n"
      "By the keyed pseudonym of the feedback store (default)\n"
      "By number, for a mediation that bills the subscriber (the table then holds numbers)\n")
{
	g_gw->store_cfg->cdr_msisdn = !strcmp(argv[0], "msisdn");
	return CMD_SUCCESS;
}

static void cdr_line(const struct uigw_cdr_view *r, void *data)
{
	struct vty *vty = data;
	char start[32], scr[16], mt[16];

	uigw_utc_str(start, sizeof(start), r->started_ms, "%Y-%m-%d %H:%M:%S");
	snprintf(scr, sizeof(scr), r->screens < 0 ? "?" : "%d", r->screens);
	snprintf(mt, sizeof(mt), r->mt_messages < 0 ? "?" : "%d", r->mt_messages);
	vty_out(vty, "%6" PRId64 " %s %6.1f s %-9s %-12s %-9s %-10s %-4s %-9s %3s %3s %-8s%s%s%s%s%s", r->id, start,
		(r->ended_ms - r->started_ms) / 1000.0, r->channel ? r->channel : "-",
		r->campaign ? r->campaign : "-", r->tenant ? r->tenant : "-", r->outcome ? r->outcome : "-",
		r->zero_rated ? "free" : "", r->charge_class ? r->charge_class : "-", scr, mt,
		r->roaming ? (r->visited ? r->visited : "roaming") : "home",
		r->refusal ? " refused:" : "", r->refusal ? r->refusal : "", r->test ? " test" : "",
		r->recovered ? " recovered" : "", VTY_NEWLINE);
}

DEFUN(show_charging, show_charging_cmd, "show charging records [<1-1000>]",
      SHOW_STR "Charging records (one per dialog)\n" "The last ones written, oldest first\n"
      "How many (default 20)\n")
{
	struct uigw_store_stats st;

	if (!g_gw->store) {
		vty_out(vty, "%% No store%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	/* what ended a moment ago is in the store's log job: committed first */
	uigw_store_drain(g_gw->store);
	vty_out(vty, "record start (UTC)          length channel   campaign     tenant    outcome    zero class    "
		"scr  mt network%s", VTY_NEWLINE);
	if (uigw_store_cdr_last(g_gw->store, argc ? atoi(argv[0]) : 20, cdr_line, vty) < 0) {
		vty_out(vty, "%% Cannot read the charging records%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	uigw_store_stats(g_gw->store, &st);
	if (uigw_store_cfg_of(g_gw->store)->cdr_dir)
		vty_out(vty, "In CSV files: up to record %" PRId64 ", %" PRIu64 " files closed, %" PRIu64
			" appends failed%s", st.cdr_last, st.cdr_files, st.cdr_errors, VTY_NEWLINE);
	return CMD_SUCCESS;
}

void uigw_privacy_vty_write_store(struct vty *vty)
{
	const struct uigw_store_cfg *c = g_gw->store_cfg;
	struct uigw_store_cfg d;
	unsigned int k;

	uigw_store_cfg_defaults(&d);
	if (c->cdr_dir)
		vty_out(vty, " cdr-directory %s%s", c->cdr_dir, VTY_NEWLINE);
	if (c->cdr_interval != d.cdr_interval)
		vty_out(vty, " cdr-interval %u%s", c->cdr_interval, VTY_NEWLINE);
	if (c->cdr_max_kb != d.cdr_max_kb)
		vty_out(vty, " cdr-max-size %u%s", c->cdr_max_kb, VTY_NEWLINE);
	if (c->cdr_off)
		vty_out(vty, " cdr-records off%s", VTY_NEWLINE);
	if (c->cdr_msisdn)
		vty_out(vty, " cdr-subscriber msisdn%s", VTY_NEWLINE);

	for (k = 1; k < _UIGW_RET_NUM; k++) {
		if (c->retention[k])
			vty_out(vty, " retention %s %u%s", get_value_string(uigw_retention_names, k), c->retention[k],
				VTY_NEWLINE);
	}
}

DEFUN(store_purge, store_purge_cmd, "store purge",
      "The feedback store\n" "Delete now what is past its retention period (one batch per table; the rest "
      "follows in the background)\n")
{
	struct uigw_store_job *job;
	struct uigw_store_stats before, after;

	if (!g_gw->store) {
		vty_out(vty, "%% No store%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	uigw_store_stats(g_gw->store, &before);
	job = uigw_store_job_alloc(g_gw->store, job_free, NULL);
	if (!job || !uigw_store_job_row(job, UIGW_ROW_PURGE) || uigw_store_submit(job) < 0) {
		talloc_free(job);
		vty_out(vty, "%% The store refused the job (show store)%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	uigw_store_drain(g_gw->store);
	uigw_store_stats(g_gw->store, &after);
	vty_out(vty, "%% Purged %" PRIu64 " rows%s", after.purged - before.purged, VTY_NEWLINE);
	return CMD_SUCCESS;
}

void uigw_privacy_vty_init(void)
{
	install_element(STORE_NODE, &cfg_store_retention_kind_cmd);
	install_element(STORE_NODE, &cfg_store_cdr_dir_cmd);
	install_element(STORE_NODE, &cfg_store_no_cdr_dir_cmd);
	install_element(STORE_NODE, &cfg_store_cdr_interval_cmd);
	install_element(STORE_NODE, &cfg_store_cdr_max_size_cmd);
	install_element(STORE_NODE, &cfg_store_cdr_subscriber_cmd);
	install_element(STORE_NODE, &cfg_store_cdr_records_cmd);
	install_element(ENABLE_NODE, &store_purge_cmd);
	install_element(UIGW_NODE, &cfg_stop_keywords_cmd);
	install_element(UIGW_NODE, &cfg_no_stop_keywords_cmd);
	install_element(UIGW_NODE, &cfg_stop_reply_cmd);
	install_element(UIGW_NODE, &cfg_start_keywords_cmd);
	install_element(UIGW_NODE, &cfg_no_start_keywords_cmd);
	install_element(UIGW_NODE, &cfg_start_reply_cmd);
	install_element(UIGW_NODE, &cfg_push_stop_cmd);
	install_element(UIGW_NODE, &cfg_kw_lang_cmd);
	install_element(UIGW_NODE, &cfg_no_kw_lang_cmd);
	install_element(UIGW_NODE, &cfg_no_push_stop_cmd);
	install_element(ENABLE_NODE, &sub_export_cmd);
	install_element(ENABLE_NODE, &sub_erase_cmd);
	install_element_ve(&show_subscriber_cmd);
	install_element_ve(&show_charging_cmd);
	install_element(ENABLE_NODE, &sub_optout_cmd);
	install_element(ENABLE_NODE, &sub_optout_scope_cmd);
}
