/* notify/: the notices a complainant is owed, and nothing else.

   - An acknowledgment (回执) when a draft is created, an acceptance notice
     (受理通知, when `[notices] send_acceptance = yes`) and a non-acceptance
     notice (不予受理通知) with its reason and the remedies when a responder
     decides.
   - Rendering (template.c): plain UTF-8 templates in
     TEMPLATES/LANG/{acknowledgment,acceptance,non_acceptance}.txt, first line
     "Subject: ...", with named placeholders ({ref}, {received_at} ...) and
     TEMPLATES/LANG/phrases.txt for the reason texts, the remedies and the
     date format. Every file is read and checked when notify_new() runs: an
     unknown placeholder is a configuration error naming file and
     placeholder. Account and ID numbers in any value taken from a complaint
     are masked.
   - Loop protection (guard.c): no notice to machine mail (auto-reply,
     bounce, list, our own notices), to a null sender, to MAILER-DAEMON /
     postmaster / noreply-style addresses, to our own addresses, and at most
     `max_acks_per_day` acknowledgments per address in 24 hours (counted by
     the store inside the transaction that would queue one more).
   - A notice is rendered before the store transaction (or, for an
     acknowledgment, inside it once the reference is numbered, through
     store_notice_fn) and written as an outbox row in the SAME transaction as
     the event that causes it; its Message-ID is fixed then, so a resend
     after a crash is the same message.
   - The drainer (outbox.c) builds each due notice as RFC 5322 mail with
     GMime (message.c: Auto-Submitted, In-Reply-To/References, no CR or LF
     from complainant text in any header) and sends it with libcurl (smtp.c:
     smtps:// or STARTTLS required, AUTH, timeouts, one connection per
     drain), marks it sent only on the server's 250, retries temporary
     failures on the `[notices] retry` schedule and then marks it failed.
     A notice without an e-mail address (letters, faxes) is rendered to a
     file in `[notices] print_dir` for the mailroom to post (state "print").
   SECURITY: everything taken from a complaint (name, subject, note,
   addresses, Message-ID) is hostile: header values are stripped of control
   characters, addresses and Message-IDs must be plain ASCII of a strict
   shape or they are not used. */
#ifndef INTAKE_NOTIFY_NOTIFY_H
#define INTAKE_NOTIFY_NOTIFY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "core/config.h"
#include "store/store.h"

#define NOTIFY_ERROR (notify_error_quark())
GQuark notify_error_quark(void);
enum notify_error_code {
	NOTIFY_ERROR_CONFIG,    /* templates or settings wrong */
	NOTIFY_ERROR_MESSAGE,   /* a notice could not be built */
	NOTIFY_ERROR_SMTP,      /* the SMTP exchange failed */
	NOTIFY_ERROR_PRINT,     /* the print file could not be written */
};

/* ---- Templates (notify/template.c) ---- */

/* The kinds of notice, each one template file. */
#define NOTIFY_ACKNOWLEDGMENT "acknowledgment"
#define NOTIFY_ACCEPTANCE "acceptance"
#define NOTIFY_NON_ACCEPTANCE "non_acceptance"

struct notify_templates;

/* Reads and checks every template and phrases.txt of DIR/LANGUAGE; times are
   written in tz. NULL with NOTIFY_ERROR_CONFIG naming the file and the
   unknown placeholder, missing file or missing reason. */
struct notify_templates *notify_templates_load(const char *dir, const char *language,
					       GTimeZone *tz, GError **error);
void notify_templates_free(struct notify_templates *t);

/* What a notice says. Strings are borrowed; NULL and 0 render as empty. */
struct notify_values {
	const char *ref;
	const char *name, *subject, *note;   /* from the complaint: masked */
	const char *reason;                  /* a reason code (non-acceptance) */
	const char *sender;                  /* the display name of [smtp] from */
	const char *const *accounts;         /* NULL-terminated, shown masked */
	int64_t received_at, acceptance_due, handling_due, decided_at;
};

/* Renders one kind. Returns 0 with *subject_r (one line, "[REF]" in it) and
   *body_r newly allocated, or -1 with error for an unknown kind or reason. */
int notify_render(const struct notify_templates *t, const char *kind,
		  const struct notify_values *v, char **subject_r, char **body_r,
		  GError **error);

/* A copy of complainant text with account and ID numbers masked: every run
   of 8 or more digits, and every one of `accounts` (NULL-terminated, may be
   NULL) wherever it appears, keeps only its last 4 characters. */
char *notify_mask(const char *text, const char *const *accounts);

/* ---- Loop protection (notify/guard.c) ---- */

/* True for a plain addr-spec in ASCII: local@domain, no spaces, quotes,
   brackets, control characters, at most 254 bytes. Only such addresses are
   written into SMTP commands and headers. */
bool notify_address_valid(const char *address);

/* Why no notice may go to `address` for a source classified as
   auto_submitted (NULL: a person's mail), or NULL when one may. `own` is the
   NULL-terminated list of our addresses (may be NULL). A NULL or empty
   address is refused as a null sender. The reason is a static string. */
const char *notify_guard_refuses(const char *address, const char *auto_submitted,
				 const char *const *own);

/* ---- Building mail (notify/message.c) ---- */

struct notify_mail {
	const char *from;          /* "Name <address>" as in [smtp] from */
	const char *to;            /* an address (checked) */
	const char *subject, *body;
	const char *message_id;    /* "<...>" */
	const char *in_reply_to;   /* "<...>" or NULL */
	int64_t date;
	GTimeZone *tz;             /* the zone of the Date header; NULL: local */
};

/* A header value on one line (newly allocated): every control character,
   CR and LF included, becomes a space; leading and trailing blanks go. */
char *notify_header_text(const char *text);

/* The address of a sender written "Name <address>" (or a bare address),
   newly allocated; "" for NULL. */
char *notify_from_address(const char *from);

/* A new Message-ID "<intake.TIME.RANDOM@DOMAIN>", the domain taken from
   from_address (or "localhost"). */
char *notify_message_id(const char *from_address);

/* "<id>" when id (with or without brackets) is a well-formed Message-ID,
   else NULL. Newly allocated. */
char *notify_clean_message_id(const char *id);

/* The mail as RFC 5322 bytes with CRLF line ends: UTF-8 encoded-words in
   headers, the body base64 text/plain UTF-8. Returns a GBytes or NULL with
   NOTIFY_ERROR_MESSAGE. */
GBytes *notify_message_build(const struct notify_mail *m, GError **error);

/* ---- SMTP (notify/smtp.c) ---- */

struct notify_smtp;

/* Checks the [smtp] password file at start: a regular file only its owner
   can read (mode 0600 or stricter). Returns 0, or -1 with CONFIG_ERROR
   naming the file, key and mode. */
int notify_smtp_check(const struct config *cfg, GError **error);

/* A session to the [smtp] server; the connection is opened on the first
   send and reused by the next ones. NULL with NOTIFY_ERROR_CONFIG when there
   is no [smtp] url or the password file cannot be read. */
struct notify_smtp *notify_smtp_new(const struct config_smtp *cfg, GError **error);
void notify_smtp_free(struct notify_smtp *s);

/* Levels of a cancel flag (an atomic_int shared with another thread). */
enum { NOTIFY_CANCEL_NONE, NOTIFY_CANCEL_SOON, NOTIFY_CANCEL_NOW };

/* With cancel set, an exchange in progress is aborted (CURLE_ABORTED_BY_CALLBACK,
   a temporary failure) once *cancel reaches NOTIFY_CANCEL_NOW. */
void notify_smtp_set_cancel(struct notify_smtp *s, const atomic_int *cancel);

/* How a send failed. */
enum notify_smtp_failure {
	NOTIFY_SMTP_TEMPORARY,     /* 4xx, a dropped connection: retry later */
	NOTIFY_SMTP_PERMANENT,     /* 5xx (or addresses we refuse to send to): no retry */
	NOTIFY_SMTP_UNREACHABLE,   /* no connection, TLS or login failed: the server is
				      unusable now, the other notices wait too */
};

/* Sends one message to one recipient. Returns 0 when the server answered 250
   to the data; -1 with NOTIFY_ERROR_SMTP (naming the server's last reply
   code) and *failure_r otherwise. */
int notify_smtp_send(struct notify_smtp *s, const char *from_address, const char *to,
		     GBytes *message, enum notify_smtp_failure *failure_r, GError **error);

/* ---- The outbox drainer (notify/outbox.c) ---- */

struct notify_drain_stats { unsigned sent, retry, failed, printed; };

/* Sends or prints every notice due now, oldest first. A notice with an
   address goes by SMTP: sent on 250, otherwise attempts + 1 and a retry
   after the next wait of `[notices] retry`, or "failed" after the last
   (a 5xx refusal fails at once). One without goes to a file in print_dir.
   Without an [smtp] section, mail stays pending (logged). Returns 0 with
   *stats filled (may be NULL), or -1 with error when the store failed. */
int notify_drain(struct store *st, const struct config *cfg, struct notify_drain_stats *stats,
		 GError **error);

/* The same for a drain on a thread of its own (st its own connection):
   from NOTIFY_CANCEL_SOON on it takes no further notice (those it had
   claimed are released at once), at NOTIFY_CANCEL_NOW the exchange in
   progress is aborted too. */
int notify_drain_cancellable(struct store *st, const struct config *cfg,
			     struct notify_drain_stats *stats, const atomic_int *cancel,
			     GError **error);

/* ---- Notices for the store (notify/notify.c) ---- */

struct notify;
/* The templates and settings of a configuration; own: our addresses
   (NULL-terminated, copied; may be NULL). NULL with error. */
struct notify *notify_new(const struct config *cfg, const char *const *own, GError **error);
void notify_free(struct notify *nf);

/* A notice prepared for the store (opaque). */
struct notify_notice;
void notify_notice_free(struct notify_notice *n);   /* NULL-safe */

/* The acknowledgment of a draft about to be stored from src, or NULL when
   none is owed (nf NULL, the guard refuses: logged with src's origin).
   Attach it to the draft as d->notice = notify_notice_for_ref,
   d->notice_ctx = the result. */
struct notify_notice *notify_acknowledgment(struct notify *nf, const struct store_source *src,
					    const struct store_draft *d, const char *auto_submitted);
/* A store_notice_fn: renders the prepared notice for the new reference. */
const struct store_notice *notify_notice_for_ref(const char *ref, void *notice);

/* The notice of a decision about complaint `ref`, rendered now, or NULL when
   none is owed (nf NULL, a merge, an acceptance without send_acceptance, the
   guard refuses, or no such complaint). */
struct notify_notice *notify_decision(struct notify *nf, struct store *st, const char *ref,
				      const struct store_decision *dec);
/* The store's view of a prepared notice; NULL for NULL. */
const struct store_notice *notify_notice_get(const struct notify_notice *n);

/* ---- The responders' daily digest (notify/reminder.c) ---- */

struct calendar;

/* The digest of drafts for `now`: overdue, due today, due on the next
   working day (newly allocated text); counts[] gets the three numbers. */
char *notify_digest_text(GPtrArray *drafts, const struct calendar *cal, GTimeZone *tz,
			 int64_t now, unsigned counts[3]);

enum notify_remind_result {
	NOTIFY_REMIND_OFF,              /* no [reminders] section */
	NOTIFY_REMIND_NOT_WORKING_DAY,  /* today is a day off: none */
	NOTIFY_REMIND_TOO_EARLY,        /* before [reminders] time */
	NOTIFY_REMIND_DONE_TODAY,       /* already queued today */
	NOTIFY_REMIND_QUEUED,
};

/* Queues today's digest to every [reminders] address through the outbox,
   once per day, on working days at or after [reminders] time (force: now,
   whatever the day and time, still once per day). Returns 0 with *result
   saying what happened, or -1 with error. */
int notify_remind(struct store *st, const struct config *cfg, const struct calendar *cal,
		  GTimeZone *tz, int64_t now, bool force, enum notify_remind_result *result,
		  GError **error);

#endif
