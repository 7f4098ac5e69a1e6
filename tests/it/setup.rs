use std::process::Command;

use super::{code, govkit, project, stderr, stdout};

#[test]
fn init_writes_a_working_config_once() {
    let p = project(&[("src/lib.rs", super::CLEAN)]);
    assert_eq!(code(&govkit(p.path(), &["init"])), 0);
    let text = std::fs::read_to_string(p.path().join("govkit.toml")).unwrap_or_default();
    assert!(text.contains("[lint]") && text.contains('#'), "{text}");
    assert_eq!(
        code(&govkit(p.path(), &["check"])),
        0,
        "the starter config runs"
    );
    let again = govkit(p.path(), &["init"]);
    assert_eq!(code(&again), 2);
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read_to_string(p.path().join("govkit.toml")).unwrap_or_default(),
        text
    );
}

/// The first thing a team sees: `cargo new`, `govkit init`, `govkit check`
/// passes; the same project with an unwrap in it fails.
#[test]
fn a_new_cargo_project_passes_the_starter_config() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let made = Command::new("cargo")
        .args(["new", "--quiet", "--vcs", "none", "app"])
        .current_dir(dir.path())
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "cargo new failed");
    let app = dir.path().join("app");
    assert_eq!(code(&govkit(&app, &["init"])), 0);
    let check = govkit(&app, &["check"]);
    assert_eq!(code(&check), 0, "{}", stderr(&check));
    assert!(
        stdout(&check).contains("print-stdout"),
        "the println! is still reported: {}",
        stdout(&check)
    );
    std::fs::write(
        app.join("src/main.rs"),
        "fn main() {\n    let port: u16 = std::env::var(\"PORT\").unwrap().parse().unwrap();\n    println!(\"{port}\");\n}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&govkit(&app, &["check"])), 1);
}

#[test]
fn hook_install_writes_an_executable_hook_and_respects_foreign_ones() {
    use std::os::unix::fs::PermissionsExt;
    let p = project(&[]);
    let ok = Command::new("git")
        .args(["init", "-q"])
        .current_dir(p.path())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok);
    assert_eq!(code(&govkit(p.path(), &["hook", "install"])), 0);
    let hook = p.path().join(".git/hooks/pre-commit");
    let text = std::fs::read_to_string(&hook).unwrap_or_default();
    assert!(text.contains("lint --staged"), "{text}");
    let mode = std::fs::metadata(&hook).map_or(0, |m| m.permissions().mode());
    assert_eq!(mode & 0o111, 0o111);
    assert_eq!(
        code(&govkit(p.path(), &["hook", "install"])),
        0,
        "reinstall over our own hook"
    );
    assert_eq!(code(&govkit(p.path(), &["hook", "uninstall"])), 0);
    assert!(!hook.exists());

    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&govkit(p.path(), &["hook", "install"])), 2);
    assert_eq!(code(&govkit(p.path(), &["hook", "uninstall"])), 2);
    assert_eq!(code(&govkit(p.path(), &["hook", "install", "--force"])), 0);
}

#[test]
fn help_lists_commands_and_every_command_has_help() {
    let p = project(&[]);
    let help = stdout(&govkit(p.path(), &["--help"]));
    for cmd in ["check", "init", "lint", "hook", "completions"] {
        assert!(help.contains(cmd), "--help lacks {cmd}");
    }
    for cmd in [
        &["check"][..],
        &["init"],
        &["lint"],
        &["hook"],
        &["hook", "install"],
        &["completions"],
        &["man"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let out = govkit(p.path(), &args);
        assert_eq!(code(&out), 0, "{args:?}");
        assert!(stdout(&out).contains("Usage:"), "{args:?}");
    }
    let bad = govkit(p.path(), &["lint", "--no-such-flag"]);
    assert_eq!(code(&bad), 2, "usage errors exit 2");
}

#[test]
fn completions_and_man_page_generate() {
    let p = project(&[]);
    let bash = govkit(p.path(), &["completions", "bash"]);
    assert_eq!(code(&bash), 0);
    assert!(stdout(&bash).contains("govkit"));
    let man = govkit(p.path(), &["man"]);
    assert!(
        stdout(&man).starts_with(".ie") || stdout(&man).contains(".TH"),
        "{}",
        stdout(&man)
    );
}
