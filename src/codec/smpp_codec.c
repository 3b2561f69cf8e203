/*! \file smpp_codec.c
 *  SMPP 3.4 PDUs <-> struct uigw_smpp_pdu: binds through libsmpp34; the PDUs of every dialog step (deliver_sm,
 *  submit_sm, their responses) by the strict walk below, checked against libsmpp34 (the _ref functions).
 *
 *  libsmpp34 trusts its input: a TLV whose length does not match what the tag implies, or a string without its
 *  NUL, makes it read the wrong octets. So every PDU is first walked here with strict bounds (header length,
 *  C-strings within their field size, sm_length, each TLV within the body, fixed-size TLVs of exactly their
 *  size); only a PDU that passes goes to smpp34_unpack() for the mandatory fields. The TLVs are taken from the
 *  same walk, from the wire octets, which also avoids libsmpp34's per-PDU tag tables (deliver_sm has no entry
 *  for ussd_service_op). */

#include <errno.h>
#include <string.h>
#include <stdint.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/bit32gen.h>
#include <osmocom/core/bit16gen.h>
#include <osmocom/uigw/codec/smpp_codec.h>

#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>
#include <smpp34_heap.h>

static void *g_smpp_ctx;

static void *smpp_talloc_malloc(size_t sz)
{
	return talloc_size(g_smpp_ctx, sz);
}

static void *smpp_talloc_realloc(void *ptr, size_t sz)
{
	return talloc_realloc_size(g_smpp_ctx, ptr, sz);
}

static void smpp_talloc_free(void *ptr)
{
	talloc_free(ptr);
}

static const struct smpp34_memory_functions smpp_talloc_mf = {
	.malloc_fun = smpp_talloc_malloc,
	.realloc_fun = smpp_talloc_realloc,
	.free_fun = smpp_talloc_free,
};

void uigw_smpp_codec_init(void *ctx)
{
	if (g_smpp_ctx)
		return;
	g_smpp_ctx = talloc_named_const(ctx, 0, "libsmpp34");
	smpp34_set_memory_functions(&smpp_talloc_mf);
}

void uigw_smpp_codec_fini(void)
{
	TALLOC_FREE(g_smpp_ctx);
}

static const struct value_string cmd_names[] = {
	{ UIGW_SMPP_GENERIC_NACK, "generic_nack" },
	{ UIGW_SMPP_BIND_RX, "bind_receiver" },
	{ UIGW_SMPP_BIND_RX_RESP, "bind_receiver_resp" },
	{ UIGW_SMPP_BIND_TX, "bind_transmitter" },
	{ UIGW_SMPP_BIND_TX_RESP, "bind_transmitter_resp" },
	{ UIGW_SMPP_SUBMIT_SM, "submit_sm" },
	{ UIGW_SMPP_SUBMIT_SM_RESP, "submit_sm_resp" },
	{ UIGW_SMPP_DELIVER_SM, "deliver_sm" },
	{ UIGW_SMPP_DELIVER_SM_RESP, "deliver_sm_resp" },
	{ UIGW_SMPP_UNBIND, "unbind" },
	{ UIGW_SMPP_UNBIND_RESP, "unbind_resp" },
	{ UIGW_SMPP_BIND_TRX, "bind_transceiver" },
	{ UIGW_SMPP_BIND_TRX_RESP, "bind_transceiver_resp" },
	{ UIGW_SMPP_ENQUIRE_LINK, "enquire_link" },
	{ UIGW_SMPP_ENQUIRE_LINK_RESP, "enquire_link_resp" },
	{ 0, NULL }
};

const char *uigw_smpp_cmd_name(uint32_t command_id)
{
	return get_value_string(cmd_names, command_id);
}

void uigw_smpp_pdu_init(struct uigw_smpp_pdu *pdu, uint32_t command_id, uint32_t seq)
{
	memset(pdu, 0, sizeof(*pdu));
	pdu->command_id = command_id;
	pdu->sequence = seq;
	pdu->ussd_service_op = -1;
}

int uigw_smpp_frame_len(const uint8_t *buf, size_t len)
{
	uint32_t l;

	if (len < 4)
		return 0;
	l = osmo_load32be(buf);
	if (l < UIGW_SMPP_HDR_LEN || l > UIGW_SMPP_MAX_PDU)
		return -EBADMSG;
	return (int)l;
}

/* ---- strict walk over the wire octets ---- */

struct rd {
	const uint8_t *p;
	size_t left;
};

static int rd_cstr(struct rd *r, size_t field_size)
{
	size_t i, max = OSMO_MIN(field_size, r->left);

	for (i = 0; i < max; i++) {
		if (r->p[i] == '\0') {
			r->p += i + 1;
			r->left -= i + 1;
			return 0;
		}
	}
	return -EBADMSG;
}

/* a C-Octet String of at most field_size octets (NUL included), copied into dst (at least field_size) */
static int rd_cstr_copy(struct rd *r, size_t field_size, char *dst)
{
	const uint8_t *p = r->p;

	if (rd_cstr(r, field_size))
		return -EBADMSG;
	memcpy(dst, p, r->p - p);
	return 0;
}

static int rd_u8(struct rd *r, uint8_t *v)
{
	if (!r->left)
		return -EBADMSG;
	*v = r->p[0];
	r->p++;
	r->left--;
	return 0;
}

static int rd_skip(struct rd *r, size_t n)
{
	if (r->left < n)
		return -EBADMSG;
	r->p += n;
	r->left -= n;
	return 0;
}

/* The octets a fixed-size TLV must have (the tags the gateway reads, plus those libsmpp34 decodes as integers),
 * 0 for variable-size ones; *max is the largest variable size libsmpp34 accepts. */
static unsigned int tlv_fixed_len(uint16_t tag, unsigned int *max)
{
	*max = MAX_TLV_SIZE;
	switch (tag) {
	case TLVID_dest_addr_subunit:
	case TLVID_dest_network_type:
	case TLVID_dest_bearer_type:
	case TLVID_source_addr_subunit:
	case TLVID_source_network_type:
	case TLVID_source_bearer_type:
	case TLVID_source_telematics_id:
	case TLVID_payload_type:
	case TLVID_ms_msg_wait_facilities:
	case TLVID_privacy_indicator:
	case TLVID_user_response_code:
	case TLVID_language_indicator:
	case TLVID_sar_total_segments:
	case TLVID_sar_segment_seqnum:
	case TLVID_sc_interface_version:
	case TLVID_callback_num_pres_ind:
	case TLVID_number_of_messages:
	case TLVID_dpf_result:
	case TLVID_set_dpf:
	case TLVID_ms_availability_status:
	case TLVID_delivery_failure_reason:
	case TLVID_more_messages_to_send:
	case TLVID_message_state:
	case TLVID_ussd_service_op:
	case TLVID_display_time:
	case TLVID_ms_validity:
	case TLVID_its_reply_type:
		return 1;
	case TLVID_dest_telematics_id:
	case TLVID_user_message_reference:
	case TLVID_source_port:
	case TLVID_destination_port:
	case TLVID_sar_msg_ref_num:
	case TLVID_sms_signal:
	case TLVID_its_session_info:
		return 2;
	case TLVID_qos_time_to_live:
		return 4;
	case TLVID_additional_status_info_text:
		*max = 256;
		return 0;
	case TLVID_receipted_message_id:
	case TLVID_callback_num_atag:
		*max = 65;
		return 0;
	case TLVID_source_subaddress:
	case TLVID_dest_subaddress:
		*max = 23;
		return 0;
	case TLVID_callback_num:
		*max = 19;
		return 0;
	case TLVID_network_error_code:
		return 3;
	case TLVID_alert_on_message_delivery:
		*max = 0;
		return 0;
	default:
		return 0;
	}
}

struct sar {
	int ref, total, seq;
};

/* Walk the TLVs, check every length, pick out what the gateway uses. */
static int walk_tlvs(struct uigw_smpp_pdu *pdu, struct rd *r, struct sar *sar, const uint8_t **payload,
		     size_t *payload_len)
{
	while (r->left) {
		uint16_t tag, len;
		unsigned int fixed, max;
		const uint8_t *v;

		if (r->left < 4)
			return -EBADMSG;
		tag = osmo_load16be(r->p);
		len = osmo_load16be(r->p + 2);
		r->p += 4;
		r->left -= 4;
		if (len > r->left)
			return -EBADMSG;
		fixed = tlv_fixed_len(tag, &max);
		if (fixed ? len != fixed : len > max)
			return -EBADMSG;
		v = r->p;
		switch (tag) {
		case TLVID_message_payload:
			if (*payload)
				return -EBADMSG;
			*payload = v;
			*payload_len = len;
			break;
		case TLVID_ussd_service_op:
			pdu->ussd_service_op = v[0];
			break;
		case TLVID_its_session_info:
			pdu->has_its_session = true;
			pdu->its_session_info = osmo_load16be(v);
			break;
		case TLVID_sar_msg_ref_num:
			sar->ref = osmo_load16be(v);
			break;
		case TLVID_sar_total_segments:
			sar->total = v[0];
			break;
		case TLVID_sar_segment_seqnum:
			sar->seq = v[0];
			break;
		case TLVID_receipted_message_id:
			/* C-Octet string: take up to the NUL */
			memcpy(pdu->receipted_msg_id, v, OSMO_MIN(len, sizeof(pdu->receipted_msg_id) - 1));
			pdu->receipted_msg_id[OSMO_MIN(len, sizeof(pdu->receipted_msg_id) - 1)] = '\0';
			break;
		default:
			/* the vendor-specific range (SMPP 3.4 5.3.2): kept for the channel to look at */
			if (tag >= 0x1400 && tag <= 0x3fff && pdu->n_vendor < UIGW_SMPP_VENDOR_TLVS) {
				struct uigw_smpp_vendor_tlv *t = &pdu->vendor[pdu->n_vendor++];

				t->tag = tag;
				t->len = OSMO_MIN(len, sizeof(t->v));
				memcpy(t->v, v, t->len);
			}
			break;
		}
		r->p += len;
		r->left -= len;
	}
	return 0;
}

/* Parse and strip a UDH; fill the concatenation fields from IE 0x00 / 0x08. */
static int strip_udh(struct uigw_smpp_pdu *pdu)
{
	unsigned int udhl, i;

	if (pdu->msg_len < 1)
		return -EBADMSG;
	udhl = pdu->msg[0];
	if (1 + udhl > pdu->msg_len)
		return -EBADMSG;
	for (i = 1; i < 1 + udhl;) {
		unsigned int iei, iel;
		const uint8_t *v;

		if (i + 2 > 1 + udhl)
			return -EBADMSG;
		iei = pdu->msg[i];
		iel = pdu->msg[i + 1];
		v = &pdu->msg[i + 2];
		if (i + 2 + iel > 1 + udhl)
			return -EBADMSG;
		if (iei == 0x00 && iel == 3 && v[1] && v[2] && v[2] <= v[1]) {
			pdu->concat = true;
			pdu->concat_udh = true;
			pdu->concat_ref = v[0];
			pdu->concat_total = v[1];
			pdu->concat_seq = v[2];
		} else if (iei == 0x08 && iel == 4 && v[2] && v[3] && v[3] <= v[2]) {
			pdu->concat = true;
			pdu->concat_udh = true;
			pdu->concat_ref = osmo_load16be(v);
			pdu->concat_total = v[2];
			pdu->concat_seq = v[3];
		}
		i += 2 + iel;
	}
	memmove(pdu->msg, pdu->msg + 1 + udhl, pdu->msg_len - 1 - udhl);
	pdu->msg_len -= 1 + udhl;
	/* the struct describes the text without its UDH */
	pdu->esm_class &= ~UIGW_SMPP_ESM_UDHI;
	return 0;
}

/* SMPP 3.4 5.2.5 / 5.2.6: the values of addr_ton and addr_npi (libsmpp34 refuses the others too) */
static bool ton_npi_ok(uint8_t ton, uint8_t npi)
{
	if (ton > 6)
		return false;
	switch (npi) {
	case 0: case 1: case 3: case 4: case 6: case 8: case 9: case 10: case 14: case 18:
		return true;
	default:
		return false;
	}
}

static int check_sm(struct uigw_smpp_pdu *pdu, const uint8_t *buf, size_t len, bool deliver)
{
	struct rd r = { buf + UIGW_SMPP_HDR_LEN, len - UIGW_SMPP_HDR_LEN };
	struct sar sar = { -1, -1, -1 };
	const uint8_t *payload = NULL;
	size_t payload_len = 0, sm_len;
	const uint8_t *sm;
	int rc;

	uint8_t u8;

	/* the mandatory fields, taken as they are walked (libsmpp34 is not needed for them: see uigw_smpp_decode) */
	if (rd_cstr_copy(&r, sizeof(pdu->service_type), pdu->service_type) || rd_u8(&r, &pdu->src_ton) ||
	    rd_u8(&r, &pdu->src_npi) || rd_cstr_copy(&r, sizeof(pdu->src_addr), pdu->src_addr) ||
	    rd_u8(&r, &pdu->dst_ton) || rd_u8(&r, &pdu->dst_npi) ||
	    rd_cstr_copy(&r, sizeof(pdu->dst_addr), pdu->dst_addr) || rd_u8(&r, &pdu->esm_class) ||
	    rd_u8(&r, &pdu->protocol_id) || rd_u8(&r, &u8) /* priority_flag */ ||
	    rd_cstr(&r, deliver ? 1 : 17) || rd_cstr(&r, deliver ? 1 : 17) || rd_u8(&r, &pdu->registered_delivery) ||
	    rd_u8(&r, &u8) /* replace_if_present_flag */ || rd_u8(&r, &pdu->data_coding) ||
	    rd_u8(&r, &u8) /* sm_default_msg_id */ || rd_skip(&r, 1))
		return -EBADMSG;
	sm_len = r.p[-1];
	if (sm_len > 254 || !ton_npi_ok(pdu->src_ton, pdu->src_npi) || !ton_npi_ok(pdu->dst_ton, pdu->dst_npi))
		return -EBADMSG;
	sm = r.p;
	if (rd_skip(&r, sm_len))
		return -EBADMSG;
	rc = walk_tlvs(pdu, &r, &sar, &payload, &payload_len);
	if (rc < 0)
		return rc;
	if (payload && sm_len)
		return -EBADMSG;
	if (payload) {
		memcpy(pdu->msg, payload, payload_len);
		pdu->msg_len = payload_len;
		pdu->payload = true;
	} else {
		memcpy(pdu->msg, sm, sm_len);
		pdu->msg_len = sm_len;
	}
	if (sar.ref >= 0 && sar.total > 0 && sar.seq > 0 && sar.seq <= sar.total) {
		pdu->concat = true;
		pdu->concat_udh = false;
		pdu->concat_ref = sar.ref;
		pdu->concat_total = sar.total;
		pdu->concat_seq = sar.seq;
	}
	return 0;
}

#define COPY_STR(dst, src) do { \
		memcpy(dst, src, OSMO_MIN(sizeof(dst), sizeof(src))); \
		(dst)[sizeof(dst) - 1] = '\0'; \
	} while (0)

/* libsmpp34 formats a text for every field it packs or unpacks (snprintf), which cost a fifth of the gateway's
 * CPU time at 20,000 steps/s (perf, contrib/bench/smpp). The PDUs of every dialog step (deliver_sm, submit_sm and
 * their responses) therefore take the path below, which the strict walk makes complete anyway; libsmpp34 stays
 * for the binds and as the reference (ref = true) that the unit tests and the fuzz target compare it with. */
static int unpack_sm(struct uigw_smpp_pdu *pdu, const uint8_t *buf, size_t len, bool deliver, bool ref)
{
	int rc = check_sm(pdu, buf, len, deliver);

	if (rc < 0)
		return rc;
	if (!ref)
		goto udh;
	/* deliver_sm and submit_sm carry the same mandatory fields under the same names in libsmpp34 */
#define UNPACK_SM(type, ctype) do { \
		ctype x; \
		memset(&x, 0, sizeof(x)); \
		if (smpp34_unpack(type, &x, buf, len) != 0) { \
			destroy_tlv(x.tlv); \
			return -EBADMSG; \
		} \
		destroy_tlv(x.tlv); \
		COPY_STR(pdu->service_type, x.service_type); \
		pdu->src_ton = x.source_addr_ton; \
		pdu->src_npi = x.source_addr_npi; \
		COPY_STR(pdu->src_addr, x.source_addr); \
		pdu->dst_ton = x.dest_addr_ton; \
		pdu->dst_npi = x.dest_addr_npi; \
		COPY_STR(pdu->dst_addr, x.destination_addr); \
		pdu->esm_class = x.esm_class; \
		pdu->protocol_id = x.protocol_id; \
		pdu->registered_delivery = x.registered_delivery; \
		pdu->data_coding = x.data_coding; \
	} while (0)
	if (deliver)
		UNPACK_SM(DELIVER_SM, deliver_sm_t);
	else
		UNPACK_SM(SUBMIT_SM, submit_sm_t);
#undef UNPACK_SM
udh:
	if (pdu->esm_class & UIGW_SMPP_ESM_UDHI)
		return strip_udh(pdu);
	return 0;
}

static int unpack_bind(struct uigw_smpp_pdu *pdu, const uint8_t *buf, size_t len)
{
	struct rd r = { buf + UIGW_SMPP_HDR_LEN, len - UIGW_SMPP_HDR_LEN };
	bind_transceiver_t b;

	if (rd_cstr(&r, 16) || rd_cstr(&r, 9) || rd_cstr(&r, 13) || rd_skip(&r, 3) || rd_cstr(&r, 41) || r.left)
		return -EBADMSG;
	memset(&b, 0, sizeof(b));
	/* the three binds share one layout */
	if (smpp34_unpack(BIND_TRANSCEIVER, &b, buf, len) != 0)
		return -EBADMSG;
	COPY_STR(pdu->system_id, b.system_id);
	COPY_STR(pdu->password, b.password);
	COPY_STR(pdu->system_type, b.system_type);
	return 0;
}

static int unpack_bind_resp(struct uigw_smpp_pdu *pdu, const uint8_t *buf, size_t len)
{
	struct rd r = { buf + UIGW_SMPP_HDR_LEN, len - UIGW_SMPP_HDR_LEN };
	struct sar sar = { -1, -1, -1 };
	const uint8_t *payload = NULL;
	size_t payload_len;
	bind_transceiver_resp_t b;
	int rc;

	/* an error response may come without a body */
	if (!r.left)
		return 0;
	if (rd_cstr(&r, 16))
		return -EBADMSG;
	rc = walk_tlvs(pdu, &r, &sar, &payload, &payload_len);
	if (rc < 0)
		return rc;
	memset(&b, 0, sizeof(b));
	if (smpp34_unpack(BIND_TRANSCEIVER_RESP, &b, buf, len) != 0) {
		destroy_tlv(b.tlv);
		return -EBADMSG;
	}
	destroy_tlv(b.tlv);
	COPY_STR(pdu->system_id, b.system_id);
	return 0;
}

static int unpack_submit_resp(struct uigw_smpp_pdu *pdu, const uint8_t *buf, size_t len, bool ref)
{
	struct rd r = { buf + UIGW_SMPP_HDR_LEN, len - UIGW_SMPP_HDR_LEN };
	submit_sm_resp_t s;

	/* an error response may come without a body (SMPP 3.4 4.4.2) */
	if (!r.left)
		return 0;
	if (rd_cstr_copy(&r, sizeof(pdu->message_id), pdu->message_id) || r.left)
		return -EBADMSG;
	if (!ref)
		return 0;
	memset(&s, 0, sizeof(s));
	if (smpp34_unpack(SUBMIT_SM_RESP, &s, buf, len) != 0)
		return -EBADMSG;
	COPY_STR(pdu->message_id, s.message_id);
	return 0;
}

static int decode(struct uigw_smpp_pdu *pdu, const uint8_t *buf, size_t len, bool ref)
{
	uigw_smpp_pdu_init(pdu, 0, 0);
	if (len < UIGW_SMPP_HDR_LEN)
		return -EBADMSG;
	pdu->command_id = osmo_load32be(buf + 4);
	pdu->command_status = osmo_load32be(buf + 8);
	pdu->sequence = osmo_load32be(buf + 12);
	if (len > UIGW_SMPP_MAX_PDU)
		return -EMSGSIZE;
	if (osmo_load32be(buf) != len)
		return -EBADMSG;
	if (!g_smpp_ctx)
		uigw_smpp_codec_init(NULL);

	switch (pdu->command_id) {
	case UIGW_SMPP_GENERIC_NACK:
	case UIGW_SMPP_UNBIND:
	case UIGW_SMPP_UNBIND_RESP:
	case UIGW_SMPP_ENQUIRE_LINK:
	case UIGW_SMPP_ENQUIRE_LINK_RESP:
		return len == UIGW_SMPP_HDR_LEN ? 0 : -EBADMSG;
	case UIGW_SMPP_BIND_RX:
	case UIGW_SMPP_BIND_TX:
	case UIGW_SMPP_BIND_TRX:
		return unpack_bind(pdu, buf, len);
	case UIGW_SMPP_BIND_RX_RESP:
	case UIGW_SMPP_BIND_TX_RESP:
	case UIGW_SMPP_BIND_TRX_RESP:
		return unpack_bind_resp(pdu, buf, len);
	case UIGW_SMPP_SUBMIT_SM:
	case UIGW_SMPP_DELIVER_SM:
	case UIGW_SMPP_SUBMIT_SM_RESP:
		/* SMPP 3.4 3.2: sequence numbers are 1..0x7FFFFFFF (libsmpp34 refuses the others too) */
		if (!pdu->sequence || pdu->sequence > 0x7fffffff)
			return -EBADMSG;
		if (pdu->command_id == UIGW_SMPP_SUBMIT_SM_RESP)
			return unpack_submit_resp(pdu, buf, len, ref);
		return unpack_sm(pdu, buf, len, pdu->command_id == UIGW_SMPP_DELIVER_SM, ref);
	case UIGW_SMPP_DELIVER_SM_RESP:
		/* message_id: unused, always a NUL */
		if (len == UIGW_SMPP_HDR_LEN || (len == UIGW_SMPP_HDR_LEN + 1 && buf[16] == '\0'))
			return 0;
		return -EBADMSG;
	default:
		return -EOPNOTSUPP;
	}
}

int uigw_smpp_decode(struct uigw_smpp_pdu *pdu, const uint8_t *buf, size_t len)
{
	return decode(pdu, buf, len, false);
}

int uigw_smpp_decode_ref(struct uigw_smpp_pdu *pdu, const uint8_t *buf, size_t len)
{
	return decode(pdu, buf, len, true);
}

/* ---- encoding ---- */

static void put_hdr(uint8_t *buf, const struct uigw_smpp_pdu *pdu)
{
	osmo_store32be(UIGW_SMPP_HDR_LEN, buf);
	osmo_store32be(pdu->command_id, buf + 4);
	osmo_store32be(pdu->command_status, buf + 8);
	osmo_store32be(pdu->sequence, buf + 12);
}

static int add_tlv(tlv_t **list, uint16_t tag, unsigned int len, uint32_t val, const uint8_t *octets)
{
	tlv_t t;

	memset(&t, 0, sizeof(t));
	t.tag = tag;
	t.length = len;
	if (octets)
		memcpy(t.value.octet, octets, len);
	else if (len == 1)
		t.value.val08 = val;
	else if (len == 2)
		t.value.val16 = val;
	else
		t.value.val32 = val;
	return build_tlv(list, &t) == 0 ? 0 : -ENOMEM;
}

/* src is a char array of the PDU: one without its NUL inside is refused as too long, never read past */
#define SET_STR(dst, src) do { \
		size_t _n = strnlen(src, sizeof(src)); \
		if (_n >= sizeof(src) || _n >= sizeof(dst)) \
			return -EINVAL; \
		memcpy(dst, src, _n + 1); \
	} while (0)

/* ---- the fast path (see unpack_sm): octets written as they go on the wire ---- */

struct wr {
	uint8_t *p;
	size_t left;
	bool err;
};

static void wr_bytes(struct wr *w, const void *d, size_t n)
{
	if (w->err || w->left < n) {
		w->err = true;
		return;
	}
	memcpy(w->p, d, n);
	w->p += n;
	w->left -= n;
}

static void wr_u8(struct wr *w, uint8_t v)
{
	wr_bytes(w, &v, 1);
}

static void wr_cstr(struct wr *w, const char *s)
{
	wr_bytes(w, s, strlen(s) + 1);
}

static void wr_tlv(struct wr *w, uint16_t tag, uint16_t len, const uint8_t *v)
{
	uint8_t h[4];

	osmo_store16be(tag, h);
	osmo_store16be(len, h + 2);
	wr_bytes(w, h, 4);
	wr_bytes(w, v, len);
}

static int pack_sm_fast(uint8_t *buf, size_t size, const struct uigw_smpp_pdu *pdu, bool deliver, uint8_t esm,
			const uint8_t *ud, unsigned int ud_len, bool payload)
{
	struct wr w = { buf, size, false };
	uint8_t v[2];

	put_hdr(buf, pdu);
	wr_bytes(&w, buf, UIGW_SMPP_HDR_LEN);
	wr_cstr(&w, pdu->service_type);
	wr_u8(&w, pdu->src_ton);
	wr_u8(&w, pdu->src_npi);
	wr_cstr(&w, pdu->src_addr);
	wr_u8(&w, pdu->dst_ton);
	wr_u8(&w, pdu->dst_npi);
	wr_cstr(&w, pdu->dst_addr);
	wr_u8(&w, esm);
	wr_u8(&w, pdu->protocol_id);
	wr_u8(&w, 0);			/* priority_flag */
	wr_u8(&w, 0);			/* schedule_delivery_time "" */
	wr_u8(&w, 0);			/* validity_period "" */
	wr_u8(&w, pdu->registered_delivery);
	wr_u8(&w, 0);			/* replace_if_present_flag */
	wr_u8(&w, pdu->data_coding);
	wr_u8(&w, 0);			/* sm_default_msg_id */
	wr_u8(&w, payload ? 0 : ud_len);
	if (!payload)
		wr_bytes(&w, ud, ud_len);
	/* the TLVs in the order libsmpp34 writes them (it prepends each to its list), so both paths give the same
	 * octets */
	if (payload)
		wr_tlv(&w, TLVID_message_payload, ud_len, ud);
	if (pdu->receipted_msg_id[0])
		wr_tlv(&w, TLVID_receipted_message_id, strlen(pdu->receipted_msg_id) + 1,
		       (const uint8_t *)pdu->receipted_msg_id);
	if (pdu->has_its_session) {
		osmo_store16be(pdu->its_session_info, v);
		wr_tlv(&w, TLVID_its_session_info, 2, v);
	}
	if (pdu->ussd_service_op >= 0) {
		v[0] = pdu->ussd_service_op;
		wr_tlv(&w, TLVID_ussd_service_op, 1, v);
	}
	if (pdu->concat && !pdu->concat_udh) {
		wr_tlv(&w, TLVID_sar_segment_seqnum, 1, &pdu->concat_seq);
		wr_tlv(&w, TLVID_sar_total_segments, 1, &pdu->concat_total);
		osmo_store16be(pdu->concat_ref, v);
		wr_tlv(&w, TLVID_sar_msg_ref_num, 2, v);
	}
	if (w.err)
		return -ENOSPC;
	osmo_store32be(w.p - buf, buf);
	return w.p - buf;
}

static int pack_sm(uint8_t *buf, size_t size, const struct uigw_smpp_pdu *pdu, bool deliver, bool ref)
{
	uint8_t ud[6 + UIGW_SMPP_MAX_MSG];
	unsigned int ud_len = 0;
	uint8_t esm = pdu->esm_class & ~UIGW_SMPP_ESM_UDHI;
	tlv_t *tlvs = NULL;
	int len = 0, rc;
	bool payload;
	union {
		submit_sm_t s;
		deliver_sm_t d;
	} u;
	/* the fields after the header are laid out alike in both (schedule/validity sizes differ) */
#define FILL(x) do { \
		x.command_length = 0; \
		x.command_id = pdu->command_id; \
		x.command_status = pdu->command_status; \
		x.sequence_number = pdu->sequence; \
		SET_STR(x.service_type, pdu->service_type); \
		x.source_addr_ton = pdu->src_ton; \
		x.source_addr_npi = pdu->src_npi; \
		SET_STR(x.source_addr, pdu->src_addr); \
		x.dest_addr_ton = pdu->dst_ton; \
		x.dest_addr_npi = pdu->dst_npi; \
		SET_STR(x.destination_addr, pdu->dst_addr); \
		x.esm_class = esm; \
		x.protocol_id = pdu->protocol_id; \
		x.registered_delivery = pdu->registered_delivery; \
		x.data_coding = pdu->data_coding; \
		if (!payload) { \
			x.sm_length = ud_len; \
			memcpy(x.short_message, ud, ud_len); \
		} \
		x.tlv = tlvs; \
	} while (0)

	if (pdu->msg_len > UIGW_SMPP_MAX_MSG)
		return -EINVAL;
	if (pdu->concat && pdu->concat_udh) {
		if (pdu->concat_ref > 0xff)
			return -EINVAL;
		ud[0] = 5;
		ud[1] = 0;
		ud[2] = 3;
		ud[3] = pdu->concat_ref;
		ud[4] = pdu->concat_total;
		ud[5] = pdu->concat_seq;
		ud_len = 6;
		esm |= UIGW_SMPP_ESM_UDHI;
	}
	memcpy(ud + ud_len, pdu->msg, pdu->msg_len);
	ud_len += pdu->msg_len;
	payload = pdu->payload || ud_len > 254;
	if (payload && ud_len > UIGW_SMPP_MAX_MSG)
		return -EINVAL;
	if (!ref)
		return pack_sm_fast(buf, size, pdu, deliver, esm, ud, ud_len, payload);

	if (pdu->concat && !pdu->concat_udh) {
		if (add_tlv(&tlvs, TLVID_sar_msg_ref_num, 2, pdu->concat_ref, NULL) ||
		    add_tlv(&tlvs, TLVID_sar_total_segments, 1, pdu->concat_total, NULL) ||
		    add_tlv(&tlvs, TLVID_sar_segment_seqnum, 1, pdu->concat_seq, NULL))
			goto nomem;
	}
	if (pdu->ussd_service_op >= 0) {
		uint8_t op = pdu->ussd_service_op;

		/* submit_sm's table encodes the tag as octets, deliver_sm forwards it as octets too */
		if (add_tlv(&tlvs, TLVID_ussd_service_op, 1, 0, &op))
			goto nomem;
	}
	if (pdu->has_its_session && add_tlv(&tlvs, TLVID_its_session_info, 2, pdu->its_session_info, NULL))
		goto nomem;
	if (pdu->receipted_msg_id[0] &&
	    add_tlv(&tlvs, TLVID_receipted_message_id, strlen(pdu->receipted_msg_id) + 1, 0,
		    (const uint8_t *)pdu->receipted_msg_id))
		goto nomem;
	if (payload && add_tlv(&tlvs, TLVID_message_payload, ud_len, 0, ud))
		goto nomem;

	memset(&u, 0, sizeof(u));
	if (deliver) {
		FILL(u.d);
		rc = smpp34_pack(DELIVER_SM, buf, size, &len, &u.d);
	} else {
		FILL(u.s);
		rc = smpp34_pack(SUBMIT_SM, buf, size, &len, &u.s);
	}
	destroy_tlv(tlvs);
	if (rc != 0)
		return -ENOSPC;
	return len;
nomem:
	destroy_tlv(tlvs);
	return -ENOMEM;
#undef FILL
}

static int encode(uint8_t *buf, size_t size, const struct uigw_smpp_pdu *pdu, bool ref)
{
	int len = 0, rc;

	switch (pdu->command_id) {
	case UIGW_SMPP_SUBMIT_SM:
	case UIGW_SMPP_DELIVER_SM:
	case UIGW_SMPP_SUBMIT_SM_RESP:
	case UIGW_SMPP_DELIVER_SM_RESP:
		if (!pdu->sequence || pdu->sequence > 0x7fffffff)
			return -EINVAL;
	}
	if (!g_smpp_ctx)
		uigw_smpp_codec_init(NULL);
	if (size > INT32_MAX)
		size = INT32_MAX;

	switch (pdu->command_id) {
	case UIGW_SMPP_GENERIC_NACK:
	case UIGW_SMPP_UNBIND:
	case UIGW_SMPP_UNBIND_RESP:
	case UIGW_SMPP_ENQUIRE_LINK:
	case UIGW_SMPP_ENQUIRE_LINK_RESP:
		if (size < UIGW_SMPP_HDR_LEN)
			return -ENOSPC;
		put_hdr(buf, pdu);
		return UIGW_SMPP_HDR_LEN;
	case UIGW_SMPP_BIND_RX:
	case UIGW_SMPP_BIND_TX:
	case UIGW_SMPP_BIND_TRX: {
		bind_transceiver_t b;

		memset(&b, 0, sizeof(b));
		b.command_id = pdu->command_id;
		b.command_status = pdu->command_status;
		b.sequence_number = pdu->sequence;
		SET_STR(b.system_id, pdu->system_id);
		SET_STR(b.password, pdu->password);
		SET_STR(b.system_type, pdu->system_type);
		b.interface_version = SMPP_VERSION;
		rc = smpp34_pack(pdu->command_id, buf, size, &len, &b);
		return rc == 0 ? len : -ENOSPC;
	}
	case UIGW_SMPP_BIND_RX_RESP:
	case UIGW_SMPP_BIND_TX_RESP:
	case UIGW_SMPP_BIND_TRX_RESP: {
		bind_transceiver_resp_t b;

		memset(&b, 0, sizeof(b));
		b.command_id = pdu->command_id;
		b.command_status = pdu->command_status;
		b.sequence_number = pdu->sequence;
		SET_STR(b.system_id, pdu->system_id);
		rc = smpp34_pack(pdu->command_id, buf, size, &len, &b);
		return rc == 0 ? len : -ENOSPC;
	}
	case UIGW_SMPP_SUBMIT_SM_RESP: {
		submit_sm_resp_t s;

		memset(&s, 0, sizeof(s));
		s.command_id = pdu->command_id;
		s.command_status = pdu->command_status;
		s.sequence_number = pdu->sequence;
		SET_STR(s.message_id, pdu->message_id);
		rc = smpp34_pack(SUBMIT_SM_RESP, buf, size, &len, &s);
		return rc == 0 ? len : -ENOSPC;
	}
	case UIGW_SMPP_DELIVER_SM_RESP: {
		deliver_sm_resp_t d;

		if (!ref) {
			/* message_id: unused, a single NUL */
			if (size < UIGW_SMPP_HDR_LEN + 1)
				return -ENOSPC;
			put_hdr(buf, pdu);
			osmo_store32be(UIGW_SMPP_HDR_LEN + 1, buf);
			buf[UIGW_SMPP_HDR_LEN] = '\0';
			return UIGW_SMPP_HDR_LEN + 1;
		}
		memset(&d, 0, sizeof(d));
		d.command_id = pdu->command_id;
		d.command_status = pdu->command_status;
		d.sequence_number = pdu->sequence;
		rc = smpp34_pack(DELIVER_SM_RESP, buf, size, &len, &d);
		return rc == 0 ? len : -ENOSPC;
	}
	case UIGW_SMPP_SUBMIT_SM:
		return pack_sm(buf, size, pdu, false, ref);
	case UIGW_SMPP_DELIVER_SM:
		return pack_sm(buf, size, pdu, true, ref);
	default:
		return -EINVAL;
	}
}

int uigw_smpp_encode(uint8_t *buf, size_t size, const struct uigw_smpp_pdu *pdu)
{
	return encode(buf, size, pdu, false);
}

int uigw_smpp_encode_ref(uint8_t *buf, size_t size, const struct uigw_smpp_pdu *pdu)
{
	return encode(buf, size, pdu, true);
}
