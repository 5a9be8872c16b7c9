/* The reference: a bare GMime parse of every file named on the command line
   and a walk of its parts, decoding each leaf's content to memory and
   converting text parts to UTF-8 (what any mail reader does), nothing more.
   Prints "N messages, B bytes, S seconds". */
#include <stdint.h>
#include <stdio.h>
#include <gmime/gmime.h>

static void walk_part(GMimeObject *parent, GMimeObject *part, gpointer user)
{
	(void)parent;
	uint64_t *decoded = user;
	if (!GMIME_IS_PART(part))
		return;
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(part));
	if (w == NULL)
		return;
	GMimeStream *mem = g_mime_stream_mem_new();
	GMimeStream *out = mem;
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	const char *cs = g_mime_content_type_get_parameter(ct, "charset");
	if (g_mime_content_type_is_type(ct, "text", "*") && cs != NULL) {
		out = g_mime_stream_filter_new(mem);
		GMimeFilter *f = g_mime_filter_charset_new(cs, "utf-8");
		if (f != NULL) {
			g_mime_stream_filter_add(GMIME_STREAM_FILTER(out), f);
			g_object_unref(f);
		}
	}
	g_mime_data_wrapper_write_to_stream(w, out);
	g_mime_stream_flush(out);
	*decoded += (uint64_t)g_mime_stream_length(mem);
	if (out != mem)
		g_object_unref(out);
	g_object_unref(mem);
}

int main(int argc, char **argv)
{
	g_mime_init();
	uint64_t bytes = 0, decoded = 0;
	int64_t t0 = g_get_monotonic_time();
	for (int i = 1; i < argc; i++) {
		GMimeStream *s = g_mime_stream_file_open(argv[i], "rb", NULL);
		if (s == NULL)
			continue;
		bytes += (uint64_t)g_mime_stream_length(s);
		GMimeParser *p = g_mime_parser_new_with_stream(s);
		GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
		if (m != NULL) {
			(void)g_mime_message_get_subject(m);
			g_mime_message_foreach(m, walk_part, &decoded);
			g_object_unref(m);
		}
		g_object_unref(p);
		g_object_unref(s);
	}
	double sec = (double)(g_get_monotonic_time() - t0) / 1e6;
	printf("%d messages, %llu bytes, %.3f seconds\n", argc - 1, (unsigned long long)bytes, sec);
	g_mime_shutdown();
	return 0;
}
