//! Preflight: everything the tracer needs from the host, checked before any
//! program is loaded so that a missing piece is one clear message (exit 2)
//! instead of a verifier or `EPERM` puzzle.

use std::fs;
use std::path::{Path, PathBuf};

use crate::TraceError;

pub const TRACEFS: &str = "/sys/kernel/tracing";
pub const BPFFS: &str = "/sys/fs/bpf";
pub const BTF: &str = "/sys/kernel/btf/vmlinux";

/// What preflight found and did.
#[derive(Debug, Default)]
pub struct Host {
    pub tracefs: PathBuf,
    /// Mounts govkit made itself (reported on stderr).
    pub mounted: Vec<String>,
    pub kernel: String,
}

fn capabilities() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
    u64::from_str_radix(line.trim_start_matches("CapEff:").trim(), 16).ok()
}

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

fn is_mounted(path: &str, fstype: &str) -> bool {
    fs::read_to_string("/proc/self/mounts").is_ok_and(|m| {
        m.lines().any(|l| {
            let mut f = l.split_whitespace();
            let (_, point, ty) = (f.next(), f.next(), f.next());
            point == Some(path) && ty == Some(fstype)
        })
    })
}

fn mount(fstype: &str, target: &str) -> Result<(), String> {
    let out = std::process::Command::new("mount")
        .args(["-t", fstype, fstype, target])
        .output()
        .map_err(|e| format!("running mount: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

fn kernel_release() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// (major, minor) of a release string like "6.1.0-28-cloud-amd64".
#[must_use]
pub fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Oldest kernel with everything the programs use: ring buffers (5.8),
/// `bpf_task_pt_regs` (5.15), BTF in sysfs.
pub const MIN_KERNEL: (u32, u32) = (5, 15);

pub fn preflight() -> Result<Host, TraceError> {
    let kernel = kernel_release();
    if let Some(v) = kernel_version(&kernel)
        && v < MIN_KERNEL
    {
        return Err(TraceError::Environment(format!(
            "kernel {kernel} is too old: govkit trace needs Linux {}.{} or newer (BPF ring buffer, bpf_task_pt_regs)",
            MIN_KERNEL.0, MIN_KERNEL.1
        )));
    }
    let caps = capabilities().unwrap_or(0);
    let has = |c: u32| caps & (1 << c) != 0;
    if !(has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))) {
        return Err(TraceError::Environment(
            "govkit trace loads eBPF programs: run it as root, or give it CAP_BPF and CAP_PERFMON \
             (e.g. `sudo setcap cap_bpf,cap_perfmon,cap_sys_ptrace+ep $(command -v govkit)`)"
                .into(),
        ));
    }
    if !Path::new(BTF).exists() {
        return Err(TraceError::Environment(format!(
            "{BTF} does not exist: this kernel was built without CONFIG_DEBUG_INFO_BTF, which govkit trace needs \
             to find kernel structure offsets"
        )));
    }
    let mut host = Host {
        tracefs: PathBuf::from(TRACEFS),
        kernel,
        ..Host::default()
    };
    if !Path::new(TRACEFS).join("events").is_dir() {
        if Path::new("/sys/kernel/debug/tracing/events").is_dir() {
            host.tracefs = PathBuf::from("/sys/kernel/debug/tracing");
        } else if !is_mounted(TRACEFS, "tracefs") {
            match mount("tracefs", TRACEFS) {
                Ok(()) => host.mounted.push(format!("tracefs at {TRACEFS}")),
                // Another tracer starting at the same moment mounted it.
                Err(_) if is_mounted(TRACEFS, "tracefs") => {}
                Err(e) => {
                    return Err(TraceError::Environment(format!(
                        "tracefs is not mounted at {TRACEFS} and mounting it failed ({e}); \
                         run `mount -t tracefs tracefs {TRACEFS}` as root"
                    )));
                }
            }
        }
    }
    // bpffs is not needed for loading (nothing is pinned), but aya-log and
    // operators expect it; mount it when missing and it can be, else go on.
    if Path::new(BPFFS).is_dir() && !is_mounted(BPFFS, "bpf") && mount("bpf", BPFFS).is_ok() {
        host.mounted.push(format!("bpffs at {BPFFS}"));
    }
    Ok(host)
}

/// Offsets of the named fields in a tracepoint's `format` file.
pub fn tracepoint_fields(
    tracefs: &Path,
    category: &str,
    name: &str,
    fields: &[&str],
) -> Result<Vec<u32>, TraceError> {
    let path = tracefs
        .join("events")
        .join(category)
        .join(name)
        .join("format");
    let text = fs::read_to_string(&path).map_err(|e| {
        TraceError::Environment(format!(
            "cannot read {} ({e}): the kernel has no tracepoint {category}:{name}",
            path.display()
        ))
    })?;
    fields
        .iter()
        .map(|want| {
            parse_field_offset(&text, want).ok_or_else(|| {
                TraceError::Environment(format!(
                    "{}: no field `{want}` in tracepoint {category}:{name}",
                    path.display()
                ))
            })
        })
        .collect()
}

/// Finds `field:<type> <name>[...];\toffset:N;` and returns N.
#[must_use]
pub fn parse_field_offset(format: &str, want: &str) -> Option<u32> {
    format.lines().find_map(|line| {
        let decl = line.trim().strip_prefix("field:")?;
        let (decl, rest) = decl.split_once(';')?;
        let name = decl.rsplit([' ', '*']).next()?;
        let name = name.split('[').next()?;
        if name != want {
            return None;
        }
        let off = rest.trim().strip_prefix("offset:")?.split(';').next()?;
        off.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMAT: &str = "name: inet_sock_set_state\nID: 2287\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\
        \tfield:const void * skaddr;\toffset:8;\tsize:8;\tsigned:0;\n\
        \tfield:int oldstate;\toffset:16;\tsize:4;\tsigned:1;\n\
        \tfield:__u8 saddr_v6[16];\toffset:40;\tsize:16;\tsigned:0;\n";

    #[test]
    fn field_offsets_from_a_format_file() {
        assert_eq!(parse_field_offset(FORMAT, "skaddr"), Some(8));
        assert_eq!(parse_field_offset(FORMAT, "oldstate"), Some(16));
        assert_eq!(parse_field_offset(FORMAT, "saddr_v6"), Some(40));
        assert_eq!(parse_field_offset(FORMAT, "saddr"), None);
    }

    #[test]
    fn kernel_versions() {
        assert_eq!(kernel_version("6.1.0-28-cloud-amd64"), Some((6, 1)));
        assert_eq!(kernel_version("6.18.44-fc-v595"), Some((6, 18)));
        assert_eq!(kernel_version("garbage"), None);
    }
}
