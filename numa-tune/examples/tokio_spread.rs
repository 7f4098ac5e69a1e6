//! A tokio service that spreads its worker threads across the NUMA nodes it
//! may use, from `on_thread_start`. Run it with
//! `cargo run -p numa-tune --example tokio_spread`; each worker reports the
//! node and CPUs it was pinned to (on a one-node host they all share node 0).
#![expect(clippy::print_stdout, reason = "an example that reports to its user")]

use std::sync::Arc;

use numa_tune::hook::Spreader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spread = Arc::new(Spreader::new()?);
    println!("spreading tokio workers over nodes {:?}", spread.nodes());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .on_thread_start({
            let spread = Arc::clone(&spread);
            move || {
                let node = spread.pin_next();
                let cpus = numa_tune::sys::get_affinity(0).map(|c| c.to_string());
                println!(
                    "worker {:?}: node {node:?}, cpus {}",
                    std::thread::current().id(),
                    cpus.unwrap_or_else(|e| format!("unknown ({e})"))
                );
            }
        })
        .build()?;
    runtime.block_on(async {
        let tasks: Vec<_> = (0..8u64)
            .map(|i| tokio::spawn(async move { i * i }))
            .collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap_or(0);
        }
        println!("served 8 requests (checksum {sum})");
    });
    Ok(())
}
