//! Pinning a live process's threads to one node, and undoing it.
//!
//! [`pin_threads`] narrows each thread's affinity to the node's CPUs
//! *within what the thread already has* (never widening it, so a cpuset is
//! never escaped and the kernel never answers `EINVAL`), picking up threads
//! created meanwhile, and records every thread's previous affinity in a
//! [`PinRecord`]. [`restore`] sets them back. The record carries the
//! process's start time ([`start_time`]), so a record is never applied to a
//! process that reused the PID.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cpulist::CpuSet;
use crate::{Error, process, sys};

/// What pinning changed, for restoring it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinRecord {
    /// The process.
    pub pid: u32,
    /// `/proc/PID/stat` field 22 (see [`start_time`]), so a reused PID is
    /// not mistaken for the process that was pinned.
    pub start_time: u64,
    /// The node the threads were pinned to.
    pub node: u32,
    /// Thread id → affinity before pinning (kernel list format).
    pub threads: Vec<(u32, String)>,
    /// Affinity set by pinning → the affinity it replaced. Threads created
    /// after `apply` inherit their creator's pinned affinity; `restore`
    /// sets a thread it has no entry for back when it carries one of these.
    /// (Records of older govkit versions lack it.)
    #[serde(default)]
    pub masks: Vec<(String, String)>,
}

impl PinRecord {
    /// Where the record of process `pid` is kept in `dir`.
    #[must_use]
    pub fn path(dir: &Path, pid: u32) -> PathBuf {
        dir.join(format!("{pid}.json"))
    }
}

/// What [`pin_threads`] did to each thread.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pinned {
    /// Threads pinned: thread id, affinity before, affinity after.
    pub pinned: Vec<(u32, CpuSet, CpuSet)>,
    /// Threads that exited while they were being pinned.
    pub vanished: Vec<u32>,
    /// Threads left alone, and why (their allowed CPUs exclude the node).
    pub left: Vec<(u32, String)>,
}

/// What [`restore`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restored {
    /// Threads set back to their recorded affinity.
    pub restored: usize,
    /// Recorded threads that have exited since.
    pub exited: usize,
    /// Threads created after `apply` that carried a pinned affinity, set
    /// back to the affinity it replaced.
    pub born_since: usize,
}

/// Why pinning or restoring stopped.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// The process's thread list could not be read.
    #[error(transparent)]
    Threads(#[from] Error),
    /// The kernel refused to change (or tell) a thread's affinity.
    #[error("cannot change the affinity of thread {tid}: {source}")]
    Affinity {
        /// The thread.
        tid: u32,
        /// The kernel's answer.
        source: io::Error,
    },
    /// A recorded affinity is not a CPU list.
    #[error("thread {tid}: {message}")]
    BadRecord {
        /// The thread.
        tid: u32,
        /// What is wrong with its entry.
        message: String,
    },
}

/// The start time of a process (field 22 of `/proc/PID/stat`, in clock
/// ticks since boot), or None when `stat` has no such field. The command
/// name (field 2) may hold spaces and parentheses, so fields are counted
/// from its last `)`.
#[must_use]
pub fn start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Narrows the affinity of every thread of the process at `proc_dir`
/// (`/proc/PID`) to `node_cpus`, recording in `record` the previous
/// affinity of each thread it changes. Threads created while it works are
/// picked up: it lists them again until a pass finds nothing new (at most
/// five passes, so a process that creates threads without end cannot hold
/// it).
pub fn pin_threads(
    proc_dir: &Path,
    node: u32,
    node_cpus: &CpuSet,
    record: &mut PinRecord,
) -> Result<Pinned, PinError> {
    let mut out = Pinned::default();
    for _pass in 0..5 {
        let tids = process::thread_ids(proc_dir)?;
        let new: Vec<u32> = tids
            .into_iter()
            .filter(|t| {
                !record.threads.iter().any(|(r, _)| r == t)
                    && !out.vanished.contains(t)
                    && !out.left.iter().any(|(l, _)| l == t)
            })
            .collect();
        if new.is_empty() {
            break;
        }
        for tid in new {
            let before = match sys::get_affinity(tid) {
                Ok(a) => a,
                Err(e) if sys::is_gone(&e) => {
                    out.vanished.push(tid);
                    continue;
                }
                Err(source) => return Err(PinError::Affinity { tid, source }),
            };
            // Never widen: the new set is inside what the thread has now,
            // which the kernel already limited to its cpuset.
            let after = before.intersection(node_cpus);
            if after.is_empty() {
                out.left.push((
                    tid,
                    format!("its allowed CPUs {before} exclude node {node}"),
                ));
                continue;
            }
            if after == before {
                continue;
            }
            match sys::set_affinity(tid, &after) {
                Ok(()) => {
                    record.remember_mask(&after, &before);
                    record.threads.push((tid, before.to_string()));
                    out.pinned.push((tid, before, after));
                }
                Err(e) if sys::is_gone(&e) => out.vanished.push(tid),
                Err(source) => return Err(PinError::Affinity { tid, source }),
            }
        }
    }
    Ok(out)
}

impl PinRecord {
    /// Notes that pinning turned `before` into `after` (the first `before`
    /// seen for an `after` stays: the leader's, as threads are listed in
    /// ascending order).
    pub fn remember_mask(&mut self, after: &CpuSet, before: &CpuSet) {
        let after = after.to_string();
        if !self.masks.iter().any(|(a, _)| *a == after) {
            self.masks.push((after, before.to_string()));
        }
    }

    /// What `apply` is about to do to the threads of the process at
    /// `proc_dir`: each thread whose affinity narrowing to `node_cpus`
    /// changes, with its affinity now, and the masks. Written before the
    /// first change, so that a `govkit` killed half-way leaves a record
    /// `revert` can undo (threads not reached yet are set to what they
    /// have).
    pub fn intent(
        proc_dir: &Path,
        node_cpus: &CpuSet,
        record: &PinRecord,
    ) -> Result<PinRecord, PinError> {
        let mut intent = record.clone();
        for tid in process::thread_ids(proc_dir)? {
            let Ok(before) = sys::get_affinity(tid) else {
                continue;
            };
            let after = before.intersection(node_cpus);
            if !after.is_empty() && after != before {
                intent.remember_mask(&after, &before);
                intent.threads.push((tid, before.to_string()));
            }
        }
        Ok(intent)
    }
}

/// Sets every thread of `record` back to its recorded affinity (threads
/// that have exited are counted, not errors), then every other thread of
/// the process at `proc_dir` that carries an affinity pinning set (created
/// after `apply`, inheriting its creator's) back to the affinity that one
/// replaced. Threads created meanwhile are picked up: the thread list is
/// read again until a pass finds nothing to restore (at most five passes).
pub fn restore(record: &PinRecord, proc_dir: &Path) -> Result<Restored, PinError> {
    let mut done = Restored::default();
    let parse = |tid: u32, list: &str| {
        CpuSet::parse(list).map_err(|message| PinError::BadRecord { tid, message })
    };
    for (tid, before) in &record.threads {
        match sys::set_affinity(*tid, &parse(*tid, before)?) {
            Ok(()) => done.restored += 1,
            Err(e) if sys::is_gone(&e) => done.exited += 1,
            Err(source) => return Err(PinError::Affinity { tid: *tid, source }),
        }
    }
    let mut masks = Vec::new();
    for (after, before) in &record.masks {
        masks.push((parse(0, after)?, parse(0, before)?));
    }
    if masks.is_empty() {
        return Ok(done);
    }
    for _pass in 0..5 {
        let Ok(tids) = process::thread_ids(proc_dir) else {
            // The process is gone: nothing left to restore.
            break;
        };
        let mut found = 0;
        for tid in tids {
            if record.threads.iter().any(|(t, _)| *t == tid) {
                continue;
            }
            let Ok(now) = sys::get_affinity(tid) else {
                continue;
            };
            let Some((_, before)) = masks.iter().find(|(after, _)| *after == now) else {
                continue;
            };
            match sys::set_affinity(tid, before) {
                Ok(()) => found += 1,
                Err(e) if sys::is_gone(&e) => {}
                Err(source) => return Err(PinError::Affinity { tid, source }),
            }
        }
        done.born_since += found;
        if found == 0 {
            break;
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_field_22_counted_after_the_command_name() {
        let stat =
            "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 987654 1000 10";
        assert_eq!(start_time(stat), Some(987_654));
        assert_eq!(start_time("4242 (x) S 1"), None);
        assert_eq!(start_time("no parenthesis"), None);
    }

    #[test]
    fn restore_refuses_an_entry_that_is_not_a_cpu_list() {
        let record = PinRecord {
            pid: 1,
            start_time: 1,
            node: 0,
            threads: vec![(u32::MAX, "not-a-list".to_owned())],
            masks: Vec::new(),
        };
        assert!(matches!(
            restore(&record, Path::new("/proc/self")),
            Err(PinError::BadRecord { tid: u32::MAX, .. })
        ));
    }
}
