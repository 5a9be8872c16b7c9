/* Ingestion of one original: save it to the spool first, parse it, compute
   its deadlines and store its draft (or its classification) in one
   transaction. Idempotent: the same origin or the same bytes again create
   nothing. Used by `intake ingest` and by the pollers and watchers. */
#ifndef INTAKE_INGEST_INGEST_H
#define INTAKE_INGEST_INGEST_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "core/calendar.h"
#include "core/config.h"
#include "parsers/record.h"
#include "parsers/sniff.h"
#include "store/store.h"

struct ingest;

/* Opens the store, spool, calendar and type sniffer of a configuration, and
   recomputes the deadlines of undecided complaints if the calendar file
   changed since the last start. NULL with error. */
struct ingest *ingest_open(const struct config *cfg, GError **error);
void ingest_free(struct ingest *in);

struct store *ingest_store(struct ingest *in);
const struct calendar *ingest_calendar(struct ingest *in);
GTimeZone *ingest_timezone(struct ingest *in);

/* The deadline rules of a configuration. */
void ingest_rules(const struct config *cfg, struct calendar_rules *rules);

/* Computes deadlines per the configuration. Returns 0 or -1 with error; logs
   a warning when the calendar does not cover a counted day. */
int ingest_deadlines(struct ingest *in, int64_t received_at, struct store_deadlines *out,
		     GError **error);

/* Our own addresses (mailbox users, the SMTP sender): mail from them is our
   own notice coming back. A NULL-terminated list; free with g_strfreev. */
char **ingest_own_addresses(const struct config *cfg);

/* Parses a message with the limits of the configuration, storing nothing.
   `own` as from ingest_own_addresses (may be NULL). Returns the record (free
   with record_free); never NULL. */
struct record *ingest_parse_message(const struct config *cfg, struct sniff *sniff,
				    const char *const *own, const char *data, size_t len);

/* Where an original came from. */
struct ingest_origin {
	const char *channel;    /* "email" (letters and faxes: see the OCR path) */
	const char *kind;       /* "manual", "imap", "file" */
	const char *origin;     /* unique name; NULL: "manual:" + SHA-256 */
	int64_t received_at;    /* 0: now */
};

enum ingest_status { INGEST_CREATED, INGEST_KNOWN, INGEST_CLASSIFIED };

struct ingest_outcome {
	enum ingest_status status;
	char *ref;             /* the complaint created or already made, or NULL */
	char *disposition;     /* for INGEST_CLASSIFIED: auto_reply, bounce, list, own_notice */
	bool uncertain;        /* the deadlines are flagged uncertain */
};
void ingest_outcome_clear(struct ingest_outcome *o);

/* Ingests one message. Returns 0 with *out filled, or -1 with error (nothing
   was stored then; the original may already be in the spool, which is
   harmless). */
int ingest_message(struct ingest *in, const struct ingest_origin *o, const char *data, size_t len,
		   struct ingest_outcome *out, GError **error);

#endif
