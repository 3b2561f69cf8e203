/* gsup_test_msc: a test MSC for the GSUP integration test. It connects to OsmoHLR as a GSUP client, sends one
 * PROC_SS_REQUEST BEGIN with a processUnstructuredSS-Request (the bare 04.80 Invoke, as OsmoMSC does), answers
 * each CONTINUE with the next answer from the command line and prints every screen it receives:
 *
 *   CONTINUE dcs=0x0f octets=45 text=Spam report|1. Report a number|...
 *   END dcs=0x0f octets=30 text=Thank you...
 *   END ReturnError 34 | END Reject 0x81/1 | END (empty)
 *
 * Answers: text to send as the ussd-String of a ReturnResult(60) ("@ucs2:TEXT" forces DCS 0x48); "@abort"
 * sends END with a ReturnError component instead, "@release" an END without component; "@stay" leaves the
 * session open and exits.
 * Exit: 0 when the dialog went as scripted, 1 on a protocol surprise, 2 on a timeout or usage error. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <getopt.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/msgb.h>
#include <osmocom/core/select.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/timer.h>
#include <osmocom/gsm/gsup.h>
#include <osmocom/gsm/gsm48_ie.h>
#include <osmocom/gsm/ipa.h>
#include <osmocom/gsupclient/gsup_client.h>
#include <osmocom/uigw/codec/ss_codec.h>
#include <osmocom/uigw/codec/charset.h>

static struct {
	const char *imsi;
	uint32_t session_id;
	const char *msisdn;		/* GSUP MSISDN IE, or NULL */
	const char *dial;
	char **answers;
	int n_answers;
	int next;
	int invoke_id;			/* of our processUnstructuredSS-Request */
	bool begun;
	bool finished;
	int rc;
	struct osmo_gsup_client *gc;
	struct osmo_timer_list t_begin, t_timeout, t_exit;
} s = { .session_id = 0x20000001, .invoke_id = 1, .rc = 2 };

static const struct log_info_cat cats[] = {
	[0] = { .name = "DMSC", .description = "test MSC", .enabled = 1, .loglevel = LOGL_NOTICE },
};
static const struct log_info info = { .cat = cats, .num_cat = ARRAY_SIZE(cats) };

static void finish(int rc)
{
	s.finished = true;
	s.rc = rc;
	/* let a last message leave the socket */
	osmo_timer_schedule(&s.t_exit, 0, 300000);
}

static int send_ss(enum osmo_gsup_session_state st, const struct uigw_ss_comp *c)
{
	struct osmo_gsup_message gm = {
		.message_type = OSMO_GSUP_MSGT_PROC_SS_REQUEST,
		.session_state = st,
		.session_id = s.session_id,
		.message_class = OSMO_GSUP_MESSAGE_CLASS_USSD,
	};
	uint8_t buf[256], msisdn_enc[OSMO_GSUP_MAX_CALLED_PARTY_BCD_LEN];
	int rc;

	OSMO_STRLCPY_ARRAY(gm.imsi, s.imsi);
	if (c) {
		rc = uigw_ss_comp_encode(buf, sizeof(buf), c);
		if (rc < 0) {
			fprintf(stderr, "encode failed: %d\n", rc);
			return rc;
		}
		gm.ss_info = buf;
		gm.ss_info_len = rc;
	}
	if (s.msisdn && st == OSMO_GSUP_SESSION_STATE_BEGIN) {
		rc = gsm48_encode_bcd_number(msisdn_enc, sizeof(msisdn_enc), 0, s.msisdn);
		if (rc > 0) {
			gm.msisdn_enc = msisdn_enc;
			gm.msisdn_enc_len = rc;
		}
	}
	return osmo_gsup_client_enc_send(s.gc, &gm);
}

static void print_screen(const char *what, const struct uigw_ss_comp *c)
{
	char text[UIGW_USSD_UTF8_MAX], *p;

	if (uigw_ussd_text_decode(&c->ussd, text, sizeof(text), NULL) < 0) {
		printf("%s dcs=0x%02x octets=%zu undecodable\n", what, c->ussd.dcs, c->ussd.data_len);
		return;
	}
	for (p = text; *p; p++)
		if (*p == '\n')
			*p = '|';
	printf("%s dcs=0x%02x octets=%zu text=%s\n", what, c->ussd.dcs, c->ussd.data_len, text);
}

static void answer(const struct uigw_ss_comp *req)
{
	struct uigw_ss_comp c = { .has_invoke_id = true, .invoke_id = req->invoke_id };
	const char *a;

	if (s.next >= s.n_answers || !strcmp(s.answers[s.next], "@stay")) {
		printf("STAY\n");
		finish(0);
		return;
	}
	a = s.answers[s.next++];
	if (!strcmp(a, "@release")) {
		printf("SEND END (release)\n");
		send_ss(OSMO_GSUP_SESSION_STATE_END, NULL);
		finish(0);
		return;
	}
	if (!strcmp(a, "@abort")) {
		/* the MS gives up on the network's request */
		c.type = UIGW_SS_RETURN_ERROR;
		c.error_code = UIGW_SS_ERR_SYSTEM_FAILURE;
		printf("SEND END (ReturnError)\n");
		send_ss(OSMO_GSUP_SESSION_STATE_END, &c);
		finish(0);
		return;
	}
	c.type = UIGW_SS_RETURN_RESULT;
	c.has_opcode = true;
	c.opcode = UIGW_SS_OP_USS_REQ;
	c.has_ussd = true;
	if (!strncmp(a, "@ucs2:", 6)) {
		/* force UCS-2 even for GSM 7-bit text, as some handsets do */
		int rc;
		a += 6;
		rc = uigw_utf8_to_ucs2(c.ussd.data, sizeof(c.ussd.data), a, strlen(a));
		if (rc <= 0) {
			fprintf(stderr, "cannot encode answer '%s'\n", a);
			finish(2);
			return;
		}
		c.ussd.dcs = UIGW_USSD_DCS_UCS2;
		c.ussd.data_len = rc;
	} else if (uigw_ussd_text_encode(&c.ussd, a) < 0) {
		fprintf(stderr, "cannot encode answer '%s'\n", a);
		finish(2);
		return;
	}
	printf("SEND %s\n", a);
	send_ss(OSMO_GSUP_SESSION_STATE_CONTINUE, &c);
}

static int read_cb(struct osmo_gsup_client *gc, struct msgb *msg)
{
	struct osmo_gsup_message gm;
	struct uigw_ss_comp c;
	int rc;

	rc = osmo_gsup_decode(msgb_l2(msg), msgb_l2len(msg), &gm);
	if (rc < 0 || s.finished)
		goto out;
	if (gm.message_type != OSMO_GSUP_MSGT_PROC_SS_RESULT && gm.message_type != OSMO_GSUP_MSGT_PROC_SS_REQUEST &&
	    gm.message_type != OSMO_GSUP_MSGT_PROC_SS_ERROR)
		goto out;
	if (gm.session_id != s.session_id || strcmp(gm.imsi, s.imsi))
		goto out;
	if (gm.message_type == OSMO_GSUP_MSGT_PROC_SS_ERROR) {
		printf("ERROR cause %d\n", gm.cause);
		finish(1);
		goto out;
	}
	if (!gm.ss_info_len) {
		printf("%s (empty)\n", osmo_gsup_session_state_name(gm.session_state));
		finish(gm.session_state == OSMO_GSUP_SESSION_STATE_END ? 0 : 1);
		goto out;
	}
	rc = uigw_ss_comp_decode(gm.ss_info, gm.ss_info_len, &c);
	if (rc < 0) {
		printf("MALFORMED %s\n", osmo_hexdump_nospc(gm.ss_info, gm.ss_info_len));
		finish(1);
		goto out;
	}
	if (gm.session_state == OSMO_GSUP_SESSION_STATE_END) {
		if ((c.type == UIGW_SS_RETURN_RESULT) && c.has_ussd) {
			print_screen("END", &c);
			finish(0);
		} else if (c.type == UIGW_SS_RETURN_ERROR) {
			printf("END ReturnError %d\n", c.error_code);
			finish(0);
		} else if (c.type == UIGW_SS_REJECT) {
			printf("END Reject 0x%02x/%u\n", c.problem_tag, c.problem_code);
			finish(0);
		} else {
			printf("END unexpected %s\n", uigw_ss_comp_type_name(c.type));
			finish(1);
		}
		goto out;
	}
	if (gm.session_state == OSMO_GSUP_SESSION_STATE_CONTINUE && c.type == UIGW_SS_INVOKE &&
	    c.opcode == UIGW_SS_OP_USS_REQ && c.has_ussd) {
		print_screen("CONTINUE", &c);
		answer(&c);
		goto out;
	}
	printf("UNEXPECTED %s %s\n", osmo_gsup_session_state_name(gm.session_state), uigw_ss_comp_type_name(c.type));
	finish(1);
out:
	fflush(stdout);
	msgb_free(msg);
	return 0;
}

static void begin_cb(void *data)
{
	struct uigw_ss_comp c = {
		.type = UIGW_SS_INVOKE, .has_invoke_id = true, .invoke_id = s.invoke_id, .has_opcode = true,
		.opcode = UIGW_SS_OP_PROCESS_USS_REQ, .has_ussd = true,
	};

	if (uigw_ussd_text_encode(&c.ussd, s.dial) < 0) {
		fprintf(stderr, "cannot encode '%s'\n", s.dial);
		finish(2);
		return;
	}
	printf("SEND BEGIN %s\n", s.dial);
	fflush(stdout);
	if (send_ss(OSMO_GSUP_SESSION_STATE_BEGIN, &c) < 0)
		finish(2);
	s.begun = true;
}

static bool up_down_cb(struct osmo_gsup_client *gc, bool up)
{
	/* the IPA ID exchange follows the TCP connect: give it 200 ms */
	if (up && !s.begun && !osmo_timer_pending(&s.t_begin))
		osmo_timer_schedule(&s.t_begin, 0, 200000);
	return true;
}

static void timeout_cb(void *data)
{
	printf("TIMEOUT\n");
	fflush(stdout);
	s.finished = true;
	s.rc = 2;
	osmo_timer_schedule(&s.t_exit, 0, 0);
}

static void exit_cb(void *data)
{
	exit(s.rc);
}

int main(int argc, char **argv)
{
	void *ctx = talloc_named_const(NULL, 0, "gsup_test_msc");
	struct ipaccess_unit *dev;
	struct osmo_gsup_client_config cfg = { 0 };
	const char *host = "127.0.0.1";
	int port = 4222, timeout = 10, c;

	while ((c = getopt(argc, argv, "r:p:i:s:n:t:")) != -1) {
		switch (c) {
		case 'r': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'i': s.imsi = optarg; break;
		case 's': s.session_id = strtoul(optarg, NULL, 0); break;
		case 'n': s.msisdn = optarg; break;
		case 't': timeout = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (!s.imsi || optind >= argc)
		goto usage;
	s.dial = argv[optind];
	s.answers = argv + optind + 1;
	s.n_answers = argc - optind - 1;

	osmo_init_logging2(ctx, &info);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_use_color(osmo_stderr_target, 0);
	log_set_log_level(osmo_stderr_target, LOGL_ERROR);

	dev = talloc_zero(ctx, struct ipaccess_unit);
	dev->unit_name = "MSC-TEST";
	dev->serno = "MSC-TEST";
	cfg.ipa_dev = dev;
	cfg.ip_addr = host;
	cfg.tcp_port = port;
	cfg.read_cb = read_cb;
	cfg.up_down_cb = up_down_cb;
	osmo_timer_setup(&s.t_begin, begin_cb, NULL);
	osmo_timer_setup(&s.t_timeout, timeout_cb, NULL);
	osmo_timer_setup(&s.t_exit, exit_cb, NULL);
	osmo_timer_schedule(&s.t_timeout, timeout, 0);
	s.gc = osmo_gsup_client_create3(ctx, &cfg);
	if (!s.gc) {
		fprintf(stderr, "cannot create the GSUP client\n");
		return 2;
	}
	while (1)
		osmo_select_main(0);
usage:
	fprintf(stderr, "usage: %s [-r HOST] [-p PORT] -i IMSI [-s SESSION_ID] [-n MSISDN] [-t SECONDS] DIAL "
		"[ANSWER|@abort|@release|@stay ...]\n", argv[0]);
	return 2;
}
