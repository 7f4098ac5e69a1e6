#!/usr/bin/env python3
"""Wall time of two govkit builds and ast-grep in interleaved rounds.

On a noisy machine, runs of one command after another drift apart; rounds
that run each command once, alternating the order, give each build the same
conditions. Prints the median wall time of each, the median of the paired
ratio NEW/OLD with its interquartile range, and each build against
ast-grep (five patterns, scripts/lint-bench/astgrep-rules.yml).

Usage: paired.py OLD_GOVKIT NEW_GOVKIT [CORPUS_DIR] [--rounds N]
       (corpus from corpus.sh, default /tmp/govkit-lint-corpus; ast-grep from
       PATH or ASTGREP)
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("corpus", nargs="?", default="/tmp/govkit-lint-corpus")
    ap.add_argument("--rounds", type=int, default=25)
    a = ap.parse_args()
    astgrep = os.environ.get("ASTGREP") or shutil.which("ast-grep") or "/opt/astgrep/node_modules/.bin/ast-grep"
    crates = os.path.join(a.corpus, "crates")
    if not os.path.isdir(crates) or not os.access(astgrep, os.X_OK):
        sys.exit("need the corpus (scripts/lint-bench/corpus.sh) and ast-grep (npm @ast-grep/cli, or ASTGREP)")
    rules = open(os.path.join(HERE, "astgrep-rules.yml")).read()
    cmds = {
        "old": [a.old, "lint", "--no-cache", "--format", "json", "."],
        "new": [a.new, "lint", "--no-cache", "--format", "json", "."],
        "ast-grep": [astgrep, "scan", "--inline-rules", rules, "--json=stream", "."],
    }

    def run(cmd):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=crates, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start

    for cmd in cmds.values():
        run(cmd)
    times = {k: [] for k in cmds}
    ratios = []
    for i in range(a.rounds):
        order = list(cmds) if i % 2 == 0 else list(reversed(cmds))
        got = {k: run(cmds[k]) for k in order}
        for k, t in got.items():
            times[k].append(t)
        ratios.append(got["new"] / got["old"])
    med = {k: statistics.median(v) for k, v in times.items()}
    q = statistics.quantiles(ratios, n=4)
    for k, t in med.items():
        print(f"{k:9} median {t:.3f} s   vs ast-grep {t / med['ast-grep']:.2f}")
    print(f"new/old paired: median {statistics.median(ratios):.3f}, interquartile {q[0]:.3f}-{q[2]:.3f} ({a.rounds} rounds)")


if __name__ == "__main__":
    main()
