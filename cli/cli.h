/* Shared pieces of the command line: option parsing, loading the
   configuration, rendering times. The subcommands stay thin: parse
   arguments, call the modules, print. */
#ifndef INTAKE_CLI_CLI_H
#define INTAKE_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "core/config.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* One option of a subcommand: "--json" (flag) or "--by NAME" (value). */
struct cli_opt {
	const char *name;
	bool takes_value;
	bool *flag;          /* set for flags */
	const char **value;  /* set for values (points into argv) */
};

/* Parses argv[1..] against opts; the other words go to *args_r (NULL-
   terminated, the array freed with g_free). Returns 0, or -1 after printing
   a usage error naming the command. */
int cli_parse(const char *cmd, int argc, char **argv, const struct cli_opt *opts,
	      const char ***args_r, int *nargs_r);

/* Loads the configuration chosen by -c / $INTAKE_CONFIG; NULL after
   printing the error. */
struct config *cli_config(const char *path);

struct ingest;
/* Opens the store, spool and calendar of the configuration (see
   ingest_open); NULL after printing the error. */
struct ingest *cli_ingest_open(const struct config *cfg);

/* "2026-02-25T23:59:59+08:00" in tz (newly allocated). */
char *cli_time_rfc3339(int64_t t, GTimeZone *tz);
struct json;
/* KEY: the time in RFC 3339 in tz, or null when t is 0. */
void cli_json_time(struct json *j, const char *key, int64_t t, GTimeZone *tz);

/* "2026-02-25 23:59 Wed" in tz (newly allocated). */
char *cli_time_human(int64_t t, GTimeZone *tz);

/* Reads RFC 3339 / ISO 8601 ("2026-02-13T16:00+08:00", "2026-02-13 16:00",
   "2026-02-13"); a time without zone is in tz. NULL if unreadable. */
GDateTime *cli_parse_time(const char *text, GTimeZone *tz);

/* The current time in Unix seconds: the real time, unless $INTAKE_NOW is
   set. INTAKE_NOW is a test and demo hook, never needed in production: an
   RFC 3339 time ("2026-10-09T10:00:00+08:00"; read like cli_parse_time, a
   time without zone in the process's local zone) that commands use as "now"
   (the time left of drafts ...). An unreadable value is reported on stderr
   and the real time is used. */
int64_t cli_now(void);

/* Prints an error to stderr as "intake CMD: MESSAGE". */
void cli_error(const char *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

int cmd_due(const char *cfg_path, int argc, char **argv);
int cmd_ingest(const char *cfg_path, int argc, char **argv);
int cmd_parse(const char *cfg_path, int argc, char **argv);
int cmd_drafts(const char *cfg_path, int argc, char **argv);
int cmd_show(const char *cfg_path, int argc, char **argv);
int cmd_accept(const char *cfg_path, int argc, char **argv);
int cmd_reject(const char *cfg_path, int argc, char **argv);
int cmd_merge(const char *cfg_path, int argc, char **argv);
int cmd_verify(const char *cfg_path, int argc, char **argv);
int cmd_remind(const char *cfg_path, int argc, char **argv);
int cmd_edit(const char *cfg_path, int argc, char **argv);
int cmd_export(const char *cfg_path, int argc, char **argv);
int cmd_customers(const char *cfg_path, int argc, char **argv);
int cmd_run(const char *cfg_path, int argc, char **argv);
int cmd_status(const char *cfg_path, int argc, char **argv);
int cmd_outbox(const char *cfg_path, int argc, char **argv);

#endif
