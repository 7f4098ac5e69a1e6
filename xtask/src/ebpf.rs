//! `cargo xtask build-ebpf [--check]`: builds the kernel-side programs
//! (ebpf-programs/kernel) with the pinned nightly and bpf-linker, strips their
//! DWARF (the kernel reads BTF) and writes the objects that are committed in
//! `tracebpf/objects/` and embedded by tracebpf's build script, so that
//! `cargo install` on a stable toolchain alone gives a working tracer.
//!
//! `--check` rebuilds into a scratch folder and fails unless every object is
//! byte for byte the committed one: a stale or tampered object cannot pass CI.
//! Builds are reproducible: every absolute path (the checkout, the cargo
//! registry, the toolchain's library sources) is trimmed to a fixed name.
//! The toolchain is installed on first use by scripts/ebpf/install-toolchain.sh
//! (cached per nightly pin).
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The kernel crate's binaries, one object each: the connections tracer and
/// the scheduler tracer's two builds.
const OBJECTS: [&str; 3] = ["govkit-trace", "govkit-sched", "govkit-sched-compat"];

/// Where the committed objects live (inside the tracebpf package, so that
/// `cargo install --git` and `cargo package` carry them).
pub const COMMITTED: &str = "tracebpf/objects";

pub fn build(repo: &Path, args: &[&str]) -> anyhow::Result<()> {
    let check = match args {
        [] => false,
        ["--check"] => true,
        _ => bail!("usage: cargo xtask build-ebpf [--check]"),
    };
    let built = compile(repo)?;
    let committed = repo.join(COMMITTED);
    if check {
        let mut differ = Vec::new();
        for bin in OBJECTS {
            let name = format!("{bin}.bpf.o");
            let fresh = std::fs::read(built.join(&name))?;
            let kept = std::fs::read(committed.join(&name)).unwrap_or_default();
            if fresh != kept {
                differ.push(format!(
                    "{COMMITTED}/{name}: {} bytes committed, {} bytes built from source",
                    kept.len(),
                    fresh.len()
                ));
            }
        }
        if !differ.is_empty() {
            bail!(
                "the committed eBPF objects are not what the source builds:\n  {}\nrun `cargo xtask build-ebpf` and commit {COMMITTED}/",
                differ.join("\n  ")
            );
        }
        // govkit: allow(print-stderr) -- progress of a developer tool
        eprintln!("xtask: {COMMITTED}/ is byte for byte what the source builds");
        return Ok(());
    }
    std::fs::create_dir_all(&committed)?;
    for bin in OBJECTS {
        let name = format!("{bin}.bpf.o");
        let dest = committed.join(&name);
        std::fs::copy(built.join(&name), &dest)
            .with_context(|| format!("writing {}", dest.display()))?;
        // govkit: allow(print-stderr) -- progress of a developer tool
        eprintln!("xtask: wrote {}", dest.display());
    }
    Ok(())
}

/// Builds the objects and returns the folder holding the stripped
/// `<bin>.bpf.o` files (under target/, never the committed folder).
fn compile(repo: &Path) -> anyhow::Result<PathBuf> {
    let repo = &repo
        .canonicalize()
        .with_context(|| format!("resolving {}", repo.display()))?;
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
    let pin = pin.trim();
    let sysroot =
        capture(Command::new("rustup").args(["run", pin, "rustc", "--print", "sysroot"]))?;
    let path = format!("{tools}/bin:{}", std::env::var("PATH").unwrap_or_default());
    let target_dir = repo.join("target/ebpf/build");
    // Absolute paths end up in BTF line information. Cargo's trim-paths
    // maps the checkout, the registry and the toolchain's sources to fixed
    // names, so the objects do not depend on where these are. (Not
    // --remap-path-prefix in RUSTFLAGS: RUSTFLAGS enter the crates' metadata
    // hash, and so the symbol names, which would then vary by checkout.)
    let flags = [
        "--cfg=bpf_target_arch=\"x86_64\"",
        "-Cdebuginfo=2",
        "-Ctarget-cpu=v3",
        "-Clink-arg=--btf",
    ];
    let status = Command::new("rustup")
        .args(["run", pin, "cargo", "build", "--release", "--locked"])
        .args(["--target", "bpfel-unknown-none", "-Z", "build-std=core"])
        .args(["-Z", "trim-paths"])
        .env("CARGO_PROFILE_RELEASE_TRIM_PATHS", "all")
        .arg("--target-dir")
        .arg(&target_dir)
        .current_dir(&kernel)
        .env("PATH", path)
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"))
        // The outer `cargo xtask` sets these for the stable toolchain.
        .env_remove("RUSTC")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .status()
        .context("running cargo for ebpf-programs/kernel")?;
    if !status.success() {
        bail!("building ebpf-programs/kernel failed");
    }
    let objcopy = Path::new(&sysroot).join("lib/rustlib/x86_64-unknown-linux-gnu/bin/llvm-objcopy");
    let out_dir = repo.join("target/ebpf/stripped");
    std::fs::create_dir_all(&out_dir)?;
    for bin in OBJECTS {
        let linked = target_dir.join("bpfel-unknown-none/release").join(bin);
        let dest = out_dir.join(format!("{bin}.bpf.o"));
        // DWARF is only the input of bpf-linker's BTF; the loader and the
        // kernel use .BTF and .BTF.ext (line info for verifier messages),
        // which stay.
        let status = Command::new(&objcopy)
            .arg("--strip-debug")
            .arg(&linked)
            .arg(&dest)
            .status()
            .with_context(|| format!("running {}", objcopy.display()))?;
        if !status.success() {
            bail!(
                "{} --strip-debug {} failed",
                objcopy.display(),
                linked.display()
            );
        }
    }
    Ok(out_dir)
}

fn capture(command: &mut Command) -> anyhow::Result<String> {
    let out = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !out.status.success() {
        bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
