#include <arpa/inet.h>
#include <string.h>

#include "dissectors/packet.h"

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return false;
	return memcmp(a->b, b->b, a->family == 4 ? 4 : 16) == 0;
}

int ip_addr_compare(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->b, b->b, a->family == 4 ? 4 : 16);
}

int ip_addr_compare_items(const void *a, const void *b)
{
	return ip_addr_compare(a, b);
}

uint32_t ip_addr_word_sum(const struct ip_addr *a)
{
	uint32_t sum = 0;
	for (int i = 0; i < (a->family == 6 ? 16 : a->family == 4 ? 4 : 0); i += 2)
		sum += (uint32_t)(a->b[i] << 8 | a->b[i + 1]);
	return sum;
}

void ip_addr_format(const struct ip_addr *a, char *out, unsigned long out_size)
{
	if (out_size == 0)
		return;
	out[0] = '\0';
	if (a->family == 4)
		inet_ntop(AF_INET, a->b, out, (socklen_t)out_size);
	else if (a->family == 6)
		inet_ntop(AF_INET6, a->b, out, (socklen_t)out_size);
}

bool ip_addr_parse(const char *text, struct ip_addr *out)
{
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, text, out->b) == 1) {
		out->family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, text, out->b) == 1) {
		out->family = 6;
		return true;
	}
	return false;
}
