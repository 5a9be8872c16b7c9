/* Loading and validating intake.conf; see config.h.
   SECURITY: the file is trusted operator input, but every value is still
   checked so that a typo stops the start with a clear message instead of
   misbehaving later. */
#include "core/config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK(intake-config-error-quark, config_error)

/* The reader's state while loading one file. */
struct config_reader {
	GKeyFile *kf;
	const char *path;
	struct config *cfg;
	GError **error;
	bool failed;
};

static const char *const config_store_keys[] = { "path", "spool", NULL };
static const char *const config_calendar_keys[] = {
	"file", "timezone", "close_of_business", "acceptance_days", "handling_days",
	"extension_days", NULL };
static const char *const config_intake_keys[] = {
	"reference_prefix", "log_level", "regulator_domains", "regulator_phrases", NULL };
static const char *const config_limits_keys[] = {
	"message_bytes", "mime_depth", "mime_parts", "attachment_bytes", "ocr_pages",
	"ocr_seconds", "ocr_memory", "ocr_languages", "ocr_fallback_languages", "ocr_jobs", NULL };
static const char *const config_imap_keys[] = {
	"url", "user", "password_file", "password_env", "after", "poll_interval",
	"tls_ca_file", "tls_verify", "starttls", "oauth2_token_file", "max_message_size",
	"fetch_connections", "timeout", "idle", NULL };
static const char *const config_dropdir_keys[] = {
	"path", "channel", "archive", "failed", "settle_time", "rescan_interval", "max_size", NULL };
static const char *const config_smtp_keys[] = {
	"url", "user", "password_file", "from", "tls_ca_file", "starttls", "timeout",
	"connect_timeout", NULL };
static const char *const config_notices_keys[] = {
	"templates", "language", "enabled", "send_acceptance", "trust_reply_to", "max_acks_per_day", "retry",
	"drain_interval",
	"print_dir", NULL };
static const char *const config_customers_keys[] = { "file", NULL };
static const char *const config_reminders_keys[] = { "time", "to", NULL };

/* Records the first error: FILE: [GROUP] KEY = "VALUE": expected WHAT. */
static void config_fail(struct config_reader *r, const char *group, const char *key,
			const char *value, const char *expected)
{
	if (r->failed)
		return;
	r->failed = true;
	if (key == NULL)
		g_set_error(r->error, CONFIG_ERROR, CONFIG_ERROR_INVALID, "%s: [%s]: %s",
			    r->path, group, expected);
	else
		g_set_error(r->error, CONFIG_ERROR, CONFIG_ERROR_INVALID,
			    "%s: [%s] %s = \"%s\": expected %s", r->path, group, key,
			    value != NULL ? value : "", expected);
}

/* Returns the trimmed value (newly allocated) or NULL when the key is absent. */
static char *config_get(struct config_reader *r, const char *group, const char *key)
{
	char *v = g_key_file_get_value(r->kf, group, key, NULL);
	if (v != NULL)
		g_strstrip(v);
	return v;
}

/* A path relative to the configuration's folder becomes absolute. */
static char *config_resolve(struct config_reader *r, const char *path)
{
	if (g_path_is_absolute(path))
		return g_strdup(path);
	return g_build_filename(r->cfg->dir, path, NULL);
}

/* Reads a path key; absent gives `def` (may be NULL), empty is an error. */
static char *config_path(struct config_reader *r, const char *group, const char *key,
			 const char *def)
{
	g_autofree char *v = config_get(r, group, key);
	if (v == NULL)
		return def != NULL ? config_resolve(r, def) : NULL;
	if (*v == '\0' || strlen(v) >= PATH_MAX) {
		config_fail(r, group, key, v, "a file or folder path");
		return NULL;
	}
	return config_resolve(r, v);
}

static char *config_string(struct config_reader *r, const char *group, const char *key,
			   const char *def)
{
	char *v = config_get(r, group, key);
	if (v == NULL)
		return def != NULL ? g_strdup(def) : NULL;
	if (*v == '\0') {
		config_fail(r, group, key, v, "a non-empty value");
		g_free(v);
		return NULL;
	}
	return v;
}

static unsigned config_uint(struct config_reader *r, const char *group, const char *key,
			   unsigned def, unsigned min, unsigned max)
{
	g_autofree char *v = config_get(r, group, key);
	if (v == NULL)
		return def;
	char *end = NULL;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || *v == '-' || n < min || n > max) {
		char what[96];
		g_snprintf(what, sizeof what, "a whole number from %u to %u", min, max);
		config_fail(r, group, key, v, what);
		return def;
	}
	return (unsigned)n;
}

static uint64_t config_size(struct config_reader *r, const char *group, const char *key,
			    uint64_t def)
{
	g_autofree char *v = config_get(r, group, key);
	uint64_t n = def;
	if (v != NULL && (config_parse_size(v, &n) < 0 || n == 0))
		config_fail(r, group, key, v, "a size above 0 such as 4096, 512k, 25M or 1G");
	return n;
}

static unsigned config_duration(struct config_reader *r, const char *group, const char *key,
				unsigned def, uint64_t max_s)
{
	g_autofree char *v = config_get(r, group, key);
	uint64_t n = def;
	if (v != NULL && (config_parse_duration(v, &n) < 0 || n == 0 || n > max_s)) {
		config_fail(r, group, key, v, "a duration above 0 such as 30s, 5m or 1h");
		return def;
	}
	return (unsigned)n;
}

/* [dropdir] settle_time in milliseconds: sub-second values are accepted
   ("500ms", "0.5"), from 100 ms (a shorter wait would take files that a
   writer only paused) to 1 h; default 2 s. */
static unsigned config_settle_ms(struct config_reader *r, const char *group)
{
	g_autofree char *v = config_get(r, group, "settle_time");
	uint64_t n = 2000;
	if (v != NULL && (config_parse_millis(v, &n) < 0 || n < 100 || n > 3600 * 1000)) {
		config_fail(r, group, "settle_time", v,
			    "a duration from 100ms to 1h such as 500ms, 0.5, 2s or 1m");
		return 2000;
	}
	return (unsigned)n;
}

static bool config_bool(struct config_reader *r, const char *group, const char *key, bool def)
{
	g_autofree char *v = config_get(r, group, key);
	if (v == NULL)
		return def;
	if (g_ascii_strcasecmp(v, "true") == 0 || g_ascii_strcasecmp(v, "yes") == 0)
		return true;
	if (g_ascii_strcasecmp(v, "false") == 0 || g_ascii_strcasecmp(v, "no") == 0)
		return false;
	config_fail(r, group, key, v, "true or false");
	return def;
}

/* Refuses keys that the group does not know: a typo must not pass silently. */
static void config_check_keys(struct config_reader *r, const char *group,
			      const char *const *known)
{
	g_auto(GStrv) keys = g_key_file_get_keys(r->kf, group, NULL, NULL);
	for (size_t i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!g_strv_contains(known, keys[i])) {
			g_autofree char *v = config_get(r, group, keys[i]);
			g_autofree char *what = g_strjoinv(", ", (char **)known);
			g_autofree char *msg = g_strdup_printf("a known key (one of: %s)", what);
			config_fail(r, group, keys[i], v, msg);
		}
	}
}

int config_parse_duration(const char *text, uint64_t *seconds_r)
{
	char *end = NULL;
	if (!g_ascii_isdigit(*text))
		return -1;
	errno = 0;
	unsigned long long n = strtoull(text, &end, 10);
	uint64_t mult = 1;
	if (errno != 0)
		return -1;
	if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "d") == 0)
		mult = 86400;
	else
		return -1;
	if (n > UINT32_MAX / mult)
		return -1;
	*seconds_r = n * mult;
	return 0;
}

int config_parse_millis(const char *text, uint64_t *ms_r)
{
	uint64_t n = 0, frac = 0, scale = 1000;
	const char *p = text;
	if (!g_ascii_isdigit(*p))
		return -1;
	for (; g_ascii_isdigit(*p); p++)
		if ((n = n * 10 + (uint64_t)(*p - '0')) > UINT32_MAX)
			return -1;
	if (strcmp(p, "ms") == 0) {
		*ms_r = n;
		return 0;
	}
	if (*p != '.') {
		if (config_parse_duration(text, &n) < 0 || n > UINT32_MAX / 1000)
			return -1;
		*ms_r = n * 1000;
		return 0;
	}
	/* Seconds with up to three decimals: "0.5", "1.25s". */
	for (p++; g_ascii_isdigit(*p) && scale > 1; p++) {
		scale /= 10;
		frac += (uint64_t)(*p - '0') * scale;
	}
	if (scale == 1000 || (*p != '\0' && strcmp(p, "s") != 0) || n > UINT32_MAX / 1000)
		return -1;
	*ms_r = n * 1000 + frac;
	return 0;
}

int config_parse_size(const char *text, uint64_t *bytes_r)
{
	char *end = NULL;
	if (!g_ascii_isdigit(*text))
		return -1;
	errno = 0;
	unsigned long long n = strtoull(text, &end, 10);
	unsigned shift = 0;
	if (errno != 0)
		return -1;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	else if (*end != '\0')
		return -1;
	if (shift > 0 && end[1] != '\0')
		return -1;
	if (n > (UINT64_MAX >> 1) >> shift)
		return -1;
	*bytes_r = (uint64_t)n << shift;
	return 0;
}

int config_parse_clock(const char *text, int *minutes_r)
{
	if (strlen(text) != 5 || text[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && !g_ascii_isdigit(text[i]))
			return -1;
	int h = (text[0] - '0') * 10 + (text[1] - '0');
	int m = (text[3] - '0') * 10 + (text[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	*minutes_r = h * 60 + m;
	return 0;
}

static void config_read_store(struct config_reader *r)
{
	struct config *c = r->cfg;
	config_check_keys(r, "store", config_store_keys);
	c->store_path = config_path(r, "store", "path", "var/intake.db");
	c->spool_path = config_path(r, "store", "spool", "var/spool");
}

static void config_read_timezone(struct config_reader *r)
{
	struct config *c = r->cfg;
	c->timezone = config_string(r, "calendar", "timezone", "Asia/Shanghai");
	if (c->timezone == NULL)
		return;
	GTimeZone *tz = g_time_zone_new_identifier(c->timezone);
	if (tz == NULL)
		config_fail(r, "calendar", "timezone", c->timezone,
			    "a time zone name from the tz database, such as Asia/Shanghai");
	else
		g_time_zone_unref(tz);
}

static void config_read_calendar(struct config_reader *r)
{
	struct config *c = r->cfg;
	config_check_keys(r, "calendar", config_calendar_keys);
	c->calendar_file = config_path(r, "calendar", "file", "config/calendar/cn.conf");
	config_read_timezone(r);
	g_autofree char *cob = config_get(r, "calendar", "close_of_business");
	c->close_of_business = -1;
	if (cob != NULL && *cob != '\0' && config_parse_clock(cob, &c->close_of_business) < 0)
		config_fail(r, "calendar", "close_of_business", cob, "a time of day HH:MM such as 17:30");
	c->acceptance_days = (int)config_uint(r, "calendar", "acceptance_days", 3, 1, 60);
	c->handling_days = (int)config_uint(r, "calendar", "handling_days", 20, 1, 365);
	c->extension_days = (int)config_uint(r, "calendar", "extension_days", 20, 0, 365);
}

static bool config_prefix_ok(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n > 8)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isupper(p[i]))
			return false;
	return true;
}

/* A comma-separated list of non-empty words ("csrc.gov.cn, 12386"), or NULL
   when the key is absent (the built-in list applies). */
static char **config_word_list(struct config_reader *r, const char *group, const char *key)
{
	g_autofree char *v = config_get(r, group, key);
	if (v == NULL)
		return NULL;
	g_auto(GStrv) parts = g_strsplit(v, ",", -1);
	GPtrArray *out = g_ptr_array_new();
	for (size_t i = 0; parts[i] != NULL; i++) {
		char *w = g_strstrip(parts[i]);
		if (*w != '\0' && g_utf8_validate(w, -1, NULL))
			g_ptr_array_add(out, g_strdup(w));
	}
	if (out->len == 0)
		config_fail(r, group, key, v, "one or more words separated by commas");
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static void config_read_intake(struct config_reader *r)
{
	struct config *c = r->cfg;
	config_check_keys(r, "intake", config_intake_keys);
	c->reference_prefix = config_string(r, "intake", "reference_prefix", "TS");
	if (c->reference_prefix != NULL && !config_prefix_ok(c->reference_prefix))
		config_fail(r, "intake", "reference_prefix", c->reference_prefix,
			    "1 to 8 capital letters A-Z");
	c->log_level = config_string(r, "intake", "log_level", "info");
	if (c->log_level != NULL && g_strv_contains((const char *const[]){
			"debug", "info", "warn", "error", NULL }, c->log_level) == FALSE)
		config_fail(r, "intake", "log_level", c->log_level, "debug, info, warn or error");
	c->regulator_domains = config_word_list(r, "intake", "regulator_domains");
	c->regulator_phrases = config_word_list(r, "intake", "regulator_phrases");
}

/* Tesseract language names joined by '+' ("chi_sim+eng", "script/HanS"). */
static bool config_languages_ok(const char *v)
{
	g_auto(GStrv) parts = g_strsplit(v, "+", -1);
	for (size_t i = 0; parts[i] != NULL; i++) {
		const char *p = parts[i];
		if (!g_ascii_isalnum(*p) || strlen(p) > 64)
			return false;
		for (; *p != '\0'; p++)
			if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '/')
				return false;
	}
	return parts[0] != NULL;
}

/* ocr_languages and ocr_fallback_languages ("none": "", no second reading). */
static void config_read_ocr_languages(struct config_reader *r, struct config_limits *l)
{
	const char *what = "tesseract languages joined by '+' such as chi_sim or chi_sim+eng";
	bool own = g_key_file_has_key(r->kf, "limits", "ocr_languages", NULL);
	l->ocr_languages = config_string(r, "limits", "ocr_languages", "chi_sim");
	if (l->ocr_languages != NULL && !config_languages_ok(l->ocr_languages))
		config_fail(r, "limits", "ocr_languages", l->ocr_languages, what);
	l->ocr_fallback_languages = config_string(r, "limits", "ocr_fallback_languages",
						  own ? "none" : "chi_sim+eng");
	if (l->ocr_fallback_languages != NULL && strcmp(l->ocr_fallback_languages, "none") == 0)
		l->ocr_fallback_languages[0] = '\0';
	else if (l->ocr_fallback_languages != NULL && !config_languages_ok(l->ocr_fallback_languages))
		config_fail(r, "limits", "ocr_fallback_languages", l->ocr_fallback_languages,
			    "none, or tesseract languages joined by '+' such as chi_sim+eng");
}

static void config_read_limits(struct config_reader *r)
{
	struct config_limits *l = &r->cfg->limits;
	config_check_keys(r, "limits", config_limits_keys);
	l->message_bytes = config_size(r, "limits", "message_bytes", 50u << 20);
	l->mime_depth = config_uint(r, "limits", "mime_depth", 20, 1, 1000);
	l->mime_parts = config_uint(r, "limits", "mime_parts", 500, 1, 100000);
	l->attachment_bytes = config_size(r, "limits", "attachment_bytes", 25u << 20);
	l->ocr_pages = config_uint(r, "limits", "ocr_pages", 20, 1, 1000);
	l->ocr_seconds = config_uint(r, "limits", "ocr_seconds", 120, 1, 3600);
	l->ocr_memory = config_size(r, "limits", "ocr_memory", 2ull << 30);
	config_read_ocr_languages(r, l);
	l->ocr_jobs = config_uint(r, "limits", "ocr_jobs", MAX(1u, g_get_num_processors()), 1, 1024);
}

static bool config_url_ok(const char *url, const char *const *schemes)
{
	for (size_t i = 0; schemes[i] != NULL; i++) {
		size_t n = strlen(schemes[i]);
		if (g_ascii_strncasecmp(url, schemes[i], n) == 0 && url[n] != '\0' && url[n] != '/')
			return true;
	}
	return false;
}

static void config_imap_free(gpointer p)
{
	struct config_imap *m = p;
	g_free(m->name);
	g_free(m->url);
	g_free(m->user);
	g_free(m->password_file);
	g_free(m->password_env);
	g_free(m->after);
	g_free(m->tls_ca_file);
	g_free(m->oauth2_token_file);
	g_free(m);
}

static void config_read_after(struct config_reader *r, const char *g, struct config_imap *m)
{
	m->after = config_string(r, g, "after", "move:Processed");
	if (m->after == NULL)
		return;
	if (strcmp(m->after, "flag") != 0 &&
	    !(g_str_has_prefix(m->after, "move:") && m->after[5] != '\0'))
		config_fail(r, g, "after", m->after, "move:FOLDER or flag");
}

static void config_read_imap(struct config_reader *r, const char *g, const char *name)
{
	struct config_imap *m = g_new0(struct config_imap, 1);
	g_ptr_array_add(r->cfg->imap, m);
	config_check_keys(r, g, config_imap_keys);
	m->name = g_strdup(name);
	m->url = config_string(r, g, "url", NULL);
	if (m->url == NULL)
		config_fail(r, g, "url", "", "imaps://host[:port]/FOLDER or imap://host[:port]/FOLDER");
	else if (!config_url_ok(m->url, (const char *const[]){ "imaps://", "imap://", NULL }))
		config_fail(r, g, "url", m->url, "imaps://host[:port]/FOLDER or imap://host[:port]/FOLDER");
	m->user = config_string(r, g, "user", NULL);
	if (m->user == NULL)
		config_fail(r, g, "user", "", "the login name of the mailbox");
	m->password_file = config_path(r, g, "password_file", NULL);
	m->password_env = config_string(r, g, "password_env", NULL);
	m->oauth2_token_file = config_path(r, g, "oauth2_token_file", NULL);
	if (m->password_file == NULL && m->password_env == NULL && m->oauth2_token_file == NULL)
		config_fail(r, g, "password_file", "",
			    "password_file, password_env or oauth2_token_file");
	config_read_after(r, g, m);
	m->poll_interval_s = config_duration(r, g, "poll_interval", 60, 86400);
	m->tls_ca_file = config_path(r, g, "tls_ca_file", NULL);
	m->tls_verify = config_bool(r, g, "tls_verify", true);
	m->starttls = config_bool(r, g, "starttls", true);
	g_autofree char *max = config_get(r, g, "max_message_size");
	if (max != NULL)
		m->max_message_bytes = config_size(r, g, "max_message_size", 0);
	m->fetch_connections = config_uint(r, g, "fetch_connections", 4, 1, 16);
	m->timeout_s = config_duration(r, g, "timeout", 60, 3600);
	m->idle = config_bool(r, g, "idle", true);
}

static void config_dropdir_free(gpointer p)
{
	struct config_dropdir *d = p;
	g_free(d->name);
	g_free(d->path);
	g_free(d->archive);
	g_free(d->failed);
	g_free(d->channel);
	g_free(d);
}

static void config_read_dropdir(struct config_reader *r, const char *g, const char *name)
{
	struct config_dropdir *d = g_new0(struct config_dropdir, 1);
	g_ptr_array_add(r->cfg->dropdirs, d);
	config_check_keys(r, g, config_dropdir_keys);
	d->name = g_strdup(name);
	d->path = config_path(r, g, "path", NULL);
	if (d->path == NULL)
		config_fail(r, g, "path", "", "the folder to watch");
	d->channel = config_string(r, g, "channel", NULL);
	if (d->channel == NULL || (strcmp(d->channel, "letter") != 0 && strcmp(d->channel, "fax") != 0))
		config_fail(r, g, "channel", d->channel, "letter or fax");
	g_autofree char *arch = g_strdup_printf("var/archive/%s", name);
	g_autofree char *fail = g_strdup_printf("var/failed/%s", name);
	d->archive = config_path(r, g, "archive", arch);
	d->failed = config_path(r, g, "failed", fail);
	d->settle_ms = config_settle_ms(r, g);
	d->rescan_s = config_duration(r, g, "rescan_interval", 30, 86400);
	d->max_bytes = config_size(r, g, "max_size", 100u << 20);
}

static void config_read_smtp(struct config_reader *r)
{
	struct config_smtp *s = &r->cfg->smtp;
	if (!g_key_file_has_group(r->kf, "smtp"))
		return;
	config_check_keys(r, "smtp", config_smtp_keys);
	s->url = config_string(r, "smtp", "url", NULL);
	if (s->url == NULL ||
	    !config_url_ok(s->url, (const char *const[]){ "smtp://", "smtps://", NULL }))
		config_fail(r, "smtp", "url", s->url, "smtps://host[:port] or smtp://host[:port]");
	s->user = config_string(r, "smtp", "user", NULL);
	s->password_file = config_path(r, "smtp", "password_file", NULL);
	s->from = config_string(r, "smtp", "from", NULL);
	if (s->from == NULL || strchr(s->from, '@') == NULL)
		config_fail(r, "smtp", "from", s->from, "a sender such as 客户服务中心 <ts@example.com>");
	s->tls_ca_file = config_path(r, "smtp", "tls_ca_file", NULL);
	s->starttls = config_bool(r, "smtp", "starttls", true);
	s->timeout_s = config_duration(r, "smtp", "timeout", 60, 3600);
	s->connect_timeout_s = config_duration(r, "smtp", "connect_timeout", 15, 600);
}

/* [notices] retry = 1m,5m,30m,2h,6h: the wait after each failed attempt. */
static void config_read_retry(struct config_reader *r, struct config_notices *n)
{
	g_autofree char *v = config_get(r, "notices", "retry");
	g_auto(GStrv) parts = g_strsplit(v != NULL ? v : "1m,5m,30m,2h,6h", ",", 0);
	n->n_retry = g_strv_length(parts);
	n->retry_s = g_new0(unsigned, n->n_retry + 1);
	for (unsigned i = 0; i < n->n_retry; i++) {
		uint64_t s = 0;
		if (config_parse_duration(g_strstrip(parts[i]), &s) < 0 || s == 0 || s > 7 * 86400)
			config_fail(r, "notices", "retry", v, "waits after each failed attempt, "
				    "such as 1m,5m,30m,2h,6h (each above 0, at most 7d)");
		n->retry_s[i] = (unsigned)s;
	}
	if (n->n_retry == 0 || n->n_retry > 50)
		config_fail(r, "notices", "retry", v, "1 to 50 waits such as 1m,5m,30m,2h,6h");
}

static void config_read_notices(struct config_reader *r)
{
	struct config_notices *n = &r->cfg->notices;
	n->enabled = config_bool(r, "notices", "enabled",
				 g_key_file_has_group(r->kf, "notices"));
	n->send_acceptance = config_bool(r, "notices", "send_acceptance", false);
	n->trust_reply_to = config_bool(r, "notices", "trust_reply_to", false);
	n->drain_interval_s = config_duration(r, "notices", "drain_interval", 30, 3600);
	n->max_acks_per_day = config_uint(r, "notices", "max_acks_per_day", 3, 0, 10000);
	n->print_dir = config_path(r, "notices", "print_dir", "var/print");
	config_read_retry(r, n);
}

/* [reminders] time = 09:00, to = a@x.cn, b@x.cn: both or neither. */
static void config_read_reminders(struct config_reader *r)
{
	struct config_reminders *m = &r->cfg->reminders;
	m->time = -1;
	config_check_keys(r, "reminders", config_reminders_keys);
	g_autofree char *time = config_get(r, "reminders", "time");
	g_autofree char *to = config_get(r, "reminders", "to");
	if (time == NULL && to == NULL)
		return;
	if (time == NULL || config_parse_clock(time, &m->time) < 0) {
		config_fail(r, "reminders", "time", time, "a time of day HH:MM such as 09:00");
		return;
	}
	g_auto(GStrv) parts = g_strsplit_set(to != NULL ? to : "", ",; \t", -1);
	GPtrArray *list = g_ptr_array_new();
	for (size_t i = 0; parts[i] != NULL; i++) {
		const char *a = parts[i];
		const char *at = strchr(a, '@');
		if (*a == '\0')
			continue;
		if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@') != NULL) {
			config_fail(r, "reminders", "to", to, "e-mail addresses separated by commas");
			break;
		}
		g_ptr_array_add(list, g_strdup(a));
	}
	if (list->len == 0 && !r->failed)
		config_fail(r, "reminders", "to", to, "one or more e-mail addresses separated by commas");
	g_ptr_array_add(list, NULL);
	m->to = (char **)g_ptr_array_free(list, FALSE);
}

static void config_read_misc(struct config_reader *r)
{
	struct config *c = r->cfg;
	config_check_keys(r, "notices", config_notices_keys);
	c->templates_dir = config_path(r, "notices", "templates", "config/templates");
	c->language = config_string(r, "notices", "language", "zh");
	if (c->language != NULL && strcmp(c->language, "zh") != 0 && strcmp(c->language, "en") != 0)
		config_fail(r, "notices", "language", c->language, "zh or en");
	config_read_notices(r);
	config_check_keys(r, "customers", config_customers_keys);
	c->customers_file = config_path(r, "customers", "file", NULL);
	config_read_reminders(r);
}

/* "imap main" -> "main"; NULL when the group is not of that kind. */
static const char *config_named(const char *group, const char *kind)
{
	size_t n = strlen(kind);
	if (strncmp(group, kind, n) != 0 || group[n] != ' ')
		return NULL;
	return group + n + 1;
}

static bool config_name_ok(const char *name)
{
	if (*name == '\0' || strlen(name) > 64)
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

static void config_read_groups(struct config_reader *r)
{
	static const char *const plain[] = {
		"store", "calendar", "intake", "limits", "smtp", "notices", "customers", "reminders",
		NULL };
	g_auto(GStrv) groups = g_key_file_get_groups(r->kf, NULL);
	for (size_t i = 0; groups[i] != NULL && !r->failed; i++) {
		const char *g = groups[i], *name;
		if ((name = config_named(g, "imap")) != NULL && config_name_ok(name))
			config_read_imap(r, g, name);
		else if ((name = config_named(g, "dropdir")) != NULL && config_name_ok(name))
			config_read_dropdir(r, g, name);
		else if (!g_strv_contains(plain, g))
			config_fail(r, g, NULL, NULL,
				    "unknown section; known: store, calendar, intake, limits, smtp, "
				    "notices, customers, reminders, imap NAME, dropdir NAME (NAME: letters, digits, - _ .)");
	}
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	g_free(c->path);
	g_free(c->dir);
	g_strfreev(c->reminders.to);
	g_free(c->store_path);
	g_free(c->spool_path);
	g_free(c->calendar_file);
	g_free(c->timezone);
	g_free(c->reference_prefix);
	g_strfreev(c->regulator_domains);
	g_strfreev(c->regulator_phrases);
	g_free(c->log_level);
	g_free(c->customers_file);
	g_free(c->templates_dir);
	g_free(c->language);
	g_free(c->limits.ocr_languages);
	g_free(c->limits.ocr_fallback_languages);
	g_free(c->smtp.url);
	g_free(c->smtp.user);
	g_free(c->smtp.password_file);
	g_free(c->smtp.from);
	g_free(c->smtp.tls_ca_file);
	g_free(c->notices.retry_s);
	g_free(c->notices.print_dir);
	g_ptr_array_unref(c->imap);
	g_ptr_array_unref(c->dropdirs);
	g_free(c);
}

static struct config *config_new(const char *path)
{
	struct config *c = g_new0(struct config, 1);
	c->path = g_strdup(path);
	g_autofree char *dir = g_path_get_dirname(path);
	if (g_path_is_absolute(dir)) {
		c->dir = g_steal_pointer(&dir);
	} else {
		g_autofree char *cwd = g_get_current_dir();
		c->dir = g_canonicalize_filename(dir, cwd);
	}
	c->imap = g_ptr_array_new_with_free_func(config_imap_free);
	c->dropdirs = g_ptr_array_new_with_free_func(config_dropdir_free);
	return c;
}

struct config *config_load_data(const char *data, size_t len, const char *path, GError **error)
{
	GError *kerr = NULL;
	struct config_reader r = { .path = path, .error = error };
	r.kf = g_key_file_new();
	r.cfg = config_new(path);
	if (!g_key_file_load_from_data(r.kf, data, len, G_KEY_FILE_NONE, &kerr)) {
		g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_INVALID, "%s: %s", path, kerr->message);
		g_error_free(kerr);
		r.failed = true;
	} else {
		config_read_groups(&r);
		config_read_store(&r);
		config_read_calendar(&r);
		config_read_intake(&r);
		config_read_limits(&r);
		config_read_smtp(&r);
		config_read_misc(&r);
	}
	g_key_file_unref(r.kf);
	if (r.failed) {
		config_free(r.cfg);
		return NULL;
	}
	return r.cfg;
}

struct config *config_load(const char *path, GError **error)
{
	char *data = NULL;
	size_t len = 0;
	GError *ferr = NULL;
	if (!g_file_get_contents(path, &data, &len, &ferr)) {
		g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_INVALID,
			    "%s: cannot read the configuration: %s", path, ferr->message);
		g_error_free(ferr);
		return NULL;
	}
	struct config *c = config_load_data(data, len, path, error);
	g_free(data);
	return c;
}

const char *config_default_path(const char *arg)
{
	if (arg != NULL)
		return arg;
	const char *env = g_getenv("INTAKE_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	return "config/intake.conf";
}
