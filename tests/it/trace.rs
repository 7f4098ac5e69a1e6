//! `govkit trace connections` against the running kernel: the real eBPF
//! programs are loaded (these tests need root, as CI has, and the programs
//! built by `cargo xtask build-ebpf`, which the README test command runs
//! first). The leaker is a release build (no frame pointers), so its stacks
//! can only be right if DWARF unwinding works.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use crate::{code, stderr, stdout};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the fixture programs (std only, seconds) and returns their dir.
fn fixture_bins() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--locked",
            "-q",
            "-p",
            "trace-fixture",
        ])
        .current_dir(repo())
        .status()
        .unwrap_or_else(|e| panic!("cargo: {e}"));
    assert!(status.success(), "building trace-fixture failed");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo().join("target"), PathBuf::from);
    target.join("release")
}

fn assert_programs_embedded() {
    assert!(
        tracebpf::programs_embedded(),
        "govkit was built without its eBPF programs: run `cargo xtask build-ebpf` before the tests"
    );
}

struct Leaker {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    pid: u32,
}

impl Leaker {
    fn start(bin: &Path, accepts: usize, connects: usize) -> Self {
        let mut child = Command::new(bin.join("leaker"))
            .args([accepts.to_string(), connects.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("leaker: {e}"));
        let stdin = child.stdin.take();
        let mut lines =
            BufReader::new(child.stdout.take().unwrap_or_else(|| panic!("stdout"))).lines();
        let ready = lines.next().and_then(Result::ok).unwrap_or_default();
        let pid = ready
            .strip_prefix("ready ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("leaker said {ready:?}"));
        Leaker {
            child,
            stdin,
            lines,
            pid,
        }
    }

    fn go(&mut self) {
        let stdin = self.stdin.as_mut().unwrap_or_else(|| panic!("stdin"));
        writeln!(stdin, "go").unwrap_or_else(|e| panic!("{e}"));
        let line = self.lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(line.starts_with("leaked"), "leaker said {line:?}");
    }
}

impl Drop for Leaker {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill(); // govkit: allow(let-underscore-result) -- best-effort cleanup
        let _ = self.child.wait(); // govkit: allow(let-underscore-result) -- best-effort cleanup
    }
}

/// (local, peer) of every CLOSE-WAIT socket `ss -tanp` shows for `pid`.
fn ss_close_wait(pid: u32) -> BTreeSet<(String, String)> {
    let out = Command::new("ss")
        .args(["-tanpH", "state", "close-wait"])
        .output()
        .unwrap_or_else(|e| panic!("ss: {e}"));
    let needle = format!("pid={pid},");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&needle))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // Recv-Q Send-Q Local Peer Process
            (f[2].to_owned(), f[3].to_owned())
        })
        .collect()
}

#[test]
fn connections_reports_leaks_with_their_stacks_and_matches_ss() {
    assert_programs_embedded();
    let bins = fixture_bins();
    let mut leaker = Leaker::start(&bins, 3, 2);
    let mut tracer = Command::new(env!("CARGO_BIN_EXE_govkit"))
        .args([
            "trace",
            "connections",
            "--format",
            "json",
            "--min-age",
            "1s",
            "--duration",
            "6s",
        ])
        .args(["--pid", &leaker.pid.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("govkit: {e}"));
    // Wait until the programs are attached.
    let mut err = BufReader::new(tracer.stderr.take().unwrap_or_else(|| panic!("stderr")));
    let mut first = String::new();
    err.read_line(&mut first).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        first.contains("tracing TCP connections"),
        "govkit said: {first}"
    );
    leaker.go();
    let out = tracer.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let json = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "leaks found means exit 1; stdout: {json}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(report["lost_events"], 0);
    let leaks = report["leaks"]
        .as_array()
        .unwrap_or_else(|| panic!("leaks: {report}"));
    let group = |opened_by: &str| {
        leaks
            .iter()
            .find(|l| l["opened_by"] == opened_by)
            .unwrap_or_else(|| panic!("no {opened_by} group in {report:#}"))
    };
    let frames = |l: &serde_json::Value| -> Vec<String> {
        l["stack"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let accepted = group("accept");
    assert_eq!(accepted["count"], 3);
    assert_eq!(accepted["pid"], leaker.pid);
    assert_eq!(accepted["comm"], "leaker");
    assert_eq!(accepted["state"], "CLOSE_WAIT");
    let stack = frames(accepted);
    assert!(
        stack.iter().any(|f| f.starts_with("leaker::leak_accepted")),
        "{stack:#?}"
    );
    assert!(
        stack.iter().any(|f| f.starts_with("leaker::main")),
        "{stack:#?}"
    );
    assert_eq!(accepted["stack_complete"], true, "{stack:#?}");
    let connected = group("connect");
    assert_eq!(connected["count"], 2);
    let stack = frames(connected);
    assert!(
        stack
            .iter()
            .any(|f| f.starts_with("leaker::leak_connected")),
        "{stack:#?}"
    );
    assert!(
        !stack.iter().any(|f| f.contains("leak_accepted")),
        "{stack:#?}"
    );
    let before = group("before-tracing");
    assert_eq!(before["count"], 1);
    // Every socket govkit reports is one ss shows in CLOSE-WAIT for the
    // leaker, and nothing is missing.
    let reported: BTreeSet<(String, String)> = leaks
        .iter()
        .flat_map(|l| l["sockets"].as_array().cloned().unwrap_or_default())
        .map(|s| {
            (
                s["local"].as_str().unwrap_or_default().to_owned(),
                s["remote"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(reported, ss_close_wait(leaker.pid));
    assert_eq!(reported.len(), 6);
}

#[test]
fn connections_min_age_keeps_fresh_close_wait_out_and_human_output_names_the_function() {
    assert_programs_embedded();
    let bins = fixture_bins();
    let mut leaker = Leaker::start(&bins, 1, 0);
    let pid = leaker.pid.to_string();
    let tracer = Command::new(env!("CARGO_BIN_EXE_govkit"))
        .args([
            "trace",
            "connections",
            "--min-age",
            "1h",
            "--duration",
            "3s",
            "--pid",
            &pid,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("govkit: {e}"));
    std::thread::sleep(Duration::from_millis(1500));
    leaker.go();
    let out = tracer.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).starts_with("0 leak group(s)"),
        "{}",
        stdout(&out)
    );

    let tracer = Command::new(env!("CARGO_BIN_EXE_govkit"))
        .args([
            "trace",
            "connections",
            "--min-age",
            "0s",
            "--duration",
            "2s",
            "--pid",
            &pid,
        ])
        .output()
        .unwrap_or_else(|e| panic!("govkit: {e}"));
    // Both leaked sockets existed before this second trace: no stack, but reported.
    assert_eq!(code(&tracer), 1, "{}", stderr(&tracer));
    assert!(
        stdout(&tracer).contains("opened before tracing"),
        "{}",
        stdout(&tracer)
    );
}

#[test]
fn connections_input_and_privilege_errors_exit_2_with_nothing_on_stdout() {
    assert_programs_embedded();
    // A PID that does not exist (pid_max is far below this).
    let out = crate::govkit(
        repo(),
        &[
            "trace",
            "connections",
            "--pid",
            "999999999",
            "--duration",
            "1s",
        ],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("process 999999999 does not exist"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    let out = crate::govkit(repo(), &["trace", "connections", "--min-age", "soon"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("not a duration"), "{}", stderr(&out));
    // Without privileges: setpriv drops to nobody with no capabilities.
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ])
        .arg(env!("CARGO_BIN_EXE_govkit"))
        .args(["trace", "connections", "--duration", "1s"])
        .output()
        .unwrap_or_else(|e| panic!("setpriv: {e}"));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("run it as root"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}
