//! One file per subcommand: its argument struct (whose doc comments are the
//! help text) and its `run` function.

#[cfg(feature = "bench")]
pub mod bench;
pub mod check;
pub mod completions;
pub mod hook;
pub mod init;
pub mod lint;
#[cfg(feature = "numa")]
pub mod numa;
#[cfg(feature = "trace")]
pub mod trace;
#[cfg(not(all(
    feature = "bench",
    feature = "numa",
    feature = "trace",
    feature = "vendor"
)))]
mod unavailable;
#[cfg(feature = "vendor")]
pub mod vendor;

#[cfg(not(feature = "bench"))]
unavailable::left_out!(bench, BenchArgs, "bench");
#[cfg(not(feature = "numa"))]
unavailable::left_out!(numa, NumaArgs, "numa");
#[cfg(not(feature = "trace"))]
unavailable::left_out!(trace, TraceArgs, "trace");
#[cfg(not(feature = "vendor"))]
unavailable::left_out!(vendor, VendorArgs, "vendor");

use crate::Context;
use crate::cli::Command;
use crate::error::Outcome;

/// Dispatches a parsed command.
pub fn run(ctx: &Context, command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Check(args) => check::run(ctx, &args),
        Command::Init(args) => init::run(ctx, &args),
        Command::Lint(args) => lint::run(ctx, &args),
        Command::Vendor(args) => vendor::run(ctx, &args),
        Command::Bench(args) => bench::run(ctx, &args),
        Command::Numa(args) => numa::run(ctx, &args),
        Command::Trace(args) => trace::run(ctx, &args),
        Command::Hook(args) => hook::run(ctx, &args),
        Command::Completions(args) => completions::run(&args),
        Command::Man => completions::run_man(),
    }
}

/// A flag set by SIGINT or SIGTERM: long-running commands stop at the
/// next check and clean up (the tracer detaches, the bench comparison
/// removes its worktree).
#[cfg(any(feature = "trace", feature = "bench"))]
pub fn stop_flag() -> anyhow::Result<std::sync::Arc<std::sync::atomic::AtomicBool>> {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, std::sync::Arc::clone(&stop))?;
    }
    Ok(stop)
}

/// Renderer settings for this run: colour, version, and the cwd as SARIF's
/// source root (paths in reports are relative to it).
pub fn render_options(ctx: &Context, color: bool) -> diagnostics::render::Options {
    diagnostics::render::Options {
        color,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        source_root_uri: Some(diagnostics::render::directory_uri(
            &ctx.cwd.to_string_lossy(),
        )),
    }
}
