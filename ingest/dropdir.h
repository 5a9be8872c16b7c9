/* Drop folders: the scanned letters and received faxes that mailroom staff
   and the fax server put into a folder become drafts. A file is taken once
   it is complete: at once when it was renamed into the folder (IN_MOVED_TO:
   the writer finished it elsewhere) and has not changed since; otherwise
   when its size and mtime stayed unchanged over the settle time, counted
   from its IN_CLOSE_WRITE (writers may close and reopen) or from the first
   look of a periodic rescan, or when it was last modified longer ago. Its
   bytes must not change while they are read. Its text is read
   (parsers/ocr.h, in the libuv thread pool, at most one child per core),
   its draft stored, and only then is it moved to ARCHIVE/YYYY-MM-DD/. A
   file that cannot become a draft moves to FAILED/ with NAME.reason.txt
   beside it, in Chinese and English.
   SECURITY: anyone who can write the folder is untrusted. Files are opened
   with O_NOFOLLOW | O_NONBLOCK and checked with fstat: symbolic links,
   FIFOs, devices and files with more than one hard link are refused. Names
   are never used as paths outside the folder and are cleaned of control
   characters before they reach a log or a reason file. */
#ifndef INTAKE_INGEST_DROPDIR_H
#define INTAKE_INGEST_DROPDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include <uv.h>

#include "core/config.h"
#include "ingest/ingest.h"

#define DROPDIR_ERROR (dropdir_error_quark())
GQuark dropdir_error_quark(void);
enum dropdir_error_code {
	DROPDIR_ERROR_SIDECAR,   /* a sidecar that cannot be read or says something wrong */
	DROPDIR_ERROR_FILE,      /* the document cannot be opened, read or is refused */
	DROPDIR_ERROR_FOLDER,    /* the drop, archive or failed folder is not usable */
};

/* ---- Sidecars: NAME.meta beside NAME ---- */

/* What a sidecar says. Lines "key=value"; blank lines and lines starting
   with '#' or ';' are skipped; a UTF-8 BOM and CRLF are accepted; unknown
   keys are ignored (fax servers write more). A sidecar is read when its
   document is taken: it must be in place by then (write it first). */
struct dropdir_meta {
	bool has_received_at;
	int64_t received_at;     /* received_at=2026-11-23T09:30+08:00 (Unix seconds) */
	char *caller;            /* caller=02112345678 (printable, at most 64 bytes) */
	unsigned pages;          /* pages=3 (1 to 10000), 0 when absent */
};

#define DROPDIR_META_MAX_BYTES 65536

/* Parses a sidecar. Times without an offset are in tz; a date without a
   time is 09:00 in tz (see dropdir_name_date). Returns 0 with *out filled,
   or -1 with an error naming the line, the key and what was expected (out
   is then cleared). Pure: no I/O. */
int dropdir_meta_parse(const char *data, size_t len, GTimeZone *tz, struct dropdir_meta *out,
		       GError **error);
void dropdir_meta_clear(struct dropdir_meta *m);

/* Parses "YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]][Z|+HH:MM|+HHMM|+HH]" into Unix
   seconds. Returns 0 or -1. */
int dropdir_parse_time(const char *text, GTimeZone *tz, int64_t *t_r);

/* The receipt date of a name that starts "YYYYMMDD_" (the mailroom's date
   stamp): 09:00 of that day in tz, or now if that is earlier (a letter
   stamped today before nine). Returns 1 with *t_r set, 0 when the name has
   no such prefix or the date is not a real date or is in the future. */
int dropdir_name_date(const char *name, GTimeZone *tz, int64_t now, int64_t *t_r);

/* True for names the watcher never takes: ".*", "*.part", "*.tmp", "~$*",
   "*.filepart", and sidecars "*.meta". */
bool dropdir_name_ignored(const char *name);

/* ---- Taking one file by hand (intake ingest / parse --channel letter|fax) ---- */

/* Reads the document at path (with its sidecar, if any: PATH.meta, else the
   name without its extension + ".meta"), its text, and ingests it as
   channel "letter" or "fax"; nothing is moved. received_at (not 0)
   overrides the receipt time. Returns 0 with *out filled, or -1 with error
   (an OCR_ERROR when the text could not be read). */
int dropdir_ingest_file(struct ingest *in, const char *channel, const char *path,
			int64_t received_at, struct ingest_outcome *out, GError **error);

/* The same without storing anything: the parsed record (free with
   record_free), or NULL with error. */
struct record *dropdir_parse_file(const struct config *cfg, const char *channel, const char *path,
				  GError **error);

/* ---- The watcher ---- */

struct dropdir;

/* A watcher of one [dropdir NAME] section; creates the archive and failed
   folders. loop may be NULL when only dropdir_pass / dropdir_once are used.
   in and cfg must outlive the watcher. NULL with error (the folder is not a
   readable folder, ...). */
struct dropdir *dropdir_new(uv_loop_t *loop, struct ingest *in, const struct config_dropdir *cfg,
			    GError **error);

/* Scans the folder once and takes every settled file, synchronously (OCR
   included). Files not yet settled are remembered (see dropdir_pending).
   Returns the number of files handled (drafts, duplicates and refusals), or
   -1 when the folder cannot be read (logged). */
int dropdir_pass(struct dropdir *d);

/* Files seen but not yet settled, or waiting for a free OCR slot. */
unsigned dropdir_pending(const struct dropdir *d);

/* `intake run --once`: passes until no file is pending, waiting in between
   until the first pending file may have settled, at most 3 rounds (a file
   still changing then is left for the next run). Returns the files
   handled, or -1 as dropdir_pass. */
int dropdir_once(struct dropdir *d);

/* The daemon: watches the folder with inotify (IN_CLOSE_WRITE |
   IN_MOVED_TO | IN_CREATE, through uv_poll; a file renamed in is looked at
   at once, a closed one when its settle time from the close is over),
   rescans it every rescan interval and at start, and reads documents in
   the thread pool, at most one per core. Returns 0, or -1 (logged) when
   inotify cannot be set up, in which case the rescan timer alone still
   runs. */
int dropdir_start(struct dropdir *d);

/* Stops watching: closes the handles. Documents being read are finished
   and committed by the loop. Run the loop until it ends, then free. */
void dropdir_stop(struct dropdir *d);

/* Kills the OCR children of the documents being read (any thread); those
   documents stay in the folder for the next start. */
void dropdir_abort(struct dropdir *d);

/* True when no document is being read. */
bool dropdir_idle(const struct dropdir *d);

/* Called on the loop thread each time the watcher becomes idle after
   reading documents (may be NULL). */
void dropdir_set_idle_cb(struct dropdir *d, void (*fn)(struct dropdir *d, void *ctx), void *ctx);

/* Counters since the start. */
struct dropdir_stats {
	unsigned drafts;      /* new drafts */
	unsigned known;       /* the same bytes again: archived, no draft */
	unsigned failed;      /* moved to the failed folder */
	unsigned errors;      /* left in place to retry (store errors, moves that failed) */
};
void dropdir_get_stats(const struct dropdir *d, struct dropdir_stats *st);

/* Frees a watcher that is stopped (or was never started) and whose loop has
   run its close callbacks. NULL-safe. */
void dropdir_free(struct dropdir *d);

#endif
