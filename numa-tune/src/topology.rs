//! NUMA topology from sysfs.
//!
//! Everything is read under a root directory (normally `/sys`) so fixture
//! trees can stand in for hosts this machine is not:
//!
//! - `devices/system/node/online`: the online nodes (else the `nodeN`
//!   directories present);
//! - `devices/system/node/nodeN/{cpulist,meminfo,distance}`;
//! - `devices/system/cpu/online`: online CPUs (offline CPUs are listed
//!   under their node but excluded here);
//! - `devices/system/cpu/cpuN/topology/{physical_package_id,core_id,thread_siblings_list}`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Error;
use crate::cpulist::CpuSet;

/// One NUMA node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// Node number.
    pub id: u32,
    /// Its online CPUs (empty for a memory-only node).
    pub cpus: CpuSet,
    /// `MemTotal` in bytes.
    pub memory_bytes: u64,
    /// `MemFree` in bytes.
    pub memory_free_bytes: u64,
    /// Distance to every node, in the order of [`Topology::nodes`]
    /// (10 = local, as in the ACPI SLIT).
    pub distances: Vec<u32>,
}

/// One online CPU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cpu {
    /// CPU number.
    pub id: u32,
    /// The node it belongs to.
    pub node: u32,
    /// Physical package (socket), when sysfs says.
    pub package: Option<u32>,
    /// Core id within the package, when sysfs says.
    pub core: Option<u32>,
    /// SMT siblings including itself.
    pub siblings: CpuSet,
}

/// The host's NUMA layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topology {
    /// Online nodes by id.
    pub nodes: Vec<Node>,
    /// Online CPUs by id.
    pub cpus: Vec<Cpu>,
    /// CPUs present but offline.
    pub offline_cpus: CpuSet,
}

impl Topology {
    /// Reads the topology under `root` (a sysfs mount, normally `/sys`).
    pub fn read(root: &Path) -> Result<Topology, Error> {
        let node_dir = root.join("devices/system/node");
        let cpu_dir = root.join("devices/system/cpu");
        if !node_dir.is_dir() {
            return Err(Error::new(
                &node_dir,
                "missing: the kernel exposes no NUMA nodes (built without CONFIG_NUMA, or not a sysfs root)",
            ));
        }
        let online_cpus = read_list(&cpu_dir.join("online"))?;
        let offline_cpus = match read_optional(&cpu_dir.join("offline"))? {
            Some(text) => {
                CpuSet::parse(&text).map_err(|m| Error::new(&cpu_dir.join("offline"), m))?
            }
            None => CpuSet::new(),
        };
        let node_ids = match read_optional(&node_dir.join("online"))? {
            Some(text) => {
                CpuSet::parse(&text).map_err(|m| Error::new(&node_dir.join("online"), m))?
            }
            None => node_dirs(&node_dir)?,
        };
        if node_ids.is_empty() {
            return Err(Error::new(&node_dir, "no online node"));
        }

        let mut nodes = Vec::with_capacity(node_ids.len());
        let mut node_of = BTreeMap::new();
        for id in node_ids.iter() {
            let dir = node_dir.join(format!("node{id}"));
            if !dir.is_dir() {
                return Err(Error::new(&dir, "listed as online but missing"));
            }
            let listed = read_list(&dir.join("cpulist"))?;
            let cpus = listed.intersection(&online_cpus);
            for cpu in cpus.iter() {
                if let Some(other) = node_of.insert(cpu, id) {
                    return Err(Error::new(
                        &dir.join("cpulist"),
                        format!("CPU {cpu} is also listed under node {other}"),
                    ));
                }
            }
            let (memory_bytes, memory_free_bytes) = read_meminfo(&dir.join("meminfo"), id)?;
            let distances = read_distances(&dir.join("distance"), node_ids.len())?;
            nodes.push(Node {
                id,
                cpus,
                memory_bytes,
                memory_free_bytes,
                distances,
            });
        }

        let mut cpus = Vec::with_capacity(online_cpus.len());
        for id in online_cpus.iter() {
            let Some(&node) = node_of.get(&id) else {
                return Err(Error::new(
                    &cpu_dir.join("online"),
                    format!("online CPU {id} belongs to no online node"),
                ));
            };
            let topo = cpu_dir.join(format!("cpu{id}/topology"));
            let package = read_number(&topo.join("physical_package_id"))?;
            let core = read_number(&topo.join("core_id"))?;
            let siblings = match read_optional(&topo.join("thread_siblings_list"))? {
                Some(text) => CpuSet::parse(&text)
                    .map_err(|m| Error::new(&topo.join("thread_siblings_list"), m))?
                    .intersection(&online_cpus),
                None => CpuSet::from_ids([id]),
            };
            cpus.push(Cpu {
                id,
                node,
                package,
                core,
                siblings,
            });
        }
        Ok(Topology {
            nodes,
            cpus,
            offline_cpus,
        })
    }

    /// The node with this id.
    #[must_use]
    pub fn node(&self, id: u32) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The distance from node `from` to node `to` (10 = local), when both
    /// exist.
    #[must_use]
    pub fn distance(&self, from: u32, to: u32) -> Option<u32> {
        let at = self.nodes.iter().position(|n| n.id == to)?;
        self.node(from)?.distances.get(at).copied()
    }

    /// The node a CPU belongs to.
    #[must_use]
    pub fn node_of_cpu(&self, cpu: u32) -> Option<u32> {
        self.cpus.iter().find(|c| c.id == cpu).map(|c| c.node)
    }

    /// Packages (sockets) and their CPUs.
    #[must_use]
    pub fn packages(&self) -> BTreeMap<u32, CpuSet> {
        let mut out: BTreeMap<u32, CpuSet> = BTreeMap::new();
        for c in &self.cpus {
            if let Some(p) = c.package {
                out.entry(p).or_default().insert(c.id);
            }
        }
        out
    }

    /// Whether any core runs more than one hardware thread.
    #[must_use]
    pub fn has_smt(&self) -> bool {
        self.cpus.iter().any(|c| c.siblings.len() > 1)
    }
}

fn read_optional(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, &e)),
    }
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, &e))
}

fn read_list(path: &Path) -> Result<CpuSet, Error> {
    CpuSet::parse(&read(path)?).map_err(|m| Error::new(path, m))
}

fn read_number(path: &Path) -> Result<Option<u32>, Error> {
    match read_optional(path)? {
        None => Ok(None),
        // -1 means "unknown" on some platforms.
        Some(t) if t.trim() == "-1" => Ok(None),
        Some(t) => t.trim().parse().map(Some).map_err(|e| {
            Error::new(
                path,
                format!("`{}` is not a number ({e})", t.trim().escape_debug()),
            )
        }),
    }
}

fn node_dirs(node_dir: &Path) -> Result<CpuSet, Error> {
    let mut ids = CpuSet::new();
    for entry in std::fs::read_dir(node_dir).map_err(|e| Error::io(node_dir, &e))? {
        let entry = entry.map_err(|e| Error::io(node_dir, &e))?;
        let name = entry.file_name();
        if let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_prefix("node"))
            .and_then(|n| n.parse().ok())
        {
            ids.insert(id);
        }
    }
    Ok(ids)
}

/// `MemTotal` and `MemFree` of `Node N MemTotal:  123 kB` lines, in bytes.
fn read_meminfo(path: &Path, node: u32) -> Result<(u64, u64), Error> {
    parse_meminfo(&read(path)?, node).map_err(|m| Error::new(path, m))
}

/// Parses a node's `meminfo` text.
pub(crate) fn parse_meminfo(text: &str, node: u32) -> Result<(u64, u64), String> {
    let field = |name: &str| -> Result<u64, String> {
        let prefix = format!("Node {node} {name}:");
        let line = text
            .lines()
            .find(|l| l.starts_with(&prefix))
            .ok_or_else(|| format!("no `{prefix}` line"))?;
        let rest = line[prefix.len()..].trim();
        let kb = rest
            .strip_suffix("kB")
            .map(str::trim)
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| format!("`{}`: expected `N kB`", line.escape_debug()))?;
        kb.checked_mul(1024)
            .ok_or_else(|| format!("`{}`: too large", line.escape_debug()))
    };
    Ok((field("MemTotal")?, field("MemFree")?))
}

fn read_distances(path: &Path, nodes: usize) -> Result<Vec<u32>, Error> {
    parse_distances(&read(path)?, nodes).map_err(|m| Error::new(path, m))
}

/// Parses a node's `distance` text: one distance per online node.
pub(crate) fn parse_distances(text: &str, nodes: usize) -> Result<Vec<u32>, String> {
    let distances = text
        .split_whitespace()
        .map(|d| {
            d.parse::<u32>()
                .map_err(|e| format!("`{}` is not a distance ({e})", d.escape_debug()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if distances.len() != nodes {
        return Err(format!(
            "{} distances for {nodes} online nodes",
            distances.len()
        ));
    }
    Ok(distances)
}

/// The sysfs root to use: `/sys` unless overridden.
#[must_use]
pub fn default_root() -> PathBuf {
    PathBuf::from("/sys")
}
