//! The walk: parse a file, visit every node (including macro arguments that
//! parse as Rust), keep track of context (test code, async, `fn main`), and
//! hand each node to the active rules.

use std::ops::Range;

use diagnostics::{Diagnostic, Location, Severity};
use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::visit::{self, Visit};

use crate::rules::{self, RuleMeta};
use crate::settings::{Resolved, Settings, SettingsError, TestCodePolicy};
use crate::signatures::{Condition, FileSigs, Signatures};
use crate::suppress::Suppressions;
use crate::uses::UseMap;

/// What kind of target a file belongs to. Test, bench and example files are
/// test code as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Library or binary source.
    Library,
    /// `tests/`, `benches/`, `examples/`, `fuzz_targets/`, and files a
    /// crate reaches only through `#[cfg(test)]` module declarations.
    Test,
    /// A build script (`build.rs`) and the modules it declares: its stdout
    /// is cargo's protocol, not a service's output.
    BuildScript,
}

/// Deepest bracket nesting a file may have. syn parses recursively; a
/// generated or hostile file nested deeper would exhaust the stack, so it is
/// reported as a parse error instead.
const MAX_NESTING: usize = 256;

/// Deepest macro-in-macro nesting the engine looks into.
const MAX_MACRO_DEPTH: usize = 16;

/// A path as written, resolved through the file's `use` declarations only
/// when a rule asks (most paths are never looked at, and resolving
/// allocates).
pub(crate) struct PathRef<'a> {
    path: &'a syn::Path,
    uses: &'a UseMap,
    resolved: std::cell::OnceCell<Vec<String>>,
}

impl<'a> PathRef<'a> {
    fn new(path: &'a syn::Path, uses: &'a UseMap) -> Self {
        PathRef {
            path,
            uses,
            resolved: std::cell::OnceCell::new(),
        }
    }

    /// The full path, aliases replaced.
    pub fn get(&self) -> &[String] {
        self.resolved.get_or_init(|| self.uses.resolve(self.path))
    }

    /// The last segment as written (no allocation).
    pub fn last_is(&self, name: &str) -> bool {
        self.path.segments.last().is_some_and(|s| s.ident == name)
    }

    /// Whether the path could mean `…::name`: it ends in `name` as written,
    /// or it is a single name that a `use` of `…::name` renames (`use
    /// std::mem::forget as leak`). A cheap test (no allocation) before
    /// [`PathRef::get`].
    pub fn may_be(&self, name: &str) -> bool {
        self.last_is(name)
            || (self.path.segments.len() == 1
                && self.path.leading_colon.is_none()
                && self.uses.renames(&self.path.segments[0].ident, name))
    }
}

/// A syntax node handed to rules.
pub(crate) enum Node<'a> {
    /// `recv.method(args)`.
    MethodCall(&'a syn::ExprMethodCall),
    /// `path(args)`, with the callee path resolved through `use`.
    Call(&'a syn::ExprCall, Option<&'a PathRef<'a>>),
    /// `name!(..)`.
    Macro(&'a syn::Macro),
    /// `let pat = init;`.
    Local(&'a syn::Local),
    /// A statement.
    Stmt(&'a syn::Stmt),
    /// A `match` arm.
    Arm(&'a syn::Arm),
    /// `if` / `if let`.
    If(&'a syn::ExprIf),
    /// `unsafe { .. }`.
    UnsafeBlock(&'a syn::ExprUnsafe),
    /// `unsafe impl ..`.
    UnsafeImpl(&'a syn::ItemImpl),
    /// `static NAME: T = ..;`.
    Static(&'a syn::ItemStatic),
    /// A path used as a value (`mem::forget` passed as a function).
    Path(&'a syn::ExprPath, &'a PathRef<'a>),
    /// An attribute.
    Attribute(&'a syn::Attribute),
    /// A `{ .. }` block of statements.
    Block(&'a syn::Block),
    /// `const NAME: T = ..;`.
    Const(&'a syn::ItemConst),
    /// `field: value` in a struct literal.
    FieldValue(&'a syn::FieldValue),
    /// `place = value`.
    Assign(&'a syn::ExprAssign),
    /// A string literal (in code or in macro arguments).
    LitStr(&'a syn::LitStr),
    /// A path in type position, resolved through `use`.
    Type(&'a syn::TypePath, &'a PathRef<'a>),
}

/// The kinds of [`Node`], for dispatching each node only to the rules that
/// look at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    MethodCall,
    Call,
    Macro,
    Local,
    Stmt,
    Arm,
    If,
    UnsafeBlock,
    UnsafeImpl,
    Static,
    Path,
    Attribute,
    Block,
    Const,
    FieldValue,
    Assign,
    LitStr,
    Type,
}

const NODE_KINDS: usize = NodeKind::Type as usize + 1;

impl Node<'_> {
    fn kind(&self) -> NodeKind {
        match self {
            Node::MethodCall(..) => NodeKind::MethodCall,
            Node::Call(..) => NodeKind::Call,
            Node::Macro(..) => NodeKind::Macro,
            Node::Local(..) => NodeKind::Local,
            Node::Stmt(..) => NodeKind::Stmt,
            Node::Arm(..) => NodeKind::Arm,
            Node::If(..) => NodeKind::If,
            Node::UnsafeBlock(..) => NodeKind::UnsafeBlock,
            Node::UnsafeImpl(..) => NodeKind::UnsafeImpl,
            Node::Static(..) => NodeKind::Static,
            Node::Path(..) => NodeKind::Path,
            Node::Attribute(..) => NodeKind::Attribute,
            Node::Block(..) => NodeKind::Block,
            Node::Const(..) => NodeKind::Const,
            Node::FieldValue(..) => NodeKind::FieldValue,
            Node::Assign(..) => NodeKind::Assign,
            Node::LitStr(..) => NodeKind::LitStr,
            Node::Type(..) => NodeKind::Type,
        }
    }
}

/// Context and output for one file.
pub(crate) struct Cx<'a> {
    pub source: &'a str,
    pub lines: &'a diagnostics::LineIndex,
    pub uses: &'a UseMap,
    /// Org-configured banned paths.
    pub disallowed: &'a [crate::settings::Disallowed],
    /// What the workspace's functions return.
    /// Local bindings in scope (tracked only when a rule needs them).
    pub locals: crate::scope::Locals,
    /// Declared types of the file's struct fields (collected only when a
    /// rule needs them).
    pub fields: crate::scope::Fields,
    /// Inside `#[cfg(test)]`, `#[test]` or a test/bench/example file.
    pub in_test: bool,
    /// The kind of file (test code inside it is `in_test`).
    pub kind: FileKind,
    /// Inside an `async fn` or `async` block (not a closure within it).
    pub async_depth: usize,
    /// Inside the top-level `fn main`.
    pub in_main: bool,
    /// Evaluated at compile time (a `const` or `static` initializer, an
    /// inline `const { .. }`): a panic there fails the build, not a service.
    pub in_const: bool,
    /// 1-based line where the innermost statement or item starts.
    pub stmt_line: usize,
    rule: usize,
    raw: Vec<RawFinding>,
}

pub(crate) struct RawFinding {
    pub rule: usize,
    /// Line where the enclosing statement or item starts: a suppression
    /// above a multi-line statement covers findings anywhere in it.
    pub stmt_line: usize,
    pub span: Range<usize>,
    pub message: String,
    pub help: Option<String>,
    /// An unambiguous replacement (`--fix`): byte range and new text.
    pub fix: Option<(Range<usize>, String)>,
    /// Secondary places: byte range and what is there.
    pub related: Vec<(Range<usize>, String)>,
    /// Holds only if this does.
    pub condition: Option<Condition>,
}

impl Cx<'_> {
    /// Reports a finding of the current rule at `span`.
    pub fn report(&mut self, span: Span, message: impl Into<String>, help: Option<&str>) {
        self.raw.push(RawFinding {
            rule: self.rule,
            stmt_line: self.stmt_line,
            span: span.byte_range(),
            message: message.into(),
            help: help.map(str::to_owned),
            fix: None,
            related: Vec::new(),
            condition: None,
        });
    }

    /// Adds a secondary place to the finding just reported.
    pub fn relate_last(&mut self, span: Span, message: impl Into<String>) {
        if let Some(last) = self.raw.last_mut() {
            last.related.push((span.byte_range(), message.into()));
        }
    }

    /// Makes the finding just reported hold only if `condition` does
    /// (decided once the workspace's signatures are known).
    pub fn condition_last(&mut self, condition: Condition) {
        if let Some(last) = self.raw.last_mut() {
            last.condition = Some(condition);
        }
    }

    /// Findings reported so far in this file.
    pub fn finding_count(&self) -> usize {
        self.raw.len()
    }

    /// Attaches an unambiguous fix to the finding just reported.
    pub fn fix_last(&mut self, range: Range<usize>, replacement: String) {
        if let Some(last) = self.raw.last_mut() {
            last.fix = Some((range, replacement));
        }
    }
}

/// Whether `rule` checks code of `kind`: rules that skip tests skip test
/// code (unless the policy says lint), and the print rules skip build
/// scripts, whose stdout is cargo's protocol. The walk asks it of each
/// node's context; [`Linter::reported_in`] of a file the module tree
/// reclassifies after linting.
fn applies(rule: &RuleMeta, kind: FileKind, policy: TestCodePolicy) -> bool {
    match kind {
        FileKind::Library => true,
        FileKind::Test => !(rule.skip_in_tests && policy == TestCodePolicy::Skip),
        FileKind::BuildScript => !matches!(rule.name, "print-stdout" | "print-stderr"),
    }
}

/// Unambiguous fixes: byte range and replacement.
type Fixes = Vec<(Range<usize>, String)>;

/// Findings (by index) that hold only under a condition.
pub(crate) type Conditions = Vec<(usize, Condition)>;

/// A configured linter. Cheap to share across threads.
#[derive(Debug)]
pub struct Linter {
    resolved: Resolved,
}

impl Linter {
    /// Resolves `settings` against the rule registry.
    pub fn new(settings: &Settings) -> Result<Linter, SettingsError> {
        Ok(Linter {
            resolved: settings.resolve()?,
        })
    }

    /// True when `rel_path` is excluded from linting altogether.
    #[must_use]
    pub fn excluded(&self, rel_path: &str) -> bool {
        self.resolved.exclude.is_match(rel_path)
    }

    /// Lints one file's text. `path` is the display path (relative, `/`);
    /// it is also what per-path ignores match against. What functions
    /// return is known from this file's signatures only ([`crate::lint_files`]
    /// knows the workspace's).
    #[must_use]
    pub fn lint_source(&self, path: &str, source: &str, kind: FileKind) -> Vec<Diagnostic> {
        // The file's signatures are read only if a finding depends on them.
        let FileLint {
            diags, conditions, ..
        } = self.lint_with_sigs(path, source, kind, false);
        if conditions.is_empty() {
            return diags;
        }
        resolve(diags, &conditions, &Signatures::scan([source]))
    }

    /// Whether a finding with `code` stands in a file of `kind`: the module
    /// tree can show only after linting that a file is test code (rules
    /// that skip tests then drop their findings) or build-script code (the
    /// print rules do).
    pub(crate) fn reported_in(&self, code: &str, kind: FileKind) -> bool {
        rules::by_name(code).is_none_or(|rule| applies(rule, kind, self.resolved.test_code))
    }

    /// Whether an active rule asks what functions return (else scanning
    /// the workspace's signatures is wasted work).
    #[must_use]
    pub fn needs_signatures(&self) -> bool {
        rules::index_of("let-underscore-result")
            .is_some_and(|i| self.resolved.levels[i] != rules::Level::Off)
    }

    /// Lints one file; findings that depend on the workspace's signatures
    /// come with their conditions, for [`resolve`] once all are known, and
    /// (if `want_sigs`) the file's own signatures, from the same lexical
    /// scan as its comments.
    pub(crate) fn lint_with_sigs(
        &self,
        path: &str,
        source: &str,
        kind: FileKind,
        want_sigs: bool,
    ) -> FileLint {
        let out = self.lint_inner(path, source, kind, want_sigs);
        // proc-macro2 keeps every parsed file's text in a thread-local map
        // so spans can be resolved; all spans are converted by now, so drop
        // it rather than let a long run grow without bound.
        proc_macro2::extra::invalidate_current_thread_spans();
        out
    }

    /// Whether to track local scopes, and the file's struct fields: only
    /// `[[lint.disallowed]]` needs them (they cost a little on every
    /// binding), the fields only for banned methods.
    fn scopes(
        &self,
        active: &[usize],
        file: &syn::File,
        uses: &UseMap,
    ) -> (bool, crate::scope::Fields) {
        let disallowed = &self.resolved.disallowed;
        let track = !disallowed.is_empty()
            && rules::index_of("disallowed").is_some_and(|i| active.contains(&i));
        let fields = if track
            && disallowed
                .iter()
                .any(crate::settings::Disallowed::is_method)
        {
            crate::scope::Fields::collect(file, uses)
        } else {
            crate::scope::Fields::default()
        };
        (track, fields)
    }

    /// Applies every unambiguous fix (`--fix`) to `source`; `None` when
    /// nothing was fixable. Nested fixes (`dbg!(dbg!(x))`) take more than
    /// one pass, so it repeats until nothing changes.
    #[must_use]
    pub fn fix_source(&self, path: &str, source: &str, kind: FileKind) -> Option<(String, usize)> {
        let mut text = source.to_owned();
        let mut applied = 0;
        for _ in 0..8 {
            let mut fixes = self.lint_inner(path, &text, kind, false).fixes;
            proc_macro2::extra::invalidate_current_thread_spans();
            if fixes.is_empty() {
                break;
            }
            // Apply from the end so earlier ranges stay valid; skip a fix
            // overlapping one already applied (the next pass gets it).
            fixes.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
            let mut floor = usize::MAX;
            for (range, replacement) in fixes {
                if range.end <= floor
                    && text.is_char_boundary(range.start)
                    && text.is_char_boundary(range.end)
                {
                    text.replace_range(range.clone(), &replacement);
                    floor = range.start;
                    applied += 1;
                }
            }
        }
        (applied > 0).then_some((text, applied))
    }

    fn lint_inner(&self, path: &str, source: &str, kind: FileKind, want_sigs: bool) -> FileLint {
        if let Some(d) = nesting_error(path, source) {
            return FileLint::only(d, None);
        }
        let (comments, sigs) = comments_and_sigs(source, want_sigs);
        // Parse the text with doc comments made plain (same byte offsets);
        // rules and locations keep using the original text.
        let stripped = crate::undoc::strip_doc_comments(source, &comments);
        let file = match syn::parse_file(stripped.as_deref().unwrap_or(source)) {
            Ok(file) => file,
            Err(e) => return FileLint::only(parse_error(path, source, &e), sigs),
        };
        let active: Vec<usize> = (0..rules::ALL.len())
            .filter(|&i| {
                self.resolved.levels[i] != rules::Level::Off
                    && !self.resolved.ignores[i]
                        .as_ref()
                        .is_some_and(|g| g.is_match(path))
            })
            .collect();
        let uses = UseMap::collect(&file);
        let lines = diagnostics::LineIndex::new(source);
        let disallowed = &self.resolved.disallowed;
        let (track, fields) = self.scopes(&active, &file, &uses);
        let mut cx = Cx {
            source,
            lines: &lines,
            uses: &uses,
            locals: crate::scope::Locals::new(track),
            fields,
            disallowed,
            in_test: kind == FileKind::Test,
            kind,
            async_depth: 0,
            in_main: false,
            in_const: false,
            stmt_line: 1,
            rule: 0,
            raw: Vec::new(),
        };
        let mut by_kind: [Vec<usize>; NODE_KINDS] = std::array::from_fn(|_| Vec::new());
        for &i in &active {
            for kind in rules::ALL[i].nodes {
                by_kind[*kind as usize].push(i);
            }
        }
        let mut walker = Walker {
            cx: &mut cx,
            by_kind: &by_kind,
            test_policy: self.resolved.test_code,
            item_depth: 0,
            macro_depth: 0,
        };
        walker.visit_file(&file);

        let mut suppressions = Suppressions::parse(source, &lines, &comments);
        let mut out = Vec::new();
        let mut fixes = Vec::new();
        let mut conditions = Vec::new();
        let mut raw = std::mem::take(&mut cx.raw);
        raw.sort_by_key(|r| (r.span.start, r.rule));
        raw.dedup_by(|a, b| a.rule == b.rule && a.span == b.span);
        for r in raw {
            let rule = rules::ALL[r.rule];
            let loc = lines.location(path, source, r.span);
            if suppressions.suppresses(rule.name, loc.line, r.stmt_line) {
                continue;
            }
            let Some(severity) = self.resolved.levels[r.rule].severity() else {
                continue;
            };
            if let Some(fix) = r.fix {
                fixes.push(fix);
            }
            let mut d = Diagnostic::new(rule.name, severity, r.message)
                .with_location(loc)
                .with_field("rule", rule.name);
            if let Some(help) = r.help {
                d = d.with_help(help);
            }
            for (span, message) in r.related {
                d = d.with_related(lines.location(path, source, span), message);
            }
            if let Some(c) = r.condition {
                conditions.push((out.len(), c));
            }
            out.push(d);
        }
        let active_names: Vec<&str> = active.iter().map(|&i| rules::ALL[i].name).collect();
        out.extend(suppressions.leftovers(path, source, &active_names));
        FileLint {
            diags: out,
            fixes,
            conditions,
            sigs,
            decls: crate::modtree::decls_of(&file),
        }
    }
}

/// The comments, and (for the workspace's signatures) the file's
/// signatures, which must not be read from comments or literals: one
/// lexical scan finds both.
fn comments_and_sigs(
    source: &str,
    want_sigs: bool,
) -> (Vec<crate::comments::Comment>, Option<FileSigs>) {
    if want_sigs {
        let (comments, literals) = crate::comments::scan_with_literals(source);
        let sigs = FileSigs::of_source(source, &comments, &literals);
        (comments, Some(sigs))
    } else {
        (crate::comments::scan(source), None)
    }
}

/// What linting one file gives.
pub(crate) struct FileLint {
    pub diags: Vec<Diagnostic>,
    pub fixes: Fixes,
    pub conditions: Conditions,
    /// Its signatures, when asked for.
    pub sigs: Option<FileSigs>,
    /// Its out-of-line module declarations, read from the syntax tree.
    pub decls: Option<Vec<crate::modtree::Decl>>,
}

impl FileLint {
    /// A file with one finding that stops the lint (it does not parse).
    pub(crate) fn only(d: Diagnostic, sigs: Option<FileSigs>) -> FileLint {
        FileLint {
            diags: vec![d],
            fixes: Vec::new(),
            conditions: Vec::new(),
            sigs,
            decls: None,
        }
    }
}

/// `diags` without the findings whose condition `signatures` does not meet.
pub(crate) fn resolve(
    diags: Vec<Diagnostic>,
    conditions: &Conditions,
    signatures: &Signatures,
) -> Vec<Diagnostic> {
    if conditions.is_empty() {
        return diags;
    }
    diags
        .into_iter()
        .enumerate()
        .filter(|(i, _)| {
            conditions
                .iter()
                .find(|(at, _)| at == i)
                .is_none_or(|(_, c)| c.holds(signatures))
        })
        .map(|(_, d)| d)
        .collect()
}

fn parse_error(path: &str, source: &str, e: &syn::Error) -> Diagnostic {
    let span = e.span().byte_range();
    let loc = if span.is_empty() && span.start == 0 {
        let lc = e.span().start();
        Location::line_column(path, lc.line.max(1), lc.column + 1)
    } else {
        Location::from_span(path, source, span)
    };
    Diagnostic::new(
        "parse-error",
        Severity::Error,
        format!("this file does not parse as Rust: {e}"),
    )
    .with_location(loc)
    .with_field("rule", "parse-error")
    .with_help(
        "govkit checks only code that parses; fix the syntax (cargo check shows the same error)",
    )
}

/// Cheap pre-scan for bracket nesting deeper than syn can safely recurse.
/// Brackets in strings and comments count too; only a file that trips the
/// cheap scan is lexed properly to confirm.
fn nesting_error(path: &str, source: &str) -> Option<Diagnostic> {
    let mut depth = 0usize;
    let mut max = 0usize;
    for b in source.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if max <= MAX_NESTING {
        return None;
    }
    let tokens: TokenStream = match source.parse() {
        Ok(t) => t,
        // A lexing error: let syn report it properly.
        Err(_) => return None,
    };
    let mut stack = vec![(tokens.into_iter(), 0usize)];
    while let Some((mut iter, depth)) = stack.pop() {
        if let Some(tt) = iter.next() {
            stack.push((iter, depth));
            if let TokenTree::Group(g) = tt {
                if depth + 1 > MAX_NESTING {
                    let loc = Location::from_span(path, source, g.span().byte_range());
                    return Some(
                        Diagnostic::new(
                            "parse-error",
                            Severity::Error,
                            format!("brackets nest deeper than {MAX_NESTING} levels; govkit does not check this file"),
                        )
                        .with_location(loc)
                        .with_field("rule", "parse-error"),
                    );
                }
                stack.push((g.stream().into_iter(), depth + 1));
            }
        }
    }
    None
}

struct Walker<'c, 'a> {
    cx: &'c mut Cx<'a>,
    /// Active rules by the node kind they look at.
    by_kind: &'c [Vec<usize>; NODE_KINDS],
    test_policy: TestCodePolicy,
    item_depth: usize,
    macro_depth: usize,
}

impl Walker<'_, '_> {
    fn emit(&mut self, node: &Node<'_>) {
        for &i in &self.by_kind[node.kind() as usize] {
            let rule: &RuleMeta = rules::ALL[i];
            let kind = if self.cx.in_test {
                FileKind::Test
            } else {
                self.cx.kind
            };
            if !applies(rule, kind, self.test_policy) {
                continue;
            }
            if self.cx.in_const && rule.category == rules::Category::Panics {
                continue;
            }
            self.cx.rule = i;
            (rule.check)(self.cx, node);
        }
    }

    /// Runs `f` with `in_test` set if `attrs` mark test code.
    fn with_attrs(&mut self, attrs: &[syn::Attribute], f: impl FnOnce(&mut Self)) {
        let was = self.cx.in_test;
        if attrs.iter().any(is_test_attr) {
            self.cx.in_test = true;
        }
        f(self);
        self.cx.in_test = was;
    }

    /// Runs `f` in a new scope of local bindings.
    fn scoped(&mut self, f: impl FnOnce(&mut Self)) {
        self.cx.locals.push();
        f(self);
        self.cx.locals.pop();
    }

    fn bind(&mut self, pat: &syn::Pat) {
        let cx = &mut *self.cx;
        cx.locals.bind(pat, None, cx.uses, &cx.fields);
    }

    fn bind_sig(&mut self, sig: &syn::Signature) {
        let cx = &mut *self.cx;
        cx.locals.bind_sig(sig, cx.uses, &cx.fields);
    }

    /// The bindings of `let` conditions (`if let`, `while let`, let chains).
    fn bind_lets(&mut self, cond: &syn::Expr) {
        match cond {
            syn::Expr::Let(l) => {
                let cx = &mut *self.cx;
                cx.locals.bind(&l.pat, Some(&l.expr), cx.uses, &cx.fields);
            }
            syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                self.bind_lets(&b.left);
                self.bind_lets(&b.right);
            }
            _ => {}
        }
    }

    fn with_stmt_line(&mut self, span: Span, f: impl FnOnce(&mut Self)) {
        let was = self.cx.stmt_line;
        self.cx.stmt_line = span.start().line;
        f(self);
        self.cx.stmt_line = was;
    }

    /// Looks inside a macro invocation's tokens: as a comma/semicolon
    /// separated list of expressions (`assert_eq!`, `format!`, `vec!`), as
    /// statements and items (`cfg_*! { .. }`), and failing both, piece by
    /// piece (`json!`, `select!`), so that rules see the code there.
    fn expand(&mut self, tokens: TokenStream) {
        if self.macro_depth >= MAX_MACRO_DEPTH || !may_hold_code(&tokens) {
            return;
        }
        self.macro_depth += 1;
        if let Ok(exprs) = parse_expr_list.parse2(tokens.clone()) {
            for e in &exprs {
                self.visit_expr(e);
            }
        } else if let Ok(stmts) = syn::Block::parse_within.parse2(tokens.clone()) {
            for s in &stmts {
                self.visit_stmt(s);
            }
        } else {
            self.expand_pieces(tokens);
        }
        self.macro_depth -= 1;
    }

    /// Splits tokens at top-level `,` `;` `=>` and a lone `:`; each piece is
    /// parsed as an expression, or else its bracketed groups are expanded.
    fn expand_pieces(&mut self, tokens: TokenStream) {
        let mut piece: Vec<TokenTree> = Vec::new();
        let mut iter = tokens.into_iter().peekable();
        let mut pieces = Vec::new();
        while let Some(tt) = iter.next() {
            let split = match &tt {
                TokenTree::Punct(p) if p.as_char() == ',' || p.as_char() == ';' => true,
                TokenTree::Punct(p) if p.as_char() == '=' && p.spacing() == Spacing::Joint => {
                    if matches!(iter.peek(), Some(TokenTree::Punct(q)) if q.as_char() == '>') {
                        iter.next();
                        true
                    } else {
                        false
                    }
                }
                TokenTree::Punct(p) if p.as_char() == ':' && p.spacing() == Spacing::Alone => {
                    // `a::b` lexes as Joint ':' then ':'; a lone ':' after a
                    // joint one is the path separator's second half.
                    !matches!(piece.last(), Some(TokenTree::Punct(q)) if q.as_char() == ':' && q.spacing() == Spacing::Joint)
                }
                _ => false,
            };
            if split {
                pieces.push(std::mem::take(&mut piece));
            } else {
                piece.push(tt);
            }
        }
        pieces.push(piece);
        for piece in pieces {
            if piece.is_empty() {
                continue;
            }
            let stream: TokenStream = piece.iter().cloned().collect();
            if let Ok(e) = syn::parse2::<syn::Expr>(stream) {
                self.visit_expr(&e);
                continue;
            }
            for tt in piece {
                if let TokenTree::Group(g) = tt
                    && (g.delimiter() != Delimiter::None || !g.stream().is_empty())
                {
                    self.expand(g.stream());
                }
            }
        }
    }
}

/// Whether a macro's tokens can contain anything a rule looks at. Most
/// invocations (`format!("{} {}", a, b)`, `vec![1, 2]`) hold only plain
/// identifiers and literals; parsing those would cost time and find nothing.
/// Anything with a bracketed group (a call, block or index), `.`, `!`, `=`,
/// a path, a long string literal (secret markers) or an item keyword is
/// parsed.
fn may_hold_code(tokens: &TokenStream) -> bool {
    let mut prev_colon = false;
    for tt in tokens.clone() {
        let interesting = match &tt {
            TokenTree::Group(_) => true,
            TokenTree::Punct(p) => {
                let c = p.as_char();
                let path_sep = c == ':' && prev_colon;
                prev_colon = c == ':' && p.spacing() == Spacing::Joint;
                matches!(c, '.' | '!' | '=') || path_sep
            }
            TokenTree::Ident(i) => {
                prev_colon = false;
                i == "unsafe" || i == "static" || i == "const" || i == "let" || i == "impl"
            }
            TokenTree::Literal(l) => {
                prev_colon = false;
                l.span().byte_range().len() >= 20
            }
        };
        if interesting {
            return true;
        }
    }
    false
}

fn parse_expr_list(input: ParseStream<'_>) -> syn::Result<Vec<syn::Expr>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        out.push(input.parse::<syn::Expr>()?);
        if input.is_empty() {
            break;
        }
        let look = input.lookahead1();
        if look.peek(syn::Token![,]) {
            input.parse::<syn::Token![,]>()?;
        } else if look.peek(syn::Token![;]) {
            input.parse::<syn::Token![;]>()?;
        } else {
            return Err(look.error());
        }
    }
    Ok(out)
}

/// `#[test]`, `#[tokio::test]`, `#[rstest]`-style attributes ending in
/// `test`, and test-only `cfg`s: `#[cfg(test)]`, `#[cfg(all(test, ..))]`
/// (not `any(test, feature = "x")`, which a normal build can enable).
fn is_test_attr(attr: &syn::Attribute) -> bool {
    let path = attr.path();
    if path.is_ident("cfg") {
        return crate::modtree::is_test_only_cfg(attr);
    }
    path.segments
        .last()
        .is_some_and(|s| s.ident == "test" || s.ident == "rstest" || s.ident == "bench")
}

impl<'ast> Visit<'ast> for Walker<'_, '_> {
    fn visit_expr_method_call(&mut self, e: &'ast syn::ExprMethodCall) {
        self.emit(&Node::MethodCall(e));
        visit::visit_expr_method_call(self, e);
    }

    fn visit_expr_call(&mut self, e: &'ast syn::ExprCall) {
        let uses = self.cx.uses;
        let path = match &*e.func {
            syn::Expr::Path(p) => Some(PathRef::new(&p.path, uses)),
            _ => None,
        };
        self.emit(&Node::Call(e, path.as_ref()));
        for attr in &e.attrs {
            self.visit_attribute(attr);
        }
        // The callee path itself is not a "path used as a value".
        for arg in &e.args {
            self.visit_expr(arg);
        }
        if !matches!(&*e.func, syn::Expr::Path(_)) {
            self.visit_expr(&e.func);
        }
    }

    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        let path = PathRef::new(&e.path, self.cx.uses);
        self.emit(&Node::Path(e, &path));
        visit::visit_expr_path(self, e);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.emit(&Node::Macro(m));
        if m.path.is_ident("macro_rules") {
            // Each rule's body is code once its `$x` fragments are read as
            // plain names and `$( .. )*` repetitions as one pass.
            for body in crate::macros::transcribers(m.tokens.clone()) {
                self.expand(body);
            }
        } else {
            self.expand(m.tokens.clone());
        }
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        self.emit(&Node::Local(l));
        visit::visit_local(self, l);
        let cx = &mut *self.cx;
        cx.locals.bind(
            &l.pat,
            l.init.as_ref().map(|i| &*i.expr),
            cx.uses,
            &cx.fields,
        );
    }

    fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
        self.with_stmt_line(crate::anchor::stmt(s), |w| {
            w.emit(&Node::Stmt(s));
            visit::visit_stmt(w, s);
        });
    }

    fn visit_arm(&mut self, a: &'ast syn::Arm) {
        self.emit(&Node::Arm(a));
        self.scoped(|w| {
            w.bind(&a.pat);
            visit::visit_arm(w, a);
        });
    }

    fn visit_expr_if(&mut self, e: &'ast syn::ExprIf) {
        self.emit(&Node::If(e));
        self.scoped(|w| {
            w.bind_lets(&e.cond);
            visit::visit_expr_if(w, e);
        });
    }

    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.scoped(|w| {
            w.bind_lets(&e.cond);
            visit::visit_expr_while(w, e);
        });
    }

    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.visit_expr(&e.expr);
        self.scoped(|w| {
            w.bind(&e.pat);
            w.visit_pat(&e.pat);
            w.visit_block(&e.body);
        });
    }

    fn visit_expr_const(&mut self, e: &'ast syn::ExprConst) {
        let was = std::mem::replace(&mut self.cx.in_const, true);
        visit::visit_expr_const(self, e);
        self.cx.in_const = was;
    }

    fn visit_expr_unsafe(&mut self, e: &'ast syn::ExprUnsafe) {
        self.emit(&Node::UnsafeBlock(e));
        visit::visit_expr_unsafe(self, e);
    }

    fn visit_expr_async(&mut self, e: &'ast syn::ExprAsync) {
        self.cx.async_depth += 1;
        visit::visit_expr_async(self, e);
        self.cx.async_depth -= 1;
    }

    fn visit_expr_closure(&mut self, e: &'ast syn::ExprClosure) {
        // A closure body runs wherever it is called, not in the enclosing
        // async context.
        let depth = std::mem::replace(&mut self.cx.async_depth, 0);
        if e.asyncness.is_some() {
            self.cx.async_depth = 1;
        }
        self.scoped(|w| {
            for input in &e.inputs {
                w.bind(input);
            }
            visit::visit_expr_closure(w, e);
        });
        self.cx.async_depth = depth;
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.emit(&Node::Block(b));
        self.scoped(|w| visit::visit_block(w, b));
    }

    fn visit_field_value(&mut self, f: &'ast syn::FieldValue) {
        self.emit(&Node::FieldValue(f));
        visit::visit_field_value(self, f);
    }

    fn visit_expr_assign(&mut self, e: &'ast syn::ExprAssign) {
        self.emit(&Node::Assign(e));
        visit::visit_expr_assign(self, e);
    }

    fn visit_lit_str(&mut self, l: &'ast syn::LitStr) {
        self.emit(&Node::LitStr(l));
    }

    fn visit_type_path(&mut self, t: &'ast syn::TypePath) {
        let path = PathRef::new(&t.path, self.cx.uses);
        self.emit(&Node::Type(t, &path));
        visit::visit_type_path(self, t);
    }

    fn visit_attribute(&mut self, a: &'ast syn::Attribute) {
        // Doc comments are prose, not code, and the bulk of the attributes
        // in a documented crate; no rule looks inside them.
        if a.path().is_ident("doc") {
            return;
        }
        self.emit(&Node::Attribute(a));
        visit::visit_attribute(self, a);
    }

    fn visit_item(&mut self, i: &'ast syn::Item) {
        let attrs: &[syn::Attribute] = match i {
            syn::Item::Const(x) => &x.attrs,
            syn::Item::Enum(x) => &x.attrs,
            syn::Item::Fn(x) => &x.attrs,
            syn::Item::Impl(x) => &x.attrs,
            syn::Item::Macro(x) => &x.attrs,
            syn::Item::Mod(x) => &x.attrs,
            syn::Item::Static(x) => &x.attrs,
            syn::Item::Struct(x) => &x.attrs,
            syn::Item::Trait(x) => &x.attrs,
            syn::Item::Use(x) => &x.attrs,
            _ => &[],
        };
        self.with_attrs(attrs, |w| {
            w.with_stmt_line(crate::anchor::item(i), |w| {
                match i {
                    syn::Item::Impl(imp) if imp.unsafety.is_some() => {
                        w.emit(&Node::UnsafeImpl(imp));
                    }
                    syn::Item::Static(s) => w.emit(&Node::Static(s)),
                    syn::Item::Const(c) => w.emit(&Node::Const(c)),
                    _ => {}
                }
                w.item_depth += 1;
                let was_const = w.cx.in_const;
                // A `static` written inside a macro (`thread_local!`) may be
                // initialised at run time; a real one, or a `const`, is not.
                if matches!(i, syn::Item::Const(_))
                    || (matches!(i, syn::Item::Static(_)) && w.macro_depth == 0)
                {
                    w.cx.in_const = true;
                }
                visit::visit_item(w, i);
                w.cx.in_const = was_const;
                w.item_depth -= 1;
            });
        });
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        // A function body runs at run time, even inside a `const` block.
        let was_const = std::mem::replace(&mut self.cx.in_const, false);
        let was_main = self.cx.in_main;
        // item_depth is 1 here for a top-level item (visit_item added it).
        if self.item_depth == 1 && f.sig.ident == "main" {
            self.cx.in_main = true;
        }
        let was_async = self.cx.async_depth;
        self.cx.async_depth = usize::from(f.sig.asyncness.is_some());
        self.scoped(|w| {
            w.bind_sig(&f.sig);
            visit::visit_item_fn(w, f);
        });
        self.cx.async_depth = was_async;
        self.cx.in_main = was_main;
        self.cx.in_const = was_const;
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.with_attrs(&f.attrs, |w| {
            w.with_stmt_line(crate::anchor::impl_fn(f), |w| {
                let was_async = w.cx.async_depth;
                w.cx.async_depth = usize::from(f.sig.asyncness.is_some());
                w.scoped(|w| {
                    w.bind_sig(&f.sig);
                    visit::visit_impl_item_fn(w, f);
                });
                w.cx.async_depth = was_async;
            });
        });
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        self.with_attrs(&f.attrs, |w| {
            w.scoped(|w| {
                w.bind_sig(&f.sig);
                visit::visit_trait_item_fn(w, f);
            });
        });
    }
}
