/* intake export ledger [--from DATE] [--to DATE] [--format csv|json]: the
   complaint ledger (客户投诉登记台账, seed 002 附件3) with its ten columns,
   then the reference, channel, acceptance decision and its dates. CSV is
   UTF-8 with a byte order mark, RFC 4180 quoting and CRLF rows, as Excel
   expects. The ledger is an internal regulated record: it carries full
   account numbers and names, unmasked.

   SECURITY: names, subjects and bodies come from complainants. A CSV cell
   that begins with = + - @ (or a tab or CR) is a formula to a spreadsheet
   ("CSV injection"), so such a cell is written with a leading apostrophe. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "ingest/ingest.h"
#include "store/store.h"

/* The facts column falls back to the complaint's text, cut to this many
   characters (an Excel cell holds at most 32767). */
#define EXPORT_FACTS_MAX 1000

static const char *const export_header[] = {
	"序号", "投诉日期", "资产账号", "客户姓名", "投诉对象", "主要事实和理由", "投诉诉求",
	"投诉结果", "是否归档", "备注", "投诉编号", "投诉方式", "受理决定", "决定时间",
	"决定人", "受理期限", NULL };

/* The same columns in --format json. */
static const char *const export_keys[] = {
	"seq", "complaint_date", "accounts", "customer_name", "respondent", "facts", "request",
	"result", "archived", "remarks", "ref", "channel", "acceptance_decision", "decided_at",
	"decided_by", "acceptance_due", NULL };

enum { EXPORT_N_COLUMNS = 16 };

static const char *export_reason_text(const char *code)
{
	static const char *const map[][2] = {
		{ "not_customer", "客户非公司客户" },
		{ "agent_unauthorized", "代理人未取得委托授权" },
		{ "duplicate", "重复投诉" },
		{ "in_proceedings", "已进入调解、仲裁、诉讼程序" },
		{ "no_substance", "恶意攻击、骚扰或无实质诉求" },
		{ "incomplete", "投诉内容不全且拒绝补正" },
		{ "other", "其他" } };
	for (size_t i = 0; code != NULL && i < G_N_ELEMENTS(map); i++)
		if (strcmp(map[i][0], code) == 0)
			return map[i][1];
	return code != NULL ? code : "";
}

static const char *export_channel_text(const char *channel)
{
	if (strcmp(channel, "email") == 0)
		return "邮件";
	if (strcmp(channel, "letter") == 0)
		return "信函";
	return strcmp(channel, "fax") == 0 ? "传真" : channel;
}

/* 受理决定: "待受理", "受理", "不予受理：客户非公司客户", "合并至 TS...". */
static char *export_decision(const struct store_ledger_row *r)
{
	if (strcmp(r->status, "accepted") == 0)
		return g_strdup("受理");
	if (strcmp(r->status, "not_accepted") == 0)
		return g_strdup_printf("不予受理：%s", export_reason_text(r->reason));
	if (strcmp(r->status, "merged") == 0)
		return g_strdup_printf("合并至 %s", r->merged_into != NULL ? r->merged_into : "?");
	return g_strdup("待受理");
}

/* 投诉结果: as edited; else what the decision already settles ("" for a draft). */
static char *export_result(const struct store_ledger_row *r)
{
	if (r->review.result != NULL)
		return g_strdup(r->review.result);
	if (strcmp(r->status, "not_accepted") == 0)
		return g_strdup("不予受理");
	if (strcmp(r->status, "merged") == 0)
		return g_strdup_printf("并入 %s 处理", r->merged_into != NULL ? r->merged_into : "?");
	return g_strdup(strcmp(r->status, "accepted") == 0 ? "处理中" : "");
}

/* 主要事实和理由: as edited; else the complaint's text, trimmed and cut. */
static char *export_facts(const struct store_ledger_row *r)
{
	if (r->review.facts != NULL)
		return g_strdup(r->review.facts);
	g_autofree char *text = g_strstrip(g_strdup(r->body != NULL ? r->body :
						    r->subject != NULL ? r->subject : ""));
	if (g_utf8_strlen(text, -1) <= EXPORT_FACTS_MAX)
		return g_steal_pointer(&text);
	g_autofree char *cut = g_utf8_substring(text, 0, EXPORT_FACTS_MAX);
	return g_strconcat(cut, "…", NULL);
}

/* 备注: major, the decision's note, the remarks. */
static char *export_remarks(const struct store_ledger_row *r)
{
	GPtrArray *parts = g_ptr_array_new();
	if (r->major)
		g_ptr_array_add(parts, (char *)"重大投诉");
	if (r->note != NULL && *r->note != '\0')
		g_ptr_array_add(parts, r->note);
	if (r->review.remarks != NULL)
		g_ptr_array_add(parts, r->review.remarks);
	g_ptr_array_add(parts, NULL);
	char *s = g_strjoinv("；", (char **)parts->pdata);
	g_ptr_array_free(parts, TRUE);
	return s;
}

static char *export_time(int64_t t, GTimeZone *tz, const char *fmt)
{
	if (t == 0)
		return g_strdup("");
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t);
	g_autoptr(GDateTime) local = g_date_time_to_timezone(utc, tz);
	return g_date_time_format(local, fmt);
}

/* The cells of one row, in the order of export_header (NULL-terminated). */
static char **export_cells(const struct store_ledger_row *r, guint seq, GTimeZone *tz)
{
	char **c = g_new0(char *, EXPORT_N_COLUMNS + 1);
	c[0] = g_strdup_printf("%u", seq);
	c[1] = export_time(r->received_at, tz, "%Y-%m-%d");
	c[2] = g_strjoinv("、", r->accounts);
	c[3] = g_strdup(r->name != NULL ? r->name : "");
	c[4] = g_strdup(r->review.respondent != NULL ? r->review.respondent : "");
	c[5] = export_facts(r);
	c[6] = g_strdup(r->review.request != NULL ? r->review.request : "");
	c[7] = export_result(r);
	c[8] = g_strdup(r->review.archived ? "是" : "否");
	c[9] = export_remarks(r);
	c[10] = g_strdup(r->ref);
	c[11] = g_strdup(export_channel_text(r->channel));
	c[12] = export_decision(r);
	c[13] = export_time(r->decided_at, tz, "%Y-%m-%d %H:%M");
	c[14] = g_strdup(r->decided_by != NULL ? r->decided_by : "");
	c[15] = export_time(r->acceptance_due, tz, "%Y-%m-%d %H:%M");
	return c;
}

/* One CSV cell: formulas neutralised, CR LF as LF, quoted when needed. */
static void export_csv_cell(GString *out, const char *cell)
{
	bool formula = cell[0] != '\0' && strchr("=+-@\t\r", cell[0]) != NULL;
	bool quote = formula || strpbrk(cell, ",\"\r\n") != NULL || g_ascii_isspace(cell[0]);
	if (quote)
		g_string_append_c(out, '"');
	if (formula)
		g_string_append_c(out, '\'');
	for (const char *p = cell; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *p);
	}
	if (quote)
		g_string_append_c(out, '"');
}

static void export_csv_row(GString *out, const char *const *cells)
{
	for (size_t i = 0; cells[i] != NULL; i++) {
		if (i > 0)
			g_string_append_c(out, ',');
		export_csv_cell(out, cells[i]);
	}
	g_string_append(out, "\r\n");
}

static GString *export_csv(GPtrArray *rows, GTimeZone *tz)
{
	GString *out = g_string_new("\xEF\xBB\xBF");
	export_csv_row(out, export_header);
	for (guint i = 0; i < rows->len; i++) {
		g_auto(GStrv) cells = export_cells(rows->pdata[i], i + 1, tz);
		export_csv_row(out, (const char *const *)cells);
	}
	return out;
}

/* One row: the ledger's cells under snake_case keys, with the accounts as
   an array, 是否归档 as a boolean, times in RFC 3339 and the codes. */
static void export_json_row(struct json *j, const struct store_ledger_row *r, guint seq,
			    GTimeZone *tz)
{
	g_auto(GStrv) cells = export_cells(r, seq, tz);
	json_begin_object(j);
	json_kv_int(j, export_keys[0], seq);
	for (size_t i = 1; i < EXPORT_N_COLUMNS; i++) {
		if (i == 2) {
			json_key(j, export_keys[i]);
			json_begin_array(j);
			for (char **a = r->accounts; *a != NULL; a++)
				json_string(j, *a);
			json_end_array(j);
		} else if (i == 8) {
			json_kv_bool(j, export_keys[i], r->review.archived);
		} else if (i == 11) {
			json_kv_string(j, export_keys[i], r->channel);
		} else if (i == 13 || i == 15) {
			cli_json_time(j, export_keys[i], i == 13 ? r->decided_at : r->acceptance_due, tz);
		} else if (i == 14) {
			json_kv_string(j, export_keys[i], r->decided_by);
		} else {
			json_kv_string(j, export_keys[i], cells[i]);
		}
	}
	json_kv_string(j, "status", r->status);
	json_kv_string(j, "reason", r->reason);
	json_kv_string(j, "merged_into", r->merged_into);
	cli_json_time(j, "received_at", r->received_at, tz);
	json_end_object(j);
}

static GString *export_json(GPtrArray *rows, GTimeZone *tz)
{
	struct json *j = json_new(true);
	json_begin_object(j);
	json_key(j, "ledger");
	json_begin_array(j);
	for (guint i = 0; i < rows->len; i++)
		export_json_row(j, rows->pdata[i], i + 1, tz);
	json_end_array(j);
	json_end_object(j);
	char *s = json_finish(j);
	GString *out = g_string_new(s);
	g_free(s);
	return out;
}

struct export_opts { const char *from, *to, *format; };

/* A --from or --to bound: a date is its whole day (--to includes it). */
static int export_bound(const char *opt, const char *text, bool end, GTimeZone *tz, int64_t *t_r)
{
	*t_r = 0;
	if (text == NULL)
		return 0;
	g_autoptr(GDateTime) t = cli_parse_time(text, tz);
	if (t == NULL) {
		cli_error("export", "%s \"%s\": expected a date such as 2026-10-01", opt, text);
		return -1;
	}
	*t_r = g_date_time_to_unix(t);
	if (end && strlen(text) == 10) {
		g_autoptr(GDateTime) next = g_date_time_add_days(t, 1);
		*t_r = g_date_time_to_unix(next);
	} else if (end) {
		*t_r += 1;
	}
	return 0;
}

static int export_run(struct ingest *in, const struct export_opts *o)
{
	GTimeZone *tz = ingest_timezone(in);
	int64_t from = 0, to = 0;
	if (export_bound("--from", o->from, false, tz, &from) < 0 ||
	    export_bound("--to", o->to, true, tz, &to) < 0)
		return CLI_USAGE;
	if (from != 0 && to != 0 && from >= to) {
		cli_error("export", "--from %s is after --to %s", o->from, o->to);
		return CLI_USAGE;
	}
	GError *err = NULL;
	GPtrArray *rows = store_ledger(ingest_store(in), from, to, &err);
	if (rows == NULL) {
		cli_error("export", "%s", err->message);
		g_error_free(err);
		return CLI_FAIL;
	}
	bool json = o->format != NULL && strcmp(o->format, "json") == 0;
	GString *out = json ? export_json(rows, tz) : export_csv(rows, tz);
	size_t w = fwrite(out->str, 1, out->len, stdout);
	int rc = w == out->len && fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
	if (rc != CLI_OK)
		cli_error("export", "writing the ledger to standard output failed");
	g_string_free(out, TRUE);
	g_ptr_array_unref(rows);
	return rc;
}

static int export_parse(int argc, char **argv, struct export_opts *o)
{
	const struct cli_opt opts[] = {
		{ "--from", true, NULL, &o->from }, { "--to", true, NULL, &o->to },
		{ "--format", true, NULL, &o->format }, { 0 } };
	const char **args = NULL;
	int n = 0;
	if (cli_parse("export", argc, argv, opts, &args, &n) < 0)
		return -1;
	bool ledger = n == 1 && strcmp(args[0], "ledger") == 0;
	g_free(args);
	if (!ledger) {
		cli_error("export", "expected: export ledger [--from DATE] [--to DATE] "
			  "[--format csv|json]");
		return -1;
	}
	if (o->format != NULL && strcmp(o->format, "csv") != 0 && strcmp(o->format, "json") != 0) {
		cli_error("export", "--format \"%s\": expected csv or json", o->format);
		return -1;
	}
	return 0;
}

int cmd_export(const char *cfg_path, int argc, char **argv)
{
	struct export_opts o = { 0 };
	if (export_parse(argc, argv, &o) < 0)
		return CLI_USAGE;
	struct config *cfg = cli_config(cfg_path);
	if (cfg == NULL)
		return CLI_USAGE;
	struct ingest *in = cli_ingest_open(cfg);
	int rc = in != NULL ? export_run(in, &o) : CLI_FAIL;
	ingest_free(in);
	config_free(cfg);
	return rc;
}
