/* intake customers import FILE.csv [--replace] [--by NAME]: loads the
   customer registry that tells whether a claimed account is the firm's.
   The file: one customer a line, account,name[,id_number][,phone], RFC 4180
   quoting, an optional header line, UTF-8 (with or without a byte order
   mark) or GB18030 as saved by a Chinese Excel. Nothing is imported when any
   line is malformed; each error names the file and the line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "ingest/ingest.h"
#include "store/store.h"

#define CUSTOMERS_MAX_ERRORS 20   /* printed before giving up */

/* A reader of RFC 4180 records over the whole text. */
struct csv_reader {
	const char *p, *end;
	unsigned line;            /* of the next character */
};

/* Reads a quoted field after its opening quote. Returns 0 or -1. */
static int csv_quoted(struct csv_reader *r, GString *f, const char **error_r)
{
	for (; r->p < r->end; r->p++) {
		if (*r->p == '"' && r->p + 1 < r->end && r->p[1] == '"') {
			g_string_append_c(f, '"');
			r->p++;
		} else if (*r->p == '"') {
			r->p++;
			if (r->p < r->end && strchr(",\r\n", *r->p) == NULL) {
				*error_r = "text after a closing quote (write a quote inside a field as \"\")";
				return -1;
			}
			return 0;
		} else {
			r->line += *r->p == '\n' ? 1 : 0;
			g_string_append_c(f, *r->p);
		}
	}
	*error_r = "a quoted field is not closed";
	return -1;
}

/* Reads one record into fields (strings owned by the array). Returns 1, 0
   at the end of the text, or -1 with *error_r (static text). */
static int csv_next(struct csv_reader *r, GPtrArray *fields, const char **error_r)
{
	if (r->p >= r->end)
		return 0;
	for (;;) {
		GString *f = g_string_new(NULL);
		int rc = 0;
		if (*r->p == '"') {
			r->p++;
			rc = csv_quoted(r, f, error_r);
		} else {
			while (r->p < r->end && strchr(",\r\n", *r->p) == NULL)
				g_string_append_c(f, *r->p++);
		}
		g_ptr_array_add(fields, g_string_free(f, FALSE));
		if (rc < 0)
			return -1;
		if (r->p >= r->end || *r->p != ',')
			break;
		r->p++;
	}
	if (r->p < r->end && *r->p == '\r')
		r->p++;
	if (r->p < r->end && *r->p == '\n')
		r->p++;
	r->line++;
	return 1;
}

/* The registry being read: the rows and the strings they point into. */
struct customers_file {
	const char *path;
	GArray *rows;              /* of struct store_customer */
	GPtrArray *owned;          /* of char* */
	GHashTable *lines;         /* account -> line first seen (GUINT_TO_POINTER) */
	unsigned errors;
};

static void customers_error(struct customers_file *cf, unsigned line, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);
static void customers_error(struct customers_file *cf, unsigned line, const char *fmt, ...)
{
	if (++cf->errors > CUSTOMERS_MAX_ERRORS)
		return;
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	/* the registry holds account and ID numbers: never print one whole */
	g_autofree char *masked = log_mask_text(msg, 6);
	fprintf(stderr, "intake customers: %s:%u: %s\n", cf->path, line, masked);
}

static bool customers_is_account(const char *s)
{
	size_t n = strlen(s);
	return n >= 6 && n <= 20 && strspn(s, "0123456789") == n;
}

/* A header line: its first cell names the account column. */
static bool customers_is_header(GPtrArray *fields)
{
	static const char *const names[] = { "account", "资金账号", "资产账号", "资金帐号",
					     "账号", "帐号", "客户号", NULL };
	g_autofree char *first = g_ascii_strdown(fields->pdata[0], -1);
	return g_strv_contains(names, g_strstrip(first));
}

/* Trimmed copy owned by cf, NULL when empty. */
static const char *customers_keep(struct customers_file *cf, const char *s)
{
	char *t = g_strstrip(g_strdup(s));
	if (*t == '\0') {
		g_free(t);
		return NULL;
	}
	g_ptr_array_add(cf->owned, t);
	return t;
}

static void customers_account_error(struct customers_file *cf, unsigned line, const char *acc)
{
	bool excel = strchr(acc, 'E') != NULL || strchr(acc, 'e') != NULL || strchr(acc, '.');
	customers_error(cf, line, "account \"%s\": expected 6 to 20 digits%s", acc,
			excel ? " (a spreadsheet turned it into a number: format the column as text)" :
			"");
}

/* Checks one record and adds its customer. */
static void customers_add(struct customers_file *cf, GPtrArray *fields, unsigned line)
{
	if (fields->len < 2 || fields->len > 4) {
		customers_error(cf, line, "%u field%s: expected account,name[,id_number][,phone]",
				fields->len, fields->len == 1 ? "" : "s");
		return;
	}
	const char *acc = customers_keep(cf, fields->pdata[0]);
	if (acc == NULL || !customers_is_account(acc)) {
		customers_account_error(cf, line, acc != NULL ? acc : "");
		return;
	}
	gpointer first = g_hash_table_lookup(cf->lines, acc);
	if (first != NULL) {
		customers_error(cf, line, "account %s again (first on line %u)", acc,
				GPOINTER_TO_UINT(first));
		return;
	}
	g_hash_table_insert(cf->lines, (gpointer)acc, GUINT_TO_POINTER(line));
	const char *id = fields->len > 2 ? customers_keep(cf, fields->pdata[2]) : NULL;
	if (id != NULL) {
		char *up = g_ascii_strup(id, -1);   /* the check character x as X */
		g_ptr_array_add(cf->owned, up);
		id = up;
	}
	struct store_customer c = {
		.account = acc, .name = customers_keep(cf, fields->pdata[1]), .id_number = id,
		.phone = fields->len > 3 ? customers_keep(cf, fields->pdata[3]) : NULL };
	g_array_append_val(cf->rows, c);
}

static bool customers_blank(GPtrArray *fields)
{
	if (fields->len != 1)
		return false;
	g_autofree char *s = g_strstrip(g_strdup(fields->pdata[0]));
	return *s == '\0';
}

/* Reads every record of the text. Returns 0, or -1 after printing errors. */
static int customers_read(struct customers_file *cf, const char *text, size_t len)
{
	struct csv_reader r = { text, text + len, 1 };
	bool first = true;
	for (;;) {
		GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
		unsigned line = r.line;
		const char *why = NULL;
		int rc = csv_next(&r, fields, &why);
		if (rc < 0)
			customers_error(cf, line, "%s", why);
		else if (rc > 0 && !customers_blank(fields) && !(first && customers_is_header(fields)))
			customers_add(cf, fields, line);
		if (rc > 0 && !customers_blank(fields))
			first = false;
		g_ptr_array_unref(fields);
		if (rc <= 0)
			break;
	}
	if (cf->errors > CUSTOMERS_MAX_ERRORS)
		fprintf(stderr, "intake customers: %s: %u more errors not shown\n", cf->path,
			cf->errors - CUSTOMERS_MAX_ERRORS);
	return cf->errors > 0 ? -1 : 0;
}

/* The file's text in UTF-8, its byte order mark removed. NULL after
   printing the error. */
static char *customers_text(const char *path, size_t *len_r)
{
	GError *err = NULL;
	char *data = NULL;
	gsize len = 0;
	if (!g_file_get_contents(path, &data, &len, &err)) {
		cli_error("customers", "%s", err->message);
		g_error_free(err);
		return NULL;
	}
	size_t skip = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	if (g_utf8_validate_len(data + skip, len - skip, NULL) && memchr(data, '\0', len) == NULL) {
		memmove(data, data + skip, len - skip + 1);
		*len_r = len - skip;
		return data;
	}
	gsize out = 0;
	char *conv = g_convert(data, (gssize)len, "UTF-8", "GB18030", NULL, &out, NULL);
	g_free(data);
	if (conv == NULL || memchr(conv, '\0', out) != NULL) {
		cli_error("customers", "%s: not UTF-8 text, nor GB18030", path);
		g_free(conv);
		return NULL;
	}
	*len_r = out;
	return conv;
}

static const char *customers_actor(const char *by)
{
	if (by != NULL && *by != '\0')
		return by;
	const char *user = g_get_user_name();
	return user != NULL ? user : "unknown";
}

static int customers_store(struct ingest *in, struct customers_file *cf, bool replace,
			   const char *by)
{
	GError *err = NULL;
	unsigned drafts = 0;
	g_autofree char *base = g_path_get_basename(cf->path);
	int n = store_customers_import(ingest_store(in), (struct store_customer *)(void *)cf->rows->data,
				       cf->rows->len, replace, customers_actor(by), base,
				       g_get_real_time() / G_USEC_PER_SEC, &drafts, &err);
	if (n < 0) {
		cli_error("customers", "%s", err->message);
		g_error_free(err);
		return CLI_FAIL;
	}
	printf("%s: %d customer%s imported (%s); %u draft%s changed registry status\n", cf->path, n,
	       n == 1 ? "" : "s", replace ? "registry replaced" : "inserted or updated", drafts,
	       drafts == 1 ? "" : "s");
	return CLI_OK;
}

static int customers_import(const char *cfg_path, const char *path, bool replace, const char *by)
{
	size_t len = 0;
	g_autofree char *text = customers_text(path, &len);
	if (text == NULL)
		return CLI_FAIL;
	struct customers_file cf = {
		.path = path, .rows = g_array_new(FALSE, TRUE, sizeof(struct store_customer)),
		.owned = g_ptr_array_new_with_free_func(g_free),
		.lines = g_hash_table_new(g_str_hash, g_str_equal) };
	int rc = CLI_USAGE;
	struct config *cfg = NULL;
	struct ingest *in = NULL;
	if (customers_read(&cf, text, len) < 0) {
		fprintf(stderr, "intake customers: %s: %u malformed line%s; nothing imported\n", path,
			cf.errors, cf.errors == 1 ? "" : "s");
	} else if ((cfg = cli_config(cfg_path)) != NULL) {
		in = cli_ingest_open(cfg);
		rc = in != NULL ? customers_store(in, &cf, replace, by) : CLI_FAIL;
	}
	ingest_free(in);
	config_free(cfg);
	g_hash_table_unref(cf.lines);
	g_array_unref(cf.rows);
	g_ptr_array_unref(cf.owned);
	return rc;
}

int cmd_customers(const char *cfg_path, int argc, char **argv)
{
	bool replace = false;
	const char *by = NULL;
	const struct cli_opt opts[] = { { "--replace", false, &replace, NULL },
					{ "--by", true, NULL, &by }, { 0 } };
	const char **args = NULL;
	int n = 0;
	if (cli_parse("customers", argc, argv, opts, &args, &n) < 0)
		return CLI_USAGE;
	g_autofree const char **owned = args;
	if (n != 2 || strcmp(args[0], "import") != 0) {
		cli_error("customers", "expected: customers import FILE.csv [--replace] [--by NAME] "
			  "(lines account,name[,id_number][,phone])");
		return CLI_USAGE;
	}
	return customers_import(cfg_path, args[1], replace, by);
}
