/* libFuzzer target: sequences of concatenated-SMS parts through the reassembly table (src/codec/sms_concat.c) with a
 * fuzzed clock. The input is a list of records: sender (low 2 bits) and kind (bit 2), reference, total,
 * sequence, seconds to advance the clock, data length, data. Checks that a completed message has the length of
 * its parts and that nothing leaks. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <osmocom/core/talloc.h>
#include <osmocom/uigw/codec/sms_concat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const srcs[] = { "+491", "+492", "+493", "+494" };
	void *ctx = talloc_named_const(NULL, 0, "fuzz_concat");
	struct uigw_concat *c = uigw_concat_alloc(ctx, 4, 30, 0);
	time_t now = 1000;
	size_t pos = 0;

	if (!c)
		abort();
	while (pos + 6 <= size) {
		struct uigw_concat_part p = {
			.src = srcs[data[pos] & 3],
			.dst = "7730",
			.kind = (data[pos] >> 2) & 1,
			.ref = data[pos + 1],
			.total = data[pos + 2],
			.seq = data[pos + 3],
		};
		size_t len = data[pos + 5];
		uint8_t *whole = NULL;
		size_t whole_len = 0;
		int rc;

		now += data[pos + 4] & 0x3f;
		pos += 6;
		if (len > size - pos)
			len = size - pos;
		p.data = data + pos;
		p.len = len;
		pos += len;
		rc = uigw_concat_add(c, &p, now, ctx, &whole, &whole_len);
		if (rc == 1) {
			if (!whole || whole_len > UIGW_CONCAT_MAX_BYTES)
				abort();
			talloc_free(whole);
		} else if (whole || whole_len) {
			abort();
		}
		if (c->n_pending > c->max_pending)
			abort();
	}
	uigw_concat_expire(c, now + 1000);
	if (c->n_pending)
		abort();
	talloc_free(ctx);
	return 0;
}
