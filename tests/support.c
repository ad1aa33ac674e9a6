#define _XOPEN_SOURCE 700 /* nftw */
#include <ctype.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "support.h"

size_t hex_to_bytes(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	int high = -1;
	for (const char *p = hex; *p; p++) {
		if (isspace((unsigned char)*p))
			continue;
		int v;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			abort();
		if (high < 0) {
			high = v;
			continue;
		}
		if (n == max)
			abort();
		out[n++] = (uint8_t)(high << 4 | v);
		high = -1;
	}
	if (high >= 0)
		abort();
	return n;
}

char *make_temp_dir(void)
{
	char *dir = strdup("/tmp/ttlsleuth-test-XXXXXX");
	if (!dir || !mkdtemp(dir))
		abort();
	return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void remove_temp_dir(char *dir)
{
	if (!dir)
		return;
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

char *slurp_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *grown = realloc(buf, cap * 2 + 1);
			if (!grown) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
			cap *= 2;
		}
	}
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *source_path(const char *relative)
{
	size_t size = strlen(TTLSLEUTH_SOURCE_DIR) + strlen(relative) + 2;
	char *p = malloc(size);
	if (!p)
		abort();
	snprintf(p, size, "%s/%s", TTLSLEUTH_SOURCE_DIR, relative);
	return p;
}

int run_ttlsleuth(const char *args, const char *stdout_path, const char *stderr_path)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s' </dev/null", TTLSLEUTH_BINARY, args,
		 stdout_path ? stdout_path : "/dev/null", stderr_path ? stderr_path : "/dev/null");
	int status = system(cmd);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

char *rewrite_capture(const char *sample, const char *dir, const char *name, frame_edit edit,
		      void *ctx)
{
	char *src = source_path(sample);
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *in = pcap_open_offline_with_tstamp_precision(src, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!in)
		abort();
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	if (!path)
		abort();
	sprintf(path, "%s/%s", dir, name);
	pcap_dumper_t *out = pcap_dump_open(in, path);
	if (!out)
		abort();
	struct pcap_pkthdr *h;
	const u_char *data;
	static uint8_t frame[REWRITE_FRAME_MAX];
	for (unsigned n = 1; pcap_next_ex(in, &h, &data) == 1; n++) {
		struct pcap_pkthdr copy = *h;
		if (copy.caplen > sizeof frame)
			abort();
		memcpy(frame, data, copy.caplen);
		if (edit(n, &copy, frame, ctx))
			pcap_dump((u_char *)out, &copy, frame);
	}
	pcap_dump_close(out);
	pcap_close(in);
	free(src);
	return path;
}
