/* Charset repair: declared-charset conversion to UTF-8 through glibc iconv,
   with a deterministic detector for missing or wrong labels.

   SECURITY: the label and the bytes come from hostile mail. Only iconv names
   from the static table below ever reach g_iconv_open() (a hostile label
   cannot pick a gconv module), every GIConv is closed on every path, input
   is read only within [bytes, bytes + len), and the result is checked with
   g_utf8_validate() before it is returned: whatever iconv does, the caller
   gets valid UTF-8 without NUL bytes. Work is linear in len.

   Detection heuristic (charset_detect), in order:
   1. no byte >= 0x80: "us-ascii";
   2. valid UTF-8 (NUL allowed): "utf-8";
   3. double-byte Chinese. Bytes are walked as GB18030 (lead 0x81-0xFE, trail
      0x40-0x7E/0x80-0xFE, or the 4-byte form lead,0x30-0x39,lead,0x30-0x39)
      and as Big5 (lead 0xA1-0xF9, trail 0x40-0x7E/0xA1-0xFE). Latin text
      also forms such pairs ("Straße" is DF 65), but almost always with an
      ASCII trail byte; real Chinese text mostly has trails >= 0x80. So a
      reading counts only if it is structurally valid and enough of its pairs
      have a high trail (GB18030: more than half; Big5: at least a quarter,
      since Big5 puts 40% of its characters on ASCII trails).
      Every valid Big5 text is also structurally valid GBK, so both readings
      are scored: a pair is a Big5 mark when its trail is 0x40-0x7E (rare in
      simplified text: GBK extensions) or its lead is 0xA4-0xAF (the most
      common Big5 hanzi; kana, Greek, box drawing or unassigned in GB2312); a
      pair is a GB mark when it lies in GB2312's hanzi rows (lead 0xB0-0xF7)
      or punctuation rows (lead 0xA1-0xA3) with a trail >= 0xA1. Big5 wins
      when valid and it has more marks; else GB18030 when valid; else Big5
      when valid;
   4. else "windows-1252" if some byte is in 0x80-0x9F and every such byte is
      defined in windows-1252 (smart quotes, euro), otherwise "iso-8859-1". */
#include "parsers/charset.h"

#include <errno.h>
#include <string.h>
#include <glib.h>

#define CHARSET_REPLACEMENT "\xEF\xBF\xBD"
#define CHARSET_LABEL_MAX 40

enum charset_kind {
	CHARSET_KIND_ICONV,     /* plain iconv conversion */
	CHARSET_KIND_UTF8,      /* validated in place, no iconv */
	CHARSET_KIND_ASCII,     /* checked in place, no iconv */
	CHARSET_KIND_LATIN1,    /* ISO-8859-1, or windows-1252 if C1 bytes fit */
	CHARSET_KIND_BIG5,      /* BIG5-HKSCS, falling back to BIG5 */
};

struct charset_entry {
	const char *alias;      /* normalised label: lower case, '_' -> '-' */
	const char *iconv;      /* name given to g_iconv_open() */
	const char *name;       /* name reported in *used_r */
	enum charset_kind kind;
	bool multibyte;         /* CJK multi-byte: repair rather than replace */
};

#define GB(alias) { alias, "GB18030", "gb18030", CHARSET_KIND_ICONV, true }
#define B5(alias) { alias, "BIG5-HKSCS", "big5", CHARSET_KIND_BIG5, true }
#define L1(alias) { alias, "ISO-8859-1", "iso-8859-1", CHARSET_KIND_LATIN1, false }
#define SB(alias, ic, nm) { alias, ic, nm, CHARSET_KIND_ICONV, false }
#define MB(alias, ic, nm) { alias, ic, nm, CHARSET_KIND_ICONV, true }

static const struct charset_entry charset_table[] = {
	{ "utf-8", "UTF-8", "utf-8", CHARSET_KIND_UTF8, false },
	{ "utf8", "UTF-8", "utf-8", CHARSET_KIND_UTF8, false },
	{ "unicode-1-1-utf-8", "UTF-8", "utf-8", CHARSET_KIND_UTF8, false },
	{ "us-ascii", "ASCII", "us-ascii", CHARSET_KIND_ASCII, false },
	{ "ascii", "ASCII", "us-ascii", CHARSET_KIND_ASCII, false },
	{ "ansi-x3.4-1968", "ASCII", "us-ascii", CHARSET_KIND_ASCII, false },
	{ "iso646-us", "ASCII", "us-ascii", CHARSET_KIND_ASCII, false },
	GB("gb18030"), GB("gb2312"), GB("gbk"), GB("cp936"), GB("x-gbk"),
	GB("euc-cn"), GB("x-euc-cn"), GB("gb-2312-80"), GB("gb2312-80"),
	GB("chinese"), GB("csgb2312"), GB("ms936"), GB("windows-936"),
	GB("iso-ir-58"),
	B5("big5"), B5("big5-hkscs"), B5("big5hkscs"), B5("cp950"),
	B5("x-x-big5"), B5("x-big5"), B5("csbig5"), B5("big-5"),
	L1("iso-8859-1"), L1("latin1"), L1("latin-1"), L1("l1"), L1("cp819"),
	L1("ibm819"), L1("iso-ir-100"), L1("csisolatin1"),
	SB("windows-1252", "WINDOWS-1252", "windows-1252"),
	SB("cp1252", "WINDOWS-1252", "windows-1252"),
	SB("x-cp1252", "WINDOWS-1252", "windows-1252"),
	SB("iso-8859-2", "ISO-8859-2", "iso-8859-2"),
	SB("latin2", "ISO-8859-2", "iso-8859-2"),
	SB("iso-8859-3", "ISO-8859-3", "iso-8859-3"),
	SB("iso-8859-4", "ISO-8859-4", "iso-8859-4"),
	SB("iso-8859-5", "ISO-8859-5", "iso-8859-5"),
	SB("iso-8859-6", "ISO-8859-6", "iso-8859-6"),
	SB("iso-8859-7", "ISO-8859-7", "iso-8859-7"),
	SB("iso-8859-8", "ISO-8859-8", "iso-8859-8"),
	SB("iso-8859-8-i", "ISO-8859-8", "iso-8859-8"),
	SB("iso-8859-9", "ISO-8859-9", "iso-8859-9"),
	SB("iso-8859-10", "ISO-8859-10", "iso-8859-10"),
	SB("iso-8859-11", "ISO-8859-11", "iso-8859-11"),
	SB("iso-8859-13", "ISO-8859-13", "iso-8859-13"),
	SB("iso-8859-14", "ISO-8859-14", "iso-8859-14"),
	SB("iso-8859-15", "ISO-8859-15", "iso-8859-15"),
	SB("latin9", "ISO-8859-15", "iso-8859-15"),
	SB("iso-8859-16", "ISO-8859-16", "iso-8859-16"),
	SB("windows-1250", "WINDOWS-1250", "windows-1250"),
	SB("cp1250", "WINDOWS-1250", "windows-1250"),
	SB("windows-1251", "WINDOWS-1251", "windows-1251"),
	SB("cp1251", "WINDOWS-1251", "windows-1251"),
	SB("windows-1253", "WINDOWS-1253", "windows-1253"),
	SB("windows-1254", "WINDOWS-1254", "windows-1254"),
	SB("windows-1255", "WINDOWS-1255", "windows-1255"),
	SB("windows-1256", "WINDOWS-1256", "windows-1256"),
	SB("windows-1257", "WINDOWS-1257", "windows-1257"),
	SB("windows-1258", "WINDOWS-1258", "windows-1258"),
	SB("koi8-r", "KOI8-R", "koi8-r"),
	SB("koi8-u", "KOI8-U", "koi8-u"),
	SB("ibm866", "CP866", "ibm866"),
	SB("cp866", "CP866", "ibm866"),
	SB("tis-620", "TIS-620", "tis-620"),
	SB("windows-874", "CP874", "windows-874"),
	SB("cp874", "CP874", "windows-874"),
	SB("macintosh", "MACINTOSH", "macintosh"),
	SB("utf-16", "UTF-16", "utf-16"),
	SB("utf-16le", "UTF-16LE", "utf-16le"),
	SB("utf-16be", "UTF-16BE", "utf-16be"),
	SB("utf-7", "UTF-7", "utf-7"),
	SB("unicode-1-1-utf-7", "UTF-7", "utf-7"),
	SB("iso-2022-jp", "ISO-2022-JP", "iso-2022-jp"),
	SB("csiso2022jp", "ISO-2022-JP", "iso-2022-jp"),
	SB("iso-2022-cn", "ISO-2022-CN", "iso-2022-cn"),
	SB("iso-2022-kr", "ISO-2022-KR", "iso-2022-kr"),
	MB("shift-jis", "WINDOWS-31J", "shift_jis"),
	MB("sjis", "WINDOWS-31J", "shift_jis"),
	MB("x-sjis", "WINDOWS-31J", "shift_jis"),
	MB("ms-kanji", "WINDOWS-31J", "shift_jis"),
	MB("cp932", "WINDOWS-31J", "shift_jis"),
	MB("windows-31j", "WINDOWS-31J", "shift_jis"),
	MB("euc-jp", "EUC-JP", "euc-jp"),
	MB("x-euc-jp", "EUC-JP", "euc-jp"),
	MB("euc-kr", "UHC", "euc-kr"),
	MB("ks-c-5601-1987", "UHC", "euc-kr"),
	MB("ks-c-5601", "UHC", "euc-kr"),
	MB("ksc5601", "UHC", "euc-kr"),
	MB("cp949", "UHC", "euc-kr"),
	MB("uhc", "UHC", "euc-kr"),
};

/* Writes the normalised form of label into buf: blanks and quotes around it
   removed, an RFC 2231 "*language" suffix cut, lower case, '_' -> '-',
   "iso8859" -> "iso-8859". Returns false when nothing usable is left. */
static bool charset_normalise(const char *label, char buf[CHARSET_LABEL_MAX])
{
	size_t start = 0, end, n = 0;

	if (label == NULL)
		return false;
	end = strcspn(label, "*");
	while (start < end && strchr(" \t\r\n\"'", label[start]) != NULL)
		start++;
	while (end > start && strchr(" \t\r\n\"'", label[end - 1]) != NULL)
		end--;
	if (end == start || end - start >= CHARSET_LABEL_MAX - 1)
		return false;
	if (end - start > 7 && g_ascii_strncasecmp(label + start, "iso8859", 7) == 0) {
		memcpy(buf, "iso-", 4);
		n = 4;
		start += 3;
	}
	for (size_t i = start; i < end; i++) {
		char c = g_ascii_tolower(label[i]);
		buf[n++] = c == '_' ? '-' : c;
	}
	buf[n] = '\0';
	return true;
}

/* Returns the table entry for a label, or NULL when unknown. */
static const struct charset_entry *charset_lookup(const char *label)
{
	char norm[CHARSET_LABEL_MAX];

	if (!charset_normalise(label, norm))
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(charset_table); i++) {
		if (strcmp(charset_table[i].alias, norm) == 0)
			return &charset_table[i];
	}
	return NULL;
}

const char *charset_canonical(const char *label)
{
	const struct charset_entry *entry = charset_lookup(label);

	return entry == NULL ? NULL : entry->iconv;
}

/* Returns true when bytes are valid UTF-8, NUL bytes allowed; sets
   *multibyte_r when at least one byte is >= 0x80. */
static bool charset_utf8_valid(const char *bytes, size_t len, bool *multibyte_r)
{
	size_t i = 0;

	*multibyte_r = false;
	while (i < len) {
		const char *nul = memchr(bytes + i, '\0', len - i);
		size_t seg = nul == NULL ? len - i : (size_t)(nul - (bytes + i));

		for (size_t j = 0; j < seg && !*multibyte_r; j++)
			*multibyte_r = (unsigned char)bytes[i + j] >= 0x80;
		if (seg > 0 && !g_utf8_validate_len(bytes + i, seg, NULL))
			return false;
		i += seg + 1;
	}
	return true;
}

/* Counts the valid multi-byte UTF-8 sequences and the bytes that start none. */
static void charset_utf8_count(const char *bytes, size_t len, size_t *good_r, size_t *bad_r);

/* Returns true when the 8-bit bytes are mostly valid UTF-8: more valid
   multi-byte sequences than bytes that start no valid sequence. */
static bool charset_utf8_mostly(const char *bytes, size_t len)
{
	size_t good, bad;
	charset_utf8_count(bytes, len, &good, &bad);
	return good > bad;
}

static void charset_utf8_count(const char *bytes, size_t len, size_t *good_r, size_t *bad_r)
{
	size_t good = 0, bad = 0, i = 0;

	while (i < len) {
		if ((unsigned char)bytes[i] < 0x80) {
			i++;
		} else if (g_utf8_get_char_validated(bytes + i, (gssize)(len - i)) <
			   (gunichar)-2) {
			good++;
			i += g_utf8_skip[(unsigned char)bytes[i]];
		} else {
			bad++;
			i++;
		}
	}
	*good_r = good;
	*bad_r = bad;
}

/* Returns true when every byte is below 0x80. */
static bool charset_is_ascii(const char *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)bytes[i] >= 0x80)
			return false;
	}
	return true;
}

/* Feeds the input through an open GIConv, appending UTF-8 to out. Strict:
   returns -1 at the first invalid or incomplete sequence. Lenient: emits
   U+FFFD for it, skips one byte and goes on; returns 0. */
static int charset_iconv_run(GIConv cd, const char *bytes, size_t len,
			     bool lenient, GString *out)
{
	char *in = (char *)bytes, buf[4096], *o;
	size_t in_left = len, o_left;

	while (in_left > 0) {
		o = buf;
		o_left = sizeof(buf);
		size_t r = g_iconv(cd, &in, &in_left, &o, &o_left);
		int err = errno;

		g_string_append_len(out, buf, o - buf);
		if (r != (size_t)-1 || (err == E2BIG && o != buf))
			continue;
		if (!lenient)
			return -1;
		g_string_append(out, CHARSET_REPLACEMENT);
		if (err == EINVAL || err == E2BIG)
			break;   /* incomplete at the end: nothing to resync on */
		in++;
		in_left--;
	}
	o = buf;
	o_left = sizeof(buf);
	if (g_iconv(cd, NULL, NULL, &o, &o_left) == (size_t)-1 && !lenient)
		return -1;
	g_string_append_len(out, buf, o - buf);
	return 0;
}

/* Converts from one iconv charset, appending to out (on failure out may hold
   partial text: the caller truncates). Returns 0, or -1 when the charset is
   unavailable or (strict) the bytes are invalid in it. */
static void charset_cd_free(gpointer p)
{
	g_iconv_close((GIConv)p);
}

static void charset_cache_free(gpointer p)
{
	g_hash_table_unref(p);
}

/* Opening a converter loads (and closing unloads) a gconv module: one per
   charset is kept per thread (the names come from the static table, so the
   cache stays small). */
static GPrivate charset_cache = G_PRIVATE_INIT(charset_cache_free);

static GIConv charset_cd(const char *iconv_name)
{
	GHashTable *cache = g_private_get(&charset_cache);
	if (cache == NULL) {
		cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, charset_cd_free);
		g_private_set(&charset_cache, cache);
	}
	GIConv cd = g_hash_table_lookup(cache, iconv_name);
	if (cd != NULL) {
		g_iconv(cd, NULL, NULL, NULL, NULL);   /* back to the initial state */
		return cd;
	}
	cd = g_iconv_open("UTF-8", iconv_name);
	if (cd != (GIConv)-1)
		g_hash_table_insert(cache, g_strdup(iconv_name), cd);
	return cd;
}

static int charset_iconv(const char *iconv_name, const char *bytes, size_t len,
			 bool lenient, GString *out)
{
	GIConv cd = charset_cd(iconv_name);
	if (cd == (GIConv)-1)
		return -1;
	return charset_iconv_run(cd, bytes, len, lenient, out);
}

/* Returns true when byte b in 0x80-0x9F has no character in windows-1252. */
static bool charset_cp1252_undefined(unsigned char b)
{
	return b == 0x81 || b == 0x8D || b == 0x8F || b == 0x90 || b == 0x9D;
}

/* Picks "windows-1252" or "iso-8859-1" for 8-bit single-byte text (step 4 of
   the heuristic). */
static const char *charset_latin_name(const char *bytes, size_t len)
{
	bool c1 = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)bytes[i];

		if (b < 0x80 || b > 0x9F)
			continue;
		if (charset_cp1252_undefined(b))
			return "iso-8859-1";
		c1 = true;
	}
	return c1 ? "windows-1252" : "iso-8859-1";
}

/* Decodes with one table entry, appending to out. Returns the static name of
   the charset used, or NULL when strict decoding failed. */
static const char *charset_decode(const struct charset_entry *entry,
				  const char *bytes, size_t len, bool lenient,
				  GString *out)
{
	bool multibyte;
	const char *latin;

	switch (entry->kind) {
	case CHARSET_KIND_UTF8:
	case CHARSET_KIND_ASCII:
		if (!lenient && (entry->kind == CHARSET_KIND_ASCII ?
				 !charset_is_ascii(bytes, len) :
				 !charset_utf8_valid(bytes, len, &multibyte)))
			return NULL;
		g_string_append_len(out, bytes, len);   /* made valid later */
		return entry->name;
	case CHARSET_KIND_LATIN1:
		latin = charset_latin_name(bytes, len);
		return charset_iconv(strcmp(latin, "iso-8859-1") == 0 ? "ISO-8859-1" :
				     "WINDOWS-1252", bytes, len, lenient, out) == 0 ?
			latin : NULL;
	case CHARSET_KIND_BIG5:
		if (charset_iconv("BIG5-HKSCS", bytes, len, lenient, out) == 0)
			return entry->name;
		g_string_truncate(out, 0);
		return charset_iconv("BIG5", bytes, len, lenient, out) == 0 ?
			entry->name : NULL;
	case CHARSET_KIND_ICONV:
	default:
		return charset_iconv(entry->iconv, bytes, len, lenient, out) == 0 ?
			entry->name : NULL;
	}
}

/* Counts gathered while walking bytes as a double-byte Chinese charset. */
struct charset_cjk_scan {
	bool valid;             /* every byte fits the structure */
	size_t pairs;           /* double-byte (or 4-byte) characters */
	size_t high_trail;      /* of which the trail byte is >= 0x80 */
	size_t marks;           /* pairs typical of this charset */
	size_t latin;           /* pairs that look like Latin letters in a word */
	size_t ascii_end;       /* index after the last single ASCII byte */
};

/* Returns true when the pair at p[i] looks like an accented Latin letter
   inside a word: a single-byte ASCII letter before it and one in or right
   after it. */
static bool charset_latin_looking(const unsigned char *p, size_t len, size_t i,
				  const struct charset_cjk_scan *scan)
{
	if (i == 0 || scan->ascii_end != i || !g_ascii_isalpha(p[i - 1]))
		return false;
	return g_ascii_isalpha(p[i + 1]) || (i + 2 < len && g_ascii_isalpha(p[i + 2]));
}

/* Returns the length (2 or 4) of the GB18030 character at p[i] >= 0x81, or
   0 if invalid; counts it in scan. */
static size_t charset_scan_gb_char(const unsigned char *p, size_t len, size_t i,
				   struct charset_cjk_scan *scan)
{
	const unsigned char *c = p + i;

	if (c[0] == 0xFF || len - i < 2)
		return 0;
	if (c[1] >= 0x30 && c[1] <= 0x39) {
		if (len - i < 4 || c[2] < 0x81 || c[2] == 0xFF ||
		    c[3] < 0x30 || c[3] > 0x39)
			return 0;
		scan->pairs++;
		scan->high_trail++;
		return 4;
	}
	if (c[1] < 0x40 || c[1] == 0x7F || c[1] == 0xFF)
		return 0;
	scan->pairs++;
	scan->high_trail += c[1] >= 0x80;
	scan->latin += charset_latin_looking(p, len, i, scan);
	scan->marks += c[1] >= 0xA1 && ((c[0] >= 0xB0 && c[0] <= 0xF7) ||
					(c[0] >= 0xA1 && c[0] <= 0xA3));
	return 2;
}

/* Walks the bytes as GB18030 (see the heuristic at the top). */
static void charset_scan_gb(const unsigned char *p, size_t len,
			    struct charset_cjk_scan *scan)
{
	size_t i = 0, n;

	memset(scan, 0, sizeof(*scan));
	while (i < len) {
		if (p[i] < 0x80) {
			scan->ascii_end = ++i;
			continue;
		}
		if (p[i] == 0x80 || (n = charset_scan_gb_char(p, len, i, scan)) == 0)
			return;
		i += n;
	}
	scan->valid = true;
}

/* Walks the bytes as Big5 (see the heuristic at the top). */
static void charset_scan_big5(const unsigned char *p, size_t len,
			      struct charset_cjk_scan *scan)
{
	size_t i = 0;

	memset(scan, 0, sizeof(*scan));
	while (i < len) {
		if (p[i] < 0x80) {
			scan->ascii_end = ++i;
			continue;
		}
		if (p[i] < 0xA1 || p[i] > 0xF9 || i + 1 >= len)
			return;
		unsigned char t = p[i + 1];

		if (!((t >= 0x40 && t <= 0x7E) || (t >= 0xA1 && t <= 0xFE)))
			return;
		scan->pairs++;
		scan->high_trail += t >= 0x80;
		scan->latin += charset_latin_looking(p, len, i, scan);
		scan->marks += t < 0x80 ? 2 : (p[i] >= 0xA4 && p[i] <= 0xAF);
		i += 2;
	}
	scan->valid = true;
}

/* Step 3 of the heuristic: "big5" or "gb18030" when the bytes read as
   double-byte Chinese with at least min_pairs characters, else NULL. */
static const char *charset_detect_cjk(const char *bytes, size_t len, size_t min_pairs)
{
	struct charset_cjk_scan gb, b5;
	bool gb_ok, b5_ok;

	charset_scan_gb((const unsigned char *)bytes, len, &gb);
	charset_scan_big5((const unsigned char *)bytes, len, &b5);
	gb_ok = gb.valid && gb.pairs >= min_pairs && gb.high_trail * 2 > gb.pairs &&
		gb.latin * 4 < gb.pairs;
	b5_ok = b5.valid && b5.pairs >= min_pairs && b5.high_trail > 0 &&
		b5.high_trail * 4 >= b5.pairs && b5.latin * 4 < b5.pairs;
	if (b5_ok && b5.marks > gb.marks)
		return "big5";
	if (gb_ok)
		return "gb18030";
	return b5_ok ? "big5" : NULL;
}

const char *charset_detect(const char *bytes, size_t len)
{
	const char *cjk;
	bool multibyte;

	if (bytes == NULL || charset_is_ascii(bytes, len))
		return "us-ascii";
	if (charset_utf8_valid(bytes, len, &multibyte))
		return "utf-8";
	if ((cjk = charset_detect_cjk(bytes, len, 1)) != NULL)
		return cjk;
	if (charset_utf8_mostly(bytes, len))
		return "utf-8";
	return charset_latin_name(bytes, len);
}

/* Returns true when some valid UTF-8 sequence in the bytes is two bytes long
   (U+0080-U+07FF: Latin, Greek, Cyrillic...). Short GBK or Big5 text is often
   also valid UTF-8, but then mostly as such two-byte sequences, while
   Chinese in UTF-8 takes three bytes a character. */
static bool charset_utf8_has_2byte(const char *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)bytes[i];

		if (b >= 0xC2 && b <= 0xDF && i + 1 < len &&
		    ((unsigned char)bytes[i + 1] & 0xC0) == 0x80)
			return true;
	}
	return false;
}

/* Returns true when a declared charset other than UTF-8 should give way to
   UTF-8: the bytes are valid UTF-8 with at least one multi-byte character
   and, for a declared CJK multi-byte charset (whose short texts are often
   valid UTF-8 by chance: 袁野 in GBK is D4AC D2B0), none of two bytes. */
static bool charset_prefers_utf8(const struct charset_entry *entry,
				 const char *bytes, size_t len)
{
	bool multibyte;

	if (entry->kind == CHARSET_KIND_UTF8)
		return false;
	if (!charset_utf8_valid(bytes, len, &multibyte) || !multibyte)
		return false;
	return !entry->multibyte || !charset_utf8_has_2byte(bytes, len);
}

/* Returns true when a Western single-byte label should give way to the
   detected charset: Chinese text labelled iso-8859-1 or windows-1252 (a
   misconfigured mailer) decodes "successfully" as Latin mojibake, since
   every byte is defined there. At least two double-byte characters are
   asked for, so a stray accented letter does not switch. */
static bool charset_western_is_cjk(const struct charset_entry *entry,
				   const char *bytes, size_t len)
{
	bool western = strcmp(entry->name, "iso-8859-1") == 0 ||
		       strcmp(entry->name, "windows-1252") == 0 ||
		       strcmp(entry->name, "iso-8859-15") == 0;

	return western && charset_detect_cjk(bytes, len, 2) != NULL;
}

/* Decodes with the declared entry if it fits, else with the detected charset
   (or, for a CJK multi-byte label whose bytes detection can only read as
   Latin, with the declared charset repaired). Appends to out; returns the
   name used and sets *detected_r. */
/* True when the bytes hold valid UTF-8 sequences of three or four bytes (CJK
   text) at least one for every three bytes that start none. GBK mislabelled
   as UTF-8 seldom forms such sequences, broken UTF-8 keeps many. */
static bool charset_utf8_wide_mostly(const char *bytes, size_t len)
{
	size_t wide = 0, bad = 0, i = 0;
	while (i < len) {
		unsigned char b = (unsigned char)bytes[i];
		if (b < 0x80) {
			i++;
		} else if (g_utf8_get_char_validated(bytes + i, (gssize)(len - i)) < (gunichar)-2) {
			wide += g_utf8_skip[b] >= 3;
			i += g_utf8_skip[b];
		} else {
			bad++;
			i++;
		}
	}
	return wide > 0 && wide * 3 >= bad;
}

static const char *charset_choose(const struct charset_entry *declared,
				  const char *bytes, size_t len,
				  bool *detected_r, GString *out)
{
	const struct charset_entry *detected;
	const char *used, *name;

	*detected_r = false;
	if (declared != NULL && !charset_prefers_utf8(declared, bytes, len) &&
	    !charset_western_is_cjk(declared, bytes, len)) {
		used = charset_decode(declared, bytes, len, false, out);
		if (used != NULL)
			return used;
		g_string_truncate(out, 0);
		/* Declared UTF-8 with a few broken sequences stays UTF-8 (each bad
		   byte one U+FFFD) rather than being re-read whole as another
		   charset: "投诉" + an overlong pair is not GB18030 mojibake. */
		if (declared->kind == CHARSET_KIND_UTF8 && charset_utf8_wide_mostly(bytes, len))
			return charset_decode(declared, bytes, len, true, out);
	}
	name = charset_detect(bytes, len);
	detected = charset_lookup(name);
	if (declared != NULL && declared->multibyte &&
	    detected->kind == CHARSET_KIND_LATIN1)
		return charset_decode(declared, bytes, len, true, out);
	*detected_r = true;
	used = charset_decode(detected, bytes, len, true, out);
	return used != NULL ? used : name;
}

/* Replaces out's content by a valid UTF-8 copy without NUL bytes if needed. */
static void charset_make_valid(GString *out)
{
	char *valid;

	if (g_utf8_validate_len(out->str, out->len, NULL))
		return;
	valid = g_utf8_make_valid(out->str, out->len);
	g_string_assign(out, valid);
	g_free(valid);
}

char *charset_to_utf8(const char *declared, const char *bytes, size_t len,
		      size_t *out_len_r, const char **used_r,
		      bool *detected_r)
{
	GString *out = g_string_sized_new(len + len / 2 + 1);
	const char *used;
	bool detected;

	if (bytes == NULL) {
		bytes = "";
		len = 0;
	}
	used = charset_choose(charset_lookup(declared), bytes, len, &detected, out);
	charset_make_valid(out);
	if (out_len_r != NULL)
		*out_len_r = out->len;
	if (used_r != NULL)
		*used_r = used;
	if (detected_r != NULL)
		*detected_r = detected;
	return g_string_free(out, FALSE);
}
