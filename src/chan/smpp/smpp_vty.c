/*! \file smpp_vty.c
 *  The SMPP adapter's life cycle and VTY: node `smpp` (adapter settings, timers) with `smsc NAME` sub-nodes
 *  (one link each), and `show smpp`. */

#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/tdef.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/vty_nodes.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/chan/smpp.h>
#include <osmocom/uigw/store/store.h>


const struct value_string uigw_smpp_dialect_names[] = {
	{ UIGW_SMPP_DIALECT_STD, "standard" },
	{ UIGW_SMPP_DIALECT_ITS_END, "its-session-end" },
	{ 0, NULL }
};

const struct value_string uigw_smpp_alphabet_names[] = {
	{ UIGW_SMPP_ALPHA_GSM7, "gsm7" },
	{ UIGW_SMPP_ALPHA_LATIN1, "latin1" },
	{ UIGW_SMPP_ALPHA_IA5, "ia5" },
	{ 0, NULL }
};

const struct value_string uigw_smpp_long_mode_names[] = {
	{ UIGW_SMPP_LONG_UDH, "udh" },
	{ UIGW_SMPP_LONG_SAR, "sar" },
	{ UIGW_SMPP_LONG_PAYLOAD, "payload" },
	{ 0, NULL }
};

static const struct osmo_tdef smpp_tdefs_default[] = {
	{ .T = SMPP_T_CONNECT, .default_val = 5000, .unit = OSMO_TDEF_MS, .desc = "TCP connect to the SMSC" },
	{ .T = SMPP_T_BIND, .default_val = 5000, .unit = OSMO_TDEF_MS, .desc = "bind_transceiver_resp" },
	{ .T = SMPP_T_RESP, .default_val = 10000, .unit = OSMO_TDEF_MS, .desc = "submit_sm_resp" },
	{ .T = SMPP_T_RECONNECT, .default_val = 1000, .unit = OSMO_TDEF_MS,
	  .desc = "first reconnect delay (doubles up to 30 s)" },
	{ .T = SMPP_T_THROTTLE, .default_val = 1000, .unit = OSMO_TDEF_MS, .desc = "pause after THROTTLED/MSGQFUL" },
	{ .T = SMPP_T_INACTIVITY, .default_val = 90000, .unit = OSMO_TDEF_MS,
	  .desc = "nothing received for this long: drop the link" },
	{ .T = SMPP_T_MT_VALIDITY, .default_val = 86400, .unit = OSMO_TDEF_S,
	  .desc = "a dialog's last message (or a notice) waits at most this long for a link, also across restarts" },
	{}
};

static const struct value_string timer_names[] = {
	{ -SMPP_T_CONNECT, "connect" },
	{ -SMPP_T_BIND, "bind" },
	{ -SMPP_T_RESP, "response" },
	{ -SMPP_T_RECONNECT, "reconnect" },
	{ -SMPP_T_THROTTLE, "throttle" },
	{ -SMPP_T_INACTIVITY, "inactivity" },
	{ 0, NULL }
};

/* the adapter of the gateway the VTY acts on (channels smpp-sms and smpp-ussd share it) */
static struct uigw_smpp *root_smpp(void)
{
	return uigw_vty_root ? uigw_chan_priv(uigw_vty_root, UIGW_CHAN_SMPP_SMS) : NULL;
}

static uint32_t smpp_rx(struct uigw_smpp_link *link, const struct uigw_smpp_pdu *pdu)
{
	if (!strcmp(pdu->service_type, "USSD") || pdu->ussd_service_op >= 0)
		return uigw_smpp_ussd_rx(link->smpp, link, pdu);
	return uigw_smpp_sms_rx(link->smpp, link, pdu);
}

/* ---- VTY ---- */

static struct cmd_node smpp_node = { .node = SMPP_NODE, .prompt = "%s(config-smpp)# ", .vtysh = 1 };
static struct cmd_node smsc_node = { .node = SMSC_NODE, .prompt = "%s(config-smpp-smsc)# ", .vtysh = 1 };

DEFUN(cfg_smpp, cfg_smpp_cmd, "smpp", "Configure the SMPP channels (smpp-sms, smpp-ussd)\n")
{
	vty->node = SMPP_NODE;
	vty->index = root_smpp();
	return CMD_SUCCESS;
}

DEFUN(cfg_smpp_long, cfg_smpp_long_cmd, "long-messages (udh|sar|payload)",
      "How replies longer than one SMS are sent\n" "Parts with a concatenation UDH\n" "Parts with SAR TLVs\n"
      "One submit_sm with message_payload\n")
{
	root_smpp()->long_mode = get_string_value(uigw_smpp_long_mode_names, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_smpp_source, cfg_smpp_source_cmd, "default-source-address ADDR",
      "Source address of network-initiated SMS (replies use the short code the subscriber wrote to)\n"
      "Short code\n")
{
	osmo_talloc_replace_string(root_smpp(), &root_smpp()->sms_source, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_smpp_roaming_tlv, cfg_smpp_roaming_tlv_cmd, "roaming-tlv TAG",
      "The vendor TLV of deliver_sm in which the SMSC tells where the sender is (VLR / MSC number or network name): "
      "a sender elsewhere than roaming-home is roaming\n" "Tag, 0x1400..0x3fff (hex with 0x, or decimal)\n")
{
	unsigned long t = strtoul(argv[0], NULL, 0);

	if (t < 0x1400 || t > 0x3fff) {
		vty_out(vty, "%% A vendor-specific tag is 0x1400..0x3fff%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	root_smpp()->roaming_tlv = t;
	return CMD_SUCCESS;
}

DEFUN(cfg_smpp_overload_resp, cfg_smpp_overload_resp_cmd, "overload-response (throttled|busy-screen)",
      "How an SMS that would begin a dialog is refused while the gateway takes no new ones (overload control, "
      "max-dialogs, a failing store); USSD sessions always get the busy text\n"
      "deliver_sm_resp ESME_RTHROTTLED: the SMSC keeps the message and delivers it again later (default)\n"
      "Take the message and answer it with the busy text\n")
{
	root_smpp()->overload_screen = !strcmp(argv[0], "busy-screen");
	return CMD_SUCCESS;
}

DEFUN(cfg_smpp_no_roaming_tlv, cfg_smpp_no_roaming_tlv_cmd, "no roaming-tlv",
      NO_STR "The SMSC tells no location: nobody is roaming on SMPP (default)\n")
{
	root_smpp()->roaming_tlv = 0;
	return CMD_SUCCESS;
}

DEFUN(cfg_smpp_roaming_home, cfg_smpp_roaming_home_cmd, "roaming-home .PREFIXES",
      "Home locations in the roaming TLV: a value that starts with none of them is roaming (without them: any value)\n"
      "Prefixes, e.g. 49172 (VLR numbers) or a network name\n")
{
	return uigw_vty_set_words(root_smpp(), &root_smpp()->roaming_home, argc, argv, 0);
}

DEFUN(cfg_smpp_dlr, cfg_smpp_dlr_cmd, "delivery-receipts (on|off)",
      "Request delivery receipts for replies\n" "registered_delivery 1\n" "registered_delivery 0\n")
{
	root_smpp()->request_dlr = !strcmp(argv[0], "on");
	return CMD_SUCCESS;
}

DEFUN(cfg_smpp_mt_in_doubt, cfg_smpp_mt_in_doubt_cmd, "mt-in-doubt (resend|drop)",
      "A final message or notice the SMSC may have taken when the gateway stopped (no submit_sm_resp recorded)\n"
      "Send it again after the restart: at least once; the subscriber may get it twice (default)\n"
      "Drop it: at most once; each such message is marked in the store before it goes out\n")
{
	root_smpp()->mt_in_doubt_drop = argv[0][0] == 'd';
	return CMD_SUCCESS;
}

DEFUN(cfg_smpp_attempts, cfg_smpp_attempts_cmd, "max-attempts <1-100>",
      "Submits of one reply refused with a permanent error before it is dropped (THROTTLED never counts)\n"
      "Attempts\n")
{
	root_smpp()->max_attempts = atoi(argv[0]);
	return CMD_SUCCESS;
}

/* The opt-out keywords moved to node uigw (one list for SMS and MESSAGE); these set the same settings, so that
 * older configurations keep working, and are written there. */
static int set_core_words(struct vty *vty, char **dst, int argc, const char **argv)
{
	return uigw_vty_set_words(root_smpp()->gw, dst, argc, argv, 0);
}

DEFUN_DEPRECATED(cfg_smpp_stop, cfg_smpp_stop_cmd, "stop-keywords .WORDS",
		 "Deprecated: stop-keywords in node uigw\n" "Keywords\n")
{
	return set_core_words(vty, &root_smpp()->gw->cfg.stop_keywords, argc, argv);
}

DEFUN_DEPRECATED(cfg_smpp_no_stop, cfg_smpp_no_stop_cmd, "no stop-keywords",
		 NO_STR "Deprecated: no stop-keywords in node uigw\n")
{
	TALLOC_FREE(root_smpp()->gw->cfg.stop_keywords);
	return CMD_SUCCESS;
}

DEFUN_DEPRECATED(cfg_smpp_stop_reply, cfg_smpp_stop_reply_cmd, "stop-reply .TEXT",
		 "Deprecated: stop-reply in node uigw\n" "Text\n")
{
	return set_core_words(vty, &root_smpp()->gw->cfg.stop_reply, argc, argv);
}

DEFUN(cfg_smpp_timer, cfg_smpp_timer_cmd,
      "timer (connect|bind|response|reconnect|throttle|inactivity) <1-3600000>",
      "SMPP timers, in milliseconds\n" "TCP connect\n" "bind_transceiver_resp\n" "submit_sm_resp\n"
      "First reconnect delay\n" "Pause after THROTTLED/MSGQFUL\n" "Drop the link after this long without a PDU\n"
      "Milliseconds\n")
{
	int T = -get_string_value(timer_names, argv[0]);

	osmo_tdef_set(root_smpp()->tdefs, T, atoi(argv[1]), OSMO_TDEF_MS);
	return CMD_SUCCESS;
}

DEFUN(cfg_smpp_mt_validity, cfg_smpp_mt_validity_cmd, "mt-validity <1-2592000>",
      "How long a dialog's last message (or a notice) may wait for a link, also across restarts\n" "Seconds\n")
{
	osmo_tdef_set(root_smpp()->tdefs, SMPP_T_MT_VALIDITY, atoi(argv[0]), OSMO_TDEF_S);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc, cfg_smsc_cmd, "smsc NAME", "Configure a link to an SMSC\n" "Link name\n")
{
	struct uigw_smpp_link *link = uigw_smpp_link_get(root_smpp(), argv[0], true);

	if (!link) {
		vty_out(vty, "%% Cannot create smsc %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty->node = SMSC_NODE;
	vty->index = link;
	return CMD_SUCCESS;
}

DEFUN(cfg_no_smsc, cfg_no_smsc_cmd, "no smsc NAME", NO_STR "Remove a link to an SMSC\n" "Link name\n")
{
	struct uigw_smpp_link *link = uigw_smpp_link_get(root_smpp(), argv[0], false);

	if (!link) {
		vty_out(vty, "%% No smsc %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	talloc_free(link);
	return CMD_SUCCESS;
}

#define LINK ((struct uigw_smpp_link *)vty->index)

static void link_changed(struct vty *vty)
{
	/* applies at once when running; while the configuration is read nothing is started yet */
	if (root_smpp()->started)
		uigw_smpp_link_restart(LINK);
}

DEFUN(cfg_smsc_ip, cfg_smsc_ip_cmd, "remote-ip A.B.C.D", "SMSC address\n" "IPv4 address\n")
{
	osmo_talloc_replace_string(LINK, &LINK->remote_ip, argv[0]);
	link_changed(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_port, cfg_smsc_port_cmd, "remote-port <1-65535>", "SMSC port\n" "TCP port\n")
{
	LINK->remote_port = atoi(argv[0]);
	link_changed(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_sysid, cfg_smsc_sysid_cmd, "system-id ID", "ESME system_id to bind with\n" "At most 15 characters\n")
{
	if (strlen(argv[0]) > 15) {
		vty_out(vty, "%% system-id is at most 15 characters%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	osmo_talloc_replace_string(LINK, &LINK->system_id, argv[0]);
	link_changed(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_pw, cfg_smsc_pw_cmd, "password PW", "Password to bind with\n" "At most 8 characters\n")
{
	if (strlen(argv[0]) > 8) {
		vty_out(vty, "%% password is at most 8 characters%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	osmo_talloc_replace_string(LINK, &LINK->password, argv[0]);
	link_changed(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_systype, cfg_smsc_systype_cmd, "system-type TYPE", "ESME system_type\n" "At most 12 characters\n")
{
	if (strlen(argv[0]) > 12) {
		vty_out(vty, "%% system-type is at most 12 characters%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	osmo_talloc_replace_string(LINK, &LINK->system_type, argv[0]);
	link_changed(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_no_systype, cfg_smsc_no_systype_cmd, "no system-type", NO_STR "Empty system_type\n")
{
	osmo_talloc_replace_string(LINK, &LINK->system_type, "");
	link_changed(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_bind, cfg_smsc_bind_cmd, "bind-mode transceiver",
      "How to bind\n" "One bind_transceiver for both directions\n")
{
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_prio, cfg_smsc_prio_cmd, "priority <0-255>",
      "Failover order: the bound links of the lowest number carry the traffic (shared if equal), the others stand "
      "by\n" "Priority\n")
{
	struct uigw_smpp_link *link = LINK, *pos;

	link->priority = atoi(argv[0]);
	/* keep the list sorted */
	llist_del(&link->list);
	llist_for_each_entry(pos, &root_smpp()->links, list) {
		if (pos->priority > link->priority) {
			llist_add_tail(&link->list, &pos->list);
			return CMD_SUCCESS;
		}
	}
	llist_add_tail(&link->list, &root_smpp()->links);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_window, cfg_smsc_window_cmd, "window <1-10000>", "Outstanding requests at most\n" "Requests\n")
{
	LINK->window = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_enq, cfg_smsc_enq_cmd, "enquire-interval <0-3600>",
      "Seconds between enquire_link (0: none)\n" "Seconds\n")
{
	LINK->enquire_interval = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_rate, cfg_smsc_rate_cmd, "rate <0-1000000>", "submit_sm per second at most (0: no limit)\n"
      "Per second\n")
{
	LINK->rate = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_dialect, cfg_smsc_dialect_cmd, "dialect (standard|its-session-end)",
      "USSD session dialect\n" "ussd_service_op 2 continue / 17 end, its_session_info correlation\n"
      "End of session only in its_session_info bit 0\n")
{
	LINK->dialect = get_string_value(uigw_smpp_dialect_names, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_alpha, cfg_smsc_alpha_cmd, "default-alphabet (gsm7|latin1|ia5)",
      "What data_coding 0 means at this SMSC\n" "GSM 03.38, one septet per octet\n" "ISO 8859-1\n" "ASCII\n")
{
	LINK->alphabet = get_string_value(uigw_smpp_alphabet_names, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_shutdown, cfg_smsc_shutdown_cmd, "shutdown", "Take the link down\n")
{
	LINK->enabled = false;
	link_changed(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsc_no_shutdown, cfg_smsc_no_shutdown_cmd, "no shutdown", NO_STR "Bring the link up\n")
{
	LINK->enabled = true;
	link_changed(vty);
	return CMD_SUCCESS;
}

static int config_write_smpp(struct vty *vty)
{
	struct uigw_smpp *s = root_smpp();
	int i;

	vty_out(vty, "smpp%s", VTY_NEWLINE);
	vty_out(vty, " long-messages %s%s", get_value_string(uigw_smpp_long_mode_names, s->long_mode), VTY_NEWLINE);
	vty_out(vty, " default-source-address %s%s", s->sms_source, VTY_NEWLINE);
	vty_out(vty, " delivery-receipts %s%s", s->request_dlr ? "on" : "off", VTY_NEWLINE);
	if (s->roaming_tlv)
		vty_out(vty, " roaming-tlv 0x%04x%s", s->roaming_tlv, VTY_NEWLINE);
	if (s->roaming_home)
		vty_out(vty, " roaming-home %s%s", s->roaming_home, VTY_NEWLINE);
	vty_out(vty, " max-attempts %u%s", s->max_attempts, VTY_NEWLINE);
	if (s->mt_in_doubt_drop)
		vty_out(vty, " mt-in-doubt drop%s", VTY_NEWLINE);
	if (s->overload_screen)
		vty_out(vty, " overload-response busy-screen%s", VTY_NEWLINE);
	for (i = 0; timer_names[i].str; i++) {
		struct osmo_tdef *t = osmo_tdef_get_entry(s->tdefs, -timer_names[i].value);

		if (t && t->val != t->default_val)
			vty_out(vty, " timer %s %lu%s", timer_names[i].str, t->val, VTY_NEWLINE);
	}
	{
		struct osmo_tdef *t = osmo_tdef_get_entry(s->tdefs, SMPP_T_MT_VALIDITY);

		if (t && t->val != t->default_val)
			vty_out(vty, " mt-validity %lu%s", t->val, VTY_NEWLINE);
	}
	return CMD_SUCCESS;
}

static int config_write_smsc(struct vty *vty)
{
	struct uigw_smpp_link *l;

	llist_for_each_entry(l, &root_smpp()->links, list) {
		vty_out(vty, " smsc %s%s", l->name, VTY_NEWLINE);
		vty_out(vty, "  remote-ip %s%s", l->remote_ip, VTY_NEWLINE);
		vty_out(vty, "  remote-port %u%s", l->remote_port, VTY_NEWLINE);
		vty_out(vty, "  system-id %s%s", l->system_id, VTY_NEWLINE);
		vty_out(vty, "  password %s%s", l->password, VTY_NEWLINE);
		if (l->system_type[0])
			vty_out(vty, "  system-type %s%s", l->system_type, VTY_NEWLINE);
		vty_out(vty, "  bind-mode transceiver%s", VTY_NEWLINE);
		vty_out(vty, "  priority %u%s", l->priority, VTY_NEWLINE);
		vty_out(vty, "  window %u%s", l->window, VTY_NEWLINE);
		vty_out(vty, "  enquire-interval %u%s", l->enquire_interval, VTY_NEWLINE);
		vty_out(vty, "  rate %u%s", l->rate, VTY_NEWLINE);
		vty_out(vty, "  dialect %s%s", get_value_string(uigw_smpp_dialect_names, l->dialect), VTY_NEWLINE);
		vty_out(vty, "  default-alphabet %s%s", get_value_string(uigw_smpp_alphabet_names, l->alphabet),
			VTY_NEWLINE);
		vty_out(vty, "  %sshutdown%s", l->enabled ? "no " : "", VTY_NEWLINE);
	}
	return CMD_SUCCESS;
}

static void show_receipt_state(const char *state, int64_t n, void *data)
{
	struct vty *vty = data;

	vty_out(vty, " %s %lld", state, (long long)n);
}

void uigw_smpp_vty_show(struct vty *vty, struct uigw_smpp *s)
{
	struct uigw_smpp_link *l;

	vty_out(vty, "SMPP: %u queued, %lu dropped, %lu receipts; SMS refused with THROTTLED while busy: %lu%s",
		s->queue_len, s->mt_dropped, s->dlr_rx, s->mo_throttled, VTY_NEWLINE);
	vty_out(vty, "USSD: %lu in, %lu out, %lu refused; opt-outs %lu, opt-ins %lu%s", s->ussd_mo, s->ussd_mt,
		s->ussd_bad, s->optouts, s->optins, VTY_NEWLINE);
	vty_out(vty, "MT queue: %lu stored, %lu store errors, %lu restored; dropped: %lu dialog ended, "
		"%lu restart, %lu expired%s", s->mt_stored, s->mt_store_err, s->mt_restored, s->mt_dropped_ended,
		s->mt_dropped_restart, s->mt_expired, VTY_NEWLINE);
	vty_out(vty, "MT in doubt after a restart: %s; %lu dropped, %lu marks committed%s",
		s->mt_in_doubt_drop ? "drop (at most once)" : "resend (at least once)", s->mt_in_doubt, s->mt_marks,
		VTY_NEWLINE);
	if (s->gw->store) {
		vty_out(vty, "Delivery receipts (%s; per message state):", s->request_dlr ? "requested" :
			"not requested");
		uigw_store_receipt_counts(s->gw->store, show_receipt_state, vty);
		vty_out(vty, "%s", VTY_NEWLINE);
	}
	llist_for_each_entry(l, &s->links, list) {
		vty_out(vty, " smsc %s %s:%u system-id %s: %s%s, window %u/%u, rate %u/s%s", l->name, l->remote_ip,
			l->remote_port, l->system_id,
			get_value_string(uigw_smpp_link_state_names, l->fi->state), l->enabled ? "" : " (shutdown)",
			l->n_inflight, l->window, l->rate, VTY_NEWLINE);
#define C(x) (unsigned long)rate_ctr_group_get_ctr(l->ctrs, SMPP_LINK_CTR_##x)->current
		vty_out(vty, "  connects %lu, binds %lu, bind failures %lu, disconnects %lu%s", C(CONNECTS),
			C(BINDS), C(BIND_FAILS), C(DISCONNECTS), VTY_NEWLINE);
		vty_out(vty, "  submit_sm %lu (ok %lu, error %lu, throttled %lu, timeout %lu), deliver_sm %lu, "
			"bad PDUs %lu, generic_nack sent %lu / received %lu%s", C(TX_SUBMIT), C(TX_SUBMIT_OK),
			C(TX_SUBMIT_ERR), C(TX_THROTTLED), C(TX_TIMEOUT), C(RX_DELIVER), C(RX_BAD),
			C(TX_NACK), C(RX_NACK), VTY_NEWLINE);
#undef C
	}
}

DEFUN(show_smpp, show_smpp_cmd, "show smpp", SHOW_STR "SMPP links, queue and counters\n")
{
	uigw_smpp_vty_show(vty, root_smpp());
	return CMD_SUCCESS;
}

void uigw_smpp_vty_init(struct uigw_smpp *smpp)
{
	static bool installed;

	/* the commands act on uigw_vty_root's adapter: installed once per process (unit tests make several) */
	if (installed)
		return;
	installed = true;
	install_element(CONFIG_NODE, &cfg_smpp_cmd);
	install_node(&smpp_node, config_write_smpp);
	install_element(SMPP_NODE, &cfg_smpp_long_cmd);
	install_element(SMPP_NODE, &cfg_smpp_source_cmd);
	install_element(SMPP_NODE, &cfg_smpp_dlr_cmd);
	install_element(SMPP_NODE, &cfg_smpp_attempts_cmd);
	install_element(SMPP_NODE, &cfg_smpp_timer_cmd);
	install_element(SMPP_NODE, &cfg_smpp_mt_validity_cmd);
	install_element(SMPP_NODE, &cfg_smpp_mt_in_doubt_cmd);
	install_element(SMPP_NODE, &cfg_smpp_stop_cmd);
	install_element(SMPP_NODE, &cfg_smpp_no_stop_cmd);
	install_element(SMPP_NODE, &cfg_smpp_stop_reply_cmd);
	install_element(SMPP_NODE, &cfg_smpp_roaming_tlv_cmd);
	install_element(SMPP_NODE, &cfg_smpp_overload_resp_cmd);
	install_element(SMPP_NODE, &cfg_smpp_no_roaming_tlv_cmd);
	install_element(SMPP_NODE, &cfg_smpp_roaming_home_cmd);
	install_element(SMPP_NODE, &cfg_smsc_cmd);
	install_element(SMPP_NODE, &cfg_no_smsc_cmd);
	install_node(&smsc_node, config_write_smsc);
	install_element(SMSC_NODE, &cfg_smsc_ip_cmd);
	install_element(SMSC_NODE, &cfg_smsc_port_cmd);
	install_element(SMSC_NODE, &cfg_smsc_sysid_cmd);
	install_element(SMSC_NODE, &cfg_smsc_pw_cmd);
	install_element(SMSC_NODE, &cfg_smsc_systype_cmd);
	install_element(SMSC_NODE, &cfg_smsc_no_systype_cmd);
	install_element(SMSC_NODE, &cfg_smsc_bind_cmd);
	install_element(SMSC_NODE, &cfg_smsc_prio_cmd);
	install_element(SMSC_NODE, &cfg_smsc_window_cmd);
	install_element(SMSC_NODE, &cfg_smsc_enq_cmd);
	install_element(SMSC_NODE, &cfg_smsc_rate_cmd);
	install_element(SMSC_NODE, &cfg_smsc_dialect_cmd);
	install_element(SMSC_NODE, &cfg_smsc_alpha_cmd);
	install_element(SMSC_NODE, &cfg_smsc_shutdown_cmd);
	install_element(SMSC_NODE, &cfg_smsc_no_shutdown_cmd);
	install_element_ve(&show_smpp_cmd);
}

/* ---- life cycle ---- */

static int smpp_destructor(struct uigw_smpp *s)
{
	uigw_smpp_codec_fini();
	return 0;
}

int uigw_smpp_init(struct uigw *gw)
{
	struct uigw_smpp *s = talloc_zero(gw, struct uigw_smpp);

	if (!s)
		return -ENOMEM;
	s->gw = gw;
	INIT_LLIST_HEAD(&s->links);
	INIT_LLIST_HEAD(&s->queue);
	s->sms_source = talloc_strdup(s, "7726");
	s->max_attempts = 3;
	s->rx_cb = smpp_rx;
	s->tdefs = talloc_memdup(s, smpp_tdefs_default, sizeof(smpp_tdefs_default));
	if (!s->tdefs || !s->sms_source || uigw_smpp_sms_init(s) < 0) {
		talloc_free(s);
		return -ENOMEM;
	}
	osmo_tdefs_reset(s->tdefs);
	/* `show timer smpp`, `timer smpp X101 6000`; node smpp writes them by name (timer connect 6000) */
	uigw_tdef_group_add(gw, "smpp", "SMPP links to the SMSCs", s->tdefs, true);
	uigw_smpp_codec_init(s);
	talloc_set_destructor(s, smpp_destructor);
	uigw_smpp_vty_init(s);
	return 0;
}

int uigw_smpp_open(struct uigw_smpp *s)
{
	struct uigw_smpp_link *l;

	s->started = true;
	/* what the last run could not send, before anything new */
	if (!s->mt_loaded) {
		uigw_smpp_mt_restore(s);
		s->mt_loaded = true;
	}
	llist_for_each_entry(l, &s->links, list)
		uigw_smpp_link_start(l);
	return 0;
}

void uigw_smpp_close(struct uigw_smpp *s)
{
	struct uigw_smpp_link *l, *tmp;

	s->started = false;
	llist_for_each_entry_safe(l, tmp, &s->links, list) {
		osmo_fsm_inst_term(l->fi, OSMO_FSM_TERM_REGULAR, NULL);
		l->fi = NULL;
		talloc_free(l);
	}
	while (!llist_empty(&s->queue)) {
		struct uigw_smpp_req *req = llist_first_entry(&s->queue, struct uigw_smpp_req, list);

		llist_del(&req->list);
		talloc_free(req);
	}
	s->queue_len = 0;
	osmo_timer_del(&s->mt_mark_timer);
	uigw_smpp_sms_fini(s);
	/* the adapter itself stays until uigw_free(): dialogs still running on smpp-sms end there */
}
