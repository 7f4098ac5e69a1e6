//! The engine's cost per file: parse, walk with every rule, suppressions,
//! locations. Input: the rule fixtures and the engine's own sources (real,
//! varied Rust that ships with the repository). The side-by-side comparison
//! with ast-grep on a 440k-line corpus is scripts/lint-bench/run.sh.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
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

fn engine(c: &mut Criterion) {
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
}

criterion_group!(benches, engine);
criterion_main!(benches);
