//! `govkit vendor`: verify a `cargo vendor` tree, print its manifest, sign
//! it, and verify signatures over any file.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use diagnostics::{Diagnostic, Location, Report, RuleInfo, Severity};
use serde_json::json;
use vendor_verify::lockfile::Lockfile;
use vendor_verify::signature::{self, Identity, PublicKey, SigningKey, Trust};
use vendor_verify::verify::Progress;
use vendor_verify::{Kind, Problem, Verification};

use crate::Context;
use crate::cli::OutputFormat;
use crate::config::{Config, VendorSection};
use crate::error::{Outcome, UserError};
use crate::output::{Stdout, stdout_color};

/// Verify vendored dependencies: every crate of Cargo.lock, every file
/// checksum, and a signature over the tree's manifest.
#[derive(Debug, Args)]
pub struct VendorArgs {
    #[command(subcommand)]
    command: VendorCommand,
}

#[derive(Debug, Subcommand)]
enum VendorCommand {
    /// Check the vendor tree against Cargo.lock and every file's sha256, and
    /// the signature over its manifest when one is given or configured.
    ///
    /// Reports every problem at once (missing or unlisted crates and files,
    /// checksum mismatches, symlinks, unsafe paths). Exit 1 on any problem,
    /// 2 when an input cannot be read or parsed.
    Verify(VerifyArgs),
    /// Print the canonical manifest of a verified tree: the bytes that are
    /// signed (every crate and the computed sha256 of every file).
    Manifest(ManifestArgs),
    /// Verify the tree, then sign its manifest with an ECDSA P-256 key
    /// (cosign `sign-blob --key` compatible: base64 DER over SHA-256).
    Sign(SignArgs),
    /// Verify a signature or sigstore bundle over any file, offline (like
    /// `cosign verify-blob`).
    VerifyBlob(VerifyBlobArgs),
}

/// Where the tree and its lock file are.
#[derive(Debug, Args)]
struct TreeArgs {
    /// The vendor directory (default: `[vendor] dir`, else the directory
    /// source that `.cargo/config.toml` replaces crates-io with, else
    /// `vendor/` next to Cargo.lock).
    #[arg(long, value_name = "DIR")]
    vendor_dir: Option<PathBuf>,
    /// The lock file (default: `[vendor] lockfile`, else the workspace's
    /// Cargo.lock).
    #[arg(long, value_name = "FILE")]
    lockfile: Option<PathBuf>,
    /// The vendor directory is a mirror shared by several lock files:
    /// vendored crates this lock file does not list are no problem (they
    /// are counted, and left out of the manifest). Also `[vendor]
    /// allow-unlisted = true`.
    #[arg(long)]
    allow_unlisted: bool,
}

/// How the signature is checked. Without any of these, `[vendor]` in
/// govkit.toml decides.
#[derive(Debug, Args)]
struct SignatureArgs {
    /// PEM public key: verifies --signature, or a managed-key --bundle.
    #[arg(long, value_name = "PUB.pem")]
    key: Option<PathBuf>,
    /// Detached signature (base64 as cosign writes it, or DER as openssl does).
    #[arg(long, value_name = "SIG", conflicts_with = "bundle")]
    signature: Option<PathBuf>,
    /// Sigstore bundle (JSON) to verify offline.
    #[arg(long, value_name = "B.json")]
    bundle: Option<PathBuf>,
    /// Sigstore trusted root (`trusted_root.json`) for --bundle (default:
    /// the Sigstore public-good root built into govkit).
    #[arg(long, value_name = "R.json")]
    trusted_root: Option<PathBuf>,
    /// Signer identity a keyless bundle must carry (certificate SAN, exact).
    #[arg(long, value_name = "ID", requires = "issuer")]
    identity: Option<String>,
    /// OIDC issuer of that identity (exact URL).
    #[arg(long, value_name = "URL", requires = "identity")]
    issuer: Option<String>,
}

impl SignatureArgs {
    fn any(&self) -> bool {
        self.key.is_some()
            || self.signature.is_some()
            || self.bundle.is_some()
            || self.identity.is_some()
            || self.trusted_root.is_some()
    }
}

#[derive(Debug, Args)]
struct VerifyArgs {
    #[command(flatten)]
    tree: TreeArgs,
    #[command(flatten)]
    signature: SignatureArgs,
    /// The signed manifest shipped with the tree (`govkit vendor manifest
    /// -o` at signing time): the signature is checked over it, and every
    /// difference from the tree is reported by crate and file.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ManifestArgs {
    #[command(flatten)]
    tree: TreeArgs,
    /// Write the manifest to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SignArgs {
    #[command(flatten)]
    tree: TreeArgs,
    /// PEM private key (PKCS#8 or SEC1, ECDSA P-256; mode 600 or stricter).
    #[arg(long, value_name = "KEY.pem")]
    key: PathBuf,
    /// Write the signature to SIG instead of stdout.
    #[arg(long, short, value_name = "SIG")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct VerifyBlobArgs {
    /// The file the signature is over.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    signature: SignatureArgs,
}

pub fn run(ctx: &Context, args: &VendorArgs) -> anyhow::Result<Outcome> {
    match &args.command {
        VendorCommand::Verify(a) => verify(ctx, a),
        VendorCommand::Manifest(a) => manifest(ctx, a),
        VendorCommand::Sign(a) => sign(ctx, a),
        VendorCommand::VerifyBlob(a) => verify_blob(ctx, a),
    }
}

/// The vendor gate for `govkit check`: `[vendor]` decides everything.
pub fn gate(ctx: &Context, config: &Config) -> anyhow::Result<Report> {
    let section = config.gates.vendor.clone().unwrap_or_default();
    let tree = Tree::locate(ctx, config, &section, &TreeArgs::none())?;
    let trust = trust(ctx, config, &section, None, TrustFor::Manifest)?;
    let manifest = section
        .manifest
        .as_ref()
        .map(|m| config.root.join(m))
        .or_else(|| published_manifest(trust.as_ref()));
    check_tree(ctx, &tree, trust.as_ref(), manifest.as_deref())
}

impl TreeArgs {
    fn none() -> TreeArgs {
        TreeArgs {
            vendor_dir: None,
            lockfile: None,
            allow_unlisted: false,
        }
    }
}

fn verify(ctx: &Context, args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let config = ctx.config()?;
    let section = config.gates.vendor.clone().unwrap_or_default();
    let tree = Tree::locate(ctx, &config, &section, &args.tree)?;
    let trust = trust(
        ctx,
        &config,
        &section,
        Some(&args.signature),
        TrustFor::Manifest,
    )?;
    let manifest = args
        .manifest
        .as_ref()
        .map(|m| ctx.cwd.join(m))
        .or_else(|| section.manifest.as_ref().map(|m| config.root.join(m)))
        .or_else(|| published_manifest(trust.as_ref()));
    let report = check_tree(ctx, &tree, trust.as_ref(), manifest.as_deref())?;
    render(ctx, &report)
}

/// The signed manifest a mirror publishes beside the signature or bundle,
/// by convention: the same name with the extension `.manifest` (what
/// `govkit vendor sign --output` writes), when that file exists.
fn published_manifest(trust: Option<&Trust>) -> Option<PathBuf> {
    let artifact = match trust? {
        Trust::Key { signature_path, .. } => signature_path,
        Trust::Bundle { bundle_path, .. } => bundle_path,
    };
    Some(manifest_beside(artifact)).filter(|p| p.is_file())
}

/// Where the manifest signed by `artifact` (a signature or bundle) goes.
fn manifest_beside(artifact: &Path) -> PathBuf {
    artifact.with_extension("manifest")
}

fn manifest(ctx: &Context, args: &ManifestArgs) -> anyhow::Result<Outcome> {
    let config = ctx.config()?;
    let section = config.gates.vendor.clone().unwrap_or_default();
    let tree = Tree::locate(ctx, &config, &section, &args.tree)?;
    let Some(verification) = verified_or_report(ctx, &tree)? else {
        return Ok(Outcome::GateFailed);
    };
    let text = vendor_verify::manifest::render(&verification);
    if let Some(file) = &args.output {
        crate::output::write_atomically(&ctx.cwd.join(file), text.as_bytes())?;
    } else {
        let mut out = Stdout::new();
        out.write_all(text.as_bytes())?;
        out.flush()?;
    }
    Ok(Outcome::Pass)
}

fn sign(ctx: &Context, args: &SignArgs) -> anyhow::Result<Outcome> {
    let config = ctx.config()?;
    let section = config.gates.vendor.clone().unwrap_or_default();
    // The key first: a bad key should not cost a full verification.
    let key = SigningKey::read(&ctx.cwd.join(&args.key)).map_err(input_error(ctx))?;
    let tree = Tree::locate(ctx, &config, &section, &args.tree)?;
    let Some(verification) = verified_or_report(ctx, &tree)? else {
        return Ok(Outcome::GateFailed);
    };
    let text = vendor_verify::manifest::render(&verification);
    let sig = key.sign(text.as_bytes())?;
    if let Some(file) = &args.output {
        let file = ctx.cwd.join(file);
        let beside = manifest_beside(&file);
        // The manifest first: a signature without its manifest would make
        // the next failure unexplained.
        if beside != file {
            crate::output::write_atomically(&beside, text.as_bytes())?;
        }
        crate::output::write_atomically(&file, format!("{sig}\n").as_bytes())?;
        crate::output::status(
            ctx.global.quiet,
            &format!(
                "signed the manifest of {} crates, {} files; signature in {}, manifest in {} (publish both)",
                verification.crates.len(),
                verification.file_count,
                ctx.shown(&file),
                ctx.shown(&beside)
            ),
        );
    } else {
        let mut out = Stdout::new();
        writeln!(out, "{sig}")?;
        out.flush()?;
    }
    Ok(Outcome::Pass)
}

fn verify_blob(ctx: &Context, args: &VerifyBlobArgs) -> anyhow::Result<Outcome> {
    let config = ctx.config()?;
    let section = config.gates.vendor.clone().unwrap_or_default();
    let file = ctx.cwd.join(&args.file);
    let data =
        std::fs::read(&file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let trust = trust(
        ctx,
        &config,
        &section,
        Some(&args.signature),
        TrustFor::Blob,
    )?
    .ok_or_else(|| {
        UserError::new(
            "nothing to verify with",
            "give --key PUB.pem --signature SIG, or --bundle B.json with --identity and --issuer",
        )
    })?;
    let mut report = vendor_report();
    report.set_field("file", ctx.shown(&file));
    match signature::verify(&data, &trust) {
        Ok(v) => {
            report.set_field("ok", true);
            report.set_field(
                "signature",
                json!({"verified": true, "detail": v.description}),
            );
            crate::output::status(ctx.global.quiet, &v.description);
        }
        Err(f) => {
            report.set_field("ok", false);
            report.set_field("signature", json!({"verified": false, "detail": f.0}));
            let p = Problem {
                kind: Kind::Signature,
                krate: None,
                path: None,
                detail: f.0,
            };
            push_problem_with(&mut report, &p, &ctx.shown(&file), None);
        }
    }
    render(ctx, &report)
}

/// A vendor tree and its lock file, located.
struct Tree {
    vendor: PathBuf,
    lockfile: PathBuf,
    allow_unlisted: bool,
}

impl Tree {
    fn locate(
        ctx: &Context,
        config: &Config,
        section: &VendorSection,
        args: &TreeArgs,
    ) -> anyhow::Result<Tree> {
        let lockfile = match (&args.lockfile, &section.lockfile) {
            (Some(l), _) => ctx.cwd.join(l),
            (None, Some(l)) => config.root.join(l),
            (None, None) => find_lockfile(ctx, config)?,
        };
        let root = lockfile
            .parent()
            .map_or_else(|| ctx.cwd.clone(), Path::to_path_buf);
        let (vendor, from) = match (&args.vendor_dir, &section.dir) {
            (Some(d), _) => (ctx.cwd.join(d), "--vendor-dir".to_owned()),
            (None, Some(d)) => (
                config.root.join(d),
                "[vendor] dir in govkit.toml".to_owned(),
            ),
            (None, None) => {
                let home = vendor_verify::locate::cargo_home();
                let found =
                    vendor_verify::locate::vendor_dir_from_cargo_config(&root, home.as_deref())
                        .map_err(input_error(ctx))?;
                let read = found
                    .read
                    .iter()
                    .map(|p| ctx.shown(p))
                    .collect::<Vec<_>>()
                    .join(", ");
                match found.dir {
                    Some(dir) => (dir, format!("the source replacement in {read}")),
                    None if read.is_empty() => (
                        root.join("vendor"),
                        "the default next to Cargo.lock; no cargo config file here or above, nor in $CARGO_HOME".to_owned(),
                    ),
                    None => (
                        root.join("vendor"),
                        format!(
                            "the default next to Cargo.lock; no replaced source leads to a directory in {read}"
                        ),
                    ),
                }
            }
        };
        if std::fs::metadata(&vendor).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
            return Err(UserError::new(
                format!(
                    "no vendor directory at {} (from {from})",
                    ctx.shown(&vendor)
                ),
                "run `cargo vendor` and add the configuration it prints to .cargo/config.toml, or pass --vendor-dir",
            )
            .into());
        }
        Ok(Tree {
            vendor,
            lockfile,
            allow_unlisted: args.allow_unlisted || section.allow_unlisted,
        })
    }
}

/// The workspace's Cargo.lock: next to govkit.toml when there is one, else
/// the nearest from the working directory upward.
fn find_lockfile(ctx: &Context, config: &Config) -> anyhow::Result<PathBuf> {
    if config.file.is_some() {
        return Ok(config.root.join("Cargo.lock"));
    }
    ctx.cwd
        .ancestors()
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            UserError::new(
                format!("no Cargo.lock in {} or above", ctx.cwd.display()),
                "run inside a workspace, or pass --lockfile",
            )
            .into()
        })
}

/// Which signature a configuration describes: the manifest's (`signature`,
/// `bundle` from `[vendor]` apply) or an arbitrary blob's (only keys,
/// trusted root and identities apply).
#[derive(Clone, Copy, PartialEq, Eq)]
enum TrustFor {
    Manifest,
    Blob,
}

/// The signature check asked for: flags win; `[vendor]` fills in keys,
/// trusted root and identities, and for the manifest also the signature or
/// bundle file.
fn trust(
    ctx: &Context,
    config: &Config,
    section: &VendorSection,
    args: Option<&SignatureArgs>,
    purpose: TrustFor,
) -> anyhow::Result<Option<Trust>> {
    let flags = args.filter(|a| a.any());
    let from_config =
        |v: &Option<toml::Spanned<String>>| v.as_ref().map(|s| config.root.join(s.get_ref()));
    let use_config_artifacts = purpose == TrustFor::Manifest
        && flags.is_none_or(|f| f.signature.is_none() && f.bundle.is_none());
    let signature = flags
        .and_then(|f| f.signature.as_ref().map(|p| ctx.cwd.join(p)))
        .or_else(|| {
            use_config_artifacts
                .then(|| from_config(&section.signature))
                .flatten()
        });
    let bundle = flags
        .and_then(|f| f.bundle.as_ref().map(|p| ctx.cwd.join(p)))
        .or_else(|| {
            use_config_artifacts
                .then(|| from_config(&section.bundle))
                .flatten()
        });
    let key_path = flags
        .and_then(|f| f.key.as_ref().map(|p| ctx.cwd.join(p)))
        .or_else(|| from_config(&section.public_key));
    let key = key_path
        .as_deref()
        .map(|p| {
            PublicKey::read(p).map(|mut k| {
                k.path = ctx.shown_path(p);
                k
            })
        })
        .transpose()
        .map_err(input_error(ctx))?;

    if let Some(sig_path) = signature {
        let key = key.ok_or_else(|| {
            UserError::new(
                "a signature needs the public key that verifies it",
                "pass --key PUB.pem or set `public-key` in [vendor]",
            )
        })?;
        let sig = signature::read_signature(&sig_path).map_err(input_error(ctx))?;
        return Ok(Some(Trust::Key {
            key,
            signature: sig,
            signature_path: ctx.shown_path(&sig_path),
        }));
    }
    let Some(bundle_path) = bundle else {
        if flags.is_some_and(|f| f.key.is_some() || f.identity.is_some()) {
            return Err(UserError::new(
                "--key and --identity say who signed, but there is nothing signed to check",
                "add --signature SIG (keyed) or --bundle B.json (sigstore)",
            )
            .into());
        }
        return Ok(None);
    };
    let bundle = signature::read_bundle(&bundle_path).map_err(input_error(ctx))?;
    let root_path = flags
        .and_then(|f| f.trusted_root.as_ref().map(|p| ctx.cwd.join(p)))
        .or_else(|| section.trusted_root.as_ref().map(|p| config.root.join(p)));
    let trusted_root =
        signature::read_trusted_root(root_path.as_deref()).map_err(input_error(ctx))?;
    let identities = match flags.and_then(|f| f.identity.as_ref().zip(f.issuer.as_ref())) {
        Some((identity, issuer)) => vec![Identity {
            identity: identity.clone(),
            issuer: issuer.clone(),
        }],
        None => section
            .identities
            .iter()
            .map(|i| Identity {
                identity: i.identity.get_ref().clone(),
                issuer: i.issuer.get_ref().clone(),
            })
            .collect(),
    };
    if key.is_none() && identities.is_empty() {
        return Err(UserError::new(
            "a keyless bundle needs the identity and issuer that must have signed it",
            "pass --identity ID --issuer URL, or add [[vendor.identities]] to govkit.toml; for a managed-key bundle pass --key",
        )
        .into());
    }
    Ok(Some(Trust::Bundle {
        bundle: Box::new(bundle),
        bundle_path: ctx.shown_path(&bundle_path),
        trusted_root: Box::new(trusted_root),
        identities,
        key,
    }))
}

/// Verifies the tree and, if it passes and a signature is configured, the
/// signature over its manifest.
fn check_tree(
    ctx: &Context,
    tree: &Tree,
    trust: Option<&Trust>,
    signed_manifest: Option<&Path>,
) -> anyhow::Result<Report> {
    let verification = run_verification(ctx, tree)?;
    let mut report = report_for(ctx, tree, &verification);
    let signature = match trust {
        None => {
            let vendor_shown = ctx.shown(&tree.vendor);
            push_tree_problems(
                &mut report,
                &vendor_shown,
                &vendor_shown,
                &verification.git_commits_unverified(),
            );
            json!(null)
        }
        Some(_) if !verification.ok() => {
            json!({"verified": false, "detail": "not checked: the tree has problems"})
        }
        Some(trust) => {
            let text = match signed_manifest {
                Some(path) => std::fs::read_to_string(path).map_err(|e| {
                    UserError::new(
                        format!("cannot read the signed manifest {}: {e}", ctx.shown(path)),
                        "it is the file `govkit vendor manifest -o FILE` wrote when the tree was signed",
                    )
                })?,
                None => vendor_verify::manifest::render(&verification),
            };
            match signature::verify(text.as_bytes(), trust) {
                Ok(v) if signed_manifest.is_some() => {
                    // The signature covers the file; now the tree against it.
                    let changes =
                        vendor_verify::manifest::diff(&text, &verification).map_err(|m| {
                            UserError::new(
                                format!(
                                    "{}: {m}",
                                    ctx.shown(signed_manifest.unwrap_or(Path::new("")))
                                ),
                                "the signed manifest is not in govkit's manifest format",
                            )
                        })?;
                    let vendor_shown = ctx.shown(&tree.vendor);
                    push_tree_problems(&mut report, &vendor_shown, &vendor_shown, &changes);
                    if changes.is_empty() {
                        json!({"verified": true, "detail": v.description})
                    } else {
                        report.set_field("ok", false);
                        json!({"verified": false, "detail": format!("{}; but the tree differs from the signed manifest in {} place(s)", v.description, changes.len())})
                    }
                }
                Ok(v) => json!({"verified": true, "detail": v.description}),
                Err(f) if signed_manifest.is_some() => {
                    // The published manifest is not what was signed. Is the
                    // tree? Then only the manifest was altered.
                    let own = vendor_verify::manifest::render(&verification);
                    let file = ctx.shown(signed_manifest.unwrap_or(Path::new("")));
                    let detail = if signature::verify(own.as_bytes(), trust).is_ok() {
                        format!(
                            "{file} was altered after signing: the signature verifies over the tree, not over this manifest"
                        )
                    } else {
                        format!(
                            "the signature verifies over neither {file} nor the tree: the manifest was altered, or both are not the signed ones ({})",
                            f.0
                        )
                    };
                    let p = Problem {
                        kind: Kind::Signature,
                        krate: None,
                        path: None,
                        detail: detail.clone(),
                    };
                    push_problem_with(&mut report, &p, &file, None);
                    report.set_field("ok", false);
                    json!({"verified": false, "detail": detail})
                }
                Err(f) => {
                    let p = Problem {
                        kind: Kind::Signature,
                        krate: None,
                        path: None,
                        detail: f.0.clone(),
                    };
                    push_problem(&mut report, &p, &ctx.shown(&tree.vendor));
                    report.set_field("ok", false);
                    json!({"verified": false, "detail": f.0})
                }
            }
        }
    };
    report.set_field("signature", signature);
    Ok(report)
}

fn run_verification(ctx: &Context, tree: &Tree) -> anyhow::Result<Verification> {
    let lock = match Lockfile::read(&tree.lockfile) {
        Ok(lock) => lock,
        Err(e) => {
            // Say what else is wrong with the inputs in the same run.
            let all = e.and(vendor_verify::tree_input_errors(&tree.vendor));
            return Err(input_error_in(ctx, &all));
        }
    };
    let bar = Bar(std::sync::OnceLock::new(), ctx);
    let mut v = vendor_verify::verify_tree(&tree.vendor, &lock, &bar).map_err(input_error(ctx))?;
    if tree.allow_unlisted {
        v.allow_unlisted();
    }
    if let Some(b) = bar.0.get() {
        b.finish_and_clear();
    }
    tracing::info!(
        "verified {} crates, {} files, {} bytes in {}",
        v.crate_count,
        v.file_count,
        v.bytes,
        tree.vendor.display()
    );
    Ok(v)
}

/// Verifies; on problems prints them to stderr and returns `None`.
fn verified_or_report(ctx: &Context, tree: &Tree) -> anyhow::Result<Option<Verification>> {
    let v = run_verification(ctx, tree)?;
    if v.ok() {
        return Ok(Some(v));
    }
    let report = report_for(ctx, tree, &v);
    let options = super::render_options(ctx, crate::output::stderr_color(ctx.global.color));
    let mut err = std::io::stderr().lock();
    diagnostics::render::render(
        diagnostics::render::Format::Human,
        &[&report],
        &options,
        &mut err,
    )?;
    writeln!(
        err,
        "the tree has problems; govkit does not produce a manifest or signature for it"
    )?;
    Ok(None)
}

struct Bar<'a>(std::sync::OnceLock<indicatif::ProgressBar>, &'a Context);

impl Progress for Bar<'_> {
    fn start(&self, files: u64) {
        let bar = crate::output::progress(
            self.1,
            usize::try_from(files).unwrap_or(usize::MAX),
            "hashing",
        );
        // `start` is called once; a second call keeps the first bar.
        let _ = self.0.set(bar); // A second start keeps the first bar.
    }
    fn advance(&self) {
        if let Some(b) = self.0.get() {
            b.inc(1);
        }
    }
}

fn vendor_report() -> Report {
    let mut report = Report::new("vendor").with_list_key("problems");
    for kind in Kind::ALL {
        report.add_rule(RuleInfo {
            code: kind.as_str().to_owned(),
            summary: kind.summary().to_owned(),
            default_severity: if kind.is_error() {
                Severity::Error
            } else {
                Severity::Warning
            },
            help: None,
        });
    }
    report
}

fn report_for(ctx: &Context, tree: &Tree, v: &Verification) -> Report {
    let mut report = vendor_report();
    let vendor_shown = ctx.shown(&tree.vendor);
    let lock_shown = ctx.shown(&tree.lockfile);
    push_tree_problems(&mut report, &vendor_shown, &lock_shown, &v.problems);
    report.set_field("ok", v.ok());
    report.set_field("vendor_dir", vendor_shown);
    report.set_field("lockfile", lock_shown);
    report.set_field("crates", v.crate_count);
    report.set_field("files", v.file_count);
    report.set_field("bytes", v.bytes);
    if tree.allow_unlisted {
        report.set_field("unlisted_crates_allowed", v.unlisted_allowed);
    }
    report
}

/// Reports `problems` of the tree: a path inside it under `vendor_shown`,
/// a problem without one at `elsewhere`.
fn push_tree_problems(
    report: &mut Report,
    vendor_shown: &str,
    elsewhere: &str,
    problems: &[Problem],
) {
    for p in problems {
        let path = p.path.as_ref().map_or_else(
            || elsewhere.to_owned(),
            |rel| format!("{}/{rel}", vendor_shown.trim_end_matches('/')),
        );
        push_problem(report, p, &path);
    }
}

fn push_problem(report: &mut Report, p: &Problem, path: &str) {
    push_problem_with(report, p, path, help(p.kind));
}

fn push_problem_with(report: &mut Report, p: &Problem, path: &str, help: Option<&str>) {
    let severity = if p.kind.is_error() {
        Severity::Error
    } else {
        Severity::Warning
    };
    let message = match &p.krate {
        Some(k) => format!("{k}: {}", p.detail),
        None => p.detail.clone(),
    };
    let mut d = Diagnostic::new(p.kind.as_str(), severity, message)
        .with_location(Location::file(path))
        .with_field("kind", p.kind.as_str())
        .with_field("detail", p.detail.clone());
    d = d.with_field(
        "crate",
        p.krate.clone().map_or(serde_json::Value::Null, Into::into),
    );
    if let Some(help) = help {
        d = d.with_help(help);
    }
    report.push(d);
}

fn help(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::MissingCrate | Kind::UnlistedCrate | Kind::VersionMismatch => {
            "re-run `cargo vendor` after changing Cargo.lock, and commit both together"
        }
        Kind::FileChecksumMismatch | Kind::MissingFile | Kind::UnlistedFile => {
            "vendored sources must not be edited; patch with [patch] in Cargo.toml instead, then re-run `cargo vendor`"
        }
        Kind::Signature => {
            "the tree is not the one that was signed; get the signed tree from the mirror or have it re-signed (--manifest with the signed manifest names what changed)"
        }
        Kind::ChangedSinceSigning => {
            "the tree changed after it was signed; restore the signed tree from the mirror or have it re-signed"
        }
        Kind::GitCommitUnverified => {
            "sign the tree's manifest (`govkit vendor sign`) and verify with the signature: the manifest records each git dependency's commit"
        }
        _ => return None,
    })
}

fn render(ctx: &Context, report: &Report) -> anyhow::Result<Outcome> {
    let format = ctx.global.format.unwrap_or(OutputFormat::Human);
    let options = super::render_options(ctx, stdout_color(ctx.global.color));
    let mut out = Stdout::new();
    diagnostics::render::render(format.into(), &[report], &options, &mut out)?;
    if format == OutputFormat::Human {
        writeln!(out, "{}", human_summary(report))?;
    }
    out.flush()?;
    Ok(Outcome::of(report))
}

/// One line: what was checked and the verdict.
fn human_summary(report: &Report) -> String {
    let get = |k: &str| report.fields.get(k).cloned().unwrap_or(json!(null));
    let mut parts = Vec::new();
    if let (Some(crates), Some(files)) = (get("crates").as_u64(), get("files").as_u64()) {
        let size = size(get("bytes").as_u64().unwrap_or(0));
        parts.push(format!("{crates} crates, {files} files ({size})"));
    }
    if let Some(n) = get("unlisted_crates_allowed").as_u64().filter(|&n| n > 0) {
        parts.push(format!(
            "{n} crates not in the lock file allowed (--allow-unlisted)"
        ));
    }
    match get("signature") {
        serde_json::Value::Object(s) => {
            if s.get("verified") == Some(&json!(true)) {
                if let Some(d) = s.get("detail").and_then(serde_json::Value::as_str) {
                    parts.push(d.to_owned());
                }
            } else {
                parts.push("signature NOT verified".to_owned());
            }
        }
        _ if report.fields.contains_key("crates") => parts.push("no signature checked".to_owned()),
        _ => {}
    }
    let verdict = if report.failed() { "FAILED" } else { "ok" };
    format!("vendor: {verdict}: {}", parts.join("; "))
}

/// Bytes for a person: `812 bytes`, `41 kB`, `254 MB`.
fn size(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{} kB", bytes / 1_000),
        _ => format!("{} MB", bytes / 1_000_000),
    }
}

/// An input that cannot be read or parsed: exit 2, naming the file
/// (relative to the working directory where it is under it).
fn input_error(ctx: &Context) -> impl Fn(vendor_verify::Error) -> anyhow::Error + '_ {
    move |e| input_error_in(ctx, &e)
}

fn input_error_in(ctx: &Context, e: &vendor_verify::Error) -> anyhow::Error {
    // One input: its file as shown, and what is wrong with it.
    let one = |e: &vendor_verify::Error| match e {
        vendor_verify::Error::Read { message, .. }
        | vendor_verify::Error::Parse { message, .. } => {
            format!("{}: {message}", ctx.shown(e.path()))
        }
        vendor_verify::Error::Several(_) => e.to_string(),
    };
    let (message, hint, file) = match e {
        vendor_verify::Error::Several(all) => {
            let mut hints: Vec<&str> = all.iter().filter_map(input_hint).collect();
            hints.dedup();
            let lines: Vec<String> = all.iter().map(one).collect();
            (
                format!(
                    "{} inputs cannot be used:\n  {}",
                    all.len(),
                    lines.join("\n  ")
                ),
                (!hints.is_empty()).then(|| hints.join("; ")),
                None,
            )
        }
        vendor_verify::Error::Read { message, .. }
        | vendor_verify::Error::Parse { message, .. } => {
            // Parse messages start with `line N` where the position is known.
            let line = message
                .strip_prefix("line ")
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse().ok());
            (
                one(e),
                input_hint(e).map(str::to_owned),
                Some((ctx.shown(e.path()), line)),
            )
        }
    };
    UserError {
        message,
        hint,
        file,
    }
    .into()
}

/// What to do about one unusable input, where there is more to say than
/// the message.
fn input_hint(e: &vendor_verify::Error) -> Option<&'static str> {
    let (parse, message) = match e {
        vendor_verify::Error::Read { message, .. } => (false, message),
        vendor_verify::Error::Parse { message, .. } => (true, message),
        vendor_verify::Error::Several(_) => return None,
    };
    match (e.path().file_name().and_then(|n| n.to_str()), parse) {
        (_, false) if message.contains("permission denied") || message.contains("file mode") => {
            Some("this user may not read it: check the file mode and owner (`ls -l`)")
        }
        (Some(".cargo-checksum.json"), true) => {
            Some("the vendored crate's checksum file is corrupt; re-run `cargo vendor`")
        }
        (Some("Cargo.lock"), true) if message.contains("merge-conflict") => Some(
            "resolve the merge in Cargo.lock (keep one side's entries), then re-run `cargo vendor` if the crates changed",
        ),
        // Regenerating the lock file would resolve newer versions than the
        // vendored ones.
        (Some("Cargo.lock"), true) => {
            Some("restore Cargo.lock from version control (`git checkout -- Cargo.lock`)")
        }
        _ => None,
    }
}
