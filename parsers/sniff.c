/* libmagic type detection; see sniff.h.
   SECURITY: libmagic reads hostile bytes; only the first 1 MiB is given to it
   (magic looks at the start of a file) to bound its time. The content checks
   (ZIP member names, OLE macro storage) read only within [data, data + len),
   check every length field against what is left, and visit each byte a
   bounded number of times. */
#include "parsers/sniff.h"

#include <magic.h>
#include <string.h>

#define SNIFF_MAX_BYTES (1u << 20)

struct sniff {
	magic_t magic;
};

struct sniff *sniff_new(GError **error)
{
	magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
	if (m == NULL || magic_load(m, NULL) != 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "libmagic: cannot load its database: %s",
			    m != NULL ? magic_error(m) : "out of memory");
		if (m != NULL)
			magic_close(m);
		return NULL;
	}
	struct sniff *s = g_new0(struct sniff, 1);
	s->magic = m;
	return s;
}

void sniff_free(struct sniff *s)
{
	if (s == NULL)
		return;
	magic_close(s->magic);
	g_free(s);
}

char *sniff_buffer(struct sniff *s, const void *data, size_t len)
{
	if (len == 0)
		return g_strdup("application/x-empty");
	const char *t = magic_buffer(s->magic, data, len > SNIFF_MAX_BYTES ? SNIFF_MAX_BYTES : len);
	return g_strdup(t != NULL ? t : "application/octet-stream");
}

static const char *const sniff_risky_types[] = {
	"application/x-dosexec", "application/vnd.microsoft.portable-executable",
	"application/x-executable", "application/x-sharedlib", "application/x-ms-shortcut",
	"application/x-pie-executable", "application/x-mach-binary", "application/x-msi",
	"application/x-msdownload", "text/x-shellscript", "text/x-msdos-batch",
	"application/x-bat", "application/javascript", "text/javascript", "application/x-java-archive",
	"application/hta", "text/x-python", "text/x-perl", "text/x-php",
	"application/vnd.ms-excel.sheet.macroEnabled.12",
	"application/vnd.ms-word.document.macroEnabled.12",
	"application/vnd.ms-powerpoint.presentation.macroEnabled.12", NULL };

static const char *const sniff_risky_ext[] = {
	".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".cpl", ".msi", ".dll", ".js", ".jse",
	".vbs", ".vbe", ".wsf", ".wsh", ".ps1", ".psm1", ".hta", ".jar", ".sh", ".lnk", ".reg",
	".docm", ".dotm", ".xlsm", ".xltm", ".xlam", ".pptm", ".potm", ".ppam", ".iso", NULL };

bool sniff_is_risky(const char *detected_type, const char *filename)
{
	for (size_t i = 0; detected_type != NULL && sniff_risky_types[i] != NULL; i++)
		if (g_ascii_strcasecmp(detected_type, sniff_risky_types[i]) == 0)
			return true;
	const char *dot = filename != NULL ? strrchr(filename, '.') : NULL;
	for (size_t i = 0; dot != NULL && sniff_risky_ext[i] != NULL; i++)
		if (g_ascii_strcasecmp(dot, sniff_risky_ext[i]) == 0)
			return true;
	return false;
}

/* The 8-byte signature of an OLE2 compound file (.doc, .xls, vbaProject.bin). */
static const unsigned char sniff_ole_magic[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };
/* "_VBA_PROJECT" in UTF-16LE: the stream every OLE macro project has. */
static const char sniff_vba_utf16[] = "_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T\0";

static bool sniff_name_is_risky(const char *name, size_t n)
{
	g_autofree char *s = g_strndup(name, n);
	const char *base = strrchr(s, '/');
	base = base != NULL ? base + 1 : s;
	if (g_ascii_strcasecmp(base, "vbaProject.bin") == 0)
		return true;
	return sniff_is_risky(NULL, base);
}

/* Walks the local file headers of a ZIP archive (OOXML documents are ZIP
   files): true when a member is a macro project (vbaProject.bin) or has a
   risky extension. */
static bool sniff_zip_is_risky(const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len;
	for (const unsigned char *q = p; (size_t)(end - q) >= 30;) {
		q = memmem(q, (size_t)(end - q), "PK\x03\x04", 4);
		if (q == NULL || (size_t)(end - q) < 30)
			break;
		size_t n = (size_t)q[26] | (size_t)q[27] << 8;
		if (n > 0 && n <= (size_t)(end - q) - 30 && sniff_name_is_risky((const char *)q + 30, n))
			return true;
		q += 4;
	}
	return false;
}

bool sniff_is_risky_content(const char *detected_type, const char *filename, const void *data,
			    size_t len)
{
	const unsigned char *p = data;
	if (sniff_is_risky(detected_type, filename))
		return true;
	if (p == NULL || len < 8)
		return false;
	if (memcmp(p, "PK\x03\x04", 4) == 0)
		return sniff_zip_is_risky(p, len);
	if (memcmp(p, sniff_ole_magic, sizeof sniff_ole_magic) == 0)
		return memmem(p, len, sniff_vba_utf16, sizeof sniff_vba_utf16 - 1) != NULL;
	return false;
}
