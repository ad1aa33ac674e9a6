#!/usr/bin/env python3
"""Write samples/manifest.tsv (ground truth per trace per capture) and
samples/lab/ttl-facts.tsv, samples/extra/ttl-facts.tsv (TTLs observed per
capture).

    python3 samples/make-manifest.py [--samples DIR] [--check]

Needs tshark and capinfos (Debian: tshark). record-lab.sh runs it at the end
of `record-lab.sh matrix`.

Where the values come from:

* The expected verdict, direction and reset TTL of a trace come from how the
  lab is built (EXPECTED below, one entry per scenario, IP version and probe
  protocol, with the reason), never from ttlsleuth. The TTLs seen in the
  captures are only used to *check* them: a host-side capture whose probes
  do not match the expectation (all leaving with the reset TTL, or keeping
  the guest's TTL less one) is reported as a warning, and --check turns
  warnings into exit status 1. After re-recording on other software versions
  read the warnings before trusting the manifest.
* The true path (router hops and their addresses) comes from the topology
  (TRUE_PATH below).
* expected_hops_as_printed is parsed from the tool's own output file.
* linktype, timestamp precision, file format and packet count from capinfos.
* The rows of the legacy captures (slirp/, routed/: three traces per
  capture) are taken from ground-truth.tsv, which stays as it is.
* The runs of `record-lab.sh extra` (extra/runs.tsv) come after the matrix:
  kernel-nat-v4 and nat-classic-v4 again with a third capture on the host's
  guest-facing veth (host-guestside.pcap), and the on-link destination on a
  wide prefix (onlink-wide, guest capture only).
"""
import argparse
import collections
import csv
import os
import re
import subprocess
import sys

# ----------------------------------------------------------------- topology

TARGET = {4: "203.0.113.10", 6: "2001:db8:113::10"}
# Address of the host on its uplink h-r1: the NATed probes' source there.
HOST_UPLINK = {4: "198.18.1.1", 6: "2001:db8:18:1::1"}
ROUTERS = {  # r1, r2, r3 as they answer a probe coming from the host side
    4: ["198.18.1.2", "198.18.2.2", "198.18.3.2"],
    6: ["2001:db8:18:1::2", "2001:db8:18:2::2", "2001:db8:18:3::2"],
}
# The host's address on the guest link (kernel scenarios): the first router.
HOST_GW = {
    ("nat-classic", 4): "10.0.2.2", ("nat-classic", 6): "fd00:2::2",
    ("nat-network", 4): "10.0.2.1", ("nat-network", 6): "fd00:2::1",
    ("kernel-nat", 4): "192.168.122.1", ("kernel-nat", 6): "fd00:122::1",
    ("routed", 4): "192.0.2.1", ("routed", 6): "2001:db8:192::1",
}
USERSPACE = ("slirp", "slirp-noping", "pasta")
SCENARIO_ORDER = ["slirp", "slirp-noping", "pasta", "nat-classic", "nat-network", "kernel-nat",
                  "routed", "onlink-wide"]
# The host's end of the guest veth in the kernel scenarios (host-guestside.pcap).
HOST_GUEST_IF = "h-g"
TOOL_ORDER = ["traceroute-tcp", "tcptraceroute", "mtr-tcp", "hping3-tcp", "scamper-tcp",
              "traceroute-icmp", "traceroute-udp", "mtr-icmp"]
TOOL_NOTES = {
    "hping3-tcp": "hping3 --traceroute raises the TTL only after a time exceeded: where none "
                  "comes back every probe keeps the same TTL (not a rising series)",
    "mtr-tcp": "mtr's TCP probes are connect() attempts: where a SYN is answered with a SYN-ACK "
               "the guest's kernel completes the handshake and the connection is closed, so the "
               "capture also holds ACK and FIN packets from the guest (most with the probe's TTL)",
}


def true_path(scenario, fam):
    """Real IP routers between guest and target, in order, and the target.
    In the user-space NATs (slirp, pasta) the host does not route: the flows
    are re-originated from its sockets, so r1, r2, r3 are the routers. In
    the kernel scenarios the host forwards (and decrements) like a router,
    also in nat-network where its TTL rewriting hides it."""
    if scenario == "onlink-wide":
        return [], []          # the caller adds the destination
    hops = list(ROUTERS[fam])
    if scenario not in USERSPACE:
        hops.insert(0, HOST_GW[(scenario, fam)])
    return hops, hops + [TARGET[fam]]


# ------------------------------------------------------- expected verdicts
# (scenario, ip_version, protocol) -> (verdict, direction, reset_ttl,
#                                      verdict from the guest capture alone,
#                                      reason)
# direction: egress = the probes' TTL was not kept on the way out;
# ingress = the answers reaching the guest were re-originated / rewritten;
# both. reset_ttl = the TTL the probes leave the host with (known from the
# host capture).

def _slirp_tcp(fam):
    return ("ttl-reset", "both", "64", "ttl-reset",
            "slirp terminates TCP: every SYN becomes a connection from slirp's own socket in tsl-host "
            "(TTL/hop limit 64 whatever the guest set) and slirp forges the SYN-ACK to the guest")


EXPECTED = {}
for _fam in (4, 6):
    for _s in ("slirp", "slirp-noping"):
        EXPECTED[(_s, _fam, "tcp")] = _slirp_tcp(_fam)
        EXPECTED[(_s, _fam, "udp")] = (
            "no-ttl-reset", "ingress", "", "no-ttl-reset",
            "libslirp 4.7 sends UDP on with the guest's TTL less one (TTL 1 answered by slirp itself as "
            "time exceeded from its gateway address); the ICMP errors reaching the guest are rebuilt by "
            "slirp (outer TTL/hop limit 255, quoting the guest's original probe)")
    EXPECTED[("pasta", _fam, "tcp")] = (
        "ttl-reset", "both", "64", "ttl-reset",
        "pasta terminates TCP: connections leave from its sockets in tsl-host with TTL/hop limit 64; "
        "the SYN-ACK in the guest is pasta's own (TTL/hop limit 255)")
    EXPECTED[("pasta", _fam, "icmp")] = (
        "ttl-reset", "both", "64", "ttl-reset",
        "pasta relays echo requests through ping sockets in tsl-host (TTL/hop limit 64); the echo "
        "replies in the guest are pasta's own (TTL/hop limit 255)")
    EXPECTED[("pasta", _fam, "udp")] = (
        "ttl-reset", "egress", "64", "inconclusive",
        "pasta sends UDP from its sockets with TTL/hop limit 64 and relays no ICMP error back: every "
        "probe is unanswered in the guest (guest capture alone: no answers, inconclusive)")
    for _p in ("tcp", "icmp", "udp"):
        EXPECTED[("nat-classic", _fam, _p)] = (
            "ttl-reset", "both", "64", "ttl-reset",
            "kernel NAT; nft in tsl-host: TTL 1 expires at the host (time exceeded from the gateway), "
            "every other probe is forwarded then set to 64 on h-r1; everything sent to the guest is "
            "set to 64")
        EXPECTED[("nat-network", _fam, _p)] = (
            "ttl-reset", "both", "64", "ttl-reset",
            "kernel NAT; nft in tsl-host: TTL set to 64 before routing (nothing expires at the host) "
            "and to 64 again on h-r1; everything sent to the guest is set to 255")
        EXPECTED[("kernel-nat", _fam, _p)] = (
            "no-ttl-reset", "", "", "no-ttl-reset",
            "kernel NAT (masquerade only): the host forwards like a router, TTL kept less one")
        EXPECTED[("routed", _fam, _p)] = (
            "no-ttl-reset", "", "", "no-ttl-reset",
            "no NAT: the host forwards, TTL kept less one")
    for _p in ("tcp", "icmp", "udp"):
        EXPECTED[("onlink-wide", _fam, _p)] = (
            "no-ttl-reset", "", "", "no-ttl-reset",
            "on-link destination on a wide prefix (record-lab.sh extra onlink): guest %s and "
            "destination %s share one link (veth g-l/l-g) and prefix %s, no router and no NAT "
            "between them, so every probe reaches the destination whatever its TTL and its answer to "
            "TTL 1 is the true path; the addresses differ outside the first %s, so only the prefix "
            "length or the neighbour exchange shows the destination on the link; neighbour caches "
            "flushed before the run: the capture starts with the %s exchange; no host in this "
            "scenario, no host capture"
            % (("10.1.2.3", "10.1.200.4", "10.1.0.0/16", "/24", "ARP") if _fam == 4 else
               ("2001:db8:10:2::3", "2001:db8:10:c8::4", "2001:db8:10::/48", "/64",
                "neighbor solicitation/advertisement")))
for _s in ("slirp", "slirp-noping"):
    EXPECTED[(_s, 6, "icmp")] = (
        "inconclusive", "", "", "inconclusive",
        "libslirp 4.7 answers ICMPv6 echo only for its own addresses: echo requests to the target "
        "never leave the host and nothing answers them (no answers in either capture)")
EXPECTED[("slirp", 4, "icmp")] = (
    "ttl-reset", "both", "64", "ttl-reset",
    "slirp relays echo requests through unprivileged ping sockets in tsl-host (TTL 64 whatever the "
    "guest set) and writes the echo replies to the guest itself (TTL 255)")
EXPECTED[("slirp-noping", 4, "icmp")] = (
    "no-ttl-reset", "ingress", "", "no-ttl-reset",
    "no ping socket and no raw socket for slirp: each echo request is sent on as a UDP datagram to "
    "port 7 of the target with the guest's TTL less one (TTL 1 answered by slirp itself); the errors "
    "are rebuilt by slirp as ICMP to the guest (TTL 255) - the probes kept their TTL, but changed "
    "protocol on the host side")

# ----------------------------------------------------------- capture facts

TSHARK_FIELDS = ["frame.number", "eth.type", "sll.etype", "ip.src", "ip.dst", "ip.ttl",
                 "ip.proto", "ipv6.src", "ipv6.dst", "ipv6.hlim", "ipv6.nxt", "tcp.flags",
                 "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code", "udp.dstport",
                 "_ws.col.Protocol"]


def tshark(path):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        yield dict(zip(TSHARK_FIELDS, line.split("\t")))


def nth(value, i):
    parts = value.split(",") if value else []
    return parts[i] if i < len(parts) else ""


TCP_FLAGS = [(0x02, "SYN"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK")]
ICMP4 = {(0, None): "echo-reply", (8, None): "echo-request", (11, 0): "time-exceeded",
         (3, 3): "port-unreachable", (3, 1): "host-unreachable", (3, 0): "net-unreachable",
         (3, 2): "protocol-unreachable", (3, 13): "admin-prohibited"}
ICMP6 = {(129, None): "echo-reply", (128, None): "echo-request", (3, 0): "time-exceeded",
         (1, 4): "port-unreachable", (1, 3): "address-unreachable", (1, 0): "no-route",
         (1, 1): "admin-prohibited", (133, None): "router-solicit", (134, None): "router-advert",
         (135, None): "neighbor-solicit", (136, None): "neighbor-advert", (143, None): "mldv2-report"}
PROTO = {"1": "icmp", "6": "tcp", "17": "udp", "58": "icmpv6"}


def tcp_flags(hexval):
    v = int(hexval, 16)
    names = [n for bit, n in TCP_FLAGS if v & bit]
    return "-".join(names) if names else "none"


def classify(p):
    """(src, dst, ttl, quoted_ttl, kind, probe_kind) of one packet."""
    if p["ip.src"]:
        src, dst = nth(p["ip.src"], 0), nth(p["ip.dst"], 0)
        ttl, quoted = nth(p["ip.ttl"], 0), nth(p["ip.ttl"], 1)
        proto = nth(p["ip.proto"], 0)
        if proto == "1":
            t, c = int(nth(p["icmp.type"], 0)), int(nth(p["icmp.code"], 0) or 0)
            name = ICMP4.get((t, None)) or ICMP4.get((t, c)) or "type %d/%d" % (t, c)
            if t in (3, 11):
                name += " quoting " + PROTO.get(nth(p["ip.proto"], 1), "?")
            return src, dst, ttl, quoted, "ICMP " + name
    elif p["ipv6.src"]:
        src, dst = nth(p["ipv6.src"], 0), nth(p["ipv6.dst"], 0)
        ttl, quoted = nth(p["ipv6.hlim"], 0), nth(p["ipv6.hlim"], 1)
        proto = nth(p["ipv6.nxt"], 0)
        if proto == "58":
            t, c = int(nth(p["icmpv6.type"], 0)), int(nth(p["icmpv6.code"], 0) or 0)
            name = ICMP6.get((t, None)) or ICMP6.get((t, c)) or "type %d/%d" % (t, c)
            if t in (1, 3):
                name += " quoting " + PROTO.get(nth(p["ipv6.nxt"], 1), "?")
            return src, dst, ttl, quoted, "ICMPv6 " + name
    else:
        return "", "", "", "", p["_ws.col.Protocol"] or "?"
    if proto == "6":
        return src, dst, ttl, "", "TCP " + tcp_flags(nth(p["tcp.flags"], 0))
    if proto == "17":
        port = nth(p["udp.dstport"], 0)
        return src, dst, ttl, "", "UDP to port 7" if port == "7" else "UDP"
    return src, dst, ttl, "", "proto " + proto


def counted(values):
    c = collections.Counter(v for v in values if v != "")
    return " ".join("%s×%d" % (v, n) for v, n in sorted(c.items(), key=lambda x: int(x[0])))


def facts(path):
    """Groups (src, dst, kind) -> list of (ttl, quoted), in first-seen order."""
    groups = collections.OrderedDict()
    for p in tshark(path):
        src, dst, ttl, quoted, kind = classify(p)
        groups.setdefault((src, dst, kind), []).append((ttl, quoted))
    return groups


PROBE_KINDS = {"tcp": ("TCP SYN",), "udp": ("UDP",),
               "icmp": ("ICMP echo-request", "ICMPv6 echo-request", "UDP to port 7")}


def probe_ttls(groups, src, dst, protocol):
    ttls = []
    for (s, d, kind), vals in groups.items():
        if s == src and d == dst and kind in PROBE_KINDS[protocol]:
            ttls += [t for t, _ in vals]
    return ttls


def capinfo(path):
    out = subprocess.run(["capinfos", "-t", "-E", "-c", "-M", path], capture_output=True,
                         text=True, check=True).stdout
    info = {}
    for line in out.splitlines():
        k, _, v = line.partition(":")
        info[k.strip()] = v.strip()
    ftype = info.get("File type", "")
    fmt = "pcapng" if "pcapng" in ftype else "pcap"
    prec = "nanosecond" if ("nanosecond" in ftype or "nsec" in ftype) else "microsecond"
    if fmt == "pcapng":
        # dumpcap records the resolution per interface (if_tsresol)
        out = subprocess.run(["capinfos", path], capture_output=True, text=True,
                             check=True).stdout
        m = re.search(r"File timestamp precision:\s+(\w+)", out)
        if m:
            prec = {"nanoseconds": "nanosecond", "microseconds": "microsecond"}.get(m.group(1),
                                                                                     m.group(1))
    encap = info.get("File encapsulation", "")
    linktype = {"ether": "EN10MB", "linux-sll2": "LINUX_SLL2", "linux-sll": "LINUX_SLL",
                "rawip": "RAW"}.get(encap, encap)
    return linktype, prec, fmt, info.get("Number of packets", "")


# ------------------------------------------------------------- tool output

def hops_traceroute(text):
    """traceroute, tcptraceroute, scamper text: lines ' N  addr ...'."""
    hops = {}
    for line in text.splitlines():
        m = re.match(r"^\s*(\d+)\s+(.*)$", line)
        if not m:
            continue
        addrs = []
        for tok in m.group(2).split():
            if re.match(r"^[0-9a-fA-F:.]+(%\S+)?$", tok) and (":" in tok or tok.count(".") == 3):
                if tok not in addrs:
                    addrs.append(tok)
        hops[int(m.group(1))] = "|".join(addrs) if addrs else "*"
    return hops


def hops_mtr(text):
    hops = {}
    for line in text.splitlines():
        m = re.match(r"^\s*(\d+)\.\|--\s+(\S+)", line)
        if m:
            hops[int(m.group(1))] = "*" if m.group(2) == "???" else m.group(2)
    return hops


def hops_hping3(text):
    """hping3 --traceroute: 'hop=N TTL 0 during transit from ip=X' for a time
    exceeded; 'len=.. ip=X ... flags=SA seq=K' for other answers. hping3
    raises the TTL only after a time exceeded (the captures show it: TTLs
    1,2,3,4,5,5,5,5 in routed, 1 x 8 in slirp), so an answer that is not a
    time exceeded belongs to the TTL after the last hop printed."""
    hops = {}
    last = 0
    for line in text.splitlines():
        m = re.match(r"^hop=(\d+) TTL 0 during transit from ip=(\S+)", line)
        if m:
            last = int(m.group(1))
            hops.setdefault(last, m.group(2))
            continue
        m = re.match(r"^len=\d+ ip=(\S+) ", line)
        if m:
            hops.setdefault(last + 1, m.group(1))
    for ttl in range(1, max(hops) if hops else 0):
        hops.setdefault(ttl, "*")
    return hops


def printed_hops(tool, text):
    if tool.startswith("mtr"):
        hops = hops_mtr(text)
    elif tool.startswith("hping3"):
        hops = hops_hping3(text)
    else:
        hops = hops_traceroute(text)
    return ",".join(hops[k] for k in sorted(hops))


# ------------------------------------------------------------------ manifest

COLUMNS = ["scenario", "ip_version", "tool", "protocol", "capture", "side", "interface",
           "pair_capture", "frames",
           "guest_address", "target_address", "probe_source_in_capture", "true_router_hops",
           "true_hop_addresses", "true_distance", "expected_verdict", "expected_direction", "expected_reset_ttl",
           "expected_ingress_ttl",
           "expected_verdict_guest_only", "expected_hops_as_printed", "probe_ttls_in_capture",
           "linktype", "timestamp_precision", "file_format", "packets", "tool_output", "command",
           "notes", "host_capture_point"]

# host_capture_point (host rows): where on the host the capture was taken.
#   uplink      the host's outside interface h-r1: shows what left the host
#   any         tcpdump -i any in tsl-host (h-r1 and, in the kernel scenarios, h-g)
#   guest-side  the host's end of the guest link, h-g (a hypervisor's tap, vnet or
#               bridge port): every probe still has the guest's TTL, so it cannot
#               show the TTL the probes left the host with; with such a pair the
#               reset TTL is not known (expected_reset_ttl empty), direction and
#               verdict are still the scenario's
# Guest rows leave it empty. test_accuracy analyses a guest-side host capture
# with its guest capture (pair_capture) and checks the host row's expectations.

CAPTURE_FILES = [  # file, side, interface (None: the run's own), notes
    ("guest.pcap", "guest", None, ""),
    ("host.pcap", "host", None, ""),
    ("guest-any.pcap", "guest", "any",
     "tcpdump -i any -y LINUX_SLL2 in the guest, recorded at the same time as guest.pcap"),
    ("guest-nano.pcap", "guest", None,
     "tcpdump --time-stamp-precision=nano, recorded at the same time as guest.pcap"),
    ("guest.pcapng", "guest", None, "dumpcap (pcapng), recorded at the same time as guest.pcap"),
    ("host-any.pcap", "host", "any",
     "tcpdump -i any -y LINUX_SLL2 in tsl-host, recorded at the same time as host.pcap"),
    ("host-guestside.pcap", "host", HOST_GUEST_IF,
     "tcpdump on h-g in tsl-host, the host's end of the guest veth (where a hypervisor's tap, vnet "
     "or bridge port is), recorded at the same time as guest.pcap and host.pcap: the probes with "
     "the guest's own TTLs, the answers as they go to the guest"),
]


def read_tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def lab_rows(samples, warnings, fact_rows, subdir="lab"):
    index = os.path.join(samples, subdir, "runs.tsv")
    if not os.path.exists(index):
        return []
    runs = read_tsv(index)
    order_s = {s: i for i, s in enumerate(SCENARIO_ORDER)}
    order_t = {t: i for i, t in enumerate(TOOL_ORDER)}
    runs.sort(key=lambda r: (order_s.get(r["scenario"], 99), int(r["ip_version"]),
                             order_t.get(r["tool"], 99)))
    rows = []
    for run in runs:
        scen, fam, tool, proto = run["scenario"], int(run["ip_version"]), run["tool"], run["protocol"]
        verdict, direction, reset, alone, reason = EXPECTED[(scen, fam, proto)]
        routers, path = true_path(scen, fam)
        if not path:
            path = [run["target_address"]]
        out_rel = os.path.join(run["dir"], "output.txt")
        with open(os.path.join(samples, out_rel), errors="replace") as f:
            printed = printed_hops(tool, f.read())
        for fname, side, iface, vnote in CAPTURE_FILES:
            rel = os.path.join(run["dir"], fname)
            path_abs = os.path.join(samples, rel)
            if not os.path.exists(path_abs):
                continue
            linktype, prec, fmt, npkts = capinfo(path_abs)
            groups = facts(path_abs)
            for (s, d, kind), vals in groups.items():
                fact_rows.append([rel, side, s, d, kind, str(len(vals)),
                                  counted([t for t, _ in vals]), counted([q for _, q in vals])])
            point = ""
            if side == "host":
                point = {"any": "any", HOST_GUEST_IF: "guest-side"}.get(iface, "uplink")
            row_reset = reset
            if point == "guest-side" and reset:
                vnote += ("; the probes left h-r1 with TTL %s (host.pcap of this run), which a capture "
                          "on h-g cannot show: expected_reset_ttl is empty (with this host capture the "
                          "reset TTL is not known)" % reset)
                row_reset = ""
            if side == "guest" or scen == "routed" or point == "guest-side":
                psrc = run["guest_address"]
            else:
                psrc = HOST_UPLINK[fam]
            ttls = probe_ttls(groups, psrc, run["target_address"], proto)
            if iface == "any" and side == "host" and scen not in USERSPACE:
                # -i any on a kernel NAT host also sees the guest-facing link
                ttls_guest_link = probe_ttls(groups, run["guest_address"], run["target_address"], proto)
                vnote += ("; holds both the guest-facing link h-g (probes from %s, TTLs %s) and the "
                          "uplink h-r1 (probes from %s, TTLs in probe_ttls_in_capture)"
                          % (run["guest_address"], counted(ttls_guest_link), psrc))
            check(warnings, rel, side if point != "guest-side" else "guest", verdict, direction,
                  reset, ttls, scen, fam, proto)
            notes = reason
            if vnote:
                notes += "; " + vnote
            if tool in TOOL_NOTES:
                notes += "; " + TOOL_NOTES[tool]
            if printed == "":
                notes += "; the tool printed no hop line (nothing answered)"
            if side == "host" and scen in ("slirp-noping",) and proto == "icmp" and fam == 4:
                notes += "; host-side probes are UDP datagrams to port 7"
            if subdir == "extra" and scen != "onlink-wide":
                notes += ("; extra run (record-lab.sh extra guestside): the matrix scenario recorded "
                          "again with a third capture, host-guestside.pcap on h-g")
            pair = os.path.join(run["dir"], "host.pcap" if side == "guest" else "guest.pcap")
            if not os.path.exists(os.path.join(samples, pair)):
                pair = ""
            rows.append({
                "scenario": scen, "ip_version": str(fam), "tool": tool, "protocol": proto,
                "capture": rel, "side": side,
                "interface": iface or (run["guest_if"] if side == "guest" else run["host_if"]),
                "pair_capture": pair,
                "frames": "all",
                "guest_address": run["guest_address"], "target_address": run["target_address"],
                "probe_source_in_capture": psrc, "true_router_hops": str(len(routers)),
                "true_hop_addresses": ",".join(path), "expected_verdict": verdict,
                "expected_direction": direction, "expected_reset_ttl": row_reset,
                "expected_verdict_guest_only": alone if side == "guest" else "",
                "expected_hops_as_printed": printed, "probe_ttls_in_capture": counted(ttls),
                "linktype": linktype, "timestamp_precision": prec, "file_format": fmt,
                "packets": npkts, "tool_output": out_rel, "command": run["command"],
                "notes": notes, "host_capture_point": point,
            })
    return rows


def check(warnings, rel, side, verdict, direction, reset, ttls, scen, fam, proto):
    """Compare the probes' TTLs in a capture with the lab's design."""
    if not ttls:
        if not (scen in ("slirp", "slirp-noping") and fam == 6 and proto == "icmp" and side == "host"):
            warnings.append("%s: no probes found" % rel)
        return
    vals = [int(t) for t in ttls]
    if side == "guest":
        if min(vals) != 1:
            warnings.append("%s: guest probes do not start at TTL 1 (%s)" % (rel, counted(ttls)))
        return
    if direction in ("egress", "both"):
        if set(vals) != {int(reset)}:
            warnings.append("%s: expected every probe to leave with TTL %s, saw %s"
                            % (rel, reset, counted(ttls)))
    else:
        if len(set(vals)) < 2 or min(vals) > 2:
            warnings.append("%s: expected probes to keep their TTL (less one), saw %s"
                            % (rel, counted(ttls)))


LEGACY_DIRECTION = {("slirp", "tcp"): "both", ("slirp", "icmp"): "both",
                    ("slirp", "udp"): "ingress"}
LEGACY_FRAMES = {  # samples/README.md, trace frame ranges
    ("slirp/guest.pcap", "tcp"): "1-53", ("slirp/guest.pcap", "icmp"): "54-87",
    ("slirp/guest.pcap", "udp"): "88-119", ("slirp/host.pcap", "tcp"): "1-104",
    ("slirp/host.pcap", "icmp"): "105-138", ("slirp/host.pcap", "udp"): "139-164",
    ("routed/guest.pcap", "tcp"): "1-74", ("routed/guest.pcap", "icmp"): "75-130",
    ("routed/guest.pcap", "udp"): "131-162", ("routed/host.pcap", "tcp"): "1-66",
    ("routed/host.pcap", "icmp"): "67-116", ("routed/host.pcap", "udp"): "117-142",
}
LEGACY_COMMAND = {"tcp": "traceroute -n -T -p 80 -m 10 203.0.113.10",
                  "icmp": "traceroute -n -I -m 10 203.0.113.10",
                  "udp": "traceroute -n -m 10 203.0.113.10"}


def legacy_rows(samples):
    rows = []
    for g in read_tsv(os.path.join(samples, "ground-truth.tsv")):
        scen, proto = g["scenario"], g["protocol"]
        path = os.path.join(samples, g["capture"])
        linktype, prec, fmt, npkts = capinfo(path)
        if scen == "slirp":
            routers = ROUTERS[4]
            alone = "ttl-reset" if proto in ("tcp", "icmp") else "no-ttl-reset"
            reason = {"tcp": _slirp_tcp(4)[4], "icmp": EXPECTED[("slirp", 4, "icmp")][4],
                      "udp": EXPECTED[("slirp", 4, "udp")][4]}[proto]
        else:
            routers = ["192.0.2.1"] + ROUTERS[4]
            alone = "no-ttl-reset"
            reason = EXPECTED[("routed", 4, proto)][4]
        rows.append({
            "scenario": scen, "ip_version": "4", "tool": "traceroute-" + proto, "protocol": proto,
            "capture": g["capture"], "side": g["side"],
            "interface": {"guest": "tap0" if scen == "slirp" else "g-h", "host": "h-r1"}[g["side"]],
            "pair_capture": g["capture"].replace(g["side"], "host" if g["side"] == "guest"
                                                 else "guest"),
            "frames": LEGACY_FRAMES[(g["capture"], proto)],
            "guest_address": g["guest_address"], "target_address": g["target_address"],
            "probe_source_in_capture": g["probe_source_in_capture"],
            "true_router_hops": g["true_router_hops"],
            "true_hop_addresses": ",".join(routers + [g["target_address"]]),
            "expected_verdict": g["expected_verdict"],
            "expected_direction": LEGACY_DIRECTION.get((scen, proto), ""),
            "expected_reset_ttl": g["expected_reset_ttl"],
            "expected_verdict_guest_only": alone if g["side"] == "guest" else "",
            "expected_hops_as_printed": g["hop_list_as_printed"], "probe_ttls_in_capture": "",
            "linktype": linktype, "timestamp_precision": prec, "file_format": fmt,
            "packets": npkts, "tool_output": g["tool_output"], "command": LEGACY_COMMAND[proto],
            "notes": "legacy capture (record-lab.sh %s): three traces in one capture, TCP, ICMP, UDP "
                     "about 2 s apart; this one is frames %s; %s"
                     % (scen, LEGACY_FRAMES[(g["capture"], proto)], reason),
            "host_capture_point": "uplink" if g["side"] == "host" else "",
        })
    return rows


# The TTL (hop limit) the lab's nft rules give everything sent to the guest: the
# inbound half of a reset, which tells the classic NAT mode from a NAT Network.
# The other scenarios set none (the user-space NATs' own TTLs are the software's).
INGRESS_SET_BY_LAB = {"nat-classic": "64", "nat-network": "255"}


def true_distance(scenario, router_hops):
    """The TTL a probe needs to reach the target when its TTL is kept: the
    routers, then the target. libslirp adds one hop of its own: it sends UDP on
    with the guest's TTL less one and answers TTL 1 itself from its gateway
    address (the slirp UDP traces show it), so through slirp the target needs
    one more. pasta and the kernel scenarios add nothing beyond their routers
    (in the kernel scenarios the host is one of them)."""
    return str(int(router_hops) + 1 + (1 if scenario in ("slirp", "slirp-noping") else 0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--check", action="store_true", help="exit 1 on any warning")
    a = ap.parse_args()
    warnings, fact_rows = [], []
    rows = []
    if os.path.exists(os.path.join(a.samples, "ground-truth.tsv")):
        rows += legacy_rows(a.samples)
    facts_by_dir = {}
    for subdir in ("lab", "extra"):
        facts_by_dir[subdir] = []
        rows += lab_rows(a.samples, warnings, facts_by_dir[subdir], subdir)
    for row in rows:
        row["true_distance"] = true_distance(row["scenario"], row["true_router_hops"])
        row["expected_ingress_ttl"] = (INGRESS_SET_BY_LAB.get(row["scenario"], "")
                                       if row["side"] == "guest" else "")
    with open(os.path.join(a.samples, "manifest.tsv"), "w", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    for subdir, frows in facts_by_dir.items():
        if not os.path.exists(os.path.join(a.samples, subdir, "runs.tsv")):
            continue
        fact_rows += frows
        with open(os.path.join(a.samples, subdir, "ttl-facts.tsv"), "w", newline="") as f:
            w = csv.writer(f, delimiter="\t", lineterminator="\n")
            w.writerow(["capture", "side", "src", "dst", "kind", "count", "ttls", "quoted_ttls"])
            w.writerows(frows)
    for msg in warnings:
        print("warning: " + msg, file=sys.stderr)
    print("manifest.tsv: %d rows; ttl-facts.tsv (lab, extra): %d rows; %d warnings"
          % (len(rows), len(fact_rows), len(warnings)), file=sys.stderr)
    return 1 if (a.check and warnings) else 0


if __name__ == "__main__":
    sys.exit(main())
