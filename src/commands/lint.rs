use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context as _;
use clap::Args;
use diagnostics::{Report, RuleInfo, Severity};
use lints::{Linter, SourceFile, rules};

use crate::Context;
use crate::cli::OutputFormat;
use crate::config::Config;
use crate::error::{Outcome, UserError};
use crate::output::{Stdout, stdout_color};

/// Check Rust code against the organisation's rules.
///
/// Lints every `.rs` file of the workspace (honouring .gitignore), or the
/// given files and directories, including code inside macro invocations.
/// Exit 1 when an error-level finding remains. Rules, levels and per-path
/// ignores come from `[lint]` in govkit.toml.
#[derive(Debug, Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each flag is an independent command-line switch"
)]
pub struct LintArgs {
    /// Files or directories to lint (default: the workspace: the directory
    /// of govkit.toml, else the current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Run only this rule (repeatable).
    #[arg(long = "rule", value_name = "RULE", value_parser = rule_names(false), hide_possible_values = true)]
    pub rules: Vec<String>,

    /// List the rules with their default level and summary.
    #[arg(long, conflicts_with_all = ["explain", "staged"])]
    pub list_rules: bool,

    /// Print a rule's documentation: what it flags, why, and what to write instead.
    #[arg(long, value_name = "RULE", conflicts_with = "staged", value_parser = rule_names(true), hide_possible_values = true)]
    pub explain: Option<String>,

    /// Lint the staged content of staged files (the git index, not the work
    /// tree): what the pre-commit hook runs.
    #[arg(long, conflicts_with = "paths")]
    pub staged: bool,

    /// After the findings, print how many each rule produced.
    #[arg(long)]
    pub statistics: bool,

    /// Report only findings that are not in this baseline file (see
    /// --write-baseline); findings move with their code, not their line.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Record every current finding in FILE and exit 0: adopt govkit on
    /// existing code, then gate only new findings with --baseline.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["baseline", "fix"])]
    pub write_baseline: Option<PathBuf>,

    /// Report only findings on lines changed since the git revision REV
    /// (committed, staged or not, plus untracked files).
    #[arg(long, value_name = "REV", conflicts_with = "staged")]
    pub new_from_rev: Option<String>,

    /// Apply unambiguous fixes (e.g. remove `dbg!`) to the files, then
    /// report what remains.
    #[arg(long, conflicts_with = "staged")]
    pub fix: bool,

    /// Do not read or write the result cache (kept under the workspace's
    /// target directory, keyed on file content, settings and govkit version).
    #[arg(long)]
    pub no_cache: bool,
}

/// The rule names (and the engine's codes, for `--explain`), so shells
/// complete them and a typo is caught with a suggestion.
fn rule_names(engine_codes: bool) -> clap::builder::PossibleValuesParser {
    let rules = rules::ALL
        .iter()
        .map(|r| clap::builder::PossibleValue::new(r.name).help(r.summary));
    let codes = rules::ENGINE_CODES
        .iter()
        .filter(move |_| engine_codes)
        .map(|c| clap::builder::PossibleValue::new(c.code).help(c.summary));
    clap::builder::PossibleValuesParser::new(rules.chain(codes))
}

pub fn run(ctx: &Context, args: &LintArgs) -> anyhow::Result<Outcome> {
    let mut out = Stdout::new();
    if args.list_rules {
        list_rules(&mut out)?;
        return Ok(Outcome::Pass);
    }
    if let Some(name) = &args.explain {
        explain(name, &mut out)?;
        return Ok(Outcome::Pass);
    }
    let config = ctx.config()?;
    let mut settings = lint_settings(&config)?;
    settings.only.clone_from(&args.rules);
    let linter = Linter::new(&settings)
        .map_err(|e| UserError::new(e.to_string(), "`govkit lint --list-rules` lists the rules"))?;

    let root = workspace_root(ctx, &config);
    let cache = (!args.no_cache).then(|| cache_for(&root, &settings));
    let mut report = if args.staged {
        lint_staged(ctx, &linter, cache.as_ref())?
    } else {
        let roots = if args.paths.is_empty() {
            default_roots(&config, &root)
        } else {
            args.paths.iter().map(|p| ctx.cwd.join(p)).collect()
        };
        if args.fix {
            apply_fixes(ctx, &linter, &roots)?;
        }
        lint_roots(ctx, &linter, &roots, &root, cache.as_ref())?
    };
    if let Some(rev) = &args.new_from_rev {
        keep_changed_lines(ctx, &mut report, rev)?;
    }
    if let Some(file) = &args.write_baseline {
        let file = ctx.cwd.join(file);
        write_baseline(&report, &file)?;
        crate::output::status(
            ctx.global.quiet,
            &format!(
                "recorded {} findings in {}",
                report.diagnostics.len(),
                file.display()
            ),
        );
        return Ok(Outcome::Pass);
    }
    let baseline = args.baseline.as_ref().map(|b| ctx.cwd.join(b)).or_else(|| {
        config
            .gates
            .lint
            .as_ref()
            .and_then(|l| l.baseline.as_ref())
            .map(|b| config.root.join(b))
    });
    if let Some(file) = baseline {
        apply_baseline(&mut report, &file)?;
    }

    let format = ctx.global.format.unwrap_or(OutputFormat::Human);
    let options = super::render_options(ctx, stdout_color(ctx.global.color));
    if args.statistics {
        let stats = statistics(&report);
        report.set_field("statistics", serde_json::to_value(&stats)?);
        diagnostics::render::render(format.into(), &[&report], &options, &mut out)?;
        if format == OutputFormat::Human {
            writeln!(out)?;
            for (rule, n) in &stats {
                writeln!(out, "{n:>6}  {rule}")?;
            }
        }
    } else {
        diagnostics::render::render(format.into(), &[&report], &options, &mut out)?;
    }
    out.flush()?;
    Ok(Outcome::of(&report))
}

/// The lint gate for `govkit check`: the configured paths, every rule.
pub fn gate(ctx: &Context, config: &Config) -> anyhow::Result<Report> {
    let settings = lint_settings(config)?;
    let linter = Linter::new(&settings)?;
    let cache = cache_for(&config.root, &settings);
    let mut report = lint_roots(
        ctx,
        &linter,
        &default_roots(config, &config.root),
        &config.root,
        Some(&cache),
    )?;
    if let Some(b) = config.gates.lint.as_ref().and_then(|l| l.baseline.as_ref()) {
        apply_baseline(&mut report, &config.root.join(b))?;
    }
    Ok(report)
}

fn fingerprints(report: &Report) -> Vec<lints::baseline::Fingerprint> {
    lints::baseline::fingerprints(&report.diagnostics, |p| report.sources.get(p).map(|s| &**s))
}

fn write_baseline(report: &Report, file: &Path) -> anyhow::Result<()> {
    let baseline = lints::baseline::Baseline::new(fingerprints(report));
    let text = serde_json::to_string_pretty(&baseline)? + "\n";
    crate::output::write_atomically(file, text.as_bytes())
}

fn apply_baseline(report: &mut Report, file: &Path) -> anyhow::Result<()> {
    let baseline = lints::baseline::Baseline::load(file).map_err(|e| {
        UserError::new(
            e.to_string(),
            "write one with `govkit lint --write-baseline FILE`",
        )
    })?;
    let fps = fingerprints(report);
    let all = std::mem::take(&mut report.diagnostics);
    let (kept, covered, fixed) = baseline.filter(all, &fps);
    report.diagnostics = kept;
    report.set_field("baselined", covered);
    report.set_field("fixed_since_baseline", fixed);
    if fixed > 0 {
        tracing::info!(
            "{fixed} findings in {} are fixed; rewrite it to lock that in",
            file.display()
        );
    }
    Ok(())
}

/// Rewrites files in place with the linter's unambiguous fixes. Each file
/// is replaced atomically, so an interrupted run leaves old or new text,
/// never a mix.
fn apply_fixes(ctx: &Context, linter: &Linter, roots: &[PathBuf]) -> anyhow::Result<()> {
    let files = lints::discover(roots, &ctx.cwd)
        .map_err(|e| UserError::new(e.to_string(), "check the paths"))?;
    let mut total = 0;
    for f in files.iter().filter(|f| !linter.excluded(&f.display)) {
        let Ok(text) = std::fs::read_to_string(&f.path) else {
            continue;
        };
        if let Some((fixed, n)) = linter.fix_source(&f.display, &text, f.kind) {
            crate::output::write_atomically(&f.path, fixed.as_bytes())?;
            total += n;
        }
    }
    crate::output::status(ctx.global.quiet, &format!("applied {total} fixes"));
    Ok(())
}

/// Keeps only findings on lines changed since `rev` (per `git diff`), plus
/// everything in untracked files.
fn keep_changed_lines(ctx: &Context, report: &mut Report, rev: &str) -> anyhow::Result<()> {
    let top = PathBuf::from(
        crate::git::run(&ctx.cwd, &["rev-parse", "--show-toplevel"], REV_HINT)?.trim(),
    );
    crate::git::run(&top, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")], REV_HINT).map_err(|source| {
        UserError::new(
            format!("`{rev}` is not a commit in this repository ({source:#})"),
            "pass a branch, tag or commit that exists (in CI, fetch enough history, e.g. fetch-depth: 0)",
        )
    })?;
    let diff = crate::git::run(
        &top,
        &["diff", "--no-ext-diff", "--no-color", "-U0", rev, "--"],
        REV_HINT,
    )?;
    let changed = lints::changed::ChangedLines::from_unified_diff(&diff);
    let untracked = crate::git::run(
        &top,
        &["ls-files", "--others", "--exclude-standard", "-z"],
        REV_HINT,
    )?;
    let untracked: std::collections::HashSet<PathBuf> = untracked
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(|p| top.join(p))
        .collect();
    report.diagnostics.retain(|d| {
        let Some(loc) = &d.location else { return true };
        let abs = ctx.cwd.join(&loc.path);
        let in_repo = abs.strip_prefix(&top).ok().and_then(|p| p.to_str());
        untracked.contains(&abs) || in_repo.is_some_and(|p| changed.contains(p, loc.line))
    });
    Ok(())
}

fn lint_settings(config: &Config) -> anyhow::Result<lints::Settings> {
    match &config.gates.lint {
        // Validated when the configuration was loaded.
        Some(section) => Ok(section.settings()?),
        None => Ok(lints::Settings::default()),
    }
}

/// The directory linted by default: where govkit.toml is, else the cargo
/// workspace around the cwd (`cargo metadata`), else the cwd.
fn workspace_root(ctx: &Context, config: &Config) -> PathBuf {
    if config.file.is_some() {
        return config.root.clone();
    }
    match cargo_metadata::MetadataCommand::new()
        .no_deps()
        .current_dir(&ctx.cwd)
        .exec()
    {
        Ok(m) => m.workspace_root.into_std_path_buf(),
        Err(e) => {
            tracing::debug!(
                "not in a cargo workspace ({e}); linting {}",
                ctx.cwd.display()
            );
            ctx.cwd.clone()
        }
    }
}

fn default_roots(config: &Config, root: &Path) -> Vec<PathBuf> {
    match config.gates.lint.as_ref().map(|l| &l.paths) {
        Some(paths) if !paths.is_empty() => paths.iter().map(|p| config.root.join(p)).collect(),
        _ => vec![root.to_path_buf()],
    }
}

/// The result cache: `$CARGO_TARGET_DIR/govkit/lint-cache`, else
/// `ROOT/target/govkit/lint-cache`.
fn cache_for(root: &Path, settings: &lints::Settings) -> lints::Cache {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |t| root.join(t));
    // The version alone would serve stale results to anyone running a
    // rebuilt govkit (its own developers first): the binary's size and
    // modification time stand in for its build.
    let build = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| format!("{}-{:?}", m.len(), m.modified().ok()))
        .unwrap_or_default();
    let version = format!("{}+{build}", env!("CARGO_PKG_VERSION"));
    lints::Cache::new(target.join("govkit").join("lint-cache"), &version, settings)
}

fn new_report() -> Report {
    let mut report = Report::new("lint").with_list_key("findings");
    for rule in rules::ALL {
        report.add_rule(RuleInfo {
            code: rule.name.to_owned(),
            summary: rule.summary.to_owned(),
            default_severity: rule.default_level.severity().unwrap_or(Severity::Warning),
            help: Some(rule.doc.to_owned()),
        });
    }
    for c in rules::ENGINE_CODES {
        report.add_rule(RuleInfo {
            code: c.code.to_owned(),
            summary: c.summary.to_owned(),
            default_severity: if c.level == "warning" {
                Severity::Warning
            } else {
                Severity::Error
            },
            help: Some(c.doc.to_owned()),
        });
    }
    report
}

fn finish(run: lints::LintRun) -> anyhow::Result<Report> {
    if run.cache_write_errors > 0 {
        tracing::debug!(
            "{} lint cache entries could not be written",
            run.cache_write_errors
        );
    }
    tracing::info!("{} of {} files from the cache", run.cache_hits, run.files);
    if let Some(first) = run.errors.into_iter().next() {
        // An unread file means the verdict would be partial: not a pass.
        return Err(anyhow::Error::new(first).context("lint could not read every file"));
    }
    let mut report = new_report();
    report.diagnostics = run.diagnostics;
    for (path, text) in run.sources {
        report.sources.insert(path, text);
    }
    report.sort();
    report.set_field("files", run.files);
    Ok(report)
}

fn lint_roots(
    ctx: &Context,
    linter: &Linter,
    roots: &[PathBuf],
    workspace: &Path,
    cache: Option<&lints::Cache>,
) -> anyhow::Result<Report> {
    let start = std::time::Instant::now();
    let files = lints::discover(roots, &ctx.cwd)
        .map_err(|e| UserError::new(e.to_string(), "check the paths given to `govkit lint`"))?;
    tracing::info!(
        "linting {} files (found in {:.0?})",
        files.len(),
        start.elapsed()
    );
    // Files named one by one (pre-commit hands over the changed ones) call
    // functions defined elsewhere in the workspace: what those return comes
    // from all of it, so the verdict is the one a full run gives.
    let signatures = roots
        .iter()
        .any(|r| r.is_file())
        .then(|| workspace_signatures(linter, workspace, |_| false, std::iter::empty()));
    let progress = crate::output::progress(ctx, files.len(), "linting");
    let run = lints::lint_files_in(
        linter,
        &files,
        cache,
        |f| {
            progress.inc(1);
            std::fs::read(&f.path)
        },
        signatures.as_ref(),
    );
    progress.finish_and_clear();
    tracing::info!("linted in {} ms", start.elapsed().as_millis());
    finish(run)
}

/// Lints the index version of every staged (added, copied, modified,
/// renamed) `.rs` file, read with one `git cat-file --batch`.
fn lint_staged(
    ctx: &Context,
    linter: &Linter,
    cache: Option<&lints::Cache>,
) -> anyhow::Result<Report> {
    let top = crate::git::run(&ctx.cwd, &["rev-parse", "--show-toplevel"], STAGED_HINT)?;
    let top = PathBuf::from(top.trim());
    let names = crate::git::run(
        &top,
        &[
            "diff",
            "--cached",
            "--name-only",
            "--diff-filter=ACMR",
            "-z",
            "--",
            "*.rs",
        ],
        STAGED_HINT,
    )?;
    let staged: Vec<&str> = names.split('\0').filter(|s| !s.is_empty()).collect();
    let blobs = read_index_blobs(&top, &staged)?;
    let files: Vec<SourceFile> = staged
        .iter()
        .map(|rel| {
            let abs = top.join(rel);
            let display = abs
                .strip_prefix(&ctx.cwd)
                .unwrap_or(&abs)
                .to_string_lossy()
                .into_owned();
            SourceFile::new(abs, display)
        })
        .collect();
    tracing::info!("linting {} staged files", files.len());
    let by_path: std::collections::HashMap<&Path, &Vec<u8>> =
        files.iter().map(|f| f.path.as_path()).zip(&blobs).collect();
    // What functions return comes from the whole repository (the staged
    // text of staged files), so a commit is judged as CI will judge it.
    let signatures = workspace_signatures(
        linter,
        &top,
        |p| by_path.contains_key(p),
        blobs.iter().filter_map(|b| std::str::from_utf8(b).ok()),
    );
    let run = lints::lint_files_in(
        linter,
        &files,
        cache,
        |f| {
            by_path
                .get(f.path.as_path())
                .map(|b| (*b).clone())
                .ok_or_else(|| std::io::Error::other("missing from the git index"))
        },
        Some(&signatures),
    );
    finish(run)
}

/// The signatures of every `.rs` file under `top` (working tree) except
/// those `skip` names, plus `extra` texts. Empty when no active rule needs
/// them.
fn workspace_signatures<'a>(
    linter: &Linter,
    top: &Path,
    skip: impl Fn(&Path) -> bool,
    extra: impl Iterator<Item = &'a str>,
) -> lints::Signatures {
    if !linter.needs_signatures() {
        return lints::Signatures::default();
    }
    let texts: Vec<String> = lints::discover(&[top.to_path_buf()], top)
        .unwrap_or_default()
        .iter()
        .filter(|f| !skip(&f.path))
        .filter_map(|f| std::fs::read_to_string(&f.path).ok())
        .collect();
    let mut all: Vec<&str> = texts.iter().map(String::as_str).collect();
    for text in extra {
        all.push(text);
    }
    lints::Signatures::scan(all)
}

const STAGED_HINT: &str = "--staged must run inside a git repository";
const REV_HINT: &str = "--new-from-rev must run inside a git repository";

fn read_index_blobs(top: &Path, paths: &[&str]) -> anyhow::Result<Vec<Vec<u8>>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(top)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run git cat-file")?;
    let mut stdin = child.stdin.take().context("git cat-file has no stdin")?;
    let mut request = String::new();
    for p in paths {
        request.push(':');
        request.push_str(p);
        request.push('\n');
    }
    // Write from a thread so a large answer cannot deadlock against our request.
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let mut reader = BufReader::new(child.stdout.take().context("git cat-file has no stdout")?);
    let mut blobs = Vec::with_capacity(paths.len());
    for path in paths {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let mut parts = header.split_whitespace();
        let (_, kind, size) = (parts.next(), parts.next(), parts.next());
        if kind != Some("blob") {
            anyhow::bail!(
                "cannot read the staged version of {path} from the git index: {}",
                header.trim()
            );
        }
        let size: usize = size
            .and_then(|s| s.parse().ok())
            .context("malformed git cat-file header")?;
        let mut blob = vec![0; size];
        reader.read_exact(&mut blob)?;
        let mut newline = [0u8; 1];
        reader.read_exact(&mut newline)?;
        blobs.push(blob);
    }
    match writer.join() {
        Ok(written) => written?,
        Err(_panic) => anyhow::bail!("the thread writing to git cat-file panicked"),
    }
    child.wait()?;
    Ok(blobs)
}

fn statistics(report: &Report) -> BTreeMap<String, usize> {
    let mut stats = BTreeMap::new();
    for d in &report.diagnostics {
        *stats.entry(d.code.clone()).or_insert(0) += 1;
    }
    stats
}

fn list_rules(out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<24} {:<11} {:<6} summary",
        "rule", "category", "level"
    )?;
    for r in rules::ALL {
        writeln!(
            out,
            "{:<24} {:<11} {:<6} {}",
            r.name,
            r.category.as_str(),
            r.default_level.as_str(),
            r.summary
        )?;
    }
    for c in rules::ENGINE_CODES {
        writeln!(
            out,
            "{:<24} {:<11} {:<6} {}",
            c.code, "engine", c.level, c.summary
        )?;
    }
    Ok(())
}

fn explain(name: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    if let Some(c) = rules::engine_code(name) {
        writeln!(out, "# {}\n\n{}\n", c.code, c.summary)?;
        writeln!(
            out,
            "Reported by the engine itself; it cannot be turned off.\n"
        )?;
        writeln!(out, "{}", c.doc)?;
        return Ok(());
    }
    let Some(rule) = rules::by_name(name) else {
        let hint = match rules::closest(name) {
            Some(s) => format!("did you mean `{s}`? `govkit lint --list-rules` lists them all"),
            None => "`govkit lint --list-rules` lists the rules".to_owned(),
        };
        return Err(UserError::new(format!("unknown rule `{name}`"), hint).into());
    };
    writeln!(out, "# {}\n\n{}\n", rule.name, rule.summary)?;
    writeln!(
        out,
        "Category: {}. Default level: {}.{}\n",
        rule.category.as_str(),
        rule.default_level.as_str(),
        if rule.skip_in_tests {
            " Skipped in test code by default."
        } else {
            ""
        }
    )?;
    for line in rule.doc.lines() {
        let line = line.strip_prefix(' ').unwrap_or(line);
        writeln!(out, "{}", line.replace("```rust,ignore", "```rust"))?;
    }
    Ok(())
}
