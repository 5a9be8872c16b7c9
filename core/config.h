/* The configuration: an INI file (GKeyFile) read once at start, validated
   whole, and handed out as const settings structs with defaults filled in.
   Only this module touches GKeyFile for intake.conf. */
#ifndef INTAKE_CORE_CONFIG_H
#define INTAKE_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#define CONFIG_ERROR (config_error_quark())
GQuark config_error_quark(void);
enum config_error_code { CONFIG_ERROR_INVALID };

/* Limits on hostile input; 0 in a field never occurs after loading. */
struct config_limits {
	uint64_t message_bytes;     /* default 50 MiB */
	unsigned mime_depth;        /* default 20 */
	unsigned mime_parts;        /* default 500 */
	uint64_t attachment_bytes;  /* default 25 MiB */
	unsigned ocr_pages;         /* default 20 */
	unsigned ocr_seconds;       /* default 120 */
	uint64_t ocr_memory;        /* address space of one OCR child; default 2 GiB */
	char *ocr_languages;        /* tesseract -l, default chi_sim */
	char *ocr_fallback_languages;  /* for pages with few ideographs; default chi_sim+eng
				       when ocr_languages is not set, else none ("") */
	unsigned ocr_jobs;          /* OCR children per document; default the number of cores */
};

struct config_imap {
	char *name;
	char *url;
	char *user;
	char *password_file;        /* absolute, or NULL */
	char *password_env;         /* or NULL */
	char *after;                /* "flag" or "move:FOLDER" */
	unsigned poll_interval_s;   /* default 60 */
	char *tls_ca_file;          /* absolute, or NULL */
	bool tls_verify;            /* default true */
	bool starttls;              /* imap:// requires STARTTLS; default true */
	char *oauth2_token_file;    /* XOAUTH2 bearer token, re-read at each login; or NULL */
	uint64_t max_message_bytes; /* max_message_size; 0: [limits] message_bytes */
	unsigned fetch_connections; /* connections fetching in parallel, default 4 */
	unsigned timeout_s;         /* a stalled command fails after this, default 60 */
	bool idle;                  /* wait in IMAP IDLE between polls; default true */
};

struct config_dropdir {
	char *name;
	char *path, *archive, *failed;   /* absolute */
	char *channel;                   /* "letter" or "fax" */
	unsigned settle_ms;              /* default 2000, from 100 ("500ms", "0.5", "2s") */
	unsigned rescan_s;               /* default 30 */
	uint64_t max_bytes;              /* default 100 MiB */
};

struct config_smtp {
	char *url;           /* NULL when no [smtp] section */
	char *user, *password_file, *from, *tls_ca_file;
	bool starttls;       /* smtp:// requires STARTTLS; default true ("no": tests only) */
	unsigned timeout_s;  /* whole SMTP exchange of one notice, default 60 */
	unsigned connect_timeout_s;   /* default 15 */
};

/* [notices]: what notify/ queues and how the outbox drainer retries. */
struct config_notices {
	bool enabled;             /* default: true when the file has a [notices] section */
	bool send_acceptance;     /* send_acceptance, default false */
	bool trust_reply_to;      /* trust_reply_to: notices to a mail's Reply-To; default false */
	unsigned drain_interval_s;    /* drain_interval: how often `intake run` sends what
				         is due, default 30 s */
	unsigned max_acks_per_day;    /* per address in 24 h, default 3; 0 no limit */
	unsigned *retry_s;        /* retry = 1m,5m,30m,2h,6h: the waits after each failure */
	unsigned n_retry;
	char *print_dir;          /* print_dir, default var/print (absolute) */
};

/* [reminders]: the daily digest of due drafts for the responders. */
struct config_reminders {
	int time;                 /* time = HH:MM (minutes after midnight), -1: no digest */
	char **to;                /* to = a@x.cn, b@x.cn (NULL-terminated; NULL when off) */
};

struct config {
	char *path;                 /* the file read */
	char *dir;                  /* its folder: relative paths are resolved here */
	char *store_path;           /* [store] path, default var/intake.db */
	char *spool_path;           /* [store] spool, default var/spool */
	char *calendar_file;        /* [calendar] file, default config/calendar/cn.conf */
	char *timezone;             /* [calendar] timezone, default Asia/Shanghai */
	int close_of_business;      /* [calendar] close_of_business as minutes, -1 none */
	int acceptance_days;        /* [calendar] acceptance_days, default 3 */
	int handling_days;          /* [calendar] handling_days, default 20 */
	int extension_days;         /* [calendar] extension_days, default 20 */
	char *reference_prefix;     /* [intake] reference_prefix, default TS */
	char *log_level;            /* [intake] log_level, default info */
	char **regulator_domains;   /* [intake] regulator_domains: senders whose forwards
				       are major; NULL: the built-in list (record.h) */
	char **regulator_phrases;   /* [intake] regulator_phrases, likewise */
	char *customers_file;       /* [customers] file, or NULL */
	char *templates_dir;        /* [notices] templates, default config/templates */
	char *language;             /* [notices] language, default zh */
	struct config_limits limits;     /* [limits] */
	struct config_smtp smtp;
	struct config_notices notices;
	struct config_reminders reminders;
	GPtrArray *imap;            /* of struct config_imap* */
	GPtrArray *dropdirs;        /* of struct config_dropdir* */
};

/* Reads and validates the file. Returns the configuration (free with
   config_free) or NULL with an error naming the file, section, key, the value
   and what was expected. */
struct config *config_load(const char *path, GError **error);
/* The same from bytes; `path` names the file in messages and anchors relative
   paths. */
struct config *config_load_data(const char *data, size_t len, const char *path, GError **error);
void config_free(struct config *cfg);

/* Which file to read: the -c argument if given, else $INTAKE_CONFIG, else
   ./config/intake.conf. Returns a static or argument string. */
const char *config_default_path(const char *arg);

/* Parses "90", "90s", "5m", "2h", "1d" into seconds. Returns 0 or -1. */
int config_parse_duration(const char *text, uint64_t *seconds_r);
/* Parses "500ms", "0.5", "1.25s", "2", "2s", "1m" (anything
   config_parse_duration takes) into milliseconds; decimals are seconds,
   at most three of them. Returns 0 or -1. */
int config_parse_millis(const char *text, uint64_t *ms_r);
/* Parses "1024", "10k", "25M", "1G" (powers of 1024) into bytes. Returns 0 or -1. */
int config_parse_size(const char *text, uint64_t *bytes_r);
/* Parses "HH:MM" into minutes after midnight. Returns 0 or -1. */
int config_parse_clock(const char *text, int *minutes_r);

#endif
