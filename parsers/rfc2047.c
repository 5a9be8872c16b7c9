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

/* Returns a newly allocated unfolded copy of raw: CRLF/LF + blank loses the
   line break, any other CR or LF becomes a space. */
static GString *rfc2047_unfold(const char *raw, size_t len)
{
	GString *s = g_string_sized_new(len);

	for (size_t i = 0; i < len; i++) {
		char c = raw[i];

		if (c == '\r' && i + 1 < len && raw[i + 1] == '\n' &&
		    i + 2 < len && rfc2047_is_blank(raw[i + 2])) {
			i++;
			continue;
		}
		if (c == '\n' && i + 1 < len && rfc2047_is_blank(raw[i + 1]))
			continue;
		g_string_append_c(s, c == '\r' || c == '\n' ? ' ' : c);
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
	end = st.out->len;
	while (start < end && g_ascii_isspace(st.out->str[start]))
		start++;
	while (end > start && g_ascii_isspace(st.out->str[end - 1]))
		end--;
	g_string_truncate(st.out, end);
	g_string_erase(st.out, 0, (gssize)start);
	return g_string_free(st.out, FALSE);
}
