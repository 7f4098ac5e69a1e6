//! govkit's lint engine: the organisation's rules for Rust service code,
//! checked on the syntax tree (syn) of every file, including the code inside
//! macro invocations that token-based tools cannot see.
//!
//! ```
//! use lints::{FileKind, Linter, Settings};
//!
//! let linter = Linter::new(&Settings::default())?;
//! let findings = linter.lint_source("src/lib.rs", "fn f(x: Option<u8>) -> u8 { x.unwrap() }", FileKind::Library);
//! assert_eq!(findings[0].code, "unwrap-used");
//! # Ok::<(), lints::SettingsError>(())
//! ```
#![deny(missing_docs)]

mod anchor;
pub mod baseline;
mod cache;
pub mod changed;
mod comments;
mod engine;
mod files;
mod macros;
mod modtree;
pub mod rules;
mod scope;
mod settings;
mod signatures;
mod suppress;
mod undoc;
mod uses;

pub use cache::Cache;
pub use engine::{FileKind, Linter};
pub use files::{FileError, LintRun, SourceFile, discover, lint_files, lint_files_in};
pub use modtree::classify;
pub use rules::{Category, Level, RuleMeta};
pub use settings::{Disallowed, Settings, SettingsError, TestCodePolicy};
pub use signatures::Signatures;
