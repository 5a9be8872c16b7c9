/* The IMAP poller: one per [imap NAME] mailbox, on the loop of `intake run`,
   with libcurl's multi interface. A pass: SELECT for UIDVALIDITY and
   UIDNEXT; UID SEARCH for the UIDs after the last one done; per batch, small
   UID FETCHes of FLAGS, INTERNALDATE and RFC822.SIZE; the bodies on up to
   fetch_connections connections: small messages several to a command
   (UID FETCH set (UID BODY.PEEK[]), cut out of libcurl's header stream),
   bigger ones, and any a set did not bring, through the URL form
   INBOX;UID=n (PITFALLS.md); ingest_message in UID order into one group
   commit; and only after that commit, once per batch, the `after` action:
   UID MOVE where CAPABILITY lists MOVE (else, or when it is refused, COPY +
   \Deleted + UID EXPUNGE), or +FLAGS (\Seen $IntakeProcessed). The URL
   fetch sets \Seen: what was fetched but not stored gets -FLAGS (\Seen)
   back. Progress (UIDVALIDITY, last UID) is kept in the store's
   source_state. Between passes an IDLE watcher (idle.h), where the server
   offers IDLE and idle is not false, starts the next pass as soon as a
   message arrives; one that loses its connection is replaced after the next
   good pass, which reads the credentials again.
   SECURITY: server responses are hostile input: every number is range
   checked, every response is bounded (bodies by max_message_size). */
#ifndef INTAKE_INGEST_IMAP_H
#define INTAKE_INGEST_IMAP_H

#include <stdbool.h>
#include <glib.h>
#include <uv.h>

#include "core/config.h"
#include "ingest/ingest.h"
#include "ingest/run.h"

struct imap_mailbox;

/* What a mailbox needs from its runner. Copied by imap_new. */
struct imap_env {
	uv_loop_t *loop;
	struct run_curl *curl;
	struct ingest *ingest;             /* store writes happen on the loop thread */
	const struct config *cfg;
	/* Called after every pass (and once after imap_stop of a running pass). */
	void (*pass_done)(struct imap_mailbox *mb, void *ctx);
	void *ctx;
};

/* Checks what config.c cannot: the URL's parts, folder names, and that a
   password_file or oauth2_token_file is a regular file only its owner can
   read (mode 0600 or stricter). Returns 0, or -1 with a CONFIG_ERROR naming
   the file, section and key. */
int imap_check(const struct config *cfg, const struct config_imap *m, GError **error);

/* Logs, at every start, the weakened TLS settings of a mailbox (verification
   off, STARTTLS off). */
void imap_warn_insecure(const struct config_imap *m);

/* Creates the poller of one mailbox (after imap_check). NULL with error. */
struct imap_mailbox *imap_new(const struct imap_env *env, const struct config_imap *m,
			      GError **error);
/* Frees it; its timer closes asynchronously, so the loop must run once more.
   The mailbox must be idle (imap_idle) or aborted. NULL is accepted. */
void imap_free(struct imap_mailbox *mb);

/* Starts the first pass now; later passes follow every poll_interval (or the
   backoff after an error). With once, no pass follows the first. */
void imap_start(struct imap_mailbox *mb, bool once);
/* Asks it to stop: no new fetch starts, the messages in hand are stored and
   acknowledged, then pass_done is called. Returns true when it was idle
   already (pass_done is then not called). */
bool imap_stop(struct imap_mailbox *mb);
/* Cancels the transfers in flight now (the exit deadline) and ends the pass
   as failed; pass_done is called. */
void imap_abort(struct imap_mailbox *mb);

/* No pass is running. */
bool imap_idle(const struct imap_mailbox *mb);
/* The last pass ended without error. */
bool imap_last_ok(const struct imap_mailbox *mb);
/* "imap NAME". */
const char *imap_name(const struct imap_mailbox *mb);

#endif
