/* libmagic type detection; see sniff.h.
   SECURITY: libmagic reads hostile bytes; only the first 1 MiB is given to it
   (magic looks at the start of a file) to bound its time. */
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
	"application/x-dosexec", "application/x-executable", "application/x-sharedlib",
	"application/x-pie-executable", "application/x-mach-binary", "application/x-msi",
	"application/x-msdownload", "text/x-shellscript", "text/x-msdos-batch",
	"application/x-bat", "application/javascript", "text/javascript", "application/x-java-archive",
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
