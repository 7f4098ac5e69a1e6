#!/usr/bin/env python3
"""Agreement of `govkit lint` with clippy's own UI tests.

For each clippy UI test of a lint that govkit mirrors, the expected findings
are clippy's `//~` annotations (`//~ lint` this line, `//~^^ lint` two lines
up, `//~v lint` one line down, `//~| lint` the previous annotation's line,
`//~[rev]^ lint` only in revision `rev`). An annotation without a lint name
(`//~^ ERROR: message`) takes its lint from the `.stderr` file next to the
test, else from the one mapped lint the file enables with `#[warn(clippy::x)]`.
The test file is copied alone into a scratch directory and linted with only
the govkit rules mapped from its lints, with `test-code = "lint"` (clippy
lints `#[test]`/`#[cfg(test)]` code by default). Lines are compared exactly,
as multisets of (line, rule): two findings expected on one line need two.

Usage: clippy-ui.py --clippy DIR [--govkit BIN] [--revision REV] [--details]
                    [--json OUT]
DIR is a rust-clippy worktree or a bare git directory (files are read with
`git show HEAD:PATH`). BIN defaults to target/debug/govkit of this repo. REV
picks the revision of tests that have several (default: the first listed).
Exit 0, or 2 when an input is missing.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

TESTS = [
    "tests/ui/unwrap_expect_used.rs", "tests/ui/panicking_macros.rs",
    "tests/ui/dbg_macro/dbg_macro.rs", "tests/ui/print_stdout.rs",
    "tests/ui/print_stderr.rs", "tests/ui/mem_forget.rs",
    "tests/ui/await_holding_lock.rs", "tests/ui/allow_attributes_without_reason.rs",
    "tests/ui/exit1.rs", "tests/ui/exit2.rs", "tests/ui/exit3.rs", "tests/ui/exit4.rs",
    "tests/ui-toml/undocumented_unsafe_blocks/undocumented_unsafe_blocks.rs",
]
# clippy lint -> govkit rule (None: no govkit counterpart, ignored).
RULES = {
    "unwrap_used": "unwrap-used", "expect_used": "expect-used", "panic": "panic",
    "todo": "todo", "unimplemented": "unimplemented", "unreachable": None,
    "dbg_macro": "dbg-macro", "print_stdout": "print-stdout",
    "print_stderr": "print-stderr", "mem_forget": "mem-forget",
    "await_holding_lock": "lock-across-await",
    "allow_attributes_without_reason": "allow-without-reason", "exit": "process-exit",
    "undocumented_unsafe_blocks": "undocumented-unsafe",
}
LEVELS = {"ERROR", "WARN", "HELP", "NOTE", "SUGGESTION"}
ANNOT = re.compile(r"//~(?:\[([^\]]*)\])?(\||\^+|v+)?\s*(.*)$")
ENABLE = re.compile(r"#!?\[(?:warn|deny|forbid)\(([^\]]*)\)\]")
DIAG = re.compile(r"^(?:error|warning)(?:\[[^\]]*\])?: (.*)$", re.M)


def die(msg):
    sys.stderr.write(f"clippy-ui: {msg}\n")
    sys.exit(2)


def reader(clippy):
    """A function PATH -> text or None, for a worktree or a bare git dir."""
    if os.path.isdir(os.path.join(clippy, "tests")):
        def read(path):
            p = os.path.join(clippy, path)
            return open(p, encoding="utf-8").read() if os.path.isfile(p) else None
        return read
    if os.path.isfile(os.path.join(clippy, "HEAD")) and os.path.isdir(os.path.join(clippy, "objects")):
        def read(path):
            r = subprocess.run(["git", f"--git-dir={clippy}", "show", f"HEAD:{path}"],
                               capture_output=True)
            return r.stdout.decode("utf-8") if r.returncode == 0 else None
        return read
    die(f"{clippy} is neither a rust-clippy checkout (no tests/) nor a git directory")


def stderr_lints(text, name):
    """{line: [(message, lint or None)]} of the diagnostics in a .stderr file."""
    if not text:
        return {}
    diags, by_msg = [], {}
    for block in re.split(r"\n(?=(?:error|warning)[\[:])", text):
        head = DIAG.match(block)
        loc = re.search(r"--> (\S+?):(\d+):\d+", block)
        if not head or not loc or os.path.basename(loc.group(1)) != name:
            continue
        note = re.search(r"`-[DW] clippy::([a-z0-9_-]+)`", block)
        lint = note.group(1).replace("-", "_") if note else None
        if lint:
            by_msg[head.group(1)] = lint
        diags.append((int(loc.group(2)), head.group(1), lint))
    out = collections.defaultdict(list)
    for line, msg, lint in diags:
        out[line].append((msg, lint or by_msg.get(msg)))
    return out


def expected(src, stderr_text, name, revision):
    """(Counter of (line, rule), rules to run, warnings) from the annotations."""
    enabled = {n.strip().removeprefix("clippy::") for m in ENABLE.finditer(src)
               for n in m.group(1).split(",") if n.strip().startswith("clippy::")}
    mapped = {l for l in enabled if RULES.get(l)}
    main = next(iter(mapped)) if len(mapped) == 1 else None
    diags = stderr_lints(stderr_text, name)
    found, warnings, prev = collections.Counter(), [], None
    for no, text in enumerate(src.splitlines(), 1):
        m = ANNOT.search(text)
        if not m:
            continue
        revs, where, what = m.group(1), m.group(2) or "", m.group(3).strip()
        if where == "|":
            line = prev
        elif where.startswith("^"):
            line = no - len(where)
        else:
            line = no + len(where)
        prev = line
        if revs and revision not in [r.strip() for r in revs.split(",")]:
            continue
        word = (what.split(":")[0].split() or [""])[0]
        if word in ("HELP", "NOTE", "SUGGESTION"):
            continue
        if word and word not in LEVELS:
            lint = word.removeprefix("clippy::")
        else:  # no lint name: ask the .stderr, then the file's one lint
            msg = what.partition(":")[2].strip()
            cands = [l for d, l in diags.get(line, []) if l and msg in d]
            lint = cands[0] if cands else main
            if lint is None:
                warnings.append(f"{name}:{no}: cannot tell the lint of `{text.strip()}`")
                continue
        if RULES.get(lint):
            mapped.add(lint)
            found[(line, RULES[lint])] += 1
    return found, sorted({RULES[l] for l in mapped}), warnings


def actual(govkit, scratch, path, rules):
    cmd = [govkit, "--format", "json", "--config", os.path.join(scratch, "govkit.toml"),
           "lint", "--no-cache", *[a for r in rules for a in ("--rule", r)], path]
    out = subprocess.run(cmd, cwd=scratch, capture_output=True, text=True)
    try:
        doc = json.loads(out.stdout)
    except json.JSONDecodeError:
        die(f"govkit gave no JSON for {path} (exit {out.returncode}):\n{out.stderr[-2000:]}")
    found, other = collections.Counter(), []
    for f in doc["findings"]:
        line = f.get("line") or (f.get("location") or {}).get("line")
        if f["code"] in rules:
            found[(line, f["code"])] += 1
        else:
            other.append(f"{os.path.basename(path)}:{line}: {f['code']}: {f['message']}")
    return found, other


def ratio(a, b):
    return round(a / b, 3) if b else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--clippy", required=True, help="rust-clippy worktree or bare git dir")
    ap.add_argument("--govkit", default=os.path.join(here, "..", "..", "target", "debug", "govkit"))
    ap.add_argument("--revision", help="revision for tests with //@revisions (default: first)")
    ap.add_argument("--details", action="store_true", help="list each disagreeing line")
    ap.add_argument("--json", metavar="OUT", help="write the numbers as JSON to OUT")
    args = ap.parse_args()
    if not os.path.isdir(args.clippy):
        die(f"no directory {args.clippy}")
    if not os.access(args.govkit, os.X_OK):
        die(f"no govkit binary at {args.govkit} (build it, or pass --govkit)")
    read = reader(args.clippy)
    rows, details, notes = [], [], []
    with tempfile.TemporaryDirectory(prefix="clippy-ui-") as scratch:
        with open(os.path.join(scratch, "govkit.toml"), "w") as f:
            f.write('[lint]\ntest-code = "lint"\n')
        for test in TESTS:
            src = read(test)
            if src is None:
                notes.append(f"missing in the clippy sources, skipped: {test}")
                continue
            name = os.path.basename(test)
            revs = re.search(r"^//@\s*revisions:(.*)$", src, re.M)
            revs = revs.group(1).split() if revs else []
            rev = (args.revision if args.revision in revs else revs[0]) if revs else None
            if rev:
                notes.append(f"{name}: revision `{rev}` of {', '.join(revs)}")
            stem = test[:-3] + (f".{rev}" if rev else "")
            exp, rules, warns = expected(src, read(stem + ".stderr"), name, rev)
            notes += warns
            path = os.path.join(scratch, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(src)
            got, other = actual(args.govkit, scratch, path, rules)
            notes += [f"not a mapped rule: {o}" for o in other]
            lines = src.splitlines()
            for rule in rules:
                e = collections.Counter({l: n for (l, r), n in exp.items() if r == rule})
                g = collections.Counter({l: n for (l, r), n in got.items() if r == rule})
                agreed = sum((e & g).values())
                ne, ng = sum(e.values()), sum(g.values())
                rows.append({"file": test, "rule": rule, "expected": ne, "reported": ng,
                             "agreed": agreed, "precision": ratio(agreed, ng),
                             "recall": ratio(agreed, ne)})
                for kind, diff in (("missed", e - g), ("extra", g - e)):
                    for l, n in sorted(diff.items()):
                        text = lines[l - 1].strip() if 0 < l <= len(lines) else ""
                        count = f" x{n}" if n > 1 else ""
                        details.append(f"{name}:{l}: {rule}: {kind}{count}: {text}")
    if not rows:
        die("none of the clippy UI tests were found under " + args.clippy)
    te, tr, ta = (sum(r[k] for r in rows) for k in ("expected", "reported", "agreed"))
    totals = {"expected": te, "reported": tr, "agreed": ta,
              "precision": ratio(ta, tr), "recall": ratio(ta, te)}
    width = max(len(r["file"]) for r in rows)
    fmt = "{:<%d} {:<20} {:>8} {:>8} {:>6} {:>9} {:>6}" % width
    show = lambda x: "-" if x is None else f"{x:.2f}"
    print(fmt.format("file", "rule", "expected", "reported", "agreed", "precision", "recall"))
    for r in rows + [dict(totals, file="TOTAL", rule="")]:
        print(fmt.format(r["file"], r["rule"], r["expected"], r["reported"], r["agreed"],
                         show(r["precision"]), show(r["recall"])))
    for n in notes:
        print(f"note: {n}")
    if args.details:
        print("\ndisagreements (line: rule: missed = clippy only, extra = govkit only):")
        for d in details:
            print("  " + d)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "totals": totals}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
