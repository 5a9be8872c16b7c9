/* IMAP IDLE (RFC 2177) for one mailbox: a thread of its own holds one more
   connection, logged in by libcurl (CURLOPT_CONNECT_ONLY), EXAMINEs the
   folder and waits in IDLE; when the server reports a new message (EXISTS)
   the loop is told through a uv_async, and the mailbox runs a pass at once
   instead of at its next poll. Polling stays: IDLE only brings the next pass
   forward. The thread never touches the store or the loop's state.
   SECURITY: server lines are hostile input: read into a bounded buffer, only
   "* N EXISTS" and the tagged answers are looked at. */
#ifndef INTAKE_INGEST_IDLE_H
#define INTAKE_INGEST_IDLE_H

#include <stdbool.h>
#include <uv.h>

#include "ingest/curlopt.h"

struct idle;

/* What the thread connects with; copied by idle_start. */
struct idle_params {
	const char *url;        /* "imaps://host:port/" */
	const char *folder_q;   /* the folder as an IMAP quoted string */
	struct curlopt_login login;  /* its timeout_s is also the answer timeout */
};

enum idle_event {
	IDLE_CHANGED = 1,       /* a new message arrived */
	IDLE_UNSUPPORTED = 2,   /* the server does not offer IDLE: the thread ended */
	IDLE_LOST = 4,          /* the connection failed; the thread retries */
	IDLE_READY = 8,         /* waiting in IDLE */
};

/* Called on the loop thread with the events (a mask of enum idle_event)
   since the last call; why is the last failure, or NULL. */
typedef void (*idle_fn)(unsigned events, const char *why, void *ctx);

/* Starts the thread. NULL if the thread could not start. */
struct idle *idle_start(uv_loop_t *loop, const struct idle_params *p, idle_fn fn, void *ctx);
/* Leaves IDLE, logs out, joins the thread (at most about a second) and frees
   it; the uv_async closes asynchronously, so the loop must run once more.
   NULL is accepted. */
void idle_stop(struct idle *w);

#endif
