/* intake ingest FILE... and intake parse [--json] FILE: store mails by hand,
   or parse one and print its record without storing anything. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "ingest/dropdir.h"
#include "ingest/ingest.h"

static bool ingest_channel_ok(const char *channel)
{
	return channel == NULL || strcmp(channel, "email") == 0 || strcmp(channel, "letter") == 0 ||
	       strcmp(channel, "fax") == 0;
}

/* A scanned letter or a fax: its text is read (OCR), see ingest/dropdir.h. */
static bool ingest_is_document(const char *channel)
{
	return channel != NULL && strcmp(channel, "email") != 0;
}

/* Prints what became of one file: "FILE: created TS20261123-0001". */
static void ingest_report(const char *file, const struct ingest_outcome *o)
{
	switch (o->status) {
	case INGEST_CREATED:
		printf("%s: created %s%s\n", file, o->ref,
		       o->uncertain ? " (deadlines uncertain: calendar does not cover the year)" : "");
		break;
	case INGEST_KNOWN:
		if (o->ref != NULL)
			printf("%s: already ingested as %s\n", file, o->ref);
		else
			printf("%s: already ingested (no complaint: classified)\n", file);
		break;
	case INGEST_CLASSIFIED:
		printf("%s: not a complaint: %s (kept, no draft)\n", file, o->disposition);
		break;
	}
}

static int ingest_document_one(struct ingest *in, const char *channel, const char *file,
			       int64_t received_at)
{
	GError *err = NULL;
	struct ingest_outcome out;
	if (dropdir_ingest_file(in, channel, file, received_at, &out, &err) < 0) {
		cli_error("ingest", "%s", err->message);
		g_error_free(err);
		return CLI_FAIL;
	}
	ingest_report(file, &out);
	ingest_outcome_clear(&out);
	return CLI_OK;
}

/* Opens a mail to read, or says why not. */
static int ingest_open_file(const char *cmd, const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		fd = -1;
		errno = EISDIR;
	}
	if (fd < 0)
		cli_error(cmd, "%s: %s", file, g_strerror(errno));
	return fd;
}

static int ingest_one(struct ingest *in, const char *file, int64_t received_at)
{
	GError *err = NULL;
	int fd = ingest_open_file("ingest", file);
	if (fd < 0)
		return CLI_FAIL;
	struct ingest_origin o = { .channel = "email", .kind = "manual", .received_at = received_at };
	struct ingest_outcome out;
	int rc = ingest_message_fd(in, &o, fd, &out, &err);
	close(fd);
	if (rc < 0) {
		cli_error("ingest", "%s: %s", file, err->message);
		g_error_free(err);
		return CLI_FAIL;
	}
	ingest_report(file, &out);
	ingest_outcome_clear(&out);
	return CLI_OK;
}

/* --received-at: when the complaint reached the firm (a mail forwarded late,
   a complaint taken by phone), in the configured zone unless it has one. */
static int ingest_received_at(const struct config *cfg, const char *text, int64_t *at_r)
{
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(cfg->timezone);
	g_autoptr(GDateTime) t = cli_parse_time(text, tz);
	if (t == NULL) {
		cli_error("ingest", "--received-at \"%s\": expected a time such as "
			  "2026-02-13T16:00+08:00", text);
		return -1;
	}
	*at_r = g_date_time_to_unix(t);
	return 0;
}

int cmd_ingest(const char *cfg_path, int argc, char **argv)
{
	const char *channel = NULL, *received = NULL;
	const struct cli_opt opts[] = { { "--channel", true, NULL, &channel },
					{ "--received-at", true, NULL, &received }, { 0 } };
	const char **args = NULL;
	int n = 0;
	if (cli_parse("ingest", argc, argv, opts, &args, &n) < 0)
		return CLI_USAGE;
	g_autofree const char **owned = args;
	if (n == 0 || !ingest_channel_ok(channel)) {
		cli_error("ingest", n == 0 ? "expected one or more FILEs" :
			  "--channel: expected email, letter or fax");
		return CLI_USAGE;
	}
	struct config *cfg = cli_config(cfg_path);
	if (cfg == NULL)
		return CLI_USAGE;
	int64_t received_at = 0;
	if (received != NULL && ingest_received_at(cfg, received, &received_at) < 0) {
		config_free(cfg);
		return CLI_USAGE;
	}
	struct ingest *in = cli_ingest_open(cfg);
	int rc = in == NULL ? CLI_FAIL : CLI_OK;
	for (int i = 0; in != NULL && i < n; i++)
		if ((ingest_is_document(channel) ?
		     ingest_document_one(in, channel, args[i], received_at) :
		     ingest_one(in, args[i], received_at)) != CLI_OK)
			rc = CLI_FAIL;
	ingest_free(in);
	config_free(cfg);
	return rc;
}

static int parse_document(const struct config *cfg, const char *channel, const char *file)
{
	GError *err = NULL;
	struct record *r = dropdir_parse_file(cfg, channel, file, &err);
	if (r == NULL) {
		cli_error("parse", "%s", err->message);
		g_error_free(err);
		return CLI_FAIL;
	}
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(cfg->timezone);
	g_autofree char *out = record_to_json(r, tz, true);
	puts(out);
	record_free(r);
	return CLI_OK;
}

static int parse_run(const struct config *cfg, const char *file, bool json)
{
	GError *err = NULL;
	int fd = ingest_open_file("parse", file);
	if (fd < 0)
		return CLI_FAIL;
	struct sniff *sn = sniff_new(&err);
	if (sn == NULL) {
		cli_error("parse", "%s", err->message);
		g_error_free(err);
		close(fd);
		return CLI_FAIL;
	}
	g_auto(GStrv) own = ingest_own_addresses(cfg);
	struct record *r = ingest_parse_message_fd(cfg, sn, (const char *const *)own, fd);
	close(fd);
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(cfg->timezone);
	g_autofree char *out = record_to_json(r, tz, true);
	(void)json; /* the record is JSON either way */
	fputs(out, stdout);
	fputc('\n', stdout);
	record_free(r);
	sniff_free(sn);
	return CLI_OK;
}

int cmd_parse(const char *cfg_path, int argc, char **argv)
{
	bool json = false;
	const char *channel = NULL;
	const struct cli_opt opts[] = { { "--json", false, &json, NULL },
					{ "--channel", true, NULL, &channel }, { 0 } };
	const char **args = NULL;
	int n = 0;
	if (cli_parse("parse", argc, argv, opts, &args, &n) < 0)
		return CLI_USAGE;
	g_autofree const char **owned = args;
	if (n != 1 || !ingest_channel_ok(channel)) {
		cli_error("parse", n != 1 ? "expected one FILE" : "--channel: expected email, letter or fax");
		return CLI_USAGE;
	}
	struct config *cfg = cli_config(cfg_path);
	if (cfg == NULL)
		return CLI_USAGE;
	int rc = ingest_is_document(channel) ? parse_document(cfg, channel, args[0]) :
					      parse_run(cfg, args[0], json);
	config_free(cfg);
	return rc;
}
