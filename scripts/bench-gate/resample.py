#!/usr/bin/env python3
"""Rates of the paired verdict too small to count in whole runs, estimated
by resampling measured rounds.

Reads the JSON of one long `govkit bench --against REV --count N` run (N
well above the 10 rounds a comparison uses; each benchmark's
`time_ns.runs` and `old_time_ns.runs` are its rounds, in order) and draws
10-round comparisons from those rounds (subsets, without replacement, so
no round counts twice), applying
govkit's paired verdict exactly as `bench_gate::gate::compare_paired`
does: Wilcoxon signed-rank p < alpha and the Hodges-Lehmann interval at
1 - alpha reaching min-effect. Prints, per benchmark, the share of draws
flagged `regressed`.

This assumes rounds are independent of each other (the drift the pairing
cancels is what makes that hold); the whole-run counts of aa.sh check it.

usage: govkit bench --against HEAD~1 --count 60 --format json > long.json
       scripts/bench-gate/resample.py long.json [DRAWS] [ROUNDS] [ALPHA] [MIN_EFFECT]
"""
import json
import math
import random
import sys


def signed_rank_distribution(n):
    top = n * (n + 1) // 2
    f = [0.0] * (top + 1)
    f[0] = 1.0
    for r in range(1, n + 1):
        for w in range(top, r - 1, -1):
            f[w] += f[w - r]
    return f


def signed_rank_p(d, dist):
    """Exact two-sided p (no ties or zeros among floats in practice)."""
    d = [x for x in d if x != 0.0]
    n = len(d)
    if n == 0:
        return 1.0
    order = sorted(range(n), key=lambda i: abs(d[i]))
    w_plus = sum(rank + 1 for rank, i in enumerate(order) if d[i] > 0)
    total = n * (n + 1) // 2
    w = min(w_plus, total - w_plus)
    all_ = sum(dist)
    return min(1.0, 2.0 * sum(dist[: w + 1]) / all_)


def hodges_lehmann(d, alpha, dist):
    n = len(d)
    walsh = sorted((d[i] + d[j]) / 2 for i in range(n) for j in range(i, n))
    m = len(walsh)
    mid = m // 2
    est = walsh[mid] if m % 2 else (walsh[mid - 1] + walsh[mid]) / 2
    all_ = sum(dist)
    cum, t = 0.0, None
    for w, c in enumerate(dist):
        cum += c
        if cum / all_ <= alpha / 2:
            t = w
        else:
            break
    if t is None or t + 1 > m // 2:
        return None
    k = t + 1
    return est, walsh[k - 1], walsh[m - k]


def verdict(d, alpha, min_effect, dist):
    p = signed_rank_p(d, dist)
    hl = hodges_lehmann(d, alpha, dist)
    if hl is None:
        return "unchanged"
    est, lo, hi = hl
    threshold = math.log(1 + min_effect)
    if p < alpha and est > 0 and hi >= threshold:
        return "regressed"
    if p < alpha and est < 0 and lo <= -threshold:
        return "improved"
    return "unchanged"


def main():
    doc = json.load(open(sys.argv[1]))
    draws = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    alpha = float(sys.argv[4]) if len(sys.argv) > 4 else 0.05
    min_effect = float(sys.argv[5]) if len(sys.argv) > 5 else 0.05
    dist = signed_rank_distribution(rounds)
    rng = random.Random(1)
    print(f"{draws} draws of {rounds} rounds, alpha {alpha}, min-effect {min_effect}")
    for b in doc["benchmarks"]:
        new = b["time_ns"]["runs"]
        old = (b.get("old_time_ns") or {}).get("runs") or []
        d = [math.log(n / o) for n, o in zip(new, old) if n > 0 and o > 0]
        if len(d) < rounds:
            continue
        flagged = sum(
            verdict(rng.sample(d, rounds), alpha, min_effect, dist)
            == "regressed"
            for _ in range(draws)
        )
        mean = sum(d) / len(d)
        sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (len(d) - 1))
        print(
            f"{b['id']:<10} {len(d)} rounds, mean log ratio {mean * 100:+.2f} %, sd {sd * 100:.2f} %:"
            f" flagged regressed in {flagged}/{draws} = {flagged / draws:.4f}"
        )


if __name__ == "__main__":
    main()
