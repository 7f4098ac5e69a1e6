//! User-space side of govkit's eBPF tracer: preflight, loading the kernel
//! programs of `ebpf-programs/kernel` (embedded at build time), socket
//! tracking, DWARF unwinding and symbolization.
pub mod btf;
pub mod connections;
pub mod env;
pub mod frame;
pub mod gopclntab;
pub mod metrics;
pub mod procfs;
pub mod programs;
pub mod render;
pub mod sched;
pub mod sockdiag;
pub mod symbolize;
pub mod unwind;
pub mod web;
pub mod workload;

/// Errors that end a trace before it starts (all exit 2).
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The host lacks something: privilege, BTF, tracefs, a kernel feature.
    #[error("{0}")]
    Environment(String),
    /// A process to trace does not exist.
    #[error("process {0} does not exist")]
    NoProcess(u32),
    /// Bad input: an option's value (an address to listen on, a setting).
    #[error("{0}")]
    Input(String),
    /// This govkit was built without the kernel-side programs.
    #[error(
        "this govkit was built without its eBPF programs (tracebpf/objects/ was missing \
         from its source, or GOVKIT_EBPF_DIR named a folder without them): reinstall \
         from a complete clone, or run `cargo xtask build-ebpf` and rebuild"
    )]
    NotBuilt,
}

static OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/govkit-trace.bpf.o"));
static SCHED_OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/govkit-sched.bpf.o"));
static SCHED_COMPAT_OBJECT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/govkit-sched-compat.bpf.o"));

/// The embedded kernel-side object of the connections tracer, copied (the
/// ELF parser wants it 8-byte aligned).
pub fn object_bytes() -> Result<Vec<u8>, TraceError> {
    if OBJECT.is_empty() {
        return Err(TraceError::NotBuilt);
    }
    Ok(OBJECT.to_vec())
}

/// The embedded kernel-side object of the scheduler tracer: the BTF build,
/// or (`compat`) the build for kernels that refuse it.
pub fn sched_object_bytes(compat: bool) -> Result<Vec<u8>, TraceError> {
    let object = if compat {
        SCHED_COMPAT_OBJECT
    } else {
        SCHED_OBJECT
    };
    if object.is_empty() {
        return Err(TraceError::NotBuilt);
    }
    Ok(object.to_vec())
}

/// Whether the kernel-side programs are embedded.
#[must_use]
pub fn programs_embedded() -> bool {
    !OBJECT.is_empty() && !SCHED_OBJECT.is_empty() && !SCHED_COMPAT_OBJECT.is_empty()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The tracers share their machinery through `programs`, `procfs`,
    /// `btf` and `env`, never through each other: a `use` of the other
    /// tracer would tie them in a circle again.
    #[test]
    fn the_tracers_do_not_import_each_other() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{e}"));
        let mut connections: Vec<(String, String)> = std::fs::read_dir(src.join("connections"))
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|e| e.unwrap_or_else(|e| panic!("{e}")).path())
            .map(|p| (p.display().to_string(), read(&p)))
            .collect();
        assert!(connections.len() >= 4, "connections/ has its modules");
        connections.sort();
        for (path, text) in &connections {
            assert!(
                !text.contains("crate::sched"),
                "{path} uses the sched tracer"
            );
        }
        let sched = read(&src.join("sched.rs"));
        assert!(
            !sched.contains("crate::connections"),
            "sched.rs uses the connections tracer"
        );
    }
}
