/* Logging to stderr: one line per event, with a level and the source it
   concerns (mailbox + UID, file, or module), and masking of account and ID
   numbers so that no full number ever reaches a log. */
#ifndef INTAKE_CORE_LOG_H
#define INTAKE_CORE_LOG_H

#include <stddef.h>
#include <glib.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Sets the lowest level printed (default INFO). */
void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn", "error". Returns 0, or -1 if unknown. */
int log_level_parse(const char *name, enum log_level *level_r);

/* Prints one line: "2026-11-25T10:00:00+08:00 warn [imap main uid 42] text".
   Any run of 11 or more digits (with an optional trailing X), written with or
   without spaces or hyphens, is masked in the final line as a safety net. */
void log_msg(enum log_level level, const char *source, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

#define log_debug(src, ...) log_msg(LOG_LEVEL_DEBUG, (src), __VA_ARGS__)
#define log_info(src, ...) log_msg(LOG_LEVEL_INFO, (src), __VA_ARGS__)
#define log_warn(src, ...) log_msg(LOG_LEVEL_WARN, (src), __VA_ARGS__)
#define log_error(src, ...) log_msg(LOG_LEVEL_ERROR, (src), __VA_ARGS__)

/* Returns a newly allocated copy of an account, ID or phone number with every
   character but the last 4 replaced by '*' ("3100****4567" keeps separators
   out: the result has the same length as the input). Inputs of 4 characters
   or fewer are fully masked. NULL gives NULL. */
char *log_mask_number(const char *number);

/* Returns a newly allocated copy of free text in which every run of 8 or more
   digits (an account, an ID number with its X, a phone) keeps only its last
   4 digits. Complaint references (TS20261123-0007) are kept. Used for log
   lines and for notice text. */
char *log_mask_text(const char *text, unsigned min_digits);

/* Routes GLib and GMime warnings into log_msg. */
void log_capture_glib(void);

#endif
