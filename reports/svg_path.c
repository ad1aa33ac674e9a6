/*
 * The path diagram. Nodes go left to right in rows that wrap, so that a
 * 30-hop trace stays readable on a printed page; a link that wraps runs
 * through the gap under its row. Every text goes through html_escape, like
 * the rest of the page. Colours and fonts come from the page's stylesheet
 * (classes), so the diagram needs no style of its own.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "reports/escape.h"
#include "reports/svg_path.h"

enum {
	NODE_RADIUS = 18,
	SPACING = 150,        /* between node centres */
	HIDDEN_SPACING = 270, /* a hidden segment needs room for its label */
	MARGIN_X = 75,        /* room for an address centred under the first node */
	WRAP_OFFSET = 64,     /* how far beside a node a wrapping link turns */
	TOP = 46,             /* centre of the first row */
	ROW_HEIGHT = 126,
	MAX_WIDTH = 1040,
	MIN_WIDTH = 560,
	MAX_GHOSTS = 6,       /* small circles standing for hidden routers */
};

enum node_kind { NODE_AGENT, NODE_ROUTER, NODE_SILENT, NODE_DESTINATION, NODE_UNREACHED };
enum link_kind { LINK_PLAIN, LINK_HIDDEN, LINK_UNREACHED };

struct node {
	enum node_kind kind;
	enum link_kind link_in; /* how the previous node connects to this one */
	char glyph[8];          /* inside the circle */
	char caption[24];       /* above it */
	char address[64];       /* under it */
	char detail[64];        /* under the address */
	int x, y;
};

static void text(FILE *out, const char *s)
{
	html_escape(out, s);
}

__attribute__((format(printf, 2, 3))) static void textf(FILE *out, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	html_escape(out, buf);
}

int svg_hidden_hops(const struct trace *t)
{
	if (t->true_distance < 0 || t->true_distance > 255 || t->reached_ttl == 0)
		return -1;
	int hidden = t->true_distance - t->reached_ttl;
	return hidden > 0 ? hidden : -1;
}

static void describe_hop(struct node *n, const struct hop *h)
{
	snprintf(n->caption, sizeof n->caption, "%s", h->is_destination ? "destination" : "");
	ip_addr_format(&h->addr, n->address, sizeof n->address);
	if (h->answers == 0) {
		n->kind = NODE_SILENT;
		snprintf(n->glyph, sizeof n->glyph, "*");
		snprintf(n->detail, sizeof n->detail, "TTL %u: no answer", h->ttl);
		return;
	}
	n->kind = h->is_destination ? NODE_DESTINATION : NODE_ROUTER;
	snprintf(n->glyph, sizeof n->glyph, "%u", h->ttl);
	snprintf(n->detail, sizeof n->detail, "%s, TTL %u%s", reply_kind_name(h->kind),
		 h->reply_ttl, h->several_addresses ? ", +others" : "");
}

/* Agent, hops, and the destination when no hop reached it. Returns the count. */
static size_t build_nodes(const struct trace *t, struct node *nodes)
{
	size_t n = 0;
	struct node *agent = &nodes[n++];
	agent->kind = NODE_AGENT;
	snprintf(agent->glyph, sizeof agent->glyph, "VM");
	snprintf(agent->caption, sizeof agent->caption, "guest");
	ip_addr_format(&t->src, agent->address, sizeof agent->address);

	bool reached = false;
	for (size_t i = 0; i < t->hops.len; i++) {
		struct node *node = &nodes[n++];
		describe_hop(node, &t->hops.items[i]);
		/* The reset hides what lies between the agent's last real hop and the
		 * first answer from the destination: that link is the one to mark. */
		if (node->kind == NODE_DESTINATION && !reached && t->verdict == VERDICT_TTL_RESET)
			node->link_in = LINK_HIDDEN;
		reached = reached || node->kind == NODE_DESTINATION;
	}
	if (!reached) {
		struct node *target = &nodes[n++];
		target->kind = NODE_UNREACHED;
		target->link_in = t->verdict == VERDICT_TTL_RESET ? LINK_HIDDEN : LINK_UNREACHED;
		snprintf(target->glyph, sizeof target->glyph, "?");
		snprintf(target->caption, sizeof target->caption, "destination");
		ip_addr_format(&t->dst, target->address, sizeof target->address);
		snprintf(target->detail, sizeof target->detail, "not reached");
	}
	return n;
}

/*
 * Addresses are centred under their nodes: long ones (IPv6) push the nodes
 * apart so that neighbours do not overlap and the first is not cut at the edge.
 */
struct spacing {
	int plain, hidden, margin;
};

enum { ADDRESS_CHAR_PX = 8 }; /* 12px monospace, bold, with some room */

static struct spacing spacing_for(const struct node *nodes, size_t count)
{
	size_t longest = 0;
	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(nodes[i].address);
		if (len > longest)
			longest = len;
	}
	int need = (int)longest * ADDRESS_CHAR_PX + 16;
	struct spacing s = { SPACING, HIDDEN_SPACING, MARGIN_X };
	if (need > s.plain)
		s.plain = need;
	if (need + 120 > s.hidden)
		s.hidden = need + 120;
	if (need / 2 + 4 > s.margin)
		s.margin = need / 2 + 4;
	return s;
}

/* Places the nodes in rows; returns the drawing's width and sets *height. */
static int place_nodes(struct node *nodes, size_t count, int *height)
{
	struct spacing sp = spacing_for(nodes, count);
	int x = sp.margin, row = 0, widest = 0;
	for (size_t i = 0; i < count; i++) {
		if (i > 0) {
			x += nodes[i].link_in == LINK_HIDDEN ? sp.hidden : sp.plain;
			if (x > MAX_WIDTH - sp.margin) {
				row++;
				x = sp.margin;
			}
		}
		nodes[i].x = x;
		nodes[i].y = TOP + row * ROW_HEIGHT;
		if (x > widest)
			widest = x;
	}
	*height = TOP + row * ROW_HEIGHT + NODE_RADIUS + 44;
	int width = widest + sp.margin;
	return width < MIN_WIDTH ? MIN_WIDTH : width;
}

static const char *link_class(enum link_kind kind)
{
	switch (kind) {
	case LINK_HIDDEN:
		return "link link-hidden";
	case LINK_UNREACHED:
		return "link link-unreached";
	case LINK_PLAIN:
		break;
	}
	return "link";
}

static void arrow_head(FILE *out, int x, int y, enum link_kind kind)
{
	fprintf(out, "<polygon class=\"arrow%s\" points=\"%d,%d %d,%d %d,%d\"/>\n",
		kind == LINK_HIDDEN ? " arrow-hidden" : "", x, y, x - 9, y - 5, x - 9, y + 5);
}

/* Small dashed circles along a hidden segment, one per hidden router (up to a few). */
static void ghosts(FILE *out, int x1, int x2, int y, int hidden)
{
	int count = hidden > 0 ? hidden : 3;
	if (count > MAX_GHOSTS)
		count = MAX_GHOSTS;
	int left = x1 < x2 ? x1 : x2, span = abs(x2 - x1);
	for (int i = 1; i <= count; i++)
		fprintf(out, "<circle class=\"ghost\" cx=\"%d\" cy=\"%d\" r=\"6\"/>\n",
			left + span * i / (count + 1), y);
}

static void hidden_label(FILE *out, int x, int y, int hidden)
{
	fprintf(out, "<text class=\"hidden-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
		x, y);
	if (hidden == 1)
		text(out, "1 hop hidden by TTL reset");
	else if (hidden > 1)
		textf(out, "%d hops hidden by TTL reset", hidden);
	else
		text(out, "hops hidden by TTL reset");
	fputs("</text>\n", out);
}

static void draw_link(FILE *out, const struct node *a, const struct node *b, int hidden)
{
	enum link_kind kind = b->link_in;
	int label_x, label_y, ghost_x1, ghost_x2, ghost_y;
	if (a->y == b->y) {
		fprintf(out, "<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
			link_class(kind), a->x + NODE_RADIUS, a->y, b->x - NODE_RADIUS - 2, b->y);
		ghost_x1 = a->x + NODE_RADIUS;
		ghost_x2 = b->x - NODE_RADIUS;
		ghost_y = a->y;
	} else {
		/* Out to the right, along the gap under the row, down into the next node. */
		int turn_right = a->x + WRAP_OFFSET, turn_left = b->x - WRAP_OFFSET;
		int gap = a->y + ROW_HEIGHT / 2 + 10;
		fprintf(out, "<path class=\"%s\" d=\"M%d %d H%d V%d H%d V%d H%d\"/>\n",
			link_class(kind), a->x + NODE_RADIUS, a->y, turn_right, gap, turn_left,
			b->y, b->x - NODE_RADIUS - 2);
		ghost_x1 = turn_right;
		ghost_x2 = turn_left;
		ghost_y = gap;
	}
	label_x = (ghost_x1 + ghost_x2) / 2;
	label_y = ghost_y - 14;
	arrow_head(out, b->x - NODE_RADIUS, b->y, kind);
	if (kind == LINK_HIDDEN) {
		ghosts(out, ghost_x1, ghost_x2, ghost_y, hidden);
		hidden_label(out, label_x, label_y, hidden);
	}
}

static const char *node_class(enum node_kind kind)
{
	switch (kind) {
	case NODE_AGENT:
		return "node node-agent";
	case NODE_SILENT:
		return "node hop-silent";
	case NODE_DESTINATION:
		return "node node-destination";
	case NODE_UNREACHED:
		return "node node-unreached";
	case NODE_ROUTER:
		break;
	}
	return "node node-router";
}

static void draw_label(FILE *out, const char *cls, int x, int y, const char *s)
{
	if (!s[0])
		return;
	fprintf(out, "<text class=\"%s\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", cls, x, y);
	text(out, s);
	fputs("</text>\n", out);
}

static void draw_node(FILE *out, const struct node *n)
{
	fprintf(out, "<g class=\"%s\">\n", node_class(n->kind));
	fprintf(out, "<circle cx=\"%d\" cy=\"%d\" r=\"%d\"/>\n", n->x, n->y, NODE_RADIUS);
	draw_label(out, "glyph", n->x, n->y + 4, n->glyph);
	draw_label(out, "caption", n->x, n->y - NODE_RADIUS - 8, n->caption);
	draw_label(out, "address", n->x, n->y + NODE_RADIUS + 18, n->address);
	draw_label(out, "detail", n->x, n->y + NODE_RADIUS + 34, n->detail);
	fputs("</g>\n", out);
}

static void write_title(FILE *out, const struct trace *t, size_t index)
{
	char src[64], dst[64];
	ip_addr_format(&t->src, src, sizeof src);
	ip_addr_format(&t->dst, dst, sizeof dst);
	fprintf(out, "<title id=\"path-%zu-title\">", index);
	textf(out, "%s path from %s to %s as the guest saw it", protocol_label(t->proto), src, dst);
	fputs("</title>\n", out);
}

void svg_write_path(FILE *out, const struct trace *t, size_t index)
{
	/* The hops, the agent and perhaps an unreached destination. */
	struct node *nodes = calloc(t->hops.len + 2, sizeof *nodes);
	if (!nodes) {
		fputs("<p class=\"muted\">", out);
		text(out, "(path diagram left out: out of memory)");
		fputs("</p>\n", out);
		return;
	}
	size_t count = build_nodes(t, nodes);
	int height;
	int width = place_nodes(nodes, count, &height);
	int hidden = svg_hidden_hops(t);

	/* The namespace is a name, not a fetch; it keeps the element valid if
	 * someone saves it as a standalone .svg file. */
	fprintf(out,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"path\" id=\"path-%zu\" "
		"role=\"img\" aria-labelledby=\"path-%zu-title\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\">\n",
		index, index, width, height, width, height);
	write_title(out, t, index);
	for (size_t i = 1; i < count; i++)
		draw_link(out, &nodes[i - 1], &nodes[i], hidden);
	for (size_t i = 0; i < count; i++)
		draw_node(out, &nodes[i]);
	fputs("</svg>\n", out);
	free(nodes);
}
