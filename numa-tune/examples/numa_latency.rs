//! Benchmark harness for multi-node hosts: memory latency from every node's
//! CPUs to every node's memory (a dependent-load pointer chase, like
//! Intel MLC's idle latency), and the latency of a memory-bound "service"
//! whose workers are pinned to the node holding its table versus left to
//! the scheduler. On a one-node host it says so and measures only local
//! latency.
//!
//! `cargo run --release -p numa-tune --example numa_latency [-- MiB]`
#![expect(clippy::print_stdout, reason = "a benchmark that reports to its user")]
#![expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "timings and sizes for people"
)]

use std::path::Path;
use std::time::Instant;

use numa_tune::cpulist::CpuSet;
use numa_tune::{Topology, sys};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(256);
    let topo = Topology::read(Path::new("/sys"))?;
    // Measurements pin this thread; workers start from its original affinity.
    let original = sys::get_affinity(0)?;
    let cpu_nodes: Vec<_> = topo.nodes.iter().filter(|n| !n.cpus.is_empty()).collect();
    let mem_nodes: Vec<_> = topo.nodes.iter().filter(|n| n.memory_bytes > 0).collect();
    if topo.nodes.len() < 2 {
        println!(
            "only one NUMA node exists on this host: local and remote latency cannot be compared; measuring local latency only"
        );
    }
    println!("pointer chase over {mib} MiB, ns per dependent load:");
    print!("{:>10}", "cpu\\mem");
    for m in &mem_nodes {
        print!("{:>10}", format!("node {}", m.id));
    }
    println!();
    for c in &cpu_nodes {
        print!("{:>10}", format!("node {}", c.id));
        for m in &mem_nodes {
            let ns = chase_latency(&c.cpus, m.id, mib)?;
            print!("{ns:>10.1}");
        }
        println!();
    }

    // A service: 4 workers, each request = 64 dependent lookups in a table
    // that lives on the first node.
    let home = cpu_nodes.first().ok_or("no node with CPUs")?;
    let table = bound_table(home.id, mib)?;
    sys::set_affinity(0, &original)?;
    for (label, pin) in [
        ("unpinned", None),
        ("pinned to the table's node", Some(&home.cpus)),
    ] {
        let mut lat = serve(&table, pin)?;
        lat.sort_unstable();
        let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
        println!(
            "service, workers {label:<28} p50 {:>7.2} us  p95 {:>7.2} us  p99 {:>7.2} us",
            pct(0.50),
            pct(0.95),
            pct(0.99)
        );
    }
    if topo.nodes.len() < 2 {
        println!("(one node: pinned and unpinned differ only by scheduling noise here)");
    }
    Ok(())
}

/// A random cyclic permutation of `len` slots, so every load depends on the
/// previous one and the prefetcher cannot help.
fn cycle(len: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut x = seed | 1;
    for i in (1..len).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let mut next = vec![0; len];
    for w in 0..len {
        next[order[w]] = order[(w + 1) % len];
    }
    next
}

/// A table allocated (first touch) under `MPOL_BIND` to `node`.
fn bound_table(node: u32, mib: usize) -> Result<Vec<usize>, BoxError> {
    sys::bind_memory(&CpuSet::from_ids([node]))?;
    let table = cycle(
        mib * 1024 * 1024 / size_of::<usize>(),
        0x9e37_79b9_7f4a_7c15,
    );
    sys::reset_memory_policy()?;
    Ok(table)
}

fn chase_latency(cpus: &CpuSet, mem_node: u32, mib: usize) -> Result<f64, BoxError> {
    sys::set_affinity(0, cpus)?;
    let table = bound_table(mem_node, mib)?;
    let steps = 4_000_000;
    let mut at = 0;
    let start = Instant::now();
    for _ in 0..steps {
        at = table[at];
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(steps);
    std::hint::black_box(at);
    Ok(ns)
}

/// Per-request latencies (ns) of 4 workers × 20k requests.
fn serve(table: &[usize], pin: Option<&CpuSet>) -> Result<Vec<u64>, BoxError> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4usize)
            .map(|w| {
                s.spawn(move || -> Result<Vec<u64>, String> {
                    if let Some(cpus) = pin {
                        sys::set_affinity(0, cpus)
                            .map_err(|e| format!("pinning worker {w}: {e}"))?;
                    }
                    let mut at = w * 7919 % table.len();
                    let mut out = Vec::with_capacity(20_000);
                    for _ in 0..20_000 {
                        let start = Instant::now();
                        for _ in 0..64 {
                            at = table[at];
                        }
                        out.push(start.elapsed().as_nanos() as u64);
                    }
                    std::hint::black_box(at);
                    Ok(out)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            // A panicking worker re-panics here, as scoped threads do.
            match h.join() {
                Ok(lat) => all.extend(lat?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(all)
    })
}
