use super::{code, govkit, project, stderr};

#[test]
fn unknown_key_names_file_line_and_key() {
    let p = project(&[
        ("govkit.toml", "[lint]\ntest-code = \"skip\"\nunknwon = 1\n"),
        ("src/lib.rs", super::CLEAN),
    ]);
    let out = govkit(p.path(), &["check"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("govkit.toml:3:1"), "{err}");
    assert!(err.contains("unknown field `unknwon`"), "{err}");
    assert!(err.contains("3 | unknwon = 1"), "shows the line: {err}");
    assert!(out.stdout.is_empty(), "no partial output");
}

#[test]
fn wrong_type_names_file_and_line() {
    let p = project(&[("govkit.toml", "\n[lint]\ntest-code = 3\n")]);
    let out = govkit(p.path(), &["lint"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("govkit.toml:3:13"), "{err}");
    assert!(err.contains("invalid type"), "{err}");
}

#[test]
fn bad_values_point_at_the_value() {
    let cases = [
        (
            "[lint.rules]\nunwrap-usd = \"error\"\n",
            "govkit.toml:2:1",
            "did you mean `unwrap-used`",
        ),
        (
            "[lint.rules]\nunwrap-used = \"fatal\"\n",
            "govkit.toml:2:15",
            "invalid level `fatal`",
        ),
        (
            "[lint]\ntest-code = \"sometimes\"\n",
            "govkit.toml:2:13",
            "invalid test-code policy",
        ),
        (
            "[lint]\nexclude = [\"a/[b\"]\n",
            "govkit.toml:2:12",
            "invalid glob",
        ),
        ("[lint\n", "govkit.toml:1:", "invalid configuration"),
        (
            "[[lint.disallowed]]\npath = \"std::env::set_var\"\nreason = \"\"\n",
            "govkit.toml:3:10",
            "needs a reason",
        ),
        (
            "[[lint.disallowed]]\npath = \"std::env::\"\nreason = \"x\"\n",
            "govkit.toml:2:8",
            "is not a Rust path",
        ),
        (
            "[[lint.disallowed]]\npath = \"a::b\"\n",
            "govkit.toml:1:1",
            "missing field `reason`",
        ),
    ];
    for (text, at, what) in cases {
        let p = project(&[("govkit.toml", text)]);
        let out = govkit(p.path(), &["check"]);
        assert_eq!(code(&out), 2, "{text}");
        let err = stderr(&out);
        assert!(
            err.contains(at) && err.contains(what),
            "for {text:?} expected {at} and {what}, got:\n{err}"
        );
    }
}

#[test]
fn cargo_metadata_table_is_read_with_spans_in_cargo_toml() {
    let manifest = "[workspace]\nmembers = []\n\n[workspace.metadata.govkit.lint]\ntest-code = \"skip\"\nbogus = true\n";
    let p = project(&[("Cargo.toml", manifest)]);
    let out = govkit(p.path(), &["check"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("Cargo.toml:6:1") && err.contains("unknown field `bogus`"),
        "{err}"
    );

    let ok =
        "[workspace]\nmembers = []\n\n[workspace.metadata.govkit.lint]\ntest-code = \"skip\"\n";
    let p = project(&[("Cargo.toml", ok), ("src/lib.rs", super::CLEAN)]);
    let out = govkit(p.path(), &["check"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn config_is_found_from_a_subdirectory_and_both_places_is_ambiguous() {
    let p = project(&[("govkit.toml", "[lint]\n"), ("src/deep/x.rs", super::DIRTY)]);
    let out = govkit(&p.path().join("src/deep"), &["check"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));

    let both = project(&[
        ("govkit.toml", "[lint]\n"),
        ("Cargo.toml", "[workspace.metadata.govkit.lint]\n"),
    ]);
    let out = govkit(both.path(), &["check"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("keep one"), "{}", stderr(&out));
}

#[test]
fn missing_explicit_config_is_an_error_naming_it() {
    let p = project(&[]);
    let out = govkit(p.path(), &["--config", "nope.toml", "check"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("nope.toml") && stderr(&out).contains("cannot read"),
        "{}",
        stderr(&out)
    );
}

/// Exit 2 with a machine-readable `--format`: stdout is a document saying
/// the run stopped, naming the file and line, for every command that reads
/// input; stderr keeps the human message.
#[test]
fn every_command_writes_an_error_document_on_exit_2() {
    let p = project(&[("govkit.toml", "[lint]\ntest-code = 3\n")]);
    let cases: [&[&str]; 5] = [
        &["check"],
        &["lint"],
        &["vendor", "verify"],
        &["bench"],
        &["numa", "inspect", "4194304"],
    ];
    for args in cases {
        for format in ["json", "sarif", "junit", "github"] {
            let mut all = args.to_vec();
            all.extend(["--format", format]);
            let out = govkit(p.path(), &all);
            assert_eq!(code(&out), 2, "{all:?}: {}", stderr(&out));
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let (file, line): (&str, Option<u64>) = if args[0] == "numa" {
                ("/proc/4194304", None)
            } else {
                ("govkit.toml", Some(2))
            };
            match format {
                "json" => {
                    let doc: serde_json::Value = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("{all:?}: {e}\n{text}"));
                    assert_eq!(doc["exit_code"], 2, "{all:?}: {text}");
                    assert_eq!(doc["error"]["file"], file, "{all:?}: {text}");
                    assert_eq!(doc["error"]["line"].as_u64(), line, "{all:?}: {text}");
                }
                "sarif" => {
                    let doc: serde_json::Value = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("{all:?}: {e}\n{text}"));
                    assert_eq!(
                        doc["runs"][0]["invocations"][0]["executionSuccessful"], false,
                        "{all:?}: {text}"
                    );
                }
                "junit" => assert!(text.contains("errors=\"1\""), "{all:?}: {text}"),
                _ => assert!(text.starts_with("::error "), "{all:?}: {text}"),
            }
        }
    }
}
