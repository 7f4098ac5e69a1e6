//! Running a workspace's bench targets the way the gate needs them: cargo
//! builds every selected bench target once; each executable lists its
//! benchmarks (and says whether it is a bench-gate target), runs one
//! allocation pass (bench-gate's `Allocations`/`AllocatedBytes`
//! measurements; plain `criterion_main!` targets are timed only) and
//! `count` timing passes (criterion's wall clock), each into its own
//! scratch directory, and the results are read back as one [`Measured`]
//! per benchmark.
//!
//! With `against`, the same happens for another revision, built in a
//! temporary git worktree, and the timing passes alternate between the two
//! builds, one benchmark at a time ([`measure_against`]).

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::gate::{self, Measured, PerOp, Samples};

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
    /// Set (by SIGINT or SIGTERM) to stop between runs; the temporary
    /// worktree and directories are removed on the way out.
    pub stop: Option<Arc<AtomicBool>>,
}

impl RunPlan {
    fn stopped(&self) -> Result<(), RunError> {
        match &self.stop {
            Some(s) if s.load(Ordering::Relaxed) => Err(RunError::Interrupted),
            _ => Ok(()),
        }
    }
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
    /// The selection has no bench target, or none with a criterion
    /// benchmark that matches the filter.
    #[error("no criterion benchmarks to run{}", if skipped.is_empty() { String::new() } else { format!(" ({})", skipped.join("; ")) })]
    NoTargets {
        /// Targets passed over, and why.
        skipped: Vec<String>,
    },
    /// git could not answer (not a repository, git missing).
    #[error("--against needs the workspace in a git repository: {0}")]
    Git(String),
    /// The revision of `--against` is not a commit of this repository.
    #[error("--against {rev}: not a commit of this repository ({message})")]
    UnknownRev {
        /// As given.
        rev: String,
        /// git's words.
        message: String,
    },
    /// Tracked files have changes: what would be compared is not a commit.
    /// (Untracked files are not looked at: a `> comment.md` redirection
    /// creates one before govkit starts.)
    #[error("--against compares commits, and the work tree has uncommitted changes: {}", files.iter().map(|f| f.trim()).collect::<Vec<_>>().join(", "))]
    Dirty {
        /// `git status --porcelain` lines (the first ten).
        files: Vec<String>,
    },
    /// The temporary worktree could not be made.
    #[error("cannot check out {rev} in a temporary worktree: {message}")]
    Worktree {
        /// As given.
        rev: String,
        /// Why.
        message: String,
    },
    /// The other revision's benchmarks failed to build.
    #[error(
        "--against {rev} ({commit}): its benchmarks failed to build (cargo's errors are above)"
    )]
    RevBuild {
        /// As given.
        rev: String,
        /// Its commit, abbreviated.
        commit: String,
    },
    /// Stopped by SIGINT or SIGTERM.
    #[error("interrupted")]
    Interrupted,
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
        /// The bench target (with the revision, for `--against`'s).
        name: String,
        /// `allocs`, `time` or `list`.
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
    /// The package's directory: cargo runs benches from there.
    dir: PathBuf,
    /// Shown in messages: the revision, for the other side of `--against`.
    side: Option<String>,
}

impl Executable {
    fn label(&self) -> String {
        format!("{}/{}", self.package, self.name)
    }

    fn shown(&self) -> String {
        match &self.side {
            Some(rev) => format!("{} at {rev}", self.name),
            None => self.name.clone(),
        }
    }
}

/// What a bench executable holds: its criterion benchmark ids (matching
/// the filter) and whether it counts allocations (bench-gate).
#[derive(Debug, Clone, Default)]
struct Listing {
    bench_gate: bool,
    ids: Vec<String>,
}

/// The outcome of [`measure`].
#[derive(Debug, Clone, Default)]
pub struct Measurement {
    /// Every benchmark, by id.
    pub measured: Vec<Measured>,
    /// Bench targets timed without allocation counts (plain
    /// `criterion_main!`), as `package/target`.
    pub time_only: Vec<String>,
    /// Bench targets passed over, and why (not criterion, nothing matched).
    pub skipped: Vec<String>,
}

/// The outcome of [`measure_against`].
#[derive(Debug, Clone, Default)]
pub struct Paired {
    /// The work tree's side: allocations, and one median per round.
    pub new: Measurement,
    /// The other revision's side, the same benchmarks, the same rounds.
    pub old: Vec<Measured>,
    /// The other revision's commit (full hash).
    pub commit: String,
    /// Benchmarks (or targets) on one side only: not compared, and why.
    pub not_compared: Vec<String>,
}

/// Builds the plan's bench targets and measures each benchmark: exact
/// allocations and bytes per operation from one pass, and one median time
/// per operation from each of `count` passes. `progress` is told which
/// target and pass runs.
pub fn measure(plan: &RunPlan, progress: &mut dyn FnMut(&str)) -> Result<Measurement, RunError> {
    let exes = build(&plan.root, plan, None)?;
    let work = tempfile::Builder::new()
        .prefix("govkit-bench-")
        .tempdir()
        .map_err(RunError::Scratch)?;
    let mut out = Measurement::default();
    for (i, exe) in exes.iter().enumerate() {
        let label = exe.label();
        let dir = work.path().join(format!("{i}"));
        let Some(listing) = listed(exe, plan, &dir, &mut out.skipped)? else {
            continue;
        };
        let counted = if listing.bench_gate {
            progress(&format!("bench {label}: allocation pass"));
            Some(allocation_pass(exe, plan, &dir)?)
        } else {
            out.time_only.push(label.clone());
            None
        };
        let mut runs = Vec::new();
        for k in 1..=plan.count {
            progress(&format!("bench {label}: timing run {k} of {}", plan.count));
            runs.push(time_pass(exe, plan, &dir.join(format!("time-{k}")), None)?);
        }
        for id in &listing.ids {
            let time_runs_ns = runs
                .iter()
                .filter_map(|r| r.get(id).and_then(gate::run_median_ns))
                .collect();
            out.measured
                .push(measured(id, counted.as_ref(), time_runs_ns));
        }
    }
    if out.measured.is_empty() {
        return Err(RunError::NoTargets {
            skipped: out.skipped,
        });
    }
    out.measured.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

type Counted = (BTreeMap<String, PerOp>, BTreeMap<String, PerOp>);

fn measured(id: &str, counted: Option<&Counted>, time_runs_ns: Vec<f64>) -> Measured {
    Measured {
        id: id.to_owned(),
        allocs_per_op: counted.and_then(|c| c.0.get(id).copied()),
        bytes_per_op: counted.and_then(|c| c.1.get(id).copied()),
        time_runs_ns,
    }
}

/// Builds the work tree's and `rev`'s bench targets (the other in a
/// temporary git worktree, sharing the target directory and so the
/// dependencies' builds), counts allocations on both sides, then runs
/// each benchmark present on both sides `count` rounds, old and new
/// alternately (the order swapping every round), so that drift of the
/// machine hits both alike. The worktree and every scratch directory are
/// gone when this returns, whatever it returns.
pub fn measure_against(
    plan: &RunPlan,
    rev: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<Paired, RunError> {
    let repo = Repo::open(&plan.root)?;
    let commit = repo.commit(rev)?;
    repo.require_clean()?;
    let short = commit[..commit.len().min(12)].to_owned();
    let target_dir = target_directory(&plan.root)?;
    let work = tempfile::Builder::new()
        .prefix("govkit-bench-")
        .tempdir()
        .map_err(RunError::Scratch)?;
    let worktree = repo.worktree(rev, &commit)?;
    let old_root = worktree.path.join(&repo.relative_root);
    progress(&format!("building the benchmarks of {rev} ({short})"));
    let old_exes = build_rev(plan, rev, &short, &old_root, &target_dir, work.path())?;
    plan.stopped()?;
    clean_members(&plan.root, &target_dir)?;
    let new_exes = build(&plan.root, plan, None)?;
    let mut out = Paired {
        commit,
        ..Paired::default()
    };
    let mut pairs: Vec<Pair<'_>> = Vec::new();
    let mut counted_new = BTreeMap::new();
    let mut counted_old = BTreeMap::new();
    let mut listings = Vec::new();
    for (i, new) in new_exes.iter().enumerate() {
        let label = new.label();
        let dir = work.path().join(format!("new-{i}"));
        let Some(listing) = listed(new, plan, &dir, &mut out.new.skipped)? else {
            continue;
        };
        if listing.bench_gate {
            progress(&format!("bench {label}: allocation pass"));
            counted_new.insert(i, allocation_pass(new, plan, &dir)?);
        } else {
            out.new.time_only.push(label.clone());
        }
        let old = old_exes
            .iter()
            .enumerate()
            .find(|(_, o)| o.package == new.package && o.name == new.name);
        let old_ids = if let Some((j, old)) = old {
            let dir = work.path().join(format!("old-{j}"));
            let old_listing = list(old, plan, &dir)?;
            if old_listing.bench_gate && listing.bench_gate {
                progress(&format!("bench {label} at {rev}: allocation pass"));
                counted_old.insert(i, allocation_pass(old, plan, &dir)?);
            }
            old_listing.ids
        } else {
            out.not_compared
                .push(format!("{label}: a bench target only in the work tree"));
            Vec::new()
        };
        for id in &listing.ids {
            match old {
                Some((_, o)) if old_ids.contains(id) => pairs.push((id.clone(), new, o)),
                Some(_) => out.not_compared.push(format!("{label} {id}: not at {rev}")),
                None => {}
            }
        }
        listings.push((i, listing));
    }
    let mut runs = run_rounds(plan, &pairs, work.path(), progress)?.into_iter();
    for (i, listing) in &listings {
        let new = &new_exes[*i];
        for id in &listing.ids {
            let paired = pairs
                .iter()
                .position(|(pid, n, _)| pid == id && std::ptr::eq(*n, new));
            let [new_runs, old_runs] = match paired {
                Some(_) => runs.next().unwrap_or_default(),
                None => [Vec::new(), Vec::new()],
            };
            out.new
                .measured
                .push(measured(id, counted_new.get(i), new_runs));
            if paired.is_some() {
                out.old.push(measured(id, counted_old.get(i), old_runs));
            }
        }
    }
    if out.new.measured.is_empty() {
        return Err(RunError::NoTargets {
            skipped: std::mem::take(&mut out.new.skipped),
        });
    }
    out.new.measured.sort_by(|a, b| a.id.cmp(&b.id));
    drop(work);
    drop(worktree);
    Ok(out)
}

/// Builds `rev`'s bench targets in its worktree at `old_root` and copies
/// the executables into `work`.
///
/// Cargo names a workspace's own crates' outputs, and records their
/// sources, relative to the workspace: the same wherever it sits. So two
/// builds of one workspace at two paths would take each other's outputs
/// for up to date. Each side's own crates are cleaned before it builds
/// (the dependencies stay, shared), and `rev`'s executables are copied out
/// before the work tree's build replaces them, so the target directory
/// ends as the work tree's build.
fn build_rev(
    plan: &RunPlan,
    rev: &str,
    short: &str,
    old_root: &Path,
    target_dir: &Path,
    work: &Path,
) -> Result<Vec<Executable>, RunError> {
    clean_members(old_root, target_dir)?;
    let mut exes = match build(old_root, plan, Some(target_dir)) {
        Ok(exes) => exes,
        Err(RunError::Build | RunError::NotGeneric { .. } | RunError::NoTargets { .. }) => {
            return Err(RunError::RevBuild {
                rev: rev.to_owned(),
                commit: short.to_owned(),
            });
        }
        Err(e) => return Err(e),
    };
    let bin = work.join("bin");
    std::fs::create_dir_all(&bin).map_err(RunError::Scratch)?;
    for (i, exe) in exes.iter_mut().enumerate() {
        let copy = bin.join(format!("{i}-{}", exe.name));
        std::fs::copy(&exe.path, &copy).map_err(RunError::Scratch)?;
        exe.path = copy;
        exe.side = Some(rev.to_owned());
    }
    Ok(exes)
}

/// One benchmark to compare: its id, and the two executables holding it.
type Pair<'a> = (String, &'a Executable, &'a Executable);

/// Median time per round of each pair's benchmark on each side (new,
/// old), in the order of `pairs`: old and new alternately, the order
/// swapping every round.
fn run_rounds(
    plan: &RunPlan,
    pairs: &[Pair<'_>],
    work: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<[Vec<f64>; 2]>, RunError> {
    let mut all = Vec::new();
    for (b, (id, new, old)) in pairs.iter().enumerate() {
        let [mut new_runs, mut old_runs] = [Vec::new(), Vec::new()];
        for k in 0..plan.count {
            plan.stopped()?;
            progress(&format!(
                "bench {} {id}: round {} of {}",
                new.label(),
                k + 1,
                plan.count
            ));
            // ABBA: the order swaps every round, so neither side always
            // runs first (warm caches, turbo budget, thermal state).
            let order = if k % 2 == 0 { [old, new] } else { [new, old] };
            for exe in order {
                let dir = work.join(format!("round-{b}-{k}-{}", exe.side.is_some()));
                let results = time_pass(exe, plan, &dir, Some(id))?;
                let median = results
                    .get(id.as_str())
                    .and_then(gate::run_median_ns)
                    .ok_or_else(|| RunError::Results {
                        label: exe.label(),
                        source: gate::Error {
                            path: dir.clone(),
                            message: format!("no result for {id}"),
                        },
                    })?;
                // Each round's results are read; the directory can go.
                std::fs::remove_dir_all(&dir).unwrap_or_default();
                if exe.side.is_some() {
                    old_runs.push(median);
                } else {
                    new_runs.push(median);
                }
            }
        }
        all.push([new_runs, old_runs]);
    }
    Ok(all)
}

/// The cargo workspace's target directory (shared with the other
/// revision's build, so dependencies build once).
fn target_directory(root: &Path) -> Result<PathBuf, RunError> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(root.join(dir));
    }
    let metadata = cargo_metadata::MetadataCommand::new()
        .current_dir(root)
        .no_deps()
        .exec()
        .map_err(|e| RunError::CargoOutput(io::Error::other(e.to_string())))?;
    Ok(metadata.target_directory.into_std_path_buf())
}

/// `cargo clean --profile bench -p MEMBER…` for the workspace at `root`:
/// its own crates' bench builds go, its dependencies' stay.
fn clean_members(root: &Path, target_dir: &Path) -> Result<(), RunError> {
    let failed = |e: String| RunError::CargoOutput(io::Error::other(e));
    let metadata = cargo_metadata::MetadataCommand::new()
        .current_dir(root)
        .no_deps()
        .exec()
        .map_err(|e| failed(e.to_string()))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(root)
        .env("CARGO_TARGET_DIR", target_dir)
        .args(["clean", "--quiet", "--profile", "bench"]);
    for p in &metadata.packages {
        cmd.args(["-p", &p.name]);
    }
    let out = cmd.output().map_err(|source| RunError::Spawn {
        program: PathBuf::from(&cargo),
        source,
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(failed(format!(
            "cargo clean: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// The git repository holding the workspace.
struct Repo {
    top: PathBuf,
    /// The workspace's directory relative to `top`.
    relative_root: PathBuf,
}

/// A temporary `git worktree`, removed (with its directory and git's
/// record of it) when dropped.
struct Worktree {
    top: PathBuf,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Worktree {
    fn drop(&mut self) {
        // Best effort on the way out; `worktree prune` drops git's record
        // if the removal itself failed half way.
        let path = self.path.as_os_str();
        let _removed = git(
            &self.top,
            &[
                "worktree".as_ref(),
                "remove".as_ref(),
                "--force".as_ref(),
                path,
            ],
        );
        let _pruned = git(&self.top, &["worktree", "prune"]);
    }
}

/// `git -C dir ARGS…`: its stdout, or the first line of its stderr.
fn git<S: AsRef<std::ffi::OsStr>>(dir: &Path, args: &[S]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(err.lines().next().unwrap_or("git failed").trim().to_owned())
    }
}

impl Repo {
    fn open(root: &Path) -> Result<Repo, RunError> {
        let top = git(root, &["rev-parse", "--show-toplevel"]).map_err(RunError::Git)?;
        let top = PathBuf::from(top);
        let canonical = |p: &Path| {
            p.canonicalize()
                .map_err(|e| RunError::Git(format!("{}: {e}", p.display())))
        };
        let (top, root) = (canonical(&top)?, canonical(root)?);
        let relative_root = root
            .strip_prefix(&top)
            .map_err(|e| {
                RunError::Git(format!(
                    "{} is not inside {}: {e}",
                    root.display(),
                    top.display()
                ))
            })?
            .to_path_buf();
        Ok(Repo { top, relative_root })
    }

    fn commit(&self, rev: &str) -> Result<String, RunError> {
        let unknown = |message: String| RunError::UnknownRev {
            rev: rev.to_owned(),
            message,
        };
        if rev.starts_with('-') {
            return Err(unknown("a revision cannot start with '-'".to_owned()));
        }
        git(
            &self.top,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &format!("{rev}^{{commit}}"),
            ],
        )
        .map_err(|e| {
            unknown(if e.is_empty() || e == "git failed" {
                "git rev-parse --verify found nothing".to_owned()
            } else {
                e
            })
        })
    }

    fn require_clean(&self) -> Result<(), RunError> {
        let root = self.top.join(&self.relative_root);
        let status = git(
            &self.top,
            &[
                "status".as_ref(),
                "--porcelain".as_ref(),
                "--untracked-files=no".as_ref(),
                "--".as_ref(),
                root.as_os_str(),
            ],
        )
        .map_err(RunError::Git)?;
        let files: Vec<String> = status.lines().take(10).map(str::to_owned).collect();
        if files.is_empty() {
            Ok(())
        } else {
            Err(RunError::Dirty { files })
        }
    }

    fn worktree(&self, rev: &str, commit: &str) -> Result<Worktree, RunError> {
        let failed = |message: String| RunError::Worktree {
            rev: rev.to_owned(),
            message,
        };
        let dir = tempfile::Builder::new()
            .prefix("govkit-against-")
            .tempdir()
            .map_err(|e| failed(e.to_string()))?;
        let path = dir.path().join("tree");
        let tree = Worktree {
            top: self.top.clone(),
            path: path.clone(),
            _dir: dir,
        };
        git(
            &self.top,
            &[
                "worktree".as_ref(),
                "add".as_ref(),
                "--detach".as_ref(),
                "--quiet".as_ref(),
                path.as_os_str(),
                commit.as_ref(),
            ],
        )
        .map_err(failed)?;
        Ok(tree)
    }
}

/// `cargo bench --no-run` for the plan's selection in `root`; the
/// executables it built.
fn build(
    root: &Path,
    plan: &RunPlan,
    target_dir: Option<&Path>,
) -> Result<Vec<Executable>, RunError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(root).args([
        "bench",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    if let Some(t) = target_dir {
        cmd.env("CARGO_TARGET_DIR", t);
    }
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
                dir: a
                    .manifest_path
                    .parent()
                    .map_or_else(|| root.to_path_buf(), |d| d.as_std_path().to_path_buf()),
                side: None,
            });
        }
    }
    let status = child.wait().map_err(RunError::CargoOutput)?;
    let errors = errors.and_then(|t| t.join().ok()).unwrap_or_default();
    // A build cut short by Ctrl-C is an interruption, not a build error.
    plan.stopped()?;
    if !status.success() {
        let functions = not_generic(&errors);
        return Err(if functions.is_empty() {
            RunError::Build
        } else {
            RunError::NotGeneric { functions }
        });
    }
    if exes.is_empty() {
        return Err(RunError::NoTargets {
            skipped: Vec::new(),
        });
    }
    Ok(exes)
}

/// Lists a bench executable's benchmarks (criterion's `--list`, with
/// the filter) and whether it is a bench-gate target.
fn list(exe: &Executable, plan: &RunPlan, dir: &Path) -> Result<Listing, RunError> {
    let mut extra = vec!["--list".to_owned()];
    extra.extend(plan.filter.clone());
    let stdout = run_exe(exe, "list", dir, plan, &extra)?;
    let mut listing = Listing::default();
    for line in stdout.lines() {
        if line == crate::PROTOCOL_LINE {
            listing.bench_gate = true;
        } else if let Some(id) = line.strip_suffix(": benchmark")
            && !listing.ids.iter().any(|i| i == id)
        {
            listing.ids.push(id.to_owned());
        }
    }
    Ok(listing)
}

/// [`list`], with a target that has no matching criterion benchmark
/// recorded in `skipped` instead.
fn listed(
    exe: &Executable,
    plan: &RunPlan,
    dir: &Path,
    skipped: &mut Vec<String>,
) -> Result<Option<Listing>, RunError> {
    let listing = list(exe, plan, dir)?;
    if listing.ids.is_empty() {
        skipped.push(format!("{}: no criterion benchmark matched", exe.label()));
        return Ok(None);
    }
    Ok(Some(listing))
}

/// The allocation pass: allocations and bytes per operation, by id.
fn allocation_pass(exe: &Executable, plan: &RunPlan, dir: &Path) -> Result<Counted, RunError> {
    plan.stopped()?;
    let dir = dir.join("allocs-pass");
    run_exe(
        exe,
        "allocs",
        &dir,
        plan,
        &plan.filter.clone().into_iter().collect::<Vec<_>>(),
    )?;
    let allocs =
        gate::read_results(&dir.join("allocs")).map_err(|source| RunError::NoAllocations {
            label: exe.label(),
            source,
        })?;
    let bytes = gate::read_results(&dir.join("bytes")).map_err(|source| RunError::Results {
        label: exe.label(),
        source,
    })?;
    let per_op = |m: BTreeMap<String, Samples>| {
        m.iter()
            .map(|(id, s)| (id.clone(), gate::per_op(s)))
            .collect::<BTreeMap<_, _>>()
    };
    Ok((per_op(allocs), per_op(bytes)))
}

/// One timing pass (of one benchmark with `exact`, else of the filter's):
/// criterion's samples by id.
fn time_pass(
    exe: &Executable,
    plan: &RunPlan,
    dir: &Path,
    exact: Option<&str>,
) -> Result<BTreeMap<String, Samples>, RunError> {
    plan.stopped()?;
    let mut extra = vec!["--noplot".to_owned()];
    match exact {
        Some(id) => extra.extend(["--exact".to_owned(), id.to_owned()]),
        None => extra.extend(plan.filter.clone()),
    }
    run_exe(exe, "time", dir, plan, &extra)?;
    gate::read_results(&dir.join("time")).map_err(|source| RunError::Results {
        label: exe.label(),
        source,
    })
}

/// Runs one pass of a bench executable from its package's directory, as
/// cargo would; a failure carries its output. Criterion's results go under
/// `out_dir`: a bench-gate target's by `BENCH_GATE_OUT`, a plain one's by
/// `CRITERION_HOME`, both to `out_dir/time` for the timing pass.
fn run_exe(
    exe: &Executable,
    mode: &'static str,
    out_dir: &Path,
    plan: &RunPlan,
    extra: &[String],
) -> Result<String, RunError> {
    let mut cmd = Command::new(&exe.path);
    cmd.current_dir(&exe.dir)
        .arg("--bench")
        .args(&plan.criterion_args)
        .args(extra)
        .env("CARGO_MANIFEST_DIR", &exe.dir)
        .env("BENCH_GATE_MODE", mode)
        .env("BENCH_GATE_OUT", out_dir)
        .env("CRITERION_HOME", out_dir.join("time"))
        .stdin(Stdio::null());
    let out = cmd.output().map_err(|source| RunError::Spawn {
        program: exe.path.clone(),
        source,
    })?;
    if !out.status.success() {
        plan.stopped()?;
        let mut shown = String::from_utf8_lossy(&out.stdout).into_owned();
        shown.push_str(&String::from_utf8_lossy(&out.stderr));
        let tail: Vec<&str> = shown.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(RunError::Crashed {
            name: exe.shown(),
            mode,
            status: out.status,
            output: tail.join("\n"),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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
