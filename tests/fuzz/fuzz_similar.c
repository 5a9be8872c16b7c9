/* libFuzzer target for parsers/similar.c: arbitrary bytes, split at the
   first NUL, as two texts compared both ways. The score must be in [0, 1],
   the same both ways, and 1 for a text of enough pairs against itself.
   SECURITY: exercises the pairing of hostile complaint text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "parsers/similar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *buf = g_malloc(size + 2);
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	const char *a = buf, *b = buf + strlen(buf) + 1;
	if (b > buf + size)
		b = buf + size + 1;
	struct similar *x = similar_new(a), *y = similar_new(b);
	double s1 = similar_score(x, y), s2 = similar_score(y, x), self = similar_score(x, x);
	if (s1 < 0 || s1 > 1 || s1 != s2 || self < 0 || self > 1.000001)
		abort();
	similar_free(x);
	similar_free(y);
	return 0;
}
