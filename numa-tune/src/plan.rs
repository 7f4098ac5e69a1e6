//! Which node a process's threads should run on, and why.

use serde::Serialize;

use crate::cpulist::CpuSet;
use crate::process::Placement;
use crate::topology::Topology;

/// A thread's new affinity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreadMove {
    /// Thread id.
    pub tid: u32,
    /// Its affinity now.
    pub from: CpuSet,
    /// Its affinity after applying: always a subset of `from`.
    pub to: CpuSet,
}

/// A placement plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Process id.
    pub pid: u32,
    /// The node the process should run on; `None` when there is nothing to gain.
    pub node: Option<u32>,
    /// Why, in a sentence.
    pub reason: String,
    /// Per-thread changes (threads already inside the node are omitted).
    pub threads: Vec<ThreadMove>,
    /// Threads left alone and why (e.g. their cpuset excludes the node).
    pub skipped: Vec<(u32, String)>,
}

/// Plans to run every thread on the node that holds most of the process's
/// memory among the nodes it may use; never widens a thread's affinity.
#[must_use]
pub fn plan(placement: &Placement, topo: &Topology) -> Plan {
    let nothing = |reason: String| Plan {
        pid: placement.pid,
        node: None,
        reason,
        threads: Vec::new(),
        skipped: Vec::new(),
    };
    let cpu_nodes: Vec<_> = topo.nodes.iter().filter(|n| !n.cpus.is_empty()).collect();
    if cpu_nodes.len() <= 1 {
        return nothing(format!(
            "nothing to gain: this host has {} NUMA node(s) with CPUs, so all memory is local",
            cpu_nodes.len()
        ));
    }
    // Nodes the process may run on: some thread may use some of its CPUs.
    let allowed_any = CpuSet::from_ids(placement.threads.iter().flat_map(|t| t.allowed.iter()));
    let candidates: Vec<_> = cpu_nodes
        .iter()
        .filter(|n| !n.cpus.intersection(&allowed_any).is_empty())
        .collect();
    if candidates.len() <= 1 {
        return nothing(
            "nothing to change: the process's allowed CPUs (affinity and cpuset) already lie on one node"
                .to_owned(),
        );
    }
    let total = placement.memory_bytes();
    let mem_on = |id: u32| placement.memory_by_node.get(&id).copied().unwrap_or(0);
    let Some(best) = candidates.iter().max_by_key(|n| {
        (
            mem_on(n.id),
            n.cpus.intersection(&allowed_any).len(),
            std::cmp::Reverse(n.id),
        )
    }) else {
        return nothing("no candidate node".to_owned());
    };
    let capacity = best.cpus.intersection(&allowed_any).len();
    #[expect(clippy::cast_precision_loss, reason = "a percentage for people")]
    let share = if total == 0 {
        0.0
    } else {
        mem_on(best.id) as f64 * 100.0 / total as f64
    };
    let mut reason = format!(
        "node {} holds {:.0}% of the process's {} MiB of resident memory; {} of its CPUs are allowed",
        best.id,
        share,
        total / (1024 * 1024),
        capacity
    );
    if placement.threads.len() > capacity * 2 {
        reason = format!(
            "{reason}; note: {} threads on {capacity} CPUs may queue, consider spreading workers with the service hook",
            placement.threads.len()
        );
    }
    let mut threads = Vec::new();
    let mut skipped = Vec::new();
    for t in &placement.threads {
        let to = t.allowed.intersection(&best.cpus);
        if to.is_empty() {
            skipped.push((
                t.tid,
                format!("its allowed CPUs {} exclude node {}", t.allowed, best.id),
            ));
        } else if to != t.allowed {
            threads.push(ThreadMove {
                tid: t.tid,
                from: t.allowed.clone(),
                to,
            });
        }
    }
    Plan {
        pid: placement.pid,
        node: Some(best.id),
        reason,
        threads,
        skipped,
    }
}
