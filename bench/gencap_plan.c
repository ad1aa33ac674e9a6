/*
 * The address plan. Only documentation and benchmarking ranges are used
 * (RFC 5737, RFC 2544, RFC 3849):
 *
 *   guests (capture side)  198.18.S.10+H        2001:db8:0:S::10+H   one subnet per site S
 *   site gateways          198.18.S.1           2001:db8:0:S::1
 *   uplink routers (TTL 2) 198.51.100.1-120     2001:db8:ff:N::1
 *   core and edge routers  198.19.0-127.x       2001:db8:fe:N::1
 *   trace destinations     203.0.113.10-109, 192.0.2.10-109, 198.19.128-255.x   2001:db8:d0:N::10
 *   ordinary servers       203.0.113.130-249, 192.0.2.130-249, 198.51.100.130-249   2001:db8:5e:N::80
 *   DNS resolver           198.51.100.253       2001:db8:53::53
 *
 * Trace destinations and ordinary servers never overlap, so an ordinary
 * flow can never be taken for part of a trace by accident.
 *
 * Paths are functions of (site, destination): the same pair always has the
 * same length and routers, whichever trace or protocol crosses it.
 */
#include <arpa/inet.h>
#include <string.h>

#include "gencap.h"

/* Tags that keep the hashes of different properties apart. */
enum {
	TAG_NAT = 1,
	TAG_PATH = 2,
	TAG_UPLINK = 3,
	TAG_EDGE = 4,
	TAG_CORE = 5,
	TAG_SILENT = 6,
	TAG_ROUTER_TTL = 7,
	TAG_QUOTE = 8,
	TAG_MAC = 9,
};

enum { SILENT_ROUTER_PERCENT = 4, QUOTE_8_PERCENT = 30, PATH_TTL_MIN = 3, PATH_TTL_SPAN = 12 };

void addr_v4(struct addr *a, unsigned o1, unsigned o2, unsigned o3, unsigned o4)
{
	memset(a, 0, sizeof *a);
	a->family = 4;
	a->b[0] = (uint8_t)o1;
	a->b[1] = (uint8_t)o2;
	a->b[2] = (uint8_t)o3;
	a->b[3] = (uint8_t)o4;
}

void addr_v6(struct addr *a, unsigned g2, unsigned g3, unsigned low)
{
	memset(a, 0, sizeof *a);
	a->family = 6;
	const unsigned groups[3][2] = { { 0, 0x2001 }, { 2, 0x0db8 }, { 4, g2 } };
	for (size_t i = 0; i < 3; i++) {
		a->b[groups[i][0]] = (uint8_t)(groups[i][1] >> 8);
		a->b[groups[i][0] + 1] = (uint8_t)groups[i][1];
	}
	a->b[6] = (uint8_t)(g3 >> 8);
	a->b[7] = (uint8_t)g3;
	a->b[14] = (uint8_t)(low >> 8);
	a->b[15] = (uint8_t)low;
}

void addr_format(const struct addr *a, char *out, size_t size)
{
	if (!inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->b, out, (socklen_t)size) && size)
		out[0] = '\0';
}

static uint64_t addr_hash(const struct addr *a, uint64_t tag)
{
	uint64_t h = tag;
	for (size_t i = 0; i < 16; i++)
		h = mix64(h ^ a->b[i]) + i;
	return h;
}

void addr_mac(const struct addr *a, uint8_t mac[6])
{
	uint64_t h = addr_hash(a, TAG_MAC);
	mac[0] = 0x02; /* locally administered, unicast */
	for (size_t i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}

bool plan_site_is_nat(const struct plan *p, unsigned site)
{
	if (p->nat_percent == 0 || p->nat_percent >= 100)
		return p->nat_percent >= 100;
	/* With two sites or more, site 0 is behind a NAT and site 1 is not: both kinds always occur. */
	if (p->sites >= 2 && site < 2)
		return site == 0;
	return hash_below(hash3(p->seed, TAG_NAT, site), 100) < p->nat_percent;
}

void plan_guest(const struct plan *p, unsigned site, unsigned host, uint8_t family, struct addr *out)
{
	(void)p;
	if (family == 6)
		addr_v6(out, 0, site, 0x10 + host);
	else
		addr_v4(out, 198, 18, site, 10 + host);
}

void plan_gateway(unsigned site, uint8_t family, struct addr *out)
{
	if (family == 6)
		addr_v6(out, 0, site, 1);
	else
		addr_v4(out, 198, 18, site, 1);
}

void plan_dest(unsigned index, uint8_t family, struct addr *out)
{
	if (family == 6)
		addr_v6(out, 0xd0, index, 0x10);
	else if (index < 100)
		addr_v4(out, 203, 0, 113, 10 + index);
	else if (index < 200)
		addr_v4(out, 192, 0, 2, 10 + index - 100);
	else
		addr_v4(out, 198, 19, 128 + (index - 200) / 250, 2 + (index - 200) % 250);
}

void plan_server(unsigned index, uint8_t family, struct addr *out)
{
	static const unsigned nets[3][3] = { { 203, 0, 113 }, { 192, 0, 2 }, { 198, 51, 100 } };
	if (family == 6) {
		addr_v6(out, 0x5e, index % 4096, 0x80);
		return;
	}
	const unsigned *n = nets[index % 3];
	addr_v4(out, n[0], n[1], n[2], 130 + (index / 3) % 120);
}

void plan_resolver(uint8_t family, struct addr *out)
{
	if (family == 6)
		addr_v6(out, 0x53, 0, 0x53);
	else
		addr_v4(out, 198, 51, 100, 253);
}

uint8_t plan_path_ttl(const struct plan *p, unsigned site, unsigned dest)
{
	uint64_t h = hash3(p->seed, TAG_PATH, (uint64_t)site << 32 | dest);
	return (uint8_t)(PATH_TTL_MIN + hash_below(h, PATH_TTL_SPAN));
}

static void router_from_hash(uint64_t h, bool uplink, uint8_t family, struct addr *out)
{
	if (uplink) {
		unsigned n = 1 + hash_below(h, 120);
		if (family == 6)
			addr_v6(out, 0xff, n, 1);
		else
			addr_v4(out, 198, 51, 100, n);
	} else if (family == 6) {
		addr_v6(out, 0xfe, (unsigned)(h & 0xffff), 1);
	} else {
		addr_v4(out, 198, 19, (unsigned)(h & 127), 1 + hash_below(h, 254));
	}
}

void plan_router(const struct plan *p, unsigned site, unsigned dest, uint8_t ttl, uint8_t family,
		 struct addr *out)
{
	uint8_t path = plan_path_ttl(p, site, dest);
	if (ttl <= 1) {
		plan_gateway(site, family, out);
	} else if (ttl == 2) {
		/* The site's uplink: shared by every path from the site. */
		router_from_hash(hash3(p->seed, TAG_UPLINK, site), true, family, out);
	} else if (ttl + 1 == path) {
		/* The destination's edge router: shared by every path to it. */
		router_from_hash(hash3(p->seed, TAG_EDGE, dest), false, family, out);
	} else {
		uint64_t pair = (uint64_t)site << 32 | dest;
		router_from_hash(hash3(p->seed, TAG_CORE, pair * 64 + ttl), false, family, out);
	}
}

bool plan_router_silent(const struct plan *p, unsigned site, unsigned dest, uint8_t ttl)
{
	if (ttl <= 1)
		return false; /* the gateway always answers */
	struct addr r;
	plan_router(p, site, dest, ttl, 4, &r);
	return hash_below(addr_hash(&r, hash3(p->seed, TAG_SILENT, 0)), 100) < SILENT_ROUTER_PERCENT;
}

uint8_t plan_router_initial_ttl(const struct addr *router)
{
	return (addr_hash(router, TAG_ROUTER_TTL) & 1) ? 255 : 64;
}

bool plan_router_quotes_8(const struct addr *router)
{
	return router->family == 4 && hash_below(addr_hash(router, TAG_QUOTE), 100) < QUOTE_8_PERCENT;
}

void plan_link_out(const struct addr *guest, const struct addr *gateway, struct link *l)
{
	addr_mac(guest, l->src);
	addr_mac(gateway, l->dst);
	l->pad = false; /* captured on the sending host: not padded yet */
}

void plan_link_in(const struct addr *guest, const struct addr *gateway, struct link *l)
{
	addr_mac(gateway, l->src);
	addr_mac(guest, l->dst);
	l->pad = true;
}
