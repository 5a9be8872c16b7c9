/* HTML to text; see html.h.
   SECURITY: the HTML is hostile. libxml2 parses it with network access and
   entity expansion off (HTML_PARSE_NONET, no DTD loading); the tree walk is
   iterative, so deep nesting cannot exhaust the stack. */
#include "parsers/html.h"

#include <string.h>
#include <glib.h>
#include <libxml/HTMLparser.h>

/* Elements whose content is not text for a reader. */
static bool html_is_skipped(const char *name)
{
	static const char *const skip[] = { "script", "style", "head", "title", "noscript",
					    "template", NULL };
	for (size_t i = 0; skip[i] != NULL; i++)
		if (g_ascii_strcasecmp(name, skip[i]) == 0)
			return true;
	return false;
}

/* Elements that start and end a line. */
static bool html_is_block(const char *name)
{
	static const char *const block[] = {
		"p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5",
		"h6", "blockquote", "pre", "hr", "section", "article", "header", "footer",
		"address", "dd", "dt", "dl", "form", "fieldset", "center", NULL };
	for (size_t i = 0; block[i] != NULL; i++)
		if (g_ascii_strcasecmp(name, block[i]) == 0)
			return true;
	return false;
}

/* Table cells: their text is kept apart from the next cell's by a space,
   so that a label cell and a number cell (资金账号 | 3100...) or two
   numbers never run together. */
static bool html_is_cell(const char *name)
{
	return g_ascii_strcasecmp(name, "td") == 0 || g_ascii_strcasecmp(name, "th") == 0;
}

/* Appends a space unless the text is empty or already ends with a blank. */
static void html_space(GString *out)
{
	if (out->len > 0 && out->str[out->len - 1] != ' ' && out->str[out->len - 1] != '\n')
		g_string_append_c(out, ' ');
}

/* Appends a line break unless the text already ends with one. */
static void html_break(GString *out)
{
	if (out->len > 0 && out->str[out->len - 1] != '\n')
		g_string_append_c(out, '\n');
}

/* Appends text with runs of blanks collapsed to one space; a no-break
   space (&nbsp;, U+00A0) is a blank too, so that "186&nbsp;0755&nbsp;1234"
   reads like a number written with spaces. */
static void html_append_text(GString *out, const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		bool nbsp = (unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xA0;
		bool blank = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || nbsp;
		p += nbsp;
		if (!blank) {
			g_string_append_c(out, *p);
			continue;
		}
		if (out->len > 0 && out->str[out->len - 1] != ' ' && out->str[out->len - 1] != '\n')
			g_string_append_c(out, ' ');
	}
}

/* The next node of a depth-first walk that skips the children of skipped
   elements; a block element's end adds a break. */
static xmlNode *html_next(xmlNode *n, bool descend, GString *out)
{
	if (descend && n->children != NULL)
		return n->children;
	while (n != NULL) {
		if (n->type == XML_ELEMENT_NODE && html_is_block((const char *)n->name))
			html_break(out);
		else if (n->type == XML_ELEMENT_NODE && html_is_cell((const char *)n->name))
			html_space(out);
		if (n->next != NULL)
			return n->next;
		n = n->parent;
		if (n == NULL || n->type == XML_HTML_DOCUMENT_NODE || n->type == XML_DOCUMENT_NODE)
			return NULL;
	}
	return NULL;
}

static void html_walk(xmlNode *root, GString *out)
{
	xmlNode *n = root;
	while (n != NULL) {
		bool descend = true;
		if (n->type == XML_ELEMENT_NODE) {
			const char *name = (const char *)n->name;
			descend = !html_is_skipped(name);
			if (html_is_block(name))
				html_break(out);
		} else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content != NULL)
				html_append_text(out, (const char *)n->content);
		}
		n = html_next(n, descend, out);
	}
}

/* Trims blanks at the ends of lines and drops empty lines beyond one. */
static char *html_tidy(const char *text)
{
	GString *out = g_string_new(NULL);
	gchar **lines = g_strsplit(text, "\n", -1);
	bool blank_run = true;
	for (gchar **l = lines; *l != NULL; l++) {
		g_strstrip(*l);
		if (**l == '\0') {
			if (!blank_run)
				g_string_append_c(out, '\n');
			blank_run = true;
			continue;
		}
		g_string_append(out, *l);
		g_string_append_c(out, '\n');
		blank_run = false;
	}
	g_strfreev(lines);
	while (out->len > 0 && out->str[out->len - 1] == '\n')
		g_string_truncate(out, out->len - 1);
	return g_string_free(out, FALSE);
}

char *html_to_text(const char *html, size_t len)
{
	if (html == NULL || len == 0 || len > G_MAXINT)
		return g_strdup("");
	int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
		   HTML_PARSE_NONET | HTML_PARSE_COMPACT;
	htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8", opts);
	if (doc == NULL)
		return g_strdup("");
	GString *out = g_string_new(NULL);
	xmlNode *root = xmlDocGetRootElement(doc);
	if (root != NULL)
		html_walk(root, out);
	xmlFreeDoc(doc);
	char *tidy = html_tidy(out->str);
	g_string_free(out, TRUE);
	if (!g_utf8_validate(tidy, -1, NULL)) {
		char *valid = g_utf8_make_valid(tidy, -1);
		g_free(tidy);
		return valid;
	}
	return tidy;
}
