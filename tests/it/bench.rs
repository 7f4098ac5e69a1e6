//! `govkit bench` on real criterion benchmarks: the bench-gate-fixture
//! workspace member, whose allocation counts are known by construction.

use std::path::Path;

use serde_json::Value;

use crate::{code, govkit, stderr, stdout};

#[path = "../support/scratch.rs"]
mod scratch;
use scratch::{
    against, by_id, git, json, nothing_left, root, scratch_history, scratch_target, write_crate,
};

/// Short criterion runs: counts are exact whatever the duration.
const QUICK: [&str; 6] = [
    "--measurement-time",
    "0.1",
    "--warm-up-time",
    "0.05",
    "--sample-size",
    "10",
];

fn bench(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "bench",
        "--package",
        "bench-gate-fixture",
        "--bench",
        "known",
    ];
    args.extend(QUICK);
    args.extend(extra);
    govkit(dir, &args)
}

#[test]
fn allocation_counts_are_exact() {
    let out = bench(
        root(),
        &["--count", "1", "--max-allocs", "100", "--format", "json"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let b = by_id(&json(&out));
    let allocs = |id: &str| {
        let entry = &b[id];
        assert_eq!(entry["allocs_exact"], true, "{id}: {entry}");
        entry["allocs_per_op"].as_u64().unwrap_or(u64::MAX)
    };
    assert_eq!(allocs("zero"), 0);
    assert_eq!(allocs("one"), 1);
    assert_eq!(allocs("three"), 3);
    // 1 alloc + 5 reallocs growing 4 → 128 slots.
    assert_eq!(allocs("grow_vec"), 6);
    assert_eq!(
        b["grow_vec"]["bytes_per_op"],
        (4 + 8 + 16 + 32 + 64 + 128) * 8
    );
    // iter_batched's setup (a Vec of 1000) is not counted.
    assert_eq!(allocs("batched/setup_excluded"), 0);
    // The 8 boxes made on the spawned thread count, on top of what
    // spawning a thread costs.
    assert_eq!(allocs("thread"), allocs("thread_overhead") + 8);
    assert_eq!(allocs("spin"), 0);
    assert!(
        b["one"]["time_ns"]["median"].as_f64().unwrap_or(0.0) > 0.0,
        "{}",
        b["one"]
    );
}

#[test]
fn budgets_fail_the_gate_and_can_be_raised_per_benchmark() {
    let out = bench(root(), &["--count", "1"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("error[allocation-budget]: grow_vec: 6 allocations per operation, budget 5"),
        "{text}"
    );
    assert!(text.contains("thread: "), "{text}");

    // The same through govkit check, with per-benchmark budgets.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = dir.path().join("govkit.toml");
    std::fs::write(
        &config,
        format!("[bench]\nworkspace = \"{}\"\npackages = [\"bench-gate-fixture\"]\nbenches = [\"known\"]\ncount = 1\nmeasurement-time = 0.1\nwarm-up-time = 0.05\nsample-size = 10\n\n[[bench.budgets]]\nid = \"grow_vec\"\nmax-allocs = 6\n\n[[bench.budgets]]\nid = \"thread*\"\nmax-allocs = 20\n",
            root().display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = govkit(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["ok"], true, "{doc}");
}

/// `^one$` with `--count COUNT` saved as a baseline in `dir`; the file's
/// document.
fn save_baseline(dir: &Path, count: u32) -> Value {
    let base = dir.join("base.json");
    let out = bench(
        root(),
        &[
            "--count",
            &count.to_string(),
            "--max-allocs",
            "100",
            "--save-baseline",
            &base.to_string_lossy(),
            "^one$",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    serde_json::from_str(&std::fs::read_to_string(&base).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn baselines_catch_allocation_increases_and_slowdowns() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut doc = save_baseline(dir.path(), 5);
    assert_eq!(doc["benchmarks"]["one"]["allocs_per_op"]["value"], 1);
    assert_eq!(
        doc["benchmarks"]["one"]["time_runs_ns"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );

    // A baseline that allocated less and ran 1000x faster.
    doc["benchmarks"]["one"]["allocs_per_op"]["value"] = 0.into();
    let runs: Vec<f64> = doc["benchmarks"]["one"]["time_runs_ns"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_f64)
                .map(|t| t / 1000.0)
                .collect()
        })
        .unwrap_or_default();
    doc["benchmarks"]["one"]["time_runs_ns"] = serde_json::json!(runs);
    let faster = dir.path().join("faster.json");
    std::fs::write(&faster, doc.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let out = bench(
        root(),
        &[
            "--count",
            "5",
            "--baseline",
            &faster.to_string_lossy(),
            "--format",
            "json",
            "^one$",
        ],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let report = json(&out);
    let kinds: Vec<&str> = report["problems"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        kinds,
        vec!["allocation-increase", "time-regression"],
        "{report}"
    );
    let one = &by_id(&report)["one"];
    assert_eq!(one["change"]["verdict"], "regressed");
    assert!(
        one["change"]["p_value"].as_f64().unwrap_or(1.0) < 0.05,
        "{one}"
    );
    // The smallest slowdown these runs could flag is in the report.
    assert!(
        one["change"]["detectable_slowdown"]
            .as_f64()
            .is_some_and(|d| d >= 0.05),
        "{one}"
    );

    // The markdown form for a pull request.
    let out = bench(
        root(),
        &[
            "--count",
            "5",
            "--baseline",
            &faster.to_string_lossy(),
            "--markdown",
            "^one$",
        ],
    );
    assert!(
        stdout(&out).starts_with(
            "| benchmark | allocs/op | bytes/op | time/op | old | delta | p | result |"
        ),
        "{}",
        stdout(&out)
    );
}

/// Three runs a side can never reach p < 0.05 (the exact test's floor is
/// 0.1): such a comparison is refused before anything is built or run,
/// naming the count that would work.
#[test]
fn a_count_that_can_never_flag_a_slowdown_is_refused() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut doc = save_baseline(dir.path(), 1);
    doc["benchmarks"]["one"]["time_runs_ns"] = serde_json::json!([10.0, 11.0, 12.0]);
    let three = dir.path().join("three.json");
    std::fs::write(&three, doc.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let three = three.to_string_lossy();
    let out = bench(root(), &["--count", "3", "--baseline", &three, "^one$"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    for says in [
        "--count 3 against 3 baseline run(s) can never flag a time regression",
        "0.100",
        "--count 5 or more",
    ] {
        assert!(stderr(&out).contains(says), "{says}: {}", stderr(&out));
    }
    assert!(
        !stderr(&out).contains("Compiling"),
        "refused before building"
    );
    // With enough runs the same baseline is compared.
    let out = bench(
        root(),
        &[
            "--count",
            "5",
            "--max-allocs",
            "100",
            "--baseline",
            &three,
            "^one$",
        ],
    );
    assert_ne!(code(&out), 2, "{}", stderr(&out));
}

/// The one mistake the bench-gate change invites: a bench function left
/// as `fn benches(c: &mut Criterion)`. The compiler's real E0308 (inside
/// the macro) is shown, then what to write instead; exit 2.
#[test]
fn a_bench_function_that_is_not_generic_gets_what_to_write() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let krate = dir.path();
    let files = [
        (
            "Cargo.toml",
            format!(
                "[package]\nname = \"wrongsig\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dev-dependencies]\ncriterion = {{ version = \"0.8\", default-features = false, features = [\"cargo_bench_support\"] }}\nbench-gate = {{ path = {:?} }}\n\n[[bench]]\nname = \"codec\"\nharness = false\n\n[workspace]\n",
                root().join("bench-gate").display().to_string()
            ),
        ),
        ("src/lib.rs", String::new()),
        (
            "benches/codec.rs",
            "use criterion::Criterion;\n\nbench_gate::counting_allocator!();\n\nfn encode(c: &mut Criterion) {\n    c.bench_function(\"encode\", |b| b.iter(|| 1 + 1));\n}\n\nbench_gate::main!(encode);\n".to_owned(),
        ),
    ];
    write_crate(krate, &files);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_govkit"))
        .arg("bench")
        .current_dir(krate)
        .env("CARGO_TARGET_DIR", scratch_target())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert!(
        err.contains("error[E0308]"),
        "the compiler's own error: {err}"
    );
    assert!(
        err.contains("`encode` takes `&mut Criterion`"),
        "names the function: {err}"
    );
    assert!(
        err.contains("fn encode<M: bench_gate::Measure>(c: &mut Criterion<M>)"),
        "says what to write: {err}"
    );
}

/// What `--against` cannot compare is exit 2, named, with nothing on
/// stdout and nothing left behind: an unknown revision, uncommitted
/// changes, a revision whose benchmarks do not build, and a round count
/// that could never reach significance.
#[test]
fn against_refuses_what_it_cannot_compare_and_leaves_nothing() {
    let repo = scratch_history("against_bad");
    let dir = repo.path();
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let refused = |out: &std::process::Output, says: &[&str]| {
        assert_eq!(code(out), 2, "{}\n{}", stdout(out), stderr(out));
        assert_eq!(stdout(out), "");
        for s in says {
            assert!(stderr(out).contains(s), "{s}: {}", stderr(out));
        }
        nothing_left(dir, tmp.path());
    };
    refused(
        &against(dir, tmp.path(), "no-such-branch", &[]),
        &["--against no-such-branch: not a commit of this repository"],
    );
    refused(
        &against(dir, tmp.path(), "--upload-pack=x", &[]),
        &["cannot start with '-'"],
    );
    refused(
        &against(dir, tmp.path(), "HEAD~1", &["--count", "7"]),
        &[
            "--count 7 rounds can never flag",
            "0.016",
            "alpha 0.01",
            "--count 8",
        ],
    );
    let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap_or_default();
    std::fs::write(dir.join("src/lib.rs"), format!("{lib}\n// edited\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    refused(
        &against(dir, tmp.path(), "HEAD~1", &[]),
        &["uncommitted changes: M src/lib.rs", "git stash -u"],
    );
    // A commit that does not build, then one that does again.
    std::fs::write(
        dir.join("src/lib.rs"),
        format!("{lib}\nfn broken() -> u8 {{ \"x\" }}\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    git(dir, &["commit", "-qam", "broken"]);
    std::fs::write(dir.join("src/lib.rs"), &lib).unwrap_or_else(|e| panic!("{e}"));
    git(dir, &["commit", "-qam", "fixed"]);
    let broken = git(dir, &["rev-parse", "--short=12", "HEAD~1"]);
    refused(
        &against(dir, tmp.path(), "HEAD~1", &[]),
        &[
            &format!(
                "--against HEAD~1 ({}): its benchmarks failed to build",
                broken.trim()
            ),
            "error[E0308]",
        ],
    );
}

/// SIGTERM (a cancelled CI job) while `--against` works: it stops at the
/// next check, exit 2, and removes the worktree and its scratch files.
#[test]
fn against_cleans_up_when_terminated() {
    let repo = scratch_history("against_term");
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_govkit"))
        .args(["bench", "--against=HEAD~1"])
        .current_dir(repo.path())
        .env("CARGO_TARGET_DIR", scratch_target())
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    // Wait until the worktree exists, then terminate.
    let deadline = std::time::Instant::now() + std::time::Duration::from_mins(2);
    while !git(repo.path(), &["worktree", "list", "--porcelain"]).contains("govkit-against-") {
        assert!(
            std::time::Instant::now() < deadline,
            "no worktree within 120 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    nothing_left(repo.path(), tmp.path());
}

#[test]
fn crashes_are_exit_2_and_plain_criterion_targets_are_timed_not_counted() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_govkit"))
        .args([
            "bench",
            "--package",
            "bench-gate-fixture",
            "--bench",
            "crash",
        ])
        .args(QUICK)
        .current_dir(root())
        .env("BENCH_GATE_FIXTURE_CRASH", "1")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("deliberate crash for govkit's tests"),
        "{}",
        stderr(&out)
    );

    // An unmodified criterion_main! target: timed, its allocations not
    // counted (never reported as zero), and said so.
    let mut args = vec![
        "bench",
        "--package",
        "bench-gate-fixture",
        "--bench",
        "plain",
        "--count",
        "1",
        "--format",
        "json",
    ];
    args.extend(QUICK);
    let out = govkit(root(), &args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    let plain = &by_id(&report)["plain"];
    assert_eq!(plain["allocs_per_op"], Value::Null, "{plain}");
    assert!(
        plain["time_ns"]["median"].as_f64().is_some_and(|t| t > 0.0),
        "{plain}"
    );
    assert_eq!(
        report["time_only"],
        serde_json::json!(["bench-gate-fixture/plain"])
    );
    assert_eq!(
        report["problems"][0]["code"], "allocations-not-counted",
        "{report}"
    );
    assert_eq!(report["problems"][0]["severity"], "warning", "{report}");
}
