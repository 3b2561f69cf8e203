/* map_peer: the independent TCAP/MAP peer of the map channel's tests. It plays the MSC/VLR (point code 0.23.1,
 * SSN 8) and the HLR (0.23.3, SSN 6) as two IPA clients of osmo-stp, and talks to the gateway (0.23.2, SSN 147).
 * Its TCAP and MAP coding comes from asn1c compiling tests/map/peer.asn at test time; it shares no code with
 * the gateway. Commands on stdin, one per line; every received message and every event is one JSON line on
 * stdout (see tests/map/map_integration.py):
 *
 *   begin ROLE OTID text=T [msisdn=+N] [imsi=N] [acn=HEX|none] [dcs=HEX] [op=N]
 *   continue ROLE OTID DTID [aare] [aare-reject] COMP...
 *   end ROLE DTID [aare] COMP...
 *   abort ROLE DTID                 TC-U-ABORT without a reason
 *   raw ROLE HEX                    any bytes as the TCAP message
 *   load ROLE DIALOGS RATE CODE ANSWER...   (contrib/bench/map, contrib/chaos) DIALOGS dialogs at RATE/s: Begin
 *                                   CODE, then the ANSWERs one per screen; one JSON summary with steps, errors,
 *                                   served (ended by the last screen after every answer), busy (ended early by
 *                                   a ReturnError), dup (a screen for a dialog already ended), p50/p99.
 *                                   Environment: MAP_PEER_BASE=N offsets the dialogs' transaction ids and
 *                                   MSISDNs (+49173 and eight digits of N + i) so that runs do not meet;
 *                                   MAP_PEER_TIMELINE=FILE gets one line per second of the offered load:
 *                                   SECOND STARTED SERVED BUSY OTHER (of the dialogs begun in that second)
 *   echo ROLE COUNT RATE            COUNT Begins at RATE/s to an echo (map_peer --echo PORT) and their round trips
 * COMP: rrl=IID:OP:TEXT (ReturnResultLast with USSD-Res), ack=IID:OP (ReturnResultLast without a result),
 *       error=IID:CODE, reject=IID, invoke=IID:OP:TEXT. In TEXT, '_' stands for a space.
 * ROLE: msc or hlr. OTID, DTID: hex. */

#include <ctype.h>
#include <time.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/msgb.h>
#include <osmocom/core/prim.h>
#include <osmocom/core/select.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include <osmocom/netif/stream.h>
#include <osmocom/sigtran/osmo_ss7.h>
#include <osmocom/sigtran/sccp_sap.h>
#include <osmocom/sigtran/sccp_helpers.h>

#include "TCMessage.h"
#include "DialoguePDU.h"
#include "MAP-DialoguePDU.h"
#include "USSD-Arg.h"
#include "USSD-Res.h"

static const uint8_t dialogue_as[] = { 0x00, 0x11, 0x86, 0x05, 0x01, 0x01, 0x01 };
static const uint8_t map_dialogue_as[] = { 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x01 };
static const uint8_t acn_ussd_v2[] = { 0x04, 0x00, 0x00, 0x01, 0x00, 0x13, 0x02 };

struct role {
	const char *name;
	uint32_t inst;
	const char *pc;
	uint16_t ssn;
	struct osmo_sccp_instance *sccp;
	struct osmo_sccp_user *scu;
	struct osmo_sccp_addr local;
	bool up;
};

static struct role roles[] = {
	{ .name = "msc", .inst = 0, .pc = "0.23.1", .ssn = 8 },
	{ .name = "hlr", .inst = 1, .pc = "0.23.3", .ssn = 6 },
};
static struct osmo_sccp_addr gw_addr;
static struct osmo_timer_list up_timer;

/* ---- output ---- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void hex(FILE *f, const uint8_t *b, size_t n)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
	fputc('"', f);
}

/* ---- USSD text: GSM 7-bit (TS 23.038, default alphabet, the characters the tests use) and UCS-2 ---- */

static const char *gsm7_utf8(uint8_t s)
{
	static char one[2];

	switch (s) {
	case 0x00: return "@";
	case 0x02: return "$";
	case 0x11: return "_";
	case 0x0a: return "\n";
	case 0x0d: return "\r";
	case 0x24: return "\xc2\xa4";
	case 0x40: return "\xc2\xa1";
	case 0x5b: return "\xc3\x84";
	case 0x5c: return "\xc3\x96";
	case 0x5e: return "\xc3\x9c";
	case 0x7b: return "\xc3\xa4";
	case 0x7c: return "\xc3\xb6";
	case 0x7e: return "\xc3\xbc";
	default:
		if (s >= 0x20 && s < 0x80) {
			one[0] = s;
			one[1] = 0;
			return one;
		}
		return "?";
	}
}

static void ussd_decode(uint8_t dcs, const uint8_t *b, size_t n, char *out, size_t size)
{
	size_t o = 0, i;

	out[0] = 0;
	if (dcs == 0x48 || dcs == 0x11) {
		for (i = 0; i + 1 < n && o + 4 < size; i += 2) {
			unsigned int u = (b[i] << 8) | b[i + 1];

			if (u < 0x80) {
				out[o++] = u;
			} else if (u < 0x800) {
				out[o++] = 0xc0 | (u >> 6);
				out[o++] = 0x80 | (u & 0x3f);
			} else {
				out[o++] = 0xe0 | (u >> 12);
				out[o++] = 0x80 | ((u >> 6) & 0x3f);
				out[o++] = 0x80 | (u & 0x3f);
			}
		}
		out[o] = 0;
		return;
	}
	{
		size_t ns = n * 8 / 7;
		uint8_t sept[200];

		for (i = 0; i < ns && i < sizeof(sept); i++) {
			size_t bit = i * 7, by = bit / 8, sh = bit % 8;
			unsigned int v = b[by] >> sh;

			if (sh > 1 && by + 1 < n)
				v |= b[by + 1] << (8 - sh);
			sept[i] = v & 0x7f;
		}
		/* CR padding: 7 spare bits at the end of a string of 8k septets */
		if (ns && ns % 8 == 0 && sept[ns - 1] == 0x0d)
			ns--;
		for (i = 0; i < ns; i++) {
			const char *u = gsm7_utf8(sept[i]);

			if (o + strlen(u) + 1 >= size)
				break;
			strcpy(out + o, u);
			o += strlen(u);
		}
	}
}

/* ASCII text to packed GSM 7-bit with CR padding; '_' is a space */
static size_t gsm7_pack(const char *t, uint8_t *out)
{
	uint8_t sept[200];
	size_t n = 0, i, len;

	for (; *t && n < 182; t++)
		sept[n++] = *t == '_' ? ' ' : *t == '@' ? 0 : (uint8_t)*t;
	if (n % 8 == 7)
		sept[n++] = 0x0d;
	len = (n * 7 + 7) / 8;
	memset(out, 0, len);
	for (i = 0; i < n; i++) {
		size_t bit = i * 7, by = bit / 8, sh = bit % 8;

		out[by] |= sept[i] << sh;
		if (sh > 1)
			out[by + 1] |= sept[i] >> (8 - sh);
	}
	return len;
}

/* "+4917..." -> AddressString */
static size_t addr_enc(const char *s, uint8_t ton_npi, uint8_t *out)
{
	size_t n = 1, d = 0;

	if (*s == '+') {
		s++;
		ton_npi = 0x91;
	}
	out[0] = ton_npi;
	for (; *s; s++, d++) {
		uint8_t v = *s - '0';

		if (d & 1)
			out[n - 1] = (out[n - 1] & 0x0f) | (v << 4);
		else
			out[n++] = 0xf0 | v;
	}
	return n;
}

static void addr_str(const OCTET_STRING_t *a, char *out)
{
	int i, o = 0;

	if (a->size < 1) {
		out[0] = 0;
		return;
	}
	if ((a->buf[0] & 0x70) == 0x10)
		out[o++] = '+';
	for (i = 1; i < a->size; i++) {
		if ((a->buf[i] & 0x0f) == 0x0f)
			break;
		out[o++] = '0' + (a->buf[i] & 0x0f);
		if ((a->buf[i] >> 4) == 0x0f)
			break;
		out[o++] = '0' + (a->buf[i] >> 4);
	}
	out[o] = 0;
}

/* ---- building messages ---- */

static void os_set(OCTET_STRING_t *o, const void *b, size_t n)
{
	OCTET_STRING_fromBuf(o, (const char *)b, n);
}

static void oid_set(OBJECT_IDENTIFIER_t *o, const uint8_t *b, size_t n)
{
	o->buf = malloc(n);
	memcpy(o->buf, b, n);
	o->size = n;
}

static void tid_set(OCTET_STRING_t *o, const char *hexs)
{
	uint32_t v = strtoul(hexs, NULL, 16);
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	os_set(o, b, 4);
}

static ExternalPDU_t *external(const uint8_t *oid, size_t oid_len, asn_TYPE_descriptor_t *td, void *pdu)
{
	ExternalPDU_t *e = calloc(1, sizeof(*e));

	oid_set(&e->direct_reference, oid, oid_len);
	if (ANY_fromType(&e->single_ASN1_type, td, pdu) < 0) {
		fprintf(stderr, "cannot encode the dialogue PDU\n");
		exit(1);
	}
	return e;
}

/* AARQ (with MAP-OpenInfo if dest or orig) or AARE */
static ExternalPDU_t *dialogue(bool aare, int result, const uint8_t *acn, size_t acn_len, const char *imsi)
{
	DialoguePDU_t d;
	ExternalPDU_t *e;
	static const uint8_t v1[] = { 0x80 };

	memset(&d, 0, sizeof(d));
	if (aare) {
		AARE_apdu_t *a = &d.choice.dialogueResponse;

		d.present = DialoguePDU_PR_dialogueResponse;
		a->protocol_version = calloc(1, sizeof(BIT_STRING_t));
		a->protocol_version->buf = malloc(1);
		a->protocol_version->buf[0] = v1[0];
		a->protocol_version->size = 1;
		a->protocol_version->bits_unused = 7;
		oid_set(&a->application_context_name, acn, acn_len);
		a->result = result;
		a->result_source_diagnostic.present = AARE_apdu__result_source_diagnostic_PR_dialogue_service_user;
		a->result_source_diagnostic.choice.dialogue_service_user = result ? 2 : 0;
	} else {
		AARQ_apdu_t *a = &d.choice.dialogueRequest;

		d.present = DialoguePDU_PR_dialogueRequest;
		a->protocol_version = calloc(1, sizeof(BIT_STRING_t));
		a->protocol_version->buf = malloc(1);
		a->protocol_version->buf[0] = v1[0];
		a->protocol_version->size = 1;
		a->protocol_version->bits_unused = 7;
		oid_set(&a->application_context_name, acn, acn_len);
		if (imsi) {
			MAP_DialoguePDU_t md;
			uint8_t ab[20];
			size_t n = addr_enc(imsi, 0x86, ab);

			memset(&md, 0, sizeof(md));
			md.present = MAP_DialoguePDU_PR_map_open;
			md.choice.map_open.destinationReference = OCTET_STRING_new_fromBuf(&asn_DEF_AddressString,
											 (char *)ab, n);
			n = addr_enc("+491720000010", 0x91, ab);
			md.choice.map_open.originationReference = OCTET_STRING_new_fromBuf(&asn_DEF_AddressString,
											 (char *)ab, n);
			a->user_information = calloc(1, sizeof(*a->user_information));
			ASN_SEQUENCE_ADD(&a->user_information->list,
					 external(map_dialogue_as, sizeof(map_dialogue_as), &asn_DEF_MAP_DialoguePDU, &md));
			ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_MAP_DialoguePDU, &md);
		}
	}
	e = external(dialogue_as, sizeof(dialogue_as), &asn_DEF_DialoguePDU, &d);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_DialoguePDU, &d);
	return e;
}

static ANY_t *ussd_any(bool res, const char *text, uint8_t dcs, const char *msisdn)
{
	uint8_t packed[170];
	size_t n = gsm7_pack(text, packed);
	ANY_t *any;

	if (res) {
		USSD_Res_t r;

		memset(&r, 0, sizeof(r));
		os_set(&r.ussd_DataCodingScheme, &dcs, 1);
		os_set(&r.ussd_String, packed, n);
		any = ANY_new_fromType(&asn_DEF_USSD_Res, &r);
		ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_USSD_Res, &r);
	} else {
		USSD_Arg_t a;

		memset(&a, 0, sizeof(a));
		os_set(&a.ussd_DataCodingScheme, &dcs, 1);
		os_set(&a.ussd_String, packed, n);
		if (msisdn) {
			uint8_t ab[20];
			size_t an = addr_enc(msisdn, 0x81, ab);

			a.msisdn = OCTET_STRING_new_fromBuf(&asn_DEF_AddressString, (char *)ab, an);
		}
		any = ANY_new_fromType(&asn_DEF_USSD_Arg, &a);
		ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_USSD_Arg, &a);
	}
	return any;
}

/* one COMP argument -> a component */
static Component_t *comp_from_arg(const char *arg)
{
	Component_t *c = calloc(1, sizeof(*c));
	char kind[16], text[200] = "";
	int iid = 0, op = 0;

	if (sscanf(arg, "%15[^=]=%d:%d:%199s", kind, &iid, &op, text) < 2) {
		free(c);
		return NULL;
	}
	if (!strcmp(kind, "rrl") || !strcmp(kind, "ack")) {
		c->present = Component_PR_returnResultLast;
		c->choice.returnResultLast.invokeID = iid;
		if (!strcmp(kind, "rrl")) {
			ANY_t *any = ussd_any(true, text, 0x0f, NULL);

			c->choice.returnResultLast.result = calloc(1, sizeof(*c->choice.returnResultLast.result));
			c->choice.returnResultLast.result->opCode.present = Code_PR_local;
			c->choice.returnResultLast.result->opCode.choice.local = op;
			c->choice.returnResultLast.result->result = *any;
			free(any);
		}
	} else if (!strcmp(kind, "invoke")) {
		c->present = Component_PR_invoke;
		c->choice.invoke.invokeID = iid;
		c->choice.invoke.opCode.present = Code_PR_local;
		c->choice.invoke.opCode.choice.local = op;
		c->choice.invoke.parameter = ussd_any(false, text, 0x0f, NULL);
	} else if (!strcmp(kind, "error")) {
		c->present = Component_PR_returnError;
		c->choice.returnError.invokeID = iid;
		c->choice.returnError.errorCode.present = Code_PR_local;
		c->choice.returnError.errorCode.choice.local = op;
	} else if (!strcmp(kind, "reject")) {
		c->present = Component_PR_reject;
		c->choice.reject.invokeID.present = Reject__invokeID_PR_derivable;
		c->choice.reject.invokeID.choice.derivable = iid;
		c->choice.reject.problem.present = Reject__problem_PR_invokeProblem;
		c->choice.reject.problem.choice.invokeProblem = 1;
	} else {
		free(c);
		return NULL;
	}
	return c;
}

static void send_tcap(struct role *r, const uint8_t *b, size_t n)
{
	struct msgb *msg = msgb_alloc_headroom(2048, 512, "peer");

	msg->l2h = msgb_put(msg, n);
	memcpy(msg->l2h, b, n);
	if (osmo_sccp_tx_unitdata_msg(r->scu, &r->local, &gw_addr, msg) < 0)
		printf("{\"ev\":\"error\",\"why\":\"SCCP refused\"}\n");
}

static void send_msg(struct role *r, TCMessage_t *m)
{
	uint8_t buf[2048];
	asn_enc_rval_t er = der_encode_to_buffer(&asn_DEF_TCMessage, m, buf, sizeof(buf));

	if (er.encoded < 0) {
		printf("{\"ev\":\"error\",\"why\":\"cannot encode %s\"}\n", er.failed_type ? er.failed_type->name : "?");
		return;
	}
	send_tcap(r, buf, er.encoded);
}

/* ---- load (contrib/bench/map): dialogs at a paced rate, each step's latency; echo: bare SCCP round trips ---- */

struct ld_dlg {
	uint8_t state;		/* 0 idle, 1..: answers sent, 255 done */
	uint8_t failed;
	uint8_t outcome;	/* LD_OUT_* once done */
	int64_t sent_us;
	uint8_t gwtid[4];
};

static struct {
	bool on, echo;
	struct role *r;
	unsigned int n, started, done, steps, errors, answered, served, busy, dup;
	uint32_t tid0;		/* LD_TID0 + MAP_PEER_BASE */
	unsigned long base;
	double rate;
	int64_t t0_us, end_us;
	struct ld_dlg *d;
	char code[32];
	char answers[4][32];
	unsigned int n_answers;
	uint32_t *lat;		/* step latencies, us */
	unsigned int n_lat;
	struct osmo_timer_list tick;
	uint8_t echo_msg[256];
	size_t echo_len;
} ld;

#define LD_TID0 0x10000000u
enum { LD_OUT_NONE, LD_OUT_SERVED, LD_OUT_BUSY, LD_OUT_OTHER };

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void ld_report(void)
{
	double secs = (now_us() - ld.t0_us) / 1e6;
	uint32_t p50 = 0, p99 = 0;

	if (ld.n_lat) {
		qsort(ld.lat, ld.n_lat, sizeof(*ld.lat), cmp_u32);
		p50 = ld.lat[ld.n_lat / 2];
		p99 = ld.lat[(size_t)(ld.n_lat * 0.99)];
	}
	printf("{\"ev\":\"%s\",\"dialogs\":%u,\"done\":%u,\"steps\":%u,\"errors\":%u,\"served\":%u,\"busy\":%u,"
	       "\"dup\":%u,\"secs\":%.3f,\"p50_us\":%u,\"p99_us\":%u}\n", ld.echo ? "echo" : "load", ld.n, ld.done,
	       ld.steps, ld.errors, ld.served, ld.busy, ld.dup, secs, p50, p99);
	fflush(stdout);
	if (!ld.echo && getenv("MAP_PEER_TIMELINE") && ld.rate > 0) {
		FILE *f = fopen(getenv("MAP_PEER_TIMELINE"), "w");
		unsigned int i, s, per[4] = { 0 }, cur = 0;

		for (i = 0; f && i <= ld.started; i++) {
			s = i < ld.started ? (unsigned int)(i / ld.rate) : UINT32_MAX;
			if (s != cur) {
				if (per[0] + per[1] + per[2] + per[3])
					fprintf(f, "%u %u %u %u %u\n", cur, per[0] + per[1] + per[2] + per[3],
						per[LD_OUT_SERVED], per[LD_OUT_BUSY], per[LD_OUT_OTHER]);
				memset(per, 0, sizeof(per));
				cur = s;
			}
			if (i < ld.started)
				per[ld.d[i].state == 255 ? ld.d[i].outcome : LD_OUT_NONE]++;
		}
		if (f)
			fclose(f);
	}
	free(ld.d);
	free(ld.lat);
	ld.d = NULL;
	ld.lat = NULL;
	ld.on = false;
	osmo_timer_del(&ld.tick);
}

static void ld_send_begin(unsigned int i);
static void ld_send_echo(unsigned int i);

static void ld_tick_cb(void *data)
{
	int64_t t = now_us();
	unsigned int want = (unsigned int)((t - ld.t0_us) / 1e6 * ld.rate);

	if (want > ld.n)
		want = ld.n;
	while (ld.started < want) {
		if (ld.echo)
			ld_send_echo(ld.started);
		else
			ld_send_begin(ld.started);
		ld.started++;
	}
	if (ld.done >= ld.n || t > ld.end_us) {
		ld.errors += ld.n - ld.done;	/* never finished: lost */
		ld_report();
		return;
	}
	osmo_timer_schedule(&ld.tick, 0, 1000);
}

static void ld_start(struct role *r, bool echo, unsigned int n, double rate)
{
	memset(&ld.tick, 0, sizeof(ld.tick));
	ld.on = true;
	ld.echo = echo;
	ld.r = r;
	ld.n = n;
	ld.rate = rate;
	ld.started = ld.done = ld.steps = ld.errors = ld.n_lat = ld.served = ld.busy = ld.dup = 0;
	ld.base = getenv("MAP_PEER_BASE") ? strtoul(getenv("MAP_PEER_BASE"), NULL, 10) : 0;
	ld.tid0 = LD_TID0 + (uint32_t)ld.base;
	ld.d = calloc(n, sizeof(*ld.d));
	ld.lat = calloc(n * (echo ? 1 : ld.n_answers + 1), sizeof(*ld.lat));
	ld.t0_us = now_us();
	ld.end_us = ld.t0_us + (int64_t)(n / rate * 1e6) + 5000000;
	osmo_timer_setup(&ld.tick, ld_tick_cb, NULL);
	osmo_timer_schedule(&ld.tick, 0, 1000);
}

static void ld_lat(unsigned int i)
{
	int64_t t = now_us();

	ld.lat[ld.n_lat++] = t - ld.d[i].sent_us;
	ld.d[i].sent_us = t;
	ld.steps++;
}

/* A Begin with an Invoke (invoke id 1) of \a op carrying USSD-Arg; the dialogue portion an AARQ of \a acn
 * (NULL: none, as a MAP v1 peer), with MAP-OpenInfo when \a imsi is given. Free with
 * ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_TCMessage, m). */
static void build_begin(TCMessage_t *m, uint32_t otid, const uint8_t *acn, size_t acn_len, const char *imsi,
			long op, const char *text, uint8_t dcs, const char *msisdn)
{
	Component_t *c = calloc(1, sizeof(*c));
	char tid[12];

	memset(m, 0, sizeof(*m));
	m->present = TCMessage_PR_begin;
	snprintf(tid, sizeof(tid), "%08x", otid);
	tid_set(&m->choice.begin.otid, tid);
	if (acn)
		m->choice.begin.dialoguePortion = dialogue(false, 0, acn, acn_len, imsi);
	c->present = Component_PR_invoke;
	c->choice.invoke.invokeID = 1;
	c->choice.invoke.opCode.present = Code_PR_local;
	c->choice.invoke.opCode.choice.local = op;
	c->choice.invoke.parameter = ussd_any(false, text, dcs, msisdn);
	m->choice.begin.components = calloc(1, sizeof(ComponentPortion_t));
	ASN_SEQUENCE_ADD(&m->choice.begin.components->list, c);
}

static void ld_send_begin(unsigned int i)
{
	char msisdn[24];
	TCMessage_t m;

	snprintf(msisdn, sizeof(msisdn), "+49173%08lu", (ld.base + i) % 100000000);
	build_begin(&m, ld.tid0 + i, acn_ussd_v2, sizeof(acn_ussd_v2), NULL, 59, ld.code, 0x0f, msisdn);
	ld.d[i].sent_us = now_us();
	ld.d[i].state = 1;
	send_msg(ld.r, &m);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_TCMessage, &m);
}

static void ld_send_echo(unsigned int i)
{
	TCMessage_t *m = NULL;
	uint8_t buf[256];
	asn_enc_rval_t er;
	uint32_t otid = ld.tid0 + i;

	/* the same coding work per round trip as a dialog step: decode one message, encode one */
	if (ber_decode(NULL, &asn_DEF_TCMessage, (void **)&m, ld.echo_msg, ld.echo_len).code == RC_OK) {
		uint8_t b[4] = { otid >> 24, otid >> 16, otid >> 8, otid };

		OCTET_STRING_fromBuf(&m->choice.begin.otid, (const char *)b, 4);
		er = der_encode_to_buffer(&asn_DEF_TCMessage, m, buf, sizeof(buf));
		if (er.encoded > 0) {
			ld.d[i].sent_us = now_us();
			send_tcap(ld.r, buf, er.encoded);
		}
	}
	ASN_STRUCT_FREE(asn_DEF_TCMessage, m);
}

/* a message of the load: the gateway's answer to dialog i */
static void ld_rx(const TCMessage_t *m)
{
	const OCTET_STRING_t *dtid = NULL, *otid = NULL;
	const ComponentPortion_t *cp = NULL;
	unsigned int i;

	switch (m->present) {
	case TCMessage_PR_continue:
		dtid = &m->choice.Continue.dtid;
		otid = &m->choice.Continue.otid;
		cp = m->choice.Continue.components;
		break;
	case TCMessage_PR_end:
		dtid = &m->choice.end.dtid;
		cp = m->choice.end.components;
		break;
	case TCMessage_PR_abort:
		dtid = &m->choice.abort.dtid;
		break;
	case TCMessage_PR_begin:
		if (ld.echo) {
			/* the echo of our Begin */
			otid = &m->choice.begin.otid;
			if (otid->size == 4) {
				i = ((otid->buf[0] << 24) | (otid->buf[1] << 16) | (otid->buf[2] << 8) | otid->buf[3]) - ld.tid0;
				if (i < ld.n && !ld.d[i].state) {
					ld.d[i].state = 255;
					ld_lat(i);
					ld.done++;
				}
			}
		}
		return;
	default:
		return;
	}
	if (!dtid || dtid->size != 4)
		return;
	i = ((dtid->buf[0] << 24) | (dtid->buf[1] << 16) | (dtid->buf[2] << 8) | dtid->buf[3]) - ld.tid0;
	if (i >= ld.n || ld.d[i].state == 0)
		return;
	if (ld.d[i].state == 255) {
		if (m->present != TCMessage_PR_abort && cp && cp->list.count > 0)
			ld.dup++;	/* a screen for a dialog already ended */
		return;
	}
	if (m->present == TCMessage_PR_abort || !cp || cp->list.count < 1) {
		ld.errors++;
		ld.d[i].state = 255;
		ld.d[i].outcome = LD_OUT_OTHER;
		ld.done++;
		return;
	}
	ld_lat(i);
	if (m->present == TCMessage_PR_end) {
		if (ld.d[i].state != ld.n_answers + 1) {
			ld.errors++;	/* ended early: the busy screen is a ReturnError (ussd-Busy) */
			ld.d[i].outcome = cp->list.array[0]->present == Component_PR_returnError ? LD_OUT_BUSY : LD_OUT_OTHER;
			if (ld.d[i].outcome == LD_OUT_BUSY)
				ld.busy++;
		} else {
			ld.d[i].outcome = LD_OUT_SERVED;
			ld.served++;
		}
		ld.d[i].state = 255;
		ld.done++;
		return;
	}
	if (ld.d[i].state > ld.n_answers || cp->list.array[0]->present != Component_PR_invoke) {
		ld.errors++;
		ld.d[i].state = 255;
		ld.d[i].outcome = LD_OUT_OTHER;
		ld.done++;
		return;
	}
	{
		TCMessage_t a;
		Component_t *c = calloc(1, sizeof(*c));
		char tid[12];
		ANY_t *any = ussd_any(true, ld.answers[ld.d[i].state - 1], 0x0f, NULL);

		memset(&a, 0, sizeof(a));
		a.present = TCMessage_PR_continue;
		snprintf(tid, sizeof(tid), "%08x", ld.tid0 + i);
		tid_set(&a.choice.Continue.otid, tid);
		OCTET_STRING_fromBuf(&a.choice.Continue.dtid, (const char *)otid->buf, otid->size);
		c->present = Component_PR_returnResultLast;
		c->choice.returnResultLast.invokeID = cp->list.array[0]->choice.invoke.invokeID;
		c->choice.returnResultLast.result = calloc(1, sizeof(*c->choice.returnResultLast.result));
		c->choice.returnResultLast.result->opCode.present = Code_PR_local;
		c->choice.returnResultLast.result->opCode.choice.local = 60;
		c->choice.returnResultLast.result->result = *any;
		free(any);
		a.choice.Continue.components = calloc(1, sizeof(ComponentPortion_t));
		ASN_SEQUENCE_ADD(&a.choice.Continue.components->list, c);
		ld.d[i].state++;
		send_msg(ld.r, &a);
		ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_TCMessage, &a);
	}
}

static struct role *role_by_name(const char *n)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(roles); i++)
		if (!strcmp(roles[i].name, n))
			return &roles[i];
	return NULL;
}

static void cmd(char *line)
{
	char *tok[32];
	int n = 0, i, first_comp;
	struct role *r;
	TCMessage_t m;
	struct ExternalPDU **dp = NULL;
	struct ComponentPortion **cp = NULL;
	bool aare = false, aare_reject = false;

	for (char *s = strtok(line, " \t\r\n"); s && n < 32; s = strtok(NULL, " \t\r\n"))
		tok[n++] = s;
	if (n < 2 || !(r = role_by_name(tok[1]))) {
		printf("{\"ev\":\"error\",\"why\":\"bad command\"}\n");
		return;
	}
	memset(&m, 0, sizeof(m));
	if (!strcmp(tok[0], "load") && n >= 5 && !ld.on) {
		/* load ROLE DIALOGS RATE CODE [ANSWER...] */
		OSMO_STRLCPY_ARRAY(ld.code, tok[4]);
		ld.n_answers = 0;
		for (i = 5; i < n && ld.n_answers < 4; i++)
			OSMO_STRLCPY_ARRAY(ld.answers[ld.n_answers++], tok[i]);
		ld_start(r, false, atoi(tok[2]), atof(tok[3]));
		return;
	}
	if (!strcmp(tok[0], "echo") && n >= 4 && !ld.on) {
		/* echo ROLE COUNT RATE: Begin messages to SSN 147, returned by an echo (map_peer --echo) */
		TCMessage_t e;
		asn_enc_rval_t er;

		build_begin(&e, LD_TID0, acn_ussd_v2, sizeof(acn_ussd_v2), NULL, 59, "*7790#", 0x0f, "+491730000000");
		er = der_encode_to_buffer(&asn_DEF_TCMessage, &e, ld.echo_msg, sizeof(ld.echo_msg));
		ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_TCMessage, &e);
		ld.echo_len = er.encoded > 0 ? er.encoded : 0;
		ld_start(r, true, atoi(tok[2]), atof(tok[3]));
		return;
	}
	if (!strcmp(tok[0], "raw") && n == 3) {
		uint8_t b[1024];
		int len = osmo_hexparse(tok[2], b, sizeof(b));

		if (len > 0)
			send_tcap(r, b, len);
		printf("{\"ev\":\"sent\",\"cmd\":\"raw\"}\n");
		return;
	}
	if (!strcmp(tok[0], "begin") && n >= 4) {
		const char *text = "", *msisdn = NULL, *imsi = NULL, *acn = NULL;
		unsigned int dcs = 0x0f;
		long op = 59;

		for (i = 3; i < n; i++) {
			if (!strncmp(tok[i], "text=", 5))
				text = tok[i] + 5;
			else if (!strncmp(tok[i], "msisdn=", 7))
				msisdn = tok[i] + 7;
			else if (!strncmp(tok[i], "imsi=", 5))
				imsi = tok[i] + 5;
			else if (!strncmp(tok[i], "acn=", 4))
				acn = tok[i] + 4;
			else if (!strncmp(tok[i], "dcs=", 4))
				dcs = strtoul(tok[i] + 4, NULL, 16);
			else if (!strncmp(tok[i], "op=", 3))
				op = atol(tok[i] + 3);
		}
		if (!acn) {
			build_begin(&m, strtoul(tok[2], NULL, 16), acn_ussd_v2, sizeof(acn_ussd_v2), imsi, op, text, dcs,
				    msisdn);
		} else {
			uint8_t ab[16];
			int al = strcmp(acn, "none") ? osmo_hexparse(acn, ab, sizeof(ab)) : -1;

			build_begin(&m, strtoul(tok[2], NULL, 16), al > 0 ? ab : NULL, al > 0 ? al : 0, imsi, op, text, dcs,
				    msisdn);
		}
		send_msg(r, &m);
		ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_TCMessage, &m);
		printf("{\"ev\":\"sent\",\"cmd\":\"begin\"}\n");
		return;
	}
	if (!strcmp(tok[0], "continue") && n >= 4) {
		m.present = TCMessage_PR_continue;
		tid_set(&m.choice.Continue.otid, tok[2]);
		tid_set(&m.choice.Continue.dtid, tok[3]);
		dp = &m.choice.Continue.dialoguePortion;
		cp = &m.choice.Continue.components;
		first_comp = 4;
	} else if (!strcmp(tok[0], "end") && n >= 3) {
		m.present = TCMessage_PR_end;
		tid_set(&m.choice.end.dtid, tok[2]);
		dp = &m.choice.end.dialoguePortion;
		cp = &m.choice.end.components;
		first_comp = 3;
	} else if (!strcmp(tok[0], "abort") && n >= 3) {
		m.present = TCMessage_PR_abort;
		tid_set(&m.choice.abort.dtid, tok[2]);
		send_msg(r, &m);
		ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_TCMessage, &m);
		printf("{\"ev\":\"sent\",\"cmd\":\"abort\"}\n");
		return;
	} else {
		printf("{\"ev\":\"error\",\"why\":\"bad command\"}\n");
		return;
	}
	for (i = first_comp; i < n; i++) {
		Component_t *c;

		if (!strcmp(tok[i], "aare")) {
			aare = true;
			continue;
		}
		if (!strcmp(tok[i], "aare-reject")) {
			aare_reject = true;
			continue;
		}
		c = comp_from_arg(tok[i]);
		if (!c) {
			printf("{\"ev\":\"error\",\"why\":\"bad component %s\"}\n", tok[i]);
			ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_TCMessage, &m);
			return;
		}
		if (!*cp)
			*cp = calloc(1, sizeof(ComponentPortion_t));
		ASN_SEQUENCE_ADD(&(*cp)->list, c);
	}
	if (aare || aare_reject)
		*dp = dialogue(true, aare_reject ? 1 : 0, acn_ussd_v2, sizeof(acn_ussd_v2), NULL);
	send_msg(r, &m);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_TCMessage, &m);
	printf("{\"ev\":\"sent\",\"cmd\":\"%s\"}\n", tok[0]);
}

/* ---- receiving ---- */

static void print_comp(const Component_t *c)
{
	char text[800] = "";
	const ANY_t *param = NULL;
	long iid = 0, op = -1;
	const char *kind = "?";

	switch (c->present) {
	case Component_PR_invoke:
		kind = "invoke";
		iid = c->choice.invoke.invokeID;
		op = c->choice.invoke.opCode.present == Code_PR_local ? c->choice.invoke.opCode.choice.local : -1;
		param = c->choice.invoke.parameter;
		break;
	case Component_PR_returnResultLast:
	case Component_PR_returnResultNotLast: {
		const ReturnResult_t *rr = c->present == Component_PR_returnResultLast ? &c->choice.returnResultLast
			: &c->choice.returnResultNotLast;

		kind = c->present == Component_PR_returnResultLast ? "rrl" : "rrnl";
		iid = rr->invokeID;
		if (rr->result) {
			op = rr->result->opCode.present == Code_PR_local ? rr->result->opCode.choice.local : -1;
			param = &rr->result->result;
		}
		break;
	}
	case Component_PR_returnError:
		printf("{\"c\":\"error\",\"iid\":%ld,\"code\":%ld}", c->choice.returnError.invokeID,
		       c->choice.returnError.errorCode.present == Code_PR_local ?
		       c->choice.returnError.errorCode.choice.local : -1);
		return;
	case Component_PR_reject: {
		const Reject_t *rj = &c->choice.reject;
		static const char *const tags[] = { "?", "general", "invoke", "returnResult", "returnError" };

		printf("{\"c\":\"reject\",\"iid\":");
		if (rj->invokeID.present == Reject__invokeID_PR_derivable)
			printf("%ld", rj->invokeID.choice.derivable);
		else
			printf("null");
		printf(",\"tag\":\"%s\",\"code\":%ld}", tags[rj->problem.present <= 4 ? rj->problem.present : 0],
		       rj->problem.choice.generalProblem);
		return;
	}
	default:
		printf("{\"c\":\"?\"}");
		return;
	}
	printf("{\"c\":\"%s\",\"iid\":%ld,\"op\":%ld", kind, iid, op);
	if (param) {
		/* USSD-Arg and USSD-Res start alike: decode as USSD-Res (its extension marker skips the rest) */
		USSD_Arg_t *a = NULL;

		if (ANY_to_type((ANY_t *)param, &asn_DEF_USSD_Arg, (void **)&a) == 0 && a->ussd_DataCodingScheme.size == 1) {
			ussd_decode(a->ussd_DataCodingScheme.buf[0], a->ussd_String.buf, a->ussd_String.size, text,
				    sizeof(text));
			printf(",\"dcs\":%u,\"len\":%d,\"text\":", a->ussd_DataCodingScheme.buf[0], a->ussd_String.size);
			json_str(stdout, text);
		} else {
			printf(",\"param\":\"undecodable\"");
		}
		if (a)
			ASN_STRUCT_FREE(asn_DEF_USSD_Arg, a);
	}
	printf("}");
}

static void print_user_info(const struct ExternalPDU *const *list, int count)
{
	int i;

	for (i = 0; i < count; i++) {
		const ExternalPDU_t *e = list[i];
		MAP_DialoguePDU_t *md = NULL;
		char a[48];

		if (e->direct_reference.size != sizeof(map_dialogue_as) ||
		    memcmp(e->direct_reference.buf, map_dialogue_as, sizeof(map_dialogue_as)))
			continue;
		if (ANY_to_type((ANY_t *)&e->single_ASN1_type, &asn_DEF_MAP_DialoguePDU, (void **)&md) != 0) {
			printf(",\"map\":\"undecodable\"");
			continue;
		}
		switch (md->present) {
		case MAP_DialoguePDU_PR_map_open:
			printf(",\"map\":\"open\"");
			if (md->choice.map_open.destinationReference) {
				addr_str(md->choice.map_open.destinationReference, a);
				printf(",\"dest\":\"%s\"", a);
			}
			if (md->choice.map_open.originationReference) {
				addr_str(md->choice.map_open.originationReference, a);
				printf(",\"orig\":\"%s\"", a);
			}
			break;
		case MAP_DialoguePDU_PR_map_userAbort:
			printf(",\"map\":\"userAbort\",\"uabort\":%d",
			       (int)md->choice.map_userAbort.map_UserAbortChoice.present - 1);
			break;
		default:
			printf(",\"map\":%d", (int)md->present - 1);
			break;
		}
		ASN_STRUCT_FREE(asn_DEF_MAP_DialoguePDU, md);
	}
}

static void print_dialogue(const ExternalPDU_t *e)
{
	DialoguePDU_t *d = NULL;

	if (!e)
		return;
	if (ANY_to_type((ANY_t *)&e->single_ASN1_type, &asn_DEF_DialoguePDU, (void **)&d) != 0) {
		printf(",\"dlg\":\"undecodable\"");
		return;
	}
	switch (d->present) {
	case DialoguePDU_PR_dialogueRequest:
		printf(",\"dlg\":\"aarq\",\"acn\":");
		hex(stdout, d->choice.dialogueRequest.application_context_name.buf,
		    d->choice.dialogueRequest.application_context_name.size);
		if (d->choice.dialogueRequest.user_information)
			print_user_info((const struct ExternalPDU *const *)d->choice.dialogueRequest.user_information->list.array,
					d->choice.dialogueRequest.user_information->list.count);
		break;
	case DialoguePDU_PR_dialogueResponse:
		printf(",\"dlg\":\"aare\",\"acn\":");
		hex(stdout, d->choice.dialogueResponse.application_context_name.buf,
		    d->choice.dialogueResponse.application_context_name.size);
		printf(",\"result\":%ld,\"diag\":%ld", d->choice.dialogueResponse.result,
		       d->choice.dialogueResponse.result_source_diagnostic.choice.dialogue_service_user);
		if (d->choice.dialogueResponse.user_information)
			print_user_info((const struct ExternalPDU *const *)d->choice.dialogueResponse.user_information->list.array,
					d->choice.dialogueResponse.user_information->list.count);
		break;
	case DialoguePDU_PR_dialogueAbort:
		printf(",\"dlg\":\"abrt\",\"abort_source\":%ld", d->choice.dialogueAbort.abort_source);
		if (d->choice.dialogueAbort.user_information)
			print_user_info((const struct ExternalPDU *const *)d->choice.dialogueAbort.user_information->list.array,
					d->choice.dialogueAbort.user_information->list.count);
		break;
	default:
		break;
	}
	ASN_STRUCT_FREE(asn_DEF_DialoguePDU, d);
}

static void print_comps(const ComponentPortion_t *cp)
{
	int i;

	printf(",\"comps\":[");
	for (i = 0; cp && i < cp->list.count; i++) {
		if (i)
			printf(",");
		print_comp(cp->list.array[i]);
	}
	printf("]");
}

static void print_tid(const char *name, const OCTET_STRING_t *t)
{
	printf(",\"%s\":", name);
	hex(stdout, t->buf, t->size);
}

static void rx(struct role *r, const uint8_t *b, size_t n)
{
	TCMessage_t *m = NULL;
	asn_dec_rval_t rv = ber_decode(NULL, &asn_DEF_TCMessage, (void **)&m, b, n);

	if (rv.code != RC_OK || rv.consumed != n) {
		printf("{\"ev\":\"bad\",\"role\":\"%s\",\"hex\":", r->name);
		hex(stdout, b, n);
		printf("}\n");
		fflush(stdout);
		ASN_STRUCT_FREE(asn_DEF_TCMessage, m);
		return;
	}
	if (ld.on) {
		ld_rx(m);
		ASN_STRUCT_FREE(asn_DEF_TCMessage, m);
		return;
	}
	printf("{\"ev\":\"rx\",\"role\":\"%s\",\"len\":%zu", r->name, n);
	switch (m->present) {
	case TCMessage_PR_begin:
		printf(",\"type\":\"begin\"");
		print_tid("otid", &m->choice.begin.otid);
		print_dialogue(m->choice.begin.dialoguePortion);
		print_comps(m->choice.begin.components);
		break;
	case TCMessage_PR_continue:
		printf(",\"type\":\"continue\"");
		print_tid("otid", &m->choice.Continue.otid);
		print_tid("dtid", &m->choice.Continue.dtid);
		print_dialogue(m->choice.Continue.dialoguePortion);
		print_comps(m->choice.Continue.components);
		break;
	case TCMessage_PR_end:
		printf(",\"type\":\"end\"");
		print_tid("dtid", &m->choice.end.dtid);
		print_dialogue(m->choice.end.dialoguePortion);
		print_comps(m->choice.end.components);
		break;
	case TCMessage_PR_abort:
		printf(",\"type\":\"abort\"");
		print_tid("dtid", &m->choice.abort.dtid);
		if (m->choice.abort.reason && m->choice.abort.reason->present == Abort__reason_PR_p_abortCause)
			printf(",\"pabort\":%ld", m->choice.abort.reason->choice.p_abortCause);
		else if (m->choice.abort.reason)
			print_dialogue(&m->choice.abort.reason->choice.u_abortCause);
		break;
	default:
		printf(",\"type\":\"other\"");
		break;
	}
	printf("}\n");
	fflush(stdout);
	ASN_STRUCT_FREE(asn_DEF_TCMessage, m);
}

static bool echo_mode;

static int sccp_cb(struct osmo_prim_hdr *oph, void *_scu)
{
	struct osmo_scu_prim *prim = (struct osmo_scu_prim *)oph;
	struct role *r = osmo_sccp_user_get_priv(_scu);

	if (OSMO_PRIM_HDR(oph) == OSMO_PRIM(OSMO_SCU_PRIM_N_UNITDATA, PRIM_OP_INDICATION)) {
		if (echo_mode) {
			/* the bare SCCP path: the message goes back as it came */
			struct msgb *msg = msgb_alloc_headroom(2048, 512, "echo");

			msg->l2h = msgb_put(msg, msgb_l2len(oph->msg));
			memcpy(msg->l2h, msgb_l2(oph->msg), msgb_l2len(oph->msg));
			osmo_sccp_tx_unitdata_msg(r->scu, &r->local, &prim->u.unitdata.calling_addr, msg);
		} else {
			rx(r, msgb_l2(oph->msg), msgb_l2len(oph->msg));
		}
	}
	msgb_free(oph->msg);
	return 0;
}

static void up_cb(void *data)
{
	unsigned int i;
	struct osmo_ss7_as *as;

	for (i = 0; i < ARRAY_SIZE(roles); i++) {
		struct osmo_ss7_instance *ss7;
		bool up = false;

		if (!roles[i].sccp)
			continue;
		ss7 = osmo_sccp_get_ss7(roles[i].sccp);

		llist_for_each_entry(as, &ss7->as_list, list)
			up |= osmo_ss7_as_active(as);
		if (up != roles[i].up) {
			roles[i].up = up;
			printf("{\"ev\":\"%s\",\"role\":\"%s\"}\n", up ? "up" : "down", roles[i].name);
			fflush(stdout);
		}
	}
	osmo_timer_schedule(&up_timer, 0, 100000);
}

static char linebuf[4096];
static size_t linelen;

static int stdin_cb(struct osmo_fd *ofd, unsigned int what)
{
	ssize_t n = read(ofd->fd, linebuf + linelen, sizeof(linebuf) - linelen - 1);
	char *nl;

	if (n <= 0)
		exit(0);
	linelen += n;
	linebuf[linelen] = 0;
	while ((nl = strchr(linebuf, '\n'))) {
		*nl = 0;
		if (linebuf[0])
			cmd(linebuf);
		fflush(stdout);
		memmove(linebuf, nl + 1, linelen - (nl + 1 - linebuf) + 1);
		linelen -= nl + 1 - linebuf;
	}
	return 0;
}

static const struct log_info_cat cats[] = {};
static const struct log_info peer_log = { .cat = cats, .num_cat = 0 };

int main(int argc, char **argv)
{
	void *ctx = talloc_named_const(NULL, 0, "map_peer");
	int port;
	struct osmo_fd stdin_ofd;
	unsigned int i, n_roles = ARRAY_SIZE(roles);

	if (argc > 1 && !strcmp(argv[1], "--echo")) {
		/* contrib/bench/map: stand in for the gateway (0.23.2, SSN 147) and return every message */
		echo_mode = true;
		roles[0] = (struct role){ .name = "echo", .inst = 0, .pc = "0.23.2", .ssn = 147 };
		n_roles = 1;
		argv++;
		argc--;
	}
	port = argc > 1 ? atoi(argv[1]) : 5000;

	osmo_init_logging2(ctx, &peer_log);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_all_filter(osmo_stderr_target, 1);
	log_set_log_level(osmo_stderr_target, LOGL_NOTICE);
	osmo_ss7_init();
	for (i = 0; i < n_roles; i++) {
		struct role *r = &roles[i];

		r->sccp = osmo_sccp_simple_client_on_ss7_id(ctx, r->inst, r->name, osmo_ss7_pointcode_parse(NULL, r->pc),
							     OSMO_SS7_ASP_PROT_IPA, 0, NULL, port, "127.0.0.1");
		if (!r->sccp) {
			fprintf(stderr, "cannot set up SCCP for %s\n", r->name);
			return 1;
		}
		r->scu = osmo_sccp_user_bind(r->sccp, r->name, sccp_cb, r->ssn);
		osmo_sccp_user_set_priv(r->scu, r);
		osmo_sccp_local_addr_by_instance(&r->local, r->sccp, r->ssn);
		{
			/* reconnect to a restarted STP after 1 s, as the gateway does (libosmo-sigtran: 5 s) */
			struct osmo_ss7_asp *asp;

			llist_for_each_entry(asp, &osmo_sccp_get_ss7(r->sccp)->asp_list, list)
				if (asp->client)
					osmo_stream_cli_set_reconnect_timeout(asp->client, 1);
		}
	}
	osmo_sccp_make_addr_pc_ssn(&gw_addr, osmo_ss7_pointcode_parse(NULL, "0.23.2"), 147);
	if (!echo_mode) {
		/* commands; their end ends the peer */
		osmo_fd_setup(&stdin_ofd, 0, OSMO_FD_READ, stdin_cb, NULL, 0);
		osmo_fd_register(&stdin_ofd);
	}
	osmo_timer_setup(&up_timer, up_cb, NULL);
	osmo_timer_schedule(&up_timer, 0, 100000);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (1)
		osmo_select_main(0);
	return 0;
}
