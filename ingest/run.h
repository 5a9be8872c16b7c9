/* `intake run`: one libuv loop that owns the process. It drives libcurl's
   multi interface (uv_poll per socket, one uv_timer for curl's timeouts),
   runs every configured source (IMAP mailboxes now; drop folders and the
   outbox drainer have their places in run.c), handles SIGTERM/SIGINT (finish
   the message in hand, exit within 5 s) and SIGHUP (reload the
   configuration), and in --once mode does one pass of every source. */
#ifndef INTAKE_INGEST_RUN_H
#define INTAKE_INGEST_RUN_H

#include <stdbool.h>
#include <curl/curl.h>
#include <glib.h>
#include <uv.h>

struct run_settings {
	const char *config_path;
	bool once;                /* one pass of every source, then return */
};

/* Exit codes as the command line uses them. */
enum { RUN_OK = 0, RUN_FAILED = 1, RUN_CONFIG = 2 };

/* Loads the configuration and runs until stopped or, with once, until every
   source has done one pass. Returns RUN_OK; RUN_FAILED when a source's pass
   failed (once) or the store cannot be opened; RUN_CONFIG when the
   configuration is refused. The reason is logged, or in *error for
   RUN_CONFIG and a store that cannot be opened. */
int run_main(const struct run_settings *s, GError **error);

/* libcurl's multi interface driven by the loop: shared by every source that
   talks to a server (IMAP now, SMTP later). All on the loop thread. */
struct run_curl;

/* Called on the loop thread when a transfer ends; the easy handle is no
   longer in the multi handle and may be reused or started again at once. */
typedef void (*run_curl_done_fn)(CURL *easy, CURLcode result, void *ctx);

/* Starts a configured easy handle (its CURLOPT_PRIVATE is used by run_curl).
   Returns 0, or -1 when libcurl refuses it (done is then never called). */
int run_curl_start(struct run_curl *rc, CURL *easy, run_curl_done_fn done, void *ctx);
/* Stops a started transfer without calling its done function. */
void run_curl_cancel(struct run_curl *rc, CURL *easy);

#endif
