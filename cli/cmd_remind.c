/* intake remind [--dry-run] [--force]: the responders' daily digest now
   (`intake run` queues it by itself at [reminders] time; this is for cron
   and for a look at what it would say). */
#include <stdio.h>

#include "cli/cli.h"
#include "ingest/ingest.h"
#include "notify/notify.h"

static int remind_dry_run(struct ingest *in, int64_t now)
{
	GError *err = NULL;
	GPtrArray *drafts = store_list_drafts(ingest_store(in), NULL, 0, &err);
	if (drafts == NULL) {
		cli_error("remind", "%s", err->message);
		g_error_free(err);
		return CLI_FAIL;
	}
	unsigned counts[3];
	g_autofree char *text = notify_digest_text(drafts, ingest_calendar(in), ingest_timezone(in),
						   now, counts);
	g_ptr_array_unref(drafts);
	fputs(text, stdout);
	return CLI_OK;
}

static int remind_run(const struct config *cfg, struct ingest *in, bool dry, bool force)
{
	int64_t now = cli_now();
	if (dry)
		return remind_dry_run(in, now);
	GError *err = NULL;
	enum notify_remind_result res;
	if (notify_remind(ingest_store(in), cfg, ingest_calendar(in), ingest_timezone(in), now,
			  force, &res, &err) < 0) {
		cli_error("remind", "%s", err->message);
		g_error_free(err);
		return CLI_FAIL;
	}
	static const char *const said[] = {
		[NOTIFY_REMIND_OFF] = "no [reminders] section in the configuration: nothing to do",
		[NOTIFY_REMIND_NOT_WORKING_DAY] = "not a working day: no digest (--force sends one)",
		[NOTIFY_REMIND_TOO_EARLY] = "before [reminders] time: no digest yet (--force sends one)",
		[NOTIFY_REMIND_DONE_TODAY] = "today's digest was already queued",
		[NOTIFY_REMIND_QUEUED] = "digest queued (see intake outbox)",
	};
	printf("%s\n", said[res]);
	return res == NOTIFY_REMIND_OFF ? CLI_USAGE : CLI_OK;
}

int cmd_remind(const char *cfg_path, int argc, char **argv)
{
	bool dry = false, force = false;
	const struct cli_opt opts[] = { { "--dry-run", false, &dry, NULL },
					{ "--force", false, &force, NULL }, { 0 } };
	const char **args = NULL;
	int n = 0;
	if (cli_parse("remind", argc, argv, opts, &args, &n) < 0)
		return CLI_USAGE;
	g_free(args);
	if (n != 0) {
		cli_error("remind", "takes no arguments besides --dry-run and --force");
		return CLI_USAGE;
	}
	struct config *cfg = cli_config(cfg_path);
	if (cfg == NULL)
		return CLI_USAGE;
	struct ingest *in = cli_ingest_open(cfg);
	int rc = in != NULL ? remind_run(cfg, in, dry, force) : CLI_FAIL;
	ingest_free(in);
	config_free(cfg);
	return rc;
}
