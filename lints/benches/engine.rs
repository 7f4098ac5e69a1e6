//! The engine's cost per file: parse, walk with every rule, suppressions,
//! locations. Input: the rule fixtures and the engine's own sources (real,
//! varied Rust that ships with the repository). The side-by-side comparison
//! with ast-grep on a 440k-line corpus is scripts/lint-bench/run.sh.
//!
//! Written with bench-gate, so `govkit bench` (and `govkit check`, see
//! `[bench]` in govkit.toml) also holds the engine to an allocation budget.

use std::path::Path;

use criterion::{Criterion, Throughput};
use lints::{FileKind, Linter, Settings};

fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [
        "tests/fixtures",
        "src",
        "src/rules",
        "src/rules/panics",
        "src/rules/async_code",
        "src/rules/governance",
    ] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "rs")
                && let Ok(text) = std::fs::read_to_string(&p)
            {
                out.push((format!("{dir}/{}", e.file_name().to_string_lossy()), text));
            }
        }
    }
    out.sort();
    out
}

bench_gate::counting_allocator!();

fn engine<M: bench_gate::Measure>(c: &mut Criterion<M>) {
    let files = sources();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let all = Linter::new(&Settings::default()).unwrap_or_else(|e| panic!("{e}"));
    let one = Linter::new(&Settings {
        only: vec!["unwrap-used".into()],
        ..Settings::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));

    let mut group = c.benchmark_group("lint_source");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("all_rules", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|(p, t)| all.lint_source(p, t, FileKind::Library).len())
                .sum::<usize>()
        });
    });
    group.bench_function("unwrap_used_only", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|(p, t)| one.lint_source(p, t, FileKind::Library).len())
                .sum::<usize>()
        });
    });
    group.finish();

    // One real file, the engine's own walker: the per-file cost.
    let (path, text) = files
        .iter()
        .find(|(p, _)| p == "src/engine.rs")
        .cloned()
        .unwrap_or_default();
    let mut group = c.benchmark_group("lint_file");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("engine_rs", |b| {
        b.iter(|| all.lint_source(&path, &text, FileKind::Library).len());
    });
    group.finish();
}

bench_gate::main!(engine);
