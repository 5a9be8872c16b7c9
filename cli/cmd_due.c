/* intake due [--json] RECEIVED_AT: the deadlines of a complaint received then. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/calendar.h"
#include "core/json.h"
#include "ingest/ingest.h"

static char *due_fmt(GDateTime *t, const char *fmt)
{
	return g_date_time_format(t, fmt);
}

static void due_print_json(const struct calendar_deadlines *d)
{
	const char *f = "%Y-%m-%dT%H:%M:%S%:z";
	g_autofree char *r = due_fmt(d->received, f), *a = due_fmt(d->acceptance_due, f);
	g_autofree char *h = due_fmt(d->handling_due, f), *e = due_fmt(d->handling_due_extended, f);
	struct json *j = json_new(true);
	json_begin_object(j);
	json_kv_string(j, "received_at", r);
	json_kv_string(j, "acceptance_due", a);
	json_kv_string(j, "handling_due", h);
	json_kv_string(j, "handling_due_extended", e);
	json_kv_bool(j, "calendar_uncertain", d->uncertain);
	json_end_object(j);
	g_autofree char *out = json_finish(j);
	fputs(out, stdout);
}

static void due_print_text(const struct calendar_deadlines *d, const struct calendar_rules *ru)
{
	const char *f = "%Y-%m-%d %H:%M:%S %:z (%a)";
	g_autofree char *r = due_fmt(d->received, f), *a = due_fmt(d->acceptance_due, f);
	g_autofree char *h = due_fmt(d->handling_due, f), *e = due_fmt(d->handling_due_extended, f);
	printf("received         %s\n", r);
	printf("acceptance due   %s  (%d working days)\n", a, ru->acceptance_days);
	printf("handling due     %s  (%d working days)\n", h, ru->handling_days);
	printf("if extended      %s\n", e);
	if (d->uncertain)
		printf("UNCERTAIN: the calendar does not cover %d; Monday-Friday was assumed\n",
		       d->uncertain_year);
}

static int due_run(const struct config *cfg, const char *when, bool json)
{
	GError *err = NULL;
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(cfg->timezone);
	g_autoptr(GDateTime) t = cli_parse_time(when, tz);
	if (t == NULL) {
		cli_error("due", "\"%s\": expected a time such as 2026-02-13T16:00+08:00", when);
		return CLI_USAGE;
	}
	struct calendar *cal = calendar_load(cfg->calendar_file, &err);
	struct calendar_rules rules;
	struct calendar_deadlines d = { 0 };
	ingest_rules(cfg, &rules);
	if (cal == NULL || calendar_deadlines(cal, &rules, tz, t, &d, &err) < 0) {
		cli_error("due", "%s", err->message);
		g_error_free(err);
		calendar_free(cal);
		return cal == NULL ? CLI_USAGE : CLI_FAIL;
	}
	if (d.uncertain)
		fprintf(stderr, "intake due: warning: %s does not cover %d: deadlines assume "
			"Monday-Friday and are uncertain\n", cfg->calendar_file, d.uncertain_year);
	if (json)
		due_print_json(&d);
	else
		due_print_text(&d, &rules);
	calendar_deadlines_clear(&d);
	calendar_free(cal);
	return CLI_OK;
}

int cmd_due(const char *cfg_path, int argc, char **argv)
{
	bool json = false;
	const struct cli_opt opts[] = { { "--json", false, &json, NULL }, { 0 } };
	const char **args = NULL;
	int n = 0;
	if (cli_parse("due", argc, argv, opts, &args, &n) < 0)
		return CLI_USAGE;
	g_autofree const char **owned = args;
	if (n != 1) {
		cli_error("due", "expected one RECEIVED_AT, such as 2026-02-13T16:00+08:00");
		return CLI_USAGE;
	}
	struct config *cfg = cli_config(cfg_path);
	if (cfg == NULL)
		return CLI_USAGE;
	int rc = due_run(cfg, args[0], json);
	config_free(cfg);
	return rc;
}
