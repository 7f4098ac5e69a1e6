use std::path::Path;

use lints::rules::ALL;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.rs"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("every rule needs a fixture at {}: {e}", path.display()))
}

/// Every rule's fixture, linted with that rule alone, rendered as the user
/// sees it. Review the snapshot to review the rule.
#[test]
fn every_rule_matches_its_snapshot() {
    for rule in ALL {
        let source = fixture(rule.name);
        let path = format!("fixtures/{}.rs", rule.name);
        let findings = if rule.name == "disallowed" {
            disallowed_lint(&path, &source)
        } else {
            super::lint(&path, &source, Some(rule.name))
        };
        assert!(
            findings.iter().any(|d| d.code == rule.name),
            "fixture of {} has no positive case",
            rule.name
        );
        insta::assert_snapshot!(rule.name, super::render(&path, &source, &findings));
    }
}

#[test]
fn every_rule_documents_itself() {
    for rule in ALL {
        for section in ["## What it does", "## Why is this bad?", "## Example"] {
            assert!(
                rule.doc.contains(section),
                "{} lacks `{section}` in its doc comment",
                rule.name
            );
        }
        assert!(
            rule.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-'),
            "{} is not kebab-case",
            rule.name
        );
    }
}

/// The code list is part of the CLI contract (configs and suppressions
/// name these): changing it must be deliberate.
#[test]
fn rule_codes_are_stable() {
    let mut codes: Vec<&str> = ALL.iter().map(|r| r.name).collect();
    codes.extend(lints::rules::ENGINE_CODES.iter().map(|c| c.code));
    insta::assert_snapshot!(codes.join("\n"));
}

/// The reason the engine parses macro arguments: each of these `unwrap()`s
/// is invisible to tools that treat macro bodies as opaque tokens.
#[test]
fn unwraps_inside_macros_are_found() {
    let cases = [
        "fn f() { assert_eq!(x.unwrap(), 1); }",
        "fn f() { let s = format!(\"{}\", y.unwrap()); }",
        "fn f() { let s = format!(\"{a}\", a = y.unwrap()); }",
        "fn f() { let v = vec![z.unwrap(); 3]; }",
        "fn f() { let v = vec![1, z.unwrap()]; }",
        "fn f() { let j = json!({ \"k\": z.unwrap(), \"n\": [1, 2] }); }",
        "fn f() { tokio::select! { v = rx.recv() => { v.unwrap(); } } }",
        "cfg_rt! { pub fn g(x: Option<u8>) -> u8 { x.unwrap() } }",
        "cfg_if::cfg_if! { if #[cfg(unix)] { fn g() { x.unwrap(); } } else { fn g() {} } }",
        "fn f() { outer!(inner!(x.unwrap())); }",
    ];
    for src in cases {
        let found = super::lint("src/lib.rs", src, Some("unwrap-used"));
        assert_eq!(
            found.len(),
            1,
            "expected one unwrap-used in `{src}`, got {found:?}"
        );
    }
}

/// Clippy checks a local macro's expansion and reports in its definition;
/// govkit reads the body with `$e` as a plain name. A body that is not code
/// on its own (it pastes pieces together) is skipped, not an error.
#[test]
fn macro_rules_bodies_are_checked_like_their_expansion() {
    let src = "macro_rules! m { ($e:expr) => { $e.unwrap() }; () => { x.unwrap() } }\n\
               macro_rules! pieces { ($n:ident) => { fn $n() -> u8 { 1 } $n! }; }";
    let found = super::lint("src/lib.rs", src, Some("unwrap-used"));
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        super::lint("src/lib.rs", src, None)
            .iter()
            .all(|d| d.code != "parse-error")
    );
}

#[test]
fn test_code_policy_lint_applies_panic_rules_to_tests() {
    let src = "#[test] fn t() { Some(1).unwrap(); }";
    assert!(super::lint("src/lib.rs", src, Some("unwrap-used")).is_empty());
    let linter = lints::Linter::new(&lints::Settings {
        test_code: lints::TestCodePolicy::Lint,
        ..lints::Settings::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let found = linter.lint_source("src/lib.rs", src, lints::FileKind::Library);
    assert!(found.iter().any(|d| d.code == "unwrap-used"));
    let in_tests_dir = linter.lint_source(
        "tests/t.rs",
        "fn f() { x.unwrap(); }",
        lints::FileKind::Test,
    );
    assert!(in_tests_dir.iter().any(|d| d.code == "unwrap-used"));
}

/// The `disallowed` fixture runs with an organisation's banned paths.
fn disallowed_lint(path: &str, source: &str) -> Vec<diagnostics::Diagnostic> {
    let entries = [
        (
            "std::env::set_var",
            "not thread-safe; pass configuration explicitly",
        ),
        ("std::rc::Rc", "services are multi-threaded; use Arc"),
        ("Vec::leak", "leaks memory for the life of the process"),
        (
            "legacy::client::connect",
            "the legacy client is being retired; use platform::client",
        ),
        ("std::time::Instant::now", "use the injected clock"),
        (
            "std::thread::sleep",
            "blocks the executor; use tokio::time::sleep",
        ),
        ("std::sync::Mutex::lock", "use the sharded lock"),
        ("std::sync::RwLock::write", "writes go through the actor"),
    ];
    let settings = lints::Settings {
        only: vec!["disallowed".into()],
        disallowed: entries
            .iter()
            .map(|(p, r)| {
                let mut d = lints::Disallowed::new(p, r).unwrap_or_else(|| panic!("bad path {p}"));
                // `match-methods = "by-name"`: also receivers of unknown type.
                d.by_name = p.ends_with("RwLock::write");
                d
            })
            .collect(),
        ..lints::Settings::default()
    };
    let linter = lints::Linter::new(&settings).unwrap_or_else(|e| panic!("{e}"));
    linter.lint_source(path, source, lints::FileKind::Library)
}
