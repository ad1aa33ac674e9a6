#!/usr/bin/env python3
"""Print the TTL facts of the lab captures, per traceroute run.

    python3 samples/summarize-captures.py samples/*/guest.pcap samples/*/host.pcap

Needs tshark. This is how the tables in samples/README.md were derived; run
it after re-recording with record-lab.sh and update the README to match.

A capture holds the three traceroutes of its scenario one after the other
(TCP, ICMP, UDP, started 2 s apart); a gap of more than 1.5 s between two
packets starts a new run. For each run, packets are grouped by
(source, destination, kind) and the outer IP TTLs are counted; for ICMP
errors the TTL of the quoted (inner) IP header is counted too.
"""
import collections
import subprocess
import sys

FIELDS = ["frame.number", "frame.time_relative", "ip.src", "ip.dst",
          "ip.ttl", "ip.proto", "ip.dsfield", "ip.flags.df",
          "tcp.flags.str", "icmp.type", "icmp.code", "icmp.ident",
          "udp.dstport", "_ws.col.Protocol"]
RUN_NAMES = ["tcp", "icmp", "udp"]


def packets(path):
    cmd = ["tshark", "-r", path, "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        yield dict(zip(FIELDS, line.split("\t")))


def nth(value, i):
    parts = value.split(",") if value else []
    return parts[i] if i < len(parts) else ""


def kind_of(p):
    proto, itype = nth(p["ip.proto"], 0), nth(p["icmp.type"], 0)
    if not p["ip.src"]:
        return p["_ws.col.Protocol"]
    if proto == "1" and itype in ("3", "11"):
        return "ICMP %s/%s quoting %s" % (
            itype, nth(p["icmp.code"], 0),
            {"1": "icmp", "6": "tcp", "17": "udp"}.get(nth(p["ip.proto"], 1), "?"))
    if proto == "1":
        return {"0": "ICMP echo-reply", "8": "ICMP echo-request"}.get(itype, "ICMP " + itype)
    if proto == "6":
        return "TCP " + nth(p["tcp.flags.str"], 0).replace("\u00b7", "")
    if proto == "17":
        return "UDP"
    return "proto " + proto


def counted(values):
    c = collections.Counter(v for v in values if v)
    return " ".join("%s×%d" % (v, n) for v, n in sorted(c.items(), key=lambda x: int(x[0])))


def summarize(path):
    print("=====", path)
    runs, last = [], None
    for p in packets(path):
        t = float(p["frame.time_relative"])
        if last is None or t - last > 1.5:
            runs.append([])
        runs[-1].append(p)
        last = t
    for i, run in enumerate(runs):
        name = RUN_NAMES[i] if len(runs) == 3 else "run %d" % (i + 1)
        print("-- %s: frames %s-%s, %d packets" % (
            name, run[0]["frame.number"], run[-1]["frame.number"], len(run)))
        groups = collections.OrderedDict()
        for p in run:
            key = (nth(p["ip.src"], 0), nth(p["ip.dst"], 0), kind_of(p))
            g = groups.setdefault(key, collections.defaultdict(list))
            g["ttl"].append(nth(p["ip.ttl"], 0))
            g["quoted"].append(nth(p["ip.ttl"], 1))
            g["tos"].append(nth(p["ip.dsfield"], 0))
            g["df"].append(nth(p["ip.flags.df"], 0))
            g["id"].append(nth(p["icmp.ident"], 0))
            g["dport"].append(nth(p["udp.dstport"], 0))
        for (src, dst, kind), g in groups.items():
            extra = ""
            if any(g["quoted"]):
                extra += " quoted-ttl[%s]" % counted(g["quoted"])
            if kind.startswith("ICMP echo"):
                ids = sorted(set(g["id"]))
                extra += " icmp-id=%s" % (ids[0] if len(ids) == 1 else "%d distinct" % len(ids))
            if kind == "UDP":
                ports = sorted(int(x) for x in g["dport"] if x)
                extra += " dport %d-%d" % (ports[0], ports[-1])
            print("  %3d  %-13s > %-13s %-24s ttl[%s] tos=%s df=%s%s" % (
                len(g["ttl"]), src, dst, kind, counted(g["ttl"]),
                ",".join(sorted(set(g["tos"]))), ",".join(sorted(set(g["df"]))), extra))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        summarize(path)


if __name__ == "__main__":
    main()
