/* RFC 2047 encoded-word decoding for unstructured header values (Subject)
   and display names, done by us because GMime 3.2.13 loses text when two
   base64 words are adjacent (shared/PITFALLS.md, gmime#133). */
#ifndef INTAKE_PARSERS_RFC2047_H
#define INTAKE_PARSERS_RFC2047_H

#include <stddef.h>

/* Decodes a raw header value (folded or not) to UTF-8:
   - folding (CRLF or LF followed by a space or tab) is unfolded; any other
     CR or LF becomes a space;
   - encoded-words =?charset?B|Q?text?= are decoded, case-insensitively; the
     charset may carry an RFC 2231 "*language" suffix, which is ignored;
     words are recognised even inside a run of text ("foo=?..?=bar"), as
     real mailers write them;
   - whitespace between two adjacent encoded-words is dropped; whitespace
     between an encoded-word and plain text is kept;
   - adjacent encoded-words with the same charset and encoding have their
     decoded bytes joined before a single charset conversion, so a
     multi-byte character split across two words decodes right;
   - charset conversion goes through charset_to_utf8(): gb2312/gbk decode as
     GB18030, and a wrong or unknown charset is detected;
   - 8-bit bytes outside encoded-words (mailers that send raw GBK or UTF-8
     headers) are converted by detection (charset_detect());
   - a malformed word (bad base64 character, missing "?=", unknown encoding
     letter, empty charset) is kept as literal text, never dropped;
   - leading and trailing blanks of the whole value are removed.
   Runs in time linear in len. raw may be NULL when len is 0.
   Returns a newly allocated (g_free) NUL-terminated valid UTF-8 string
   without NUL bytes, never NULL. */
char *rfc2047_decode(const char *raw, size_t len);

#endif
