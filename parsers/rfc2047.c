/* RFC 2047 encoded-word decoder for header values: joins adjacent words'
   bytes before one charset conversion, keeps malformed words as text.

   SECURITY: the header value comes from hostile mail. Every scan is bounded
   by len; a failed word match only ever looks ahead to the third '?' after
   its "=?" (or a blank), so the whole decode is linear in len. Decoded bytes
   reach the caller only through charset_to_utf8(), which returns valid
   UTF-8 without NUL bytes, and plain ASCII text is copied through the same
   function. Charset labels are looked up in charset.c's static table, never
   handed to iconv as given. */
#include "parsers/rfc2047.h"

#include <stdbool.h>
#include <string.h>
#include <glib.h>

#include "parsers/charset.h"

#define RFC2047_CHARSET_MAX 64

/* One encoded-word found in the unfolded value. */
struct rfc2047_word {
	const char *charset;    /* not NUL-terminated; "*lang" cut off */
	size_t charset_len;
	char encoding;          /* 'B' or 'Q' */
	const char *text;       /* encoded text, not NUL-terminated */
	size_t text_len;
	size_t end;             /* index just after the closing "?=" */
};

/* The decoder's state: output, and the run of joined words not yet
   converted. */
struct rfc2047_state {
	GString *out;
	GString *run;           /* decoded bytes of the current run of words */
	char run_charset[RFC2047_CHARSET_MAX + 1];
	char run_encoding;      /* 0 when there is no run */
};

static bool rfc2047_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Returns a newly allocated unfolded copy of raw: a line break with the
   blanks around it (folding) becomes one space, a tab becomes a space, any
   other CR or LF becomes a space. Outlook folds with CRLF TAB, which would
   otherwise leave a tab in the middle of a subject. */
static GString *rfc2047_unfold(const char *raw, size_t len)
{
	GString *s = g_string_sized_new(len);

	for (size_t i = 0; i < len; i++) {
		char c = raw[i];

		if (c == '\r' || c == '\n') {
			while (s->len > 0 && s->str[s->len - 1] == ' ')
				g_string_truncate(s, s->len - 1);
			while (i + 1 < len && (raw[i + 1] == '\r' || raw[i + 1] == '\n' ||
					       rfc2047_is_blank(raw[i + 1])))
				i++;
			g_string_append_c(s, ' ');
			continue;
		}
		g_string_append_c(s, c == '\t' ? ' ' : c);
	}
	return s;
}

/* Scans s[i] up to the next '?'; returns its index, or len when a blank or
   the end comes first. */
static size_t rfc2047_scan_token(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] != '?' && !rfc2047_is_blank(s[i]))
		i++;
	return i < len && s[i] == '?' ? i : len;
}

/* Parses the encoded-word starting at s[i] ("=?"). Returns true and fills w
   when the syntax is complete; decoding may still fail. */
static bool rfc2047_parse_word(const char *s, size_t len, size_t i,
			       struct rfc2047_word *w)
{
	size_t q1, q3, star;

	if (i + 1 >= len || s[i] != '=' || s[i + 1] != '?')
		return false;
	q1 = rfc2047_scan_token(s, len, i + 2);
	if (q1 == len || q1 + 2 >= len || s[q1 + 2] != '?')
		return false;
	w->encoding = g_ascii_toupper(s[q1 + 1]);
	q3 = rfc2047_scan_token(s, len, q1 + 3);
	if (q3 == len || q3 + 1 >= len || s[q3 + 1] != '=')
		return false;
	w->charset = s + i + 2;
	for (star = 0; star < q1 - (i + 2) && w->charset[star] != '*'; star++)
		;
	w->charset_len = star;
	w->text = s + q1 + 3;
	w->text_len = q3 - (q1 + 3);
	w->end = q3 + 2;
	return (w->encoding == 'B' || w->encoding == 'Q') &&
		w->charset_len > 0 && w->charset_len <= RFC2047_CHARSET_MAX;
}

/* Returns the value of a base64 character, or -1. */
static int rfc2047_base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	return c == '/' ? 63 : -1;
}

/* Appends the base64-decoded text to out. '=' padding ends a quantum and
   decoding goes on after it (some mailers join padded chunks); missing
   padding is tolerated. Returns false on a character outside the alphabet. */
static bool rfc2047_decode_b(const char *t, size_t n, GString *out)
{
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		int v = t[i] == '=' ? 0 : rfc2047_base64_value(t[i]);

		if (v < 0)
			return false;
		if (t[i] == '=') {
			acc = 0;
			bits = 0;
			continue;
		}
		acc = ((acc << 6) | (unsigned)v) & 0x3FFF;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			g_string_append_c(out, (char)((acc >> bits) & 0xFF));
		}
	}
	return true;
}

/* Appends the Q-decoded text to out: '_' is a space, "=XX" a byte; an '='
   not followed by two hex digits is kept as it is. Never fails. */
static void rfc2047_decode_q(const char *t, size_t n, GString *out)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '_') {
			g_string_append_c(out, ' ');
		} else if (t[i] == '=' && i + 2 < n && g_ascii_isxdigit(t[i + 1]) &&
			   g_ascii_isxdigit(t[i + 2])) {
			g_string_append_c(out, (char)(g_ascii_xdigit_value(t[i + 1]) * 16 +
						      g_ascii_xdigit_value(t[i + 2])));
			i += 2;
		} else {
			g_string_append_c(out, t[i]);
		}
	}
}

/* Converts the current run of joined words and appends it to the output. */
static void rfc2047_flush_run(struct rfc2047_state *st)
{
	char *text;

	if (st->run_encoding == 0)
		return;
	text = charset_to_utf8(st->run_charset, st->run->str, st->run->len,
			       NULL, NULL, NULL);
	g_string_append(st->out, text);
	g_free(text);
	g_string_truncate(st->run, 0);
	st->run_encoding = 0;
}

/* Converts plain text (ASCII, or 8-bit bytes by detection) and appends it. */
static void rfc2047_flush_text(struct rfc2047_state *st, const char *s, size_t n)
{
	char *text;

	if (n == 0)
		return;
	text = charset_to_utf8(NULL, s, n, NULL, NULL, NULL);
	g_string_append(st->out, text);
	g_free(text);
}

/* Returns true when the word continues the current run: same charset
   (case-insensitive, language ignored) and same encoding. */
static bool rfc2047_same_run(const struct rfc2047_state *st,
			     const struct rfc2047_word *w)
{
	return st->run_encoding == w->encoding &&
		strlen(st->run_charset) == w->charset_len &&
		g_ascii_strncasecmp(st->run_charset, w->charset, w->charset_len) == 0;
}

/* Decodes the word's text into bytes (emptied first). Returns false when
   the text is malformed. */
static bool rfc2047_decode_word(const struct rfc2047_word *w, GString *bytes)
{
	g_string_truncate(bytes, 0);
	if (w->encoding == 'B')
		return rfc2047_decode_b(w->text, w->text_len, bytes);
	rfc2047_decode_q(w->text, w->text_len, bytes);
	return true;
}

/* Adds a word's decoded bytes to the run, first converting the current run
   when the word does not continue it. */
static void rfc2047_add_word(struct rfc2047_state *st, const struct rfc2047_word *w,
			     const GString *bytes)
{
	if (!rfc2047_same_run(st, w)) {
		rfc2047_flush_run(st);
		memcpy(st->run_charset, w->charset, w->charset_len);
		st->run_charset[w->charset_len] = '\0';
		st->run_encoding = w->encoding;
	}
	g_string_append_len(st->run, bytes->str, bytes->len);
}

/* Returns true when s[0..n) is only blanks (and not empty). */
static bool rfc2047_all_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!rfc2047_is_blank(s[i]))
			return false;
	}
	return n > 0;
}

/* Walks the unfolded value: text between words is flushed as plain text,
   except blanks between two words, which are dropped. A malformed word stays
   part of the plain text. */
static void rfc2047_walk(struct rfc2047_state *st, const char *s, size_t len)
{
	GString *bytes = g_string_new(NULL);
	size_t i = 0, text_start = 0;
	struct rfc2047_word w;

	while (i < len) {
		if (s[i] != '=' || !rfc2047_parse_word(s, len, i, &w) ||
		    !rfc2047_decode_word(&w, bytes)) {
			i++;
			continue;
		}
		if (st->run_encoding == 0 || (i > text_start &&
		    !rfc2047_all_blank(s + text_start, i - text_start))) {
			rfc2047_flush_run(st);
			rfc2047_flush_text(st, s + text_start, i - text_start);
		}
		rfc2047_add_word(st, &w, bytes);
		i = text_start = w.end;
	}
	rfc2047_flush_run(st);
	rfc2047_flush_text(st, s + text_start, len - text_start);
	g_string_free(bytes, TRUE);
}

/* Replaces control characters (C0, DEL, C1) in decoded text by a space, a
   run of them and the blanks around it by one: a header value is one line,
   and "=?UTF-8?B?...?=" can carry "\r\nBcc: ..." (header injection into
   the notices built from it). */
static void rfc2047_strip_controls(GString *s)
{
	size_t o = 0;
	bool in_run = false;
	for (size_t i = 0; i < s->len; i++) {
		unsigned char c = (unsigned char)s->str[i];
		bool c1 = c == 0xC2 && i + 1 < s->len && (unsigned char)s->str[i + 1] >= 0x80 &&
			  (unsigned char)s->str[i + 1] <= 0x9F;
		bool ctl = c < 0x20 || c == 0x7F || c1;
		i += c1;
		if (ctl || (in_run && c == ' ')) {
			if (!in_run) {
				while (o > 0 && s->str[o - 1] == ' ')
					o--;
				s->str[o++] = ' ';
			}
			in_run = true;
			continue;
		}
		in_run = false;
		s->str[o++] = (char)c;
	}
	g_string_truncate(s, o);
}

char *rfc2047_decode(const char *raw, size_t len)
{
	struct rfc2047_state st = { .run_encoding = 0 };
	GString *unfolded = rfc2047_unfold(raw == NULL ? "" : raw, raw == NULL ? 0 : len);
	size_t start = 0, end;

	st.out = g_string_sized_new(unfolded->len + 16);
	st.run = g_string_new(NULL);
	rfc2047_walk(&st, unfolded->str, unfolded->len);
	g_string_free(unfolded, TRUE);
	g_string_free(st.run, TRUE);
	rfc2047_strip_controls(st.out);
	end = st.out->len;
	while (start < end && g_ascii_isspace(st.out->str[start]))
		start++;
	while (end > start && g_ascii_isspace(st.out->str[end - 1]))
		end--;
	g_string_truncate(st.out, end);
	g_string_erase(st.out, 0, (gssize)start);
	return g_string_free(st.out, FALSE);
}

/* ---------------------------------------------------------------- parameters */

#define RFC2047_PARAM_SEGMENTS 64

/* The pieces of one parameter found in a header value. */
struct rfc2047_param {
	char *plain;                            /* name=value, unquoted */
	char *extended;                         /* name*=charset'lang'%XX */
	char *seg[RFC2047_PARAM_SEGMENTS];      /* name*N= / name*N*= */
	bool seg_extended[RFC2047_PARAM_SEGMENTS];
	bool has_seg;
};

/* Reads a parameter value at s[*i]: a quoted string (backslash escapes
   undone, an unterminated one runs to the end) or everything up to the
   next ';', trailing blanks removed. Advances *i past it. */
static char *rfc2047_param_value(const char *s, size_t len, size_t *i)
{
	GString *v = g_string_new(NULL);
	size_t j = *i;

	if (j < len && s[j] == '"') {
		for (j++; j < len && s[j] != '"'; j++) {
			if (s[j] == '\\' && j + 1 < len)
				j++;
			g_string_append_c(v, s[j]);
		}
		if (j < len)
			j++;
	} else {
		for (; j < len && s[j] != ';'; j++)
			g_string_append_c(v, s[j]);
		while (v->len > 0 && rfc2047_is_blank(v->str[v->len - 1]))
			g_string_truncate(v, v->len - 1);
	}
	*i = j;
	return g_string_free(v, FALSE);
}

/* Files the value of attribute attr (attr_len bytes) under p when it is
   the parameter name, in one of its forms; frees it otherwise. */
static void rfc2047_param_take(struct rfc2047_param *p, const char *name, const char *attr,
			       size_t attr_len, char *value)
{
	size_t n = strlen(name), k = 0;
	const char *rest = attr + n;
	size_t rest_len = attr_len - n;

	if (attr_len < n || g_ascii_strncasecmp(attr, name, n) != 0) {
		g_free(value);
	} else if (rest_len == 0 && p->plain == NULL) {
		p->plain = value;
	} else if (rest_len == 1 && rest[0] == '*' && p->extended == NULL) {
		p->extended = value;
	} else if (rest_len >= 2 && rest[0] == '*' && g_ascii_isdigit(rest[1])) {
		size_t j = 1;

		while (j < rest_len && g_ascii_isdigit(rest[j]) && k < RFC2047_PARAM_SEGMENTS)
			k = k * 10 + (size_t)(rest[j++] - '0');
		if (k < RFC2047_PARAM_SEGMENTS && p->seg[k] == NULL &&
		    (j == rest_len || (j + 1 == rest_len && rest[j] == '*'))) {
			p->seg[k] = value;
			p->seg_extended[k] = j < rest_len;
			p->has_seg = true;
		} else {
			g_free(value);
		}
	} else {
		g_free(value);
	}
}

/* Walks "type; a=b; c="d"" collecting the forms of parameter name. */
static void rfc2047_param_scan(const char *s, size_t len, const char *name,
			       struct rfc2047_param *p)
{
	size_t i = 0;
	bool quoted = false;

	for (; i < len && (quoted || s[i] != ';'); i++)
		quoted ^= s[i] == '"';
	while (i < len) {
		while (i < len && (s[i] == ';' || rfc2047_is_blank(s[i])))
			i++;
		size_t a = i;

		while (i < len && s[i] != '=' && s[i] != ';')
			i++;
		size_t b = i;

		while (b > a && rfc2047_is_blank(s[b - 1]))
			b--;
		if (i >= len || s[i] != '=')
			continue;
		for (i++; i < len && rfc2047_is_blank(s[i]); i++)
			;
		char *value = rfc2047_param_value(s, len, &i);

		rfc2047_param_take(p, name, s + a, b - a, value);
	}
}

/* Appends %XX-decoded text to out; a '%' without two hex digits stays. */
static void rfc2047_percent_decode(const char *t, GString *out)
{
	for (size_t i = 0; t[i] != '\0'; i++) {
		if (t[i] == '%' && g_ascii_isxdigit(t[i + 1]) && g_ascii_isxdigit(t[i + 2])) {
			g_string_append_c(out, (char)(g_ascii_xdigit_value(t[i + 1]) * 16 +
						      g_ascii_xdigit_value(t[i + 2])));
			i += 2;
		} else {
			g_string_append_c(out, t[i]);
		}
	}
}

/* Splits "charset'lang'text": copies the charset into cs (empty when there
   is none or it is too long) and returns the text. */
static const char *rfc2047_split_charset(const char *v, char cs[RFC2047_CHARSET_MAX + 1])
{
	const char *q1 = strchr(v, '\''), *q2 = q1 != NULL ? strchr(q1 + 1, '\'') : NULL;

	cs[0] = '\0';
	if (q2 == NULL)
		return v;
	if ((size_t)(q1 - v) <= RFC2047_CHARSET_MAX) {
		memcpy(cs, v, (size_t)(q1 - v));
		cs[q1 - v] = '\0';
	}
	return q2 + 1;
}

/* The RFC 2231 forms joined into bytes, converted once. */
static char *rfc2047_param_rfc2231(const struct rfc2047_param *p)
{
	char cs[RFC2047_CHARSET_MAX + 1] = "";
	GString *bytes = g_string_new(NULL);
	char *text;

	if (p->extended != NULL) {
		rfc2047_percent_decode(rfc2047_split_charset(p->extended, cs), bytes);
	} else {
		for (size_t k = 0; k < RFC2047_PARAM_SEGMENTS; k++) {
			const char *v = p->seg[k];

			if (v == NULL)
				continue;
			if (p->seg_extended[k]) {
				if (k == 0)
					v = rfc2047_split_charset(v, cs);
				rfc2047_percent_decode(v, bytes);
			} else {
				g_string_append(bytes, v);
			}
		}
	}
	if (cs[0] == '\0' && strstr(bytes->str, "=?") != NULL)
		text = rfc2047_decode(bytes->str, bytes->len);
	else
		text = charset_to_utf8(cs[0] != '\0' ? cs : NULL, bytes->str, bytes->len,
				       NULL, NULL, NULL);
	g_string_free(bytes, TRUE);
	return text;
}

char *rfc2047_decode_param(const char *raw, size_t len, const char *name)
{
	struct rfc2047_param p = { .plain = NULL };
	GString *s;
	char *out = NULL;

	if (raw == NULL || name == NULL)
		return NULL;
	s = rfc2047_unfold(raw, len);
	rfc2047_param_scan(s->str, s->len, name, &p);
	if (p.extended != NULL || p.has_seg)
		out = rfc2047_param_rfc2231(&p);
	else if (p.plain != NULL)
		out = rfc2047_decode(p.plain, strlen(p.plain));
	if (out != NULL)
		g_strstrip(out);
	g_free(p.plain);
	g_free(p.extended);
	for (size_t k = 0; k < RFC2047_PARAM_SEGMENTS; k++)
		g_free(p.seg[k]);
	g_string_free(s, TRUE);
	return out;
}
