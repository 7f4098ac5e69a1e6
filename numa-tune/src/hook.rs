//! What a service calls at start: pin a thread to a node, or spread a
//! runtime's worker threads across nodes.
//!
//! ```no_run
//! # fn main() -> Result<(), numa_tune::Error> {
//! let spread = std::sync::Arc::new(numa_tune::hook::Spreader::new()?);
//! // tokio::runtime::Builder::new_multi_thread()
//! //     .on_thread_start({ let s = spread.clone(); move || { s.pin_next(); } })
//! # Ok(()) }
//! ```

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::Error;
use crate::cpulist::CpuSet;
use crate::sys;
use crate::topology::Topology;

/// Pins the calling thread to the CPUs of `node` it is allowed to use, and
/// returns them. Never widens the thread's affinity: a node outside the
/// thread's cpuset is an error.
pub fn pin_current_thread_to_node(node: u32) -> Result<CpuSet, Error> {
    let topo = Topology::read(Path::new("/sys"))?;
    let node_cpus = topo.node(node).map(|n| n.cpus.clone()).ok_or_else(|| {
        Error::new(
            Path::new("/sys/devices/system/node"),
            format!("node {node} does not exist"),
        )
    })?;
    pin_current_thread(&node_cpus, node)
}

fn pin_current_thread(node_cpus: &CpuSet, node: u32) -> Result<CpuSet, Error> {
    let proc_self = Path::new("/proc/thread-self");
    let allowed = sys::get_affinity(0).map_err(|e| Error::io(proc_self, &e))?;
    let target = allowed.intersection(node_cpus);
    if target.is_empty() {
        return Err(Error::new(
            proc_self,
            format!(
                "node {node}'s CPUs {node_cpus} are outside this thread's allowed CPUs {allowed}"
            ),
        ));
    }
    sys::set_affinity(0, &target).map_err(|e| Error::io(proc_self, &e))?;
    Ok(target)
}

/// Hands out nodes round-robin to the threads that call [`Spreader::pin_next`]:
/// give it to a runtime's `on_thread_start` and its workers spread evenly
/// across the nodes the process may use.
#[derive(Debug)]
pub struct Spreader {
    nodes: Vec<(u32, CpuSet)>,
    next: AtomicUsize,
}

impl Spreader {
    /// Nodes with CPUs this thread may use, from `/sys`.
    pub fn new() -> Result<Spreader, Error> {
        Spreader::with_topology(&Topology::read(Path::new("/sys"))?)
    }

    /// Nodes with CPUs the calling thread may use, from `topo`.
    pub fn with_topology(topo: &Topology) -> Result<Spreader, Error> {
        let allowed =
            sys::get_affinity(0).map_err(|e| Error::io(Path::new("/proc/thread-self"), &e))?;
        let nodes: Vec<(u32, CpuSet)> = topo
            .nodes
            .iter()
            .map(|n| (n.id, n.cpus.intersection(&allowed)))
            .filter(|(_, c)| !c.is_empty())
            .collect();
        if nodes.is_empty() {
            return Err(Error::new(
                Path::new("/sys/devices/system/node"),
                "no node has CPUs this thread may use",
            ));
        }
        Ok(Spreader {
            nodes,
            next: AtomicUsize::new(0),
        })
    }

    /// The nodes workers are spread over.
    #[must_use]
    pub fn nodes(&self) -> Vec<u32> {
        self.nodes.iter().map(|(id, _)| *id).collect()
    }

    /// Pins the calling thread to the next node; returns the node, or
    /// `None` if pinning failed (the thread then keeps its affinity: a
    /// service must not die at start because of placement).
    pub fn pin_next(&self) -> Option<u32> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.nodes.len();
        let (node, cpus) = &self.nodes[i];
        sys::set_affinity(0, cpus).ok().map(|()| *node)
    }
}
