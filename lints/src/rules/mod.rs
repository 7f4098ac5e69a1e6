//! The rules: one file per rule under a folder per category, one line per
//! rule in [`ALL`]. A rule's doc comment (with `## What it does`,
//! `## Why is this bad?` and `## Example`) is what `govkit lint --explain`
//! prints.

use diagnostics::Severity;

use crate::engine::{Cx, Node, NodeKind};

mod async_code;
mod errors;
mod governance;
mod output;
mod panics;
mod unsafe_code;

/// How a rule's findings count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The rule does not run.
    Off,
    /// Findings are reported but do not fail the gate.
    Warn,
    /// Findings fail the gate.
    Error,
}

impl Level {
    /// The diagnostic severity for this level (`None` for `Off`).
    #[must_use]
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Off => None,
            Level::Warn => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        }
    }

    /// Parses `error`, `warn` (or `warning`) and `off`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "error" => Some(Level::Error),
            "warn" | "warning" => Some(Level::Warn),
            "off" => Some(Level::Off),
            _ => None,
        }
    }

    /// The configuration spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Rule families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Code that can panic or exit the process.
    Panics,
    /// Errors that are silently dropped.
    Errors,
    /// Output that bypasses structured logging.
    Output,
    /// Unsafe code and memory tricks.
    Unsafe,
    /// Async services: blocking, locks across awaits, tasks, queues.
    Async,
    /// Organisation policy: suppressions, secrets, banned paths.
    Governance,
    /// The engine's own findings (parse errors, bad suppressions).
    Engine,
}

impl Category {
    /// The category's name as listed by `--list-rules`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Panics => "panics",
            Category::Errors => "errors",
            Category::Output => "output",
            Category::Unsafe => "unsafe",
            Category::Async => "async",
            Category::Governance => "governance",
            Category::Engine => "engine",
        }
    }
}

/// A rule: its identity, defaults, documentation and check function.
pub struct RuleMeta {
    /// Kebab-case name describing the flagged pattern (`unwrap-used`).
    pub name: &'static str,
    /// Family.
    pub category: Category,
    /// Level when the configuration does not say.
    pub default_level: Level,
    /// One-line summary.
    pub summary: &'static str,
    /// Whether test code is exempt under the default test-code policy.
    pub skip_in_tests: bool,
    /// The full documentation (markdown): the `--explain` text.
    pub doc: &'static str,
    /// The node kinds [`RuleMeta::check`] looks at; the engine calls it for
    /// no others.
    pub(crate) nodes: &'static [NodeKind],
    /// Called for every syntax node the engine visits.
    pub(crate) check: fn(&mut Cx<'_>, &Node<'_>),
}

impl std::fmt::Debug for RuleMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleMeta")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Declares a rule. The doc comments become [`RuleMeta::doc`], so the
/// documentation lives next to the check and `--explain` cannot drift.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:expr])*
        $vis:vis static $ident:ident = {
            name: $name:literal,
            category: $category:ident,
            default: $level:ident,
            summary: $summary:literal,
            skip_in_tests: $skip:literal,
            nodes: [$($node:ident),* $(,)?],
            check: $check:path $(,)?
        };
    ) => {
        $(#[doc = $doc])*
        $vis static $ident: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
            name: $name,
            category: $crate::rules::Category::$category,
            default_level: $crate::rules::Level::$level,
            summary: $summary,
            skip_in_tests: $skip,
            doc: concat!($($doc, "\n"),*),
            nodes: &[$($crate::engine::NodeKind::$node),*],
            check: $check,
        };
    };
}
pub(crate) use declare_rule;

/// Every rule, in the order `--list-rules` shows them.
pub static ALL: &[&RuleMeta] = &[
    &panics::unwrap_used::RULE,
    &panics::expect_used::RULE,
    &panics::panic::RULE,
    &panics::todo::RULE,
    &panics::unimplemented::RULE,
    &panics::process_exit::RULE,
    &errors::let_underscore_result::RULE,
    &errors::ignored_ok::RULE,
    &errors::empty_err_arm::RULE,
    &errors::map_err_discard::RULE,
    &output::print_stdout::RULE,
    &output::print_stderr::RULE,
    &output::dbg_macro::RULE,
    &unsafe_code::undocumented_unsafe::RULE,
    &unsafe_code::static_mut::RULE,
    &unsafe_code::mem_forget::RULE,
    &unsafe_code::transmute::RULE,
    &async_code::blocking_in_async::RULE,
    &async_code::lock_across_await::RULE,
    &async_code::detached_spawn::RULE,
    &async_code::unbounded_channel::RULE,
    &governance::allow_without_reason::RULE,
    &governance::hardcoded_secret::RULE,
    &governance::disallowed::RULE,
];

/// A code the engine itself reports (not a rule: it cannot be turned off).
#[derive(Debug, Clone, Copy)]
pub struct EngineCode {
    /// The code findings carry.
    pub code: &'static str,
    /// One line.
    pub summary: &'static str,
    /// The level it is reported at: `error` or `warning`.
    pub level: &'static str,
    /// What it means and what to do (markdown), for `--explain`.
    pub doc: &'static str,
}

/// Codes the engine itself reports.
pub static ENGINE_CODES: &[EngineCode] = &[
    EngineCode {
        code: "parse-error",
        summary: "The file is not valid Rust syntax and could not be checked",
        level: "error",
        doc: "## What it means\n\
              syn could not parse the file as Rust: a syntax error, or syntax newer than \
              govkit's parser knows. No rule ran on that file, so the gate fails instead of \
              passing code it never read.\n\n\
              ## What to do\n\
              Fix the syntax (`cargo check` shows the same error). If rustc accepts the file, \
              govkit's parser lags the language: report it. A parse error cannot be \
              suppressed.",
    },
    EngineCode {
        code: "unused-suppression",
        summary: "A `govkit: allow(..)` comment that suppresses nothing",
        level: "warning",
        doc: "## What it means\n\
              A `// govkit: allow(rule) -- reason` comment whose rule reports nothing on the \
              line it covers (the code changed, or the rule became more precise).\n\n\
              ## Why it matters\n\
              A stale suppression silently hides the next real finding on that line.\n\n\
              ## What to do\n\
              Remove the comment.",
    },
    EngineCode {
        code: "invalid-suppression",
        summary: "A `govkit: allow(..)` comment without a reason or naming an unknown rule",
        level: "error",
        doc: "## What it means\n\
              A `govkit: allow(..)` comment that names no known rule, or has no reason after \
              `--`. It suppresses nothing.\n\n\
              ## What to do\n\
              Write `// govkit: allow(rule-name) -- why this is fine here`, with a rule from \
              `govkit lint --list-rules`.",
    },
];

/// The engine code called `code`.
#[must_use]
pub fn engine_code(code: &str) -> Option<&'static EngineCode> {
    ENGINE_CODES.iter().find(|c| c.code == code)
}

/// Position of a rule in [`ALL`].
#[must_use]
pub fn index_of(name: &str) -> Option<usize> {
    ALL.iter().position(|r| r.name == name)
}

/// The rule called `name`.
#[must_use]
pub fn by_name(name: &str) -> Option<&'static RuleMeta> {
    index_of(name).map(|i| ALL[i])
}

/// The rule name closest to `name` (for "did you mean").
#[must_use]
pub fn closest(name: &str) -> Option<&'static str> {
    ALL.iter()
        .map(|r| (edit_distance(name, r.name), r.name))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Reports `name!(..)` invocations (matched on the macro's last path segment).
pub(crate) fn check_macro(
    cx: &mut Cx<'_>,
    node: &Node<'_>,
    names: &[&str],
    message: &str,
    help: &str,
) {
    if let Node::Macro(m) = node
        && let Some(last) = m.path.segments.last()
        && names.iter().any(|n| last.ident == n)
    {
        let span = span_from(last.ident.span(), m.delimiter.span().close());
        cx.report(
            span,
            message.replace("{}", &last.ident.to_string()),
            Some(help),
        );
    }
}

/// The source range from `start` to `end`, or `start` alone where spans
/// cannot be joined (different files or macro expansions).
pub(crate) fn span_from(start: proc_macro2::Span, end: proc_macro2::Span) -> proc_macro2::Span {
    start.join(end).unwrap_or(start)
}
