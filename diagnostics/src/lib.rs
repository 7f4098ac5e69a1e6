//! The diagnostics layer every govkit gate reports through.
//!
//! A gate (lint, vendor, bench, …) never prints. It pushes [`Diagnostic`]s
//! into a [`Report`], and the CLI hands finished reports to one of the
//! renderers in [`render`]. That keeps the five output formats consistent
//! across gates: a SARIF consumer or a GitHub annotation sees a vendor
//! checksum mismatch exactly the way it sees a lint finding.
//!
//! ```
//! use diagnostics::{Diagnostic, Location, Report, Severity, render};
//!
//! let source = "fn main() {\n    let x = y.unwrap();\n}\n";
//! let start = source.find("y.unwrap()").unwrap_or(0);
//! let mut report = Report::new("lint");
//! report.add_source("src/main.rs", source);
//! report.push(
//!     Diagnostic::new("unwrap-used", Severity::Error, "`unwrap()` on a `Result` or `Option`")
//!         .with_location(Location::from_span("src/main.rs", source, start..start + 10))
//!         .with_help("propagate the error with `?`"),
//! );
//! let mut out = Vec::new();
//! render::render(render::Format::Json, &[&report], &render::Options::default(), &mut out)?;
//! assert!(String::from_utf8_lossy(&out).contains("\"line\":2"));
//! # Ok::<(), std::io::Error>(())
//! ```
#![deny(missing_docs)]

mod location;
pub mod render;
mod report;

pub use location::{LineIndex, Location};
pub use report::{Diagnostic, Related, Report, RuleInfo, Severity, Summary};
