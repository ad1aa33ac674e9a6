#include <stdlib.h>
#include <string.h>

#include "analyzer/copy_keys.h"
#include "analyzer/radix_sort.h"

static int compare_target(const struct request *x, const struct request *y)
{
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->dst.family != y->dst.family)
		return x->dst.family < y->dst.family ? -1 : 1;
	int c = memcmp(x->dst.b, y->dst.b, 16);
	if (c)
		return c;
	/* ICMP ids are rewritten by ping sockets; TCP and UDP destination ports survive a NAT. */
	if (x->proto != PROTO_ICMP && x->dport != y->dport)
		return x->dport < y->dport ? -1 : 1;
	return 0;
}

static const struct request *sort_requests;

/* By target, then in capture order. */
static int compare_by_target(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	int c = compare_target(&sort_requests[x], &sort_requests[y]);
	return c ? c : (x > y) - (x < y);
}

static int compare_entries(const void *a, const void *b)
{
	const struct copy_entry *x = a, *y = b;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return (x->request > y->request) - (x->request < y->request);
}

/* The IPv4 ID, when the sender chose one (IPv6 has none outside fragments). */
static bool ip_id_of(const struct request *q, uint32_t *key)
{
	*key = q->ip_id;
	return q->dst.family == 4 && q->ip_id != 0;
}

static bool key_of(const struct request *q, enum copy_key kind, uint32_t *key)
{
	*key = 0;
	switch (kind) {
	case KEY_TARGET:
		return true;
	case KEY_TCP_SEQ:
		*key = q->seq;
		return q->proto == PROTO_TCP;
	case KEY_TCP_IP_ID:
		return q->proto == PROTO_TCP && ip_id_of(q, key);
	case KEY_TCP_SPORT:
		*key = q->sport;
		return q->proto == PROTO_TCP;
	case KEY_UDP_IP_ID:
		return q->proto == PROTO_UDP && ip_id_of(q, key);
	case KEY_UDP_SPORT:
		*key = q->sport;
		return q->proto == PROTO_UDP;
	case KEY_ICMP_ECHO:
		*key = (uint32_t)q->echo_id << 16 | q->echo_seq;
		return q->proto == PROTO_ICMP;
	case KEY_ICMP_SEQ:
		*key = q->echo_seq;
		return q->proto == PROTO_ICMP;
	case KEY_ICMP_IP_ID:
		return q->proto == PROTO_ICMP && ip_id_of(q, key);
	case KEY_COUNT:
		break;
	}
	return false;
}

static bool is_guest_probe(const struct request *q, uint32_t guest)
{
	return q->capture == guest && q->trace >= 0 && q->same_as < 0;
}

static bool is_host_request(const struct request *q, uint32_t host)
{
	return q->capture == host && q->same_as < 0;
}

/* Every key the request has, into k (sized for the worst case by the caller). */
static void add_entries(struct copy_keys *k, const struct request *q, int32_t index, uint32_t target)
{
	for (int kind = 0; kind < KEY_COUNT; kind++) {
		uint32_t key;
		if (key_of(q, (enum copy_key)kind, &key))
			k->items[k->n++] = (struct copy_entry){ copy_group((enum copy_key)kind, target, key),
								q->ts_ns, index };
	}
}

/*
 * By group, then time. Within a target the entries come in capture order,
 * which is time order but for a few frames (merged files, clocks stepped): a
 * stable sort by group leaves little for qsort to put right within a group.
 */
static int sort_entries(struct copy_keys *k)
{
	if (radix_sort_by_key(k->items, k->n, sizeof *k->items) != 0)
		return -1;
	for (size_t first = 0, end; first < k->n; first = end) {
		bool sorted = true;
		for (end = first + 1; end < k->n && k->items[end].group == k->items[first].group; end++)
			sorted = sorted && compare_entries(&k->items[end - 1], &k->items[end]) <= 0;
		if (!sorted)
			qsort(k->items + first, end - first, sizeof *k->items, compare_entries);
	}
	return 0;
}

/* At most this many entries per request: the target and three fields. */
enum { KINDS_PER_REQUEST = 4 };

int copy_keys_build(const struct case_model *cm, uint32_t guest, uint32_t host, const bool *left_out,
		    struct copy_keys *guest_keys, struct copy_keys *host_keys)
{
	memset(guest_keys, 0, sizeof *guest_keys);
	memset(host_keys, 0, sizeof *host_keys);
	const struct request *rq = cm->requests.items;
	size_t n_guest = 0, n_host = 0;
	for (size_t i = 0; i < cm->requests.len; i++) {
		n_guest += is_guest_probe(&rq[i], guest);
		n_host += is_host_request(&rq[i], host) && !(left_out && left_out[i]);
	}
	size_t n = n_guest + n_host;
	int32_t *order = malloc((n ? n : 1) * sizeof *order);
	guest_keys->items = malloc((n_guest ? n_guest : 1) * KINDS_PER_REQUEST * sizeof *guest_keys->items);
	host_keys->items = malloc((n_host ? n_host : 1) * KINDS_PER_REQUEST * sizeof *host_keys->items);
	if (!order || !guest_keys->items || !host_keys->items) {
		free(order);
		copy_keys_free(guest_keys);
		copy_keys_free(host_keys);
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		if (is_guest_probe(&rq[i], guest) || (is_host_request(&rq[i], host) && !(left_out && left_out[i])))
			order[k++] = (int32_t)i;
	sort_requests = rq;
	qsort(order, n, sizeof *order, compare_by_target);
	uint32_t target = 0;
	for (size_t i = 0; i < n; i++) {
		const struct request *q = &rq[order[i]];
		if (i > 0 && compare_target(&rq[order[i - 1]], q) != 0)
			target++;
		add_entries(q->capture == host ? host_keys : guest_keys, q, order[i], target);
	}
	free(order);
	/* A case holds fewer requests than COPY_MAX_TARGETS, hence fewer targets. */
	if (target >= COPY_MAX_TARGETS || sort_entries(guest_keys) != 0 || sort_entries(host_keys) != 0) {
		copy_keys_free(guest_keys);
		copy_keys_free(host_keys);
		return -1;
	}
	return 0;
}

void copy_keys_free(struct copy_keys *k)
{
	free(k->items);
	k->items = NULL;
	k->n = 0;
}

size_t copy_keys_lower_bound(const struct copy_keys *k, uint64_t group, int64_t from)
{
	const struct copy_entry probe = { group, from, INT32_MIN };
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (compare_entries(&k->items[mid], &probe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void copy_keys_range(const struct copy_keys *k, uint64_t group, int64_t from, int64_t to, size_t *first,
		     size_t *end)
{
	*first = *end = copy_keys_lower_bound(k, group, from);
	if (from > to)
		return;
	/* No group sorts between group and group + 1 (the kind never reaches the top bit). */
	*end = to == INT64_MAX ? copy_keys_lower_bound(k, group + 1, INT64_MIN)
			       : copy_keys_lower_bound(k, group, to + 1);
}

void copy_keys_span(const struct copy_keys *k, uint64_t lo, uint64_t hi, size_t *first, size_t *end)
{
	*first = copy_keys_lower_bound(k, lo, INT64_MIN);
	*end = copy_keys_lower_bound(k, hi, INT64_MIN);
}
