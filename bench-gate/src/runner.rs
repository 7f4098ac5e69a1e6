//! Running a workspace's bench targets the way the gate needs them: cargo
//! builds every selected bench target once, then each executable runs one
//! allocation pass (bench-gate's `Allocations`/`AllocatedBytes`
//! measurements) and `count` timing passes (criterion's wall clock), each
//! into its own scratch directory, and the results are read back as one
//! [`Measured`] per benchmark.

use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use crate::gate::{self, Measured};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunPlan {
    /// The cargo workspace.
    pub root: PathBuf,
    /// Only these packages (empty: the whole workspace).
    pub packages: Vec<String>,
    /// Only these bench targets (empty: every one).
    pub benches: Vec<String>,
    /// Timing passes per bench target.
    pub count: u32,
    /// Passed to every criterion run (`--measurement-time`, …).
    pub criterion_args: Vec<String>,
    /// Criterion's id filter.
    pub filter: Option<String>,
}

/// Why a bench run could not produce results.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// cargo or a bench executable could not be started.
    #[error("cannot run {}: {source}", program.display())]
    Spawn {
        /// What was started.
        program: PathBuf,
        /// Why it did not start.
        source: io::Error,
    },
    /// cargo's JSON messages could not be read.
    #[error("reading cargo's output: {0}")]
    CargoOutput(io::Error),
    /// cargo failed to build the benchmarks (its errors went to stderr).
    #[error("the benchmarks failed to build (cargo's errors are above)")]
    Build,
    /// The selection has no bench target.
    #[error("no bench targets to run")]
    NoTargets,
    /// The scratch directory for criterion's output could not be made.
    #[error("cannot create a scratch directory: {0}")]
    Scratch(io::Error),
    /// The allocation pass wrote nothing: the target does not use
    /// `bench_gate::main!`.
    #[error("bench {label} wrote no allocation results ({source})")]
    NoAllocations {
        /// `package/target`.
        label: String,
        /// What was missing.
        source: gate::Error,
    },
    /// A pass's results could not be read.
    #[error("bench {label}: {source}")]
    Results {
        /// `package/target`.
        label: String,
        /// What is wrong.
        source: gate::Error,
    },
    /// A bench executable failed: its status and the tail of its output.
    #[error("bench {name} ({mode} pass) failed with {status}:\n{output}")]
    Crashed {
        /// The bench target.
        name: String,
        /// `allocs` or `time`.
        mode: &'static str,
        /// How it ended.
        status: ExitStatus,
        /// The last 40 lines of its stdout and stderr.
        output: String,
    },
}

/// A bench executable cargo built.
#[derive(Debug, Clone)]
struct Executable {
    package: String,
    name: String,
    path: PathBuf,
}

/// Builds the plan's bench targets and measures each benchmark: exact
/// allocations and bytes per operation from one pass, and one median time
/// per operation from each of `count` passes. `progress` is told which
/// target and pass runs.
pub fn measure(plan: &RunPlan, progress: &mut dyn FnMut(&str)) -> Result<Vec<Measured>, RunError> {
    let exes = build(plan)?;
    let work = tempfile::tempdir().map_err(RunError::Scratch)?;
    let mut all = Vec::new();
    for exe in &exes {
        let label = format!("{}/{}", exe.package, exe.name);
        let dir = work.path().join(&exe.name);
        progress(&format!("bench {label}: allocation pass"));
        run_exe(exe, "allocs", &dir.join("allocs-pass"), plan)?;
        let allocs = gate::read_results(&dir.join("allocs-pass/allocs")).map_err(|source| {
            RunError::NoAllocations {
                label: label.clone(),
                source,
            }
        })?;
        let results = |source| RunError::Results {
            label: label.clone(),
            source,
        };
        let bytes = gate::read_results(&dir.join("allocs-pass/bytes")).map_err(results)?;
        let mut runs = Vec::new();
        for k in 1..=plan.count {
            progress(&format!("bench {label}: timing run {k} of {}", plan.count));
            let run_dir = dir.join(format!("time-{k}"));
            run_exe(exe, "time", &run_dir, plan)?;
            runs.push(gate::read_results(&run_dir.join("time")).map_err(results)?);
        }
        for (id, samples) in &allocs {
            let time_runs_ns = runs
                .iter()
                .filter_map(|r| r.get(id).and_then(gate::run_median_ns))
                .collect();
            all.push(Measured {
                id: id.clone(),
                allocs_per_op: gate::per_op(samples),
                bytes_per_op: bytes.get(id).map_or(
                    gate::PerOp {
                        value: 0,
                        exact: false,
                    },
                    gate::per_op,
                ),
                time_runs_ns,
            });
        }
    }
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(all)
}

/// `cargo bench --no-run` for the plan's selection; the executables it
/// built.
fn build(plan: &RunPlan) -> Result<Vec<Executable>, RunError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&plan.root).args([
        "bench",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    if plan.packages.is_empty() {
        cmd.arg("--workspace");
    }
    for p in &plan.packages {
        cmd.args(["--package", p]);
    }
    if plan.benches.is_empty() {
        cmd.arg("--benches");
    }
    for b in &plan.benches {
        cmd.args(["--bench", b]);
    }
    let spawn_error = |source| RunError::Spawn {
        program: PathBuf::from(&cargo),
        source,
    };
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(spawn_error)?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| RunError::CargoOutput(io::Error::other("no stdout from cargo")))?;
    let mut exes = Vec::new();
    for message in cargo_metadata::Message::parse_stream(BufReader::new(stdout)) {
        let message = message.map_err(RunError::CargoOutput)?;
        if let cargo_metadata::Message::CompilerArtifact(a) = message
            && a.target.kind.iter().any(|k| k.to_string() == "bench")
            && let Some(exe) = a.executable
        {
            exes.push(Executable {
                package: short_package(&a.package_id.repr),
                name: a.target.name.clone(),
                path: exe.into_std_path_buf(),
            });
        }
    }
    let status = child.wait().map_err(RunError::CargoOutput)?;
    if !status.success() {
        return Err(RunError::Build);
    }
    if exes.is_empty() {
        return Err(RunError::NoTargets);
    }
    Ok(exes)
}

/// The package name out of a package id: `name 0.1.0 (source)` (old
/// cargo), `source#name@0.1.0`, or `path+file:///…/name#0.1.0` (the name
/// left out when it is the directory's).
fn short_package(repr: &str) -> String {
    let Some((source, fragment)) = repr.rsplit_once('#') else {
        return repr.split(' ').next().unwrap_or(repr).to_owned();
    };
    match fragment.split_once('@') {
        Some((name, _)) => name.to_owned(),
        None => source
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(source)
            .to_owned(),
    }
}

/// Runs one pass of a bench executable; a failure carries its output.
fn run_exe(
    exe: &Executable,
    mode: &'static str,
    out_dir: &Path,
    plan: &RunPlan,
) -> Result<(), RunError> {
    let mut cmd = Command::new(&exe.path);
    cmd.current_dir(&plan.root)
        .arg("--bench")
        .args(&plan.criterion_args)
        .env("BENCH_GATE_MODE", mode)
        .env("BENCH_GATE_OUT", out_dir);
    if mode == "time" {
        cmd.arg("--noplot");
    }
    if let Some(f) = &plan.filter {
        cmd.arg(f);
    }
    let out = cmd.output().map_err(|source| RunError::Spawn {
        program: exe.path.clone(),
        source,
    })?;
    if !out.status.success() {
        let mut shown = String::from_utf8_lossy(&out.stdout).into_owned();
        shown.push_str(&String::from_utf8_lossy(&out.stderr));
        let tail: Vec<&str> = shown.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(RunError::Crashed {
            name: exe.name.clone(),
            mode,
            status: out.status,
            output: tail.join("\n"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn package_names() {
        use super::short_package;
        assert_eq!(short_package("path+file:///work/main/lints#0.1.0"), "lints");
        assert_eq!(
            short_package("path+file:///w/bench-gate/fixture#bench-gate-fixture@0.0.0"),
            "bench-gate-fixture"
        );
        assert_eq!(short_package("lints 0.1.0 (path+file:///w/lints)"), "lints");
    }
}
