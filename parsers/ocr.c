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
/* Image-only PDF pages are rasterised at 200 dpi, and tesseract binarises
   with its default, Otsu's global threshold. CER with chi_sim on pages
   rendered as bench/bench_ocr.sh does (300 dpi greyscale scans, skewed,
   speckled; 20 pages each):
                               300 dpi Sauvola  300 Otsu  200 Sauvola  200 Otsu
     15 pt, 3 per mille speckles     2.14%        1.87%      1.28%       0.86%
     10.5 pt, 3 per mille            1.03%        1.56%      0.78%       1.24%
     7.5 pt, 3 per mille             0.74%        0.79%      0.49%       0.77%
     15 pt, 8 per mille              4.23%        5.61%      3.99%       3.57%
     10.5 pt, 8 per mille            1.72%        1.82%      2.28%       1.84%
   (ocrmypdf -l chi_sim, at the native 300 dpi: 1.50% on the first set).
   Scaling down averages single-pixel speckles into grey that the threshold
   drops; at 300 dpi they made the layout analysis lose whole lines. Text
   lines are scaled to the recogniser's height anyway, so small print reads
   as well, in about 40% less time. tests/corpus/scans/measure.py's nine
   short image PDFs with 8 per mille speckles go from 2.1% to 2.8%, every
   account still exact; on PNG scans and faxes (not rasterised) Otsu reads
   as well as Sauvola or better. */
#define OCR_DEFAULT_DPI 200u
/* chi_sim alone (and --dpi), measured at 300 dpi on 20 rendered Chinese
   letters (bench/bench_ocr.sh): CER 2.1%, 26 of 28 accounts extracted, where
   chi_sim+eng read whole lines as Latin ("本人杨秀斌，资金账号" as "AMMA,
   REIS": CER 5.7%, 23 of 28). Pages in a Latin script (few ideographs with
   chi_sim) are read again with chi_sim+eng, which reads them as before
   (tests/corpus/scans/measure.py: eurotext 2.9%, linn 1.0%, where chi_sim
   alone gives 7.5% and 4.3%), at the price of the second reading. */
#define OCR_DEFAULT_LANGUAGES "chi_sim"
#define OCR_DEFAULT_FALLBACK "chi_sim+eng"
/* Below this share of ideographs (percent of the letters, digits and
   ideographs) a page is read again with the fallback languages: Chinese
   pages give 60-75%, Latin pages read by chi_sim under 1%. */
#define OCR_FALLBACK_PERCENT 20u
#define OCR_DEFAULT_DOCX_XML (64ull << 20)
/* A page whose text layer has fewer letters, digits or ideographs than this
   is taken for a scanned image and read by OCR. */
#define OCR_MIN_PAGE_CHARS 8
#define OCR_ERR_TAIL 2048u
#define OCR_MAX_TIFF_PAGES 100000u

static const char *const ocr_w_ns[] = {
	"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
	"http://purl.oclc.org/ooxml/wordprocessingml/main", NULL };

/* One call of ocr_document_text: the settings with defaults filled in, the
   private folder and the result being built. */
struct ocr_ctx {
	struct ocr_settings s;
	char *dir;
	unsigned lists;    /* list files written, to name the next */
	struct ocr_result *out;
	GString *pdfinfo;  /* pdfinfo's output for the PDF read (page sizes), or NULL */
};

/* One child process: the tool's name for messages, its output. */
struct ocr_child {
	const struct ocr_settings *s;
	char *tool;        /* argv[0]'s base name */
	char *path;        /* the program run */
	GString *out;      /* stdout, at most s->max_output bytes */
	GString *err;      /* the last OCR_ERR_TAIL bytes of stderr */
	pid_t pid;         /* 0 when none runs */
	int fd[2];         /* the pipes of its stdout and stderr; -1 once at end of file */
	gint64 deadline;   /* of its wall-clock time */
	bool too_large, timed_out, cancelled;
};

/* Programs run one after the other (the rasterisation of some pages, then
   tesseract over them); the output of the last one is kept in ch.out. */
struct ocr_task {
	GPtrArray *steps;       /* of char ** argument vectors */
	guint next;             /* the step to start next */
	struct ocr_child ch;    /* the step running, or the last one run */
};

/* The pages of a document read by OCR: an image file each in the private
   folder, made first by a program (pdftoppm, tiffcp) or already there. */
struct ocr_pages {
	unsigned n;
	unsigned *number;       /* page numbers in the document, 1-based */
	char **image;           /* file names in the private folder */
	char ***make;           /* argument vectors making image[i]; NULL entries: none */
	bool ours;              /* our rasterisations at s.dpi: tesseract is told the dpi */
	char **text;            /* the cleaned text of each page, once read */
	bool *fallback;         /* the page's text is the fallback languages' */
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
static char **ocr_split_pages(const char *text, unsigned n);
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

/* Frees what a child record holds but its pid (reaped before). */
static void ocr_child_clear(struct ocr_child *ch)
{
	for (int i = 0; i < 2; i++)
		if (ch->fd[i] >= 0)
			close(ch->fd[i]);
	ch->fd[0] = ch->fd[1] = -1;
	g_clear_pointer(&ch->tool, g_free);
	g_clear_pointer(&ch->path, g_free);
	if (ch->out != NULL)
		g_string_free(ch->out, TRUE);
	if (ch->err != NULL)
		g_string_free(ch->err, TRUE);
	ch->out = ch->err = NULL;
}

/* Forks and executes argv in cwd with the limits, its stdout and stderr
   on pipes to us. Returns 0 with ch->pid set, or -1 with an OCR_ERROR (ch
   holds no process then, only memory for ocr_child_clear). */
static int ocr_child_start(struct ocr_child *ch, const struct ocr_settings *s, char **argv,
			   const char *cwd, GError **error)
{
	*ch = (struct ocr_child){ .s = s, .tool = g_path_get_basename(argv[0]), .fd = { -1, -1 },
				  .out = g_string_new(NULL), .err = g_string_new(NULL) };
	char *path = strchr(argv[0], '/') != NULL ? g_strdup(argv[0]) :
						    g_find_program_in_path(argv[0]);
	ch->path = path;
	if (path == NULL) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_SYSTEM, "%s: not found in PATH", argv[0]);
		return -1;
	}
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
	ocr_limits(s, lim);
	ch->deadline = g_get_monotonic_time() + (gint64)s->seconds * G_USEC_PER_SEC;
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
	ch->fd[0] = outp[0];
	ch->fd[1] = errp[0];
	if (pid < 0) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_SYSTEM, "%s: fork failed: %s", ch->tool,
			    g_strerror(saved));
		return -1;
	}
	setpgid(pid, pid);
	ch->pid = pid;
	return 0;
}

/* Kills the child and its process group and reaps it. */
static void ocr_child_kill(struct ocr_child *ch, int *status_r)
{
	ocr_kill(ch->pid);
	while (waitpid(ch->pid, status_r, 0) < 0 && errno == EINTR)
		;
	ch->pid = 0;
}

/* Whether a running child ended: returns 1 while it runs, 0 once it exited
   (its wait status in *status_r) or was killed for its time, its output or
   a cancel (the flag set says which). */
static int ocr_child_check(struct ocr_child *ch, int *status_r)
{
	if (!ch->too_large && !ch->timed_out && !ch->cancelled) {
		if (g_get_monotonic_time() >= ch->deadline)
			ch->timed_out = true;
		else if (ocr_cancelled(ch->s))
			ch->cancelled = true;
	}
	if (ch->too_large || ch->timed_out || ch->cancelled) {
		ocr_child_kill(ch, status_r);
		return 0;
	}
	if (ch->fd[0] >= 0 || ch->fd[1] >= 0)
		return 1;
	pid_t w = waitpid(ch->pid, status_r, WNOHANG);
	if (w == 0 || (w < 0 && errno == EINTR))
		return 1;
	ch->pid = 0;
	return 0;
}

/* Starts the task's next step. Returns 1 if one was started, 0 when every
   step has run (the last one's output stays in t->ch.out), -1 on error. */
static int ocr_task_next(struct ocr_ctx *c, struct ocr_task *t, GError **error)
{
	if (t->next >= t->steps->len)
		return 0;
	char **argv = t->steps->pdata[t->next++];
	ocr_child_clear(&t->ch);
	return ocr_child_start(&t->ch, &c->s, argv, c->dir, error) < 0 ? -1 : 1;
}

static void ocr_task_clear(struct ocr_task *t)
{
	if (t->ch.pid > 0) {
		int status = 0;
		ocr_child_kill(&t->ch, &status);
	}
	ocr_child_clear(&t->ch);
	g_clear_pointer(&t->steps, g_ptr_array_unref);
}

/* Waits until a running child wrote or may have ended: at most 250 ms,
   or until the nearest deadline, or 10 ms while one has closed its pipes
   but not yet exited; then reads what they wrote. */
static void ocr_tasks_poll(struct ocr_task *t, unsigned n)
{
	g_autofree struct pollfd *pf = g_new0(struct pollfd, 2 * n);
	g_autofree struct ocr_child **who = g_new0(struct ocr_child *, 2 * n);
	gint64 now = g_get_monotonic_time(), wait = 250;
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		struct ocr_child *ch = &t[i].ch;
		if (ch->pid <= 0)
			continue;
		wait = MIN(wait, MAX(0, (ch->deadline - now) / 1000 + 1));
		if (ch->fd[0] < 0 && ch->fd[1] < 0)
			wait = MIN(wait, 10);
		for (int j = 0; j < 2; j++)
			if (ch->fd[j] >= 0) {
				pf[k] = (struct pollfd){ .fd = ch->fd[j], .events = POLLIN };
				who[k++] = ch;
			}
	}
	int r = poll(pf, k, (int)wait);
	for (unsigned j = 0; r > 0 && j < k; j++) {
		bool is_out = pf[j].fd == who[j]->fd[0];
		if (pf[j].revents != 0 && !ocr_drain(who[j], pf[j].fd, is_out)) {
			close(pf[j].fd);
			who[j]->fd[is_out ? 0 : 1] = -1;
		}
	}
}

/* Goes on with a task whose step may have ended: reports its failure, or
   starts the next step. Returns 0 or -1 with an OCR_ERROR. */
static int ocr_task_check(struct ocr_ctx *c, struct ocr_task *t, GError **error)
{
	struct ocr_child *ch = &t->ch;
	int status = 0;
	if (ch->pid <= 0 || ocr_child_check(ch, &status) == 1)
		return 0;
	if (ch->timed_out || ch->too_large || ch->cancelled || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return ocr_fail_status(ch, status, error);
	return ocr_task_next(c, t, error) < 0 ? -1 : 0;
}

static bool ocr_tasks_running(const struct ocr_task *t, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (t[i].ch.pid > 0)
			return true;
	return false;
}

/* Runs the n tasks at the same time in the private folder, the steps of
   each one after the other, every child with the limits. Returns 0 when
   every step exited 0; else -1 with the OCR_ERROR of the first that did not
   (the children still running are then killed). */
static int ocr_run_tasks(struct ocr_ctx *c, struct ocr_task *t, unsigned n, GError **error)
{
	int rc = 0;
	for (unsigned i = 0; i < n && rc == 0; i++)
		rc = ocr_task_next(c, &t[i], error) < 0 ? -1 : 0;
	while (rc == 0 && ocr_tasks_running(t, n)) {
		ocr_tasks_poll(t, n);
		for (unsigned i = 0; i < n && rc == 0; i++)
			rc = ocr_task_check(c, &t[i], error);
	}
	for (unsigned i = 0; i < n; i++)
		if (t[i].ch.pid > 0) {
			int status = 0;
			ocr_child_kill(&t[i].ch, &status);
		}
	return rc;
}

/* Runs argv (argv[0] a program name or path) in the private folder with the
   limits; its stdout goes to out (may be NULL). Returns 0 when it exited 0,
   else -1 with an OCR_ERROR saying what happened. */
static int ocr_run(struct ocr_ctx *c, char **argv, GString *out, GError **error)
{
	struct ocr_task t = { .steps = g_ptr_array_new(), .ch = { .fd = { -1, -1 } } };
	g_ptr_array_add(t.steps, argv);
	int rc = ocr_run_tasks(c, &t, 1, error);
	if (rc == 0 && out != NULL)
		g_string_append_len(out, t.ch.out->str, (gssize)t.ch.out->len);
	ocr_task_clear(&t);
	return rc;
}

/* ---- the cores ---- */

/* The OCR children of the whole process: at most one per core, whichever
   thread or document they belong to (the drop folders read several
   documents at once, and each spreads its pages over the cores that are
   free). A document holds one slot while it is read and takes more,
   without waiting, for each batch of pages. This is the module's only
   mutable state: the cores are the process's. */
static struct {
	GMutex lock;
	GCond freed;
	unsigned used;
} ocr_slots;

static unsigned ocr_cores(void)
{
	static gsize cores = 0;
	if (g_once_init_enter(&cores))
		g_once_init_leave(&cores, (gsize)MAX(1u, g_get_num_processors()));
	return (unsigned)cores;
}

/* Waits for a free slot, looking at *cancel every 250 ms, and takes it.
   Returns 0, or -1 with OCR_ERROR_CANCELLED. */
static int ocr_slot_take(const struct ocr_settings *s, GError **error)
{
	unsigned cores = ocr_cores();
	g_mutex_lock(&ocr_slots.lock);
	while (ocr_slots.used >= cores && !ocr_cancelled(s))
		g_cond_wait_until(&ocr_slots.freed, &ocr_slots.lock,
				  g_get_monotonic_time() + G_USEC_PER_SEC / 4);
	bool cancelled = ocr_cancelled(s);
	if (!cancelled)
		ocr_slots.used++;
	g_mutex_unlock(&ocr_slots.lock);
	if (cancelled)
		g_set_error(error, OCR_ERROR, OCR_ERROR_CANCELLED, "cancelled while waiting for a core");
	return cancelled ? -1 : 0;
}

/* Takes up to `want` more slots, those free now; returns how many. */
static unsigned ocr_slot_try(unsigned want)
{
	unsigned cores = ocr_cores();
	g_mutex_lock(&ocr_slots.lock);
	unsigned got = MIN(want, cores - MIN(cores, ocr_slots.used));
	ocr_slots.used += got;
	g_mutex_unlock(&ocr_slots.lock);
	return got;
}

static void ocr_slot_give(unsigned n)
{
	if (n == 0)
		return;
	g_mutex_lock(&ocr_slots.lock);
	ocr_slots.used -= MIN(n, ocr_slots.used);
	g_cond_broadcast(&ocr_slots.freed);
	g_mutex_unlock(&ocr_slots.lock);
}

/* ---- pages read by tesseract ---- */

/* A CJK character: Han, kana or Hangul. */
static bool ocr_is_ideograph(gunichar u)
{
	GUnicodeScript sc = g_unichar_get_script(u);
	return sc == G_UNICODE_SCRIPT_HAN || sc == G_UNICODE_SCRIPT_HIRAGANA ||
	       sc == G_UNICODE_SCRIPT_KATAKANA || sc == G_UNICODE_SCRIPT_HANGUL;
}

/* True if fewer than OCR_FALLBACK_PERCENT of the letters, digits and
   ideographs of the text are ideographs (and there is at least one): a page
   in a Latin script, read with a Chinese model. */
static bool ocr_few_ideographs(const char *text)
{
	size_t all = 0, cjk = 0;
	for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar u = g_utf8_get_char(p);
		if (g_unichar_isalnum(u)) {
			all++;
			cjk += ocr_is_ideograph(u);
		}
	}
	return cjk * 100 < all * OCR_FALLBACK_PERCENT;
}

static void ocr_pages_init(struct ocr_pages *p, unsigned n, bool ours)
{
	*p = (struct ocr_pages){ .n = n, .ours = ours, .number = g_new0(unsigned, n),
				 .image = g_new0(char *, n + 1), .make = g_new0(char **, n),
				 .text = g_new0(char *, n + 1), .fallback = g_new0(bool, n) };
}

static void ocr_pages_clear(struct ocr_pages *p)
{
	for (unsigned i = 0; p->make != NULL && i < p->n; i++)
		g_strfreev(p->make[i]);
	g_free(p->make);
	g_free(p->number);
	g_strfreev(p->image);
	g_strfreev(p->text);
	g_free(p->fallback);
	memset(p, 0, sizeof *p);
}

/* A NULL-terminated copy of the n strings. */
static char **ocr_argv(unsigned n, const char *const *args)
{
	char **v = g_new0(char *, n + 1);
	for (unsigned i = 0; i < n; i++)
		v[i] = g_strdup(args[i]);
	return v;
}

/* tesseract reading the images named in the list file `list`. */
static char **ocr_tesseract_argv(struct ocr_ctx *c, const char *list, const char *langs, bool ours)
{
	g_autofree char *dpi = g_strdup_printf("%u", c->s.dpi);
	const char *a[] = { c->s.tesseract, list, "-", "-l", langs, "--dpi", dpi };
	return ocr_argv(ours ? 7 : 5, a);
}

/* One task of a pass: makes the images of the k pages idx (if make), then
   reads them with one tesseract. Returns 0 or -1 (the list file). */
static int ocr_pass_task(struct ocr_ctx *c, const struct ocr_pages *p, const unsigned *idx,
			 unsigned k, const char *langs, bool make, struct ocr_task *t, GError **error)
{
	t->steps = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	GString *list = g_string_new(NULL);
	for (unsigned i = 0; i < k; i++) {
		if (make && p->make[idx[i]] != NULL)
			g_ptr_array_add(t->steps, g_strdupv(p->make[idx[i]]));
		g_string_append_printf(list, "%s/%s\n", c->dir, p->image[idx[i]]);
	}
	g_autofree char *name = g_strdup_printf("list%u.txt", c->lists++);
	int rc = ocr_write(c, name, list->str, list->len, error);
	g_string_free(list, TRUE);
	g_ptr_array_add(t->steps, ocr_tesseract_argv(c, name, langs, p->ours));
	return rc;
}

/* Reads the k pages idx with the languages langs, in contiguous runs over
   as many tesseract children as there are free cores (at most s.jobs; the
   caller holds one), each making its images first if make. Returns 0 with
   texts[j] the cleaned text of page idx[j] (newly allocated), or -1. */
static int ocr_pass(struct ocr_ctx *c, const struct ocr_pages *p, const unsigned *idx, unsigned k,
		    const char *langs, bool make, char **texts, GError **error)
{
	unsigned m = 1 + ocr_slot_try(MIN(c->s.jobs, k) - 1);
	struct ocr_task *t = g_new0(struct ocr_task, m);
	int rc = 0;
	for (unsigned j = 0; j < m; j++)
		t[j].ch.fd[0] = t[j].ch.fd[1] = -1;
	for (unsigned j = 0; j < m && rc == 0; j++)
		rc = ocr_pass_task(c, p, idx + j * k / m, (j + 1) * k / m - j * k / m, langs, make,
				   &t[j], error);
	if (rc == 0)
		rc = ocr_run_tasks(c, t, m, error);
	ocr_slot_give(m - 1);
	for (unsigned j = 0; j < m; j++) {
		unsigned first = j * k / m, count = (j + 1) * k / m - first;
		char **parts = rc == 0 ? ocr_split_pages(t[j].ch.out->str, count) : NULL;
		for (unsigned i = 0; parts != NULL && i < count; i++)
			texts[first + i] = ocr_normalize(parts[i], strlen(parts[i]));
		g_strfreev(parts);
		ocr_task_clear(&t[j]);
	}
	g_free(t);
	return rc;
}

static bool ocr_has_fallback(const struct ocr_settings *s)
{
	return s->fallback_languages[0] != '\0' && strcmp(s->fallback_languages, s->languages) != 0;
}

/* Reads every page with the languages, then again with the fallback
   languages those with few ideographs, which keep the new text if it has
   a letter, digit or ideograph. Returns 0 with p->text filled, or -1. */
static int ocr_read_pages(struct ocr_ctx *c, struct ocr_pages *p, GError **error)
{
	g_autofree unsigned *idx = g_new(unsigned, p->n);
	for (unsigned i = 0; i < p->n; i++)
		idx[i] = i;
	if (ocr_pass(c, p, idx, p->n, c->s.languages, true, p->text, error) < 0)
		return -1;
	unsigned k = 0;
	for (unsigned i = 0; ocr_has_fallback(&c->s) && i < p->n; i++)
		if (ocr_few_ideographs(p->text[i]))
			idx[k++] = i;
	if (k == 0)
		return 0;
	char **again = g_new0(char *, k + 1);
	int rc = ocr_pass(c, p, idx, k, c->s.fallback_languages, false, again, error);
	for (unsigned j = 0; rc == 0 && j < k; j++) {
		if (ocr_significant(again[j]) == 0)
			continue;
		g_free(p->text[idx[j]]);
		p->text[idx[j]] = g_steal_pointer(&again[j]);
		p->fallback[idx[j]] = true;
	}
	g_strfreev(again);
	return rc;
}

/* The languages the pages were read with (see ocr_result.language); notes
   which pages had the fallback when not all did. */
static char *ocr_pages_language(struct ocr_ctx *c, const struct ocr_pages *p)
{
	GString *which = g_string_new(NULL);
	unsigned fb = 0;
	for (unsigned i = 0; i < p->n; i++) {
		if (!p->fallback[i])
			continue;
		if (++fb <= 10)
			g_string_append_printf(which, "%s%u", fb > 1 ? ", " : "", p->number[i]);
	}
	if (fb > 10)
		g_string_append_printf(which, " and %u more", fb - 10);
	if (fb > 0 && fb < p->n)
		ocr_note(c, "page %s read with %s: few ideographs with %s", which->str,
			 c->s.fallback_languages, c->s.languages);
	g_string_free(which, TRUE);
	if (fb == 0)
		return g_strdup(c->s.languages);
	return fb == p->n ? g_strdup(c->s.fallback_languages) :
			    g_strdup_printf("%s, %s", c->s.languages, c->s.fallback_languages);
}

/* ---- PDF ---- */

static int ocr_pdf_pages(struct ocr_ctx *c, unsigned *pages_r, GError **error)
{
	GString *info = c->pdfinfo = g_string_new(NULL);
	g_autofree char *last = g_strdup_printf("%u", c->s.max_pages);
	char *argv[] = { (char *)c->s.pdfinfo, "-f", "1", "-l", last, "in.pdf", NULL };
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

static void ocr_set_engine(struct ocr_ctx *c, unsigned ocr_pages, unsigned pages, char *language)
{
	const char *e = ocr_pages == 0 ? "pdftotext" : ocr_pages == pages ? "tesseract" :
		"pdftotext+tesseract";
	c->out->engine = g_strdup(e);
	c->out->language = language;
}

/* A page is rasterised only when it makes at most OCR_MAX_PAGE_PIXELS at the
   OCR resolution (A0 at 200 dpi is 62 million): pdftoppm would allocate the
   whole bitmap (a 200-inch page at 200 dpi took 1.6 GB) and poppler only
   refuses sizes over 2 GB. Returns 0, or -1 with OCR_ERROR_TOO_LARGE. */
#define OCR_MAX_PAGE_PIXELS 64e6
static int ocr_pdf_page_size_ok(const struct ocr_ctx *c, unsigned page, GError **error)
{
	g_autofree char *key = g_strdup_printf("\nPage %4u size:", page);
	const char *p = c->pdfinfo != NULL ? strstr(c->pdfinfo->str, key) : NULL;
	double w = 0, h = 0;
	if (p == NULL || sscanf(p + strlen(key), " %lf x %lf", &w, &h) != 2)
		return 0;   /* no size given: pdftoppm's own limits apply */
	double px = w / 72.0 * c->s.dpi * (h / 72.0 * c->s.dpi);
	if (px <= OCR_MAX_PAGE_PIXELS)
		return 0;
	g_set_error(error, OCR_ERROR, OCR_ERROR_TOO_LARGE, "page %u is %.0f x %.0f inches: %.0f "
		    "million pixels at %u dpi, over %.0f million", page, w / 72.0, h / 72.0,
		    px / 1e6, c->s.dpi, OCR_MAX_PAGE_PIXELS / 1e6);
	return -1;
}

/* The pages of the PDF (1-based numbers) rasterised by pdftoppm, one image each. */
static void ocr_pdf_page_set(struct ocr_ctx *c, struct ocr_pages *p, const unsigned *list,
			     unsigned k)
{
	g_autofree char *dpi = g_strdup_printf("%u", c->s.dpi);
	ocr_pages_init(p, k, true);
	for (unsigned i = 0; i < k; i++) {
		g_autofree char *pg = g_strdup_printf("%u", list[i]);
		g_autofree char *prefix = g_strdup_printf("r%05u", list[i]);
		const char *a[] = { c->s.pdftoppm, "-r", dpi, "-gray", "-singlefile", "-f", pg, "-l",
				    pg, "in.pdf", prefix };
		p->number[i] = list[i];
		p->image[i] = g_strdup_printf("%s.pgm", prefix);
		p->make[i] = ocr_argv(G_N_ELEMENTS(a), a);
	}
}

/* OCRs the pages that have no text layer, replacing their text. */
static int ocr_pdf_scanned(struct ocr_ctx *c, char **pages, unsigned n, GError **error)
{
	g_autofree unsigned *need = g_new0(unsigned, n + 1);
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++)
		if (ocr_significant(pages[i]) < OCR_MIN_PAGE_CHARS)
			need[k++] = i + 1;
	if (k == 0) {
		ocr_set_engine(c, 0, n, NULL);
		return 0;
	}
	for (unsigned i = 0; i < k; i++)
		if (ocr_pdf_page_size_ok(c, need[i], error) < 0)
			return -1;
	struct ocr_pages p;
	ocr_pdf_page_set(c, &p, need, k);
	int rc = ocr_read_pages(c, &p, error);
	for (unsigned i = 0; rc == 0 && i < k; i++) {
		g_free(pages[need[i] - 1]);
		pages[need[i] - 1] = g_steal_pointer(&p.text[i]);
	}
	if (rc == 0) {
		ocr_set_engine(c, k, n, ocr_pages_language(c, &p));
		if (k < n)
			ocr_note(c, "%u of %u pages had no text layer and were read by OCR", k, n);
	}
	ocr_pages_clear(&p);
	return rc;
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

/* Reads the pages by OCR and keeps their text, joined, as the result's. */
static int ocr_read_page_set(struct ocr_ctx *c, struct ocr_pages *p, GError **error)
{
	if (ocr_read_pages(c, p, error) < 0)
		return -1;
	g_autofree char *joined = g_strjoinv("\n\n", p->text);
	c->out->text = ocr_normalize(joined, strlen(joined));
	c->out->engine = g_strdup("tesseract");
	c->out->language = ocr_pages_language(c, p);
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
	if (ocr_write(c, name, data, len, error) < 0)
		return -1;
	struct ocr_pages p;
	ocr_pages_init(&p, 1, false);
	p.number[0] = 1;
	p.image[0] = g_strdup(name);
	int rc = ocr_read_page_set(c, &p, error);
	ocr_pages_clear(&p);
	if (rc == 0)
		c->out->pages = c->out->pages_total = 1;
	return rc;
}

/* The first n images of in.tif, each copied by tiffcp to a file of its own
   (tesseract reads one image per name of a list); in.tif itself when it
   has only one. */
static void ocr_tiff_page_set(struct ocr_ctx *c, struct ocr_pages *p, unsigned n, unsigned total)
{
	ocr_pages_init(p, n, false);
	for (unsigned i = 0; i < n; i++) {
		p->number[i] = i + 1;
		if (total == 1) {
			p->image[i] = g_strdup("in.tif");
			continue;
		}
		g_autofree char *src = g_strdup_printf("in.tif,%u", i);
		p->image[i] = g_strdup_printf("p%05u.tif", i + 1);
		const char *a[] = { c->s.tiffcp, src, p->image[i] };
		p->make[i] = ocr_argv(G_N_ELEMENTS(a), a);
	}
}

static int ocr_read_tiff(struct ocr_ctx *c, const char *data, size_t len, GError **error)
{
	unsigned total = ocr_tiff_pages(data, len);
	if (total == 0) {
		g_set_error(error, OCR_ERROR, OCR_ERROR_UNREADABLE, "a damaged TIFF: no image directory");
		return -1;
	}
	unsigned n = MIN(total, c->s.max_pages);
	if (ocr_write(c, "in.tif", data, len, error) < 0)
		return -1;
	struct ocr_pages p;
	ocr_tiff_page_set(c, &p, n, total);
	int rc = ocr_read_page_set(c, &p, error);
	ocr_pages_clear(&p);
	if (rc < 0)
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
	if (s->fallback_languages == NULL)
		s->fallback_languages = s->languages == NULL ? OCR_DEFAULT_FALLBACK : "";
	s->languages = s->languages ? s->languages : OCR_DEFAULT_LANGUAGES;
	s->jobs = MIN(s->jobs ? s->jobs : ocr_cores(), ocr_cores());
	s->tesseract = s->tesseract ? s->tesseract : "tesseract";
	s->pdftotext = s->pdftotext ? s->pdftotext : "pdftotext";
	s->pdftoppm = s->pdftoppm ? s->pdftoppm : "pdftoppm";
	s->pdfinfo = s->pdfinfo ? s->pdfinfo : "pdfinfo";
	s->tiffcp = s->tiffcp ? s->tiffcp : "tiffcp";
}

/* The kinds read by child processes, on one core held throughout (more
   are taken for the OCR of pages when free). */
static int ocr_dispatch_children(struct ocr_ctx *c, enum ocr_kind kind, const char *type,
				 const char *data, size_t len, GError **error)
{
	if (ocr_slot_take(&c->s, error) < 0)
		return -1;
	int rc = -1;
	c->dir = ocr_tmp_new(&c->s, error);
	if (c->dir != NULL && kind == OCR_KIND_PDF)
		rc = ocr_read_pdf(c, data, len, error);
	else if (c->dir != NULL && kind == OCR_KIND_TIFF)
		rc = ocr_read_tiff(c, data, len, error);
	else if (c->dir != NULL)
		rc = ocr_read_image(c, type, data, len, error);
	ocr_slot_give(1);
	return rc;
}

static int ocr_dispatch(struct ocr_ctx *c, enum ocr_kind kind, const char *type, const char *data,
			size_t len, GError **error)
{
	if (kind == OCR_KIND_DOCX)
		return ocr_read_docx(c, data, len, error);
	if (kind == OCR_KIND_TEXT)
		return ocr_read_text(c, data, len);
	return ocr_dispatch_children(c, kind, type, data, len, error);
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
	if (c.pdfinfo != NULL)
		g_string_free(c.pdfinfo, TRUE);
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
