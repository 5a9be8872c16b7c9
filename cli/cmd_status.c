/* intake status [--json]: per source (mailbox, drop folder) its state, last
   successful poll, last error, messages ingested, backlog, and for mailboxes
   UIDVALIDITY and the last UID done; then the outbox (notices pending, sent,
   failed, rendered for the post: failed ones need a person) and a full
   disk. Reads the store only. */
#include <stdio.h>
#include <sys/statvfs.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "store/store.h"

/* The configured sections first (in file order), then any other known row. */
static GPtrArray *status_rows(const struct config *cfg, GPtrArray *stored)
{
	GPtrArray *rows = g_ptr_array_new();
	for (guint i = 0; i < cfg->imap->len; i++) {
		const struct config_imap *m = cfg->imap->pdata[i];
		g_autofree char *section = g_strdup_printf("imap %s", m->name);
		struct store_source_state *found = NULL;
		for (guint k = 0; k < stored->len && found == NULL; k++)
			if (strcmp(((struct store_source_state *)stored->pdata[k])->name, section) == 0)
				found = stored->pdata[k];
		if (found == NULL) {
			found = g_new0(struct store_source_state, 1);
			found->name = g_steal_pointer(&section);
			found->kind = g_strdup("imap");
			found->state = g_strdup("never_polled");
			g_ptr_array_add(stored, found);
		}
		g_ptr_array_add(rows, found);
	}
	for (guint k = 0; k < stored->len; k++)
		if (!g_ptr_array_find(rows, stored->pdata[k], NULL))
			g_ptr_array_add(rows, stored->pdata[k]);
	return rows;
}

static const char *status_short_name(const struct store_source_state *s)
{
	const char *sp = strchr(s->name, ' ');
	return sp != NULL ? sp + 1 : s->name;
}

static void status_json_time(struct json *j, const char *key, int64_t t, GTimeZone *tz)
{
	g_autofree char *s = t != 0 ? cli_time_rfc3339(t, tz) : NULL;
	json_kv_string(j, key, s);
}

static void status_json_one(struct json *j, const struct store_source_state *s, GTimeZone *tz,
			    bool configured)
{
	json_begin_object(j);
	json_kv_string(j, "name", status_short_name(s));
	json_kv_string(j, "kind", s->kind);
	json_kv_string(j, "section", s->name);
	json_kv_bool(j, "configured", configured);
	json_kv_string(j, "state", s->state);
	status_json_time(j, "last_poll_at", s->last_poll_at, tz);
	status_json_time(j, "last_ok_at", s->last_ok_at, tz);
	json_kv_string(j, "last_error", s->last_error);
	status_json_time(j, "last_error_at", s->last_error_at, tz);
	json_kv_int(j, "ingested", s->ingested);
	json_kv_int(j, "backlog", s->backlog);
	json_key(j, "uidvalidity");
	if (s->uidvalidity != 0)
		json_int(j, s->uidvalidity);
	else
		json_null(j);
	json_kv_int(j, "last_uid", s->last_uid);
	json_end_object(j);
}

static void status_text_one(const struct store_source_state *s, GTimeZone *tz, bool configured)
{
	g_autofree char *ok = s->last_ok_at != 0 ? cli_time_human(s->last_ok_at, tz) : g_strdup("never");
	printf("%-24s %-13s last ok %s; %" G_GINT64_FORMAT " ingested, %" G_GINT64_FORMAT
	       " waiting%s\n", s->name, s->state, ok, s->ingested, s->backlog,
	       configured ? "" : " (no longer configured)");
	if (strcmp(s->kind, "imap") == 0 && s->uidvalidity != 0)
		printf("    UIDVALIDITY %" G_GINT64_FORMAT ", last UID %" G_GINT64_FORMAT "\n",
		       s->uidvalidity, s->last_uid);
	if (s->last_error != NULL) {
		g_autofree char *at = cli_time_human(s->last_error_at, tz);
		printf("    last error %s: %s\n", at, s->last_error);
	}
}

/* Below this much free space the store and spool count as full: a
   message, its attachments and the commit no longer fit. */
#define STATUS_FULL_BYTES (1u << 20)

/* Free bytes on the file system holding path, or -1 if unknown. */
static int64_t status_free_bytes(const char *path)
{
	struct statvfs sv;
	g_autofree char *dir = g_path_get_dirname(path);
	if (statvfs(path, &sv) < 0 && statvfs(dir, &sv) < 0)
		return -1;
	return (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
}

/* The store and the spool: a full disk stops every source, and the sources'
   own state cannot be saved then, so it is told here. */
static void status_disk(const struct config *cfg, struct json *j)
{
	const char *paths[2] = { cfg->store_path, cfg->spool_path };
	const char *names[2] = { "store", "spool" };
	if (j != NULL) {
		json_key(j, "disk");
		json_begin_array(j);
	}
	for (int i = 0; i < 2; i++) {
		int64_t free_b = status_free_bytes(paths[i]);
		bool full = free_b >= 0 && free_b < STATUS_FULL_BYTES;
		if (j != NULL) {
			json_begin_object(j);
			json_kv_string(j, "name", names[i]);
			json_kv_string(j, "path", paths[i]);
			json_kv_int(j, "free_bytes", free_b);
			json_kv_bool(j, "full", full);
			json_end_object(j);
		} else if (full) {
			printf("%-24s %-13s %s: disk is full (No space left on device: %" G_GINT64_FORMAT
			       " KiB free): nothing new can be stored until space is freed\n",
			       names[i], "DISK FULL", paths[i], free_b / 1024);
		}
	}
	if (j != NULL)
		json_end_array(j);
}

/* The notices: one line, FAILED when some were given up on after their
   last try (they reach nobody until requeued). */
static void status_outbox(const struct store_outbox_counts *c, struct json *j)
{
	if (j != NULL) {
		json_key(j, "outbox");
		json_begin_object(j);
		json_kv_int(j, "pending", c->pending);
		json_kv_int(j, "sent", c->sent);
		json_kv_int(j, "failed", c->failed);
		json_kv_int(j, "print", c->print);
		json_end_object(j);
		return;
	}
	printf("%-24s %-13s %" G_GINT64_FORMAT " pending, %" G_GINT64_FORMAT " sent, %"
	       G_GINT64_FORMAT " %s, %" G_GINT64_FORMAT " rendered for the post%s\n", "outbox",
	       c->failed > 0 ? "FAILED" : "ok", (gint64)c->pending, (gint64)c->sent,
	       (gint64)c->failed, c->failed > 0 ? "FAILED" : "failed", (gint64)c->print,
	       c->failed > 0 ? " (see intake outbox; requeue with intake outbox retry ID)" : "");
}

static int status_print(const struct config *cfg, GPtrArray *rows,
			const struct store_outbox_counts *outbox, bool json)
{
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(cfg->timezone);
	if (tz == NULL)
		tz = g_time_zone_new_local();
	struct json *j = json ? json_new(true) : NULL;
	if (j != NULL) {
		json_begin_object(j);
		json_key(j, "sources");
		json_begin_array(j);
	} else if (rows->len == 0) {
		printf("no sources configured\n");
	}
	for (guint i = 0; i < rows->len; i++) {
		const struct store_source_state *s = rows->pdata[i];
		bool configured = i < cfg->imap->len;
		if (j != NULL)
			status_json_one(j, s, tz, configured);
		else
			status_text_one(s, tz, configured);
	}
	if (j != NULL)
		json_end_array(j);
	status_outbox(outbox, j);
	status_disk(cfg, j);
	if (j != NULL) {
		json_end_object(j);
		g_autofree char *out = json_finish(j);
		puts(out);
	}
	return CLI_OK;
}

int cmd_status(const char *cfg_path, int argc, char **argv)
{
	bool json = false;
	const struct cli_opt opts[] = { { "--json", false, &json, NULL }, { 0 } };
	const char **args = NULL;
	int n = 0;
	if (cli_parse("status", argc, argv, opts, &args, &n) < 0)
		return CLI_USAGE;
	g_free(args);
	if (n != 0) {
		cli_error("status", "takes no arguments besides --json");
		return CLI_USAGE;
	}
	struct config *cfg = cli_config(cfg_path);
	if (cfg == NULL)
		return CLI_USAGE;
	GError *err = NULL;
	struct store *st = store_open(cfg->store_path, &err);
	GPtrArray *stored = st != NULL ? store_source_state_list(st, &err) : NULL;
	struct store_outbox_counts outbox;
	int rc = CLI_FAIL;
	if (stored != NULL && store_outbox_count(st, &outbox, &err) == 0) {
		GPtrArray *rows = status_rows(cfg, stored);
		rc = status_print(cfg, rows, &outbox, json);
		g_ptr_array_unref(rows);
	} else {
		cli_error("status", "%s", err->message);
		g_error_free(err);
	}
	if (stored != NULL)
		g_ptr_array_unref(stored);
	store_free(st);
	config_free(cfg);
	return rc;
}
