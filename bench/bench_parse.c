/* Parse + extract + classify of every file named on the command line, as
   ingestion does it (mime_parse with the limits of the default
   configuration), storing nothing. Reading attachments through OCR is a
   stage of its own (child processes) and not part of this figure. Prints
   "N messages, B bytes, S seconds". */
#include <stdint.h>
#include <stdio.h>
#include <gmime/gmime.h>

#include "core/config.h"
#include "parsers/mime.h"
#include "parsers/record.h"
#include "parsers/sniff.h"

int main(int argc, char **argv)
{
	GError *err = NULL;
	g_mime_init();
	struct config *cfg = config_load_data("", 0, "bench.conf", &err);
	struct sniff *sn = cfg != NULL ? sniff_new(&err) : NULL;
	if (sn == NULL) {
		fprintf(stderr, "bench_parse: %s\n", err->message);
		return 1;
	}
	uint64_t bytes = 0;
	int64_t t0 = g_get_monotonic_time();
	for (int i = 1; i < argc; i++) {
		g_autofree char *data = NULL;
		gsize len = 0;
		if (!g_file_get_contents(argv[i], &data, &len, NULL))
			continue;
		struct mime_settings ms = {
			.max_bytes = cfg->limits.message_bytes, .max_depth = cfg->limits.mime_depth,
			.max_parts = cfg->limits.mime_parts, .sniff = sn,
		};
		struct record *r = mime_parse(&ms, data, len);
		bytes += len;
		record_free(r);
	}
	double s = (double)(g_get_monotonic_time() - t0) / 1e6;
	printf("%d messages, %llu bytes, %.3f seconds\n", argc - 1, (unsigned long long)bytes, s);
	sniff_free(sn);
	config_free(cfg);
	g_mime_shutdown();
	return 0;
}
