/* HTML to readable plain text with libxml2's HTML parser: block elements
   become line breaks, table cells are kept apart by a space, entities are
   decoded, script, style and head are dropped, runs of blanks (no-break
   spaces included) collapse.
   Pure: bytes in, text out. */
#ifndef INTAKE_PARSERS_HTML_H
#define INTAKE_PARSERS_HTML_H

#include <stddef.h>

/* Converts len bytes of UTF-8 HTML (already charset-converted) to text.
   Returns a newly allocated (g_free) valid UTF-8 string, never NULL; empty
   when the input has no text. html may be NULL when len is 0. */
char *html_to_text(const char *html, size_t len);

#endif
