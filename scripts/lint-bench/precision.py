#!/usr/bin/env python3
"""Precision of govkit lint's rules on real crates, step 2 (after precision.sh).

Reads DIR/out/*.json (one `govkit lint --format json` report per crate),
writes DIR/findings.tsv (rule, crate, path, line, trimmed source line), draws
a deterministic sample per rule (findings ordered by a salted hash of
`rule|crate|path|line`, first SAMPLE of each rule; several findings of one
rule on one line count once), scores it against the hand labels in
precision-labels.tsv (rule, crate, path, line, tp|fp, reason) and prints per
rule: findings, sampled, labelled, tp, fp, precision = tp / labelled with a
Wilson 95 % interval, then the sampled findings still unlabelled.

Usage: precision.py [DIR] [--labels FILE] [--json OUT]
       (default DIR /tmp/govkit-precision, FILE precision-labels.tsv beside this script)
"""
import argparse
import csv
import hashlib
import json
import math
import os
import sys

SEED = "govkit-precision-1"
SAMPLE = 25
HERE = os.path.dirname(os.path.abspath(__file__))


def wilson(k, n, z=1.96):
    """Wilson score interval for k successes out of n."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, mid - half), min(1.0, mid + half))


def load_findings(d):
    """(rule, crate, path, line, source line) for every finding of every report."""
    rows, lines_cache = [], {}
    for name in sorted(os.listdir(os.path.join(d, "out"))):
        if not name.endswith(".json"):
            continue
        crate = name[: -len(".json")]
        with open(os.path.join(d, "out", name)) as f:
            report = json.load(f)
        for x in report["findings"]:
            path = os.path.normpath(x["path"])
            full = os.path.join(d, "crates", crate, path)
            if full not in lines_cache:
                try:
                    with open(full, encoding="utf-8", errors="replace") as src:
                        lines_cache[full] = src.read().splitlines()
                except OSError:
                    lines_cache[full] = []
            text = lines_cache[full]
            line = int(x["line"])
            code = text[line - 1].strip() if 0 < line <= len(text) else ""
            rows.append((x["rule"], crate, path, line, code))
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    return rows


def sample(rows):
    """Per rule, the SAMPLE distinct locations with the smallest salted hash."""
    by_rule = {}
    for r in rows:
        by_rule.setdefault(r[0], {})[r[:4]] = r
    out = {}
    for rule, locs in by_rule.items():
        key = lambda k: hashlib.sha256(f"{SEED}|{k[0]}|{k[1]}|{k[2]}|{k[3]}".encode()).hexdigest()
        out[rule] = [locs[k] for k in sorted(locs, key=key)[:SAMPLE]]
    return out


def load_labels(path):
    labels = {}
    if not os.path.exists(path):
        return labels
    with open(path, newline="") as f:
        for row in csv.reader(f, delimiter="\t"):
            if not row or row[0].startswith("#") or row[0] == "rule":
                continue
            rule, crate, p, line, label = row[:5]
            if label not in ("tp", "fp"):
                sys.exit(f"{path}: label must be tp or fp, got {label!r} in {row}")
            labels[(rule, crate, os.path.normpath(p), int(line))] = (label, row[5] if len(row) > 5 else "")
    return labels


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", default="/tmp/govkit-precision")
    ap.add_argument("--labels", default=os.path.join(HERE, "precision-labels.tsv"))
    ap.add_argument("--json", metavar="OUT")
    a = ap.parse_args()

    rows = load_findings(a.dir)
    with open(os.path.join(a.dir, "findings.tsv"), "w") as f:
        f.write("rule\tcrate\tpath\tline\tcode\n")
        for r in rows:
            f.write("\t".join(str(v).replace("\t", " ") for v in r) + "\n")
    counts = {}
    for r in rows:
        counts[r[0]] = counts.get(r[0], 0) + 1
    samples = sample(rows)
    labels = load_labels(a.labels)

    print(f"{len(rows)} findings in {a.dir}/findings.tsv; sample of {SAMPLE} per rule, seed {SEED!r}\n")
    print(f"{'rule':24} {'findings':>8} {'sampled':>7} {'labelled':>8} {'tp':>4} {'fp':>4}  precision  95% CI")
    figures, unlabelled = {}, []
    for rule in sorted(samples):
        got = [labels[r[:4]][0] for r in samples[rule] if r[:4] in labels]
        unlabelled += [r for r in samples[rule] if r[:4] not in labels]
        tp, fp = got.count("tp"), got.count("fp")
        lo, hi = wilson(tp, len(got))
        prec = tp / len(got) if got else None
        shown = f"{prec:9.2f}  [{lo:.2f}, {hi:.2f}]" if got else f"{'-':>9}"
        print(f"{rule:24} {counts[rule]:8} {len(samples[rule]):7} {len(got):8} {tp:4} {fp:4}  {shown}")
        figures[rule] = {"findings": counts[rule], "sampled": len(samples[rule]), "labelled": len(got),
                         "tp": tp, "fp": fp, "precision": prec, "wilson95": [lo, hi] if got else None}
    sampled = {r[:4] for rows_ in samples.values() for r in rows_}
    stale = [k for k in labels if k not in sampled]
    if stale:
        print(f"\n{len(stale)} labels match no sampled finding (the rules changed since labelling); ignored")
    if unlabelled:
        print(f"\n{len(unlabelled)} sampled findings without a label (rule, crate, path, line, code):")
        for r in unlabelled:
            print("\t".join(str(v) for v in r))
    else:
        print("\nevery sampled finding is labelled")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seed": SEED, "sample": SAMPLE, "rules": figures}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
