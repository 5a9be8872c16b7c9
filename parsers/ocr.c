/* Document text through child processes (pdftotext, pdftoppm, tesseract)
   and in-memory DOCX reading; see ocr.h.
   SECURITY: see ocr.h. Between fork() and execve() the child calls only
   async-signal-safe functions: the program path, argument vector and
   environment are all prepared before the fork, so this is safe from any
   thread. */
#include "parsers/ocr.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>
#include <libxml/parser.h>
#include <libxml/xmlreader.h>

#include "parsers/charset.h"

G_DEFINE_QUARK(intake-ocr-error-quark, ocr_error)

#define OCR_DEFAULT_SECONDS 120u
#define OCR_DEFAULT_PAGES 20u
#define OCR_DEFAULT_MEMORY (2ull << 30)
#define OCR_DEFAULT_OUTPUT (256ull << 20)
#define OCR_DEFAULT_DPI 300u
#define OCR_DEFAULT_LANGUAGES "chi_sim+eng"
#define OCR_DEFAULT_DOCX_XML (64ull << 20)
/* A page whose text layer has fewer letters, digits or ideographs than this
   is taken for a scanned image and read by OCR. */
#define OCR_MIN_PAGE_CHARS 8
#define OCR_ERR_TAIL 2048u
/* Sauvola's adaptive binarisation instead of Otsu's global threshold:
   measured on our renderings (tests/corpus/scans/measure.py), speckled
   greyscale scans went from 14 to 15 of 15 account numbers exact and their
   CER from 6.6% to 3.6%, clean pages and bilevel faxes unchanged. */
#define OCR_THRESHOLDING "thresholding_method=2"
#define OCR_MAX_TIFF_PAGES 100000u

static const char *const ocr_w_ns[] = {
	"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
	"http://purl.oclc.org/ooxml/wordprocessingml/main", NULL };

/* One call of ocr_document_text: the settings with defaults filled in, the
   private folder and the result being built. */
struct ocr_ctx {
	struct ocr_settings s;
	char *dir;
	struct ocr_result *out;
};

/* One child process: the tool's name for messages, its output. */
struct ocr_child {
	const struct ocr_settings *s;
	const char *tool;
	GString *out;      /* stdout, at most s->max_output bytes */
	GString *err;      /* the last OCR_ERR_TAIL bytes of stderr */
	bool too_large, timed_out, cancelled;
};

enum ocr_kind ocr_kind_of(const char *t)
{
	static const char *const images[] = {
		"image/jpeg", "image/png", "image/bmp", "image/x-ms-bmp", "image/gif", "image/webp",
		"image/jp2", "image/x-portable-bitmap", "image/x-portable-greymap",
		"image/x-portable-pixmap", "image/x-portable-anymap", NULL };
	if (t == NULL)
		return OCR_KIND_UNSUPPORTED;
	if (strcmp(t, "application/pdf") == 0)
		return OCR_KIND_PDF;
	if (strcmp(t, "image/tiff") == 0)
		return OCR_KIND_TIFF;
	if (g_strv_contains(images, t))
		return OCR_KIND_IMAGE;
	if (strcmp(t, "application/vnd.openxmlformats-officedocument.wordprocessingml.document") == 0 ||
	    strcmp(t, "application/zip") == 0)
		return OCR_KIND_DOCX;
	if (strcmp(t, "text/plain") == 0)
		return OCR_KIND_TEXT;
	return OCR_KIND_UNSUPPORTED;
}

void ocr_result_clear(struct ocr_result *r)
{
	if (r == NULL)
		return;
	g_clear_pointer(&r->text, g_free);
	g_clear_pointer(&r->engine, g_free);
	g_clear_pointer(&r->language, g_free);
	g_clear_pointer(&r->notes, g_ptr_array_unref);
	r->pages = r->pages_total = 0;
}

static void ocr_note(struct ocr_ctx *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void ocr_note(struct ocr_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_ptr_array_add(c->out->notes, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

/* ---- text clean-up ---- */

static bool ocr_is_cjk(gunichar c)
{
	return c >= 0x2E80 && g_unichar_iswide(c);
}

static bool ocr_is_mail_char(gunichar c)
{
	return c < 0x80 && (g_ascii_isalnum((char)c) || c == '.' || c == '_' || c == '-' || c == '+');
}

/* True if the blank at u[i] is dropped: one blank between two CJK
   characters, or blanks next to an '@' between address characters. */
static bool ocr_drop_blank(const gunichar *u, glong n, glong i)
{
	glong a = i, b = i;
	while (a > 0 && u[a - 1] == ' ')
		a--;
	while (b + 1 < n && u[b + 1] == ' ')
		b++;
	if (a == 0 || b + 1 >= n)
		return false;
	gunichar prev = u[a - 1], next = u[b + 1];
	if (b == a && ocr_is_cjk(prev) && ocr_is_cjk(next))
		return true;
	return b - a < 2 && ((prev == '@' && ocr_is_mail_char(next)) ||
			     (next == '@' && ocr_is_mail_char(prev)));
}

/* Appends one cleaned line (no line break) to out. */
static void ocr_clean_line(GString *out, const gunichar *u, glong n)
{
	while (n > 0 && (u[n - 1] == ' ' || u[n - 1] == '\t' || u[n - 1] == 0x3000))
		n--;
	for (glong i = 0; i < n; i++) {
		if (u[i] == ' ' && ocr_drop_blank(u, n, i))
			continue;
		if ((u[i] < 0x20 && u[i] != '\t') || (u[i] >= 0x7f && u[i] < 0xa0))
			continue;
		g_string_append_unichar(out, u[i]);
	}
}

char *ocr_normalize(const char *text, size_t len)
{
	g_autofree char *valid = g_utf8_make_valid(text, (gssize)len);
	glong n = 0;
	g_autofree gunichar *u = g_utf8_to_ucs4_fast(valid, -1, &n);
	GString *out = g_string_sized_new((gsize)len + 1);
	unsigned empty = 0;
	for (glong i = 0; i < n;) {
		glong e = i;
		while (e < n && u[e] != '\n' && u[e] != '\r' && u[e] != '\f')
			e++;
		gsize before = out->len;
		ocr_clean_line(out, u + i, e - i);
		if (out->len == before) {
			empty++;
		} else {
			empty = 0;
		}
		if (out->len > 0 && empty <= 1)
			g_string_append_c(out, '\n');
		if (e < n && u[e] == '\r' && e + 1 < n && u[e + 1] == '\n')
			e++;
		i = e + 1;
	}
	while (out->len > 0 && out->str[out->len - 1] == '\n')
		g_string_truncate(out, out->len - 1);
	return g_string_free(out, FALSE);
}

/* Letters, digits and ideographs in the text. */
static size_t ocr_significant(const char *text)
{
	size_t n = 0;
	for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p))
		if (g_unichar_isalnum(g_utf8_get_char(p)))
			n++;
	return n;
}

/* ---- TIFF ---- */

static uint64_t ocr_get(const unsigned char *p, unsigned bytes, bool le)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v = (v << 8) | p[le ? bytes - 1 - i : i];
	return v;
}

unsigned ocr_tiff_pages(const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	if (len < 16 || !((p[0] == 'I' && p[1] == 'I') || (p[0] == 'M' && p[1] == 'M')))
		return 0;
	bool le = p[0] == 'I';
	uint64_t magic = ocr_get(p + 2, 2, le);
	bool big = magic == 43;
	if (magic != 42 && !(big && ocr_get(p + 4, 2, le) == 8))
		return 0;
	unsigned osz = big ? 8 : 4, csz = big ? 8 : 2, esz = big ? 20 : 12;
	uint64_t off = ocr_get(p + (big ? 8 : 4), osz, le);
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	unsigned pages = 0;
	while (off != 0 && off <= len - csz && pages < OCR_MAX_TIFF_PAGES &&
	       g_hash_table_add(seen, GSIZE_TO_POINTER((gsize)off))) {
		uint64_t n = ocr_get(p + off, csz, le);
		pages++;
		if (n > (len - off - csz) / esz || off + csz + n * esz > len - osz)
			break;
		off = ocr_get(p + off + csz + n * esz, osz, le);
	}
	g_hash_table_unref(seen);
	return pages;
}

/* ---- the private folder ---- */

static void ocr_tmp_free(char *dir);

/* Removes the private folders of processes that died in the middle (killed
   while a tool ran): "intake-ocr-PID-XXXXXX" whose PID no longer exists. */
static void ocr_tmp_sweep(const char *tmpdir)
{
	GDir *d = g_dir_open(tmpdir, 0, NULL);
	const char *name;
	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		if (!g_str_has_prefix(name, "intake-ocr-"))
			continue;
		char *end = NULL;
		long pid = strtol(name + 11, &end, 10);
		if (pid > 0 && end != NULL && *end == '-' && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			ocr_tmp_free(g_build_filename(tmpdir, name, NULL));
	}
	if (d != NULL)
		g_dir_close(d);
}

static char *ocr_tmp_new(const struct ocr_settings *s, GError **error)
{
	const char *tmpdir = s->tmpdir != NULL ? s->tmpdir : g_get_tmp_dir();
	ocr_tmp_sweep(tmpdir);
	g_autofree char *base = g_strdup_printf("intake-ocr-%ld-XXXXXX", (long)getpid());
	char *tmpl = g_build_filename(tmpdir, base, NULL);
	if (g_mkdtemp_full(tmpl, 0700) == NULL) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_SYSTEM, "mkdtemp(%s) failed: %s", tmpl,
			    g_strerror(errno));
		g_free(tmpl);
		return NULL;
	}
	return tmpl;
}

/* Removes the folder and the files in it (the tools write no subfolders). */
static void ocr_tmp_free(char *dir)
{
	if (dir == NULL)
		return;
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		unlink(path);
	}
	if (d != NULL)
		g_dir_close(d);
	rmdir(dir);
	g_free(dir);
}

static int ocr_write(struct ocr_ctx *c, const char *name, const char *data, size_t len,
		     GError **error)
{
	g_autofree char *path = g_build_filename(c->dir, name, NULL);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	size_t done = 0;
	while (fd >= 0 && done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	int saved = errno;
	if (fd >= 0)
		close(fd);
	if (fd < 0 || done < len) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_SYSTEM, "write(%s) failed: %s", path,
			    g_strerror(saved));
		return -1;
	}
	return 0;
}

/* ---- child processes ---- */

/* The child's side: limits, descriptors, exec. Async-signal-safe only. */
static void ocr_child_exec(const char *path, char **argv, char **envp, const char *cwd,
			   const int fds[3], const struct rlimit lim[4], pid_t parent)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setpgid(0, 0);
	/* The child dies with us: a daemon killed mid-OCR leaves no orphan
	   (and one killed before this line is noticed by getppid). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0)
		_exit(126);
#ifdef SYS_close_range
	syscall(SYS_close_range, 3u, ~0u, 0u);
#endif
	if (chdir(cwd) < 0 || setrlimit(RLIMIT_CPU, &lim[0]) < 0 || setrlimit(RLIMIT_AS, &lim[1]) < 0 ||
	    setrlimit(RLIMIT_FSIZE, &lim[2]) < 0 || setrlimit(RLIMIT_CORE, &lim[3]) < 0)
		_exit(126);
	execve(path, argv, envp);
	_exit(127);
}

static void ocr_kill(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

static bool ocr_cancelled(const struct ocr_settings *s)
{
	return s->cancel != NULL && g_atomic_int_get(s->cancel) != 0;
}

/* Appends what is readable on fd; returns false at end of file. */
static bool ocr_drain(struct ocr_child *ch, int fd, bool is_out)
{
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (!is_out) {
		g_string_append_len(ch->err, buf, n);
		if (ch->err->len > OCR_ERR_TAIL)
			g_string_erase(ch->err, 0, (gssize)(ch->err->len - OCR_ERR_TAIL));
	} else if (ch->out->len + (size_t)n > ch->s->max_output) {
		ch->too_large = true;
	} else {
		g_string_append_len(ch->out, buf, n);
	}
	return true;
}

/* Reads both pipes until they close, the deadline passes or the output is
   too large, then reaps the child (killing it and its group if needed). */
static int ocr_collect(struct ocr_child *ch, pid_t pid, int outfd, int errfd, gint64 deadline)
{
	struct pollfd pf[2] = { { .fd = outfd, .events = POLLIN }, { .fd = errfd, .events = POLLIN } };
	while ((pf[0].fd >= 0 || pf[1].fd >= 0) && !ch->too_large) {
		gint64 left = deadline - g_get_monotonic_time();
		if (left <= 0 || ocr_cancelled(ch->s)) {
			ch->timed_out = left <= 0;
			ch->cancelled = !ch->timed_out;
			break;
		}
		int r = poll(pf, 2, (int)MIN(left / 1000 + 1, 250));
		for (int i = 0; r > 0 && i < 2; i++)
			if (pf[i].fd >= 0 && pf[i].revents != 0 && !ocr_drain(ch, pf[i].fd, i == 0))
				pf[i].fd = -1;
	}
	int status = 0;
	pid_t w;
	while (((w = waitpid(pid, &status, WNOHANG)) == 0 || (w < 0 && errno == EINTR)) &&
	       !ch->timed_out && !ch->too_large && !ch->cancelled) {
		if (g_get_monotonic_time() >= deadline)
			ch->timed_out = true;
		else if (ocr_cancelled(ch->s))
			ch->cancelled = true;
		else
			g_usleep(10000);
	}
	if (w <= 0) {
		ocr_kill(pid);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	return status;
}

static int ocr_fail_status(struct ocr_child *ch, int status, GError **error)
{
	g_autofree char *tail = g_strstrip(g_utf8_make_valid(ch->err->str, (gssize)ch->err->len));
	const char *last = strrchr(tail, '\n') != NULL ? strrchr(tail, '\n') + 1 : tail;
	if (ch->cancelled) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_CANCELLED, "%s: cancelled", ch->tool);
	} else if (ch->timed_out) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_TIMEOUT, "%s: killed after %u s (time limit)",
			    ch->tool, ch->s->seconds);
	} else if (ch->too_large) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_TOO_LARGE, "%s: killed: output over %" G_GUINT64_FORMAT
			    " bytes", ch->tool, (guint64)ch->s->max_output);
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_TIMEOUT, "%s: CPU time limit of %u s reached",
			    ch->tool, ch->s->seconds);
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_TOO_LARGE, "%s: file size limit reached", ch->tool);
	} else if (WIFSIGNALED(status)) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_CRASHED, "%s: died of signal %d (%s)%s%s", ch->tool,
			    WTERMSIG(status), g_strsignal(WTERMSIG(status)), *last ? ": " : "", last);
	} else if (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_SYSTEM, "%s: could not be started (status %d)",
			    ch->tool, WEXITSTATUS(status));
	} else {
		g_set_error(error, OCR_ERROR, OCR_ERROR_UNREADABLE, "%s: exit status %d%s%s", ch->tool,
			    WEXITSTATUS(status), *last ? ": " : "", last);
	}
	return -1;
}

/* The environment of every child: ours, one OpenMP thread (tesseract is
   much faster so, and one child per core is the rule), the C locale. */
static char **ocr_child_env(void)
{
	char **env = g_get_environ();
	env = g_environ_setenv(env, "OMP_THREAD_LIMIT", "1", TRUE);
	env = g_environ_setenv(env, "LC_ALL", "C", TRUE);
	return env;
}

static void ocr_limits(const struct ocr_settings *s, struct rlimit lim[4])
{
	lim[0] = (struct rlimit){ s->seconds, s->seconds + 1 };
	lim[1] = (struct rlimit){ s->max_memory, s->max_memory };
	lim[2] = (struct rlimit){ s->max_output, s->max_output };
	lim[3] = (struct rlimit){ 0, 0 };
}

static int ocr_spawn(struct ocr_child *ch, const char *path, char **argv, const char *cwd,
		     GError **error)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_SYSTEM, "%s: pipe failed: %s", ch->tool,
			    g_strerror(errno));
		int fds[] = { null, outp[0], outp[1], errp[0], errp[1] };
		for (size_t i = 0; i < G_N_ELEMENTS(fds); i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return -1;
	}
	char **env = ocr_child_env();
	struct rlimit lim[4];
	ocr_limits(ch->s, lim);
	gint64 deadline = g_get_monotonic_time() + (gint64)ch->s->seconds * G_USEC_PER_SEC;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0)
		ocr_child_exec(path, argv, env, cwd, (const int[]){ null, outp[1], errp[1] }, lim,
			       parent);
	int saved = errno;
	close(null);
	close(outp[1]);
	close(errp[1]);
	g_strfreev(env);
	int status = 0, rc = 0;
	if (pid < 0) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_SYSTEM, "%s: fork failed: %s", ch->tool,
			    g_strerror(saved));
		rc = -1;
	} else {
		setpgid(pid, pid);
		status = ocr_collect(ch, pid, outp[0], errp[0], deadline);
		if (ch->timed_out || ch->too_large || ch->cancelled || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			rc = ocr_fail_status(ch, status, error);
	}
	close(outp[0]);
	close(errp[0]);
	return rc;
}

/* Runs argv (argv[0] a program name or path) in the private folder with the
   limits; its stdout goes to out (may be NULL). Returns 0 when it exited 0,
   else -1 with an OCR_ERROR saying what happened. */
static int ocr_run(struct ocr_ctx *c, char **argv, GString *out, GError **error)
{
	g_autofree char *path = strchr(argv[0], '/') != NULL ? g_strdup(argv[0]) :
							       g_find_program_in_path(argv[0]);
	if (path == NULL) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_SYSTEM, "%s: not found in PATH", argv[0]);
		return -1;
	}
	g_autofree char *tool = g_path_get_basename(argv[0]);
	GString *sink = out != NULL ? out : g_string_new(NULL);
	struct ocr_child ch = { .s = &c->s, .tool = tool, .out = sink, .err = g_string_new(NULL) };
	int rc = ocr_spawn(&ch, path, argv, c->dir, error);
	g_string_free(ch.err, TRUE);
	if (out == NULL)
		g_string_free(sink, TRUE);
	return rc;
}

/* ---- PDF ---- */

static int ocr_pdf_pages(struct ocr_ctx *c, unsigned *pages_r, GError **error)
{
	g_autoptr(GString) info = g_string_new(NULL);
	char *argv[] = { (char *)c->s.pdfinfo, "in.pdf", NULL };
	if (ocr_run(c, argv, info, error) < 0)
		return -1;
	const char *p = strstr(info->str, "\nPages:");
	if (p == NULL && g_str_has_prefix(info->str, "Pages:"))
		p = info->str - 1;
	unsigned long n = p != NULL ? strtoul(p + 7, NULL, 10) : 0;
	if (n == 0 || n > 1000000) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_UNREADABLE, "pdfinfo: no page count in its output");
		return -1;
	}
	*pages_r = (unsigned)n;
	return 0;
}

/* Splits tool output at form feeds into exactly n pages. */
static char **ocr_split_pages(const char *text, unsigned n)
{
	char **parts = g_strsplit(text, "\f", -1);
	guint have = g_strv_length(parts);
	char **pages = g_new0(char *, n + 1);
	for (unsigned i = 0; i < n; i++)
		pages[i] = g_strdup(i < have ? parts[i] : "");
	g_strfreev(parts);
	return pages;
}

/* Rasterises the listed pages (1-based) and returns the image file names. */
static GPtrArray *ocr_pdf_raster(struct ocr_ctx *c, const unsigned *list, unsigned n,
				 GError **error)
{
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *dpi = g_strdup_printf("%u", c->s.dpi);
	for (unsigned i = 0; i < n; i++) {
		g_autofree char *pg = g_strdup_printf("%u", list[i]);
		g_autofree char *prefix = g_strdup_printf("r%05u", list[i]);
		char *argv[] = { (char *)c->s.pdftoppm, "-r", dpi, "-gray", "-singlefile", "-f", pg,
				 "-l", pg, "in.pdf", prefix, NULL };
		if (ocr_run(c, argv, NULL, error) < 0) {
			g_ptr_array_unref(files);
			return NULL;
		}
		g_ptr_array_add(files, g_strdup_printf("%s.pgm", prefix));
	}
	return files;
}

/* Reads image files with one tesseract run; returns its output split into
   one text per image, or NULL with error. */
static char **ocr_tesseract_list(struct ocr_ctx *c, GPtrArray *files, GError **error)
{
	GString *list = g_string_new(NULL);
	for (guint i = 0; i < files->len; i++)
		g_string_append_printf(list, "%s/%s\n", c->dir, (char *)files->pdata[i]);
	int rc = ocr_write(c, "pages.txt", list->str, list->len, error);
	g_string_free(list, TRUE);
	g_autoptr(GString) out = g_string_new(NULL);
	char *argv[] = { (char *)c->s.tesseract, "pages.txt", "-", "-l", (char *)c->s.languages,
			 "-c", OCR_THRESHOLDING, NULL };
	if (rc < 0 || ocr_run(c, argv, out, error) < 0)
		return NULL;
	return ocr_split_pages(out->str, files->len);
}

static void ocr_set_engine(struct ocr_ctx *c, unsigned ocr_pages, unsigned pages)
{
	const char *e = ocr_pages == 0 ? "pdftotext" : ocr_pages == pages ? "tesseract" :
		"pdftotext+tesseract";
	c->out->engine = g_strdup(e);
	if (ocr_pages > 0)
		c->out->language = g_strdup(c->s.languages);
}

/* OCRs the pages that have no text layer, replacing their text. */
static int ocr_pdf_scanned(struct ocr_ctx *c, char **pages, unsigned n, GError **error)
{
	g_autofree unsigned *need = g_new0(unsigned, n + 1);
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++)
		if (ocr_significant(pages[i]) < OCR_MIN_PAGE_CHARS)
			need[k++] = i + 1;
	ocr_set_engine(c, k, n);
	if (k == 0)
		return 0;
	GPtrArray *files = ocr_pdf_raster(c, need, k, error);
	char **texts = files != NULL ? ocr_tesseract_list(c, files, error) : NULL;
	if (files != NULL)
		g_ptr_array_unref(files);
	if (texts == NULL)
		return -1;
	for (unsigned i = 0; i < k; i++) {
		g_free(pages[need[i] - 1]);
		pages[need[i] - 1] = ocr_normalize(texts[i], strlen(texts[i]));
	}
	g_strfreev(texts);
	if (k < n)
		ocr_note(c, "%u of %u pages had no text layer and were read by OCR", k, n);
	return 0;
}

static int ocr_read_pdf(struct ocr_ctx *c, const char *data, size_t len, GError **error)
{
	unsigned total = 0;
	if (ocr_write(c, "in.pdf", data, len, error) < 0 || ocr_pdf_pages(c, &total, error) < 0)
		return -1;
	unsigned n = MIN(total, c->s.max_pages);
	if (n < total)
		ocr_note(c, "pages %u-%u of %u were not read (limit: %u pages)", n + 1, total, total, n);
	g_autofree char *last = g_strdup_printf("%u", n);
	g_autoptr(GString) text = g_string_new(NULL);
	char *argv[] = { (char *)c->s.pdftotext, "-layout", "-enc", "UTF-8", "-f", "1", "-l", last,
			 "in.pdf", "-", NULL };
	if (ocr_run(c, argv, text, error) < 0)
		return -1;
	char **pages = ocr_split_pages(text->str, n);
	int rc = ocr_pdf_scanned(c, pages, n, error);
	if (rc == 0) {
		g_autofree char *joined = g_strjoinv("\n\n", pages);
		c->out->text = ocr_normalize(joined, strlen(joined));
		c->out->pages = n;
		c->out->pages_total = total;
	}
	g_strfreev(pages);
	return rc;
}

/* ---- images ---- */

static int ocr_tesseract(struct ocr_ctx *c, const char *file, GError **error)
{
	g_autoptr(GString) out = g_string_new(NULL);
	char *argv[] = { (char *)c->s.tesseract, (char *)file, "-", "-l", (char *)c->s.languages,
			 "-c", OCR_THRESHOLDING, NULL };
	if (ocr_run(c, argv, out, error) < 0)
		return -1;
	c->out->text = ocr_normalize(out->str, out->len);
	c->out->engine = g_strdup("tesseract");
	c->out->language = g_strdup(c->s.languages);
	return 0;
}

static const char *ocr_image_name(const char *type)
{
	static const char *const map[][2] = {
		{ "image/jpeg", "in.jpg" }, { "image/png", "in.png" }, { "image/gif", "in.gif" },
		{ "image/webp", "in.webp" }, { "image/jp2", "in.jp2" }, { "image/bmp", "in.bmp" },
		{ "image/x-ms-bmp", "in.bmp" } };
	for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
		if (strcmp(type, map[i][0]) == 0)
			return map[i][1];
	return "in.pnm";
}

static int ocr_read_image(struct ocr_ctx *c, const char *type, const char *data, size_t len,
			  GError **error)
{
	const char *name = ocr_image_name(type);
	if (ocr_write(c, name, data, len, error) < 0 || ocr_tesseract(c, name, error) < 0)
		return -1;
	c->out->pages = c->out->pages_total = 1;
	return 0;
}

/* Copies the first n images of in.tif to cut.tif. */
static int ocr_tiff_cut(struct ocr_ctx *c, unsigned n, GError **error)
{
	GString *spec = g_string_new("in.tif");
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(spec, ",%u", i);
	char *argv[] = { (char *)c->s.tiffcp, spec->str, "cut.tif", NULL };
	int rc = ocr_run(c, argv, NULL, error);
	g_string_free(spec, TRUE);
	return rc;
}

static int ocr_read_tiff(struct ocr_ctx *c, const char *data, size_t len, GError **error)
{
	unsigned total = ocr_tiff_pages(data, len);
	if (total == 0) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_UNREADABLE, "a damaged TIFF: no image directory");
		return -1;
	}
	unsigned n = MIN(total, c->s.max_pages);
	if (ocr_write(c, "in.tif", data, len, error) < 0 ||
	    (n < total && ocr_tiff_cut(c, n, error) < 0) ||
	    ocr_tesseract(c, n < total ? "cut.tif" : "in.tif", error) < 0)
		return -1;
	if (n < total)
		ocr_note(c, "pages %u-%u of %u were not read (limit: %u pages)", n + 1, total, total, n);
	c->out->pages = n;
	c->out->pages_total = total;
	return 0;
}

/* ---- DOCX ---- */

static void ocr_xml_init(void)
{
	static gsize done = 0;
	if (g_once_init_enter(&done)) {
		xmlInitParser();
		g_once_init_leave(&done, 1);
	}
}

/* Reads at most max bytes of one member; NULL with error (too large, damaged). */
static GByteArray *ocr_zip_member(zip_t *za, zip_int64_t idx, uint64_t max, GError **error)
{
	zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)idx, 0);
	if (zf == NULL) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_UNREADABLE, "word/document.xml: %s",
			    zip_strerror(za));
		return NULL;
	}
	GByteArray *buf = g_byte_array_new();
	char chunk[65536];
	zip_int64_t n;
	while ((n = zip_fread(zf, chunk, sizeof chunk)) > 0 && buf->len <= max)
		g_byte_array_append(buf, (const guint8 *)chunk, (guint)n);
	if (n < 0)
		g_set_error(error, OCR_ERROR, OCR_ERROR_UNREADABLE, "word/document.xml: %s",
			    zip_file_strerror(zf));
	else if (buf->len > max)
		g_set_error(error, OCR_ERROR, OCR_ERROR_TOO_LARGE,
			    "word/document.xml is over %" G_GUINT64_FORMAT " bytes uncompressed",
			    (guint64)max);
	zip_fclose(zf);
	if (n < 0 || buf->len > max) {
		g_byte_array_unref(buf);
		return NULL;
	}
	return buf;
}

static GByteArray *ocr_docx_xml(const char *data, size_t len, uint64_t max, GError **error)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
	zip_t *za = src != NULL ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
	if (za == NULL) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_UNREADABLE, "not a readable ZIP archive: %s",
			    zip_error_strerror(&ze));
		zip_error_fini(&ze);
		if (src != NULL)
			zip_source_free(src);
		return NULL;
	}
	zip_error_fini(&ze);
	zip_int64_t idx = zip_name_locate(za, "word/document.xml", 0);
	GByteArray *xml = NULL;
	if (idx < 0)
		g_set_error(error, OCR_ERROR, OCR_ERROR_UNSUPPORTED,
			    "application/zip: a ZIP archive that is not a Word document "
			    "(no word/document.xml)");
	else
		xml = ocr_zip_member(za, idx, max, error);
	zip_discard(za);
	return xml;
}

static bool ocr_is_w(xmlTextReaderPtr rd, const char *local)
{
	const char *ns = (const char *)xmlTextReaderConstNamespaceUri(rd);
	const char *ln = (const char *)xmlTextReaderConstLocalName(rd);
	return ns != NULL && ln != NULL && g_strv_contains(ocr_w_ns, ns) && strcmp(ln, local) == 0;
}

/* One reader step: appends the text it contributes. */
static void ocr_docx_node(xmlTextReaderPtr rd, GString *out, bool *in_t)
{
	int type = xmlTextReaderNodeType(rd);
	if (type == XML_READER_TYPE_ELEMENT) {
		bool empty = xmlTextReaderIsEmptyElement(rd) == 1;
		if (ocr_is_w(rd, "t"))
			*in_t = !empty;
		else if (ocr_is_w(rd, "tab"))
			g_string_append_c(out, '\t');
		else if (ocr_is_w(rd, "br") || ocr_is_w(rd, "cr") || (empty && ocr_is_w(rd, "p")))
			g_string_append_c(out, '\n');
	} else if (type == XML_READER_TYPE_END_ELEMENT) {
		if (ocr_is_w(rd, "t"))
			*in_t = false;
		else if (ocr_is_w(rd, "p"))
			g_string_append_c(out, '\n');
	} else if (*in_t && (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
			     type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
			     type == XML_READER_TYPE_WHITESPACE)) {
		const char *v = (const char *)xmlTextReaderConstValue(rd);
		if (v != NULL)
			g_string_append(out, v);
	}
}

char *ocr_docx_text(const char *data, size_t len, uint64_t max_xml, GError **error)
{
	uint64_t max = max_xml != 0 ? max_xml : OCR_DEFAULT_DOCX_XML;
	GByteArray *xml = ocr_docx_xml(data, len, max, error);
	if (xml == NULL)
		return NULL;
	ocr_xml_init();
	xmlTextReaderPtr rd = xmlReaderForMemory((const char *)xml->data, (int)xml->len,
						 "word/document.xml", NULL,
						 XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	GString *out = g_string_new(NULL);
	bool in_t = false;
	int r = rd != NULL ? 1 : -1;
	while (r == 1 && (r = xmlTextReaderRead(rd)) == 1)
		ocr_docx_node(rd, out, &in_t);
	if (rd != NULL)
		xmlFreeTextReader(rd);
	g_byte_array_unref(xml);
	if (r < 0) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_UNREADABLE,
			    "word/document.xml is not well-formed XML");
		g_string_free(out, TRUE);
		return NULL;
	}
	char *text = g_utf8_make_valid(out->str, (gssize)out->len);
	g_string_free(out, TRUE);
	return text;
}

static int ocr_read_docx(struct ocr_ctx *c, const char *data, size_t len, GError **error)
{
	char *text = ocr_docx_text(data, len, c->s.max_output, error);
	if (text == NULL)
		return -1;
	c->out->text = ocr_normalize(text, strlen(text));
	g_free(text);
	c->out->engine = g_strdup("docx");
	c->out->pages = c->out->pages_total = 1;
	return 0;
}

static int ocr_read_text(struct ocr_ctx *c, const char *data, size_t len)
{
	size_t n = 0;
	g_autofree char *text = charset_to_utf8(NULL, data, len, &n, NULL, NULL);
	c->out->text = ocr_normalize(text, n);
	c->out->engine = g_strdup("text");
	c->out->pages = c->out->pages_total = 1;
	return 0;
}

/* ---- dispatch ---- */

static void ocr_defaults(struct ocr_settings *s)
{
	s->seconds = s->seconds ? s->seconds : OCR_DEFAULT_SECONDS;
	s->max_pages = s->max_pages ? s->max_pages : OCR_DEFAULT_PAGES;
	s->max_memory = s->max_memory ? s->max_memory : OCR_DEFAULT_MEMORY;
	s->max_output = s->max_output ? s->max_output : OCR_DEFAULT_OUTPUT;
	s->dpi = s->dpi ? s->dpi : OCR_DEFAULT_DPI;
	s->languages = s->languages ? s->languages : OCR_DEFAULT_LANGUAGES;
	s->tesseract = s->tesseract ? s->tesseract : "tesseract";
	s->pdftotext = s->pdftotext ? s->pdftotext : "pdftotext";
	s->pdftoppm = s->pdftoppm ? s->pdftoppm : "pdftoppm";
	s->pdfinfo = s->pdfinfo ? s->pdfinfo : "pdfinfo";
	s->tiffcp = s->tiffcp ? s->tiffcp : "tiffcp";
}

static int ocr_dispatch(struct ocr_ctx *c, enum ocr_kind kind, const char *type, const char *data,
			size_t len, GError **error)
{
	if (kind == OCR_KIND_DOCX)
		return ocr_read_docx(c, data, len, error);
	if (kind == OCR_KIND_TEXT)
		return ocr_read_text(c, data, len);
	if ((c->dir = ocr_tmp_new(&c->s, error)) == NULL)
		return -1;
	if (kind == OCR_KIND_PDF)
		return ocr_read_pdf(c, data, len, error);
	if (kind == OCR_KIND_TIFF)
		return ocr_read_tiff(c, data, len, error);
	return ocr_read_image(c, type, data, len, error);
}

int ocr_document_text(const struct ocr_settings *s, const char *type, const char *data,
		      size_t len, struct ocr_result *out, GError **error)
{
	memset(out, 0, sizeof *out);
	out->notes = g_ptr_array_new_with_free_func(g_free);
	enum ocr_kind kind = ocr_kind_of(type);
	int rc = -1;
	struct ocr_ctx c = { .out = out };
	if (s != NULL)
		c.s = *s;
	ocr_defaults(&c.s);
	if (len == 0)
		g_set_error(error, OCR_ERROR, OCR_ERROR_EMPTY, "the file is empty");
	else if (kind == OCR_KIND_UNSUPPORTED)
		g_set_error(error, OCR_ERROR, OCR_ERROR_UNSUPPORTED, "unsupported type %s",
			    type != NULL ? type : "(unknown)");
	else
		rc = ocr_dispatch(&c, kind, type, data, len, error);
	ocr_tmp_free(c.dir);
	if (rc == 0 && ocr_significant(out->text) == 0) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_NO_TEXT, "%s found no text in %u page(s)",
			    out->engine, out->pages);
		rc = -1;
	}
	if (rc < 0) {
		ocr_result_clear(out);
		return -1;
	}
	return 0;
}
