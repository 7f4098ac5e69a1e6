//! Where a process's threads run and where its memory lives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Error;
use crate::cpulist::CpuSet;
use crate::topology::Topology;

/// Roots of the kernel interfaces, overridable for tests.
#[derive(Debug, Clone)]
pub struct Roots {
    /// procfs, normally `/proc`.
    pub proc: PathBuf,
    /// sysfs, normally `/sys`; cgroups are looked up under `fs/cgroup`.
    pub sys: PathBuf,
}

impl Default for Roots {
    fn default() -> Roots {
        Roots {
            proc: PathBuf::from("/proc"),
            sys: PathBuf::from("/sys"),
        }
    }
}

/// One thread.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thread {
    /// Thread id.
    pub tid: u32,
    /// Thread name.
    pub comm: String,
    /// The CPU it last ran on.
    pub cpu: u32,
    /// That CPU's node.
    pub node: Option<u32>,
    /// CPUs it may run on (its affinity, already limited by the cpuset).
    pub allowed: CpuSet,
}

/// The cgroup cpuset that confines the process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cpuset {
    /// The cgroup path.
    pub cgroup: String,
    /// `cgroup v1` or `cgroup v2`.
    pub version: &'static str,
    /// Effective CPUs.
    pub cpus: CpuSet,
    /// Effective memory nodes.
    pub mems: CpuSet,
}

/// A process's placement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placement {
    /// Process id.
    pub pid: u32,
    /// Process name.
    pub comm: String,
    /// Its threads, by tid.
    pub threads: Vec<Thread>,
    /// Resident memory per node, in bytes (from `numa_maps`).
    pub memory_by_node: BTreeMap<u32, u64>,
    /// The cgroup cpuset, when the process is in one that limits it.
    pub cpuset: Option<Cpuset>,
    /// Average over threads of the share of the process's memory on the
    /// node the thread runs on: 1.0 = all local. `None` without memory.
    pub locality: Option<f64>,
    /// The leader thread has exited (a zombie) while other threads run:
    /// the memory was read through the thread given here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_via_thread: Option<u32>,
}

impl Placement {
    /// Total resident memory counted in `numa_maps`.
    #[must_use]
    pub fn memory_bytes(&self) -> u64 {
        self.memory_by_node.values().sum()
    }
}

/// Reads the placement of process `pid`.
///
/// Threads that exit while being read are skipped; a process that does not
/// exist is an error naming it.
pub fn inspect(roots: &Roots, topo: &Topology, pid: u32) -> Result<Placement, Error> {
    let dir = roots.proc.join(pid.to_string());
    let status_path = dir.join("status");
    let status = std::fs::read_to_string(&status_path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::new(&dir, format!("process {pid} does not exist"))
        } else {
            Error::io(&status_path, &e)
        }
    })?;
    let comm = status_field(&status, "Name").unwrap_or_default().to_owned();
    let threads = threads(&dir, topo)?;
    let mut memory_by_node = numa_maps(&dir.join("numa_maps"))?;
    // A zombie leader has no memory map of its own; its live threads
    // share the process's.
    let mut memory_via_thread = None;
    if status_field(&status, "State").is_some_and(|s| s.starts_with('Z'))
        && let Some(t) = threads.iter().find(|t| t.tid != pid)
    {
        memory_by_node = numa_maps(&dir.join("task").join(t.tid.to_string()).join("numa_maps"))?;
        memory_via_thread = Some(t.tid);
    }
    let cpuset = cpuset(roots, &dir)?;
    let locality = locality(&threads, &memory_by_node);
    Ok(Placement {
        pid,
        comm,
        threads,
        memory_by_node,
        cpuset,
        locality,
        memory_via_thread,
    })
}

/// Whether the process at `proc_dir` (`/proc/PID`) has exited or is
/// exiting: every thread is a zombie, is in `exit` (`PF_EXITING`), or has
/// a `SIGKILL` pending (how the kernel takes down the other threads of a
/// process that calls `exit_group` or is killed). A zombie leader whose
/// other threads run is not exiting. A process that cannot be read is
/// gone.
#[must_use]
pub fn exiting(proc_dir: &Path) -> bool {
    let Ok(tids) = thread_ids(proc_dir) else {
        return true;
    };
    tids.iter()
        .all(|tid| thread_exiting(&proc_dir.join("task").join(tid.to_string())))
}

fn thread_exiting(task: &Path) -> bool {
    const PF_EXITING: u64 = 0x4;
    const SIGKILL: u64 = 1 << 8;
    let (Ok(stat), Ok(status)) = (
        std::fs::read_to_string(task.join("stat")),
        std::fs::read_to_string(task.join("status")),
    ) else {
        return true;
    };
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return true;
    };
    let mut fields = rest.split_whitespace();
    let state = fields.next().unwrap_or("X");
    let flags: u64 = fields.nth(5).and_then(|f| f.parse().ok()).unwrap_or(0);
    let pending = |name: &str| {
        status_field(&status, name)
            .and_then(|m| u64::from_str_radix(m, 16).ok())
            .is_some_and(|m| m & SIGKILL != 0)
    };
    matches!(state, "Z" | "X" | "x")
        || flags & PF_EXITING != 0
        || pending("SigPnd")
        || pending("ShdPnd")
}

/// What kind of task a process is, from `/proc/PID/stat`: a kernel thread
/// (`PF_KTHREAD` in field 9, flags), a zombie (state `Z`, field 3), or
/// neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A user process.
    User,
    /// A kernel thread (kthreadd, kworkers, …): the kernel places it.
    KernelThread,
    /// Exited, not reaped yet.
    Zombie,
}

/// The [`Kind`] of the process whose `stat` this is; None when the text
/// has no such fields. Fields are counted after the command name's last
/// `)`, which may hold spaces and parentheses.
#[must_use]
pub fn kind(stat: &str) -> Option<Kind> {
    const PF_KTHREAD: u64 = 0x0020_0000;
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?;
    let flags: u64 = fields.nth(5)?.parse().ok()?;
    Some(if flags & PF_KTHREAD != 0 {
        Kind::KernelThread
    } else if state == "Z" {
        Kind::Zombie
    } else {
        Kind::User
    })
}

fn status_field<'a>(status: &'a str, name: &str) -> Option<&'a str> {
    status.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|r| r.strip_prefix(':'))
            .map(str::trim)
    })
}

/// Thread ids of a process (`/proc/PID/task`), ascending.
pub fn thread_ids(proc_dir: &Path) -> Result<Vec<u32>, Error> {
    let task = proc_dir.join("task");
    let mut tids = Vec::new();
    for entry in std::fs::read_dir(&task).map_err(|e| Error::io(&task, &e))? {
        let Ok(entry) = entry else { continue };
        if let Some(tid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
            tids.push(tid);
        }
    }
    tids.sort_unstable();
    Ok(tids)
}

fn threads(proc_dir: &Path, topo: &Topology) -> Result<Vec<Thread>, Error> {
    let mut out = Vec::new();
    for tid in thread_ids(proc_dir)? {
        let task = proc_dir.join("task").join(tid.to_string());
        // A thread that exits between listing and reading is gone, not an error.
        let (Some(stat), Some(status)) = (
            read_if_alive(&task.join("stat"))?,
            read_if_alive(&task.join("status"))?,
        ) else {
            continue;
        };
        let cpu = stat_processor(&stat)
            .ok_or_else(|| Error::new(&task.join("stat"), "no `processor` field (field 39)"))?;
        let allowed = status_field(&status, "Cpus_allowed_list")
            .ok_or_else(|| Error::new(&task.join("status"), "no Cpus_allowed_list"))
            .and_then(|l| CpuSet::parse(l).map_err(|m| Error::new(&task.join("status"), m)))?;
        out.push(Thread {
            tid,
            comm: status_field(&status, "Name").unwrap_or_default().to_owned(),
            cpu,
            node: topo.node_of_cpu(cpu),
            allowed,
        });
    }
    Ok(out)
}

fn read_if_alive(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || crate::sys::is_gone(&e) => Ok(None),
        Err(e) => Err(Error::io(path, &e)),
    }
}

/// Field 39 (`processor`) of `/proc/PID/task/TID/stat`. The name (field 2)
/// is in parentheses and may itself contain spaces and parentheses, so
/// counting starts after the last `)`.
#[must_use]
pub fn stat_processor(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // Field 3 is the first after the name; 39 - 3 = 36.
    rest.split_whitespace().nth(36)?.parse().ok()
}

/// Resident bytes per node: the `N<node>=<pages>` counts of every mapping
/// times its `kernelpagesize_kB`.
fn numa_maps(path: &Path) -> Result<BTreeMap<u32, u64>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, &e))?;
    parse_numa_maps(&text).map_err(|m| Error::new(path, m))
}

/// Parses `numa_maps` text.
pub fn parse_numa_maps(text: &str) -> Result<BTreeMap<u32, u64>, String> {
    let mut out: BTreeMap<u32, u64> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let mut page_kb = 4u64;
        let mut counts = Vec::new();
        for token in line.split_whitespace().skip(2) {
            if let Some(kb) = token.strip_prefix("kernelpagesize_kB=") {
                page_kb = kb
                    .parse()
                    .map_err(|e| format!("line {}: bad `{token}` ({e})", i + 1))?;
            } else if let Some((node, pages)) =
                token.strip_prefix('N').and_then(|t| t.split_once('='))
                && let (Ok(node), Ok(pages)) = (node.parse::<u32>(), pages.parse::<u64>())
            {
                counts.push((node, pages));
            }
        }
        for (node, pages) in counts {
            let bytes = pages.saturating_mul(page_kb).saturating_mul(1024);
            let slot = out.entry(node).or_default();
            *slot = slot.saturating_add(bytes);
        }
    }
    Ok(out)
}

fn locality(threads: &[Thread], memory: &BTreeMap<u32, u64>) -> Option<f64> {
    let total: u64 = memory.values().sum();
    if total == 0 || threads.is_empty() {
        return None;
    }
    #[expect(clippy::cast_precision_loss, reason = "a ratio of byte counts")]
    let share: f64 = threads
        .iter()
        .map(|t| {
            let local = t.node.and_then(|n| memory.get(&n)).copied().unwrap_or(0);
            local as f64 / total as f64
        })
        .sum();
    #[expect(clippy::cast_precision_loss, reason = "thread counts are small")]
    Some(share / threads.len() as f64)
}

/// The cgroup cpuset of the process: v2 (`cpuset.cpus.effective`) or v1
/// (`cpuset.effective_cpus`), `None` when no cpuset controller applies.
fn cpuset(roots: &Roots, proc_dir: &Path) -> Result<Option<Cpuset>, Error> {
    let path = proc_dir.join("cgroup");
    let Some(text) = read_if_alive(&path)? else {
        return Ok(None);
    };
    let base = roots.sys.join("fs/cgroup");
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(hierarchy), Some(controllers), Some(cgroup)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let rel = cgroup.trim_start_matches('/');
        let candidates: Vec<(PathBuf, &str, &str, &'static str)> =
            if controllers.split(',').any(|c| c == "cpuset") {
                let dir = base.join("cpuset").join(rel);
                vec![(
                    dir,
                    "cpuset.effective_cpus",
                    "cpuset.effective_mems",
                    "cgroup v1",
                )]
            } else if hierarchy == "0" && controllers.is_empty() {
                [base.join(rel), base.join("unified").join(rel)]
                    .into_iter()
                    .map(|d| {
                        (
                            d,
                            "cpuset.cpus.effective",
                            "cpuset.mems.effective",
                            "cgroup v2",
                        )
                    })
                    .collect()
            } else {
                continue;
            };
        for (dir, cpus_file, mems_file, version) in candidates {
            let cpus_path = dir.join(cpus_file);
            let Ok(cpus_text) = std::fs::read_to_string(&cpus_path) else {
                continue;
            };
            let cpus = CpuSet::parse(&cpus_text).map_err(|m| Error::new(&cpus_path, m))?;
            let mems_path = dir.join(mems_file);
            let mems = match std::fs::read_to_string(&mems_path) {
                Ok(t) => CpuSet::parse(&t).map_err(|m| Error::new(&mems_path, m))?,
                Err(_) => CpuSet::new(),
            };
            return Ok(Some(Cpuset {
                cgroup: cgroup.to_owned(),
                version,
                cpus,
                mems,
            }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_odd_names() {
        let fields: Vec<String> = (3..=52).map(|i| i.to_string()).collect();
        let stat = format!("123 (a) b (c)) {}", fields.join(" "));
        assert_eq!(stat_processor(&stat), Some(39));
        assert_eq!(stat_processor("1 (x) S 1"), None);
    }

    #[test]
    fn kernel_threads_and_zombies_are_told_apart() {
        use super::{Kind, kind};
        let kthreadd = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 5 0 0 20 0 1 0 2 0 0";
        assert_eq!(kind(kthreadd), Some(Kind::KernelThread));
        let zombie = "77 (a) b) Z 1 77 77 0 -1 4194372 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0";
        assert_eq!(kind(zombie), Some(Kind::Zombie));
        let user = "88 (svc) S 1 88 88 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 3 0 9 0 0";
        assert_eq!(kind(user), Some(Kind::User));
        assert_eq!(kind("88 (svc) S 1"), None);
    }

    #[test]
    fn numa_maps_counts_pages_by_size() {
        let text = "7f00 default anon=3 dirty=3 N0=3 kernelpagesize_kB=4\n\
                    7f10 bind:1 file=/x N1=2 kernelpagesize_kB=2048\n\
                    7f20 default\n";
        let m = parse_numa_maps(text).expect("parses");
        assert_eq!(m.get(&0), Some(&(3 * 4096)));
        assert_eq!(m.get(&1), Some(&(2 * 2048 * 1024)));
    }
}
