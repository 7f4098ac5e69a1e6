use super::{code, govkit, project, stderr, stdout};

#[test]
fn exit_codes_follow_the_contract() {
    let clean = project(&[("govkit.toml", "[lint]\n"), ("src/lib.rs", super::CLEAN)]);
    assert_eq!(code(&govkit(clean.path(), &["check"])), 0);

    let dirty = project(&[("govkit.toml", "[lint]\n"), ("src/lib.rs", super::DIRTY)]);
    let out = govkit(dirty.path(), &["check"]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(
        text.contains("error[unwrap-used]") && text.contains("FAILED"),
        "{text}"
    );

    let none = project(&[("src/lib.rs", super::CLEAN)]);
    let out = govkit(none.path(), &["check"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("govkit init"),
        "the hint says what to do: {}",
        stderr(&out)
    );

    let empty = project(&[("govkit.toml", "# nothing yet\n")]);
    let out = govkit(empty.path(), &["check"]);
    assert_eq!(code(&out), 2, "a check that checks nothing is not a pass");
    assert!(
        stderr(&out).contains("configures no gates"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn gate_that_cannot_run_is_exit_2_never_a_pass() {
    let p = project(&[("govkit.toml", "[lint]\npaths = [\"does-not-exist\"]\n")]);
    let out = govkit(p.path(), &["check"]);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(stderr(&out).contains("does-not-exist"), "{}", stderr(&out));
    assert!(stdout(&out).contains("ERROR"), "{}", stdout(&out));
}

#[test]
fn json_summary_lists_each_gate() {
    let p = project(&[("govkit.toml", "[lint]\n"), ("src/lib.rs", super::DIRTY)]);
    let out = govkit(p.path(), &["check", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["ok"], false);
    assert_eq!(v["gates"][0]["gate"], "lint");
    assert_eq!(v["gates"][0]["status"], "failed");
    assert_eq!(
        v["gates"][0]["report"]["findings"][0]["rule"],
        "unwrap-used"
    );
}

#[test]
fn unknown_gate_selection_is_a_usage_error() {
    let p = project(&[("govkit.toml", "[lint]\n")]);
    let out = govkit(p.path(), &["check", "--gate", "vendor"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("configured gates: lint"),
        "{}",
        stderr(&out)
    );
}

/// govkit passes its own gates: the repository's govkit.toml, run as CI runs it.
#[test]
fn govkit_passes_its_own_check() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = govkit(root, &["check"]);
    assert_eq!(
        code(&out),
        0,
        "govkit check on govkit itself:\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
}
