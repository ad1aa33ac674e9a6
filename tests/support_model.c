#include <stdio.h>
#include <string.h>

#include "support_model.h"

const char *hops_text(const struct trace *t, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < t->hops.len && used < size; i++) {
		char a[64];
		ip_addr_format(&t->hops.items[i].addr, a, sizeof a);
		int n = snprintf(buf + used, size - used, "%s%s", i ? "," : "", a[0] ? a : "*");
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}
