/*
 * Which hypervisor NAT the guest sits behind, from what the guest capture
 * shows: the MAC of the gateway its probes go to, its own NIC's vendor prefix,
 * its address and its gateway's, and how the NAT behaves (slirp rebuilds the
 * time-exceeded messages it relays; a "NAT Network" lets nothing expire at
 * TTL 1 and hands every answer to the guest with TTL 255; a classic NAT mode
 * lets TTL 1 expire at its gateway and TTL 2 reach the destination). The fingerprints are
 * the published defaults (shared/FIELD-NOTES.md; prefixes checked against the
 * IEEE registry in Debian's ieee-data): a user can change every one of them, so
 * the result is worded as "likely" or "possible", never as a fact.
 */
#include <stdio.h>
#include <string.h>

#include "analyzer/nat_family.h"

enum family {
	FAMILY_VIRTUALBOX, /* NAT mode: its gateway 10.0.2.2 answers TTL 1 */
	FAMILY_VIRTUALBOX_NAT_NETWORK,
	FAMILY_SLIRP,
	FAMILY_VMWARE,
	FAMILY_PARALLELS,
	FAMILY_HYPERV,
	FAMILY_PASTA,
	FAMILY_COUNT
};

static const char *const family_names[FAMILY_COUNT] = {
	[FAMILY_VIRTUALBOX] = "VirtualBox NAT",
	[FAMILY_VIRTUALBOX_NAT_NETWORK] = "VirtualBox NAT Network",
	[FAMILY_SLIRP] = "QEMU/slirp user networking (also slirp4netns, rootless podman)",
	[FAMILY_VMWARE] = "VMware NAT",
	[FAMILY_PARALLELS] = "Parallels Shared Network",
	[FAMILY_HYPERV] = "Hyper-V / WSL2 NAT",
	[FAMILY_PASTA] = "pasta (passt), podman's rootless networking",
};

/* Where each product's user turns its NAT off, in its own words. */
static const char *const family_remedies[FAMILY_COUNT] = {
	[FAMILY_VIRTUALBOX] = "In VirtualBox: the VM's Settings, Network, \"Attached to: Bridged Adapter\".",
	[FAMILY_VIRTUALBOX_NAT_NETWORK] =
		"In VirtualBox: the VM's Settings, Network, \"Attached to: Bridged Adapter\".",
	[FAMILY_SLIRP] = "With QEMU: a tap or bridge netdev instead of -netdev user; with rootless podman "
			 "or docker: --network=host, or run the trace on the host.",
	[FAMILY_VMWARE] = "In VMware: the VM's network adapter set to \"Bridged\".",
	[FAMILY_PARALLELS] = "In Parallels: the VM's network source set to \"Bridged Network\".",
	[FAMILY_HYPERV] = NULL, /* its NAT routes: nothing to turn off */
	[FAMILY_PASTA] = "With rootless podman: --network=host, or run the trace on the host.",
};

/*
 * VirtualBox "NAT Network" and Parallels "Shared Network" behave alike (FIELD-NOTES.md:
 * nothing expires at the host, answers reach the guest with TTL 255). Where only that
 * behaviour speaks for either, both are named, and the name says what it rests on.
 */
static const struct family_pair {
	enum family a, b;
	const char *name, *by_behaviour; /* both named; and why, for the summary */
	const char *remedies;             /* what to do in either */
} family_pairs[] = {
	{ FAMILY_VIRTUALBOX_NAT_NETWORK, FAMILY_PARALLELS,
	  "VirtualBox NAT Network or Parallels Shared Network",
	  "VirtualBox NAT Network or Parallels Shared Network (the behaviour matches: "
	  "no time exceeded for TTL 1, answers reach the guest with TTL 255)",
	  "In VirtualBox: the VM's Settings, Network, \"Attached to: Bridged Adapter\"; in Parallels: "
	  "the VM's network source set to \"Bridged Network\"." },
	/* Their classic NAT modes behave alike too (README's problem statement). */
	{ FAMILY_VIRTUALBOX, FAMILY_VMWARE, "VirtualBox NAT or VMware NAT",
	  "VirtualBox NAT or VMware NAT (the behaviour matches: TTL 1 expires at the gateway, "
	  "TTL 2 reaches the destination)",
	  "In VirtualBox: the VM's Settings, Network, \"Attached to: Bridged Adapter\"; in VMware: the "
	  "VM's network adapter set to \"Bridged\"." },
};


struct score {
	int points[FAMILY_COUNT];
	bool behaviour[FAMILY_COUNT]; /* points for what the NAT did, not for a default */
	char reasons[FAMILY_COUNT][480]; /* the finding's text holds 512 */
};

static void add(struct score *s, enum family f, int points, const char *reason)
{
	s->points[f] += points;
	size_t used = strlen(s->reasons[f]);
	snprintf(s->reasons[f] + used, sizeof s->reasons[f] - used, "%s%s", used ? "; " : "", reason);
}

/* Points for what the NAT did: on equal points they outweigh defaults anyone may keep. */
static void add_behaviour(struct score *s, enum family f, int points, const char *reason)
{
	s->behaviour[f] = true;
	add(s, f, points, reason);
}

static bool prefix(const uint8_t mac[6], uint8_t a, uint8_t b, uint8_t c)
{
	return mac[0] == a && mac[1] == b && mac[2] == c;
}

static bool mac_known(const uint8_t mac[6])
{
	static const uint8_t zero[6];
	return memcmp(mac, zero, 6) != 0;
}

static void score_nic(struct score *s, const uint8_t nic[6])
{
	if (prefix(nic, 0x08, 0x00, 0x27)) {
		/* The VM's own NIC: the same in either VirtualBox mode. */
		add(s, FAMILY_VIRTUALBOX, 2, "the guest's NIC has VirtualBox's prefix 08:00:27");
		add(s, FAMILY_VIRTUALBOX_NAT_NETWORK, 2, "the guest's NIC has VirtualBox's prefix 08:00:27");
	} else if (prefix(nic, 0x52, 0x54, 0x00) && nic[3] == 0x12 && nic[4] == 0x34 && nic[5] == 0x56)
		add(s, FAMILY_SLIRP, 2, "the guest's NIC has QEMU's default MAC 52:54:00:12:34:56");
	else if (prefix(nic, 0x52, 0x54, 0x00))
		add(s, FAMILY_SLIRP, 1, "the guest's NIC has QEMU's prefix 52:54:00");
	else if (prefix(nic, 0x00, 0x0c, 0x29) || prefix(nic, 0x00, 0x50, 0x56))
		add(s, FAMILY_VMWARE, 2, "the guest's NIC has a VMware prefix (00:0c:29 or 00:50:56)");
	else if (prefix(nic, 0x00, 0x1c, 0x42))
		add(s, FAMILY_PARALLELS, 2, "the guest's NIC has Parallels' prefix 00:1c:42");
	else if (prefix(nic, 0x00, 0x15, 0x5d))
		add(s, FAMILY_HYPERV, 2, "the guest's NIC has Hyper-V's prefix 00:15:5d");
}

static void score_gateway_mac(struct score *s, const uint8_t gw[6])
{
	static const uint8_t vbox_gateway[6] = { 0x52, 0x54, 0x00, 0x12, 0x35, 0x02 };
	if (!memcmp(gw, vbox_gateway, 6))
		add(s, FAMILY_VIRTUALBOX, 3, "the gateway's MAC is VirtualBox NAT's 52:54:00:12:35:02");
	else if (gw[0] == 0x52 && gw[1] == 0x55)
		/* slirp gives its virtual hosts 52:55 followed by their IPv4 address... */
		add(s, FAMILY_SLIRP, 3, "the gateway's MAC is slirp's 52:55 followed by its IP address");
	else if (gw[0] == 0x52 && gw[1] == 0x56)
		/* ...and 52:56 followed by the low bytes of their IPv6 address. */
		add(s, FAMILY_SLIRP, 3, "the gateway's MAC is slirp's IPv6 52:56:00:00:00:xx");
	else if (prefix(gw, 0x00, 0x50, 0x56))
		add(s, FAMILY_VMWARE, 2, "the gateway's MAC has VMware's prefix 00:50:56");
	else if (prefix(gw, 0x00, 0x1c, 0x42))
		add(s, FAMILY_PARALLELS, 2, "the gateway's MAC has Parallels' prefix 00:1c:42");
	else if (prefix(gw, 0x00, 0x15, 0x5d))
		add(s, FAMILY_HYPERV, 2, "the gateway's MAC has Hyper-V's prefix 00:15:5d");
}

static bool addr_is(const struct ip_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, int b3)
{
	return a->family == 4 && a->b[0] == b0 && a->b[1] == b1 && a->b[2] == b2 &&
	       (b3 < 0 || a->b[3] == b3);
}

static void score_addresses(struct score *s, const struct ip_addr *guest, const struct ip_addr *gateway)
{
	if (addr_is(guest, 10, 0, 2, 15)) {
		add(s, FAMILY_VIRTUALBOX, 1, "the guest has the default 10.0.2.15");
		add(s, FAMILY_SLIRP, 1, "the guest has the default 10.0.2.15");
	} else if (addr_is(guest, 10, 0, 2, 100)) {
		add(s, FAMILY_SLIRP, 2, "the guest has slirp4netns' default 10.0.2.100");
	} else if (addr_is(guest, 10, 211, 55, -1)) {
		add(s, FAMILY_PARALLELS, 2, "the guest is in Parallels' default 10.211.55.0/24");
	}
	if (gateway && addr_is(gateway, 10, 0, 2, 2)) {
		add(s, FAMILY_VIRTUALBOX, 1, "hop 1 is the default gateway 10.0.2.2");
		add(s, FAMILY_SLIRP, 1, "hop 1 is the default gateway 10.0.2.2");
	}
}

static void score_behaviour(struct score *s, const struct case_model *cm, uint32_t guest)
{
	/* Each behaviour scores once, however many traces show it. */
	bool forged = false, swapped = false;
	for (size_t i = 0; i < cm->findings.len; i++) {
		forged |= cm->findings.items[i].kind == FINDING_FORGED_TIME_EXCEEDED;
		swapped |= cm->findings.items[i].kind == FINDING_QUOTE_REBUILT_BY_NAT;
	}
	if (forged)
		add_behaviour(s, FAMILY_SLIRP, 2, "time-exceeded messages rebuilt the way slirp rebuilds them");
	if (swapped)
		add_behaviour(s, FAMILY_VIRTUALBOX, 2, "quotes rebuilt with byte-swapped fields, as the VirtualBox NAT does");
	for (size_t i = 0; i < cm->traces.len; i++) {
		const struct trace *t = &cm->traces.items[i];
		if (t->capture == guest && t->hops.len && t->hops.items[0].ttl == 1 &&
		    t->hops.items[0].answers && !t->hops.items[0].is_destination &&
		    t->hops.items[0].reply_ttl == 128) {
			add_behaviour(s, FAMILY_HYPERV, 1, "hop 1 answers with TTL 128, as the Windows host NAT does");
			break;
		}
	}
	/* pasta gives the guest a copy of the host's own address: the host's copy of a
	 * re-originated probe then leaves from the very address the guest used. */
	for (size_t i = 0; i < cm->requests.len; i++) {
		const struct request *g = &cm->requests.items[i];
		if (g->capture == guest && g->trace >= 0 &&
		    request_reoriginated_from_own_address(cm, (int32_t)i)) {
			add_behaviour(s, FAMILY_PASTA, 4,
			    "the guest uses the host's own address while the probes are re-originated, as pasta does");
			break;
		}
	}
}

/*
 * The "NAT Network" behaviour (FIELD-NOTES.md; the lab's nat-network scenario): the
 * NAT lets nothing expire at TTL 1 and sets every answer to the guest to TTL 255, so
 * the destination itself answers the TTL-1 probes and the guest gets its answers with
 * TTL 255. slirp (ICMP, and TCP over IPv6) and pasta (TCP, ICMP) answer TTL 1 the same
 * way from the guest's side, so that alone is one point. Two signs speak for a NAT that
 * translates what it forwards (this one) over those user-space NATs: the destination's
 * port unreachable quotes the probe with a TTL above the one sent (the TTL was reset
 * before the probe was routed; slirp quotes the guest's own TTL, pasta passes no UDP
 * errors), and the host capture shows the probe leaving from an address other than the
 * guest's (pasta's guest has the host's own address). Only scored on traces the
 * diagnosis found reset: an on-link destination may answer TTL 1 with 255 too.
 */
struct shared_network_signs {
	int32_t probe, answer;     /* the guest's TTL-1 probe and the destination's answer, or -1 */
	int32_t quoting_answer;    /* a port unreachable quoting a raised TTL, or -1 */
	int32_t host_copy;         /* the host capture's copy of a TTL-1 probe so answered, or -1 */
};

static void find_shared_network_signs(const struct case_model *cm, uint32_t guest,
				      struct shared_network_signs *n)
{
	n->probe = n->answer = n->quoting_answer = n->host_copy = -1;
	for (size_t i = 0; i < cm->traces.len; i++) {
		const struct trace *t = &cm->traces.items[i];
		if (t->capture != guest || t->verdict != VERDICT_TTL_RESET || t->rebuilt_from_replies ||
		    !t->hops.len)
			continue;
		const struct hop *h = &t->hops.items[0];
		if (h->ttl != 1 || !h->answers || !h->is_destination || h->reply_ttl != 255 ||
		    h->request < 0 || h->reply < 0)
			continue;
		const struct request *q = &cm->requests.items[h->request];
		const struct reply *r = &cm->replies.items[h->reply];
		if (n->probe < 0) {
			n->probe = h->request;
			n->answer = h->reply;
		}
		if (n->quoting_answer < 0 && reply_kind_is_error(r->kind) && r->quoted && r->quoted_ttl > q->ttl)
			n->quoting_answer = h->reply;
		if (n->host_copy < 0 && q->counterpart >= 0) {
			const struct request *c = &cm->requests.items[q->counterpart];
			if (c->ttl > q->ttl && !ip_addr_equal(&c->src, &q->src))
				n->host_copy = q->counterpart;
		}
	}
}

static void score_shared_network(struct score *s, const struct case_model *cm,
				 const struct shared_network_signs *n)
{
	if (n->probe < 0)
		return;
	char reason[400];
	int points = 1;
	snprintf(reason, sizeof reason, "the destination itself answers TTL 1, with TTL 255 at the guest");
	if (n->quoting_answer >= 0) {
		size_t used = strlen(reason);
		points++;
		snprintf(reason + used, sizeof reason - used,
			 "; its port unreachable quotes TTL %u, not 1: reset before routing "
			 "(slirp quotes the probe's own TTL, pasta drops UDP errors)",
			 cm->replies.items[n->quoting_answer].quoted_ttl);
	}
	if (n->host_copy >= 0) {
		size_t used = strlen(reason);
		points++;
		snprintf(reason + used, sizeof reason - used,
			 "; the host sends the TTL-1 probe on with TTL %u from another address "
			 "(pasta's copies keep the guest's)",
			 cm->requests.items[n->host_copy].ttl);
	}
	add_behaviour(s, FAMILY_VIRTUALBOX_NAT_NETWORK, points, reason);
	add_behaviour(s, FAMILY_PARALLELS, points, reason);
}

/*
 * The classic NAT mode of VirtualBox ("NAT") and VMware ("Share with my Mac", NAT):
 * the TTL-1 probe expires at the gateway, which answers with a time exceeded, and
 * every later probe reaches the destination, so a reset trace reads "gateway, then
 * destination at TTL 2" (README; FIELD-NOTES.md). None of the measured user-space
 * NATs does that to a reset protocol: slirp and pasta answer TTL 1 with the
 * destination's name, a NAT Network lets nothing expire at the host.
 */
struct nat_mode_signs {
	int32_t gateway_answer, destination_answer; /* replies of the first such trace, or -1 */
};

static void find_nat_mode_signs(const struct case_model *cm, uint32_t guest, struct nat_mode_signs *n)
{
	n->gateway_answer = n->destination_answer = -1;
	for (size_t i = 0; i < cm->traces.len; i++) {
		const struct trace *t = &cm->traces.items[i];
		if (t->capture != guest || t->verdict != VERDICT_TTL_RESET || t->rebuilt_from_replies ||
		    t->hops.len < 2)
			continue;
		const struct hop *gw = &t->hops.items[0], *dest = &t->hops.items[1];
		if (gw->ttl == 1 && gw->answers && !gw->is_destination && gw->kind == REPLY_TIME_EXCEEDED &&
		    gw->reply >= 0 && dest->ttl == 2 && dest->answers && dest->is_destination && dest->reply >= 0) {
			n->gateway_answer = gw->reply;
			n->destination_answer = dest->reply;
			return;
		}
	}
}

static void score_nat_mode(struct score *s, const struct nat_mode_signs *n)
{
	if (n->gateway_answer < 0)
		return;
	static const char reason[] = "the TTL-1 probe expires at the gateway and the TTL-2 probe already "
				     "reaches the destination, as in a classic NAT mode";
	add_behaviour(s, FAMILY_VIRTUALBOX, 2, reason);
	add_behaviour(s, FAMILY_VMWARE, 2, reason);
}

/* The pair best belongs to when only what both do speaks for it (equal points), or NULL. */
static const struct family_pair *tied_pair(const struct score *s, int best)
{
	for (size_t i = 0; i < sizeof family_pairs / sizeof family_pairs[0]; i++) {
		const struct family_pair *p = &family_pairs[i];
		if (((int)p->a == best || (int)p->b == best) && s->behaviour[best] &&
		    s->points[p->a] == s->points[p->b])
			return p;
	}
	return NULL;
}

/* The agent's probes: their NIC, the MAC they are sent to, and who answers at TTL 1. */
static bool observe(const struct case_model *cm, uint32_t guest, struct ip_addr *agent,
		    uint8_t nic[6], uint8_t gateway_mac[6], const struct ip_addr **gateway, uint64_t *frame)
{
	*gateway = NULL;
	bool found = false;
	for (size_t i = 0; i < cm->traces.len && !found; i++) {
		const struct trace *t = &cm->traces.items[i];
		if (t->capture != guest || t->rebuilt_from_replies || !t->hops.len)
			continue;
		const struct hop *h = &t->hops.items[0];
		if (h->request < 0 || !cm->requests.items[h->request].has_mac)
			continue;
		const struct request *q = &cm->requests.items[h->request];
		*agent = t->src;
		memcpy(nic, q->src_mac, 6);
		memcpy(gateway_mac, q->dst_mac, 6);
		*frame = q->frame;
		if (h->ttl == 1 && h->answers && !h->is_destination) /* traceroute -f: no hop 1 */
			*gateway = &h->addr;
		found = true;
	}
	return found;
}

void nat_family_guess(struct case_model *cm, uint32_t guest)
{
	struct ip_addr agent = { 0 };
	uint8_t nic[6] = { 0 }, gateway_mac[6] = { 0 };
	const struct ip_addr *gateway = NULL;
	uint64_t frame = 0;
	if (!observe(cm, guest, &agent, nic, gateway_mac, &gateway, &frame))
		return;
	struct score s;
	memset(&s, 0, sizeof s);
	score_nic(&s, nic);
	if (mac_known(gateway_mac))
		score_gateway_mac(&s, gateway_mac);
	score_addresses(&s, &agent, gateway);
	score_behaviour(&s, cm, guest);
	struct shared_network_signs signs;
	find_shared_network_signs(cm, guest, &signs);
	score_shared_network(&s, cm, &signs);
	struct nat_mode_signs nat_mode;
	find_nat_mode_signs(cm, guest, &nat_mode);
	score_nat_mode(&s, &nat_mode);

	int best = 0;
	for (int f = 1; f < FAMILY_COUNT; f++)
		if (s.points[f] > s.points[best] ||
		    (s.points[f] == s.points[best] && s.behaviour[f] && !s.behaviour[best]))
			best = f;
	if (s.points[best] < 2)
		return;
	/* Nothing but what both do tells the two apart: name both. */
	const struct family_pair *pair = tied_pair(&s, best);
	bool both = pair != NULL;
	const char *name = both ? pair->name : family_names[best];
	cm->nat_family = both ? pair->by_behaviour : family_names[best];
	/* Both products named: the two remedies, unless they are one. */
	if (both && family_remedies[pair->a] && family_remedies[pair->b] &&
	    strcmp(family_remedies[pair->a], family_remedies[pair->b]))
		cm->nat_remedy = pair->remedies;
	else
		cm->nat_remedy = family_remedies[best];
	/* These NATs all re-originate TCP (Hyper-V's is a kernel NAT that routes): a TCP
	 * trace that kept its TTL speaks against them, whatever their defaults say. */
	bool tcp_kept = false;
	for (size_t i = 0; i < cm->traces.len && best != FAMILY_HYPERV; i++) {
		const struct trace *t = &cm->traces.items[i];
		tcp_kept |= t->capture == guest && t->proto == PROTO_TCP && t->verdict == VERDICT_NO_TTL_RESET &&
			    !t->rebuilt_from_replies;
	}
	bool likely = s.points[best] >= 4 && !tcp_kept;
	cm->nat_confidence = likely ? "likely" : "possible";

	struct finding *f = VEC_PUSH(&cm->findings);
	if (!f)
		return;
	f->kind = FINDING_NAT_FAMILY;
	f->trace = -1;
	VEC_INIT(&f->evidence, 4);
	snprintf(f->text, sizeof f->text, "The guest %s behind %s%s: ", likely ? "likely sits" : "may sit", name,
		 both ? ", whose behaviour this is (nothing else in the capture tells the two apart)" : "");
	size_t used = strlen(f->text);
	snprintf(f->text + used, sizeof f->text - used, "%s%s.", s.reasons[best],
		 !tcp_kept ? ""
		 : both	   ? "; but a TCP trace kept its TTL, which neither of these NATs lets happen"
			   : "; but a TCP trace kept its TTL, which this NAT does not do");
	struct evidence *e = VEC_PUSH(&f->evidence);
	if (e) {
		e->capture = guest;
		e->frame = frame;
		e->role = "probe (its MAC addresses)";
	}
	if ((best == FAMILY_VIRTUALBOX || best == FAMILY_VMWARE) && nat_mode.gateway_answer >= 0) {
		const struct reply *gw = &cm->replies.items[nat_mode.gateway_answer];
		const struct reply *dest = &cm->replies.items[nat_mode.destination_answer];
		if ((e = VEC_PUSH(&f->evidence))) {
			e->capture = guest;
			e->frame = gw->frame;
			e->role = "gateway's time exceeded for TTL 1";
		}
		if ((e = VEC_PUSH(&f->evidence))) {
			e->capture = guest;
			e->frame = dest->frame;
			e->role = "destination's answer to TTL 2";
		}
	}
	if (best != FAMILY_VIRTUALBOX_NAT_NETWORK && best != FAMILY_PARALLELS)
		return;
	int32_t answer = signs.quoting_answer >= 0 ? signs.quoting_answer : signs.answer;
	if (answer < 0)
		return;
	const struct reply *r = &cm->replies.items[answer];
	if (r->request >= 0 && (e = VEC_PUSH(&f->evidence))) {
		e->capture = guest;
		e->frame = cm->requests.items[r->request].frame;
		e->role = "TTL-1 probe";
	}
	if ((e = VEC_PUSH(&f->evidence))) {
		e->capture = guest;
		e->frame = r->frame;
		e->role = "destination answer";
	}
	if (signs.host_copy >= 0 && (e = VEC_PUSH(&f->evidence))) {
		e->capture = cm->requests.items[signs.host_copy].capture;
		e->frame = cm->requests.items[signs.host_copy].frame;
		e->role = "host copy of a TTL-1 probe";
	}
}
