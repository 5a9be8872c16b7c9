/* libFuzzer target for parsers/mime.c (and the charset, RFC 2047, HTML,
   sniffing and record code it drives): arbitrary bytes as a mail, parsed
   with the default limits and with tight ones, then written as JSON.
   Invariants are checked, not just the absence of a crash: every string of
   the record is valid UTF-8, attachment names have no path or control
   characters, and the limits hold.
   SECURITY: exercises the whole path of a hostile mail. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/mime.h"

static const char *const fuzz_own[] = { "ts@hxqh-demo.cn", NULL };

static void fuzz_mime_utf8(const char *s)
{
	if (s != NULL && !g_utf8_validate(s, -1, NULL))
		abort();
}

static void fuzz_mime_check(const struct record *r, unsigned max_parts)
{
	fuzz_mime_utf8(r->text);
	fuzz_mime_utf8(r->subject);
	fuzz_mime_utf8(r->from.name);
	fuzz_mime_utf8(r->from.address);
	fuzz_mime_utf8(r->complainant.name);
	fuzz_mime_utf8(r->complainant.address);
	if (r->forwarded_by != NULL)
		fuzz_mime_utf8(r->forwarded_by->name);
	if (r->attachments->len > max_parts)
		abort();
	for (guint i = 0; i < r->attachments->len; i++) {
		const struct record_attachment *a = r->attachments->pdata[i];
		fuzz_mime_utf8(a->filename);
		if (a->filename[0] == '\0' || a->filename[0] == '.' || strpbrk(a->filename, "/\\\r\n\t"))
			abort();
	}
}

static struct sniff *fuzz_mime_sniff(void)
{
	static struct sniff *sn;
	if (sn == NULL) {
		sn = sniff_new(NULL);
		if (sn == NULL)
			abort();
	}
	return sn;
}

static void fuzz_mime_run(const uint8_t *data, size_t size, unsigned depth, unsigned parts,
			  uint64_t bytes)
{
	struct mime_settings s = {
		.max_bytes = bytes, .max_depth = depth, .max_parts = parts,
		.own_addresses = fuzz_own, .sniff = fuzz_mime_sniff(),
	};
	struct record *r = mime_parse(&s, (const char *)data, size);
	fuzz_mime_check(r, parts != 0 ? parts : 500);
	GTimeZone *tz = g_time_zone_new_utc();
	char *json = record_to_json(r, tz, false);
	fuzz_mime_utf8(json);
	g_free(json);
	g_time_zone_unref(tz);
	record_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_mime_run(data, size, 0, 0, 0);
	fuzz_mime_run(data, size, 3, 5, size > 64 ? size / 2 : 0);
	return 0;
}
