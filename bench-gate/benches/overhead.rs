//! What the counting allocator costs per allocation+free pair: the system
//! allocator directly, the counting wrapper with counting off (the timing
//! pass), and with counting on (the allocation pass). Plain criterion, so
//! nothing else is counted.
#![expect(
    unsafe_code,
    reason = "calls GlobalAlloc methods directly, each with its contract met"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;

use bench_gate::CountingAllocator;
use criterion::{Criterion, criterion_group, criterion_main};

fn pair<A: GlobalAlloc>(a: &A, layout: Layout) {
    // SAFETY: the layout has a non-zero size; the pointer is freed with the
    // same allocator and layout, and only if allocation succeeded.
    unsafe {
        let p = a.alloc(layout);
        if !p.is_null() {
            black_box(p);
            a.dealloc(p, layout);
        }
    }
}

fn overhead(c: &mut Criterion) {
    let layout = Layout::from_size_align(64, 8).unwrap_or_else(|e| panic!("{e}"));
    let counting = CountingAllocator::system();
    let mut group = c.benchmark_group("alloc_free_64B");
    group.bench_function("system", |b| {
        b.iter(|| pair(&System, black_box(layout)));
    });
    group.bench_function("counting_off", |b| {
        b.iter(|| pair(&counting, black_box(layout)));
    });
    group.bench_function("counting_on", |b| {
        b.iter_custom(|iters| {
            let (elapsed, _) = bench_gate::count_allocations(|| {
                let start = std::time::Instant::now();
                for _ in 0..iters {
                    pair(&counting, black_box(layout));
                }
                start.elapsed()
            });
            elapsed
        });
    });
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
