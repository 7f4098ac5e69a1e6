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

/// Plans to run every thread on the node nearest to the process's memory
/// among the nodes it may use: the one whose distance to each byte of
/// resident memory, summed, is least (with the usual symmetric distances,
/// the node that holds most of it; memory on a node without CPUs counts
/// toward the CPU node nearest to it). Never widens a thread's affinity.
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
    // Bytes times distance; a distance the topology lacks counts as far.
    let cost = |node: u32| -> u128 {
        placement
            .memory_by_node
            .iter()
            .map(|(&m, &bytes)| {
                u128::from(bytes) * u128::from(topo.distance(node, m).unwrap_or(255))
            })
            .sum()
    };
    let Some(best) = candidates.iter().min_by_key(|n| {
        (
            cost(n.id),
            std::cmp::Reverse(n.cpus.intersection(&allowed_any).len()),
            n.id,
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
    if let Some(note) = memory_only_note(placement, topo, best.id, &candidates) {
        reason = format!("{reason}; {note}: node {} is the nearest", best.id);
    }
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

/// Memory on nodes without CPUs, if any: how much, and its distance from
/// the chosen node `best` and from the other candidates.
fn memory_only_note(
    placement: &Placement,
    topo: &Topology,
    best: u32,
    candidates: &[&&crate::topology::Node],
) -> Option<String> {
    let total = placement.memory_bytes().max(1);
    let parts: Vec<String> = topo
        .nodes
        .iter()
        .filter(|n| n.cpus.is_empty())
        .filter_map(|n| {
            Some((
                n.id,
                *placement.memory_by_node.get(&n.id).filter(|&&b| b > 0)?,
            ))
        })
        .map(|(id, bytes)| {
            #[expect(clippy::cast_precision_loss, reason = "a percentage for people")]
            let share = bytes as f64 * 100.0 / total as f64;
            let others: Vec<String> = candidates
                .iter()
                .filter(|c| c.id != best)
                .filter_map(|c| Some(format!("{} from node {}", topo.distance(c.id, id)?, c.id)))
                .collect();
            format!(
                "{share:.0}% is on node {id} (no CPUs), at distance {} from node {best}{}",
                topo.distance(best, id).unwrap_or_default(),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", others.join(", "))
                }
            )
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::plan;
    use crate::cpulist::CpuSet;
    use crate::process::{Placement, Thread};
    use crate::topology::Topology;

    /// The memory-only-node fixture: nodes 0 and 1 with CPUs, node 2
    /// memory only, 14 from node 0 and 24 from node 1.
    fn topology() -> Topology {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/memory-only-node");
        Topology::read(&root).unwrap_or_else(|e| panic!("{e}"))
    }

    fn placement(topo: &Topology, memory: &[(u32, u64)]) -> Placement {
        let all = CpuSet::from_ids(topo.cpus.iter().map(|c| c.id));
        Placement {
            pid: 42,
            comm: "svc".to_owned(),
            threads: vec![Thread {
                tid: 42,
                comm: "svc".to_owned(),
                cpu: 0,
                node: Some(0),
                allowed: all,
            }],
            memory_by_node: memory.iter().copied().collect::<BTreeMap<_, _>>(),
            cpuset: None,
            locality: None,
            memory_via_thread: None,
        }
    }

    #[test]
    fn memory_on_a_cpu_less_node_goes_with_the_nearest_cpu_node() {
        let mut topo = topology();
        let p = placement(&topo, &[(2, 512 << 20)]);
        let near0 = plan(&p, &topo);
        assert_eq!(near0.node, Some(0), "{}", near0.reason);
        assert!(
            near0.reason.contains(
                "100% is on node 2 (no CPUs), at distance 14 from node 0 (24 from node 1)"
            ),
            "{}",
            near0.reason
        );
        // Swap the distances: node 1 is now the nearer.
        for (node, to2) in [(0, 24), (1, 14)] {
            topo.nodes[node].distances[2] = to2;
            topo.nodes[2].distances[node] = to2;
        }
        let near1 = plan(&p, &topo);
        assert_eq!(near1.node, Some(1), "{}", near1.reason);
    }

    #[test]
    fn with_symmetric_distances_the_node_with_most_memory_wins() {
        let topo = topology();
        let p = placement(&topo, &[(0, 100 << 20), (1, 300 << 20)]);
        assert_eq!(plan(&p, &topo).node, Some(1));
    }
}
