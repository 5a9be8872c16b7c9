/* libFuzzer target for the drop-folder sidecar parser (ingest/dropdir.c):
   arbitrary bytes as a NAME.meta file, parsed in a fixed zone; what parses
   is checked for the parser's promises. Also the receipt time parser and
   the name rules on the same bytes.
   SECURITY: sidecars come from the fax server and from anyone who can write
   the drop folder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/dropdir.h"

static void fuzz_sidecar_check(const struct dropdir_meta *m)
{
	if (m->caller != NULL && (strlen(m->caller) > 64 || !g_utf8_validate(m->caller, -1, NULL)))
		abort();
	if (m->pages > 10000)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GTimeZone *tz = g_time_zone_new_offset(8 * 3600);
	struct dropdir_meta m;
	GError *error = NULL;
	if (dropdir_meta_parse((const char *)data, size, tz, &m, &error) == 0) {
		fuzz_sidecar_check(&m);
		dropdir_meta_clear(&m);
	} else if (error == NULL || m.caller != NULL) {
		abort();
	}
	g_clear_error(&error);
	char *text = g_strndup((const char *)data, size < 256 ? size : 256);
	int64_t t = 0;
	(void)dropdir_parse_time(text, tz, &t);
	(void)dropdir_name_date(text, tz, 1795000000, &t);
	(void)dropdir_name_ignored(text);
	g_free(text);
	g_time_zone_unref(tz);
	return 0;
}
