/* gsup_load: a load MSC for contrib/chaos and contrib/bench (test equipment, not part of the gateway).
 *
 * Connects to OsmoHLR as a GSUP client (IPA unit "MSC-LOAD") and offers USSD dialogs at a fixed rate for a fixed
 * time, as an MSC would relay them: subscriber i (IMSI 90170 + ten digits of FIRST + i, MSISDN 4916 + nine digits)
 * dials DIAL (PROC_SS_REQUEST BEGIN with processUnstructuredSS-Request); the HLR routes it to its EUSE (the
 * gateway); each question that comes back (CONTINUE, unstructuredSS-Request) is answered with ANSWER; the END ends
 * the subscriber's dialog. A dialog is
 *   served   when its END carries a screen containing GSUP_LOAD_EXPECT (any END screen without it),
 *   busy     when its END carries GSUP_LOAD_BUSY (the gateway's busy screen) or a ReturnError,
 *   other    when it ended otherwise (PROC_SS_ERROR, Reject, an END without component) or was begun while the link
 *            to the HLR was down,
 *   none     when nothing ended it within the drain time (the HLR or the gateway went away under it).
 * A message for a dialog that has already ended counts as dup (a screen sent twice).
 *
 * Prints one line:
 *   offered=N served=N busy=N other=N none=N dup=N reconnects=N rate=F p50_ms=F p99_ms=F max_ms=F
 * (latency: from the BEGIN sent to the END received, of served dialogs). GSUP_LOAD_TIMELINE=FILE writes one line
 * per second of the offered load: SECOND STARTED SERVED BUSY OTHER (of the dialogs begun in that second; none is
 * STARTED minus the rest). GSUP_LOAD_T0=FILE is created when the offered load starts.
 *
 * usage: gsup_load HOST PORT RATE SECONDS FIRST_SUBSCRIBER DIAL ANSWER [DRAIN_SECONDS]
 * Bounded: at most RATE * SECONDS dialogs (at most 1,000,000), at most SECONDS + DRAIN + 30 s in all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

enum { OUT_NONE, OUT_SERVED, OUT_BUSY, OUT_OTHER };

struct sub {
	uint8_t outcome;
	uint8_t done;
	uint8_t invoke_id;
	double sent;
};

static struct {
	struct osmo_gsup_client *gc;
	struct sub *subs;
	unsigned long n, started, first;
	double rate, t0, secs, drain;
	const char *dial, *answer, *expect, *busy;
	bool up, begun;
	unsigned long dup, reconnects, ended;
	double *lat;
	unsigned long n_lat;
	struct osmo_timer_list tick;
} L;

static const struct log_info_cat cats[] = {
	[0] = { .name = "DLOAD", .description = "load MSC", .enabled = 1, .loglevel = LOGL_NOTICE },
};
static const struct log_info info = { .cat = cats, .num_cat = ARRAY_SIZE(cats) };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void imsi_of(unsigned long i, char *buf, size_t len)
{
	snprintf(buf, len, "90170%010lu", (L.first + i) % 10000000000UL);
}

static int send_ss(unsigned long i, enum osmo_gsup_session_state st, const struct uigw_ss_comp *c)
{
	struct osmo_gsup_message gm = {
		.message_type = OSMO_GSUP_MSGT_PROC_SS_REQUEST,
		.session_state = st,
		.session_id = (uint32_t)(i + 1),
		.message_class = OSMO_GSUP_MESSAGE_CLASS_USSD,
	};
	uint8_t buf[256], msisdn_enc[OSMO_GSUP_MAX_CALLED_PARTY_BCD_LEN];
	char msisdn[24];
	int rc;

	imsi_of(i, gm.imsi, sizeof(gm.imsi));
	rc = uigw_ss_comp_encode(buf, sizeof(buf), c);
	if (rc < 0)
		return rc;
	gm.ss_info = buf;
	gm.ss_info_len = rc;
	if (st == OSMO_GSUP_SESSION_STATE_BEGIN) {
		snprintf(msisdn, sizeof(msisdn), "4916%09lu", (L.first + i) % 1000000000UL);
		rc = gsm48_encode_bcd_number(msisdn_enc, sizeof(msisdn_enc), 0, msisdn);
		if (rc > 0) {
			gm.msisdn_enc = msisdn_enc;
			gm.msisdn_enc_len = rc;
		}
	}
	return osmo_gsup_client_enc_send(L.gc, &gm);
}

static void end_sub(unsigned long i, int outcome)
{
	struct sub *s = &L.subs[i];

	s->done = 1;
	s->outcome = outcome;
	L.ended++;
	if (outcome == OUT_SERVED)
		L.lat[L.n_lat++] = (now() - s->sent) * 1000.0;
}

static void begin_sub(unsigned long i)
{
	struct uigw_ss_comp c = {
		.type = UIGW_SS_INVOKE, .has_invoke_id = true, .invoke_id = 1, .has_opcode = true,
		.opcode = UIGW_SS_OP_PROCESS_USS_REQ, .has_ussd = true,
	};

	L.subs[i].sent = now();
	if (!L.up || uigw_ussd_text_encode(&c.ussd, L.dial) < 0 || send_ss(i, OSMO_GSUP_SESSION_STATE_BEGIN, &c) < 0)
		end_sub(i, OUT_OTHER);
}

static void answer_sub(unsigned long i, const struct uigw_ss_comp *req)
{
	struct uigw_ss_comp c = {
		.type = UIGW_SS_RETURN_RESULT, .has_invoke_id = true, .invoke_id = req->invoke_id, .has_opcode = true,
		.opcode = UIGW_SS_OP_USS_REQ, .has_ussd = true,
	};

	if (uigw_ussd_text_encode(&c.ussd, L.answer) < 0 || send_ss(i, OSMO_GSUP_SESSION_STATE_CONTINUE, &c) < 0)
		end_sub(i, OUT_OTHER);
}

static int screen_has(const struct uigw_ss_comp *c, const char *what)
{
	char text[UIGW_USSD_UTF8_MAX];

	if (!what || !c->has_ussd || uigw_ussd_text_decode(&c->ussd, text, sizeof(text), NULL) < 0)
		return 0;
	return strstr(text, what) != NULL;
}

static int read_cb(struct osmo_gsup_client *gc, struct msgb *msg)
{
	struct osmo_gsup_message gm;
	struct uigw_ss_comp c;
	unsigned long i;
	char imsi[OSMO_IMSI_BUF_SIZE];
	int rc;

	rc = osmo_gsup_decode(msgb_l2(msg), msgb_l2len(msg), &gm);
	if (rc < 0 || (gm.message_type != OSMO_GSUP_MSGT_PROC_SS_REQUEST &&
		       gm.message_type != OSMO_GSUP_MSGT_PROC_SS_RESULT &&
		       gm.message_type != OSMO_GSUP_MSGT_PROC_SS_ERROR))
		goto out;
	i = gm.session_id - 1;
	if (gm.session_id == 0 || i >= L.started)
		goto out;
	imsi_of(i, imsi, sizeof(imsi));
	if (strcmp(imsi, gm.imsi))
		goto out;
	if (L.subs[i].done) {
		L.dup++;
		goto out;
	}
	if (gm.message_type == OSMO_GSUP_MSGT_PROC_SS_ERROR) {
		end_sub(i, OUT_OTHER);
		goto out;
	}
	if (!gm.ss_info_len || uigw_ss_comp_decode(gm.ss_info, gm.ss_info_len, &c) < 0) {
		if (gm.session_state == OSMO_GSUP_SESSION_STATE_END)
			end_sub(i, OUT_OTHER);
		goto out;
	}
	if (gm.session_state == OSMO_GSUP_SESSION_STATE_END) {
		if (c.type == UIGW_SS_RETURN_ERROR || screen_has(&c, L.busy))
			end_sub(i, OUT_BUSY);
		else if (c.type == UIGW_SS_RETURN_RESULT && (!L.expect || screen_has(&c, L.expect)))
			end_sub(i, OUT_SERVED);
		else
			end_sub(i, OUT_OTHER);
	} else if (c.type == UIGW_SS_INVOKE && c.opcode == UIGW_SS_OP_USS_REQ) {
		answer_sub(i, &c);
	}
out:
	msgb_free(msg);
	return 0;
}

static bool up_down_cb(struct osmo_gsup_client *gc, bool up)
{
	if (up && !L.up && L.begun)
		L.reconnects++;
	L.up = up;
	return true;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(void)
{
	unsigned long cnt[4] = { 0 }, i;
	double el = now() - L.t0, p50 = 0, p99 = 0, max = 0;
	const char *tl = getenv("GSUP_LOAD_TIMELINE");
	FILE *f = tl ? fopen(tl, "w") : NULL;
	unsigned long secs = (unsigned long)L.secs + 1, s;
	unsigned long (*per)[4] = calloc(secs, sizeof(*per));

	for (i = 0; i < L.started; i++) {
		cnt[L.subs[i].done ? L.subs[i].outcome : OUT_NONE]++;
		s = (unsigned long)(i / L.rate);
		if (per && s < secs)
			per[s][L.subs[i].done ? L.subs[i].outcome : OUT_NONE]++;
	}
	if (L.n_lat) {
		qsort(L.lat, L.n_lat, sizeof(double), cmp_d);
		p50 = L.lat[L.n_lat / 2];
		p99 = L.lat[L.n_lat * 99 / 100];
		max = L.lat[L.n_lat - 1];
	}
	printf("offered=%lu served=%lu busy=%lu other=%lu none=%lu dup=%lu reconnects=%lu rate=%.1f p50_ms=%.1f "
	       "p99_ms=%.1f max_ms=%.1f\n", L.started, cnt[OUT_SERVED], cnt[OUT_BUSY], cnt[OUT_OTHER], cnt[OUT_NONE],
	       L.dup, L.reconnects, L.started / (L.secs > 0 ? L.secs : 1), p50, p99, max);
	fflush(stdout);
	if (f && per) {
		for (s = 0; s < secs; s++) {
			unsigned long st = per[s][0] + per[s][1] + per[s][2] + per[s][3];
			if (st)
				fprintf(f, "%lu %lu %lu %lu %lu\n", s, st, per[s][OUT_SERVED], per[s][OUT_BUSY],
					per[s][OUT_OTHER]);
		}
	}
	if (f)
		fclose(f);
	free(per);
	(void)el;
}

static void tick_cb(void *data)
{
	double t = now();

	if (!L.begun) {
		/* the IPA identity exchange follows the TCP connect: begin 300 ms after the link is up */
		static double up_since;
		const char *t0f = getenv("GSUP_LOAD_T0");

		if (!L.up) {
			up_since = 0;
			if (t - L.t0 > 30) {
				fprintf(stderr, "gsup_load: no link to the HLR in 30 s\n");
				report();
				exit(2);
			}
		} else if (!up_since) {
			up_since = t;
		} else if (t - up_since > 0.3) {
			L.begun = true;
			L.t0 = t;
			if (t0f) {
				FILE *f = fopen(t0f, "w");
				if (f)
					fclose(f);
			}
		}
	} else {
		unsigned long due = (unsigned long)((t - L.t0) * L.rate);

		if (due > L.n)
			due = L.n;
		while (L.started < due)
			begin_sub(L.started++);
		if ((L.started == L.n && L.ended == L.n) || t - L.t0 > L.secs + L.drain) {
			report();
			exit(0);
		}
	}
	osmo_timer_schedule(&L.tick, 0, 5000);
}

int main(int argc, char **argv)
{
	void *ctx = talloc_named_const(NULL, 0, "gsup_load");
	struct ipaccess_unit *dev;
	struct osmo_gsup_client_config cfg = { 0 };

	if (argc < 8) {
		fprintf(stderr, "usage: %s HOST PORT RATE SECONDS FIRST_SUBSCRIBER DIAL ANSWER [DRAIN_SECONDS]\n",
			argv[0]);
		return 2;
	}
	L.rate = atof(argv[3]);
	L.secs = atof(argv[4]);
	L.first = strtoul(argv[5], NULL, 10);
	L.dial = argv[6];
	L.answer = argv[7];
	L.drain = argc > 8 ? atof(argv[8]) : 10;
	L.expect = getenv("GSUP_LOAD_EXPECT");
	L.busy = getenv("GSUP_LOAD_BUSY");
	if (L.rate <= 0 || L.secs <= 0 || L.drain < 0 || L.rate * L.secs > 1000000) {
		fprintf(stderr, "gsup_load: RATE * SECONDS must be within 1..1000000\n");
		return 2;
	}
	L.n = (unsigned long)(L.rate * L.secs);
	L.subs = calloc(L.n, sizeof(*L.subs));
	L.lat = calloc(L.n, sizeof(double));
	if (!L.subs || !L.lat)
		return 2;
	alarm((unsigned)(L.secs + L.drain + 30));

	osmo_init_logging2(ctx, &info);
	log_set_use_color(osmo_stderr_target, 0);
	log_set_log_level(osmo_stderr_target, LOGL_ERROR);

	dev = talloc_zero(ctx, struct ipaccess_unit);
	dev->unit_name = "MSC-LOAD";
	dev->serno = "MSC-LOAD";
	cfg.ipa_dev = dev;
	cfg.ip_addr = argv[1];
	cfg.tcp_port = atoi(argv[2]);
	cfg.read_cb = read_cb;
	cfg.up_down_cb = up_down_cb;
	L.t0 = now();
	L.gc = osmo_gsup_client_create3(ctx, &cfg);
	if (!L.gc) {
		fprintf(stderr, "gsup_load: cannot create the GSUP client\n");
		return 2;
	}
	osmo_timer_setup(&L.tick, tick_cb, NULL);
	osmo_timer_schedule(&L.tick, 0, 5000);
	while (1)
		osmo_select_main(0);
}
