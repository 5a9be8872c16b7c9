/* Character-pair similarity of two texts; see similar.h. A text's pairs are
   kept as a sorted array of distinct 64-bit keys (first << 32 | second), so
   that two texts compare in one merge. */
#include "parsers/similar.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

struct similar {
	uint64_t *pairs;
	size_t n;
};

static int similar_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct similar *similar_new(const char *text)
{
	struct similar *s = g_new0(struct similar, 1);
	s->pairs = g_new(uint64_t, SIMILAR_MAX_CHARS);
	gunichar prev = 0;
	size_t chars = 0;
	const char *p = text != NULL ? text : "";
	while (*p != '\0' && chars < SIMILAR_MAX_CHARS) {
		gunichar c = g_utf8_get_char_validated(p, -1);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			p++;
			continue;
		}
		p = g_utf8_next_char(p);
		chars++;
		if (!g_unichar_isalnum(c))
			continue;
		c = g_unichar_tolower(c);
		if (prev != 0)
			s->pairs[s->n++] = (uint64_t)prev << 32 | c;
		prev = c;
	}
	qsort(s->pairs, s->n, sizeof *s->pairs, similar_cmp);
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++)
		if (k == 0 || s->pairs[k - 1] != s->pairs[i])
			s->pairs[k++] = s->pairs[i];
	s->n = k;
	s->pairs = g_renew(uint64_t, s->pairs, MAX(k, 1));
	return s;
}

void similar_free(struct similar *s)
{
	if (s == NULL)
		return;
	g_free(s->pairs);
	g_free(s);
}

double similar_score(const struct similar *a, const struct similar *b)
{
	if (a->n < SIMILAR_MIN_PAIRS || b->n < SIMILAR_MIN_PAIRS)
		return 0;
	size_t i = 0, j = 0, common = 0;
	while (i < a->n && j < b->n) {
		if (a->pairs[i] == b->pairs[j]) {
			common++;
			i++;
			j++;
		} else if (a->pairs[i] < b->pairs[j]) {
			i++;
		} else {
			j++;
		}
	}
	return (double)common / (double)(a->n + b->n - common);
}
