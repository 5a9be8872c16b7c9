/* libFuzzer target for parsers/rfc2047.c and parsers/charset.c: arbitrary
   bytes as a header value (decoded as unstructured text and as the
   parameters of a structured header), and, split at the first newline, as
   a charset label and the bytes to convert. The result must be valid UTF-8
   without NUL bytes.
   SECURITY: exercises the decoders of hostile header text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "parsers/charset.h"
#include "parsers/rfc2047.h"

static void fuzz_rfc2047_check(char *s, bool may_be_null)
{
	if (s == NULL) {
		if (!may_be_null)
			abort();
		return;
	}
	if (!g_utf8_validate(s, -1, NULL))
		abort();
	g_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	fuzz_rfc2047_check(rfc2047_decode(in, size), false);
	/* Parameters: the bytes as a NUL-terminated header value. */
	char *value = g_strndup(in, size);
	fuzz_rfc2047_check(rfc2047_decode_param(value, strlen(value), "filename"), true);
	fuzz_rfc2047_check(rfc2047_decode_param(value, strlen(value), "name"), true);
	g_free(value);
	/* "label\nbytes" through the charset converter. */
	const char *nl = memchr(in, '\n', size);
	char *label = nl != NULL ? g_strndup(in, (gsize)(nl - in)) : NULL;
	const char *bytes = nl != NULL ? nl + 1 : in;
	size_t n = nl != NULL ? size - (size_t)(nl + 1 - in) : size, out_len = 0;
	const char *used = NULL;
	bool detected = false;
	char *out = charset_to_utf8(label, bytes, n, &out_len, &used, &detected);
	if (used == NULL || strlen(out) != out_len)
		abort();
	fuzz_rfc2047_check(out, false);
	(void)charset_detect(bytes, n);
	g_free(label);
	return 0;
}
