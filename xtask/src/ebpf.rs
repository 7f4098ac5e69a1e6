//! `cargo xtask build-ebpf`: builds the kernel-side programs
//! (ebpf-programs/kernel) with the pinned nightly and bpf-linker and puts the
//! object where tracebpf's build script embeds it
//! (target/ebpf/govkit-{trace,sched}.bpf.o). The toolchain is installed on first use
//! by scripts/ebpf/install-toolchain.sh (cached per nightly pin).
use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// The kernel crate's binaries, one object each: the connections tracer and
/// the scheduler tracer.
const OBJECTS: [&str; 3] = ["govkit-trace", "govkit-sched", "govkit-sched-compat"];

pub fn build(repo: &Path) -> anyhow::Result<()> {
    let script = repo.join("scripts/ebpf/install-toolchain.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let tools = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let kernel = repo.join("ebpf-programs/kernel");
    let pin = std::fs::read_to_string(kernel.join("nightly-pin"))
        .context("reading ebpf-programs/kernel/nightly-pin")?;
    let path = format!("{tools}/bin:{}", std::env::var("PATH").unwrap_or_default());
    let target_dir = repo.join("target/ebpf/build");
    let status = Command::new("rustup")
        .args(["run", pin.trim(), "cargo", "build", "--release", "--locked"])
        .args(["--target", "bpfel-unknown-none", "-Z", "build-std=core"])
        .arg("--target-dir")
        .arg(&target_dir)
        .current_dir(&kernel)
        .env("PATH", path)
        .env(
            "CARGO_ENCODED_RUSTFLAGS",
            "--cfg=bpf_target_arch=\"x86_64\"\x1f-Cdebuginfo=2\x1f-Ctarget-cpu=v3\x1f-Clink-arg=--btf",
        )
        // The outer `cargo xtask` sets these for the stable toolchain.
        .env_remove("RUSTC")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .status()
        .context("running cargo for ebpf-programs/kernel")?;
    if !status.success() {
        bail!("building ebpf-programs/kernel failed");
    }
    for bin in OBJECTS {
        let built = target_dir.join("bpfel-unknown-none/release").join(bin);
        let dest = repo.join(format!("target/ebpf/{bin}.bpf.o"));
        std::fs::copy(&built, &dest)
            .with_context(|| format!("copying {} to {}", built.display(), dest.display()))?;
        // govkit: allow(print-stderr) -- progress of a developer tool
        eprintln!("xtask: wrote {}", dest.display());
    }
    Ok(())
}
