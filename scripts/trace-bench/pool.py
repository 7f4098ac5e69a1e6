#!/usr/bin/env python3
"""Pools overhead.sh runs saved with RATES_OUT=FILE: every round of every
run is one paired ratio (a variant's rate over the untraced rate of the
same round of the same run); prints, per variant, the number of rounds,
the median ratio with its 25th-75th percentiles, and a 95 % bootstrap
interval of the median (resampling rounds). The same for the ratio of CPU
time per connection.

    pool.py FILE [VARIANT...]
"""
import random
import statistics
import sys

rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
rates, busy = {}, {}
for run, rnd, variant, rate, jiffies in rows:
    key = (run, rnd)
    rates.setdefault(variant, {})[key] = float(rate)
    busy.setdefault(variant, {})[key] = int(jiffies) / max(float(rate), 1.0)
base, cbase = rates["untraced"], busy["untraced"]
names = sys.argv[2:] or sorted(v for v in rates if v != "untraced")


def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * (len(xs) - 1) + 0.5))]


def interval(xs, n=2000):
    rng = random.Random(1)
    medians = sorted(statistics.median(rng.choices(xs, k=len(xs))) for _ in range(n))
    return medians[int(0.025 * n)], medians[int(0.975 * n)]


print(f"{'':16}{'rounds':>7}{'ratio':>8}{'p25-p75':>14}{'95% CI':>14}{'CPU ratio':>11}{'95% CI':>14}")
for name in names:
    keys = [k for k in rates.get(name, {}) if k in base]
    if not keys:
        continue
    ratios = [rates[name][k] / base[k] for k in keys]
    cratios = [cbase[k] / busy[name][k] for k in keys]
    lo, hi = interval(ratios)
    clo, chi = interval(cratios)
    print(f"{name:16}{len(keys):7}{statistics.median(ratios):8.3f}"
          f"{q(ratios, .25):7.3f}-{q(ratios, .75):.3f}{lo:7.3f}-{hi:.3f}"
          f"{statistics.median(cratios):11.3f}{clo:7.3f}-{chi:.3f}")
