/*! \file sip_test.c
 *  Unit tests of the SIP channels' stateless parts: ussd+xml parsing (limits, entities, error-code, anyExt) and
 *  building (escaping, round trip), the asserted identity, the Request-URI user part, bodies by content type. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <osip2/osip.h>
#include <osmocom/core/talloc.h>
#include <osmocom/uigw/chan/sip.h>
#include <osmocom/uigw/codec/sip_msg.h>
#include <osmocom/uigw/codec/sms_ip.h>
#include <osmocom/uigw/codec/ussi_xml.h>

static void *ctx;

static void test_xml_parse(void **state)
{
	struct uigw_ussi_data d;
	const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ussd-data>\n <language>de</language>\n"
			" <ussd-string>1=Kontostand &amp; mehr \xc3\xa4</ussd-string>\n <error-code>4</error-code>\n"
			" <anyExt><UnstructuredSS-Notify/><alertingPattern>0</alertingPattern></anyExt>\n</ussd-data>";

	assert_int_equal(uigw_ussi_xml_parse(x, strlen(x), &d), 0);
	assert_string_equal(d.language, "de");
	assert_true(d.has_string);
	assert_string_equal(d.ussd_string, "1=Kontostand & mehr \xc3\xa4");
	assert_int_equal(d.error_code, 4);
	assert_int_equal(d.kind, UIGW_USSI_NOTIFY);

	x = "<ussd-data><ussd-string>*7730#</ussd-string><anyExt><UnstructuredSS-Request/></anyExt></ussd-data>";
	assert_int_equal(uigw_ussi_xml_parse(x, strlen(x), &d), 0);
	assert_string_equal(d.ussd_string, "*7730#");
	assert_string_equal(d.language, "");
	assert_int_equal(d.error_code, 0);
	assert_int_equal(d.kind, UIGW_USSI_REQUEST);
}

static void test_xml_refused(void **state)
{
	struct uigw_ussi_data d;
	char big[UIGW_USSI_XML_MAX + 64], deep[512];
	const char *bad[] = {
		"",
		"<ussd-data>",						/* not well-formed */
		"<other/>",						/* wrong root */
		"<ussd-data><error-code>x</error-code></ussd-data>",	/* not a number */
		"<ussd-data><error-code>999</error-code></ussd-data>",
		"<?xml version=\"1.0\"?><!DOCTYPE ussd-data [<!ENTITY a \"aaaaaaaaaa\">]>"
		"<ussd-data><ussd-string>&a;</ussd-string></ussd-data>",	/* entity declaration */
		"<!DOCTYPE ussd-data SYSTEM \"file:///etc/passwd\"><ussd-data/>",
		"<ussd-data><ussd-string>&undefined;</ussd-string></ussd-data>",
	};
	unsigned int i;
	size_t n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(uigw_ussi_xml_parse(bad[i], strlen(bad[i]), &d), -EINVAL);
	assert_int_equal(uigw_ussi_xml_parse(NULL, 0, &d), -EINVAL);

	/* too large */
	n = snprintf(big, sizeof(big), "<ussd-data><ussd-string>");
	memset(big + n, 'a', sizeof(big) - n - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(uigw_ussi_xml_parse(big, strlen(big), &d), -EINVAL);
	/* ussd-string above its buffer, body within the size limit */
	n = snprintf(big, sizeof(big), "<ussd-data><ussd-string>");
	memset(big + n, 'a', 2000);
	strcpy(big + n + 2000, "</ussd-string></ussd-data>");
	assert_int_equal(uigw_ussi_xml_parse(big, strlen(big), &d), -EINVAL);

	/* too deep */
	strcpy(deep, "<ussd-data>");
	for (i = 0; i < UIGW_USSI_XML_DEPTH; i++)
		strcat(deep, "<a>");
	for (i = 0; i < UIGW_USSI_XML_DEPTH; i++)
		strcat(deep, "</a>");
	strcat(deep, "</ussd-data>");
	assert_int_equal(uigw_ussi_xml_parse(deep, strlen(deep), &d), -EINVAL);
	assert_string_equal(d.ussd_string, "");
}

static void test_xml_build(void **state)
{
	size_t blocks = talloc_total_blocks(ctx);
	struct uigw_ussi_data d;
	char *x;

	x = uigw_ussi_xml_build(ctx, "en", "1. A<B & \"C\"\n2. \xc3\xbc\x01", 0, UIGW_USSI_REQUEST);
	assert_non_null(x);
	assert_non_null(strstr(x, "1. A&lt;B &amp; &quot;C&quot;"));
	assert_non_null(strstr(x, "<anyExt><UnstructuredSS-Request/></anyExt>"));
	assert_null(strstr(x, "error-code"));
	assert_int_equal(uigw_ussi_xml_parse(x, strlen(x), &d), 0);
	assert_string_equal(d.ussd_string, "1. A<B & \"C\"\n2. \xc3\xbc");	/* the control character is dropped */
	assert_string_equal(d.language, "en");
	assert_int_equal(d.kind, UIGW_USSI_REQUEST);
	talloc_free(x);

	x = uigw_ussi_xml_build(ctx, NULL, NULL, 3, UIGW_USSI_NONE);
	assert_int_equal(uigw_ussi_xml_parse(x, strlen(x), &d), 0);
	assert_false(d.has_string);
	assert_int_equal(d.error_code, 3);
	assert_int_equal(d.kind, UIGW_USSI_NONE);
	talloc_free(x);
	assert_int_equal(talloc_total_blocks(ctx), blocks);
}

static osip_message_t *parse(const char *s)
{
	osip_message_t *m;

	assert_int_equal(osip_message_init(&m), 0);
	assert_int_equal(osip_message_parse(m, s, strlen(s)), 0);
	return m;
}

#define HDRS "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nTo: <sip:7726@ims.example.net>\r\n" \
	     "Call-ID: abc\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"

static void test_identity(void **state)
{
	char msisdn[32], uri[256];
	osip_message_t *m;

	/* sip: and tel: in one header: the sip URI is kept for replies */
	m = parse("MESSAGE sip:7726@ims.example.net SIP/2.0\r\n" HDRS
		  "From: <sip:someone@ims.example.net>;tag=1\r\n"
		  "P-Asserted-Identity: <tel:+491720000123>, \"Bob\" <sip:+491720000123@127.0.0.1:5071;user=phone>\r\n"
		  "Content-Length: 0\r\n\r\n");
	assert_int_equal(uigw_sip_identity(m, false, "49", "0", msisdn, sizeof(msisdn), uri, sizeof(uri)), 0);
	assert_string_equal(msisdn, "+491720000123");
	assert_string_equal(uri, "sip:+491720000123@127.0.0.1:5071;user=phone");
	osip_message_free(m);

	/* national number in a tel URI */
	m = parse("MESSAGE sip:7726@ims.example.net SIP/2.0\r\n" HDRS "From: <sip:x@y>;tag=1\r\n"
		  "P-Asserted-Identity: <tel:01720000123>\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(uigw_sip_identity(m, false, "49", "0", msisdn, sizeof(msisdn), uri, sizeof(uri)), 0);
	assert_string_equal(msisdn, "+491720000123");
	osip_message_free(m);

	/* no PAI: From only if allowed */
	m = parse("MESSAGE sip:7726@ims.example.net SIP/2.0\r\n" HDRS
		  "From: <sip:+491720000125@ims.example.net>;tag=1\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(uigw_sip_identity(m, false, "49", "0", msisdn, sizeof(msisdn), uri, sizeof(uri)), -ENOENT);
	assert_int_equal(uigw_sip_identity(m, true, "49", "0", msisdn, sizeof(msisdn), uri, sizeof(uri)), 0);
	assert_string_equal(msisdn, "+491720000125");
	assert_string_equal(uri, "sip:+491720000125@ims.example.net");
	osip_message_free(m);

	/* a PAI that is no phone number */
	m = parse("MESSAGE sip:7726@ims.example.net SIP/2.0\r\n" HDRS "From: <sip:x@y>;tag=1\r\n"
		  "P-Asserted-Identity: <sip:alice@ims.example.net>\r\nContent-Length: 0\r\n\r\n");
	assert_true(uigw_sip_identity(m, false, "49", "0", msisdn, sizeof(msisdn), NULL, 0) < 0);
	osip_message_free(m);
}

/* the number of a name-addr read the fast way (no libosip2 parse: every refusal under overload reads one) is the
 * number libosip2's parse gives, and the forms it does not know are handed over to that parse */
static void test_name_addr_fast(void **state)
{
	static const struct {
		const char *v;
		int rc;
		const char *msisdn;
		bool sip, fast;	/* fast: read without libosip2 (no allocation) */
	} t[] = {
		{ "<sip:+491724000001@127.0.0.1:45171>", 0, "+491724000001", true, true },
		{ "<sip:+491724000001@ims.example.net;user=phone>;tag=42B1", 0, "+491724000001", true, true },
		{ "Alice <sips:01724000001@10.0.0.1>", 0, "+491724000001", true, true },
		{ "<tel:+491724000001;phone-context=ims.example.net>", 0, "+491724000001", false, true },
		{ "<TEL:01724000001>", 0, "+491724000001", false, true },
		{ "<sip:+491724000001;npdi@x>", 0, "+491724000001", true, true },
		{ "<sip:alice@ims.example.net>", -EINVAL, NULL, true, true },
		/* handed over: a quoted display name, an escape, a password, a bare addr-spec, an IPv6 host */
		{ "\"Alice <x>\" <sip:+491724000001@ims>", 0, "+491724000001", true, false },
		{ "<sip:%2B491724000001@ims>", 0, "+491724000001", true, false },
		{ "<sip:+491724000001:secret@ims>", 0, "+491724000001", true, false },
		{ "sip:+491724000001@ims", 0, "+491724000001", true, false },
		{ "<sip:+491724000001@[::1]>", 0, "+491724000001", true, false },
		{ "<sip:ims.example.net>", -ENOENT, NULL, true, false },
		{ "", -ENOENT, NULL, true, false },
	};
	struct uigw_sip_alloc_stats s0, s1;
	char a[32], b[32];
	bool sa, sb;
	unsigned int i;
	int ra, rb;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uigw_sip_alloc_stats(&s0);
		ra = uigw_sip_name_addr_number(t[i].v, "49", "0", a, sizeof(a), &sa, true);
		uigw_sip_alloc_stats(&s1);
		assert_int_equal(s1.hits + s1.misses == s0.hits + s0.misses, t[i].fast);
		rb = uigw_sip_name_addr_number(t[i].v, "49", "0", b, sizeof(b), &sb, false);
		assert_int_equal(ra, t[i].rc);
		assert_int_equal(rb, t[i].rc);
		if (!ra) {
			assert_string_equal(a, t[i].msisdn);
			assert_string_equal(b, t[i].msisdn);
			assert_int_equal(sa, t[i].sip);
			assert_int_equal(sb, t[i].sip);
		}
	}
}

/* the raw scan agrees with libosip2's parse on what a stateless refusal needs, and its 503 is a response that
 * libosip2 parses back with the request's Via (fixed), From, To (tagged), Call-ID and CSeq */
static void raw_same_identity(const char *req, bool from_allowed)
{
	char a[32] = "", b[32] = "";
	struct uigw_sip_raw r;
	osip_message_t *m = parse(req);
	int ra, rb;

	assert_int_equal(uigw_sip_raw_scan(req, strlen(req), &r), 0);
	ra = uigw_sip_identity(m, from_allowed, "49", "0", a, sizeof(a), NULL, 0);
	rb = uigw_sip_raw_identity(&r, from_allowed, "49", "0", b, sizeof(b));
	assert_int_equal(ra, rb);
	assert_string_equal(a, b);
	osip_message_free(m);
}

static void test_raw_scan(void **state)
{
	static const char *req =
		"MESSAGE sip:7798@127.0.0.1:45160 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.7:45170;branch=z9hG4bK-1-0;rport\r\n"
		"v: SIP/2.0/UDP proxy.example.net;branch=z9hG4bK-p, SIP/2.0/TCP far.example.net;branch=z9hG4bK-f\r\n"
		"From : <sip:+491724000001@127.0.0.1>;tag=42B1\r\n"
		"t: <sip:7798@127.0.0.1>\r\n"
		"Call-ID: 1-4711@127.0.0.1\r\n"
		"CSeq: 1 MESSAGE\r\n"
		"Max-Forwards: 70\r\n"
		"P-Asserted-Identity: <sip:+491724000001@127.0.0.1:45171>\r\n"
		"Content-Type: text/plain;charset=UTF-8\r\n"
		"Content-Length: 6\r\n\r\nRATE 4";
	char out[2048], key[256], want_key[256];
	struct uigw_sip_raw r;
	osip_message_t *m, *resp;
	osip_via_t *via;
	osip_generic_param_t *gp;
	int n;

	assert_int_equal(uigw_sip_raw_scan(req, strlen(req), &r), 0);
	assert_int_equal(r.method.len, 7);
	assert_int_equal(r.n_via, 2);
	assert_int_equal(r.n_pai, 1);
	assert_int_equal(r.branch.len, strlen("z9hG4bK-1-0"));
	assert_memory_equal(r.branch.p, "z9hG4bK-1-0", r.branch.len);
	assert_memory_equal(r.top_host.p, "10.0.0.7", r.top_host.len);
	assert_int_equal(r.top_port, 45170);
	assert_true(r.rport_at > 0);
	assert_false(r.to_tag);
	/* the key of the channel's transactions */
	assert_int_equal(uigw_sip_raw_key(&r, key, sizeof(key)), 0);
	m = parse(req);
	snprintf(want_key, sizeof(want_key), "s %s %s", "z9hG4bK-1-0", m->cseq->method);
	assert_string_equal(key, want_key);
	osip_message_free(m);

	n = uigw_sip_raw_response(&r, 503, "T1", "127.0.0.1", 45170, "Retry-After: 5\r\n", out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	assert_string_equal(out,
		"SIP/2.0 503 Service Unavailable\r\n"
		"Via: SIP/2.0/UDP 10.0.0.7:45170;branch=z9hG4bK-1-0;rport=45170;received=127.0.0.1\r\n"
		"Via: SIP/2.0/UDP proxy.example.net;branch=z9hG4bK-p, SIP/2.0/TCP far.example.net;branch=z9hG4bK-f\r\n"
		"From: <sip:+491724000001@127.0.0.1>;tag=42B1\r\n"
		"To: <sip:7798@127.0.0.1>;tag=T1\r\n"
		"Call-ID: 1-4711@127.0.0.1\r\n"
		"CSeq: 1 MESSAGE\r\n"
		"Retry-After: 5\r\n"
		"Content-Length: 0\r\n\r\n");
	resp = parse(out);
	assert_int_equal(resp->status_code, 503);
	assert_int_equal(osip_list_size(&resp->vias), 3);
	via = osip_list_get(&resp->vias, 0);
	assert_int_equal(osip_via_param_get_byname(via, "received", &gp), 0);
	assert_string_equal(gp->gvalue, "127.0.0.1");
	assert_int_equal(osip_to_get_tag(resp->to, &gp), 0);
	assert_string_equal(gp->gvalue, "T1");
	assert_string_equal(resp->call_id->number, "1-4711");
	assert_string_equal(resp->cseq->method, "MESSAGE");
	osip_message_free(resp);

	/* a request from where its top Via says: copied as it is; a To with a tag keeps it */
	{
		static const char *req2 = "MESSAGE sip:7798@x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa\r\n"
			"From: <sip:a@b>;tag=1\r\nTo: <sip:7798@x>;tag=old\r\nCall-ID: c\r\nCSeq: 7 MESSAGE\r\n\r\n";

		assert_int_equal(uigw_sip_raw_scan(req2, strlen(req2), &r), 0);
		assert_true(r.to_tag);
		assert_true(uigw_sip_raw_response(&r, 503, "T2", "127.0.0.1", 5070, NULL, out, sizeof(out)) > 0);
		assert_non_null(strstr(out, "\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa\r\n"));
		assert_non_null(strstr(out, "\r\nTo: <sip:7798@x>;tag=old\r\nCall-ID: c\r\nCSeq: 7 MESSAGE\r\n"));
		/* it does not fit: no partial answer */
		assert_int_equal(uigw_sip_raw_response(&r, 503, "T2", "127.0.0.1", 5070, NULL, out, 60), -ENOSPC);
	}

	/* identities as uigw_sip_identity() finds them */
	raw_same_identity(req, false);
	raw_same_identity("MESSAGE sip:7726@ims.example.net SIP/2.0\r\n" HDRS "From: <sip:someone@ims>;tag=1\r\n"
			  "P-Asserted-Identity: <tel:+491720000123>, \"Bob\" <sip:+491720000124@127.0.0.1;user=phone>\r\n\r\n",
			  false);
	raw_same_identity("MESSAGE sip:7726@ims.example.net SIP/2.0\r\n" HDRS "From: <sip:x@y>;tag=1\r\n"
			  "P-Asserted-Identity: <tel:01720000123>\r\n\r\n", false);
	raw_same_identity("MESSAGE sip:7726@ims.example.net SIP/2.0\r\n" HDRS
			  "From: <sip:+491720000125@ims.example.net>;tag=1\r\n\r\n", false);
	raw_same_identity("MESSAGE sip:7726@ims.example.net SIP/2.0\r\n" HDRS
			  "From: <sip:+491720000125@ims.example.net>;tag=1\r\n\r\n", true);
	raw_same_identity("MESSAGE sip:7726@ims.example.net SIP/2.0\r\n" HDRS "From: <sip:x@y>;tag=1\r\n"
			  "P-Asserted-Identity: <sip:alice@ims.example.net>\r\n\r\n", true);

	/* what the full parse must decide */
	{
		static const char *const bad[] = {
			/* folded line */
			"MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nFrom: <sip:a@b>\r\n ;tag=1\r\n"
			"To: <sip:b@c>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n\r\n",
			/* no branch */
			"MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:b@c>\r\nCall-ID: c\r\n"
			"CSeq: 1 MESSAGE\r\n\r\n",
			/* CSeq of another method */
			"MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nFrom: <sip:a@b>\r\nTo: <sip:b@c>\r\n"
			"Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
			/* two To */
			"MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nFrom: <sip:a@b>\r\nTo: <sip:b@c>\r\n"
			"t: <sip:d@c>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n\r\n",
			/* no Call-ID */
			"MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nFrom: <sip:a@b>\r\nTo: <sip:b@c>\r\n"
			"CSeq: 1 MESSAGE\r\n\r\n",
			/* headers never end */
			"MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nFrom: <sip:a@b>\r\nTo: <sip:b@c>\r\n"
			"Call-ID: c\r\nCSeq: 1 MESSAGE\r\n",
			/* a bare CR in a value (a NUL too: the same check, which strlen() cannot show here) */
			"MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nFrom: <sip:a@b>\r\nTo: <sip:b@c>\r\n"
			"Call-ID: c\rX: y\r\nCSeq: 1 MESSAGE\r\n\r\n",
			/* a response */
			"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\n\r\n",
			"",
		};
		unsigned int i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (uigw_sip_raw_scan(bad[i], strlen(bad[i]), &r) != -EINVAL)
				fail_msg("bad[%u] scanned", i);
	}
}

static void test_ruri_and_body(void **state)
{
	const char *body = "--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n--b\r\n"
			   "Content-Type: application/vnd.3gpp.ussd+xml\r\n\r\n<ussd-data/>\r\n--b--\r\n";
	char user[64], *s;
	osip_message_t *m;
	const char *b;
	size_t len;

	s = talloc_asprintf(ctx, "INVITE sip:*135%%23;phone-context=home1.net@home1.net;user=dialstring SIP/2.0\r\n"
			    HDRS "From: <sip:x@y>;tag=1\r\nContent-Type: multipart/mixed;boundary=b\r\n"
			    "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	m = parse(s);
	assert_int_equal(uigw_sip_ruri_user(m, user, sizeof(user)), 0);
	assert_string_equal(user, "*135#");
	assert_int_equal(uigw_sip_body(m, "application/vnd.3gpp.ussd+xml", &b, &len), 0);
	assert_int_equal(len, strlen("<ussd-data/>"));
	assert_memory_equal(b, "<ussd-data/>", len);
	assert_int_equal(uigw_sip_body(m, "APPLICATION/SDP", &b, &len), 0);
	assert_int_equal(uigw_sip_body(m, "text/plain", &b, &len), -ENOENT);
	osip_message_free(m);
	talloc_free(s);

	m = parse("MESSAGE sip:7726@ims.example.net SIP/2.0\r\n" HDRS "From: <sip:x@y>;tag=1\r\n"
		  "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 5\r\n\r\nhello");
	assert_int_equal(uigw_sip_ruri_user(m, user, sizeof(user)), 0);
	assert_string_equal(user, "7726");
	assert_int_equal(uigw_sip_body(m, "text/plain", &b, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(b, "hello", 5);
	osip_message_free(m);

	m = parse("MESSAGE sip:ims.example.net SIP/2.0\r\n" HDRS "From: <sip:x@y>;tag=1\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(uigw_sip_ruri_user(m, user, sizeof(user)), -EINVAL);
	osip_message_free(m);
}

/* the scan of our own requests finds what libosip2's full parse finds: destination, branch, methods */
static void scan_like_osip(const char *text)
{
	struct uigw_sip_req_info ri;
	osip_generic_param_t *br = NULL;
	osip_route_t *route = NULL;
	osip_message_t *m = parse(text);
	const osip_uri_t *u;

	assert_int_equal(uigw_sip_scan_request(text, strlen(text), &ri), 0);
	assert_string_equal(ri.method, m->sip_method);
	assert_string_equal(ri.cseq_method, m->cseq->method);
	osip_via_param_get_byname((osip_via_t *)osip_list_get(&m->vias, 0), "branch", &br);
	assert_non_null(br);
	assert_string_equal(ri.branch, br->gvalue);
	osip_message_get_route(m, 0, &route);
	u = route ? route->url : m->req_uri;
	assert_string_equal(ri.host, u->host);
	assert_int_equal(ri.port, u->port ? atoi(u->port) : 0);
	osip_message_free(m);
}

static void test_scan_request(void **state)
{
	struct uigw_sip_req_info ri;
	const char *bad[] = {
		"MESSAGE sip:+49@127.0.0.1 SIP/2.0\r\nCSeq: 1 MESSAGE\r\n\r\n",		/* no Via */
		"MESSAGE sip:+49@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\nCSeq: 1 MESSAGE\r\n\r\n", /* branch */
		"MESSAGE sip:+49@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKa\r\n\r\n",	/* CSeq */
		"MESSAGE tel:+49 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nCSeq: 1 MESSAGE\r\n\r\n",
		"MESSAGE sip:+49@127.0.0.1 SIP/1.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nCSeq: 1 MESSAGE\r\n\r\n",
		"MESSAGE sip:+49@127.0.0.1:99999 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nCSeq: 1 M\r\n\r\n",
		"MESSAGE\r\n\r\n",
		"",
	};
	unsigned int i;

	scan_like_osip("MESSAGE sip:+491720000123@127.0.0.1:45071 SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bK0a1b2c3d4e5f7\r\n"
		       "Max-Forwards: 70\r\nFrom: <sip:7726@ims.example.net>;tag=x\r\nTo: <sip:+491720000123@127.0.0.1>\r\n"
		       "Call-ID: abc\r\nCSeq: 3 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
	/* through an outbound proxy (loose route), a Request-URI without a port, user=phone */
	scan_like_osip("BYE sip:+491720000170@ims.example.net;user=phone SIP/2.0\r\n"
		       "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKzz;rport\r\nRoute: <sip:10.0.0.7:5070;lr>\r\n"
		       "Route: <sip:10.0.0.8;lr>\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: q\r\n"
		       "CSeq:   7 BYE\r\nContent-Length: 0\r\n\r\n");
	/* compact Via, a Route without a port, a user part with '@'-free parameters */
	scan_like_osip("INFO sip:10.1.2.3:5062;transport=tcp SIP/2.0\r\nv: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKc\r\n"
		       "Route: <sip:proxy.example.net;lr>\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: q\r\n"
		       "CSeq: 2 INFO\r\nContent-Length: 0\r\n\r\n");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(uigw_sip_scan_request(bad[i], strlen(bad[i]), &ri), -EINVAL);
	/* a NUL inside a token (found by fuzz_sip) */
	{
		static const char nul[] = "MESS\0GE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\n"
					  "CSeq: 1 MESSAGE\r\n\r\n";
		assert_int_equal(uigw_sip_scan_request(nul, sizeof(nul) - 1, &ri), -EINVAL);
	}
}

static void test_cpim(void **state)
{
	const char *c = "From: <sip:+491720000123@ims.example.net>\r\nTo: <sip:7726@ims.example.net>\r\n"
			"DateTime: 2024-01-01T12:00:00Z\r\nNS: imdn <urn:ietf:params:imdn>\r\n"
			"imdn.Message-ID: 34jk324j\r\nimdn.Disposition-Notification: positive-delivery, display\r\n\r\n"
			"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 5\r\n\r\nHello";
	struct uigw_cpim cp;

	assert_int_equal(uigw_sip_cpim_parse(c, strlen(c), &cp), 0);
	assert_string_equal(cp.message_id, "34jk324j");
	assert_true(cp.want_delivery);
	assert_string_equal(cp.content_type, "text/plain;charset=UTF-8");
	assert_int_equal(cp.body_len, 5);
	assert_memory_equal(cp.body, "Hello", 5);

	/* bare LF, no IMDN */
	c = "From: <sip:a@b>\n\nContent-Type: text/plain\n\nHi\n";
	assert_int_equal(uigw_sip_cpim_parse(c, strlen(c), &cp), 0);
	assert_string_equal(cp.message_id, "");
	assert_false(cp.want_delivery);
	assert_int_equal(cp.body_len, 3);

	/* no MIME part */
	c = "From: <sip:a@b>\r\nimdn.Message-ID: x\r\n";
	assert_int_equal(uigw_sip_cpim_parse(c, strlen(c), &cp), -EINVAL);
	c = "From: <sip:a@b>\r\n\r\nContent-Type: text/plain\r\n";
	assert_int_equal(uigw_sip_cpim_parse(c, strlen(c), &cp), -EINVAL);
}

static void test_sms(void **state)
{
	/* the vectors of PROTOCOLS.md section 7, as tshark decodes them */
	static const uint8_t mo[] = { 0x00, 0x2a, 0x00, 0x07, 0x91, 0x94, 0x71, 0x02, 0x00, 0x99, 0x99, 0x13,
				      0x11, 0x05, 0x0c, 0x91, 0x94, 0x71, 0x02, 0x00, 0x40, 0x65, 0x00, 0x00, 0xa7,
				      0x05, 0xc8, 0x32, 0x9b, 0xfd, 0x06 };
	static const uint8_t mt[] = { 0x01, 0x07, 0x07, 0x91, 0x94, 0x71, 0x02, 0x00, 0x99, 0x99, 0x00, 0x15,
				      0x04, 0x0c, 0x91, 0x94, 0x71, 0x02, 0x00, 0x10, 0x32, 0x00, 0x00,
				      0, 0, 0, 0, 0, 0, 0, 0x02, 0xc8, 0x34 };
	static const uint8_t ack_mo[] = { 0x02, 0x07, 0x41, 0x02, 0x00, 0x00 };
	static const uint8_t err_mo[] = { 0x04, 0x2a, 0x01, 0x29 };
	struct uigw_sms_rp rp;
	struct uigw_sms_pdu pdus[4];
	char da[24], text[400], longtext[301];
	uint8_t ack[2];
	int n, i;

	assert_int_equal(uigw_sms_rp_parse(mo, sizeof(mo), &rp), 0);
	assert_int_equal(rp.mti, 0);
	assert_int_equal(rp.ref, 0x2a);
	assert_string_equal(rp.sc, "+491720009999");
	assert_int_equal(rp.tpdu_len, 0x13);
	assert_int_equal(uigw_sms_submit_parse(rp.tpdu, rp.tpdu_len, da, sizeof(da), text, sizeof(text)), 0);
	assert_string_equal(da, "+491720000456");
	assert_string_equal(text, "Hello");

	assert_int_equal(uigw_sms_rp_ack(ack, sizeof(ack), 0x2a), 2);
	assert_int_equal(ack[0], 0x03);
	assert_int_equal(ack[1], 0x2a);

	assert_int_equal(uigw_sms_rp_parse(ack_mo, sizeof(ack_mo), &rp), 0);
	assert_int_equal(rp.mti, 2);
	assert_int_equal(rp.ref, 7);
	assert_int_equal(uigw_sms_rp_parse(err_mo, sizeof(err_mo), &rp), 0);
	assert_int_equal(rp.mti, 4);
	assert_int_equal(rp.cause, 41);
	/* truncated / wrong direction */
	for (i = 1; i < (int)sizeof(mo); i++)
		assert_int_equal(uigw_sms_rp_parse(mo, i, &rp) < 0 || rp.tpdu_len + (rp.tpdu - mo) <= (size_t)i, 1);
	assert_int_equal(uigw_sms_rp_parse(mt, sizeof(mt), &rp), -EINVAL);

	/* SMS-DELIVER "Hi": every octet but the time stamp as expected */
	n = uigw_sms_deliver("+491720009999", "+491720000123", "Hi", 7, 0, pdus, 4);
	assert_int_equal(n, 1);
	assert_int_equal(pdus[0].len, sizeof(mt));
	assert_memory_equal(pdus[0].data, mt, 23);
	assert_memory_equal(pdus[0].data + 30, mt + 30, 3);

	/* a short code as TP-OA, UCS-2 when needed */
	n = uigw_sms_deliver("+491720009999", "7726", "\xd0\x94\xd0\xb0", 1, 0, pdus, 4);
	assert_int_equal(n, 1);
	assert_int_equal(pdus[0].data[12], 0x04);
	assert_int_equal(pdus[0].data[13], 4);		/* 4 digits */
	assert_int_equal(pdus[0].data[14], 0x81);	/* unknown type, ISDN plan */
	assert_int_equal(pdus[0].data[15], 0x77);
	assert_int_equal(pdus[0].data[16], 0x62);
	assert_int_equal(pdus[0].data[18], 0x08);	/* DCS UCS-2 */
	assert_int_equal(pdus[0].data[26], 4);		/* UDL octets */

	/* 300 septets: two parts with a concatenation header, the second starting at septet 153 */
	for (i = 0; i < 300; i++)
		longtext[i] = 'a' + i % 26;
	longtext[300] = '\0';
	n = uigw_sms_deliver("+491720009999", "7726", longtext, 1, 9, pdus, 4);
	assert_int_equal(n, 2);
	for (i = 0; i < 2; i++) {
		const uint8_t *t = pdus[i].data + 12;
		assert_int_equal(pdus[i].data[1], 1 + i);	/* RP references count up */
		assert_int_equal(t[0], 0x44);			/* deliver, MMS, UDHI */
		assert_int_equal(t[14], i ? 7 + 147 : 7 + 153);	/* UDL septets incl. the header's 7 */
		assert_int_equal(t[15], 5);
		assert_int_equal(t[16], 0);
		assert_int_equal(t[17], 3);
		assert_int_equal(t[18], 9);
		assert_int_equal(t[19], 2);
		assert_int_equal(t[20], i + 1);
		assert_true(pdus[i].len <= 12 + 15 + 140);
	}
	/* too long for four parts */
	n = uigw_sms_deliver("+491720009999", "7726", longtext, 1, 9, pdus, 1);
	assert_int_equal(n, -ENOSPC);
}

/* Concatenated SMS-SUBMIT: the UDH's concatenation IE (8- and 16-bit reference), none, and a UDH announced in
 * no user data (found by fuzz_sip: the parser read past the TPDU). */
static void test_sms_concat_udh(void **state)
{
	/* SMS-SUBMIT, UDHI, MR 4, DA 7726, PID 0, DCS 0, VP (relative) 0xa7, UDL 9, UDH 05 00 03 42 02 01, "SP" */
	static const uint8_t part8[] = { 0x51, 0x04, 0x04, 0x81, 0x77, 0x62, 0x00, 0x00, 0xa7, 0x09,
					 0x05, 0x00, 0x03, 0x42, 0x02, 0x01, 0xa6, 0x50 };
	static const uint8_t part16[] = { 0x51, 0x04, 0x04, 0x81, 0x77, 0x62, 0x00, 0x08, 0xa7, 0x09,
					  0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x03, 0x00, 0x41 };
	static const uint8_t plain[] = { 0x11, 0x04, 0x04, 0x81, 0x77, 0x62, 0x00, 0x00, 0xa7, 0x02, 0x53, 0x28 };
	static const uint8_t empty_udh[] = { 0x51, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x42, 0x00 };
	uint16_t ref = 0;
	uint8_t total = 0, seq = 0;
	char da[24], text[64];

	assert_int_equal(uigw_sms_submit_concat(part8, sizeof(part8), &ref, &total, &seq), 1);
	assert_int_equal(ref, 0x42);
	assert_int_equal(total, 2);
	assert_int_equal(seq, 1);
	assert_int_equal(uigw_sms_submit_parse(part8, sizeof(part8), da, sizeof(da), text, sizeof(text)), 0);
	assert_string_equal(da, "7726");
	assert_string_equal(text, "SP");
	assert_int_equal(uigw_sms_submit_concat(part16, sizeof(part16), &ref, &total, &seq), 1);
	assert_int_equal(ref, 0x1234);
	assert_int_equal(total, 3);
	assert_int_equal(seq, 3);
	assert_int_equal(uigw_sms_submit_concat(plain, sizeof(plain), &ref, &total, &seq), 0);
	assert_int_equal(uigw_sms_submit_concat(part8, 12, &ref, &total, &seq), -EINVAL);
	assert_true(uigw_sms_submit_parse(empty_udh, 10, da, sizeof(da), text, sizeof(text)) < 0);
}

/* the allocator behind libosip2: a freed block of a class comes back for the next allocation of the class,
 * a transaction-sized block too, big ones go to malloc, realloc keeps the contents */
static void test_alloc(void **state)
{
	struct uigw_sip_alloc_stats a, b;
	osip_message_t *m;
	char *p, *q, *big;
	void *tr;

	uigw_sip_alloc_stats(&a);
	p = osip_malloc(100);
	assert_non_null(p);
	memset(p, 'x', 100);
	osip_free(p);
	q = osip_malloc(97);	/* same class (97..112) */
	assert_ptr_equal(p, q);
	strcpy(q, "hello");
	q = osip_realloc(q, 5000);
	assert_non_null(q);
	assert_string_equal(q, "hello");
	osip_free(q);
	tr = osip_malloc(sizeof(osip_transaction_t));
	assert_non_null(tr);
	osip_free(tr);
	assert_ptr_equal(osip_malloc(sizeof(osip_transaction_t)), tr);
	osip_free(tr);
	big = osip_malloc(100000);
	assert_non_null(big);
	big[99999] = 1;
	osip_free(big);
	uigw_sip_alloc_stats(&b);
	assert_true(b.hits >= a.hits + 2);
	assert_true(b.cached_bytes >= 112);
	/* a whole message through it */
	assert_int_equal(osip_message_init(&m), 0);
	assert_int_equal(osip_message_parse(m, "MESSAGE sip:7726@x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKa\r\n"
			 "From: <sip:a@x>;tag=1\r\nTo: <sip:7726@x>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n"
			 "Content-Length: 0\r\n\r\n", 161), 0);
	assert_string_equal(m->sip_method, "MESSAGE");
	osip_message_free(m);
	uigw_sip_alloc_trim();
	uigw_sip_alloc_stats(&b);
	assert_int_equal(b.cached_bytes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_parse),
		cmocka_unit_test(test_xml_refused),
		cmocka_unit_test(test_xml_build),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_name_addr_fast),
		cmocka_unit_test(test_raw_scan),
		cmocka_unit_test(test_ruri_and_body),
		cmocka_unit_test(test_scan_request),
		cmocka_unit_test(test_cpim),
		cmocka_unit_test(test_sms),
		cmocka_unit_test(test_sms_concat_udh),
		cmocka_unit_test(test_alloc),
	};
	int rc;

	ctx = talloc_named_const(NULL, 0, "sip_test");
	uigw_sip_alloc_init();
	parser_init();
	uigw_sip_osip_quiet();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	talloc_free(ctx);
	uigw_sip_alloc_trim();
	return rc;
}
