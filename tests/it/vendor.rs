//! `govkit vendor` on real `cargo vendor` trees.
//!
//! Each test vendors a scratch project with `cargo vendor`: two registry
//! crates that govkit itself depends on (so they are in the local cargo
//! cache and no network is needed) and one git dependency from a local
//! repository. Then it tampers with the tree the way an attacker or a
//! careless edit would.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::{code, govkit, stderr, stdout};

/// A vendored scratch project: `dir/Cargo.lock`, `dir/vendor/{gitdep,hex,itoa}`.
struct Vendored {
    dir: tempfile::TempDir,
}

impl Vendored {
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn vendor(&self, rel: &str) -> PathBuf {
        self.path().join("vendor").join(rel)
    }
}

/// The version govkit's own Cargo.lock has for `name` (so it is cached).
fn locked_version(name: &str) -> String {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"))
        .unwrap_or_else(|e| panic!("{e}"));
    let needle = format!("name = \"{name}\"\nversion = \"");
    let at = lock
        .find(&needle)
        .unwrap_or_else(|| panic!("{name} not in Cargo.lock"))
        + needle.len();
    lock[at..].split('"').next().unwrap_or_default().to_owned()
}

fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn vendored() -> Vendored {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    // A git dependency in a local repository.
    let git = root.join("gitdep");
    write(
        &git.join("Cargo.toml"),
        "[package]\nname = \"gitdep\"\nversion = \"0.2.0\"\nedition = \"2021\"\n",
    );
    write(&git.join("src/lib.rs"), "pub fn f() {}\n");
    run(&git, "git", &["init", "-q"]);
    run(&git, "git", &["add", "."]);
    run(&git, "git", &["commit", "-qm", "init"]);
    let rev = run(&git, "git", &["rev-parse", "HEAD"]);

    let app = root.join("app");
    let (itoa, hex) = (locked_version("itoa"), locked_version("hex"));
    write(
        &app.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"={itoa}\"\nhex = \"={hex}\"\n"
        ),
    );
    write(&app.join("src/lib.rs"), "");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // Registry crates resolve from the local cache; the git package is
    // added to the lock by hand (cargo --offline refuses to fetch even a
    // local git repository) and `cargo vendor --locked` checks it.
    run(&app, &cargo, &["generate-lockfile", "--offline"]);
    let mut lock = std::fs::read_to_string(app.join("Cargo.lock")).unwrap_or_default();
    lock = lock.replace(
        "name = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n",
        "name = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"gitdep\",\n",
    );
    let url = format!("file://{}", git.display());
    lock = format!(
        "{lock}\n[[package]]\nname = \"gitdep\"\nversion = \"0.2.0\"\nsource = \"git+{url}#{}\"\n",
        rev.trim()
    );
    write(&app.join("Cargo.lock"), &lock);
    let mut manifest = std::fs::read_to_string(app.join("Cargo.toml")).unwrap_or_default();
    manifest = format!("{manifest}gitdep = {{ git = \"{url}\" }}\n");
    write(&app.join("Cargo.toml"), &manifest);
    run(&app, &cargo, &["vendor", "--locked", "--quiet"]);

    // Move the app to the tempdir root so paths are short.
    for entry in ["Cargo.toml", "Cargo.lock", "src", "vendor"] {
        std::fs::rename(app.join(entry), root.join(entry)).unwrap_or_else(|e| panic!("{e}"));
    }
    Vendored { dir }
}

/// The git dependency's source in `dir/Cargo.lock`: (URL, commit).
fn git_source(dir: &Path) -> (String, String) {
    let lock = std::fs::read_to_string(dir.join("Cargo.lock")).unwrap_or_default();
    let (url, rev) = lock
        .lines()
        .find_map(|l| l.strip_prefix("source = \"git+"))
        .and_then(|s| s.trim_end_matches('"').split_once('#'))
        .unwrap_or_else(|| panic!("no git source in Cargo.lock:\n{lock}"));
    (url.to_owned(), rev.to_owned())
}

/// `vendor verify` with the keyed signature `tree.sig` and `pub.pem`, JSON.
const SIGNED_VERIFY: [&str; 8] = [
    "vendor",
    "verify",
    "--key",
    "pub.pem",
    "--signature",
    "tree.sig",
    "--format",
    "json",
];

fn json(out: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", stdout(out), stderr(out)))
}

/// `(kind, path)` of every problem.
fn problems(v: &Value) -> BTreeSet<(String, String)> {
    v["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems array: {v}"))
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap_or_default().to_owned(),
                p["path"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .map(|mut stdin| stdin.write_all(bytes))
                .transpose()?;
            child.wait_with_output()
        })
        .unwrap_or_else(|e| panic!("sha256sum: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn edit_checksums(v: &Vendored, krate: &str, f: impl FnOnce(&mut Value)) {
    let path = v.vendor(krate).join(".cargo-checksum.json");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    f(&mut doc);
    write(&path, &doc.to_string());
}

#[test]
fn a_clean_cargo_vendor_tree_passes() {
    let v = vendored();
    let out = govkit(v.path(), &["vendor", "verify", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["crates"], 3);
    assert!(doc["files"].as_u64().unwrap_or(0) > 10, "{doc}");
    // The git dependency passes, with the plain warning that nothing but
    // a signature can show which commit its files are.
    assert_eq!(
        problems(&doc),
        set(&[("git-commit-unverified", "vendor/gitdep")])
    );
    assert_eq!(doc["problems"][0]["severity"], "warning");

    let out = govkit(v.path(), &["vendor", "verify"]);
    assert_eq!(code(&out), 0);
    assert!(
        stdout(&out).contains("vendor: ok: 3 crates"),
        "{}",
        stdout(&out)
    );

    // Moved to another commit in Cargo.lock without re-vendoring: the
    // unsigned run can only warn; a signed manifest records the commit.
    keys(v.path());
    let out = govkit(
        v.path(),
        &["vendor", "sign", "--key", "key.pem", "-o", "tree.sig"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lock = std::fs::read_to_string(v.path().join("Cargo.lock")).unwrap_or_default();
    let (_, rev) = git_source(v.path());
    assert_eq!(rev.len(), 40, "{lock}");
    write(
        &v.path().join("Cargo.lock"),
        &lock.replace(&rev, &"f".repeat(40)),
    );
    let out = govkit(v.path(), &["vendor", "verify", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = govkit(v.path(), &SIGNED_VERIFY);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let detail = json(&out)["problems"][0]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        detail.contains(&format!("#{rev}")) && detail.contains(&format!("#{}", "f".repeat(40))),
        "{detail}"
    );
}

#[test]
fn every_tampering_is_reported_in_one_run() {
    let v = vendored();
    let itoa = format!("itoa@{}", locked_version("itoa"));
    // Edited file, added file, deleted file.
    let lib = v.vendor("itoa/src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap_or_default();
    write(&lib, &format!("{text}\n// injected\n"));
    write(&v.vendor("itoa/src/extra.rs"), "pub fn x() {}\n");
    std::fs::remove_file(v.vendor("hex/README.md")).unwrap_or_else(|e| panic!("{e}"));
    // A symlink pointing outside the tree, and a FIFO (never opened: a read
    // would block forever).
    std::os::unix::fs::symlink("/etc/passwd", v.vendor("hex/src/passwd"))
        .unwrap_or_else(|e| panic!("{e}"));
    let fifo = v.vendor("hex/fifo");
    run(v.path(), "mkfifo", &[&fifo.to_string_lossy()]);
    // A listed path escaping the crate, and a changed package checksum.
    edit_checksums(&v, "gitdep", |d| {
        d["files"]["../../../etc/passwd"] = Value::String("0".repeat(64));
    });
    edit_checksums(&v, "hex", |d| d["package"] = Value::String("1".repeat(64)));
    // A crate that is not in the lock, and a directory cargo ignores.
    add_unlisted_crate(&v, "gitdep-copy", "intruder");
    edit_checksums(&v, "gitdep-copy", |d| {
        d["files"]
            .as_object_mut()
            .map(|m| m.remove("../../../etc/passwd"));
    });
    std::fs::create_dir(v.vendor("leftover")).unwrap_or_else(|e| panic!("{e}"));

    let out = govkit(v.path(), &["vendor", "verify", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["ok"], false);
    assert_eq!(
        problems(&doc),
        set(&[
            ("git-commit-unverified", "vendor/gitdep"),
            ("file-checksum-mismatch", "vendor/itoa/src/lib.rs"),
            ("unlisted-file", "vendor/itoa/src/extra.rs"),
            ("missing-file", "vendor/hex/README.md"),
            ("symlink", "vendor/hex/src/passwd"),
            ("special-file", "vendor/hex/fifo"),
            ("unsafe-path", "vendor/gitdep/../../../etc/passwd"),
            (
                "package-checksum-mismatch",
                "vendor/hex/.cargo-checksum.json"
            ),
            ("unlisted-crate", "vendor/gitdep-copy"),
            ("stray-directory", "vendor/leftover"),
        ])
    );
    let mismatch = doc["problems"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["kind"] == "file-checksum-mismatch"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(mismatch["crate"], itoa.as_str());
    assert!(
        mismatch["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("sha256 is "),
        "{mismatch}"
    );
    // The stray directory and the git dependency's commit are warnings.
    let warnings = doc["summary"]["warnings"].as_u64();
    assert_eq!(warnings, Some(2));
}

/// A crate the lock file does not list, vendored beside the others in
/// `dir` as package `name` (a copy of gitdep, its checksums consistent).
fn add_unlisted_crate(v: &Vendored, dir: &str, name: &str) {
    run(
        v.path(),
        "cp",
        &["-r", "vendor/gitdep", &format!("vendor/{dir}")],
    );
    let copy = v.vendor(&format!("{dir}/Cargo.toml"));
    let text = std::fs::read_to_string(&copy).unwrap_or_default();
    write(
        &copy,
        &text.replace("name = \"gitdep\"", &format!("name = \"{name}\"")),
    );
    let sum = sha256_hex(&std::fs::read(&copy).unwrap_or_default());
    edit_checksums(v, dir, |d| d["files"]["Cargo.toml"] = Value::String(sum));
}

#[test]
fn a_shared_mirror_directory_is_usable_with_allow_unlisted() {
    let v = vendored();
    add_unlisted_crate(&v, "other-service-dep", "other");
    let out = govkit(v.path(), &["vendor", "verify", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(problems(&json(&out)).contains(&(
        "unlisted-crate".to_owned(),
        "vendor/other-service-dep".to_owned()
    )));
    let out = govkit(
        v.path(),
        &["vendor", "verify", "--allow-unlisted", "--format", "json"],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let doc = json(&out);
    assert_eq!(doc["unlisted_crates_allowed"], 1);
    // The same from govkit.toml, for `govkit check`; the manifest holds
    // only this lock file's crates.
    write(
        &v.path().join("govkit.toml"),
        "[vendor]\nallow-unlisted = true\n",
    );
    let out = govkit(v.path(), &["vendor", "verify"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("1 crates not in the lock file allowed"),
        "{}",
        stdout(&out)
    );
    let out = govkit(v.path(), &["vendor", "manifest"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stdout(&out).contains("crate other "), "{}", stdout(&out));
    // Under 1 MB, the size is not "(0 MB)"; the file count includes
    // files that no checksum file lists.
    write(&v.vendor("itoa/NOTES"), "unlisted\n");
    let out = govkit(v.path(), &["vendor", "verify", "--format", "json"]);
    let files = json(&out)["files"].as_u64().unwrap_or(0);
    let out = govkit(v.path(), &["vendor", "verify"]);
    assert!(
        stdout(&out).contains(&format!("crates, {files} files (")) && stdout(&out).contains(" kB)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn file_names_with_control_characters_round_trip_through_manifest_and_signature() {
    let v = vendored();
    keys(v.path());
    // Cargo packages such a name; `cargo vendor` lists it in the checksum
    // file like any other.
    let odd = v.vendor("hex/src/tab\there\nnewline.rs");
    write(&odd, "// odd\n");
    let sum = sha256_hex(b"// odd\n");
    edit_checksums(&v, "hex", |d| {
        d["files"]["src/tab\there\nnewline.rs"] = Value::String(sum);
    });
    let out = govkit(v.path(), &["vendor", "verify"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = govkit(
        v.path(),
        &["vendor", "sign", "--key", "key.pem", "-o", "tree.sig"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let manifest = std::fs::read_to_string(v.path().join("tree.manifest")).unwrap_or_default();
    assert!(
        manifest.contains(" src/tab\\u{9}here\\u{a}newline.rs\n"),
        "{manifest}"
    );
    let out = govkit(v.path(), &SIGNED_VERIFY);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    // Changed, with its checksum: named, escaped.
    write(&odd, "// changed\n");
    let sum = sha256_hex(b"// changed\n");
    edit_checksums(&v, "hex", |d| {
        d["files"]["src/tab\there\nnewline.rs"] = Value::String(sum);
    });
    let out = govkit(v.path(), &SIGNED_VERIFY);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert_eq!(
        problems(&json(&out)),
        set(&[(
            "changed-since-signing",
            "vendor/hex/src/tab\\u{9}here\\u{a}newline.rs"
        )])
    );
}

#[test]
fn files_another_user_cannot_read_are_all_named_with_their_mode() {
    let v = vendored();
    // The tree as another user sees it: directories open, two files not.
    std::fs::set_permissions(v.path(), std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{e}"));
    for (file, mode) in [("itoa/src/lib.rs", 0o640), ("hex/src/lib.rs", 0o600)] {
        std::fs::set_permissions(v.vendor(file), std::fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_govkit"))
        .args(["vendor", "verify"])
        .current_dir(v.path())
        .output()
        .unwrap_or_else(|e| panic!("setpriv: {e}"));
    assert_eq!(code(&out), 2, "{}{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    for part in [
        "2 file(s) cannot be read by this user because of their file mode",
        "hex/src/lib.rs (mode 0600, owner uid 0)",
        "itoa/src/lib.rs (mode 0640, owner uid 0)",
        "hint: this user may not read it: check the file mode and owner",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    assert!(!err.contains("corrupt"), "{err}");
}

#[test]
fn crates_are_matched_by_manifest_not_directory_name() {
    let v = vendored();
    // cargo names a second version `name-version`; a rename changes nothing.
    std::fs::rename(v.vendor("hex"), v.vendor("hex-renamed")).unwrap_or_else(|e| panic!("{e}"));
    let out = govkit(v.path(), &["vendor", "verify", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));

    // A missing crate, and a version that differs from the lock's.
    std::fs::remove_dir_all(v.vendor("gitdep")).unwrap_or_else(|e| panic!("{e}"));
    let manifest = v.vendor("itoa/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap_or_default();
    let version = locked_version("itoa");
    write(
        &manifest,
        &text.replace(&format!("version = \"{version}\""), "version = \"99.0.0\""),
    );
    let sum = sha256_hex(&std::fs::read(&manifest).unwrap_or_default());
    edit_checksums(&v, "itoa", |d| {
        d["files"]["Cargo.toml"] = Value::String(sum);
    });
    let out = govkit(v.path(), &["vendor", "verify", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let doc = json(&out);
    assert_eq!(
        problems(&doc),
        set(&[
            ("missing-crate", "Cargo.lock"),
            ("version-mismatch", "vendor/itoa"),
        ])
    );
}

#[test]
fn unreadable_inputs_are_exit_2_naming_the_file() {
    let v = vendored();
    write(&v.vendor("itoa/.cargo-checksum.json"), "{\"files\": {");
    let out = govkit(v.path(), &["vendor", "verify", "--format", "json"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("vendor/itoa/.cargo-checksum.json"),
        "{}",
        stderr(&out)
    );
    // No partial report: the document on stdout says the run stopped, and
    // where.
    let doc = json(&out);
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["exit_code"], 2);
    assert_eq!(doc["error"]["file"], "vendor/itoa/.cargo-checksum.json");
    assert!(doc.get("problems").is_none(), "{doc}");
    // Every unusable input in one run: a second corrupt checksum file and
    // a lock file with an unresolved merge.
    write(&v.vendor("hex/.cargo-checksum.json"), "not json");
    let lock = std::fs::read_to_string(v.path().join("Cargo.lock")).unwrap_or_default();
    write(
        &v.path().join("Cargo.lock"),
        &format!("<<<<<<< HEAD\n{lock}=======\n{lock}>>>>>>> branch\n"),
    );
    let out = govkit(v.path(), &["vendor", "verify"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    for part in [
        "error: 3 inputs cannot be used",
        "Cargo.lock: line 1: merge-conflict markers (an unresolved merge)",
        "vendor/hex/.cargo-checksum.json: ",
        "vendor/itoa/.cargo-checksum.json: ",
        "hint: resolve the merge in Cargo.lock",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    assert!(!err.contains("generate-lockfile"), "{err}");
    write(&v.path().join("Cargo.lock"), &lock);

    let v = vendored();
    edit_checksums(&v, "itoa", |d| {
        d["files"]["src/lib.rs"] = Value::String("not-a-digest".into());
    });
    let out = govkit(v.path(), &["vendor", "verify"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("files.\"src/lib.rs\": `not-a-digest` is not a sha256 hex digest"),
        "{}",
        stderr(&out)
    );

    let out = govkit(v.path(), &["vendor", "verify", "--vendor-dir", "nope"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("error: no vendor directory at nope (from --vendor-dir)"),
        "{}",
        stderr(&out)
    );

    write(
        &v.path().join("Cargo.lock"),
        "[[package]]\nname = \"a\"\nversion = 3\n",
    );
    let out = govkit(v.path(), &["vendor", "verify"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("\n  Cargo.lock: line 3, column 11"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_vendor_dir_comes_from_cargo_source_replacement() {
    let v = vendored();
    std::fs::create_dir(v.path().join("third_party")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::rename(v.vendor(""), v.path().join("third_party/crates"))
        .unwrap_or_else(|e| panic!("{e}"));
    write(
        &v.path().join(".cargo/config.toml"),
        "[source.crates-io]\nreplace-with = \"vendored-sources\"\n\n[source.vendored-sources]\ndirectory = \"third_party/crates\"\n",
    );
    // From a subdirectory, as a developer would run it.
    let out = govkit(
        &v.path().join("src"),
        &["vendor", "verify", "--format", "json"],
    );
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        json(&out)["vendor_dir"]
            .as_str()
            .unwrap_or_default()
            .ends_with("third_party/crates"),
        "{}",
        stdout(&out)
    );
}

/// An alternate registry made from `.crate` files in the local cargo cache
/// (crates govkit itself depends on, so they are there without network):
/// `root/dl/NAME/VERSION/download` and an index in `root/index` whose
/// `config.json` downloads from `dl_base`.
fn alternate_registry(root: &Path, dl_base: &str, crates: &[(&str, &str)]) -> PathBuf {
    let home = vendor_verify::locate::cargo_home().unwrap_or_default();
    let caches: Vec<PathBuf> = std::fs::read_dir(home.join("registry/cache"))
        .unwrap_or_else(|e| panic!("the cargo cache: {e}"))
        .flatten()
        .map(|e| e.path())
        .collect();
    let index = root.join("index");
    for (name, version) in crates {
        let file = format!("{name}-{version}.crate");
        let in_cache = caches
            .iter()
            .map(|c| c.join(&file))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{file} is not in the cargo cache"));
        let bytes = std::fs::read(&in_cache).unwrap_or_else(|e| panic!("{e}"));
        let dl = root.join("dl").join(name).join(version).join("download");
        std::fs::create_dir_all(dl.parent().unwrap_or(root)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&dl, &bytes).unwrap_or_else(|e| panic!("{e}"));
        // The index file's place: 1, 2, 3/a, or ab/cd by name length.
        let prefix = match name.len() {
            1 => "1".to_owned(),
            2 => "2".to_owned(),
            3 => format!("3/{}", &name[..1]),
            _ => format!("{}/{}", &name[..2], &name[2..4]),
        };
        write(
            &index.join(prefix).join(name),
            &format!(
                "{{\"name\":\"{name}\",\"vers\":\"{version}\",\"deps\":[],\"cksum\":\"{}\",\"features\":{{}},\"yanked\":false}}\n",
                sha256_hex(&bytes)
            ),
        );
    }
    write(
        &index.join("config.json"),
        &format!("{{\"dl\":\"{dl_base}/{{crate}}/{{version}}/download\"}}\n"),
    );
    index
}

/// Serves `root` over HTTP on loopback for a sparse index (GET only,
/// `Connection: close`); stops by itself after 200 requests or 120 s.
fn serve(root: PathBuf) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    listener
        .set_nonblocking(true)
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_mins(2);
        let mut served = 0;
        while served < 200 && std::time::Instant::now() < deadline {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            };
            served += 1;
            if stream.set_nonblocking(false).is_err() {
                continue;
            }
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = request
                .split(' ')
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/');
            let file = root.join(path);
            let mut out = &stream;
            let _ = match std::fs::read(&file) {
                Ok(body) if !path.contains("..") => out
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|()| out.write_all(&body)),
                _ => out.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    port
}

/// A project depending on `itoa` and `hex` from the registry `mirror` at
/// `index_url`, vendored with `cargo vendor ARGS` (its own `CARGO_HOME`);
/// returns what `cargo vendor` printed to add to the configuration.
fn vendor_from_registry(app: &Path, home: &Path, index_url: &str, vendor_args: &[&str]) -> String {
    let (itoa, hex) = (locked_version("itoa"), locked_version("hex"));
    write(
        &app.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = {{ version = \"={itoa}\", registry = \"mirror\" }}\nhex = {{ version = \"={hex}\", registry = \"mirror\" }}\n"
        ),
    );
    write(&app.join("src/lib.rs"), "");
    write(
        &app.join(".cargo/config.toml"),
        &format!("[registries.mirror]\nindex = \"{index_url}\"\n"),
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let cargo_in = |args: &[&str]| {
        let out = Command::new(&cargo)
            .args(args)
            .current_dir(app)
            .env("CARGO_HOME", home)
            .output()
            .unwrap_or_else(|e| panic!("cargo: {e}"));
        assert!(
            out.status.success(),
            "cargo {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    cargo_in(&["generate-lockfile"]);
    let mut args = vec!["vendor", "--locked"];
    args.extend(vendor_args);
    cargo_in(&args)
}

#[test]
fn trees_vendored_from_alternate_registries_verify_with_the_config_cargo_prints() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let crates = [
        ("itoa", locked_version("itoa")),
        ("hex", locked_version("hex")),
    ];
    let crates: Vec<(&str, &str)> = crates.iter().map(|(n, v)| (*n, v.as_str())).collect();

    // A git index on disk (`registry+file://`), downloads from disk.
    let git_root = dir.path().join("git-registry");
    let dl = format!("file://{}", git_root.join("dl").display());
    let index = alternate_registry(&git_root, &dl, &crates);
    run(&index, "git", &["init", "-q"]);
    run(&index, "git", &["add", "."]);
    run(&index, "git", &["commit", "-qm", "index"]);
    let app = dir.path().join("app-git");
    let home = dir.path().join("home-git");
    let printed = vendor_from_registry(&app, &home, &format!("file://{}", index.display()), &[]);
    assert!(printed.contains("[source.\"registry+file://"), "{printed}");
    assert!(!printed.contains("crates-io"), "{printed}");
    // The tree is found through what cargo printed, as cargo finds it.
    let config = app.join(".cargo/config.toml");
    let text = std::fs::read_to_string(&config).unwrap_or_default();
    write(&config, &format!("{text}\n{printed}"));
    let out = govkit_home(
        &app.join("src"),
        &home,
        &["vendor", "verify", "--format", "json"],
    );
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["crates"], 2);
    assert_eq!(doc["problems"], Value::Array(vec![]));
    let git_manifest = stdout(&govkit_home(&app, &home, &["vendor", "manifest"]));
    assert!(git_manifest.contains(" registry+file://"), "{git_manifest}");
    let lib = app.join("vendor/itoa/src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap_or_default();
    write(&lib, &format!("{text}// edited\n"));
    let out = govkit_home(&app, &home, &["vendor", "verify", "--format", "json"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        problems(&json(&out)),
        set(&[("file-checksum-mismatch", "vendor/itoa/src/lib.rs")])
    );

    // A sparse index served on loopback (`sparse+http://`), vendored into
    // another directory, with the replacement in $CARGO_HOME.
    let sparse_root = dir.path().join("sparse-registry");
    let port = serve(sparse_root.clone());
    let base = format!("http://127.0.0.1:{port}");
    alternate_registry(&sparse_root, &format!("{base}/dl"), &crates);
    let app = dir.path().join("app-sparse");
    let home = dir.path().join("home-sparse");
    let printed = vendor_from_registry(
        &app,
        &home,
        &format!("sparse+{base}/index/"),
        &["third_party/crates"],
    );
    assert!(
        printed.contains("[source.\"sparse+http://127.0.0.1:"),
        "{printed}"
    );
    write(
        &home.join("config.toml"),
        &printed.replace(
            "directory = \"third_party/crates\"",
            &format!(
                "directory = \"{}\"",
                app.join("third_party/crates").display()
            ),
        ),
    );
    let out = govkit_home(&app, &home, &["vendor", "verify", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["crates"], 2);
    assert!(
        doc["vendor_dir"]
            .as_str()
            .unwrap_or_default()
            .ends_with("third_party/crates"),
        "{doc}"
    );
    // The same crates through either mirror: the manifests differ only in
    // the source each crate line names.
    let sparse_manifest = stdout(&govkit_home(&app, &home, &["vendor", "manifest"]));
    let files = |m: &str| -> Vec<String> {
        m.lines()
            .filter(|l| l.starts_with("file "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(files(&sparse_manifest), files(&git_manifest));
    assert!(
        sparse_manifest.contains(" sparse+http://127.0.0.1:"),
        "{sparse_manifest}"
    );
}

/// govkit with `CARGO_HOME` set (cargo's configuration there counts).
fn govkit_home(dir: &Path, home: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_govkit"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_HOME", home)
        .output()
        .unwrap_or_else(|e| panic!("cannot run govkit: {e}"))
}

#[test]
fn the_vendor_dir_is_found_as_cargo_finds_it_or_the_message_says_where_it_looked() {
    let v = vendored();
    let home = v.path().join("cargo-home");
    std::fs::create_dir(&home).unwrap_or_else(|e| panic!("{e}"));
    std::fs::rename(v.vendor(""), v.path().join("mirror")).unwrap_or_else(|e| panic!("{e}"));
    let verify = |dir: &Path| govkit_home(dir, &home, &["vendor", "verify", "--format", "json"]);
    // Nothing configured, no vendor/: exit 2, saying what was read.
    let out = verify(v.path());
    assert_eq!(code(&out), 2, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("no vendor directory at vendor (from the default next to Cargo.lock; no cargo config file here or above, nor in $CARGO_HOME)"),
        "{}",
        stderr(&out)
    );
    // What `cargo vendor` prints for a git dependency replaces that git
    // source, not crates-io; here in $CARGO_HOME, with the directory
    // absolute.
    let (gitdep_source, _) = git_source(v.path());
    write(
        &home.join("config.toml"),
        &format!(
            "[source.\"git+{gitdep_source}\"]\ngit = \"{gitdep_source}\"\nreplace-with = \"vendored-sources\"\n\n[source.vendored-sources]\ndirectory = \"{}\"\n",
            v.path().join("mirror").display()
        ),
    );
    let out = verify(&v.path().join("src"));
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        json(&out)["vendor_dir"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/mirror"),
        "{}",
        stdout(&out)
    );
    // A workspace config names another directory for the same source: the
    // closer file wins, and a missing tree names the file it came from.
    write(
        &v.path().join(".cargo/config.toml"),
        "[source.vendored-sources]\ndirectory = \"third_party\"\n",
    );
    let out = verify(v.path());
    assert_eq!(code(&out), 2, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("no vendor directory at third_party (from the source replacement in .cargo/config.toml, "),
        "{}",
        stderr(&out)
    );
    // The vendor directory may be a symlink, as cargo allows.
    std::os::unix::fs::symlink(v.path().join("mirror"), v.path().join("third_party"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = verify(v.path());
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
}

fn openssl(dir: &Path, args: &[&str]) {
    run(dir, "openssl", args);
}

/// An ECDSA P-256 key pair made by openssl: `key.pem` (SEC1, mode 600),
/// `key8.pem` (PKCS#8, mode 600), `pub.pem`.
fn keys(dir: &Path) {
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "key.pem",
        ],
    );
    openssl(
        dir,
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-out", "key8.pem",
        ],
    );
    openssl(dir, &["ec", "-in", "key.pem", "-pubout", "-out", "pub.pem"]);
    for k in ["key.pem", "key8.pem"] {
        std::fs::set_permissions(dir.join(k), std::fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
#[expect(clippy::too_many_lines, reason = "one scenario, step by step")]
fn keyed_signatures_interoperate_with_openssl_both_ways() {
    let v = vendored();
    let dir = v.path();
    keys(dir);
    // govkit signs (PKCS#8 key), openssl verifies the manifest.
    let out = govkit(
        dir,
        &[
            "vendor", "sign", "--key", "key8.pem", "--output", "tree.sig",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = govkit(dir, &["vendor", "manifest", "--output", "manifest.txt"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let manifest = std::fs::read_to_string(dir.join("manifest.txt")).unwrap_or_default();
    assert!(manifest.starts_with("govkit-vendor-manifest 1\ncrate gitdep 0.2.0 git+file://"));
    run(dir, "sh", &["-c", "base64 -d tree.sig > tree.der"]);
    openssl(
        dir,
        &[
            "dgst",
            "-sha256",
            "-verify",
            "pub.pem",
            "-signature",
            "tree.der",
            "manifest.txt",
        ],
    );
    let out = govkit(dir, &SIGNED_VERIFY);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(json(&out)["signature"]["verified"], true);

    // openssl signs (SEC1 key, raw DER), govkit verifies tree and blob.
    openssl(
        dir,
        &[
            "dgst",
            "-sha256",
            "-sign",
            "key.pem",
            "-out",
            "openssl.der",
            "manifest.txt",
        ],
    );
    let out = govkit(
        dir,
        &[
            "vendor",
            "verify",
            "--key",
            "pub.pem",
            "--signature",
            "openssl.der",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = govkit(
        dir,
        &[
            "vendor",
            "verify-blob",
            "manifest.txt",
            "--key",
            "pub.pem",
            "--signature",
            "openssl.der",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));

    // The signing commands people type: `openssl base64` wraps at 64
    // columns, `base64` at 76; padding dropped; an empty file is an input
    // error, not a changed tree.
    openssl(
        dir,
        &["base64", "-in", "openssl.der", "-out", "wrapped64.sig"],
    );
    run(
        dir,
        "sh",
        &[
            "-c",
            "base64 -w 76 openssl.der > wrapped76.sig && base64 -w 0 openssl.der | tr -d = > unpadded.sig && : > empty.sig",
        ],
    );
    let wrapped = std::fs::read_to_string(dir.join("wrapped64.sig")).unwrap_or_default();
    assert!(wrapped.trim().lines().count() > 1, "{wrapped}");
    for sig in ["wrapped64.sig", "wrapped76.sig", "unpadded.sig"] {
        let out = govkit(
            dir,
            &["vendor", "verify", "--key", "pub.pem", "--signature", sig],
        );
        assert_eq!(code(&out), 0, "{sig}: {}{}", stdout(&out), stderr(&out));
    }
    let out = govkit(
        dir,
        &[
            "vendor",
            "verify",
            "--key",
            "pub.pem",
            "--signature",
            "empty.sig",
        ],
    );
    assert_eq!(code(&out), 2, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("empty.sig: the signature file is empty"),
        "{}",
        stderr(&out)
    );

    // Another key: fails.
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "other.pem",
        ],
    );
    openssl(
        dir,
        &["ec", "-in", "other.pem", "-pubout", "-out", "other.pub"],
    );
    let out = govkit(
        dir,
        &[
            "vendor",
            "verify",
            "--key",
            "other.pub",
            "--signature",
            "tree.sig",
        ],
    );
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("does not verify with key other.pub"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_file_rewritten_with_its_checksum_passes_unsigned_but_fails_signed() {
    let v = vendored();
    let dir = v.path();
    keys(dir);
    // `sign -o tree.sig` writes the signed manifest beside it, for the
    // mirror to publish with the signature.
    let out = govkit(
        dir,
        &["vendor", "sign", "--key", "key.pem", "-o", "tree.sig"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("signature in tree.sig, manifest in tree.manifest (publish both)"),
        "{}",
        stderr(&out)
    );
    let out = govkit(dir, &["vendor", "manifest"]);
    let signed = std::fs::read_to_string(dir.join("tree.manifest")).unwrap_or_default();
    assert_eq!(stdout(&out), signed);
    let out = govkit(dir, &SIGNED_VERIFY);
    assert_eq!(code(&out), 0, "{}", stdout(&out));

    let lib = v.vendor("hex/src/lib.rs");
    let original = std::fs::read_to_string(&lib).unwrap_or_default();
    let sums = std::fs::read_to_string(v.vendor("hex/.cargo-checksum.json")).unwrap_or_default();
    write(&lib, &format!("{original}\npub fn backdoor() {{}}\n"));
    let sum = sha256_hex(&std::fs::read(&lib).unwrap_or_default());
    edit_checksums(&v, "hex", |d| d["files"]["src/lib.rs"] = Value::String(sum));

    let out = govkit(dir, &["vendor", "verify"]);
    assert_eq!(code(&out), 0, "cargo's own checks pass: {}", stdout(&out));

    // The manifest beside the signature names the crate and file.
    let out = govkit(dir, &SIGNED_VERIFY);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let doc = json(&out);
    assert_eq!(
        problems(&doc),
        set(&[("changed-since-signing", "vendor/hex/src/lib.rs")])
    );
    assert!(
        doc["problems"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with("content changed since signing"),
        "{doc}"
    );
    // Without it, only that the content changed.
    std::fs::rename(dir.join("tree.manifest"), dir.join("kept.manifest"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = govkit(dir, &SIGNED_VERIFY);
    assert_eq!(code(&out), 1);
    let doc = json(&out);
    assert_eq!(problems(&doc), set(&[("signature", "vendor")]));
    assert_eq!(doc["signature"]["verified"], false);

    // The tree back as signed, the published manifest altered: that is
    // what is reported.
    write(&lib, &original);
    write(&v.vendor("hex/.cargo-checksum.json"), &sums);
    let mut lines: Vec<String> = signed.lines().map(str::to_owned).collect();
    if let Some(l) = lines.iter_mut().find(|l| l.starts_with("file ")) {
        *l = format!(
            "file {} {}",
            "0".repeat(64),
            l.splitn(3, ' ').nth(2).unwrap_or_default()
        );
    }
    write(&dir.join("tree.manifest"), &(lines.join("\n") + "\n"));
    let out = govkit(dir, &SIGNED_VERIFY);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let doc = json(&out);
    assert_eq!(problems(&doc), set(&[("signature", "tree.manifest")]));
    assert!(
        doc["problems"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with(
                "tree.manifest was altered after signing: the signature verifies over the tree"
            ),
        "{doc}"
    );
}

#[test]
fn private_keys_must_be_private_and_well_formed() {
    let v = vendored();
    let dir = v.path();
    keys(dir);
    std::fs::set_permissions(dir.join("key.pem"), std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = govkit(dir, &["vendor", "sign", "--key", "key.pem"]);
    assert_eq!(code(&out), 2);
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("mode 644"), "{}", stderr(&out));

    let out = govkit(dir, &["vendor", "sign", "--key", "pub.pem"]);
    assert_eq!(code(&out), 2);
    std::fs::set_permissions(dir.join("pub.pem"), std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = govkit(dir, &["vendor", "sign", "--key", "pub.pem"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("found `PUBLIC KEY`"),
        "{}",
        stderr(&out)
    );
    std::fs::set_permissions(dir.join("key.pem"), std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("{e}"));

    // A tree with problems is never signed.
    std::fs::remove_file(v.vendor("itoa/Cargo.toml.orig")).unwrap_or_else(|e| panic!("{e}"));
    let out = govkit(
        dir,
        &["vendor", "sign", "--key", "key.pem", "-o", "tree.sig"],
    );
    assert_eq!(code(&out), 1);
    assert!(!dir.join("tree.sig").exists());
    assert!(stderr(&out).contains("missing-file"), "{}", stderr(&out));
}

#[test]
fn check_runs_the_vendor_gate_from_config() {
    let v = vendored();
    let dir = v.path();
    keys(dir);
    let out = govkit(
        dir,
        &["vendor", "sign", "--key", "key.pem", "-o", "vendor.sig"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    write(
        &dir.join("govkit.toml"),
        "[vendor]\npublic-key = \"pub.pem\"\nsignature = \"vendor.sig\"\n",
    );
    let out = govkit(dir, &["check"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("vendor"), "{}", stdout(&out));

    write(&v.vendor("itoa/src/extra.rs"), "");
    let out = govkit(dir, &["check", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));

    write(
        &dir.join("govkit.toml"),
        "[vendor]\nsignature = \"vendor.sig\"\n",
    );
    let out = govkit(dir, &["check"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("govkit.toml:2:13: a `signature` needs the `public-key`"),
        "{}",
        stderr(&out)
    );
}

/// The sigstore-verify crate ships real bundles and trusted roots in
/// `test_data/`; find it through cargo metadata.
fn sigstore_test_data() -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cargo metadata: {e}"));
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let manifest = meta["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "sigstore-verify"))
        .and_then(|p| p["manifest_path"].as_str())
        .unwrap_or_else(|| panic!("sigstore-verify not in cargo metadata"));
    Path::new(manifest).with_file_name("test_data")
}

const BLOB_IDENTITY: &str = "w.vollprecht@gmail.com";
const BLOB_ISSUER: &str = "https://github.com/login/oauth";

fn verify_bundle(
    dir: &Path,
    artifact: &Path,
    bundle: &Path,
    id: &str,
    issuer: &str,
) -> (i32, String) {
    let artifact = artifact.to_string_lossy();
    let bundle = bundle.to_string_lossy();
    let out = govkit(
        dir,
        &[
            "vendor",
            "verify-blob",
            &artifact,
            "--bundle",
            &bundle,
            "--identity",
            id,
            "--issuer",
            issuer,
            "--format",
            "json",
        ],
    );
    let doc = json(&out);
    (
        code(&out),
        doc["signature"]["detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[test]
fn keyless_bundles_verify_offline_and_each_failure_says_why() {
    let data = sigstore_test_data();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let artifact = data.join("bundles/cosign-v3-blob.txt");
    let bundle = data.join("bundles/cosign-v3-blob.sigstore.json");

    let (c, detail) = verify_bundle(dir.path(), &artifact, &bundle, BLOB_IDENTITY, BLOB_ISSUER);
    assert_eq!(c, 0, "{detail}");
    assert!(
        detail.contains("signed by w.vollprecht@gmail.com"),
        "{detail}"
    );

    let (c, detail) = verify_bundle(
        dir.path(),
        &artifact,
        &bundle,
        "mallory@example.com",
        BLOB_ISSUER,
    );
    assert_eq!(c, 1);
    assert!(detail.contains("wrong identity"), "{detail}");

    let (c, detail) = verify_bundle(
        dir.path(),
        &artifact,
        &bundle,
        BLOB_IDENTITY,
        "https://accounts.google.com",
    );
    assert_eq!(c, 1);
    assert!(detail.contains("wrong issuer"), "{detail}");

    let tampered = dir.path().join("artifact.txt");
    let mut bytes = std::fs::read(&artifact).unwrap_or_default();
    bytes.push(b'!');
    std::fs::write(&tampered, bytes).unwrap_or_else(|e| panic!("{e}"));
    let (c, detail) = verify_bundle(dir.path(), &tampered, &bundle, BLOB_IDENTITY, BLOB_ISSUER);
    assert_eq!(c, 1);
    assert!(
        detail.contains("does not describe this content"),
        "{detail}"
    );

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let entry = "/verificationMaterial/tlogEntries/0";
    // Inclusion proof: replace the first sibling hash.
    let mut proof = doc.clone();
    let hashes = proof
        .pointer_mut(&format!("{entry}/inclusionProof/hashes/0"))
        .unwrap_or_else(|| panic!("bundle has no inclusion proof"));
    *hashes = Value::String("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into());
    // SET: flip the signed entry timestamp, and nothing else.
    let mut set = doc.clone();
    let promise = set
        .pointer_mut(&format!("{entry}/inclusionPromise/signedEntryTimestamp"))
        .unwrap_or_else(|| panic!("bundle has no SET"));
    let sig = promise.as_str().unwrap_or_default().to_owned();
    let flipped = if sig.starts_with('M') {
        sig.replacen('M', "N", 1)
    } else {
        format!("M{}", &sig[1..])
    };
    *promise = Value::String(flipped);
    for (name, tampered, expect) in [
        ("proof.json", proof, "invalid inclusion proof"),
        (
            "set.json",
            set,
            "invalid inclusion promise: SET verification failed",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, tampered.to_string()).unwrap_or_else(|e| panic!("{e}"));
        let (c, detail) = verify_bundle(dir.path(), &artifact, &path, BLOB_IDENTITY, BLOB_ISSUER);
        assert_eq!(c, 1, "{name}: {detail}");
        assert!(detail.contains(expect), "{name}: {detail}");
    }
}

#[test]
fn managed_key_bundles_verify_with_their_key() {
    let data = sigstore_test_data().join("managed-key");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run_with = |key: &Path| {
        govkit(
            dir.path(),
            &[
                "vendor",
                "verify-blob",
                &data.join("artifact.txt").to_string_lossy(),
                "--bundle",
                &data.join("bundle.sigstore.json").to_string_lossy(),
                "--key",
                &key.to_string_lossy(),
            ],
        )
    };
    let out = run_with(&data.join("key.pub"));
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));

    keys(dir.path());
    let out = run_with(&dir.path().join("pub.pem"));
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("signature invalid"),
        "{}",
        stdout(&out)
    );
}

/// What `govkit vendor` says when it cannot give a verdict, or gives one
/// a person must act on: each message, whole, as a snapshot.
#[test]
fn vendor_messages() {
    use std::fmt::Write as _;
    let v = vendored();
    let dir = v.path();
    keys(dir);
    let home = dir.join("empty-cargo-home");
    std::fs::create_dir(&home).unwrap_or_else(|e| panic!("{e}"));
    let (_, rev) = git_source(dir);
    let mut text = String::new();
    let mut say = |args: &[&str]| {
        let out = govkit_home(dir, &home, args);
        let said = format!("{}{}", stdout(&out), stderr(&out))
            .replace(&rev, "REV")
            .replace(&dir.display().to_string(), "TMP");
        writeln!(
            text,
            "$ govkit {}\nexit {}\n{}",
            args.join(" "),
            code(&out),
            said.trim_end()
        )
        .unwrap_or_else(|e| panic!("{e}"));
    };
    // A clean tree, unsigned: the git dependency's commit.
    say(&["vendor", "verify"]);
    // No tree where cargo's configuration would put it.
    std::fs::rename(v.vendor(""), dir.join("elsewhere")).unwrap_or_else(|e| panic!("{e}"));
    say(&["vendor", "verify"]);
    std::fs::rename(dir.join("elsewhere"), v.vendor("")).unwrap_or_else(|e| panic!("{e}"));
    // An empty signature file.
    write(&dir.join("empty.sig"), "");
    say(&[
        "vendor",
        "verify",
        "--key",
        "pub.pem",
        "--signature",
        "empty.sig",
    ]);
    // Signed, then the published manifest altered.
    say(&["vendor", "sign", "--key", "key.pem", "-o", "tree.sig"]);
    let manifest = std::fs::read_to_string(dir.join("tree.manifest")).unwrap_or_default();
    write(
        &dir.join("tree.manifest"),
        &manifest.replacen("crate hex", "crate hex-evil", 1),
    );
    say(&[
        "vendor",
        "verify",
        "--key",
        "pub.pem",
        "--signature",
        "tree.sig",
    ]);
    // Every unusable input at once.
    let lock = std::fs::read_to_string(dir.join("Cargo.lock")).unwrap_or_default();
    write(
        &dir.join("Cargo.lock"),
        &format!("<<<<<<< HEAD\n{lock}=======\n{lock}>>>>>>> theirs\n"),
    );
    write(&v.vendor("hex/.cargo-checksum.json"), "{\"files\": ");
    write(&v.vendor("itoa/.cargo-checksum.json"), "[]");
    say(&["vendor", "verify"]);
    insta::assert_snapshot!(text);
}
