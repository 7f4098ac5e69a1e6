//! Heap allocations per operation for criterion benchmarks, and the glue
//! `govkit bench` drives.
//!
//! A bench file changes in three places:
//!
//! ```ignore
//! use criterion::Criterion;
//! bench_gate::counting_allocator!();                         // the counting global allocator
//!
//! fn benches<M: bench_gate::Measure>(c: &mut Criterion<M>) { // generic over the measurement
//!     c.bench_function("encode", |b| b.iter(|| encode(black_box(&msg))));
//! }
//! bench_gate::main!(benches);                        // instead of criterion_group!/criterion_main!
//! ```
//!
//! The function is generic because the same benchmarks run twice: once
//! with criterion's wall-clock measurement (timing, counting off, so
//! counting never distorts time) and once with [`Allocations`] and
//! [`AllocatedBytes`], criterion measurements whose "value" is the number
//! of `alloc`/`alloc_zeroed`/`realloc` calls (or bytes requested) between
//! the start and end of criterion's timing loop. That window holds only the
//! routine's iterations, on whatever thread they allocate, and not the
//! harness's own work or `iter_batched`'s setup, so value / iterations is
//! the exact count per operation.
//!
//! Under plain `cargo bench` the timing pass runs as usual and a short
//! allocation pass follows, printing allocations per operation.
//! `govkit bench` selects passes and output directories through the
//! environment (`BENCH_GATE_MODE`, `BENCH_GATE_OUT`).
#![deny(missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, Throughput};

#[doc(hidden)]
pub use criterion as __criterion;

#[cfg(feature = "gate")]
pub mod gate;
#[cfg(feature = "gate")]
pub mod runner;
#[cfg(feature = "gate")]
pub mod stats;

/// What a benchmark function is generic over: criterion's wall-clock
/// measurement in the timing pass, [`Allocations`] and [`AllocatedBytes`]
/// in the allocation pass.
pub trait Measure: Measurement + 'static {}

impl<M: Measurement + 'static> Measure for M {}

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// A global allocator that counts allocation calls and bytes while a
/// measurement window is open, and forwards everything to `A`.
#[derive(Debug)]
pub struct CountingAllocator<A = System> {
    inner: A,
}

impl CountingAllocator<System> {
    /// Counting over the system allocator.
    #[must_use]
    pub const fn system() -> Self {
        CountingAllocator { inner: System }
    }
}

impl<A> CountingAllocator<A> {
    /// Counting over `inner` (e.g. mimalloc, jemalloc).
    pub const fn new(inner: A) -> Self {
        CountingAllocator { inner }
    }
}

#[inline]
fn count(size: usize) {
    // One relaxed load when not measuring: the timing pass pays ~nothing.
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(size as u64, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to the inner allocator with the same
// arguments; counting touches only atomics and never allocates.
#[expect(unsafe_code, reason = "a GlobalAlloc impl is unsafe by definition")]
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !INSTALLED.load(Ordering::Relaxed) {
            INSTALLED.store(true, Ordering::Relaxed);
        }
        count(layout.size());
        // SAFETY: the caller upholds `alloc`'s contract; we pass it on.
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract; we pass it on.
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: the caller upholds `realloc`'s contract; we pass it on.
        unsafe { self.inner.realloc(ptr, layout, new_size) }
    }
}

/// Installs [`CountingAllocator`] over the system allocator as the global
/// allocator of the bench binary.
#[macro_export]
macro_rules! counting_allocator {
    () => {
        #[global_allocator]
        static BENCH_GATE_ALLOCATOR: $crate::CountingAllocator =
            $crate::CountingAllocator::system();
    };
}

/// Whether the counting allocator is the global allocator (it has served
/// at least one allocation).
#[must_use]
pub fn installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Allocation counts of one measurement window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// `alloc`, `alloc_zeroed` and `realloc` calls.
    pub allocs: u64,
    /// Bytes requested by those calls.
    pub bytes: u64,
}

fn open() -> Counts {
    let c = Counts {
        allocs: ALLOCS.load(Ordering::SeqCst),
        bytes: BYTES.load(Ordering::SeqCst),
    };
    COUNTING.store(true, Ordering::SeqCst);
    c
}

fn close(start: Counts) -> Counts {
    COUNTING.store(false, Ordering::SeqCst);
    Counts {
        allocs: ALLOCS.load(Ordering::SeqCst) - start.allocs,
        bytes: BYTES.load(Ordering::SeqCst) - start.bytes,
    }
}

/// Counts the allocations `f` makes (on any thread) while it runs.
pub fn count_allocations<T>(f: impl FnOnce() -> T) -> (T, Counts) {
    let start = open();
    let out = std::hint::black_box(f());
    (out, close(start))
}

/// Added to every allocation-pass sample (whatever its iteration count),
/// because criterion refuses a sample of zero; [`gate::per_op`] subtracts
/// it again, so counts stay exact.
pub const SAMPLE_OFFSET: f64 = 1.0;

/// A criterion measurement whose value is the number of allocation calls.
#[derive(Debug, Default)]
pub struct Allocations;

/// A criterion measurement whose value is the number of bytes allocated.
#[derive(Debug, Default)]
pub struct AllocatedBytes;

macro_rules! counting_measurement {
    ($ty:ty, $field:ident, $unit:expr) => {
        impl Measurement for $ty {
            type Intermediate = Counts;
            type Value = u64;
            fn start(&self) -> Counts {
                open()
            }
            fn end(&self, start: Counts) -> u64 {
                close(start).$field
            }
            fn add(&self, a: &u64, b: &u64) -> u64 {
                a + b
            }
            fn zero(&self) -> u64 {
                0
            }
            /// The count plus [`SAMPLE_OFFSET`]: criterion rejects samples
            /// of zero, and a routine that allocates nothing is the goal.
            #[expect(clippy::cast_precision_loss, reason = "criterion's statistics are f64")]
            fn to_f64(&self, v: &u64) -> f64 {
                *v as f64 + SAMPLE_OFFSET
            }
            fn formatter(&self) -> &dyn ValueFormatter {
                &CountFormatter($unit)
            }
        }
    };
}

counting_measurement!(Allocations, allocs, "allocs");
counting_measurement!(AllocatedBytes, bytes, "bytes");

struct CountFormatter(&'static str);

impl ValueFormatter for CountFormatter {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        self.0
    }
    fn scale_throughputs(
        &self,
        _typical: f64,
        _throughput: &Throughput,
        _values: &mut [f64],
    ) -> &'static str {
        self.0
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        self.0
    }
}

/// Which passes a bench binary runs (`BENCH_GATE_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Timing then a short allocation pass (plain `cargo bench`).
    Both,
    /// Timing only.
    Time,
    /// Allocation pass only.
    Allocs,
    /// Announce bench-gate (a `bench-gate: protocol 1` line on stdout),
    /// then the timing pass only: with criterion's `--list`, the ids.
    List,
}

/// The line a bench-gate binary prints first in [`Mode::List`]: how
/// `govkit bench` tells a bench-gate target (allocations counted) from a
/// plain `criterion_main!` one (time only).
pub const PROTOCOL_LINE: &str = "bench-gate: protocol 1";

#[doc(hidden)]
pub fn announce() {
    #[expect(clippy::print_stdout, reason = "the protocol line for govkit bench")]
    {
        // govkit: allow(print-stdout) -- the protocol line govkit bench reads from the bench binary
        println!("{PROTOCOL_LINE}");
    }
}

impl Mode {
    /// From `BENCH_GATE_MODE` (`time`, `allocs`, `list`; anything else:
    /// both).
    #[must_use]
    pub fn from_env() -> Mode {
        match std::env::var("BENCH_GATE_MODE").as_deref() {
            Ok("time") => Mode::Time,
            Ok("allocs") => Mode::Allocs,
            Ok("list") => Mode::List,
            _ => Mode::Both,
        }
    }

    /// Whether this mode runs the allocation pass.
    #[must_use]
    pub fn counts(self) -> bool {
        matches!(self, Mode::Both | Mode::Allocs)
    }
}

fn out_dir(pass: &str) -> Option<PathBuf> {
    std::env::var_os("BENCH_GATE_OUT").map(|d| PathBuf::from(d).join(pass))
}

/// The criterion for the timing pass: criterion's defaults and the
/// command line, output under `BENCH_GATE_OUT/time` when set.
#[doc(hidden)]
#[must_use]
pub fn timing_criterion() -> Criterion<WallTime> {
    let c = Criterion::default().configure_from_args();
    match out_dir("time") {
        Some(d) => c.output_directory(&d),
        None => c,
    }
}

/// The criterion for an allocation pass: counts are exact, so few, short
/// samples suffice; no plots. Output under `BENCH_GATE_OUT/<pass>`, else
/// criterion's directory under `bench-gate-<pass>`.
#[doc(hidden)]
#[must_use]
pub fn counting_criterion<M: Measurement>(m: M, pass: &str) -> Criterion<M> {
    let c = Criterion::default()
        .configure_from_args()
        .with_measurement(m)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(20))
        .sample_size(10)
        .without_plots();
    let dir = out_dir(pass).unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| PathBuf::from("target"), PathBuf::from)
            .join("criterion")
            .join(format!("bench-gate-{pass}"))
    });
    c.output_directory(&dir)
}

/// Fails loudly when the counting allocator is missing: counts would all
/// be zero, which must never look like a pass.
#[doc(hidden)]
pub fn check_installed() {
    // Force one allocation through the global allocator.
    std::hint::black_box(Box::new(0u8));
    if !installed() {
        #[expect(clippy::print_stderr, reason = "a bench binary's only channel")]
        {
            // govkit: allow(print-stderr) -- the bench binary's only channel to the user
            eprintln!(
                "bench-gate: the counting allocator is not installed; add `bench_gate::counting_allocator!();` to the bench file"
            );
        }
        // govkit: allow(process-exit) -- a bench binary without counting must stop with exit 2, never report zeros
        std::process::exit(2);
    }
}

/// Replaces `criterion_group!`/`criterion_main!`: runs the benchmark
/// functions (generic over the measurement) for timing and for
/// allocations, as `BENCH_GATE_MODE` says.
#[macro_export]
macro_rules! main {
    ($($bench:path),+ $(,)?) => {
        fn main() {
            let mode = $crate::Mode::from_env();
            if mode == $crate::Mode::List {
                $crate::announce();
            }
            if mode != $crate::Mode::Allocs {
                let mut c = $crate::timing_criterion();
                $( $bench(&mut c); )+
                c.final_summary();
            }
            if mode.counts() {
                $crate::check_installed();
                let mut c = $crate::counting_criterion($crate::Allocations, "allocs");
                $( $bench(&mut c); )+
                let mut c = $crate::counting_criterion($crate::AllocatedBytes, "bytes");
                $( $bench(&mut c); )+
            }
        }
    };
}
