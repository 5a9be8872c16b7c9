/* The spool: originals (mails, scans, attachments) saved content-addressed
   under one folder, as SPOOL/ab/cd/<sha256>. A file is written to a temporary
   name, fsync'd, renamed into place and its folder fsync'd, so that a crash
   leaves either the whole file or none. Spool files are never modified. */
#ifndef INTAKE_STORE_SPOOL_H
#define INTAKE_STORE_SPOOL_H

#include <stddef.h>
#include <stdbool.h>
#include <glib.h>

#define SPOOL_SHA256_HEX 65   /* 64 hex digits and NUL */

struct spool;
struct spool_writer;

/* Opens (creating with mode 0700) the spool folder. NULL with error. */
struct spool *spool_open(const char *dir, GError **error);
void spool_free(struct spool *sp);

/* Deferred durability, for a group commit: while on, files are renamed into
   place without an fsync each; spool_sync then makes every file placed since
   durable at once (syncfs of the spool's file system), and must succeed
   before anything that refers to them is committed. Off by default. */
void spool_defer(struct spool *sp, bool on);
int spool_sync(struct spool *sp, GError **error);

/* Saves bytes; fills sha_r (hex) and, if path_r is given, the relative path
   (newly allocated, "ab/cd/<sha>"). A file already present with the same hash
   is kept as it is. Returns 0, or -1 with error. */
int spool_save(struct spool *sp, const void *data, size_t len, char sha_r[SPOOL_SHA256_HEX],
	       char **path_r, GError **error);

/* The same for the bytes of a file, read from offset 0 to its end (it moves the offset). */
int spool_save_fd(struct spool *sp, int fd, char sha_r[SPOOL_SHA256_HEX], char **path_r,
		  GError **error);

/* Streaming: begin, write any number of times, then commit (or abort).
   spool_writer_commit frees the writer in every case. */
struct spool_writer *spool_writer_begin(struct spool *sp, GError **error);
int spool_writer_write(struct spool_writer *w, const void *data, size_t len, GError **error);
/* Writes what fd holds from its current offset to its end. Returns 0 or -1. */
int spool_writer_write_fd(struct spool_writer *w, int fd, GError **error);
int spool_writer_commit(struct spool_writer *w, char sha_r[SPOOL_SHA256_HEX], char **path_r,
			GError **error);
void spool_writer_abort(struct spool_writer *w);
/* Bytes written so far. */
size_t spool_writer_size(const struct spool_writer *w);

/* Absolute path of a relative spool path (newly allocated). */
char *spool_path(const struct spool *sp, const char *rel);

/* Re-hashes the file at the relative path. Returns 1 if it matches
   expected_sha, 0 if it differs (*actual_r set), -1 if it cannot be read. */
int spool_verify(const struct spool *sp, const char *rel, const char *expected_sha,
		 char actual_r[SPOOL_SHA256_HEX], GError **error);

/* Hex SHA-256 of a buffer. */
void spool_sha256(const void *data, size_t len, char sha_r[SPOOL_SHA256_HEX]);

#endif
