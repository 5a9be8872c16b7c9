/* Option parsing, configuration loading and time rendering for the
   subcommands; see cli.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/log.h"
#include "ingest/ingest.h"

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "intake %s: %s\n", cmd, msg);
}

static const struct cli_opt *cli_find(const struct cli_opt *opts, const char *arg)
{
	for (size_t i = 0; opts != NULL && opts[i].name != NULL; i++)
		if (strcmp(opts[i].name, arg) == 0)
			return &opts[i];
	return NULL;
}

int cli_parse(const char *cmd, int argc, char **argv, const struct cli_opt *opts,
	      const char ***args_r, int *nargs_r)
{
	const char **args = g_new0(const char *, (gsize)argc + 1);
	int n = 0;
	for (int i = 1; i < argc; i++) {
		const struct cli_opt *o = argv[i][0] == '-' && argv[i][1] != '\0' ?
			cli_find(opts, argv[i]) : NULL;
		if (o == NULL && argv[i][0] == '-' && argv[i][1] != '\0') {
			cli_error(cmd, "unknown option %s (see intake --help)", argv[i]);
			g_free(args);
			return -1;
		}
		if (o == NULL) {
			args[n++] = argv[i];
		} else if (!o->takes_value) {
			*o->flag = true;
		} else if (i + 1 >= argc) {
			cli_error(cmd, "option %s needs a value", argv[i]);
			g_free(args);
			return -1;
		} else {
			*o->value = argv[++i];
		}
	}
	*args_r = args;
	*nargs_r = n;
	return 0;
}

struct config *cli_config(const char *path)
{
	GError *err = NULL;
	struct config *cfg = config_load(path, &err);
	if (cfg == NULL) {
		fprintf(stderr, "intake: configuration error: %s\n", err->message);
		g_error_free(err);
		return NULL;
	}
	enum log_level level;
	if (log_level_parse(cfg->log_level, &level) == 0)
		log_set_level(level);
	return cfg;
}

static char *cli_format(int64_t t, GTimeZone *tz, const char *fmt)
{
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t);
	g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_timezone(utc, tz) : NULL;
	return local != NULL ? g_date_time_format(local, fmt) : g_strdup("?");
}

char *cli_time_rfc3339(int64_t t, GTimeZone *tz)
{
	return cli_format(t, tz, "%Y-%m-%dT%H:%M:%S%:z");
}

char *cli_time_human(int64_t t, GTimeZone *tz)
{
	return cli_format(t, tz, "%Y-%m-%d %H:%M %a");
}

struct ingest *cli_ingest_open(const struct config *cfg)
{
	GError *err = NULL;
	struct ingest *in = ingest_open(cfg, &err);
	if (in == NULL) {
		fprintf(stderr, "intake: %s\n", err->message);
		g_error_free(err);
	}
	return in;
}

/* GLib wants seconds in ISO 8601 times; people write "16:00". Inserts ":00"
   after an HH:MM that ends the string or is followed by a zone. */
static char *cli_time_add_seconds(const char *s)
{
	const char *t = strchr(s, 'T');
	if (t == NULL || strlen(t) < 6 || t[3] != ':')
		return g_strdup(s);
	const char *rest = t + 6;
	if (*rest != '\0' && *rest != '+' && *rest != '-' && *rest != 'Z' && *rest != 'z')
		return g_strdup(s);
	return g_strdup_printf("%.*s:00%s", (int)(rest - s), s, rest);
}

GDateTime *cli_parse_time(const char *text, GTimeZone *tz)
{
	g_autofree char *s = g_strdup(text);
	g_strdelimit(s, " ", 'T');
	if (strlen(s) == 10) {
		g_autofree char *full = g_strconcat(s, "T00:00:00", NULL);
		return g_date_time_new_from_iso8601(full, tz);
	}
	g_autofree char *full = cli_time_add_seconds(s);
	return g_date_time_new_from_iso8601(full, tz);
}

int64_t cli_now(void)
{
	const char *fake = g_getenv("INTAKE_NOW");
	if (fake == NULL || *fake == '\0')
		return g_get_real_time() / G_USEC_PER_SEC;
	g_autoptr(GTimeZone) tz = g_time_zone_new_local();
	g_autoptr(GDateTime) t = cli_parse_time(fake, tz);
	if (t == NULL) {
		fprintf(stderr, "intake: $INTAKE_NOW \"%s\": expected an RFC 3339 time such as "
			"2026-10-09T10:00:00+08:00; using the real time\n", fake);
		return g_get_real_time() / G_USEC_PER_SEC;
	}
	return g_date_time_to_unix(t);
}

void cli_json_time(struct json *j, const char *key, int64_t t, GTimeZone *tz)
{
	json_key(j, key);
	if (t == 0) {
		json_null(j);
		return;
	}
	g_autofree char *s = cli_time_rfc3339(t, tz);
	json_string(j, s);
}
