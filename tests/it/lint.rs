use std::io::Read;
use std::process::{Command, Stdio};

use super::{code, govkit, project, stderr, stdout};

#[test]
fn json_findings_have_the_documented_fields_and_relative_paths() {
    let p = project(&[("src/lib.rs", super::DIRTY)]);
    let out = govkit(p.path(), &["lint", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "unwrap-used");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["path"], "src/lib.rs");
    assert_eq!(f["line"], 2);
    assert_eq!(f["column"], 16);
    assert!(f["message"].is_string());
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["files"], 1);
}

#[test]
fn every_format_renders() {
    let p = project(&[("src/lib.rs", super::DIRTY)]);
    let sarif = govkit(p.path(), &["lint", "--format", "sarif"]);
    let doc: serde_json::Value =
        serde_json::from_slice(&sarif.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["runs"][0]["results"][0]["ruleId"], "unwrap-used");
    let driver = &doc["runs"][0]["tool"]["driver"];
    let rules = driver["rules"].as_array().cloned().unwrap_or_default();
    assert!(rules.len() >= 18);
    // What GitHub code scanning requires of every rule.
    for rule in &rules {
        for field in ["shortDescription", "fullDescription", "help"] {
            assert!(
                rule[field]["text"].as_str().is_some_and(|t| !t.is_empty()),
                "{field} of {rule}"
            );
        }
    }
    assert!(driver["informationUri"].is_string(), "{driver}");

    let gh = stdout(&govkit(p.path(), &["lint", "--format", "github"]));
    assert!(
        gh.starts_with("::error file=src/lib.rs,line=2,col=16"),
        "{gh}"
    );

    let junit = stdout(&govkit(p.path(), &["lint", "--format", "junit"]));
    assert!(junit.contains("<failure message="), "{junit}");

    let human = govkit(p.path(), &["lint", "--color", "always"]);
    assert!(stdout(&human).contains('\u{1b}'), "--color always colours");
    let plain = govkit(p.path(), &["lint"]);
    assert!(
        !stdout(&plain).contains('\u{1b}'),
        "auto does not colour a pipe"
    );
}

#[test]
fn closed_stdout_pipe_ends_quietly() {
    // Enough findings that the output exceeds any pipe buffer.
    let src = "fn f() { x.unwrap(); }\n".repeat(5000);
    let p = project(&[("src/lib.rs", &src)]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_govkit"))
        .args(["lint"])
        .current_dir(p.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    // Read a little, then close our end, like `| head -1`.
    let mut first = [0u8; 16];
    let mut out = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    out.read_exact(&mut first).unwrap_or_else(|e| panic!("{e}"));
    drop(out);
    let mut err = String::new();
    child.stderr.take().map(|mut e| e.read_to_string(&mut err));
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.code(), Some(1), "the verdict stands; stderr: {err}");
    assert!(err.is_empty(), "no error or panic on a closed pipe: {err}");
}

#[test]
fn explain_and_list_rules() {
    let p = project(&[]);
    let out = govkit(p.path(), &["lint", "--explain", "unwrap-used"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.contains("## Why is this bad?") && text.contains("```rust\n"),
        "{text}"
    );
    let out = govkit(p.path(), &["lint", "--explain", "unwrap"]);
    assert_eq!(code(&out), 2);
    let list = stdout(&govkit(p.path(), &["lint", "--list-rules"]));
    assert!(list.lines().count() > 18, "{list}");
    // Every code --list-rules lists can be explained, the engine's too.
    for line in list.lines().skip(1) {
        let code_name = line.split_whitespace().next().unwrap_or_default();
        let out = govkit(p.path(), &["lint", "--explain", code_name]);
        assert_eq!(code(&out), 0, "--explain {code_name}: {}", stderr(&out));
        assert!(
            stdout(&out).starts_with(&format!("# {code_name}\n")),
            "{}",
            stdout(&out)
        );
    }
}

#[test]
fn rule_filter_and_missing_path() {
    let p = project(&[("src/lib.rs", "fn f() { dbg!(x.unwrap()); }\n")]);
    let out = govkit(
        p.path(),
        &["lint", "--rule", "dbg-macro", "--format", "json"],
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(1));
    let out = govkit(p.path(), &["lint", "missing/dir"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("missing/dir"), "{}", stderr(&out));
}

#[test]
fn unparsable_file_fails_the_gate_with_its_location() {
    let p = project(&[("src/lib.rs", "fn f( {\n")]);
    let out = govkit(p.path(), &["lint", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["findings"][0]["rule"], "parse-error");
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(["-c", "user.email=t@example.invalid", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "git {args:?}");
}

#[test]
fn staged_lints_the_index_not_the_work_tree() {
    let p = project(&[("src/lib.rs", super::DIRTY), ("src/other.rs", super::DIRTY)]);
    git(p.path(), &["init", "-q"]);
    git(p.path(), &["add", "src/lib.rs"]);
    // The work tree is fixed but the fix is not staged: the commit would
    // still contain the unwrap. other.rs is not staged at all.
    std::fs::write(p.path().join("src/lib.rs"), super::CLEAN).unwrap_or_else(|e| panic!("{e}"));
    let out = govkit(p.path(), &["lint", "--staged", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["files"], 1);
    assert_eq!(v["findings"][0]["path"], "src/lib.rs");

    git(p.path(), &["add", "src/lib.rs"]);
    assert_eq!(code(&govkit(p.path(), &["lint", "--staged"])), 0);

    let outside = project(&[]);
    let out = govkit(outside.path(), &["lint", "--staged"]);
    assert_eq!(code(&out), 2, "outside git it cannot run");
}

#[test]
fn disallowed_paths_come_from_the_config() {
    let cfg = "[[lint.disallowed]]\npath = \"std::env::set_var\"\nreason = \"not thread-safe\"\n";
    let p = project(&[
        ("govkit.toml", cfg),
        (
            "src/lib.rs",
            "use std::env;\nfn f() { env::set_var(\"A\", \"1\"); }\n",
        ),
    ]);
    let out = govkit(p.path(), &["lint", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["findings"][0]["rule"], "disallowed");
    assert_eq!(
        v["findings"][0]["message"],
        "`std::env::set_var` is disallowed: not thread-safe"
    );
}

#[test]
fn baseline_survives_unrelated_line_moves_and_catches_new_findings() {
    let p = project(&[("src/lib.rs", super::DIRTY)]);
    let out = govkit(p.path(), &["lint", "--write-baseline", "baseline.json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        code(&govkit(p.path(), &["lint", "--baseline", "baseline.json"])),
        0
    );

    // Unrelated lines added above: the recorded finding moved, still covered.
    let moved = format!("// a comment\nuse std::fmt;\n\n{}", super::DIRTY);
    std::fs::write(p.path().join("src/lib.rs"), &moved).unwrap_or_else(|e| panic!("{e}"));
    let out = govkit(
        p.path(),
        &["lint", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["baselined"], 1);

    // A second, new unwrap fails even though its text is the same.
    let twice = format!("{moved}pub fn second(v: &[u8]) -> u8 {{\n    *v.first().unwrap()\n}}\n");
    std::fs::write(p.path().join("src/lib.rs"), twice).unwrap_or_else(|e| panic!("{e}"));
    let out = govkit(
        p.path(),
        &["lint", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(code(&out), 1);
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(1));

    std::fs::write(
        p.path().join("corrupt.json"),
        "{\"version\": 1, \"findings\": [{}]}",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = govkit(p.path(), &["lint", "--baseline", "corrupt.json"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("corrupt.json") && out.stdout.is_empty(),
        "{}",
        stderr(&out)
    );
}

#[test]
fn new_from_rev_reports_only_changed_lines() {
    let p = project(&[("src/lib.rs", super::DIRTY)]);
    git(p.path(), &["init", "-q"]);
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-q", "-m", "legacy"]);
    let added = format!(
        "{}pub fn second(v: &[u8]) -> u8 {{\n    *v.last().unwrap()\n}}\n",
        super::DIRTY
    );
    std::fs::write(p.path().join("src/lib.rs"), added).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(p.path().join("src/new.rs"), super::DIRTY).unwrap_or_else(|e| panic!("{e}"));
    let out = govkit(
        p.path(),
        &["lint", "--new-from-rev", "HEAD", "--format", "json"],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let at: Vec<(String, u64)> = v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["path"].as_str().unwrap_or("").to_owned(),
                        f["line"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        at,
        [("src/lib.rs".to_owned(), 5), ("src/new.rs".to_owned(), 2)]
    );

    let out = govkit(p.path(), &["lint", "--new-from-rev", "no-such-rev"]);
    assert_eq!(code(&out), 2, "an unknown revision never looks like a pass");
    assert!(stderr(&out).contains("no-such-rev"), "{}", stderr(&out));
}

#[test]
fn fix_removes_dbg_and_leaves_the_rest() {
    let src = "pub fn f(a: u8, b: u8) -> u8 {\n    let t = dbg!(a + b);\n    dbg!(dbg!(t));\n    let pair = dbg!(a, b);\n    x.unwrap()\n}\n";
    let p = project(&[("src/lib.rs", src)]);
    let out = govkit(p.path(), &["lint", "--fix", "--format", "json"]);
    assert_eq!(code(&out), 1, "the unwrap remains: {}", stderr(&out));
    let fixed = std::fs::read_to_string(p.path().join("src/lib.rs")).unwrap_or_default();
    assert_eq!(
        fixed,
        "pub fn f(a: u8, b: u8) -> u8 {\n    let t = a + b;\n    t;\n    let pair = (a, b);\n    x.unwrap()\n}\n"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["findings"][0]["rule"], "unwrap-used");
}

#[test]
fn cache_serves_unchanged_files_and_never_stale_results() {
    let p = project(&[("src/lib.rs", super::DIRTY), ("src/b.rs", super::CLEAN)]);
    let first = govkit(p.path(), &["lint", "--format", "json", "-v"]);
    assert!(
        stderr(&first).contains("0 of 2 files from the cache"),
        "{}",
        stderr(&first)
    );
    let second = govkit(p.path(), &["lint", "--format", "json", "-v"]);
    assert!(
        stderr(&second).contains("2 of 2 files from the cache"),
        "{}",
        stderr(&second)
    );
    assert_eq!(
        first.stdout, second.stdout,
        "cached results are the same results"
    );

    // An edited file is re-linted; a changed configuration misses the cache.
    std::fs::write(p.path().join("src/lib.rs"), super::CLEAN).unwrap_or_else(|e| panic!("{e}"));
    let third = govkit(p.path(), &["lint", "-v"]);
    assert_eq!(code(&third), 0);
    assert!(
        stderr(&third).contains("1 of 2 files from the cache"),
        "{}",
        stderr(&third)
    );
    std::fs::write(
        p.path().join("govkit.toml"),
        "[lint.rules]\nunwrap-used = \"warn\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let fourth = govkit(p.path(), &["lint", "-v"]);
    assert!(
        stderr(&fourth).contains("0 of 2 files from the cache"),
        "{}",
        stderr(&fourth)
    );
    let off = govkit(p.path(), &["lint", "-v", "--no-cache"]);
    assert!(
        !stderr(&off).contains("from the cache") || stderr(&off).contains("0 of 2"),
        "{}",
        stderr(&off)
    );
}

/// `program args` in `dir` with what the pre-commit framework needs:
/// its own store (`home`, fresh), the hook's build cache (shared by every
/// run of this test: the linter is built once per revision), and a git
/// identity for the commits it makes.
fn with_hook_env(
    program: &str,
    dir: &std::path::Path,
    home: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    let repo = env!("CARGO_MANIFEST_DIR");
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("PRE_COMMIT_HOME", home)
        .env(
            "GOVKIT_HOOK_CACHE",
            std::path::Path::new(repo).join("target/pre-commit-hook-cache"),
        )
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap_or_else(|e| panic!("{program} (pre-commit: pip install pre-commit): {e}"))
}

/// Runs the real pre-commit framework (from `PyPI`) in `dir`.
fn pre_commit(
    dir: &std::path::Path,
    home: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    with_hook_env("pre-commit", dir, home, args)
}

/// The repository's own hook definition under the real pre-commit
/// framework: at commit time it checks what is staged (an unstaged edit is
/// not committed, so not judged); in CI (`--all-files`) it checks the
/// committed code, where the old hook (`lint --staged`, no file names)
/// passed with nothing staged.
#[test]
fn pre_commit_hook_checks_what_pre_commit_hands_it() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let p = project(&[("src/lib.rs", super::DIRTY), ("src/clean.rs", super::CLEAN)]);
    git(p.path(), &["init", "-q"]);
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-qm", "a committed unwrap"]);

    let ci = pre_commit(
        p.path(),
        home.path(),
        &["try-repo", repo, "govkit-lint", "--all-files"],
    );
    assert_eq!(code(&ci), 1, "{}{}", stdout(&ci), stderr(&ci));
    assert!(
        stdout(&ci).contains("unwrap-used") && stdout(&ci).contains("src/lib.rs"),
        "{}",
        stdout(&ci)
    );

    // Commit time: only the staged file, as it is staged.
    std::fs::write(
        p.path().join("src/clean.rs"),
        format!("{}// edited\n", super::CLEAN),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    git(p.path(), &["add", "src/clean.rs"]);
    std::fs::write(p.path().join("src/clean.rs"), super::DIRTY).unwrap_or_else(|e| panic!("{e}"));
    let commit = pre_commit(p.path(), home.path(), &["try-repo", repo, "govkit-lint"]);
    assert_eq!(code(&commit), 0, "{}{}", stdout(&commit), stderr(&commit));
    assert_eq!(
        std::fs::read_to_string(p.path().join("src/clean.rs")).unwrap_or_default(),
        super::DIRTY,
        "the unstaged edit is put back"
    );

    git(p.path(), &["add", "src/clean.rs"]);
    let staged = pre_commit(p.path(), home.path(), &["try-repo", repo, "govkit-lint"]);
    assert_eq!(code(&staged), 1, "{}{}", stdout(&staged), stderr(&staged));
    assert!(
        stdout(&staged).contains("src/clean.rs") && !stdout(&staged).contains("src/lib.rs"),
        "{}",
        stdout(&staged)
    );

    // And through `git commit` itself, with the hook installed from this
    // repository's committed revision (what a user's config names).
    let rev = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    std::fs::write(
        p.path().join(".pre-commit-config.yaml"),
        format!("repos:\n  - repo: {repo}\n    rev: {rev}\n    hooks:\n      - id: govkit-lint\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&pre_commit(p.path(), home.path(), &["install"])), 0);
    let commit = |msg: &str| with_hook_env("git", p.path(), home.path(), &["commit", "-qm", msg]);
    let refused = commit("an unwrap");
    assert_ne!(
        code(&refused),
        0,
        "the staged unwrap blocks the commit: {}{}",
        stdout(&refused),
        stderr(&refused)
    );
    std::fs::write(p.path().join("src/clean.rs"), super::CLEAN).unwrap_or_else(|e| panic!("{e}"));
    git(
        p.path(),
        &["add", "src/clean.rs", ".pre-commit-config.yaml"],
    );
    let accepted = commit("clean again");
    assert_eq!(
        code(&accepted),
        0,
        "{}{}",
        stdout(&accepted),
        stderr(&accepted)
    );
}
