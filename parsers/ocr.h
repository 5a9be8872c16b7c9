/* Document text: what a scanned letter, a received fax or an e-mail
   attachment says. PDFs with a text layer are read by poppler's pdftotext,
   image-only PDF pages are rasterised by pdftoppm and read by tesseract, as
   are TIFF (multi-page CCITT G3/G4 faxes included), JPEG and PNG images;
   DOCX is read in memory (libzip + libxml2), plain text through the charset
   repair. The caller gives the type found from the bytes (sniff_buffer),
   never a name. Bytes in, text out: no database, no network, no state; safe
   to call from several threads at once.
   SECURITY: the bytes are hostile. They are written into a private
   temporary folder (mode 0700) and read there by each tool in a child
   process of its own process group, with limits on CPU time, address space,
   size of the files it may write and core dumps (none), killed when over its
   wall-clock time; its output is bounded. Only types whose magic leptonica
   also recognises reach tesseract, and only named in a list file of ours
   (so that it never reads the input as a list of file names). DOCX is
   unzipped with a bound on the uncompressed size, and its XML parsed
   without network, DTD loading or entity substitution.
   CORES: the pages of one document are spread over several tesseract
   children at once (settings.jobs), but the whole process never runs more
   OCR children than it has cores, whichever threads and documents they
   belong to: a document waits for a free core before its first child and
   takes more only when they are free. */
#ifndef INTAKE_PARSERS_OCR_H
#define INTAKE_PARSERS_OCR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define OCR_ERROR (ocr_error_quark())
GQuark ocr_error_quark(void);
/* Why a document gave no text; the message says it in words. */
enum ocr_error_code {
	OCR_ERROR_EMPTY,        /* no bytes */
	OCR_ERROR_UNSUPPORTED,  /* a type this module does not read (the message names it) */
	OCR_ERROR_UNREADABLE,   /* damaged or encrypted: a tool refused it */
	OCR_ERROR_TOO_LARGE,    /* over a limit: uncompressed size, output */
	OCR_ERROR_TIMEOUT,      /* a tool ran over its time and was killed */
	OCR_ERROR_CRASHED,      /* a tool died by a signal (memory or CPU limit, a bug) */
	OCR_ERROR_NO_TEXT,      /* read, but no text was found */
	OCR_ERROR_SYSTEM,       /* a tool is missing, temporary files, fork */
	OCR_ERROR_CANCELLED,    /* *cancel was set: the child was killed */
};

/* Settings; 0 / NULL means the default. */
struct ocr_settings {
	unsigned seconds;          /* wall-clock and CPU limit of each child; default 120 */
	unsigned max_pages;        /* pages read; later pages are left out with a note; default 20 */
	uint64_t max_memory;       /* address space of a child; default 2 GiB */
	uint64_t max_output;       /* largest file a child may write, and of text kept; default 256 MiB */
	unsigned dpi;              /* rasterisation of image-only PDF pages, told to tesseract
				      (--dpi); default 200 */
	const char *languages;     /* tesseract -l; default "chi_sim" */
	const char *fallback_languages;  /* a page whose text read with `languages` has fewer
				      than 20% ideographs among its letters and digits (a page
				      in a Latin script) is read again with these, and keeps
				      that text if it has any; NULL: "chi_sim+eng" when
				      languages is NULL too, else none; "": none */
	unsigned jobs;             /* tesseract children at once over the pages of one
				      document; default and at most the number of cores */
	const char *tesseract;     /* the programs, as paths or names looked up in PATH; */
	const char *pdftotext;     /*   defaults "tesseract", "pdftotext", "pdftoppm", */
	const char *pdftoppm;      /*   "pdfinfo", "tiffcp" */
	const char *pdfinfo;
	const char *tiffcp;
	const char *tmpdir;        /* where the private folder is made; default g_get_tmp_dir() */
	const gint *cancel;        /* when it becomes non-zero (g_atomic_int_set, from any
				      thread) the running child is killed within 1 s; may be NULL */
};

/* How a type is read. */
enum ocr_kind {
	OCR_KIND_UNSUPPORTED,
	OCR_KIND_PDF,
	OCR_KIND_TIFF,
	OCR_KIND_IMAGE,   /* JPEG, PNG, BMP, GIF, WebP, JPEG 2000, PNM */
	OCR_KIND_DOCX,
	OCR_KIND_TEXT,    /* text/plain */
};

/* The kind for a MIME type from libmagic; "application/zip" counts as DOCX
   here, ocr_document_text then checks for word/document.xml. */
enum ocr_kind ocr_kind_of(const char *mime_type);

/* What was read. Strings are owned; clear with ocr_result_clear. */
struct ocr_result {
	char *text;            /* valid UTF-8, at least one letter, digit or ideograph */
	char *engine;          /* "pdftotext", "tesseract", "pdftotext+tesseract", "docx", "text" */
	char *language;        /* the tesseract languages when OCR ran, else NULL: "L" or
				  "F" (every page read with the fallback languages) or
				  "L, F" (some: a note says which) */
	unsigned pages;        /* pages read (1 for an image, DOCX or text) */
	unsigned pages_total;  /* pages in the document, >= pages */
	GPtrArray *notes;      /* of char*: pages left out, pages read by OCR ... */
};
void ocr_result_clear(struct ocr_result *r);   /* NULL-safe, idempotent */

/* Reads the text of a document of the given detected type. Returns 0 with
   *out filled, or -1 with an OCR_ERROR (out is then empty). */
int ocr_document_text(const struct ocr_settings *s, const char *mime_type, const char *data,
		      size_t len, struct ocr_result *out, GError **error);

/* The text of a DOCX held in memory: each w:p a line, w:tab a tab, w:br a
   line break. At most max_xml bytes of word/document.xml are read (0: 64
   MiB). Returns the text (newly allocated, valid UTF-8, maybe empty) or NULL
   with an OCR_ERROR. */
char *ocr_docx_text(const char *data, size_t len, uint64_t max_xml, GError **error);

/* The number of images (pages) in a TIFF, following the IFD chain with loop
   detection; 0 when the bytes are not a readable TIFF. At most 100000. */
unsigned ocr_tiff_pages(const char *data, size_t len);

/* OCR output cleaned for extraction: valid UTF-8; form feeds become line
   breaks; blanks between two CJK characters (tesseract puts them between
   ideographs) and around an '@' inside an e-mail address are removed;
   trailing blanks and runs of more than one empty line go. Newly allocated. */
char *ocr_normalize(const char *text, size_t len);

#endif
