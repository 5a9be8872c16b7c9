/* Content-addressed spool of originals; see spool.h.
   SECURITY: names in the spool come only from hashes we compute, never from
   the input, so hostile file names cannot escape the folder. */
#include "store/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/digest.h"

struct spool {
	char *dir;
	int dir_fd;
	bool defer;      /* place without fsync (spool_defer) */
	bool dirty;      /* placed without fsync since the last spool_sync */
};

#define SPOOL_COPY_CHUNK 65536   /* bytes read from a file at a time */

struct spool_writer {
	struct spool *sp;
	char *tmp_path;
	int fd;
	size_t size;
	struct digest *sum;
};

static int spool_fail_errno(GError **error, const char *op, const char *path, int err)
{
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "%s(%s) failed: %s", op,
		    path, g_strerror(err));
	return -1;
}

/* Temporary files of writers that never finished (a process killed while
   writing) are removed once they are a day old: older than any write in
   progress, in this process or another using the same spool. */
#define SPOOL_STALE_S (24 * 3600)
static void spool_sweep_tmp(const char *tmp)
{
	GDir *d = g_dir_open(tmp, 0, NULL);
	if (d == NULL)
		return;
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		if (!g_str_has_prefix(name, "in-"))
			continue;
		g_autofree char *path = g_build_filename(tmp, name, NULL);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime > SPOOL_STALE_S)
			unlink(path);
	}
	g_dir_close(d);
}

struct spool *spool_open(const char *dir, GError **error)
{
	if (g_mkdir_with_parents(dir, 0700) < 0) {
		spool_fail_errno(error, "mkdir", dir, errno);
		return NULL;
	}
	g_autofree char *tmp = g_build_filename(dir, "tmp", NULL);
	if (g_mkdir_with_parents(tmp, 0700) < 0) {
		spool_fail_errno(error, "mkdir", tmp, errno);
		return NULL;
	}
	spool_sweep_tmp(tmp);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		spool_fail_errno(error, "open", dir, errno);
		return NULL;
	}
	struct spool *sp = g_new0(struct spool, 1);
	sp->dir = g_strdup(dir);
	sp->dir_fd = fd;
	return sp;
}

void spool_free(struct spool *sp)
{
	if (sp == NULL)
		return;
	close(sp->dir_fd);
	g_free(sp->dir);
	g_free(sp);
}

void spool_sha256(const void *data, size_t len, char sha_r[SPOOL_SHA256_HEX])
{
	digest_sha256_hex(data, len, sha_r);
}

char *spool_path(const struct spool *sp, const char *rel)
{
	return g_build_filename(sp->dir, rel, NULL);
}

struct spool_writer *spool_writer_begin(struct spool *sp, GError **error)
{
	g_autofree char *tmpl = g_build_filename(sp->dir, "tmp", "in-XXXXXX", NULL);
	int fd = g_mkstemp_full(tmpl, O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		spool_fail_errno(error, "mkstemp", tmpl, errno);
		return NULL;
	}
	struct spool_writer *w = g_new0(struct spool_writer, 1);
	w->sp = sp;
	w->fd = fd;
	w->tmp_path = g_steal_pointer(&tmpl);
	w->sum = digest_new();
	return w;
}

int spool_writer_write(struct spool_writer *w, const void *data, size_t len, GError **error)
{
	const char *p = data;
	digest_update(w->sum, data, len);
	w->size += len;
	while (len > 0) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return spool_fail_errno(error, "write", w->tmp_path, errno);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

size_t spool_writer_size(const struct spool_writer *w)
{
	return w->size;
}

void spool_writer_abort(struct spool_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	unlink(w->tmp_path);
	g_free(w->tmp_path);
	digest_free(w->sum);
	g_free(w);
}

/* Opens ab/cd/ for a hash, creating ab/ and ab/cd/ (0700) when missing;
   returns its fd or -1. */
static int spool_make_dirs(struct spool *sp, const char *sha, GError **error)
{
	char a[3] = { sha[0], sha[1], 0 };
	char ab[6] = { sha[0], sha[1], '/', sha[2], sha[3], 0 };
	int fd = openat(sp->dir_fd, ab, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : spool_fail_errno(error, "open", ab, errno);
	if (mkdirat(sp->dir_fd, a, 0700) < 0 && errno != EEXIST)
		return spool_fail_errno(error, "mkdir", a, errno);
	if (mkdirat(sp->dir_fd, ab, 0700) < 0 && errno != EEXIST)
		return spool_fail_errno(error, "mkdir", ab, errno);
	fd = openat(sp->dir_fd, ab, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return spool_fail_errno(error, "open", ab, errno);
	return fd;
}

/* Renames the file into place under its hash; returns 0 or -1. Deferred, the
   folder is made only when the rename finds it missing. */
static int spool_rename(struct spool_writer *w, const char *final, const char *sha,
			GError **error)
{
	if (renameat(AT_FDCWD, w->tmp_path, w->sp->dir_fd, final) == 0)
		return 0;
	if (errno != ENOENT)
		return spool_fail_errno(error, "rename", final, errno);
	int dfd = spool_make_dirs(w->sp, sha, error);
	if (dfd < 0)
		return -1;
	close(dfd);
	if (renameat(AT_FDCWD, w->tmp_path, w->sp->dir_fd, final) < 0)
		return spool_fail_errno(error, "rename", final, errno);
	return 0;
}

void spool_defer(struct spool *sp, bool on)
{
	sp->defer = on;
}

int spool_sync(struct spool *sp, GError **error)
{
	if (!sp->dirty)
		return 0;
	if (syncfs(sp->dir_fd) < 0)
		return spool_fail_errno(error, "syncfs", sp->dir, errno);
	sp->dirty = false;
	return 0;
}

/* fsyncs the file, renames it into place, fsyncs the folder; deferred, only
   renames it and leaves the syncs to spool_sync. */
static int spool_place(struct spool_writer *w, const char *sha, GError **error)
{
	g_autofree char *final = g_strdup_printf("%.2s/%.2s/%s", sha, sha + 2, sha);
	if (w->sp->defer) {
		w->sp->dirty = true;
		return spool_rename(w, final, sha, error);
	}
	if (fsync(w->fd) < 0)
		return spool_fail_errno(error, "fsync", w->tmp_path, errno);
	int dfd = spool_make_dirs(w->sp, sha, error);
	if (dfd < 0)
		return -1;
	int rc = 0;
	if (renameat(AT_FDCWD, w->tmp_path, w->sp->dir_fd, final) < 0)
		rc = spool_fail_errno(error, "rename", final, errno);
	else if (fsync(dfd) < 0)
		rc = spool_fail_errno(error, "fsync", final, errno);
	close(dfd);
	return rc;
}

int spool_writer_commit(struct spool_writer *w, char sha_r[SPOOL_SHA256_HEX], char **path_r,
			GError **error)
{
	digest_hex(w->sum, sha_r);
	g_autofree char *rel = g_strdup_printf("%.2s/%.2s/%s", sha_r, sha_r + 2, sha_r);
	struct stat st;
	int rc = 0;
	if (fstatat(w->sp->dir_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size == w->size)
		rc = 0; /* the same content is already stored */
	else
		rc = spool_place(w, sha_r, error);
	if (rc == 0 && path_r != NULL)
		*path_r = g_steal_pointer(&rel);
	spool_writer_abort(w);
	return rc;
}

int spool_save(struct spool *sp, const void *data, size_t len, char sha_r[SPOOL_SHA256_HEX],
	       char **path_r, GError **error)
{
	struct spool_writer *w = spool_writer_begin(sp, error);
	if (w == NULL)
		return -1;
	if (spool_writer_write(w, data, len, error) < 0) {
		spool_writer_abort(w);
		return -1;
	}
	return spool_writer_commit(w, sha_r, path_r, error);
}

int spool_writer_write_fd(struct spool_writer *w, int fd, GError **error)
{
	g_autofree char *buf = g_malloc(SPOOL_COPY_CHUNK);
	for (;;) {
		ssize_t n = read(fd, buf, SPOOL_COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return spool_fail_errno(error, "read", "input", errno);
		if (n == 0)
			return 0;
		if (spool_writer_write(w, buf, (size_t)n, error) < 0)
			return -1;
	}
}

int spool_save_fd(struct spool *sp, int fd, char sha_r[SPOOL_SHA256_HEX], char **path_r,
		  GError **error)
{
	struct spool_writer *w = spool_writer_begin(sp, error);
	if (w == NULL)
		return -1;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		spool_writer_abort(w);
		return spool_fail_errno(error, "lseek", "input", errno);
	}
	if (spool_writer_write_fd(w, fd, error) < 0) {
		spool_writer_abort(w);
		return -1;
	}
	return spool_writer_commit(w, sha_r, path_r, error);
}

int spool_verify(const struct spool *sp, const char *rel, const char *expected_sha,
		 char actual_r[SPOOL_SHA256_HEX], GError **error)
{
	int fd = openat(sp->dir_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return spool_fail_errno(error, "open", rel, errno);
	struct digest *sum = digest_new();
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		digest_update(sum, buf, (size_t)n);
	int err = errno;
	close(fd);
	digest_hex(sum, actual_r);
	digest_free(sum);
	if (n < 0)
		return spool_fail_errno(error, "read", rel, err);
	return strcmp(actual_r, expected_sha) == 0 ? 1 : 0;
}
