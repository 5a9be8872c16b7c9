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
/* The notices of the configuration ([notices]), or NULL when they are off. */
struct notify *ingest_notify(struct ingest *in);
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
   The text of up to 5 document attachments (PDF, DOCX, images of 4 KiB or
   more; parsers/ocr.h, child processes) is read into their `text` and feeds
   the extraction. `own` as from ingest_own_addresses (may be NULL). Returns
   the record (free with record_free); never NULL. */
struct record *ingest_parse_message(const struct config *cfg, struct sniff *sniff,
				    const char *const *own, const char *data, size_t len);

/* The same, reading the message from a file (fd at offset 0): large
   attachments cost disk in the system's temporary folder, not memory. */
struct record *ingest_parse_message_fd(const struct config *cfg, struct sniff *sniff,
				       const char *const *own, int fd);

/* Where an original came from. */
struct ingest_origin {
	const char *channel;    /* "email"; "letter" or "fax" for ingest_document */
	const char *kind;       /* "manual", "imap", "file" */
	const char *origin;     /* unique name; NULL: "manual:" + SHA-256 */
	int64_t received_at;    /* 0: now */
	bool group;             /* join the group commit (see ingest_group_begin) */
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

/* The same for a message being written to the spool: w from
   ingest_writer_begin, filled with the message's bytes (spool_writer_write)
   as they arrive, so no message is held whole in memory. ingest_message_writer
   takes w (committed or aborted) and parses the spooled file. */
struct spool_writer;
struct spool_writer *ingest_writer_begin(struct ingest *in, GError **error);
int ingest_message_writer(struct ingest *in, const struct ingest_origin *o, struct spool_writer *w,
			  struct ingest_outcome *out, GError **error);

/* The same for a message read from fd (a file or pipe, read to its end). */
int ingest_message_fd(struct ingest *in, const struct ingest_origin *o, int fd,
		      struct ingest_outcome *out, GError **error);

/* ---- Group commit ----
   A message ingested with o->group set opens (or joins) a group: its rows are
   written without a commit and its originals without an fsync each, until
   ingest_group_commit makes the spool durable (one syncfs) and commits the
   group in one transaction. Until then nothing of it is durable, so its
   source must not be acknowledged (the IMAP message stays on the server).
   Any other write (a document, a message without o->group, a notice marked
   sent) commits the open group first. ingest_group_lost counts the groups
   rolled back on a failed commit: compare it before and after to know that
   what was ingested in between is durable. */
int ingest_group_commit(struct ingest *in, GError **error);
uint64_t ingest_group_lost(struct ingest *in);
/* Microseconds since the open group began (0 when none is open). */
int64_t ingest_group_age(struct ingest *in);

/* ---- Scanned letters and faxes (the OCR path) ---- */

/* The configuration the ingest was opened with. */
const struct config *ingest_config(struct ingest *in);

/* The OCR settings ([limits] ocr_*) of a configuration. */
struct ocr_settings;
void ingest_ocr_settings(const struct config *cfg, struct ocr_settings *s);

/* What is known of a document besides its bytes and its text. Strings are
   borrowed; NULL / 0 when unknown. */
struct ingest_doc_meta {
	const char *filename;        /* the name it was dropped under (for the subject) */
	const char *detected_type;   /* from its bytes */
	const char *engine;          /* how the text was read (struct ocr_result) */
	const char *language;
	unsigned pages;
	const char *caller;          /* a fax's calling number (sidecar caller=) */
	unsigned declared_pages;     /* pages the sidecar announced (pages=) */
	const char *const *notes;    /* NULL-terminated: OCR notes, sidecar notes */
};

/* The record of a letter or fax ("letter" / "fax") from its text: the
   fields extracted, the complainant resolved, notice_by "email" when the text
   gives an e-mail address, else "post". Stores nothing. Never NULL. */
struct record *ingest_parse_document(const struct config *cfg, const char *channel,
				     const char *text, const struct ingest_doc_meta *meta);

/* Ingests one scanned letter or fax whose text was already read: the
   original is spooled, its draft stored like a mail's (o->channel "letter"
   or "fax"; an acknowledgment without an address goes to the post). The
   same origin or the same bytes again create nothing (INGEST_KNOWN).
   Returns 0 with *out filled, or -1 with error. */
int ingest_document(struct ingest *in, const struct ingest_origin *o, const char *data,
		    size_t len, const char *text, const struct ingest_doc_meta *meta,
		    struct ingest_outcome *out, GError **error);

#endif
