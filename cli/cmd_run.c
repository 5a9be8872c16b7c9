/* intake run [--once]: the daemon over every configured source (see
   ingest/run.h); --once does one pass of each and exits, for cron and tests. */
#include <stdio.h>

#include "cli/cli.h"
#include "ingest/run.h"

int cmd_run(const char *cfg_path, int argc, char **argv)
{
	bool once = false;
	const struct cli_opt opts[] = { { "--once", false, &once, NULL }, { 0 } };
	const char **args = NULL;
	int n = 0;
	if (cli_parse("run", argc, argv, opts, &args, &n) < 0)
		return CLI_USAGE;
	g_free(args);
	if (n != 0) {
		cli_error("run", "takes no arguments besides --once");
		return CLI_USAGE;
	}
	struct run_settings s = { .config_path = cfg_path, .once = once };
	GError *err = NULL;
	int rc = run_main(&s, &err);
	if (err != NULL && rc == RUN_CONFIG)
		fprintf(stderr, "intake: configuration error: %s\n", err->message);
	else if (err != NULL)
		cli_error("run", "%s", err->message);
	g_clear_error(&err);
	return rc;
}
