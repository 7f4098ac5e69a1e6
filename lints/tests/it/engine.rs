use lints::{FileKind, Linter, Settings};

#[test]
fn unparsable_file_is_a_parse_error_finding() {
    let src = "fn main() {\n    let x = ;\n}\n";
    let found = super::lint("src/bad.rs", src, None);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, "parse-error");
    let loc = found[0].location.as_ref().map(|l| (l.line, l.column));
    assert_eq!(loc, Some((2, 13)));
    insta::assert_snapshot!(super::render("src/bad.rs", src, &found));
}

#[test]
fn absurd_nesting_is_reported_not_crashed_on() {
    let depth = 100_000;
    let src = format!(
        "fn f() {{ let x = {}1{}; }}",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let found = super::lint("src/deep.rs", &src, None);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, "parse-error");
}

#[test]
fn brackets_in_strings_do_not_trip_the_nesting_limit() {
    let src = format!("fn f() -> &'static str {{ \"{}\" }}", "(".repeat(1000));
    assert!(super::lint("src/s.rs", &src, None).is_empty());
}

#[test]
fn suppressions_need_a_reason_and_a_known_rule() {
    let src = "fn f() {\n    // govkit: allow(unwrap-used)\n    x.unwrap();\n    x.unwrap(); // govkit: allow(unwrap-usd) -- typo\n}\n";
    let found = super::lint("src/lib.rs", src, None);
    let codes: Vec<&str> = found.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "unwrap-used",
            "unwrap-used",
            "invalid-suppression",
            "invalid-suppression"
        ]
    );
    assert!(
        found[3].message.contains("did you mean `unwrap-used`"),
        "{}",
        found[3].message
    );
}

#[test]
fn unused_suppression_is_reported() {
    let src = "fn f() {\n    // govkit: allow(unwrap-used) -- nothing here any more\n    x.unwrap_or(1);\n}\n";
    let found = super::lint("src/lib.rs", src, None);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, "unused-suppression");
}

#[test]
fn levels_and_per_path_ignores_apply() {
    let mut settings = Settings::default();
    settings
        .levels
        .insert("unwrap-used".into(), lints::Level::Warn);
    settings
        .per_path_ignores
        .insert("todo".into(), vec!["src/gen/**".into()]);
    let linter = Linter::new(&settings).unwrap_or_else(|e| panic!("{e}"));
    let found = linter.lint_source(
        "src/gen/a.rs",
        "fn f() { x.unwrap(); todo!() }",
        FileKind::Library,
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, diagnostics::Severity::Warning);
}

#[test]
fn unknown_rule_in_settings_suggests_the_closest() {
    let settings = Settings {
        only: vec!["unwarp-used".into()],
        ..Settings::default()
    };
    let err = Linter::new(&settings).err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("unknown rule `unwarp-used` (did you mean `unwrap-used`?)")
    );
}

/// Arbitrary bytes and truncated real code never panic the engine.
#[test]
fn truncations_of_real_code_never_panic() {
    let src = include_str!("../fixtures/unwrap-used.rs");
    for end in (0..src.len()).filter(|&i| src.is_char_boundary(i)) {
        let _findings = super::lint("src/t.rs", &src[..end], None);
    }
}

#[test]
fn suppression_above_a_multi_line_statement_covers_it() {
    let src = "fn f() {\n    // govkit: allow(unwrap-used) -- checked above\n    let v = g(\n        x.unwrap(),\n    );\n}\n";
    assert!(super::lint("src/lib.rs", src, None).is_empty());
}

#[test]
fn fix_source_is_idempotent_and_only_touches_dbg() {
    let linter = Linter::new(&Settings::default()).unwrap_or_else(|e| panic!("{e}"));
    let src = "fn f() {\n    dbg!();\n    let v = dbg!(vec![1, 2],);\n    x.unwrap();\n}\n";
    let (fixed, n) = linter
        .fix_source("src/lib.rs", src, FileKind::Library)
        .unwrap_or_else(|| panic!("no fix"));
    assert_eq!(n, 2);
    assert_eq!(
        fixed,
        "fn f() {\n    ();\n    let v = vec![1, 2];\n    x.unwrap();\n}\n"
    );
    assert!(
        linter
            .fix_source("src/lib.rs", &fixed, FileKind::Library)
            .is_none()
    );
    // A suppressed dbg! is left alone.
    let kept = "fn f() {\n    dbg!(1); // govkit: allow(dbg-macro) -- demo output\n}\n";
    assert!(
        linter
            .fix_source("src/lib.rs", kept, FileKind::Library)
            .is_none()
    );
}
