/* Drop-folder watcher: settle, read, store, then archive or refuse; see
   dropdir.h.
   SECURITY: the folder is writable by people and machines we do not trust.
   Every document is opened relative to the folder's descriptor with
   O_NOFOLLOW | O_NONBLOCK (a FIFO cannot block us, a link cannot lead us
   elsewhere) and judged by fstat of what was opened; its bytes are bounded
   by max_size before they are read; sidecars are bounded to 64 KiB. A
   rename into the archive or failed folder never replaces an existing file
   (RENAME_NOREPLACE). Names reach logs and reason files only cleaned. */
#include "ingest/dropdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "parsers/ocr.h"
#include "parsers/sniff.h"
#include "store/spool.h"

G_DEFINE_QUARK(intake-dropdir-error-quark, dropdir_error)

/* What the mailroom is told about a refused file. */
enum dropdir_reason {
	DROPDIR_R_EMPTY, DROPDIR_R_UNSUPPORTED, DROPDIR_R_UNREADABLE, DROPDIR_R_TOO_LARGE,
	DROPDIR_R_NO_TEXT, DROPDIR_R_TIMEOUT, DROPDIR_R_CRASHED, DROPDIR_R_SYMLINK,
	DROPDIR_R_NOT_REGULAR, DROPDIR_R_HARDLINKS, DROPDIR_R_SIDECAR,
};

static const struct {
	const char *code, *zh, *en;
} dropdir_reasons[] = {
	[DROPDIR_R_EMPTY] = { "empty",
		"文件是空的（0 字节），扫描或传输可能没有完成。请重新扫描后再放入文件夹。",
		"The file is empty (0 bytes): the scan or the transfer may not have finished. "
		"Please scan it again and put it in the folder." },
	[DROPDIR_R_UNSUPPORTED] = { "unsupported",
		"不支持的文件类型：%s（按文件内容识别，不看扩展名）。可以处理的类型：PDF、TIFF、JPEG、PNG、DOCX。",
		"Unsupported file type: %s (detected from the contents, not the name). "
		"Types read: PDF, TIFF, JPEG, PNG, DOCX." },
	[DROPDIR_R_UNREADABLE] = { "unreadable",
		"无法读取该文件（文件损坏、加密或没有读取权限）。",
		"The file could not be read (damaged, encrypted or not readable)." },
	[DROPDIR_R_TOO_LARGE] = { "too_large",
		"文件太大（%s，超过上限）。请分成几个文件扫描。",
		"The file is too large (%s, over the limit). Please scan it as several files." },
	[DROPDIR_R_NO_TEXT] = { "no_text",
		"文字识别（OCR）没有在文件中找到任何文字。请检查扫描件是否为空白页、方向是否正确、是否清晰，然后重新扫描。",
		"OCR found no text in the file. Check that the pages are not blank, are the right "
		"way up and sharp, then scan again." },
	[DROPDIR_R_TIMEOUT] = { "timeout",
		"读取文字超时，已停止。文件可能页数过多或过于复杂，请分成几个文件扫描。",
		"Reading the text took too long and was stopped. The file may have too many pages "
		"or be too complex: please scan it as several files." },
	[DROPDIR_R_CRASHED] = { "crashed",
		"读取文字的程序异常退出，文件可能已损坏。",
		"The program reading the text failed on this file: it may be damaged." },
	[DROPDIR_R_SYMLINK] = { "symlink",
		"这是一个符号链接（快捷方式），已拒绝。请放入文件本身。",
		"This is a symbolic link: refused. Put the file itself in the folder." },
	[DROPDIR_R_NOT_REGULAR] = { "not_regular",
		"这不是普通文件（%s），已拒绝。",
		"Not a regular file (%s): refused." },
	[DROPDIR_R_HARDLINKS] = { "hard_links",
		"该文件还有其他硬链接，已拒绝。请放入文件的副本。",
		"The file has other hard links: refused. Put a copy of the file in the folder." },
	[DROPDIR_R_SIDECAR] = { "sidecar",
		"附带的说明文件有误：%s。请改正后把两个文件一起重新放入。",
		"Its sidecar file is wrong: %s. Correct it and put both files back." },
};

/* What the watcher remembers of a name between passes. */
struct dropdir_seen {
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
	gint64 since;       /* monotonic µs: when this size and mtime were first seen, or
			       the inotify event (a close, a rename) that reported them */
	unsigned pass;      /* the last pass that saw it */
	bool moved;         /* renamed into the folder (IN_MOVED_TO), unchanged since */
	bool in_hand;       /* being read */
	gint64 retry_at;    /* monotonic µs: not tried again before (store errors, a move
			       that failed) */
};

/* One document being read; shared by the watcher and the command line. */
struct dropdir_doc {
	char *name;             /* as in the folder */
	char *data;
	size_t len;
	int64_t mtime;
	char *type;             /* from the bytes */
	struct dropdir_meta meta;
	char *meta_name;        /* the sidecar's name, or NULL */
	int64_t received_at;
	const char *time_note;  /* static: where the receipt time came from */
	struct ocr_result res;
	GError *error;          /* why the text could not be read */
};

struct dropdir_job {
	uv_work_t work;
	struct dropdir *d;
	struct dropdir_doc doc;
	struct ocr_settings os;
	char sha[SPOOL_SHA256_HEX];
	int rc;
};

struct dropdir {
	uv_loop_t *loop;
	struct ingest *in;
	const struct config_dropdir *cfg;
	char *source;              /* "dropdir NAME", for logs */
	struct sniff *sniff;       /* loop thread only */
	int dfd;                   /* the drop folder */
	dev_t dev;
	ino_t ino;
	GHashTable *seen;          /* name -> struct dropdir_seen* */
	unsigned pass_no, pending, in_flight, max_in_flight;
	gint64 wake_us;            /* the last pass: when its soonest pending file may settle */
	bool async, started, stopping;
	bool folder_error;         /* the folder could not be read at the last look */
	int inotify_fd, wd;        /* wd -1: no watch yet (folder unreadable, replaced) */
	uv_poll_t poll;
	uv_timer_t settle_timer, rescan_timer;
	unsigned open_handles;
	gint cancel;               /* set by dropdir_abort: OCR children are killed */
	void (*idle_fn)(struct dropdir *d, void *ctx);
	void *idle_ctx;
	struct dropdir_stats stats;
};

/* ---- names, times and sidecars (pure) ---- */

bool dropdir_name_ignored(const char *name)
{
	static const char *const suffixes[] = { ".part", ".tmp", ".filepart", ".meta", NULL };
	if (name[0] == '.' || g_str_has_prefix(name, "~$"))
		return true;
	for (size_t i = 0; suffixes[i] != NULL; i++)
		if (g_str_has_suffix(name, suffixes[i]))
			return true;
	return false;
}

static bool dropdir_digits(const char *p, int n)
{
	for (int i = 0; i < n; i++)
		if (!g_ascii_isdigit(p[i]))
			return false;
	return true;
}

static int dropdir_num(const char *p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

/* "Z", "+08:00", "+0800", "+08" or "" (none: *zone_r stays NULL). */
static int dropdir_parse_offset(const char *p, GTimeZone **zone_r)
{
	if (*p == '\0')
		return 0;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		*zone_r = g_time_zone_new_utc();
		return 0;
	}
	if ((*p != '+' && *p != '-') || !dropdir_digits(p + 1, 2))
		return -1;
	int h = dropdir_num(p + 1, 2), m = 0;
	const char *q = p + 3;
	if (*q == ':')
		q++;
	if (*q != '\0') {
		if (!dropdir_digits(q, 2) || q[2] != '\0')
			return -1;
		m = dropdir_num(q, 2);
	}
	if (h > 18 || m > 59)
		return -1;
	*zone_r = g_time_zone_new_offset((*p == '-' ? -1 : 1) * (h * 3600 + m * 60));
	return 0;
}

/* "THH:MM[:SS[.frac]]" after a date; moves *p past it. */
static int dropdir_parse_clock(const char **p, int *h, int *mi, int *sec)
{
	const char *s = *p + 1;
	if (!dropdir_digits(s, 2) || s[2] != ':' || !dropdir_digits(s + 3, 2))
		return -1;
	*h = dropdir_num(s, 2);
	*mi = dropdir_num(s + 3, 2);
	s += 5;
	if (*s == ':') {
		if (!dropdir_digits(s + 1, 2))
			return -1;
		*sec = dropdir_num(s + 1, 2);
		s += 3;
		if (*s == '.' || *s == ',') {
			if (!g_ascii_isdigit(s[1]))
				return -1;
			for (s++; g_ascii_isdigit(*s); s++)
				;
		}
	}
	*p = s;
	return *h <= 23 && *mi <= 59 && *sec <= 59 ? 0 : -1;
}

int dropdir_parse_time(const char *text, GTimeZone *tz, int64_t *t_r)
{
	if (strlen(text) < 10 || !dropdir_digits(text, 4) || text[4] != '-' ||
	    !dropdir_digits(text + 5, 2) || text[7] != '-' || !dropdir_digits(text + 8, 2))
		return -1;
	int y = dropdir_num(text, 4), mo = dropdir_num(text + 5, 2), d = dropdir_num(text + 8, 2);
	int h = 9, mi = 0, sec = 0;
	const char *p = text + 10;
	bool has_clock = *p == 'T' || *p == 't' || *p == ' ';
	if (has_clock && dropdir_parse_clock(&p, &h, &mi, &sec) < 0)
		return -1;
	GTimeZone *zone = NULL;
	if ((!has_clock && *p != '\0') || dropdir_parse_offset(p, &zone) < 0 || y < 1970)
		return -1;
	GDateTime *dt = g_date_time_new(zone != NULL ? zone : tz, y, mo, d, h, mi, sec);
	if (zone != NULL)
		g_time_zone_unref(zone);
	if (dt == NULL || g_date_time_get_day_of_month(dt) != d) {
		if (dt != NULL)
			g_date_time_unref(dt);
		return -1;
	}
	*t_r = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return 0;
}

/* The mailroom stamps the day a letter arrived, not the hour. 09:00 local
   is used: the day of receipt is not counted anyway (counting starts the
   next day, Civil Code art. 201), and 09:00 is before any close of business,
   so the letter counts as received that day. */
int dropdir_name_date(const char *name, GTimeZone *tz, int64_t now, int64_t *t_r)
{
	if (strlen(name) < 9 || !dropdir_digits(name, 8) || name[8] != '_')
		return 0;
	char date[11];
	g_snprintf(date, sizeof date, "%.4s-%.2s-%.2s", name, name + 4, name + 6);
	int64_t t = 0;
	g_autoptr(GDateTime) today = g_date_time_new_from_unix_local(now);
	g_autoptr(GDateTime) local = g_date_time_to_timezone(today, tz);
	g_autofree char *today_s = g_date_time_format(local, "%Y-%m-%d");
	if (dropdir_parse_time(date, tz, &t) < 0 || strcmp(date, today_s) > 0)
		return 0;
	*t_r = MIN(t, now);
	return 1;
}

void dropdir_meta_clear(struct dropdir_meta *m)
{
	if (m == NULL)
		return;
	g_clear_pointer(&m->caller, g_free);
	memset(m, 0, sizeof *m);
}

static int dropdir_meta_fail(GError **error, unsigned line, const char *key, const char *value,
			     const char *expected)
{
	g_set_error(error, DROPDIR_ERROR, DROPDIR_ERROR_SIDECAR, "line %u: %s = \"%s\": expected %s",
		    line, key, value, expected);
	return -1;
}

static int dropdir_meta_caller(struct dropdir_meta *m, unsigned line, const char *v, GError **error)
{
	bool ok = strlen(v) <= 64 && g_utf8_validate(v, -1, NULL);
	for (const char *p = v; ok && *p != '\0'; p = g_utf8_next_char(p))
		ok = !g_unichar_iscntrl(g_utf8_get_char(p));
	if (!ok)
		return dropdir_meta_fail(error, line, "caller", v,
					 "a calling number or name of at most 64 printable bytes");
	g_free(m->caller);
	m->caller = g_strdup(v);
	return 0;
}

/* One "key=value" line (already trimmed, not a comment). */
static int dropdir_meta_line(struct dropdir_meta *m, unsigned line, char *text, GTimeZone *tz,
			     GError **error)
{
	char *eq = strchr(text, '=');
	if (eq == NULL) {
		g_set_error(error, DROPDIR_ERROR, DROPDIR_ERROR_SIDECAR,
			    "line %u: expected key=value (received_at=, caller=, pages=)", line);
		return -1;
	}
	*eq = '\0';
	char *key = g_strstrip(text), *v = g_strstrip(eq + 1);
	g_autofree char *k = g_ascii_strdown(key, -1);
	if (strcmp(k, "received_at") == 0) {
		if (m->has_received_at)
			return dropdir_meta_fail(error, line, k, v, "received_at only once");
		if (dropdir_parse_time(v, tz, &m->received_at) < 0)
			return dropdir_meta_fail(error, line, k, v,
						 "a time such as 2026-11-23T09:30+08:00");
		m->has_received_at = true;
	} else if (strcmp(k, "caller") == 0) {
		return dropdir_meta_caller(m, line, v, error);
	} else if (strcmp(k, "pages") == 0) {
		char *end = NULL;
		unsigned long n = g_ascii_isdigit(*v) ? strtoul(v, &end, 10) : 0;
		if (end == NULL || *end != '\0' || n < 1 || n > 10000)
			return dropdir_meta_fail(error, line, k, v, "a number of pages from 1 to 10000");
		m->pages = (unsigned)n;
	}
	return 0;
}

int dropdir_meta_parse(const char *data, size_t len, GTimeZone *tz, struct dropdir_meta *out,
		       GError **error)
{
	memset(out, 0, sizeof *out);
	if (len > DROPDIR_META_MAX_BYTES || memchr(data, '\0', len) != NULL ||
	    !g_utf8_validate(data, (gssize)len, NULL)) {
		g_set_error(error, DROPDIR_ERROR, DROPDIR_ERROR_SIDECAR,
			    "not a text file of at most %u bytes in UTF-8", DROPDIR_META_MAX_BYTES);
		return -1;
	}
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		len -= 3;
	}
	g_autofree char *copy = g_strndup(data, len);
	g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
	for (unsigned i = 0; lines[i] != NULL; i++) {
		char *l = g_strstrip(lines[i]);
		if (*l == '\0' || *l == '#' || *l == ';')
			continue;
		if (dropdir_meta_line(out, i + 1, l, tz, error) < 0) {
			dropdir_meta_clear(out);
			return -1;
		}
	}
	return 0;
}

/* ---- small helpers ---- */

/* A name as it may appear in a log or a reason file. */
static char *dropdir_printable(const char *name)
{
	g_autofree char *valid = g_utf8_make_valid(name, -1);
	GString *out = g_string_new(NULL);
	for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_iscntrl(c))
			g_string_append_c(out, '?');
		else
			g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

/* A name as it may appear in a log: printable, and every run of 8 or more
   digits (an account or phone number in a file name) masked to its last 4. */
static char *dropdir_log_name(const char *name)
{
	g_autofree char *p = dropdir_printable(name);
	return log_mask_text(p, 8);
}

static int64_t dropdir_now(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

static char *dropdir_local_time(GTimeZone *tz, int64_t t, const char *fmt)
{
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t);
	g_autoptr(GDateTime) local = g_date_time_to_timezone(utc, tz);
	return g_date_time_format(local, fmt);
}

static void dropdir_doc_clear(struct dropdir_doc *doc)
{
	g_clear_pointer(&doc->name, g_free);
	g_clear_pointer(&doc->data, g_free);
	g_clear_pointer(&doc->type, g_free);
	g_clear_pointer(&doc->meta_name, g_free);
	dropdir_meta_clear(&doc->meta);
	ocr_result_clear(&doc->res);
	g_clear_error(&doc->error);
}

/* Reads an open regular file of known size; -1 when it is not that size. */
static int dropdir_read_fd(int fd, size_t size, char **data_r, size_t *len_r)
{
	char *buf = g_malloc(size + 1);
	size_t done = 0;
	while (done <= size) {
		ssize_t n = read(fd, buf + done, size + 1 - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done != size) {
		g_free(buf);
		return -1;
	}
	buf[size] = '\0';
	*data_r = buf;
	*len_r = size;
	return 0;
}

/* Opens NAME in dfd if it is a plain regular file of one link. Returns the
   descriptor, or -1 with the reason (ENOENT: it went away). */
static int dropdir_open_safe(int dfd, const char *name, struct stat *st, enum dropdir_reason *why,
			     int *err_r)
{
	memset(st, 0, sizeof *st);
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	*err_r = fd < 0 ? errno : 0;
	if (fd < 0) {
		*why = *err_r == ELOOP ? DROPDIR_R_SYMLINK : DROPDIR_R_UNREADABLE;
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_nlink > 1) {
		*why = !S_ISREG(st->st_mode) ? DROPDIR_R_NOT_REGULAR : DROPDIR_R_HARDLINKS;
		*err_r = EPERM;
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads NAME.meta (else the name without its extension + ".meta") from dfd.
   Returns 1 with *meta filled, 0 when there is none, -1 with error. */
static int dropdir_read_sidecar(int dfd, const char *name, GTimeZone *tz, struct dropdir_meta *meta,
				char **meta_name_r, GError **error)
{
	g_autofree char *full = g_strconcat(name, ".meta", NULL);
	const char *dot = strrchr(name, '.');
	g_autofree char *stem = dot != NULL && dot != name ?
		g_strdup_printf("%.*s.meta", (int)(dot - name), name) : NULL;
	const char *cands[] = { full, stem };
	for (size_t i = 0; i < G_N_ELEMENTS(cands) && cands[i] != NULL; i++) {
		struct stat st;
		enum dropdir_reason why;
		int err = 0;
		int fd = dropdir_open_safe(dfd, cands[i], &st, &why, &err);
		if (fd < 0 && err == ENOENT)
			continue;
		g_autofree char *data = NULL;
		size_t len = 0;
		int rc = fd < 0 || st.st_size > DROPDIR_META_MAX_BYTES ? -1 :
			dropdir_read_fd(fd, (size_t)st.st_size, &data, &len);
		if (fd >= 0)
			close(fd);
		g_autofree char *shown = dropdir_printable(cands[i]);
		*meta_name_r = g_strdup(cands[i]);
		if (rc < 0) {
			g_set_error(error, DROPDIR_ERROR, DROPDIR_ERROR_SIDECAR,
				    "%s: cannot be read (a plain file of at most %u bytes)", shown,
				    DROPDIR_META_MAX_BYTES);
			return -1;
		}
		GError *perr = NULL;
		if (dropdir_meta_parse(data, len, tz, meta, &perr) < 0) {
			g_set_error(error, DROPDIR_ERROR, DROPDIR_ERROR_SIDECAR, "%s: %s", shown,
				    perr->message);
			g_error_free(perr);
			return -1;
		}
		return 1;
	}
	return 0;
}

/* The receipt time: the sidecar's received_at, else the name's date stamp,
   else the file's modification time (the drop time), never in the future. */
static void dropdir_receipt(struct dropdir_doc *doc, GTimeZone *tz)
{
	int64_t now = dropdir_now(), t = 0;
	if (doc->meta.has_received_at) {
		doc->received_at = MIN(doc->meta.received_at, now);
		doc->time_note = doc->meta.received_at > now + 300 ?
			"received_at of the sidecar is in the future: the drop time is used" :
			"receipt time from the sidecar (received_at)";
	} else if (dropdir_name_date(doc->name, tz, now, &t) == 1) {
		doc->received_at = t;
		doc->time_note = "receipt date from the file name (YYYYMMDD_), 09:00 local";
	} else {
		doc->received_at = doc->mtime > 0 ? MIN(doc->mtime, now) : now;
		doc->time_note = "receipt time: when the file was dropped (its modification time)";
	}
}

/* The OCR path's notes and the receipt time's origin as one list
   (NULL-terminated; the strings are borrowed from doc). */
static const char **dropdir_doc_notes(const struct dropdir_doc *doc)
{
	GPtrArray *n = g_ptr_array_new();
	g_ptr_array_add(n, (gpointer)doc->time_note);
	for (guint i = 0; doc->res.notes != NULL && i < doc->res.notes->len; i++)
		g_ptr_array_add(n, doc->res.notes->pdata[i]);
	g_ptr_array_add(n, NULL);
	return (const char **)g_ptr_array_free(n, FALSE);
}

static void dropdir_doc_meta(const struct dropdir_doc *doc, const char *const *notes,
			     struct ingest_doc_meta *m)
{
	*m = (struct ingest_doc_meta){
		.filename = doc->name, .detected_type = doc->type, .engine = doc->res.engine,
		.language = doc->res.language, .pages = doc->res.pages, .caller = doc->meta.caller,
		.declared_pages = doc->meta.pages, .notes = notes };
}

/* Reads the text of doc->data (any thread). Returns 0 or -1 with doc->error. */
static int dropdir_doc_text(struct dropdir_doc *doc, const struct ocr_settings *os)
{
	return ocr_document_text(os, doc->type, doc->data, doc->len, &doc->res, &doc->error);
}

/* ---- the command line's way: one file by path ---- */

/* The largest file read by hand: the largest max_size of the drop folders,
   100 MiB without any. */
static uint64_t dropdir_cli_max(const struct config *cfg)
{
	uint64_t max = 0;
	for (guint i = 0; i < cfg->dropdirs->len; i++)
		max = MAX(max, ((const struct config_dropdir *)cfg->dropdirs->pdata[i])->max_bytes);
	return max != 0 ? max : 100u << 20;
}

static int dropdir_read_path(const struct config *cfg, GTimeZone *tz, const char *path,
			     struct dropdir_doc *doc, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	doc->name = g_path_get_basename(path);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = dfd >= 0 ? openat(dfd, doc->name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) : -1;
	struct stat st;
	int rc = -1;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		g_set_error(error, DROPDIR_ERROR, DROPDIR_ERROR_FILE, "%s: %s", path,
			    fd < 0 ? g_strerror(errno) : "not a regular file");
	else if ((uint64_t)st.st_size > dropdir_cli_max(cfg))
		g_set_error(error, DROPDIR_ERROR, DROPDIR_ERROR_FILE,
			    "%s: %" G_GUINT64_FORMAT " bytes is over the limit of %" G_GUINT64_FORMAT,
			    path, (guint64)st.st_size, (guint64)dropdir_cli_max(cfg));
	else if (dropdir_read_fd(fd, (size_t)st.st_size, &doc->data, &doc->len) < 0)
		g_set_error(error, DROPDIR_ERROR, DROPDIR_ERROR_FILE, "%s: read failed", path);
	else if (dropdir_read_sidecar(dfd, doc->name, tz, &doc->meta, &doc->meta_name, error) >= 0)
		rc = 0;
	if (rc == 0) {
		doc->mtime = st.st_mtim.tv_sec;
		dropdir_receipt(doc, tz);
	}
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

/* Reads the file, its sidecar and its text. Returns 0 or -1 with error. */
static int dropdir_load(const struct config *cfg, GTimeZone *tz, const char *path,
			struct dropdir_doc *doc, GError **error)
{
	if (dropdir_read_path(cfg, tz, path, doc, error) < 0)
		return -1;
	struct sniff *sn = sniff_new(error);
	if (sn == NULL)
		return -1;
	doc->type = sniff_buffer(sn, doc->data, doc->len);
	sniff_free(sn);
	struct ocr_settings os;
	ingest_ocr_settings(cfg, &os);
	if (dropdir_doc_text(doc, &os) < 0) {
		g_propagate_prefixed_error(error, g_steal_pointer(&doc->error), "%s: ", path);
		return -1;
	}
	return 0;
}

static bool dropdir_channel_ok(const char *channel, GError **error)
{
	if (channel != NULL && (strcmp(channel, "letter") == 0 || strcmp(channel, "fax") == 0))
		return true;
	g_set_error(error, DROPDIR_ERROR, DROPDIR_ERROR_FILE, "channel %s: expected letter or fax",
		    channel != NULL ? channel : "(none)");
	return false;
}

int dropdir_ingest_file(struct ingest *in, const char *channel, const char *path,
			int64_t received_at, struct ingest_outcome *out, GError **error)
{
	struct dropdir_doc doc = { 0 };
	memset(out, 0, sizeof *out);
	int rc = -1;
	if (dropdir_channel_ok(channel, error) &&
	    dropdir_load(ingest_config(in), ingest_timezone(in), path, &doc, error) == 0) {
		g_autofree const char **notes = dropdir_doc_notes(&doc);
		struct ingest_doc_meta m;
		dropdir_doc_meta(&doc, notes, &m);
		struct ingest_origin o = { .channel = channel, .kind = "manual",
					   .received_at = received_at ? received_at : doc.received_at };
		rc = ingest_document(in, &o, doc.data, doc.len, doc.res.text, &m, out, error);
	}
	dropdir_doc_clear(&doc);
	return rc;
}

struct record *dropdir_parse_file(const struct config *cfg, const char *channel, const char *path,
				  GError **error)
{
	struct dropdir_doc doc = { 0 };
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(cfg->timezone);
	struct record *r = NULL;
	if (tz != NULL && dropdir_channel_ok(channel, error) &&
	    dropdir_load(cfg, tz, path, &doc, error) == 0) {
		g_autofree const char **notes = dropdir_doc_notes(&doc);
		struct ingest_doc_meta m;
		dropdir_doc_meta(&doc, notes, &m);
		r = ingest_parse_document(cfg, channel, doc.res.text, &m);
		r->date = doc.received_at;
		r->has_date = true;
	}
	dropdir_doc_clear(&doc);
	return r;
}

/* ---- moving files out of the folder ---- */

/* "scan.pdf" -> "scan-2.pdf". */
static char *dropdir_numbered(const char *name, unsigned n)
{
	const char *dot = strrchr(name, '.');
	if (dot == NULL || dot == name)
		return g_strdup_printf("%s-%u", name, n);
	return g_strdup_printf("%.*s-%u%s", (int)(dot - name), name, n, dot);
}

/* Moves across file systems: dest is created exclusively, written and
   fsync'd, then the original removed. Returns 0 or -1 with errno. */
static int dropdir_copy(struct dropdir *d, const char *name, const char *dest)
{
	struct stat st;
	enum dropdir_reason why;
	int err = 0, in = dropdir_open_safe(d->dfd, name, &st, &why, &err);
	int out = in >= 0 ? open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640) : -1;
	int rc = in >= 0 && out >= 0 ? 0 : -1;
	err = in < 0 ? (err ? err : EXDEV) : out < 0 ? errno : 0;
	char buf[65536];
	ssize_t n = 0;
	while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0)
		if (n < 0 ? errno != EINTR : write(out, buf, (size_t)n) != n)
			rc = -1, err = errno;
	if (rc == 0 && fsync(out) < 0)
		rc = -1, err = errno;
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = -1, err = errno;
	if (in >= 0)
		close(in);
	if (rc < 0 && out >= 0)
		unlink(dest);
	if (rc == 0 && unlinkat(d->dfd, name, 0) < 0)
		rc = -1, err = errno;
	errno = err;
	return rc;
}

/* Renames NAME from the drop folder to DIR/WANT (or WANT-2 ... when taken),
   never replacing a file. Returns the name used, or NULL with errno. */
static char *dropdir_move(struct dropdir *d, const char *name, const char *dir, const char *want)
{
	for (unsigned i = 1; i <= 1000; i++) {
		g_autofree char *cand = i == 1 ? g_strdup(want) : dropdir_numbered(want, i);
		g_autofree char *dest = g_build_filename(dir, cand, NULL);
		int rc = renameat2(d->dfd, name, AT_FDCWD, dest, RENAME_NOREPLACE);
		if (rc < 0 && (errno == EINVAL || errno == ENOSYS)) {
			/* A file system without RENAME_NOREPLACE (some network shares). */
			if (faccessat(AT_FDCWD, dest, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
				errno = EEXIST;
			else
				rc = renameat(d->dfd, name, AT_FDCWD, dest);
		}
		if (rc < 0 && errno == EXDEV)
			rc = dropdir_copy(d, name, dest);
		if (rc == 0)
			return g_steal_pointer(&cand);
		if (errno != EEXIST)
			return NULL;
	}
	errno = EEXIST;
	return NULL;
}

/* Moves a document and its sidecar (may be NULL) into dir. Returns the
   document's new name, or NULL (logged). */
static char *dropdir_move_pair(struct dropdir *d, const char *name, const char *meta_name,
			       const char *dir)
{
	g_autofree char *shown = dropdir_log_name(name);
	char *moved = dropdir_move(d, name, dir, name);
	if (moved == NULL) {
		log_error(d->source, "%s: cannot move it to %s: %s; it stays in the folder", shown, dir,
			  g_strerror(errno));
		return NULL;
	}
	if (meta_name != NULL) {
		g_autofree char *want = g_strconcat(moved, ".meta", NULL);
		g_autofree char *m = dropdir_move(d, meta_name, dir, want);
		if (m == NULL)
			log_warn(d->source, "%s: its sidecar could not be moved to %s: %s", shown, dir,
				 g_strerror(errno));
	}
	return moved;
}

/* ARCHIVE/YYYY-MM-DD (today, local), created; NULL with errno. */
static char *dropdir_archive_dir(struct dropdir *d)
{
	g_autofree char *day = dropdir_local_time(ingest_timezone(d->in), dropdir_now(), "%Y-%m-%d");
	char *dir = g_build_filename(d->cfg->archive, day, NULL);
	if (g_mkdir_with_parents(dir, 0770) < 0) {
		int saved = errno;
		log_error(d->source, "mkdir(%s) failed: %s", dir, g_strerror(saved));
		g_free(dir);
		errno = saved;
		return NULL;
	}
	return dir;
}

/* A file that could not be moved is tried again at the next rescan. */
static void dropdir_mark_stuck(struct dropdir *d, const char *name)
{
	struct dropdir_seen *seen = g_hash_table_lookup(d->seen, name);
	if (seen != NULL)
		seen->retry_at = g_get_monotonic_time() + (gint64)d->cfg->rescan_s * G_USEC_PER_SEC;
	d->stats.errors++;
}

/* Archives a committed document. Returns 1, or 0 when it could not be moved. */
static int dropdir_archive(struct dropdir *d, const char *name, const char *meta_name)
{
	g_autofree char *dir = dropdir_archive_dir(d);
	g_autofree char *moved = dir != NULL ? dropdir_move_pair(d, name, meta_name, dir) : NULL;
	if (moved == NULL) {
		dropdir_mark_stuck(d, name);
		return 0;
	}
	return 1;
}

/* ---- refusals ---- */

/* The template with its one "%s" replaced by arg. */
static void dropdir_fill(GString *out, const char *tmpl, const char *arg)
{
	const char *p = strstr(tmpl, "%s");
	if (p == NULL) {
		g_string_append(out, tmpl);
		return;
	}
	g_string_append_len(out, tmpl, p - tmpl);
	g_string_append(out, arg != NULL ? arg : "?");
	g_string_append(out, p + 2);
}

static void dropdir_write_reason(struct dropdir *d, const char *moved, enum dropdir_reason why,
				 const char *arg, const char *detail)
{
	g_autofree char *shown = dropdir_printable(moved);
	g_autofree char *when = dropdir_local_time(ingest_timezone(d->in), dropdir_now(),
						   "%Y-%m-%d %H:%M:%S %:z");
	g_autofree char *clean_arg = arg != NULL ? dropdir_printable(arg) : NULL;
	g_autofree char *clean_detail = detail != NULL ? dropdir_printable(detail) : NULL;
	GString *t = g_string_new(NULL);
	g_string_append_printf(t, "文件 File: %s\n时间 Time: %s\n\n原因：", shown, when);
	dropdir_fill(t, dropdir_reasons[why].zh, clean_arg);
	g_string_append(t, "\nReason: ");
	dropdir_fill(t, dropdir_reasons[why].en, clean_arg);
	g_string_append_printf(t, "\n\ncode: %s\n", dropdir_reasons[why].code);
	if (clean_detail != NULL)
		g_string_append_printf(t, "detail: %s\n", clean_detail);
	g_autofree char *name = g_strconcat(moved, ".reason.txt", NULL);
	g_autofree char *path = g_build_filename(d->cfg->failed, name, NULL);
	GError *err = NULL;
	if (!g_file_set_contents_full(path, t->str, (gssize)t->len, G_FILE_SET_CONTENTS_CONSISTENT,
				      0640, &err)) {
		log_error(d->source, "%s", err->message);
		g_error_free(err);
	}
	g_string_free(t, TRUE);
}

/* Moves a refused file (and its sidecar) to the failed folder with its
   reason. Returns 1, or 0 when it could not be moved (left, logged). */
static int dropdir_refuse(struct dropdir *d, const char *name, const char *meta_name,
			  enum dropdir_reason why, const char *arg, const char *detail)
{
	g_autofree char *shown = dropdir_log_name(name);
	g_autofree char *moved = dropdir_move_pair(d, name, meta_name, d->cfg->failed);
	if (moved == NULL) {
		dropdir_mark_stuck(d, name);
		return 0;
	}
	dropdir_write_reason(d, moved, why, arg, detail);
	g_autofree char *masked = detail != NULL ? dropdir_log_name(detail) : NULL;
	log_warn(d->source, "%s: refused (%s%s%s): moved to %s", shown, dropdir_reasons[why].code,
		 masked != NULL ? ": " : "", masked != NULL ? masked : "", d->cfg->failed);
	d->stats.failed++;
	return 1;
}

static enum dropdir_reason dropdir_reason_of(const GError *e)
{
	switch (e->code) {
	case OCR_ERROR_EMPTY: return DROPDIR_R_EMPTY;
	case OCR_ERROR_UNSUPPORTED: return DROPDIR_R_UNSUPPORTED;
	case OCR_ERROR_TOO_LARGE: return DROPDIR_R_TOO_LARGE;
	case OCR_ERROR_TIMEOUT: return DROPDIR_R_TIMEOUT;
	case OCR_ERROR_CRASHED: return DROPDIR_R_CRASHED;
	case OCR_ERROR_NO_TEXT: return DROPDIR_R_NO_TEXT;
	default: return DROPDIR_R_UNREADABLE;
	}
}

static const char *dropdir_kind_name(mode_t m)
{
	return S_ISFIFO(m) ? "FIFO" : S_ISSOCK(m) ? "socket" : S_ISCHR(m) || S_ISBLK(m) ? "device" :
		S_ISLNK(m) ? "symbolic link" : "special file";
}

/* ---- reading and committing one document ---- */

static void dropdir_job_free(struct dropdir_job *job)
{
	dropdir_doc_clear(&job->doc);
	g_free(job);
}

static char *dropdir_origin(struct dropdir *d, const char *sha)
{
	return g_strdup_printf("dropdir:%s:%s", d->cfg->name, sha);
}

/* True when NAME is still the file that was read. One renamed over it
   meanwhile (scanners reuse names) is not moved with the other's verdict:
   it is left for the next pass, which looks at once. */
static bool dropdir_still_there(struct dropdir *d, const char *name,
				const struct dropdir_seen *seen)
{
	struct stat st;
	if (seen == NULL || (fstatat(d->dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			     st.st_dev == seen->dev && st.st_ino == seen->ino))
		return true;
	g_autofree char *shown = dropdir_log_name(name);
	log_warn(d->source, "%s: replaced or removed while it was read: a new file there is "
		 "taken on its own", shown);
	d->pending++;
	return false;
}

/* The text could not be read: refused with its reason, or left to retry
   when the fault is ours (a tool missing, no temporary space). */
static void dropdir_text_failed(struct dropdir *d, struct dropdir_job *job,
				struct dropdir_seen *seen)
{
	struct dropdir_doc *doc = &job->doc;
	if (g_error_matches(doc->error, OCR_ERROR, OCR_ERROR_CANCELLED)) {
		g_autofree char *shown = dropdir_log_name(doc->name);
		log_info(d->source, "%s: reading cancelled; it stays in the folder", shown);
		return;
	}
	if (g_error_matches(doc->error, OCR_ERROR, OCR_ERROR_SYSTEM)) {
		g_autofree char *shown = dropdir_log_name(doc->name);
		log_error(d->source, "%s: %s; left in place, tried again at the next rescan", shown,
			  doc->error->message);
		if (seen != NULL)
			seen->retry_at = g_get_monotonic_time() + (gint64)d->cfg->rescan_s * G_USEC_PER_SEC;
		d->stats.errors++;
		return;
	}
	enum dropdir_reason why = dropdir_reason_of(doc->error);
	const char *arg = why == DROPDIR_R_UNSUPPORTED ? doc->type :
		why == DROPDIR_R_TOO_LARGE ? doc->error->message : NULL;
	if (dropdir_still_there(d, doc->name, seen))
		dropdir_refuse(d, doc->name, doc->meta_name, why, arg, doc->error->message);
}

/* Stores the draft, then archives the file. */
static void dropdir_commit(struct dropdir *d, struct dropdir_job *job, struct dropdir_seen *seen)
{
	struct dropdir_doc *doc = &job->doc;
	g_autofree char *shown = dropdir_log_name(doc->name);
	g_autofree char *origin = dropdir_origin(d, job->sha);
	g_autofree const char **notes = dropdir_doc_notes(doc);
	struct ingest_doc_meta m;
	dropdir_doc_meta(doc, notes, &m);
	struct ingest_origin o = { .channel = d->cfg->channel, .kind = "file", .origin = origin,
				   .received_at = doc->received_at };
	struct ingest_outcome out;
	GError *err = NULL;
	if (ingest_document(d->in, &o, doc->data, doc->len, doc->res.text, &m, &out, &err) < 0) {
		log_error(d->source, "%s: %s; left in place, tried again at the next rescan", shown,
			  err->message);
		g_error_free(err);
		if (seen != NULL)
			seen->retry_at = g_get_monotonic_time() + (gint64)d->cfg->rescan_s * G_USEC_PER_SEC;
		d->stats.errors++;
		return;
	}
	bool created = out.status == INGEST_CREATED;
	if (!dropdir_still_there(d, doc->name, seen))
		log_info(d->source, "%s: %s %s; its original is in the spool", shown,
			 created ? "draft" : "already ingested as", out.ref != NULL ? out.ref : "-");
	else if (dropdir_archive(d, doc->name, doc->meta_name) == 1)
		log_info(d->source, "%s: %s %s (%s, %u page(s)); archived", shown,
			 created ? "draft" : "already ingested as", out.ref != NULL ? out.ref : "-",
			 doc->res.engine, doc->res.pages);
	if (created)
		d->stats.drafts++;
	else
		d->stats.known++;
	ingest_outcome_clear(&out);
}

/* On the loop thread once the text was read (or not). */
static void dropdir_finish(struct dropdir *d, struct dropdir_job *job)
{
	struct dropdir_seen *seen = g_hash_table_lookup(d->seen, job->doc.name);
	if (seen != NULL)
		seen->in_hand = false;
	if (job->rc < 0)
		dropdir_text_failed(d, job, seen);
	else
		dropdir_commit(d, job, seen);
}

static void dropdir_settle_cb(uv_timer_t *t);

static void dropdir_work_cb(uv_work_t *req)
{
	struct dropdir_job *job = req->data;
	job->rc = dropdir_doc_text(&job->doc, &job->os);
}

static void dropdir_after_cb(uv_work_t *req, int status)
{
	struct dropdir_job *job = req->data;
	struct dropdir *d = job->d;
	d->in_flight--;
	if (status == UV_ECANCELED) {
		struct dropdir_seen *seen = g_hash_table_lookup(d->seen, job->doc.name);
		if (seen != NULL)
			seen->in_hand = false;
	} else {
		dropdir_finish(d, job);
	}
	dropdir_job_free(job);
	if (!d->stopping && d->pending > 0)
		uv_timer_start(&d->settle_timer, dropdir_settle_cb, 0, 0);
	if (d->in_flight == 0 && d->idle_fn != NULL)
		d->idle_fn(d, d->idle_ctx);
}

/* The same bytes already stored: archive, no OCR. Returns 1 when known (and
   dealt with), 0 when new, -1 on a store error (left for later). */
static int dropdir_known(struct dropdir *d, struct dropdir_job *job, struct dropdir_seen *seen)
{
	g_autofree char *origin = dropdir_origin(d, job->sha);
	g_autofree char *ref = NULL;
	g_autofree char *shown = dropdir_log_name(job->doc.name);
	GError *err = NULL;
	int found = store_find_source(ingest_store(d->in), origin, job->sha, &ref, &err);
	if (found < 0) {
		log_error(d->source, "%s: %s; left in place", shown, err->message);
		g_error_free(err);
		seen->retry_at = g_get_monotonic_time() + (gint64)d->cfg->rescan_s * G_USEC_PER_SEC;
		d->stats.errors++;
	} else if (found > 0 && dropdir_archive(d, job->doc.name, job->doc.meta_name) == 1) {
		log_info(d->source, "%s: already ingested as %s; archived", shown,
			 ref != NULL ? ref : "(no complaint)");
		d->stats.known++;
	}
	return found;
}

/* A read file: sidecar, receipt time, duplicate check, type; then its text
   is read (in the pool when started) and committed. Returns 1. */
static int dropdir_prepare(struct dropdir *d, struct dropdir_job *job, struct dropdir_seen *seen)
{
	struct dropdir_doc *doc = &job->doc;
	GTimeZone *tz = ingest_timezone(d->in);
	GError *err = NULL;
	if (dropdir_read_sidecar(d->dfd, doc->name, tz, &doc->meta, &doc->meta_name, &err) < 0) {
		dropdir_refuse(d, doc->name, doc->meta_name, DROPDIR_R_SIDECAR, err->message, err->message);
		g_error_free(err);
		dropdir_job_free(job);
		return 1;
	}
	dropdir_receipt(doc, tz);
	spool_sha256(doc->data, doc->len, job->sha);
	doc->type = sniff_buffer(d->sniff, doc->data, doc->len);
	if (dropdir_known(d, job, seen) != 0) {
		dropdir_job_free(job);
		return 1;
	}
	ingest_ocr_settings(ingest_config(d->in), &job->os);
	job->os.cancel = &d->cancel;
	seen->in_hand = true;
	job->d = d;
	job->work.data = job;
	if (d->async && uv_queue_work(d->loop, &job->work, dropdir_work_cb, dropdir_after_cb) == 0) {
		d->in_flight++;
		return 1;
	}
	dropdir_work_cb(&job->work);
	dropdir_finish(d, job);
	dropdir_job_free(job);
	return 1;
}

static int64_t dropdir_mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* True when the open file (st: its fstat before it was read) is the one the
   pass judged settled and did not change while it was read. */
static bool dropdir_unchanged(int fd, const struct stat *st, const struct dropdir_seen *seen)
{
	struct stat after;
	return fstat(fd, &after) == 0 && st->st_dev == seen->dev && st->st_ino == seen->ino &&
	       st->st_size == seen->size && dropdir_mtime_ns(st) == seen->mtime_ns &&
	       after.st_size == st->st_size && dropdir_mtime_ns(&after) == seen->mtime_ns;
}

/* Opens and reads a settled file. Returns 1 when it was dealt with (or
   handed over), 0 when it is left for later. */
static int dropdir_take(struct dropdir *d, const char *name, struct dropdir_seen *seen)
{
	struct stat st;
	enum dropdir_reason why;
	int err = 0, fd = dropdir_open_safe(d->dfd, name, &st, &why, &err);
	if (fd < 0 && err == ENOENT)
		return 0;
	if (fd < 0)
		return dropdir_refuse(d, name, NULL, why, why == DROPDIR_R_NOT_REGULAR ?
				      dropdir_kind_name(st.st_mode) : NULL,
				      err != EPERM ? g_strerror(err) : NULL);
	if (st.st_size == 0 || (uint64_t)st.st_size > d->cfg->max_bytes) {
		close(fd);
		g_autofree char *size = g_format_size_full((guint64)st.st_size, G_FORMAT_SIZE_IEC_UNITS);
		g_autofree char *max = g_format_size_full(d->cfg->max_bytes, G_FORMAT_SIZE_IEC_UNITS);
		g_autofree char *what = g_strdup_printf("%s > %s", size, max);
		return dropdir_refuse(d, name, NULL, st.st_size == 0 ? DROPDIR_R_EMPTY :
				      DROPDIR_R_TOO_LARGE, what, st.st_size == 0 ? NULL : what);
	}
	struct dropdir_job *job = g_new0(struct dropdir_job, 1);
	job->doc.name = g_strdup(name);
	job->doc.mtime = st.st_mtim.tv_sec;
	int rc = dropdir_read_fd(fd, (size_t)st.st_size, &job->doc.data, &job->doc.len);
	if (rc < 0 || !dropdir_unchanged(fd, &st, seen)) {
		/* It changed since the look, or while it was read: not complete
		   yet; the next pass sees the change and starts its settle time
		   again. */
		close(fd);
		seen->since = g_get_monotonic_time();
		seen->moved = false;
		d->wake_us = MIN(d->wake_us, (gint64)d->cfg->settle_ms * 1000);
		d->pending++;
		dropdir_job_free(job);
		return 0;
	}
	close(fd);
	return dropdir_prepare(d, job, seen);
}

/* ---- passes ---- */

/* The record of a name, created when new. */
static struct dropdir_seen *dropdir_seen_find(struct dropdir *d, const char *name)
{
	struct dropdir_seen *s = g_hash_table_lookup(d->seen, name);
	if (s == NULL) {
		s = g_new0(struct dropdir_seen, 1);
		g_hash_table_insert(d->seen, g_strdup(name), s);
	}
	return s;
}

/* Starts a record again: this size, mtime and inode from now on. */
static void dropdir_seen_reset(struct dropdir_seen *s, const struct stat *st, gint64 now)
{
	*s = (struct dropdir_seen){ .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size,
				    .mtime_ns = dropdir_mtime_ns(st), .since = now,
				    .pass = s->pass };
}

/* Finds or records a name; *changed_r when its size, mtime or inode are
   new since the last pass (or the inotify event that recorded it). */
static struct dropdir_seen *dropdir_seen_get(struct dropdir *d, const char *name,
					     const struct stat *st, gint64 now, bool *changed_r)
{
	struct dropdir_seen *s = g_hash_table_lookup(d->seen, name);
	*changed_r = s == NULL || s->dev != st->st_dev || s->ino != st->st_ino ||
		     s->size != st->st_size || s->mtime_ns != dropdir_mtime_ns(st);
	s = dropdir_seen_find(d, name);
	if (*changed_r && !s->in_hand)
		dropdir_seen_reset(s, st, now);
	s->pass = d->pass_no;
	return s;
}

/* Settled: renamed into the folder and unchanged since (complete by
   construction: the writer finished it elsewhere); or unchanged since a
   look or a close at least the settle time ago; or last modified at least
   the settle time ago (and not in the future). When not, *wait_r is the
   least time it must still stay unchanged. */
static bool dropdir_settled(struct dropdir *d, const struct dropdir_seen *s, bool changed,
			    gint64 now, gint64 *wait_r)
{
	gint64 settle = (gint64)d->cfg->settle_ms * 1000;
	gint64 wait = changed ? settle : s->since + settle - now;
	gint64 age = g_get_real_time() - s->mtime_ns / 1000;
	if ((!changed && s->moved) || wait <= 0 || age >= settle)
		return true;
	*wait_r = age >= 0 ? MIN(wait, settle - age) : wait;
	return false;
}

/* Looks at one name of a pass. Returns 1 when a file was dealt with. */
static int dropdir_consider(struct dropdir *d, const char *name, gint64 now)
{
	struct stat st;
	bool changed;
	if (fstatat(d->dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
		return 0;
	struct dropdir_seen *seen = dropdir_seen_get(d, name, &st, now, &changed);
	if (seen->in_hand || seen->retry_at > now)
		return 0;
	if (S_ISLNK(st.st_mode))
		return dropdir_refuse(d, name, NULL, DROPDIR_R_SYMLINK, NULL, NULL);
	if (!S_ISREG(st.st_mode))
		return dropdir_refuse(d, name, NULL, DROPDIR_R_NOT_REGULAR,
				      dropdir_kind_name(st.st_mode), NULL);
	gint64 wait = 0;
	if (!dropdir_settled(d, seen, changed, now, &wait)) {
		d->wake_us = MIN(d->wake_us, wait);
		d->pending++;
		return 0;
	}
	if (d->async && d->in_flight >= d->max_in_flight) {
		d->pending++;   /* looked at again when a document is done */
		return 0;
	}
	return dropdir_take(d, name, seen);
}

/* (Re)opens the folder when it is new or was replaced. Returns 0 or -1
   with errno. */
static int dropdir_reopen(struct dropdir *d)
{
	struct stat st;
	/* An open descriptor would still list a folder whose permission was
	   taken away, while its files could not be opened or moved: check. */
	if (stat(d->cfg->path, &st) < 0 || faccessat(AT_FDCWD, d->cfg->path, R_OK | W_OK | X_OK,
						     AT_EACCESS) < 0)
		return -1;
	if (d->dfd >= 0 && st.st_dev == d->dev && st.st_ino == d->ino)
		return 0;
	d->wd = -1;
	int fd = open(d->cfg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (d->dfd >= 0)
		close(d->dfd);
	d->dfd = fd;
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	return 0;
}

static gint dropdir_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of the folder that are not ignored, sorted; NULL with errno. */
static GPtrArray *dropdir_list(struct dropdir *d)
{
	int fd = dup(d->dfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(dir);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	struct dirent *e;
	while ((e = readdir(dir)) != NULL)
		if (!dropdir_name_ignored(e->d_name))
			g_ptr_array_add(names, g_strdup(e->d_name));
	closedir(dir);
	g_ptr_array_sort(names, dropdir_cmp);
	return names;
}

static gboolean dropdir_gone(gpointer key, gpointer value, gpointer data)
{
	(void)key;
	const struct dropdir_seen *s = value;
	const struct dropdir *d = data;
	return s->pass != d->pass_no && !s->in_hand;
}

static void dropdir_add_watch(struct dropdir *d);

/* Logs a change of the folder's state: once when it cannot be read, once
   when it can again. */
static void dropdir_folder_state(struct dropdir *d, bool readable, int err)
{
	if (!readable && !d->folder_error)
		log_error(d->source, "cannot read the folder %s: %s; tried again at every rescan "
			  "(%u s)", d->cfg->path, g_strerror(err), d->cfg->rescan_s);
	else if (readable && d->folder_error)
		log_info(d->source, "the folder %s can be read again", d->cfg->path);
	d->folder_error = !readable;
}

int dropdir_pass(struct dropdir *d)
{
	GPtrArray *names = dropdir_reopen(d) == 0 ? dropdir_list(d) : NULL;
	dropdir_folder_state(d, names != NULL, errno);
	if (names == NULL)
		return -1;
	if (d->started && !d->stopping && d->inotify_fd >= 0 && d->wd < 0)
		dropdir_add_watch(d);
	d->pass_no++;
	d->pending = 0;
	d->wake_us = (gint64)d->cfg->settle_ms * 1000;
	gint64 now = g_get_monotonic_time();
	int handled = 0;
	for (guint i = 0; i < names->len; i++)
		handled += dropdir_consider(d, names->pdata[i], now);
	g_hash_table_foreach_remove(d->seen, dropdir_gone, d);
	g_ptr_array_unref(names);
	return handled;
}

unsigned dropdir_pending(const struct dropdir *d)
{
	return d->pending;
}

int dropdir_once(struct dropdir *d)
{
	int total = 0;
	for (int round = 0; round < 3; round++) {
		int n = dropdir_pass(d);
		if (n < 0)
			return -1;
		total += n;
		if (d->pending == 0 || d->async)
			return total;
		if (round < 2)
			g_usleep((gulong)d->wake_us + 20000);
	}
	log_info(d->source, "%u file(s) still being written: left for the next run", d->pending);
	return total;
}

void dropdir_get_stats(const struct dropdir *d, struct dropdir_stats *st)
{
	*st = d->stats;
}

void dropdir_abort(struct dropdir *d)
{
	if (d != NULL)
		g_atomic_int_set(&d->cancel, 1);
}

bool dropdir_idle(const struct dropdir *d)
{
	return d->in_flight == 0;
}

void dropdir_set_idle_cb(struct dropdir *d, void (*fn)(struct dropdir *d, void *ctx), void *ctx)
{
	d->idle_fn = fn;
	d->idle_ctx = ctx;
}

/* ---- the daemon: inotify, timers ---- */

static void dropdir_look_later(struct dropdir *d, uint64_t ms)
{
	if (!d->stopping)
		uv_timer_start(&d->settle_timer, dropdir_settle_cb, ms, 0);
}

/* Looks within ms: sooner when a look is already due sooner. */
static void dropdir_look_within(struct dropdir *d, uint64_t ms)
{
	if (!uv_is_active((uv_handle_t *)&d->settle_timer) ||
	    uv_timer_get_due_in(&d->settle_timer) > ms)
		dropdir_look_later(d, ms);
}

/* A pass; files not settled yet are looked at again as soon as the first
   of them may have (at most the settle time later). */
static void dropdir_settle_cb(uv_timer_t *t)
{
	struct dropdir *d = t->data;
	if (dropdir_pass(d) >= 0 && d->pending > 0)
		dropdir_look_later(d, (uint64_t)MAX(d->wake_us + 999, 1000) / 1000);
}

static void dropdir_rescan_cb(uv_timer_t *t)
{
	struct dropdir *d = t->data;
	if (!uv_is_active((uv_handle_t *)&d->settle_timer))
		dropdir_settle_cb(&d->settle_timer);
}

/* Records what a name is when an event reports it, so that its settle
   time starts at the event; moved: it was renamed into the folder. A name
   being read is left alone (its pass sees any change). */
static void dropdir_hint(struct dropdir *d, const char *name, bool moved, gint64 now)
{
	struct stat st;
	if (d->dfd < 0 || fstatat(d->dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
		return;
	struct dropdir_seen *s = dropdir_seen_find(d, name);
	if (s->in_hand)
		return;
	bool same = s->dev == st.st_dev && s->ino == st.st_ino;
	gint64 retry_at = s->retry_at;
	dropdir_seen_reset(s, &st, now);
	s->pass = d->pass_no;
	s->moved = moved;
	s->retry_at = same ? retry_at : 0;
}

/* When to look after one inotify event, in µs from now, or -1: never. A
   file renamed into the folder (IN_MOVED_TO) is complete by construction:
   looked at now, and taken if still unchanged then. After IN_CLOSE_WRITE
   the settle time runs from the event: writers that close and reopen (SMB,
   fax servers) must leave it unchanged that long. A file only created (not
   closed yet; links, FIFOs) is looked at once the settle time passed, and
   after a queue overflow every file is judged by its own settle time. */
static gint64 dropdir_event(struct dropdir *d, const struct inotify_event *ev, gint64 now)
{
	gint64 settle = (gint64)d->cfg->settle_ms * 1000;
	if (ev->mask & IN_Q_OVERFLOW)
		return 0;
	if (ev->len == 0 || (ev->mask & IN_ISDIR) || dropdir_name_ignored(ev->name))
		return -1;
	if (ev->mask & (IN_MOVED_TO | IN_CLOSE_WRITE))
		dropdir_hint(d, ev->name, (ev->mask & IN_MOVED_TO) != 0, now);
	if (ev->mask & IN_MOVED_TO)
		return 0;
	return ev->mask & IN_CLOSE_WRITE ? settle : settle + 50000;
}

/* inotify says something happened: a hint to look, at once or once it
   settled (see dropdir_event). */
static void dropdir_poll_cb(uv_poll_t *h, int status, int events)
{
	(void)events;
	struct dropdir *d = h->data;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	gint64 now = g_get_monotonic_time(), soonest = status < 0 ? 0 : -1;
	ssize_t n;
	while ((n = read(d->inotify_fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			gint64 when = dropdir_event(d, ev, now);
			if (when >= 0 && (soonest < 0 || when < soonest))
				soonest = when;
			if ((ev->mask & IN_IGNORED) && ev->wd == d->wd) {
				log_warn(d->source, "%s is no longer watched (removed or unmounted); "
					 "rescans go on", d->cfg->path);
				d->wd = -1;
			}
			p += sizeof *ev + ev->len;
		}
	}
	if (soonest >= 0)
		dropdir_look_within(d, (uint64_t)(soonest + 999) / 1000);
}

static void dropdir_closed_cb(uv_handle_t *h)
{
	struct dropdir *d = h->data;
	d->open_handles--;
}

static void dropdir_poll_closed_cb(uv_handle_t *h)
{
	struct dropdir *d = h->data;
	close(d->inotify_fd);
	d->inotify_fd = -1;
	d->open_handles--;
}

/* Watches the folder (again); on failure the rescans go on alone, and the
   next readable pass tries again. */
static void dropdir_add_watch(struct dropdir *d)
{
	d->wd = inotify_add_watch(d->inotify_fd, d->cfg->path, IN_CLOSE_WRITE | IN_MOVED_TO |
				  IN_CREATE | IN_ONLYDIR);
	if (d->wd < 0 && !d->folder_error)
		log_warn(d->source, "inotify on %s failed: %s; the folder is rescanned every %u s",
			 d->cfg->path, g_strerror(errno), d->cfg->rescan_s);
}

static int dropdir_watch(struct dropdir *d)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0 || uv_poll_init(d->loop, &d->poll, fd) < 0) {
		log_warn(d->source, "inotify failed: %s; the folder is rescanned every %u s",
			 g_strerror(errno), d->cfg->rescan_s);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	d->inotify_fd = fd;
	d->poll.data = d;
	d->open_handles++;
	uv_poll_start(&d->poll, UV_READABLE, dropdir_poll_cb);
	if (!d->folder_error)
		dropdir_add_watch(d);
	return 0;
}

int dropdir_start(struct dropdir *d)
{
	if (d->loop == NULL || d->started)
		return -1;
	d->started = true;
	d->async = true;
	d->max_in_flight = MAX(1u, uv_available_parallelism());
	uv_timer_init(d->loop, &d->settle_timer);
	uv_timer_init(d->loop, &d->rescan_timer);
	d->settle_timer.data = d->rescan_timer.data = d;
	d->open_handles += 2;
	uint64_t rescan = (uint64_t)d->cfg->rescan_s * 1000;
	uv_timer_start(&d->rescan_timer, dropdir_rescan_cb, rescan, rescan);
	uv_timer_start(&d->settle_timer, dropdir_settle_cb, 0, 0);
	return dropdir_watch(d);
}

void dropdir_stop(struct dropdir *d)
{
	if (d == NULL || !d->started || d->stopping)
		return;
	d->stopping = true;
	uv_close((uv_handle_t *)&d->settle_timer, dropdir_closed_cb);
	uv_close((uv_handle_t *)&d->rescan_timer, dropdir_closed_cb);
	if (d->inotify_fd >= 0)
		uv_close((uv_handle_t *)&d->poll, dropdir_poll_closed_cb);
}

/* ---- creation ---- */

static bool dropdir_same_dir(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int dropdir_check_folders(const struct config_dropdir *cfg, GError **error)
{
	struct stat st;
	const char *bad = NULL;
	if (stat(cfg->path, &st) < 0 ? errno != EACCES : !S_ISDIR(st.st_mode))
		bad = "path";
	else if (g_mkdir_with_parents(cfg->archive, 0770) < 0 || dropdir_same_dir(cfg->archive, cfg->path))
		bad = "archive";
	else if (g_mkdir_with_parents(cfg->failed, 0770) < 0 || dropdir_same_dir(cfg->failed, cfg->path))
		bad = "failed";
	if (bad == NULL)
		return 0;
	const char *value = strcmp(bad, "path") == 0 ? cfg->path :
		strcmp(bad, "archive") == 0 ? cfg->archive : cfg->failed;
	g_set_error(error, DROPDIR_ERROR, DROPDIR_ERROR_FOLDER,
		    "[dropdir %s] %s = %s: expected a folder%s (%s)", cfg->name, bad, value,
		    strcmp(bad, "path") == 0 ? " to watch" : " other than the drop folder",
		    errno != 0 ? g_strerror(errno) : "the same folder");
	return -1;
}

struct dropdir *dropdir_new(uv_loop_t *loop, struct ingest *in, const struct config_dropdir *cfg,
			    GError **error)
{
	errno = 0;
	if (dropdir_check_folders(cfg, error) < 0)
		return NULL;
	struct sniff *sn = sniff_new(error);
	if (sn == NULL)
		return NULL;
	struct dropdir *d = g_new0(struct dropdir, 1);
	d->loop = loop;
	d->in = in;
	d->cfg = cfg;
	d->sniff = sn;
	d->dfd = d->inotify_fd = d->wd = -1;
	d->max_in_flight = 1;
	d->source = g_strdup_printf("dropdir %s", cfg->name);
	d->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	/* A folder that cannot be read now (permissions, a share not mounted
	   yet) is not fatal: the other sources go on, and every rescan tries. */
	if (dropdir_reopen(d) < 0)
		dropdir_folder_state(d, false, errno);
	return d;
}

void dropdir_free(struct dropdir *d)
{
	if (d == NULL)
		return;
	if (d->open_handles > 0 || d->in_flight > 0) {
		log_error(d->source, "freed with %u handle(s) open and %u document(s) in hand: "
			  "stop it and run the loop first; leaked", d->open_handles, d->in_flight);
		return;
	}
	if (d->dfd >= 0)
		close(d->dfd);
	sniff_free(d->sniff);
	g_hash_table_unref(d->seen);
	g_free(d->source);
	g_free(d);
}
