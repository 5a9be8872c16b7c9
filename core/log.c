/* Logging with levels, source names and number masking; see log.h. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

static enum log_level log_threshold = LOG_LEVEL_INFO;

static const char *const log_level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

int log_level_parse(const char *name, enum log_level *level_r)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(log_level_names); i++) {
		if (g_ascii_strcasecmp(name, log_level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

char *log_mask_number(const char *number)
{
	if (number == NULL)
		return NULL;
	char *out = g_strdup(number);
	size_t len = strlen(out);
	size_t keep = len > 4 ? 4 : 0;
	for (size_t i = 0; i + keep < len; i++)
		out[i] = '*';
	return out;
}

/* Length of the digit run starting at s (digits, with single spaces or hyphens
   between digits, an optional final X); *digits_r gets the digit count. */
static size_t log_digit_run(const char *s, unsigned *digits_r)
{
	size_t i = 0, end = 0;
	unsigned digits = 0;

	while (s[i] != '\0') {
		if (g_ascii_isdigit(s[i])) {
			digits++;
			end = ++i;
		} else if ((s[i] == ' ' || s[i] == '-') && g_ascii_isdigit(s[i + 1]) && i > 0) {
			i++;
		} else {
			break;
		}
	}
	if (end > 0 && (s[end] == 'X' || s[end] == 'x')) {
		digits++;
		end++;
	}
	*digits_r = digits;
	return end;
}

/* Appends the run, masking all digits but the last 4. */
static void log_append_masked(GString *out, const char *run, size_t len, unsigned digits)
{
	unsigned seen = 0;
	for (size_t i = 0; i < len; i++) {
		gboolean d = g_ascii_isdigit(run[i]) || run[i] == 'X' || run[i] == 'x';
		if (d && seen++ < digits - 4)
			g_string_append_c(out, '*');
		else
			g_string_append_c(out, run[i]);
	}
}

/* A complaint reference (TS20261123-0007: letters, 8 digits, '-', 4 digits)
   names a complaint, not a person: it is kept as written. */
static bool log_is_reference(const char *text, const char *p)
{
	if (p == text || !g_ascii_isalpha(p[-1]))
		return false;
	for (int i = 0; i < 13; i++) {
		bool want_dash = i == 8;
		if (want_dash ? p[i] != '-' : !g_ascii_isdigit(p[i]))
			return false;
	}
	return !g_ascii_isdigit(p[13]);
}

char *log_mask_text(const char *text, unsigned min_digits)
{
	GString *out = g_string_sized_new(strlen(text) + 1);
	const char *p = text;

	while (*p != '\0') {
		if (g_ascii_isdigit(*p) && log_is_reference(text, p)) {
			g_string_append_len(out, p, 13);
			p += 13;
			continue;
		}
		gboolean starts = g_ascii_isdigit(*p) && (p == text || !g_ascii_isdigit(p[-1]));
		unsigned digits = 0;
		size_t len = starts ? log_digit_run(p, &digits) : 0;
		if (len > 0 && digits >= min_digits) {
			log_append_masked(out, p, len, digits);
			p += len;
		} else if (len > 0) {
			g_string_append_len(out, p, (gssize)len);
			p += len;
		} else {
			g_string_append_c(out, *p++);
		}
	}
	return g_string_free(out, FALSE);
}

void log_msg(enum log_level level, const char *source, const char *fmt, ...)
{
	if (level < log_threshold)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	char *masked = log_mask_text(text, 11);
	GDateTime *now = g_date_time_new_now_local();
	char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S%:z");
	fprintf(stderr, "%s %s [%s] %s\n", stamp, log_level_names[level],
		source != NULL ? source : "intake", masked);
	g_free(stamp);
	g_date_time_unref(now);
	g_free(masked);
	g_free(text);
}

static void log_glib_handler(const char *domain, GLogLevelFlags flags, const char *message,
			     gpointer user_data)
{
	(void)user_data;
	enum log_level level = LOG_LEVEL_DEBUG;
	if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		level = LOG_LEVEL_ERROR;
	else if (flags & G_LOG_LEVEL_WARNING)
		level = LOG_LEVEL_WARN;
	else if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
		level = LOG_LEVEL_INFO;
	log_msg(level, domain != NULL ? domain : "glib", "%s", message);
}

void log_capture_glib(void)
{
	g_log_set_default_handler(log_glib_handler, NULL);
}
