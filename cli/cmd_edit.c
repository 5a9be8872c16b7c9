/* intake edit REF --set FIELD=VALUE ... [--by NAME]: corrects what OCR or
   extraction got wrong before the decision, and completes the ledger
   fields after it; every change is an event with old and new value. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ingest/ingest.h"
#include "store/store.h"

struct edit_args {
	const char *ref, *by;
	GArray *edits;   /* of struct store_edit; strings point into argv */
};

/* Splits "FIELD=VALUE" in place into an edit. */
static int edit_add(struct edit_args *a, char *set)
{
	char *eq = strchr(set, '=');
	if (eq == NULL || eq == set) {
		cli_error("edit", "--set \"%s\": expected FIELD=VALUE, such as name=张三", set);
		return -1;
	}
	*eq = '\0';
	struct store_edit e = { .field = set, .value = eq + 1 };
	g_array_append_val(a->edits, e);
	return 0;
}

/* Reads the arguments; --set repeats, which cli_parse does not do. */
static int edit_parse(int argc, char **argv, struct edit_args *a)
{
	for (int i = 1; i < argc; i++) {
		bool valued = strcmp(argv[i], "--set") == 0 || strcmp(argv[i], "--by") == 0;
		if (valued && i + 1 >= argc) {
			cli_error("edit", "option %s needs a value", argv[i]);
			return -1;
		}
		if (strcmp(argv[i], "--set") == 0 && edit_add(a, argv[++i]) < 0)
			return -1;
		else if (strcmp(argv[i], "--by") == 0)
			a->by = argv[++i];
		else if (!valued && argv[i][0] == '-' && argv[i][1] != '\0') {
			cli_error("edit", "unknown option %s (see intake --help)", argv[i]);
			return -1;
		} else if (!valued && a->ref != NULL) {
			cli_error("edit", "expected one REF, got \"%s\" too", argv[i]);
			return -1;
		} else if (!valued) {
			a->ref = argv[i];
		}
	}
	if (a->ref == NULL || a->edits->len == 0) {
		cli_error("edit", "expected REF --set FIELD=VALUE [--set ...]; fields: name, email, "
			  "phone, address, subject, accounts, respondent, request, facts, result, "
			  "archived, remarks");
		return -1;
	}
	return 0;
}

/* The responder: --by, else the login name. */
static const char *edit_actor(const char *by)
{
	if (by != NULL && *by != '\0')
		return by;
	const char *user = g_get_user_name();
	return user != NULL ? user : "unknown";
}

static void edit_report(const char *ref, const char *actor, const struct store_edit *e, guint n,
			int changes)
{
	GString *changed = g_string_new(NULL), *same = g_string_new(NULL);
	for (guint i = 0; i < n; i++) {
		GString *s = e[i].changed ? changed : same;
		g_string_append_printf(s, "%s%s", s->len ? ", " : "", e[i].field);
	}
	if (changes > 0)
		printf("%s: %d change%s recorded by %s: %s\n", ref, changes, changes == 1 ? "" : "s",
		       actor, changed->str);
	if (same->len > 0)
		printf("%s: unchanged (same value): %s\n", ref, same->str);
	g_string_free(changed, TRUE);
	g_string_free(same, TRUE);
}

static int edit_run(struct ingest *in, const struct edit_args *a)
{
	GError *err = NULL;
	const char *actor = edit_actor(a->by);
	struct store_edit *e = (struct store_edit *)(void *)a->edits->data;
	int n = store_edit(ingest_store(in), a->ref, e, a->edits->len, actor,
			   g_get_real_time() / G_USEC_PER_SEC, &err);
	if (n < 0) {
		cli_error("edit", "%s", err->message);
		int rc = g_error_matches(err, STORE_ERROR, STORE_ERROR_INVALID) ||
			 g_error_matches(err, STORE_ERROR, STORE_ERROR_NOT_FOUND) ? CLI_USAGE : CLI_FAIL;
		g_error_free(err);
		return rc;
	}
	edit_report(a->ref, actor, e, a->edits->len, n);
	return CLI_OK;
}

int cmd_edit(const char *cfg_path, int argc, char **argv)
{
	struct edit_args a = { .edits = g_array_new(FALSE, TRUE, sizeof(struct store_edit)) };
	int rc = CLI_USAGE;
	struct config *cfg = NULL;
	struct ingest *in = NULL;
	if (edit_parse(argc, argv, &a) < 0 || (cfg = cli_config(cfg_path)) == NULL)
		goto out;
	in = cli_ingest_open(cfg);
	rc = in != NULL ? edit_run(in, &a) : CLI_FAIL;
out:
	ingest_free(in);
	config_free(cfg);
	g_array_unref(a.edits);
	return rc;
}
