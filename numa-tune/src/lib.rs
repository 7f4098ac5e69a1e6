//! NUMA placement for Rust services: the host's topology from sysfs, where
//! a process's threads run and its memory lives, a placement plan, pinning
//! threads to their node, and a hook a service calls at start.
//!
//! Sysfs and procfs are parsed in Rust under overridable roots, so fixture
//! trees stand in for multi-socket hosts in tests. Affinity and memory
//! policy go through the kernel's syscalls ([`sys`]).
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

pub mod cpulist;
pub mod hook;
pub mod pin;
pub mod plan;
pub mod process;
pub mod sys;
pub mod topology;

pub use cpulist::CpuSet;
pub use topology::{Cpu, Node, Topology};

/// Every parser of kernel text, for the fuzz target (`numa-tune/fuzz`):
/// none may panic, whatever the input.
#[doc(hidden)]
pub fn fuzz_parsers(text: &str) {
    if let Ok(set) = CpuSet::parse(text) {
        std::hint::black_box(set.to_string());
    }
    if let Ok(set) = CpuSet::parse_mask(text) {
        std::hint::black_box(set.to_string());
    }
    std::hint::black_box(process::parse_numa_maps(text).is_ok());
    std::hint::black_box(process::stat_processor(text));
    std::hint::black_box(pin::start_time(text));
    std::hint::black_box(process::kind(text));
    std::hint::black_box(topology::parse_meminfo(text, 0).is_ok());
    std::hint::black_box(topology::parse_distances(text, 2).is_ok());
}

/// An input that could not be read or does not say what it must: names the
/// file (or process) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct Error {
    /// The file, directory or `/proc/PID` the error is about.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
    /// Whether the cause is a missing privilege (EPERM/EACCES).
    pub permission: bool,
}

impl Error {
    pub(crate) fn new(path: &Path, message: impl Into<String>) -> Error {
        Error {
            path: path.to_path_buf(),
            message: message.into(),
            permission: false,
        }
    }

    pub(crate) fn io(path: &Path, e: &std::io::Error) -> Error {
        let permission = e.kind() == std::io::ErrorKind::PermissionDenied;
        let message = match e.kind() {
            std::io::ErrorKind::NotFound => "not found".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => {
                let s = e.to_string();
                s.find(" (os error")
                    .map_or(s.clone(), |i| s[..i].to_owned())
            }
        };
        Error {
            path: path.to_path_buf(),
            message,
            permission,
        }
    }
}
