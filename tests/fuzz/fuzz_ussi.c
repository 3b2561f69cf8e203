/*! \file fuzz_ussi.c
 *  libFuzzer target: the application/vnd.3gpp.ussd+xml parser (expat with size, depth and entity limits), and a
 *  build / re-parse round trip of whatever it accepted. */

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <osmocom/core/talloc.h>
#include <osmocom/uigw/codec/ussi_xml.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uigw_ussi_data d, d2;
	char *x;

	if (uigw_ussi_xml_parse((const char *)data, size, &d) < 0)
		return 0;
	x = uigw_ussi_xml_build(NULL, d.language, d.has_string ? d.ussd_string : NULL, d.error_code, d.kind);
	if (!x)
		return 0;
	/* what we build from what we accepted must parse back to the same (control characters aside) */
	if (uigw_ussi_xml_parse(x, strlen(x), &d2) == 0 && d2.error_code != d.error_code)
		abort();
	talloc_free(x);
	return 0;
}
