/* RFC 2047 encoded-word decoding for unstructured header values (Subject),
   display names and header parameters (RFC 2231 filenames), done by us
   because GMime 3.2.13 loses text when two base64 words are adjacent
   (shared/PITFALLS.md, gmime#133). */
#ifndef INTAKE_PARSERS_RFC2047_H
#define INTAKE_PARSERS_RFC2047_H

#include <stddef.h>

/* Decodes a raw header value (folded or not) to UTF-8:
   - folding (a line break and the blanks around it) becomes one space, a
     tab a space, and any other CR or LF a space;
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
   - control characters (CR, LF, TAB, other C0, DEL, C1), even decoded
     from an encoded-word, become a space (a run of them and the blanks
     around it one space): the result is one line, safe to put back in a
     header;
   - leading and trailing blanks of the whole value are removed.
   Runs in time linear in len. raw may be NULL when len is 0.
   Returns a newly allocated (g_free) NUL-terminated valid UTF-8 string
   without NUL bytes, never NULL. */
char *rfc2047_decode(const char *raw, size_t len);

/* Decodes parameter `name` ("filename", "name") of a raw structured header
   value such as Content-Disposition or Content-Type, done by us because
   GMime decodes raw 8-bit parameters as Latin-1 and RFC 2047 words in them
   with the bug above:
   - RFC 2231: name*=charset'lang'%XX, and continuations name*0*=, name*1=
     ... (up to 64 segments, joined as bytes and converted once; gb2312 and
     gbk as GB18030; a missing or unknown charset is detected);
   - RFC 2047 words inside a quoted or bare value (as Outlook and Foxmail
     write them), decoded as rfc2047_decode() does, which also detects raw
     8-bit text (raw GBK filenames);
   - the RFC 2231 form wins over the plain one; the first of duplicates wins;
     quoted strings lose their backslash escapes; the value is trimmed.
   Attribute names compare case-insensitively. Linear in len.
   Returns a newly allocated valid UTF-8 string without NUL bytes, or NULL
   when the parameter is absent (or raw or name is NULL). */
char *rfc2047_decode_param(const char *raw, size_t len, const char *name);

#endif
