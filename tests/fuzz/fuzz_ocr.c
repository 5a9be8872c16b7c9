/* libFuzzer target for the in-memory readers of parsers/ocr.c: arbitrary
   bytes as a DOCX (libzip + libxml2), as a TIFF for the page counter, and
   as OCR output for the clean-up. No child process is started.
   SECURITY: these bytes come from scans, faxes and mail attachments. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "parsers/ocr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	GError *error = NULL;
	char *text = ocr_docx_text(p, size, 1u << 20, &error);
	if ((text == NULL) == (error == NULL))
		abort();
	if (text != NULL && !g_utf8_validate(text, -1, NULL))
		abort();
	g_free(text);
	g_clear_error(&error);
	if (ocr_tiff_pages(p, size) > 100000)
		abort();
	char *clean = ocr_normalize(p, size);
	if (!g_utf8_validate(clean, -1, NULL))
		abort();
	g_free(clean);
	return 0;
}
