#!/usr/bin/env python3
"""Compares the analyzer's report.xml with gencap's ground truth.

    check_truth.py TRUTH.tsv REPORT.xml NAME [DISAGREEMENTS.tsv]

A trace is matched by (protocol, source, destination): gencap never traces
the same guest and destination twice in one file, so the key is unique.
Prints machine lines "bench<TAB>NAME.truth.KEY<TAB>VALUE<TAB>UNIT" on stdout,
and writes every disagreement, one per line, to DISAGREEMENTS.tsv (when given)
with what was expected and what the report says, so a person can look the
trace up in Wireshark from its first frame.
"""
import csv
import sys
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict


def load_truth(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def load_report(path):
    traces = defaultdict(list)
    root = ET.parse(path).getroot()
    for t in root.iterfind("traces/trace"):
        hops = sorted(t.iterfind("hop"), key=lambda h: int(h.get("ttl")))
        key = (t.get("protocol"), t.get("source"), t.get("destination"))
        traces[key].append({
            "verdict": t.get("verdict"),
            "confidence": t.get("confidence", ""),
            "reason": (t.findtext("reason") or "").strip(),
            "hops": ",".join(h.get("address") or "*" for h in hops),
            "probes": t.get("probes"),
        })
    return traces


def further_from_elsewhere(row, by_destination):
    """The highest TTL at which another guest's healthy-looking trace reached the same destination.

    A diagnosis that borrows that distance for this guest's trace calls a healthy trace reset."""
    mine = int(row["path_ttl"])
    best = 0
    for other in by_destination[row["destination"]]:
        collapses = other["nat"] == "yes" and other["protocol"] != "udp"
        ttl = int(other["path_ttl"])
        if other["source"] != row["source"] and not collapses and ttl > mine:
            best = max(best, ttl)
    return best


def category(row):
    nat = "nat" if row["nat"] == "yes" else "routed"
    return f"{row['protocol']}-{row['family']}-{nat}"


def main(argv):
    if len(argv) not in (4, 5):
        sys.stderr.write(__doc__)
        return 2
    truth_path, report_path, name = argv[1:4]
    truth = load_truth(truth_path)
    report = load_report(report_path)

    by_destination = defaultdict(list)
    for row in truth:
        by_destination[row["destination"]].append(row)

    matched = verdict_ok = hops_ok = split = 0
    by_category = defaultdict(Counter)
    wrong_verdicts = Counter()
    borrowed = 0
    disagreements = []
    for row in truth:
        key = (row["protocol"], row["source"], row["destination"])
        found = report.get(key, [])
        cat = by_category[category(row)]
        cat["expected"] += 1
        if not found:
            disagreements.append((row, None, "missing"))
            continue
        matched += 1
        cat["matched"] += 1
        split += len(found) > 1
        got = found[0]
        problems = []
        if got["verdict"] == row["expected_verdict"]:
            verdict_ok += 1
            cat["verdict_ok"] += 1
        else:
            problems.append("verdict")
            wrong_verdicts[(row["expected_verdict"], got["verdict"])] += 1
            borrowed += further_from_elsewhere(row, by_destination) > 0
        if got["hops"] == row["hops"]:
            hops_ok += 1
            cat["hops_ok"] += 1
        else:
            problems.append("hops")
        if len(found) > 1:
            problems.append(f"split-into-{len(found)}")
        if problems:
            disagreements.append((row, got, "+".join(problems)))

    truth_keys = {(r["protocol"], r["source"], r["destination"]) for r in truth}
    extra = sum(len(v) for k, v in report.items() if k not in truth_keys)

    expected = len(truth)

    def line(key, value, unit):
        print(f"bench\t{name}.truth.{key}\t{value}\t{unit}")

    def percent(n, d):
        return f"{100.0 * n / d:.1f}" if d else "n/a"

    line("expected", expected, "traces")
    line("matched", matched, "traces")
    line("verdict_agree", verdict_ok, "traces")
    line("hops_agree", hops_ok, "traces")
    line("extra", extra, "traces")
    line("split", split, "traces")
    line("matched_pct", percent(matched, expected), "%")
    line("verdict_agree_pct", percent(verdict_ok, matched), "%")
    line("hops_agree_pct", percent(hops_ok, matched), "%")
    for cat, c in sorted(by_category.items()):
        line(f"verdict_agree.{cat}", f"{c['verdict_ok']}/{c['expected']}", "traces")
    for (want, got), n in sorted(wrong_verdicts.items()):
        line(f"verdict_confusion.{want}->{got}", n, "traces")
    line("verdict_wrong_other_source_further", borrowed, "traces")

    if len(argv) == 5:
        with open(argv[4], "w", newline="") as f:
            w = csv.writer(f, delimiter="\t", lineterminator="\n")
            w.writerow(["problem", "trace", "protocol", "family", "source", "destination",
                        "nat", "expected_verdict", "found_verdict", "confidence",
                        "expected_hops", "found_hops", "first_frame",
                        "other_source_reaches_ttl", "path_ttl", "reason"])
            for row, got, problem in disagreements:
                got = got or {}
                w.writerow([problem, row["trace"], row["protocol"], row["family"],
                            row["source"], row["destination"], row["nat"],
                            row["expected_verdict"], got.get("verdict", ""),
                            got.get("confidence", ""), row["hops"], got.get("hops", ""),
                            row["first_frame"], further_from_elsewhere(row, by_destination) or "",
                            row["path_ttl"], got.get("reason", "")])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
