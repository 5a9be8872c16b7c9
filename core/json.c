/* JSON writer; see json.h. */
#include "core/json.h"

#include <string.h>

struct json {
	GString *out;
	bool pretty;
	int depth;
	bool need_comma;   /* a value was written at this level */
	bool after_key;    /* the next value follows a key */
};

struct json *json_new(bool pretty)
{
	struct json *j = g_new0(struct json, 1);
	j->out = g_string_sized_new(1024);
	j->pretty = pretty;
	return j;
}

void json_free(struct json *j)
{
	if (j == NULL)
		return;
	g_string_free(j->out, TRUE);
	g_free(j);
}

char *json_finish(struct json *j)
{
	g_string_append_c(j->out, '\n');
	char *s = g_string_free(j->out, FALSE);
	g_free(j);
	return s;
}

static void json_newline(struct json *j)
{
	if (!j->pretty)
		return;
	g_string_append_c(j->out, '\n');
	for (int i = 0; i < j->depth; i++)
		g_string_append(j->out, "  ");
}

/* Writes the separator before a value or key. */
static void json_before(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->need_comma)
		g_string_append_c(j->out, ',');
	if (j->depth > 0)
		json_newline(j);
}

static void json_open(struct json *j, char c)
{
	json_before(j);
	g_string_append_c(j->out, c);
	j->depth++;
	j->need_comma = false;
}

static void json_close(struct json *j, char c)
{
	j->depth--;
	if (j->need_comma)
		json_newline(j);
	g_string_append_c(j->out, c);
	j->need_comma = true;
}

void json_begin_object(struct json *j) { json_open(j, '{'); }
void json_end_object(struct json *j) { json_close(j, '}'); }
void json_begin_array(struct json *j) { json_open(j, '['); }
void json_end_array(struct json *j) { json_close(j, ']'); }

static void json_escape(GString *out, const char *s)
{
	const char *end = s + strlen(s);
	g_string_append_c(out, '"');
	while (s < end) {
		gunichar c = g_utf8_get_char_validated(s, end - s);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append(out, "\xEF\xBF\xBD");
			s++;
			continue;
		}
		if (c == '"' || c == '\\')
			g_string_append_printf(out, "\\%c", (char)c);
		else if (c == '\n')
			g_string_append(out, "\\n");
		else if (c == '\r')
			g_string_append(out, "\\r");
		else if (c == '\t')
			g_string_append(out, "\\t");
		else if (c < 0x20 || c == 0x2028 || c == 0x2029)
			g_string_append_printf(out, "\\u%04x", c);
		else
			g_string_append_len(out, s, g_utf8_next_char(s) - s);
		s = g_utf8_next_char(s);
	}
	g_string_append_c(out, '"');
}

void json_key(struct json *j, const char *key)
{
	json_before(j);
	json_escape(j->out, key);
	g_string_append(j->out, j->pretty ? ": " : ":");
	j->after_key = true;
	j->need_comma = true;
}

void json_string(struct json *j, const char *s)
{
	if (s == NULL) {
		json_null(j);
		return;
	}
	json_before(j);
	json_escape(j->out, s);
	j->need_comma = true;
}

void json_int(struct json *j, int64_t v)
{
	json_before(j);
	g_string_append_printf(j->out, "%" G_GINT64_FORMAT, (gint64)v);
	j->need_comma = true;
}

void json_bool(struct json *j, bool v)
{
	json_before(j);
	g_string_append(j->out, v ? "true" : "false");
	j->need_comma = true;
}

void json_null(struct json *j)
{
	json_before(j);
	g_string_append(j->out, "null");
	j->need_comma = true;
}

void json_kv_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_string(j, s);
}

void json_kv_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_int(j, v);
}

void json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}
