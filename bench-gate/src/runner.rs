//! Running a workspace's bench targets the way the gate needs them: cargo
//! builds every selected bench target once, then each executable runs one
//! allocation pass (bench-gate's `Allocations`/`AllocatedBytes`
//! measurements) and `count` timing passes (criterion's wall clock), each
//! into its own scratch directory, and the results are read back as one
//! [`Measured`] per benchmark.

use std::io::{self, BufRead, BufReader, Write};
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
    /// The build failed because bench functions given to
    /// `bench_gate::main!` take `&mut Criterion` (criterion's default
    /// measurement) where the macro also runs them with its counting ones.
    #[error(
        "{} {} `&mut Criterion`, but `bench_gate::main!` also runs {} with its allocation-counting measurements, so {} must be generic over the measurement (the compiler's E0308 above)",
        functions.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "),
        if functions.len() == 1 { "takes" } else { "take" },
        if functions.len() == 1 { "it" } else { "them" },
        if functions.len() == 1 { "it" } else { "they" }
    )]
    NotGeneric {
        /// The bench functions, as `fn NAME` lines from the compiler's
        /// output (their names).
        functions: Vec<String>,
    },
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
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_error)?;
    // cargo's errors go on to our stderr as they come, and are kept to
    // recognise the one mistake the bench-gate change invites.
    let errors = child.stderr.take().map(|err| {
        std::thread::spawn(move || {
            let mut seen = String::new();
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut out = io::stderr().lock();
                // Where our stderr went is the user's business.
                writeln!(out, "{line}").unwrap_or_default();
                seen.push_str(&line);
                seen.push('\n');
            }
            seen
        })
    });
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
    let errors = errors.and_then(|t| t.join().ok()).unwrap_or_default();
    if !status.success() {
        let functions = not_generic(&errors);
        return Err(if functions.is_empty() {
            RunError::Build
        } else {
            RunError::NotGeneric { functions }
        });
    }
    if exes.is_empty() {
        return Err(RunError::NoTargets);
    }
    Ok(exes)
}

/// The bench functions the compiler says `bench_gate::main!` passed a
/// counting `Criterion<…>` where they take `&mut Criterion` (E0308 inside
/// the macro), by name, from its rendered errors.
#[must_use]
pub fn not_generic(rendered: &str) -> Vec<String> {
    let mut names = Vec::new();
    for error in rendered.split("error[").skip(1) {
        if !error.starts_with("E0308]")
            || !error.contains("originates in the macro `bench_gate::main`")
            || !error.contains("found `&mut Criterion<")
        {
            continue;
        }
        // "note: function defined here" quotes the bench function's line.
        let name = error
            .split("function defined here")
            .nth(1)
            .and_then(|rest| rest.split("fn ").nth(1))
            .map(|s| {
                s.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .filter(|n| !n.is_empty());
        if let Some(name) = name
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    names
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
    /// The compiler's rendered errors (rustc 1.95) for two bench functions
    /// left non-generic, and an unrelated E0308 that must not count.
    #[test]
    fn non_generic_bench_functions_are_found_by_name() {
        let rendered = "error[E0308]: mismatched types\n --> benches/b.rs:9:1\n  |\n9 | bench_gate::main!(encode, decode);\n  | ^^^^^^^^^^^^^^^^^^^^^^^^^^\n  | expected `&mut Criterion`, found `&mut Criterion<Allocations>`\nnote: function defined here\n --> benches/b.rs:5:4\n  |\n5 | fn encode(c: &mut Criterion) {\n  |    ^^^^^^ -----------------\n  = note: this error originates in the macro `bench_gate::main` (in Nightly builds, run with -Z macro-backtrace for more info)\n\nerror[E0308]: mismatched types\n --> benches/b.rs:9:1\n  | expected `&mut Criterion`, found `&mut Criterion<AllocatedBytes>`\nnote: function defined here\n --> benches/b.rs:5:4\n5 | fn encode(c: &mut Criterion) {\n  = note: this error originates in the macro `bench_gate::main` (in Nightly builds, run with -Z macro-backtrace for more info)\n\nerror[E0308]: mismatched types\n  | expected `&mut Criterion`, found `&mut Criterion<Allocations>`\nnote: function defined here\n7 | pub fn decode_all(c: &mut Criterion) {\n  = note: this error originates in the macro `bench_gate::main` (in Nightly builds, run with -Z macro-backtrace for more info)\n\nerror[E0308]: mismatched types\n --> benches/b.rs:12:9\n  | expected `u32`, found `&str`\n";
        assert_eq!(super::not_generic(rendered), ["encode", "decode_all"]);
        assert!(super::not_generic("error[E0425]: cannot find value `x`").is_empty());
    }

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
