/* Type detection from the bytes (libmagic), never from a name. A sniffer
   holds one magic_t and must be used by one thread at a time. */
#ifndef INTAKE_PARSERS_SNIFF_H
#define INTAKE_PARSERS_SNIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

struct sniff;

/* Loads the magic database. NULL with error. */
struct sniff *sniff_new(GError **error);
void sniff_free(struct sniff *s);   /* NULL-safe */

/* The MIME type of the bytes ("application/pdf"), newly allocated; never NULL
   ("application/octet-stream" when unknown). */
char *sniff_buffer(struct sniff *s, const void *data, size_t len);

/* True for executables, scripts and macro-enabled Office documents, judged
   from the detected type and the file name's extension. Either may be NULL. */
bool sniff_is_risky(const char *detected_type, const char *filename);

/* sniff_is_risky(), and also judged from the bytes: a ZIP archive (OOXML
   documents are ZIP files) with a macro project (vbaProject.bin: a .docm
   renamed .docx) or a member with a risky extension (an .exe in a .zip), or
   an OLE2 document (.doc, .xls) with a VBA project. data may be NULL when
   len is 0. */
bool sniff_is_risky_content(const char *detected_type, const char *filename, const void *data,
			    size_t len);

#endif
