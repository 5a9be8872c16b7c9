/* intake verify: every original in the spool still matches the hash the
   store recorded for it; a tampered or missing file is named and fails. */
#include <stdio.h>

#include "cli/cli.h"
#include "ingest/ingest.h"
#include "store/spool.h"

struct verify_ctx {
	struct spool *spool;
	unsigned ok, bad;
};

static void verify_one(const char *origin, const char *sha, const char *rel, void *p)
{
	struct verify_ctx *v = p;
	GError *err = NULL;
	char actual[SPOOL_SHA256_HEX];
	int rc = spool_verify(v->spool, rel, sha, actual, &err);
	if (rc == 1) {
		v->ok++;
		return;
	}
	v->bad++;
	if (rc == 0)
		printf("TAMPERED %s: %s has sha256 %s, expected %s\n", origin, rel, actual, sha);
	else
		printf("MISSING  %s: %s\n", origin, err->message);
	g_clear_error(&err);
}

int cmd_verify(const char *cfg_path, int argc, char **argv)
{
	const char **args = NULL;
	int n = 0;
	if (cli_parse("verify", argc, argv, NULL, &args, &n) < 0)
		return CLI_USAGE;
	g_free(args);
	struct config *cfg = cli_config(cfg_path);
	if (cfg == NULL)
		return CLI_USAGE;
	GError *err = NULL;
	struct ingest *in = cli_ingest_open(cfg);
	struct verify_ctx v = { 0 };
	int rc = CLI_FAIL;
	if (in != NULL && (v.spool = spool_open(cfg->spool_path, &err)) != NULL &&
	    store_foreach_source(ingest_store(in), verify_one, &v, &err) == 0) {
		printf("%u original(s) intact, %u damaged or missing\n", v.ok, v.bad);
		rc = v.bad == 0 ? CLI_OK : CLI_FAIL;
	} else if (err != NULL) {
		cli_error("verify", "%s", err->message);
		g_error_free(err);
	}
	spool_free(v.spool);
	ingest_free(in);
	config_free(cfg);
	return rc;
}
