/* The responders' commands: intake drafts (what is due first), intake show
   REF (everything about one complaint), and the decisions accept, reject and
   merge, each recorded with who and when. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/json.h"
#include "core/log.h"
#include "ingest/ingest.h"
#include "notify/notify.h"

/* "OVERDUE by 2 working days", "due today 23:59", "1 working day left". */
static char *review_time_left(struct ingest *in, int64_t due, int64_t now)
{
	GTimeZone *tz = ingest_timezone(in);
	g_autoptr(GDateTime) du = g_date_time_new_from_unix_utc(due);
	g_autoptr(GDateTime) nu = g_date_time_new_from_unix_utc(now);
	g_autoptr(GDateTime) dl = g_date_time_to_timezone(du, tz);
	g_autoptr(GDateTime) nl = g_date_time_to_timezone(nu, tz);
	GDate dd, nd;
	g_date_clear(&dd, 1);
	g_date_clear(&nd, 1);
	g_date_set_dmy(&dd, (GDateDay)g_date_time_get_day_of_month(dl),
		       (GDateMonth)g_date_time_get_month(dl), (GDateYear)g_date_time_get_year(dl));
	g_date_set_dmy(&nd, (GDateDay)g_date_time_get_day_of_month(nl),
		       (GDateMonth)g_date_time_get_month(nl), (GDateYear)g_date_time_get_year(nl));
	int left = calendar_working_days_between(ingest_calendar(in), &nd, &dd, NULL);
	if (now > due) {
		int over = -left;
		if (over <= 0)
			return g_strdup("OVERDUE (today)");
		return g_strdup_printf("OVERDUE by %d working day%s", over, over == 1 ? "" : "s");
	}
	if (left <= 0)
		return g_date_time_format(dl, "due today %H:%M");
	return g_strdup_printf("%d working day%s left", left, left == 1 ? "" : "s");
}

static char *review_accounts_text(const struct store_complaint *c)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < c->accounts->len; i++) {
		const struct store_complaint_account *a = c->accounts->pdata[i];
		g_autofree char *m = log_mask_number(a->value);
		g_string_append_printf(s, "%s%s%s", i ? ", " : "", m, a->in_registry ? "" : " (not in registry)");
	}
	return g_string_free(s, FALSE);
}

static void review_json_accounts(struct json *j, const struct store_complaint *c, bool full)
{
	json_key(j, "accounts");
	json_begin_array(j);
	for (guint i = 0; i < c->accounts->len; i++) {
		const struct store_complaint_account *a = c->accounts->pdata[i];
		g_autofree char *m = log_mask_number(a->value);
		json_begin_object(j);
		json_kv_string(j, "value", full ? a->value : m);
		if (full)
			json_kv_string(j, "context", a->context);
		json_kv_bool(j, "in_registry", a->in_registry);
		json_end_object(j);
	}
	json_end_array(j);
}

/* The fields common to drafts and show. */
static void review_json_summary(struct json *j, struct ingest *in, const struct store_complaint *c,
				int64_t now, bool full)
{
	GTimeZone *tz = ingest_timezone(in);
	g_autofree char *left = review_time_left(in, c->acceptance_due, now);
	g_autofree char *phone = full ? g_strdup(c->phone) : log_mask_number(c->phone);
	json_kv_string(j, "ref", c->ref);
	json_kv_string(j, "channel", c->channel);
	json_kv_string(j, "status", c->status);
	cli_json_time(j, "received_at", c->received_at, tz);
	cli_json_time(j, "acceptance_due", c->acceptance_due, tz);
	cli_json_time(j, "handling_due", c->handling_due, tz);
	cli_json_time(j, "handling_due_extended", c->handling_due_extended, tz);
	json_kv_bool(j, "calendar_uncertain", c->calendar_uncertain);
	json_kv_string(j, "time_left", strcmp(c->status, "draft") == 0 ? left : NULL);
	json_kv_bool(j, "overdue", strcmp(c->status, "draft") == 0 && now > c->acceptance_due);
	json_key(j, "complainant");
	json_begin_object(j);
	json_kv_string(j, "name", c->name);
	json_kv_string(j, "email", c->email);
	json_kv_string(j, "phone", phone);
	json_end_object(j);
	json_kv_string(j, "subject", c->subject);
	json_kv_bool(j, "major", c->major);
	json_kv_string(j, "notice_by", c->notice_by);
	json_kv_string(j, "possible_duplicate_of", c->possible_duplicate_of);
	review_json_accounts(j, c, full);
}

struct drafts_opts {
	bool json, overdue;
	const char *within, *channel;
};

static void drafts_print_text(struct ingest *in, GPtrArray *list, int64_t now)
{
	GTimeZone *tz = ingest_timezone(in);
	if (list->len == 0) {
		printf("no drafts\n");
		return;
	}
	bool tty = isatty(STDOUT_FILENO);
	for (guint i = 0; i < list->len; i++) {
		const struct store_complaint *c = list->pdata[i];
		g_autofree char *left = review_time_left(in, c->acceptance_due, now);
		g_autofree char *due = cli_time_human(c->acceptance_due, tz);
		g_autofree char *recv = cli_time_human(c->received_at, tz);
		g_autofree char *acc = review_accounts_text(c);
		bool over = now > c->acceptance_due;
		printf("%s%s%s  %-6s %s  %s%s\n", tty && over ? "\033[1;31m" : "", c->ref,
		       tty && over ? "\033[0m" : "", c->channel, left, c->major ? "MAJOR " : "",
		       c->calendar_uncertain ? "(calendar uncertain)" : "");
		printf("    received %s, acceptance due %s\n", recv, due);
		printf("    from %s <%s>\n", c->name != NULL ? c->name : "?",
		       c->email != NULL ? c->email : "");
		if (c->subject != NULL && *c->subject != '\0')
			printf("    subject: %.60s\n", c->subject);
		if (*acc != '\0')
			printf("    accounts: %s\n", acc);
		if (c->possible_duplicate_of != NULL)
			printf("    possible duplicate of %s\n", c->possible_duplicate_of);
	}
}

static void drafts_print_json(struct ingest *in, GPtrArray *list, int64_t now)
{
	struct json *j = json_new(true);
	json_begin_object(j);
	json_key(j, "drafts");
	json_begin_array(j);
	for (guint i = 0; i < list->len; i++) {
		json_begin_object(j);
		review_json_summary(j, in, list->pdata[i], now, false);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
	g_autofree char *out = json_finish(j);
	puts(out);
}

static int drafts_run(struct ingest *in, const struct drafts_opts *o)
{
	GError *err = NULL;
	int64_t now = cli_now(), before = 0;
	uint64_t within = 0;
	if (o->within != NULL && config_parse_duration(o->within, &within) < 0) {
		cli_error("drafts", "--due-within \"%s\": expected a duration such as 2d, 12h, 90m",
			  o->within);
		return CLI_USAGE;
	}
	if (o->within != NULL)
		before = now + (int64_t)within + 1;
	if (o->overdue)
		before = now;
	GPtrArray *list = store_list_drafts(ingest_store(in), o->channel, before, &err);
	if (list == NULL) {
		cli_error("drafts", "%s", err->message);
		g_error_free(err);
		return CLI_FAIL;
	}
	if (o->json)
		drafts_print_json(in, list, now);
	else
		drafts_print_text(in, list, now);
	g_ptr_array_unref(list);
	return CLI_OK;
}

int cmd_drafts(const char *cfg_path, int argc, char **argv)
{
	struct drafts_opts o = { 0 };
	const struct cli_opt opts[] = {
		{ "--json", false, &o.json, NULL }, { "--overdue", false, &o.overdue, NULL },
		{ "--due-within", true, NULL, &o.within }, { "--channel", true, NULL, &o.channel },
		{ 0 } };
	const char **args = NULL;
	int n = 0;
	if (cli_parse("drafts", argc, argv, opts, &args, &n) < 0)
		return CLI_USAGE;
	g_free(args);
	if (n != 0) {
		cli_error("drafts", "takes no arguments besides its options");
		return CLI_USAGE;
	}
	struct config *cfg = cli_config(cfg_path);
	if (cfg == NULL)
		return CLI_USAGE;
	struct ingest *in = cli_ingest_open(cfg);
	int rc = in != NULL ? drafts_run(in, &o) : CLI_FAIL;
	ingest_free(in);
	config_free(cfg);
	return rc;
}

static void show_json_details(struct json *j, const struct store_complaint *c, GTimeZone *tz)
{
	json_kv_string(j, "body", c->body);
	json_kv_string(j, "message_id", c->message_id);
	json_kv_string(j, "reason", c->reason);
	json_kv_string(j, "note", c->note);
	json_kv_string(j, "decided_by", c->decided_by);
	cli_json_time(j, "decided_at", c->decided_at, tz);
	json_kv_string(j, "merged_into", c->merged_into);
	json_key(j, "attachments");
	json_begin_array(j);
	for (guint i = 0; i < c->attachments->len; i++) {
		const struct store_complaint_attachment *a = c->attachments->pdata[i];
		json_begin_object(j);
		json_kv_string(j, "filename", a->filename);
		json_kv_string(j, "declared_type", a->declared_type);
		json_kv_string(j, "detected_type", a->detected_type);
		json_kv_int(j, "size", a->size);
		json_kv_string(j, "sha256", a->sha256);
		json_kv_string(j, "spool_path", a->spool_path);
		json_kv_bool(j, "risky", a->risky);
		json_end_object(j);
	}
	json_end_array(j);
	json_key(j, "sources");
	json_begin_array(j);
	for (guint i = 0; i < c->sources->len; i++) {
		const struct store_complaint_source *s = c->sources->pdata[i];
		json_begin_object(j);
		json_kv_string(j, "kind", s->kind);
		json_kv_string(j, "origin", s->origin);
		json_kv_string(j, "sha256", s->sha256);
		json_kv_string(j, "spool_path", s->spool_path);
		cli_json_time(j, "received_at", s->received_at, tz);
		json_kv_string(j, "note", s->note);
		json_end_object(j);
	}
	json_end_array(j);
	json_key(j, "events");
	json_begin_array(j);
	for (guint i = 0; i < c->events->len; i++) {
		const struct store_event *e = c->events->pdata[i];
		json_begin_object(j);
		cli_json_time(j, "at", e->at, tz);
		json_kv_string(j, "actor", e->actor);
		json_kv_string(j, "kind", e->kind);
		json_kv_string(j, "detail", e->detail);
		json_end_object(j);
	}
	json_end_array(j);
}

static void show_print_text(struct ingest *in, const struct store_complaint *c, int64_t now)
{
	GTimeZone *tz = ingest_timezone(in);
	g_autofree char *recv = cli_time_human(c->received_at, tz);
	g_autofree char *acc_due = cli_time_human(c->acceptance_due, tz);
	g_autofree char *hand = cli_time_human(c->handling_due, tz);
	g_autofree char *left = review_time_left(in, c->acceptance_due, now);
	g_autofree char *acc = review_accounts_text(c);
	g_autofree char *phone = log_mask_number(c->phone);
	printf("%s  %s  %s%s\n", c->ref, c->channel, c->status, c->major ? "  MAJOR" : "");
	printf("received         %s\n", recv);
	printf("acceptance due   %s%s%s\n", acc_due, strcmp(c->status, "draft") == 0 ? "  " : "",
	       strcmp(c->status, "draft") == 0 ? left : "");
	printf("handling due     %s\n", hand);
	printf("complainant      %s <%s> %s\n", c->name ? c->name : "?", c->email ? c->email : "",
	       phone ? phone : "");
	printf("subject          %s\n", c->subject ? c->subject : "");
	printf("accounts         %s\n", acc);
	if (c->reason != NULL)
		printf("reason           %s%s%s\n", c->reason, c->note ? ": " : "", c->note ? c->note : "");
	if (c->merged_into != NULL)
		printf("merged into      %s\n", c->merged_into);
	if (c->possible_duplicate_of != NULL)
		printf("possible dup. of %s (closely matches it; a suggestion)\n",
		       c->possible_duplicate_of);
	printf("notices by       %s\n", c->notice_by != NULL ? c->notice_by : "email");
	for (guint i = 0; i < c->attachments->len; i++) {
		const struct store_complaint_attachment *a = c->attachments->pdata[i];
		printf("attachment       %s (%s, %" G_GINT64_FORMAT " bytes)%s spool %s\n", a->filename,
		       a->detected_type, a->size, a->risky ? " RISKY" : "", a->spool_path);
	}
	for (guint i = 0; i < c->sources->len; i++) {
		const struct store_complaint_source *s = c->sources->pdata[i];
		printf("source           %s %s\n", s->origin, s->spool_path);
		if (s->note != NULL && *s->note != '\0')
			printf("note             %s\n", s->note);
	}
	for (guint i = 0; i < c->events->len; i++) {
		const struct store_event *e = c->events->pdata[i];
		g_autofree char *at = cli_time_human(e->at, tz);
		printf("event            %s %s %s %s\n", at, e->actor, e->kind, e->detail ? e->detail : "");
	}
	g_autofree char *body = log_mask_text(c->body != NULL ? c->body : "", 8);
	printf("\n%s\n", body);
}

static int show_run(struct ingest *in, const char *ref, bool json)
{
	GError *err = NULL;
	struct store_complaint *c = store_get(ingest_store(in), ref, &err);
	if (c == NULL) {
		cli_error("show", "%s", err->message);
		int rc = g_error_matches(err, STORE_ERROR, STORE_ERROR_NOT_FOUND) ? CLI_USAGE : CLI_FAIL;
		g_error_free(err);
		return rc;
	}
	int64_t now = cli_now();
	if (json) {
		struct json *j = json_new(true);
		json_begin_object(j);
		review_json_summary(j, in, c, now, true);
		show_json_details(j, c, ingest_timezone(in));
		json_end_object(j);
		g_autofree char *out = json_finish(j);
		puts(out);
	} else {
		show_print_text(in, c, now);
	}
	store_complaint_free(c);
	return CLI_OK;
}

int cmd_show(const char *cfg_path, int argc, char **argv)
{
	bool json = false;
	const struct cli_opt opts[] = { { "--json", false, &json, NULL }, { 0 } };
	const char **args = NULL;
	int n = 0;
	if (cli_parse("show", argc, argv, opts, &args, &n) < 0)
		return CLI_USAGE;
	g_autofree const char **owned = args;
	if (n != 1) {
		cli_error("show", "expected one REF, such as TS20261123-0007");
		return CLI_USAGE;
	}
	struct config *cfg = cli_config(cfg_path);
	if (cfg == NULL)
		return CLI_USAGE;
	struct ingest *in = cli_ingest_open(cfg);
	int rc = in != NULL ? show_run(in, args[0], json) : CLI_FAIL;
	ingest_free(in);
	config_free(cfg);
	return rc;
}

/* The responder: --by, else the login name. */
static const char *review_actor(const char *by)
{
	if (by != NULL && *by != '\0')
		return by;
	const char *user = g_get_user_name();
	return user != NULL ? user : "unknown";
}

static int decide_run(const char *cmd, const char *cfg_path, const char *ref,
		      struct store_decision *dec)
{
	struct config *cfg = cli_config(cfg_path);
	if (cfg == NULL)
		return CLI_USAGE;
	struct ingest *in = cli_ingest_open(cfg);
	int rc = CLI_FAIL;
	GError *err = NULL;
	dec->at = g_get_real_time() / G_USEC_PER_SEC;
	/* the notice is rendered now and queued in the decision's transaction */
	struct notify_notice *notice = in != NULL ?
		notify_decision(ingest_notify(in), ingest_store(in), ref, dec) : NULL;
	dec->notice = notify_notice_get(notice);
	if (in != NULL && store_decide(ingest_store(in), ref, dec, &err) == 0) {
		printf("%s: %s by %s\n", ref, dec->status, dec->actor);
		rc = CLI_OK;
	} else if (in != NULL) {
		cli_error(cmd, "%s", err->message);
		rc = g_error_matches(err, STORE_ERROR, STORE_ERROR_NOT_FOUND) ||
		     g_error_matches(err, STORE_ERROR, STORE_ERROR_INVALID) ? CLI_USAGE : CLI_FAIL;
		g_error_free(err);
	}
	notify_notice_free(notice);
	ingest_free(in);
	config_free(cfg);
	return rc;
}

/* accept, reject and merge share their options. */
struct decide_opts { const char *by, *note, *reason, *into; };

static int decide_parse(const char *cmd, int argc, char **argv, struct decide_opts *o,
			const char **ref_r)
{
	const struct cli_opt opts[] = {
		{ "--by", true, NULL, &o->by }, { "--note", true, NULL, &o->note },
		{ "--reason", true, NULL, &o->reason }, { "--into", true, NULL, &o->into }, { 0 } };
	const char **args = NULL;
	int n = 0;
	if (cli_parse(cmd, argc, argv, opts, &args, &n) < 0)
		return -1;
	*ref_r = n == 1 ? args[0] : NULL;
	g_free(args);
	if (n != 1) {
		cli_error(cmd, "expected one REF, such as TS20261123-0007");
		return -1;
	}
	return 0;
}

int cmd_accept(const char *cfg_path, int argc, char **argv)
{
	struct decide_opts o = { 0 };
	const char *ref = NULL;
	if (decide_parse("accept", argc, argv, &o, &ref) < 0)
		return CLI_USAGE;
	if (o.reason != NULL || o.into != NULL) {
		cli_error("accept", "--reason and --into belong to reject and merge");
		return CLI_USAGE;
	}
	struct store_decision dec = { .status = "accepted", .note = o.note,
				      .actor = review_actor(o.by) };
	return decide_run("accept", cfg_path, ref, &dec);
}

int cmd_reject(const char *cfg_path, int argc, char **argv)
{
	struct decide_opts o = { 0 };
	const char *ref = NULL;
	if (decide_parse("reject", argc, argv, &o, &ref) < 0)
		return CLI_USAGE;
	if (o.reason == NULL) {
		cli_error("reject", "--reason CODE is required: not_customer, agent_unauthorized, "
			  "duplicate, in_proceedings, no_substance, incomplete, other (with --note)");
		return CLI_USAGE;
	}
	struct store_decision dec = { .status = "not_accepted", .reason = o.reason,
				      .note = o.note, .actor = review_actor(o.by) };
	return decide_run("reject", cfg_path, ref, &dec);
}

int cmd_merge(const char *cfg_path, int argc, char **argv)
{
	struct decide_opts o = { 0 };
	const char *ref = NULL;
	if (decide_parse("merge", argc, argv, &o, &ref) < 0)
		return CLI_USAGE;
	if (o.into == NULL) {
		cli_error("merge", "--into REF is required");
		return CLI_USAGE;
	}
	struct store_decision dec = { .status = "merged", .merged_into = o.into, .note = o.note,
				      .actor = review_actor(o.by) };
	return decide_run("merge", cfg_path, ref, &dec);
}
