/* intake outbox [--json]: the notices and their delivery state;
   intake outbox retry ID: requeue a failed one; intake outbox drain: send
   what is due now (for cron; `intake run` drains by itself). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "ingest/ingest.h"
#include "notify/notify.h"

static void outbox_json_row(struct json *j, const struct store_outbox_row *r, GTimeZone *tz)
{
	json_begin_object(j);
	json_kv_int(j, "id", r->id);
	json_kv_string(j, "ref", r->ref);
	json_kv_string(j, "kind", r->kind);
	json_kv_string(j, "channel", r->recipient != NULL ? "email" : "post");
	json_kv_string(j, "recipient", r->recipient);
	json_kv_string(j, "state", r->state);
	json_kv_int(j, "attempts", r->attempts);
	cli_json_time(j, "next_attempt_at", strcmp(r->state, "pending") == 0 ?
			 r->next_attempt_at : 0, tz);
	json_kv_string(j, "last_error", r->last_error);
	cli_json_time(j, "created_at", r->created_at, tz);
	cli_json_time(j, "sent_at", r->sent_at, tz);
	json_kv_string(j, "message_id", r->message_id);
	json_kv_string(j, "subject", r->subject);
	json_kv_string(j, "print_path", r->print_path);
	json_end_object(j);
}

static void outbox_print_json(GPtrArray *rows, const struct store_outbox_counts *c,
			      GTimeZone *tz)
{
	struct json *j = json_new(true);
	json_begin_object(j);
	json_key(j, "counts");
	json_begin_object(j);
	json_kv_int(j, "pending", c->pending);
	json_kv_int(j, "sent", c->sent);
	json_kv_int(j, "failed", c->failed);
	json_kv_int(j, "print", c->print);
	json_end_object(j);
	json_key(j, "notices");
	json_begin_array(j);
	for (guint i = 0; i < rows->len; i++)
		outbox_json_row(j, rows->pdata[i], tz);
	json_end_array(j);
	json_end_object(j);
	g_autofree char *out = json_finish(j);
	puts(out);
}

static void outbox_print_text(GPtrArray *rows, const struct store_outbox_counts *c,
			      GTimeZone *tz)
{
	printf("%" G_GINT64_FORMAT " pending, %" G_GINT64_FORMAT " sent, %" G_GINT64_FORMAT
	       " FAILED, %" G_GINT64_FORMAT " rendered for the post\n", (gint64)c->pending,
	       (gint64)c->sent, (gint64)c->failed, (gint64)c->print);
	for (guint i = 0; i < rows->len; i++) {
		const struct store_outbox_row *r = rows->pdata[i];
		g_autofree char *created = cli_time_human(r->created_at, tz);
		printf("#%-5" G_GINT64_FORMAT " %-8s %-15s %s  %s  %d attempt%s  %s\n", (gint64)r->id,
		       strcmp(r->state, "failed") == 0 ? "FAILED" : r->state, r->kind,
		       r->ref != NULL ? r->ref : "-", r->recipient != NULL ? r->recipient : "post",
		       r->attempts, r->attempts == 1 ? "" : "s", created);
		if (strcmp(r->state, "pending") == 0 && r->attempts > 0) {
			g_autofree char *next = cli_time_human(r->next_attempt_at, tz);
			printf("       next attempt %s\n", next);
		}
		if (r->last_error != NULL && strcmp(r->state, "sent") != 0)
			printf("       last error: %s\n", r->last_error);
		if (r->print_path != NULL)
			printf("       file: %s\n", r->print_path);
	}
}

static int outbox_list(struct ingest *in, bool json)
{
	GError *err = NULL;
	struct store_outbox_counts c;
	GPtrArray *rows = store_outbox_list(ingest_store(in), NULL, &err);
	if (rows == NULL || store_outbox_count(ingest_store(in), &c, &err) < 0) {
		cli_error("outbox", "%s", err->message);
		g_error_free(err);
		if (rows != NULL)
			g_ptr_array_unref(rows);
		return CLI_FAIL;
	}
	if (json)
		outbox_print_json(rows, &c, ingest_timezone(in));
	else
		outbox_print_text(rows, &c, ingest_timezone(in));
	g_ptr_array_unref(rows);
	return CLI_OK;
}

static int outbox_retry(struct ingest *in, const char *id_text, const char *by)
{
	char *end = NULL;
	long long id = strtoll(id_text, &end, 10);
	if (end == id_text || *end != '\0' || id <= 0) {
		cli_error("outbox", "retry \"%s\": expected the number of a notice (intake outbox)",
			  id_text);
		return CLI_USAGE;
	}
	GError *err = NULL;
	const char *actor = by != NULL ? by : g_get_user_name();
	if (store_outbox_requeue(ingest_store(in), id, actor, g_get_real_time() / G_USEC_PER_SEC,
				 &err) < 0) {
		cli_error("outbox", "%s", err->message);
		int rc = g_error_matches(err, STORE_ERROR, STORE_ERROR_DB) ? CLI_FAIL : CLI_USAGE;
		g_error_free(err);
		return rc;
	}
	printf("notice #%lld requeued: it goes with the next drain\n", id);
	return CLI_OK;
}

static int outbox_drain(struct ingest *in, const struct config *cfg)
{
	GError *err = NULL;
	struct notify_drain_stats s;
	if (notify_drain(ingest_store(in), cfg, &s, &err) < 0) {
		cli_error("outbox", "%s", err->message);
		g_error_free(err);
		return CLI_FAIL;
	}
	printf("outbox: %u sent, %u to retry, %u failed, %u rendered for the post\n", s.sent,
	       s.retry, s.failed, s.printed);
	return CLI_OK;
}

static int outbox_run(const struct config *cfg, const char *const *args, int n, bool json,
		      const char *by)
{
	struct ingest *in = cli_ingest_open(cfg);
	if (in == NULL)
		return CLI_FAIL;
	int rc;
	if (n == 0)
		rc = outbox_list(in, json);
	else if (strcmp(args[0], "retry") == 0)
		rc = outbox_retry(in, args[1], by);
	else
		rc = outbox_drain(in, cfg);
	ingest_free(in);
	return rc;
}

int cmd_outbox(const char *cfg_path, int argc, char **argv)
{
	bool json = false;
	const char *by = NULL;
	const struct cli_opt opts[] = { { "--json", false, &json, NULL },
					{ "--by", true, NULL, &by }, { 0 } };
	const char **args = NULL;
	int n = 0;
	if (cli_parse("outbox", argc, argv, opts, &args, &n) < 0)
		return CLI_USAGE;
	g_autofree const char **owned = args;
	bool ok = n == 0 || (n == 2 && strcmp(args[0], "retry") == 0) ||
		  (n == 1 && strcmp(args[0], "drain") == 0);
	if (!ok) {
		cli_error("outbox", "expected no argument (list), \"retry ID\" or \"drain\"");
		return CLI_USAGE;
	}
	struct config *cfg = cli_config(cfg_path);
	if (cfg == NULL)
		return CLI_USAGE;
	int rc = outbox_run(cfg, args, n, json, by);
	config_free(cfg);
	return rc;
}
