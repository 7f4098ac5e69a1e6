#!/usr/bin/env python3
"""Recall of govkit lint against clippy's restriction lints.

For each crate of the corpus (scripts/lint-bench/corpus.sh), run clippy on
its library code with only `unwrap_used`, `expect_used` and `panic` enabled,
run `govkit lint` with the matching rules on the same crate, and count the
clippy findings that govkit also reports (same file and rule, govkit's line
inside clippy's span or the span of a macro expansion it came from).

Usage: accuracy.py GOVKIT CORPUS_DIR [CRATE...]
"""
import json
import os
import shutil
import subprocess
import sys

RULES = {"clippy::unwrap_used": "unwrap-used", "clippy::expect_used": "expect-used", "clippy::panic": "panic"}
# Features that compile on stable for the crates of the corpus.
FEATURES = {"tokio": ["--features", "full"], "hyper": ["--features", "full"], "syn": ["--features", "full"]}


def clippy(crate_dir, name, target):
    feats = FEATURES.get(name, [])
    cmd = ["cargo", "clippy", "--lib", "--quiet", "--message-format=json", *feats, "--",
           "-A", "clippy::all",
           "-W", "clippy::unwrap_used", "-W", "clippy::expect_used", "-W", "clippy::panic"]
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    out = subprocess.run(cmd, cwd=crate_dir, env=env, capture_output=True, text=True)
    findings = []
    for line in out.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") != "compiler-message":
            continue
        m = msg["message"]
        code = (m.get("code") or {}).get("code")
        if code not in RULES:
            continue
        spans = []
        for s in m["spans"]:
            while s:
                if not os.path.isabs(s["file_name"]):
                    spans.append((os.path.normpath(s["file_name"]), s["line_start"], s["line_end"]))
                s = (s.get("expansion") or {}).get("span")
        if spans:
            findings.append((RULES[code], spans))
    if out.returncode != 0 and not findings:
        sys.stderr.write(f"clippy failed on {name}:\n{out.stderr[-2000:]}\n")
    return findings


def govkit(binary, crate_dir):
    cmd = [binary, "lint", "--format", "json", "--rule", "unwrap-used", "--rule", "expect-used", "--rule", "panic", "."]
    out = subprocess.run(cmd, cwd=crate_dir, capture_output=True, text=True)
    doc = json.loads(out.stdout)
    found = {}
    for f in doc["findings"]:
        found.setdefault((f["rule"], os.path.normpath(f["path"])), set()).add(f["line"])
    return found


def main():
    binary, corpus = os.path.abspath(sys.argv[1]), sys.argv[2]
    crates_dir = os.path.join(corpus, "crates")
    names = sys.argv[3:] or sorted(
        d for d in os.listdir(crates_dir) if os.path.isfile(os.path.join(crates_dir, d, "Cargo.toml")))
    target = os.path.join(corpus, "clippy-target")
    total = matched = 0
    for dirname in names:
        name = dirname.rsplit("-", 1)[0]
        # Build a private copy: clippy writes a Cargo.lock next to the manifest.
        work = os.path.join(corpus, "clippy-work", dirname)
        if not os.path.isdir(work):
            shutil.copytree(os.path.join(crates_dir, dirname), work)
        clippy_findings = clippy(work, name, target)
        ours = govkit(binary, work)
        hit = 0
        missed = []
        for rule, spans in clippy_findings:
            ok = any(lo <= line <= hi
                     for (path, lo, hi) in spans
                     for line in ours.get((rule, path), ()))
            hit += ok
            if not ok:
                missed.append((rule, spans[0]))
        total += len(clippy_findings)
        matched += hit
        print(f"{dirname:28} clippy {len(clippy_findings):5}  govkit also {hit:5}")
        for rule, span in missed[:10]:
            print(f"    missed {rule} at {span[0]}:{span[1]}")
    if total:
        print(f"{'total':28} clippy {total:5}  govkit also {matched:5}  recall {matched / total:.4f}")


if __name__ == "__main__":
    main()
