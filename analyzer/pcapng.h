/*
 * Our own pcapng reader.
 *
 * libpcap refuses pcapng files whose interfaces have different link types
 * (macOS `tcpdump -i any`, Windows captures with a loopback interface, merged
 * files), which are exactly what customers send. This reader keeps the link
 * type and interface of every packet, honours if_tsresol and if_tsoffset,
 * reads both byte orders and several sections, and numbers packets as
 * Wireshark does (every Enhanced, Simple or obsolete Packet Block is a frame).
 * Blocks are hostile like packets: their lengths are checked against a
 * ceiling and against each other before anything is read from them.
 */
#ifndef TTLSLEUTH_PCAPNG_H
#define TTLSLEUTH_PCAPNG_H

#include "analyzer/capture.h"
#include "analyzer/source.h"

struct pcapng_reader;

/*
 * Reads the first Section Header Block and the blocks up to the first packet.
 * NULL with *err set when the file is not readable pcapng, or when it holds no
 * packet and none of its interfaces has a link type we can dissect. A file
 * with packets is judged at its end (an interface may be described after the
 * first packet): when none was on a link type we dissect, pcapng_next sets
 * info->refusal.
 */
struct pcapng_reader *pcapng_open(struct byte_source *src, struct capture *info, struct error *err);

/* 1 with *f filled, 0 at the end; a malformed block stops the reading with info->warning set. */
int pcapng_next(struct pcapng_reader *r, struct frame *f);

void pcapng_close(struct pcapng_reader *r);

#endif
