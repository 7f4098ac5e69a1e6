//! The vendor hashing loop: `sha256_file` on files of typical vendored
//! sizes. Written with bench-gate, so `govkit bench` holds it to the
//! default allocation budget (one read buffer per file, whatever its size).

use std::io::Write;

use criterion::{Criterion, Throughput};

bench_gate::counting_allocator!();

fn hash<M: bench_gate::Measure>(c: &mut Criterion<M>) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group("sha256_file");
    for (name, size) in [("4KiB", 4usize << 10), ("1MiB", 1 << 20)] {
        let path = dir.path().join(name);
        let mut f = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{e}"));
        let block: Vec<u8> = (0..size)
            .map(|i| u8::try_from(i * 31 % 251).unwrap_or(0))
            .collect();
        f.write_all(&block).unwrap_or_else(|e| panic!("{e}"));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(name, |b| {
            b.iter(|| vendor_verify::verify::sha256_file(&path).map_or(0, |(_, n)| n));
        });
    }
    group.finish();
}

bench_gate::main!(hash);
