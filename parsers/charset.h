/* Charset repair: turns bytes in a declared (often wrong or missing) charset
   into clean UTF-8, detecting the charset when the label cannot be trusted.
   Pure functions: no state, no I/O. */
#ifndef INTAKE_PARSERS_CHARSET_H
#define INTAKE_PARSERS_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

/* Converts len bytes labelled with the charset "declared" to UTF-8.
   Labels gb2312, gbk, cp936, x-gbk, euc-cn, gb_2312-80 and "chinese" are
   decoded as GB18030 (senders label GBK as GB2312); big5, big5-hkscs and
   cp950 as BIG5-HKSCS, falling back to BIG5. The declared charset is not
   used, and charset_detect() chooses instead, when:
   - the label is NULL, empty or not one charset_canonical() knows;
   - the bytes are not valid in the declared charset;
   - a legacy 8-bit charset (Latin, CJK, Cyrillic...) is declared but the
     bytes are valid UTF-8 with at least one multi-byte character (a mailer
     that labelled UTF-8 text with a default charset); for a declared CJK
     multi-byte charset only when no UTF-8 sequence is two bytes long (short
     GBK text is often valid UTF-8 by chance, in two-byte sequences);
   - iso-8859-1, windows-1252 or iso-8859-15 is declared but the bytes read
     as double-byte Chinese (at least two characters): every byte is
     defined in those charsets, so the wrong label would give mojibake.
   Bytes still invalid in the chosen charset each become U+FFFD and decoding
   resumes at the next byte; NUL bytes also become U+FFFD.
   Returns a newly allocated (g_free) NUL-terminated valid UTF-8 string, never
   NULL, containing no NUL byte. Sets *out_len_r (optional) to its length,
   *used_r (optional) to a static lower-case name of the charset used
   ("gb18030", "utf-8", "big5", "iso-8859-1", "windows-1252", "us-ascii"...)
   and *detected_r (optional) to true when detection chose it. bytes may be
   NULL when len is 0. */
char *charset_to_utf8(const char *declared, const char *bytes, size_t len,
		      size_t *out_len_r, const char **used_r,
		      bool *detected_r);

/* Detects the charset of undeclared text. Returns a static name:
   "us-ascii" when every byte is below 0x80; else "utf-8" when the bytes are
   valid UTF-8; else "big5" or "gb18030" when the bytes are structurally valid
   double-byte Chinese (see the heuristic in charset.c); else "windows-1252"
   when some byte in 0x80-0x9F is a printable windows-1252 character and none
   is undefined there; else "iso-8859-1". Deterministic; never NULL. */
const char *charset_detect(const char *bytes, size_t len);

/* Maps a charset label (case-insensitive, surrounding blanks and quotes
   ignored, e.g. "GB2312", "x-gbk", "Latin1", "ks_c_5601-1987") to the iconv
   name to use ("GB18030", "BIG5-HKSCS", "WINDOWS-1252", "UTF-8"...).
   Returns a static string, or NULL when the label is NULL or unknown. Only
   names from this table ever reach iconv. */
const char *charset_canonical(const char *label);

#endif
