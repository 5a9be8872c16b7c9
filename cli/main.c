/* main(): global options and the dispatch to subcommands. */
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/log.h"

struct cli_command {
	const char *name;
	int (*run)(const char *cfg_path, int argc, char **argv);
	const char *usage;
};

static const struct cli_command cli_commands[] = {
	{ "ingest", cmd_ingest, "ingest [--channel email|letter|fax] [--received-at TIME] FILE..." },
	{ "parse", cmd_parse, "parse [--json] [--channel C] FILE  parse only, store nothing" },
	{ "drafts", cmd_drafts, "drafts [--json] [--overdue] [--due-within DURATION] [--channel C]" },
	{ "show", cmd_show, "show [--json] REF" },
	{ "accept", cmd_accept, "accept REF [--by NAME] [--note TEXT]" },
	{ "reject", cmd_reject, "reject REF --reason CODE [--by NAME] [--note TEXT]" },
	{ "merge", cmd_merge, "merge REF --into REF [--by NAME] [--note TEXT]" },
	{ "edit", cmd_edit, "edit REF --set FIELD=VALUE ... [--by NAME]   correct a draft, complete the ledger" },
	{ "export", cmd_export, "export ledger [--from DATE] [--to DATE] [--format csv|json]" },
	{ "customers", cmd_customers, "customers import FILE.csv [--replace]   the customer registry" },
	{ "remind", cmd_remind, "remind [--dry-run] [--force]      the responders' digest of due drafts" },
	{ "due", cmd_due, "due [--json] RECEIVED_AT           acceptance and handling deadlines" },
	{ "outbox", cmd_outbox, "outbox [--json] | outbox retry ID | outbox drain   notices and their delivery" },
	{ "run", cmd_run, "run [--once]                      poll every source (--once: one pass, exit)" },
	{ "status", cmd_status, "status [--json]                   sources: last poll, errors, counts" },
	{ "verify", cmd_verify, "verify                            originals still match their hashes" },
};

static void cli_usage(FILE *f)
{
	fprintf(f, "usage: intake [-c FILE] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(cli_commands); i++)
		fprintf(f, "  intake %s\n", cli_commands[i].usage);
	fprintf(f, "\n-c FILE: the configuration (else $INTAKE_CONFIG, else ./config/intake.conf)\n"
		   "exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error\n");
}

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	umask(077);
	log_capture_glib();
	const char *cfg = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			cfg = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			cli_usage(stdout);
			return CLI_OK;
		} else {
			cli_usage(stderr);
			return CLI_USAGE;
		}
	}
	if (i >= argc) {
		cli_usage(stderr);
		return CLI_USAGE;
	}
	for (size_t k = 0; k < G_N_ELEMENTS(cli_commands); k++)
		if (strcmp(argv[i], cli_commands[k].name) == 0)
			return cli_commands[k].run(config_default_path(cfg), argc - i, argv + i);
	fprintf(stderr, "intake: unknown command \"%s\"\n", argv[i]);
	cli_usage(stderr);
	return CLI_USAGE;
}
