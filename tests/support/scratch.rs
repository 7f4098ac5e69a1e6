//! Scratch crates in git repositories of their own, for `govkit bench
//! --against`: shared by the `it` suite and the `bench_against` binary
//! (which cargo runs alone, so its timings see no other test's load).
#![allow(dead_code, reason = "each test binary uses part of it")]

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn json(out: &Output) -> Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("{e}:\n{}\n{}", stdout(out), stderr(out)))
}

pub fn by_id(doc: &Value) -> std::collections::BTreeMap<String, Value> {
    doc["benchmarks"]
        .as_array()
        .unwrap_or_else(|| panic!("no benchmarks: {doc}"))
        .iter()
        .map(|b| (b["id"].as_str().unwrap_or_default().to_owned(), b.clone()))
        .collect()
}

/// The target directory the scratch crates share, so that criterion
/// builds once for all of them (each has its own package name: `--against`
/// cleans a workspace's own crates by name).
pub fn scratch_target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root().join("target"), PathBuf::from)
        .join("scratch-bench")
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=govkit test",
            "-c",
            "user.email=test@govkit.invalid",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("git: {e}"));
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out)
}

/// Writes a scratch crate's files, and the workspace's lock file: the
/// same versions, no resolution.
pub fn write_crate<P: AsRef<Path>>(krate: &Path, files: &[(P, String)]) {
    for (path, text) in files {
        let p = krate.join(path);
        std::fs::create_dir_all(p.parent().unwrap_or(krate)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::copy(root().join("Cargo.lock"), krate.join("Cargo.lock"))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// A scratch crate `name` in a git repository of its own, with a
/// bench-gate target (`spin`; `make`, which allocates twice) and an
/// unmodified `criterion_main!` target (`plain_spin`), their names
/// prefixed with `name` (cargo cleans bench targets by name, and the
/// scratch crates share a target directory). Commit 1 is the
/// base; commit 2 does 5 % more work in every benchmark and one more
/// allocation in `make`.
pub fn scratch_history(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let krate = dir.path();
    let lib = |rounds: u32, boxes: &str| {
        format!(
            "pub const ROUNDS: u64 = {rounds};\n\npub fn spin(rounds: u64) -> u64 {{\n    let mut x = 0x9e37_79b9_7f4a_7c15u64;\n    for _ in 0..rounds {{\n        x ^= x << 13;\n        x ^= x >> 7;\n        x ^= x << 17;\n    }}\n    x\n}}\n\npub fn make(n: u64) -> (u64, Vec<Box<u64>>) {{\n    (spin(ROUNDS), vec![{boxes}])\n}}\n"
        )
    };
    let files = [
        (
            "Cargo.toml",
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dev-dependencies]\ncriterion = {{ version = \"0.8\", default-features = false, features = [\"cargo_bench_support\"] }}\nbench-gate = {{ path = {:?} }}\n\n[[bench]]\nname = \"{name}_gated\"\nharness = false\n\n[[bench]]\nname = \"{name}_plain\"\nharness = false\n\n[workspace]\n",
                root().join("bench-gate").display().to_string()
            ),
        ),
        (".gitignore", "/target\n".to_owned()),
        ("src/lib.rs", lib(20_000, "Box::new(n)")),
        (
            &format!("benches/{name}_gated.rs"),
            format!(
                "use std::hint::black_box;\n\nuse criterion::Criterion;\n\nbench_gate::counting_allocator!();\n\nfn benches<M: bench_gate::Measure>(c: &mut Criterion<M>) {{\n    c.bench_function(\"spin\", |b| b.iter(|| {name}::spin(black_box({name}::ROUNDS))));\n    c.bench_function(\"make\", |b| b.iter(|| {name}::make(black_box(3))));\n}}\n\nbench_gate::main!(benches);\n"
            ),
        ),
        (
            &format!("benches/{name}_plain.rs"),
            format!(
                "use std::hint::black_box;\n\nuse criterion::{{Criterion, criterion_group, criterion_main}};\n\nfn benches(c: &mut Criterion) {{\n    c.bench_function(\"plain_spin\", |b| b.iter(|| {name}::spin(black_box({name}::ROUNDS))));\n}}\n\ncriterion_group!(group, benches);\ncriterion_main!(group);\n"
            ),
        ),
    ];
    write_crate(krate, &files);
    // Trimmed to this crate and committed, so that builds leave the tree
    // clean.
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--offline", "--format-version", "1"])
        .current_dir(krate)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "{}", stderr(&out));
    git(krate, &["init", "-q"]);
    git(krate, &["add", "-A"]);
    git(krate, &["commit", "-qm", "base"]);
    std::fs::write(
        krate.join("src/lib.rs"),
        lib(21_000, "Box::new(n), Box::new(n + 1)"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    git(
        krate,
        &[
            "commit",
            "-qam",
            "5 % more work, one more allocation in make",
        ],
    );
    dir
}

/// `govkit bench --against REV ARGS…` in `repo`, with scratch files
/// under `tmp` (TMPDIR), so that what is left behind can be seen.
pub fn against(repo: &Path, tmp: &Path, rev: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_govkit"))
        .arg("bench")
        .arg(format!("--against={rev}"))
        .args(args)
        .current_dir(repo)
        .env("CARGO_TARGET_DIR", scratch_target())
        .env("TMPDIR", tmp)
        .env_remove("NO_COLOR")
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Nothing of a comparison is left: no worktree registered with git, no
/// file in the temporary directory.
pub fn nothing_left(repo: &Path, tmp: &Path) {
    let worktrees = git(repo, &["worktree", "list", "--porcelain"]);
    assert_eq!(
        worktrees.matches("worktree ").count(),
        1,
        "only the repository's own: {worktrees}"
    );
    let left: Vec<_> = std::fs::read_dir(tmp)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}

pub fn codes(report: &Value) -> Vec<(String, String)> {
    report["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p["code"].as_str().unwrap_or_default().to_owned(),
                        p["message"]
                            .as_str()
                            .unwrap_or_default()
                            .split(':')
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
