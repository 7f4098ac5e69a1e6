//! Stand-ins for the commands a lint-only build leaves out
//! (`cargo install --no-default-features`, as the pre-commit hook builds
//! it): they parse anything and say how to get the full tool.

use clap::Args;

use crate::error::UserError;

/// Arguments of a command this build does not include.
#[derive(Debug, Args)]
pub struct Unavailable {
    /// Whatever was given: the command is not here to read it.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

/// The error every left-out command and gate gives.
pub fn error(command: &str, feature: &str) -> anyhow::Error {
    UserError::new(
        format!("`govkit {command}` is not in this build: it was built without the `{feature}` feature (the pre-commit hook builds the linter alone)"),
        "install the full govkit: `cargo install --locked --path .` in a clone, default features",
    )
    .into()
}

/// Declares `commands::NAME` for a left-out command: its `Args` type and
/// `run` (and `gate`, for gates of `govkit check`) return [`error`].
macro_rules! left_out {
    ($module:ident, $args:ident, $feature:literal) => {
        pub mod $module {
            pub use super::unavailable::Unavailable as $args;

            pub fn run(_: &crate::Context, _: &$args) -> anyhow::Result<crate::error::Outcome> {
                Err(super::unavailable::error(stringify!($module), $feature))
            }

            #[allow(dead_code, reason = "only the vendor and bench gates are called")]
            pub fn gate(
                _: &crate::Context,
                _: &crate::config::Config,
            ) -> anyhow::Result<diagnostics::Report> {
                Err(super::unavailable::error(stringify!($module), $feature))
            }
        }
    };
}
pub(crate) use left_out;
