/*! \file vty_chan.c
 *  The operator's test-drive channel: `subscriber MSISDN dial CODE` and friends run real dialogs on channel
 *  `vty` with the screen profile of any channel, print exactly the screen that subscriber would get, and store
 *  the answers like any other channel. */

#include <errno.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/vty_nodes.h>
#include <osmocom/uigw/chan/vty.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/common/logging.h>


/*! What the test drive collects between a command and its output. */
struct uigw_vty_chan {
	struct uigw *gw;
	char *out;	/*!< screens and events not yet printed */
};

/* the test drive of the gateway the VTY acts on */
static struct uigw_vty_chan *root_vc(void)
{
	return uigw_vty_root ? uigw_chan_priv(uigw_vty_root, UIGW_CHAN_VTY) : NULL;
}

static const char *unit_name(enum uigw_coding c)
{
	switch (c) {
	case UIGW_CODING_GSM7:
		return "septets";
	case UIGW_CODING_UCS2:
		return "UCS-2 chars";
	default:
		return "bytes";
	}
}

static unsigned int budget_of(const struct uigw_profile *p, const struct uigw_render_out *s)
{
	switch (p->kind) {
	case UIGW_PROF_IMS:
		return p->utf8_budget;
	case UIGW_PROF_SMS:
		if (s->parts > 1)
			return (s->coding == UIGW_CODING_GSM7 ? p->gsm7_part : p->ucs2_part) * s->parts;
		/* fall through */
	default:
		return s->coding == UIGW_CODING_GSM7 ? p->gsm7_budget : p->ucs2_budget;
	}
}

/* What waits for the next VTY command to print it is bounded: dialogs started from elsewhere (the HTTP API's
 * "via": "vty", events) while no console prints them would otherwise grow it without end. */
#define VC_OUT_MAX	8192

static void vc_bound(struct uigw_vty_chan *vc)
{
	if (vc->out && strlen(vc->out) > VC_OUT_MAX) {
		TALLOC_FREE(vc->out);
		vc->out = talloc_strdup(vc, "% (earlier screens not shown: more than 8 KiB waited)\n");
	}
}

static int vc_send(struct uigw_dialog *dlg, const struct uigw_render_out *s, bool end)
{
	struct uigw_vty_chan *vc = uigw_chan_priv(dlg->gw, UIGW_CHAN_VTY);
	const char *reason = "";

	vc_bound(vc);
	if (dlg->refusal != UIGW_REFUSAL_NONE)
		reason = talloc_asprintf(vc, " (refused: %s)", uigw_refusal_name(dlg->refusal));
	vc->out = talloc_asprintf_append(vc->out, "%s\n%% %s: %s%s, %s, %u/%u %s", s->text, dlg->profile->name,
					 end ? "end" : "continue", reason, uigw_coding_names[s->coding], s->units,
					 budget_of(dlg->profile, s), unit_name(s->coding));
	if (dlg->profile->kind == UIGW_PROF_SMS)
		vc->out = talloc_asprintf_append(vc->out, ", %u part%s", s->parts, s->parts == 1 ? "" : "s");
	vc->out = talloc_asprintf_append(vc->out, ", page %u/%u\n", s->page + 1, s->n_pages);
	if (reason[0])
		talloc_free((char *)reason);
	return 0;
}

static void vc_release(struct uigw_dialog *dlg, enum uigw_outcome outcome)
{
	struct uigw_vty_chan *vc = uigw_chan_priv(dlg->gw, UIGW_CHAN_VTY);

	vc_bound(vc);
	vc->out = talloc_asprintf_append(vc->out, "%% %s: dialog %s by the gateway\n", dlg->profile->name,
					 get_value_string(uigw_outcome_names, outcome));
}

/* a pushed dialog needs no protocol state: its screens are printed after the command */
static int vc_push(struct uigw_chan *ch, struct uigw_dialog *dlg, const struct uigw_trigger *t)
{
	return 0;
}

static const struct uigw_chan_ops vc_ops = {
	.channel = UIGW_CHAN_VTY,
	.profile = &uigw_profile_ussd,
	.push = vc_push,
	.deliver = vc_send,
	.end = vc_release,
};

/* Let the store commit what the command caused, run the completions, print what the subscriber got. */
static void vc_flush_to(struct uigw_vty_chan *vc, struct vty *vty)
{
	size_t len;

	/* the store's completions and the screens the core held back until the command's call returned */
	do {
		uigw_dialog_outbox_run(vc->gw);
		if (vc->gw->store)
			uigw_store_drain(vc->gw->store);
		uigw_dialog_outbox_run(vc->gw);
	} while ((vc->gw->store && uigw_store_queue_depth(vc->gw->store)) || !llist_empty(&vc->gw->outbox));
	len = strlen(vc->out);
	if (len && vc->out[len - 1] == '\n')
		vc->out[len - 1] = '\0';
	if (vc->out[0])
		uigw_vty_out_lines(vty, vc->out);
	vc->out[0] = '\0';
	vc->out = talloc_realloc(vc, vc->out, char, 1);
}

static void vc_flush(struct vty *vty)
{
	vc_flush_to(root_vc(), vty);
}

void uigw_vty_chan_flush(struct uigw *gw, struct vty *vty)
{
	struct uigw_vty_chan *vc = uigw_chan_priv(gw, UIGW_CHAN_VTY);

	if (vc)
		vc_flush_to(vc, vty);
}

static int get_msisdn(struct vty *vty, const char *in, char *out, size_t len)
{
	struct uigw *gw = root_vc()->gw;

	if (uigw_e164_normalize(in, gw->cfg.country_code, gw->cfg.national_prefix, out, len) < 0) {
		vty_out(vty, "%% '%s' is not an E.164 number%s", in, VTY_NEWLINE);
		return -EINVAL;
	}
	return 0;
}

#define SUB_STR "Act as a subscriber (test drive on channel vty)\n" "Subscriber number (E.164 or national)\n"
#define PROFILE_STR "Screen profile of a channel\n" "USSD (map, gsup, smpp-ussd): 182 septets / 80 UCS-2\n" \
	"USSI: as USSD\n" "SMS: 160/70 per part, concatenated\n" "IMS MESSAGE: 1300 bytes UTF-8\n"

static void vc_begin(struct vty *vty, const char *msisdn, const char *text, const char *short_code,
		     const char *profile)
{
	struct uigw_begin b = {
		.channel = UIGW_CHAN_VTY,
		.msisdn = msisdn,
		.text = text,
		.short_code = short_code,
		.profile = uigw_profile_by_name(profile),
	};
	uigw_dialog_begin(root_vc()->gw, &b);
	vc_flush(vty);
}

DEFUN(sub_dial, sub_dial_cmd, "subscriber MSISDN dial CODE",
      SUB_STR "Dial a USSD service code, e.g. *7726# or *7726*1# (USSD profile)\n" "Service code\n")
{
	char msisdn[UIGW_MSISDN_MAXLEN];

	if (get_msisdn(vty, argv[0], msisdn, sizeof(msisdn)) < 0)
		return CMD_WARNING;
	vc_begin(vty, msisdn, argv[1], NULL, argc > 2 ? argv[2] : "ussd");
	return CMD_SUCCESS;
}

ALIAS(sub_dial, sub_dial_profile_cmd, "subscriber MSISDN dial CODE profile (ussd|ussi|sms|ims)",
      SUB_STR "Dial a USSD service code, e.g. *7726# or *7726*1#\n" "Service code\n" PROFILE_STR)

DEFUN(sub_send, sub_send_cmd, "subscriber MSISDN send .TEXT",
      SUB_STR "Send a text: the answer in the running dialog, else a keyword (SMS profile)\n" "Text\n")
{
	char msisdn[UIGW_MSISDN_MAXLEN];
	struct uigw_dialog *dlg;
	char *text;

	if (get_msisdn(vty, argv[0], msisdn, sizeof(msisdn)) < 0)
		return CMD_WARNING;
	text = argv_concat(argv, argc, 1);
	dlg = uigw_dialog_find(root_vc()->gw, msisdn, UIGW_CHAN_VTY);
	if (dlg) {
		if (uigw_dialog_input(dlg, text) < 0)
			vty_out(vty, "%% The dialog is still answering the previous input%s", VTY_NEWLINE);
		vc_flush(vty);
	} else {
		vc_begin(vty, msisdn, text, NULL, "sms");
	}
	talloc_free(text);
	return CMD_SUCCESS;
}

DEFUN(sub_sms, sub_sms_cmd, "subscriber MSISDN sms SHORTCODE .TEXT",
      SUB_STR "Send an SMS to a short code (a new dialog, SMS profile)\n" "Short code, e.g. 7726\n" "Text\n")
{
	char msisdn[UIGW_MSISDN_MAXLEN];
	char *text;

	if (get_msisdn(vty, argv[0], msisdn, sizeof(msisdn)) < 0)
		return CMD_WARNING;
	text = argv_concat(argv, argc, 2);
	vc_begin(vty, msisdn, text, argv[1], "sms");
	talloc_free(text);
	return CMD_SUCCESS;
}

DEFUN(sub_hangup, sub_hangup_cmd, "subscriber MSISDN hangup",
      SUB_STR "The network cuts the running dialog off (a USSD dialog can then be resumed)\n")
{
	char msisdn[UIGW_MSISDN_MAXLEN];
	struct uigw_dialog *dlg;

	if (get_msisdn(vty, argv[0], msisdn, sizeof(msisdn)) < 0)
		return CMD_WARNING;
	dlg = uigw_dialog_find(root_vc()->gw, msisdn, UIGW_CHAN_VTY);
	if (!dlg) {
		vty_out(vty, "%% No running dialog for %s%s", msisdn, VTY_NEWLINE);
		return CMD_WARNING;
	}
	uigw_dialog_abort(dlg, UIGW_OUTCOME_ABANDONED);
	vc_flush(vty);
	vty_out(vty, "%% dialog abandoned%s", VTY_NEWLINE);
	return CMD_SUCCESS;
}

int uigw_vty_chan_init(struct uigw *gw)
{
	static bool installed;
	struct uigw_vty_chan *vc = talloc_zero(gw, struct uigw_vty_chan);

	if (!vc)
		return -ENOMEM;
	vc->gw = gw;
	vc->out = talloc_strdup(vc, "");
	if (!vc->out || !uigw_chan_register(gw, &vc_ops, vc)) {
		talloc_free(vc);
		return -ENOMEM;
	}
	/* the commands are process-wide; they act on uigw_vty_root's test drive */
	if (installed)
		return 0;
	installed = true;
	install_element(ENABLE_NODE, &sub_dial_cmd);
	install_element(ENABLE_NODE, &sub_dial_profile_cmd);
	install_element(ENABLE_NODE, &sub_send_cmd);
	install_element(ENABLE_NODE, &sub_sms_cmd);
	install_element(ENABLE_NODE, &sub_hangup_cmd);
	return 0;
}
