//! Test code and build scripts recognised from the crate's module tree, on a
//! crate written to disk (the way `govkit lint` meets one).

use std::path::Path;

use lints::{FileKind, Linter, Settings};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
    }
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

const UNWRAP: &str = "pub fn f(x: Option<u8>) -> u8 { x.unwrap() }\n";

/// A crate whose test helpers live in files of their own, reached in every
/// way Rust allows, next to production files declared the same ways.
fn crate_with_test_modules(root: &Path) {
    write(
        root,
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        root,
        "src/lib.rs",
        "mod net;\n\
         #[cfg(test)]\nmod helpers;\n\
         #[cfg(any(test, feature = \"testing\"))]\npub mod shared;\n\
         #[cfg(all(test, unix))]\n#[path = \"support/unix.rs\"]\nmod support;\n\
         pub(crate) mod outer {\n    #[cfg(test)]\n    mod deep;\n    mod kept;\n}\n",
    );
    write(
        root,
        "src/net.rs",
        &format!("#[cfg(test)]\nmod tests;\n{UNWRAP}"),
    );
    write(root, "src/net/tests.rs", UNWRAP);
    write(root, "src/helpers.rs", &format!("mod more;\n{UNWRAP}"));
    write(root, "src/helpers/more.rs", UNWRAP);
    write(root, "src/shared.rs", UNWRAP);
    write(root, "src/support/unix.rs", UNWRAP);
    write(root, "src/outer/deep.rs", UNWRAP);
    write(root, "src/outer/kept.rs", UNWRAP);
    write(root, "src/orphan.rs", UNWRAP);
    write(
        root,
        "build.rs",
        "mod gen;\nfn main() { gen::emit(); println!(\"built\"); }\n",
    );
    write(
        root,
        "gen.rs",
        "pub fn emit() { println!(\"cargo::rustc-cfg=fast\"); eprintln!(\"note\"); }\n",
    );
}

#[test]
fn files_reached_only_through_test_declarations_are_test_code() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    crate_with_test_modules(dir.path());
    let files = lints::discover(&[dir.path().to_path_buf()], dir.path())
        .unwrap_or_else(|e| panic!("discover: {e}"));
    // On its own (as `classify` gives them), and below as `lint_files`
    // decides them from what it reads.
    let mut classified = files.clone();
    lints::classify(&mut classified);
    let kind = |name: &str| {
        classified
            .iter()
            .find(|f| f.display == name)
            .map_or_else(|| panic!("{name} not discovered"), |f| f.kind)
    };
    for test in [
        "src/helpers.rs",
        "src/helpers/more.rs",
        "src/net/tests.rs",
        "src/support/unix.rs",
        "src/outer/deep.rs",
    ] {
        assert_eq!(kind(test), FileKind::Test, "{test}");
    }
    // `any(test, feature)` builds without tests too; files outside the tree
    // keep their path's kind.
    for lib in [
        "src/lib.rs",
        "src/net.rs",
        "src/shared.rs",
        "src/outer/kept.rs",
        "src/orphan.rs",
    ] {
        assert_eq!(kind(lib), FileKind::Library, "{lib}");
    }
    assert_eq!(kind("build.rs"), FileKind::BuildScript);
    assert_eq!(kind("gen.rs"), FileKind::BuildScript);

    let settings = Settings {
        only: vec![
            "unwrap-used".into(),
            "print-stdout".into(),
            "print-stderr".into(),
        ],
        ..Settings::default()
    };
    let linter = Linter::new(&settings).unwrap_or_else(|e| panic!("settings: {e}"));
    let flagged = |run: &lints::LintRun| -> Vec<String> {
        let mut paths: Vec<String> = run
            .diagnostics
            .iter()
            .filter_map(|d| d.location.as_ref().map(|l| l.path.clone()))
            .collect();
        paths.dedup();
        paths
    };
    let want = [
        "src/net.rs",
        "src/orphan.rs",
        "src/outer/kept.rs",
        "src/shared.rs",
    ];
    let run = lints::lint_files(&linter, &files, None, |f| std::fs::read(&f.path));
    assert_eq!(flagged(&run), want, "{:#?}", run.diagnostics);
    // The same from the cache: the declarations are stored with the
    // findings, so a run of cache hits decides the tree alike.
    let cache = lints::Cache::new(dir.path().join("cache"), "test", &settings);
    for pass in 0..2 {
        let run = lints::lint_files(&linter, &files, Some(&cache), |f| std::fs::read(&f.path));
        assert_eq!(flagged(&run), want, "pass {pass}: {:#?}", run.diagnostics);
        assert_eq!(run.cache_hits, if pass == 0 { 0 } else { files.len() });
    }
}

/// `let _ = f()` in one file is a discarded `Result` because of `f`'s
/// signature in another; changing that signature changes the finding even
/// when the caller's findings are cached.
#[test]
fn what_a_function_returns_comes_from_the_whole_workspace() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    write(
        dir.path(),
        "src/caller.rs",
        "fn run() {\n    let _ = persist();\n    let _ = peek();\n}\n",
    );
    write(
        dir.path(),
        "src/store.rs",
        "pub fn persist() -> std::io::Result<()> { Ok(()) }\npub fn peek() -> Option<u8> { None }\n",
    );
    let settings = Settings {
        only: vec!["let-underscore-result".into()],
        ..Settings::default()
    };
    let linter = Linter::new(&settings).unwrap_or_else(|e| panic!("settings: {e}"));
    let cache = lints::Cache::new(dir.path().join("cache"), "test", &settings);
    // A commit-time run lints store.rs alone, with the workspace's
    // signatures read beside it, and caches it without signatures of its
    // own: a later run that hits that entry reads them from the text.
    let all = lints::discover(&[dir.path().join("src")], dir.path())
        .unwrap_or_else(|e| panic!("discover: {e}"));
    let texts: Vec<String> = all
        .iter()
        .map(|f| std::fs::read_to_string(&f.path).unwrap_or_else(|e| panic!("read: {e}")))
        .collect();
    let workspace = lints::Signatures::scan(texts.iter().map(String::as_str));
    let store: Vec<lints::SourceFile> = all
        .into_iter()
        .filter(|f| f.display == "src/store.rs")
        .collect();
    let staged = lints::lint_files_in(
        &linter,
        &store,
        Some(&cache),
        |f| std::fs::read(&f.path),
        Some(&workspace),
    );
    assert_eq!((staged.files, staged.cache_hits), (1, 0));
    let lines = |dir: &Path| -> Vec<(String, usize)> {
        let files =
            lints::discover(&[dir.join("src")], dir).unwrap_or_else(|e| panic!("discover: {e}"));
        let run = lints::lint_files(&linter, &files, Some(&cache), |f| std::fs::read(&f.path));
        run.diagnostics
            .iter()
            .filter_map(|d| d.location.as_ref().map(|l| (l.path.clone(), l.line)))
            .collect()
    };
    assert_eq!(lines(dir.path()), [("src/caller.rs".to_owned(), 2)]);
    write(
        dir.path(),
        "src/store.rs",
        "pub fn persist() -> bool { true }\npub fn peek() -> Result<u8, E> { Ok(1) }\n",
    );
    assert_eq!(lines(dir.path()), [("src/caller.rs".to_owned(), 3)]);
}
