//! `govkit trace connections` against the running kernel: the real eBPF
//! programs are loaded (these tests need root, as CI has, and the programs
//! committed in tracebpf/objects/). The leaker is a release build (no frame
//! pointers), so its stacks can only be right if DWARF unwinding works.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
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
        "govkit was built without its eBPF programs: tracebpf/objects/ is missing or GOVKIT_EBPF_DIR names a folder without them"
    );
}

/// A program of tracebpf/fixture that prints `ready PID` and then follows
/// its protocol on stdin/stdout: the leaker (`go` → `leaked N`) or the
/// contended workload (`go` → `done COUNTERS`, exit when stdin closes).
struct Fixture {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    pid: u32,
}

type Leaker = Fixture;
type Contend = Fixture;

impl Fixture {
    fn spawn(bin: &Path, args: &[String]) -> Self {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let stdin = child.stdin.take();
        let mut lines =
            BufReader::new(child.stdout.take().unwrap_or_else(|| panic!("stdout"))).lines();
        let ready = lines.next().and_then(Result::ok).unwrap_or_default();
        let pid = ready
            .strip_prefix("ready ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{} said {ready:?}", bin.display()));
        Fixture {
            child,
            stdin,
            lines,
            pid,
        }
    }

    /// The leaker: ACCEPTS and CONNECTS `CLOSE_WAIT` leaks after `go`.
    fn start(bin: &Path, accepts: usize, connects: usize) -> Self {
        Self::start_with(bin, &[accepts, connects])
    }

    /// The leaker with all its counts (ACCEPTS CONNECTS IDLE).
    fn start_with(bin: &Path, counts: &[usize]) -> Self {
        let args: Vec<String> = counts.iter().map(ToString::to_string).collect();
        Self::spawn(&bin.join("leaker"), &args)
    }

    /// The contended workload: 4 threads for 1.5 s after `go`.
    fn contend(bin: &Path) -> Self {
        Self::spawn(&bin.join("contend"), &["4".to_owned(), "1500".to_owned()])
    }

    fn go(&mut self) {
        let stdin = self.stdin.as_mut().unwrap_or_else(|| panic!("stdin"));
        writeln!(stdin, "go").unwrap_or_else(|e| panic!("{e}"));
        let line = self.lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(line.starts_with("leaked"), "leaker said {line:?}");
    }
}

impl Drop for Fixture {
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

/// Milliseconds since each CLOSE-WAIT socket of `pid` last received an
/// ACK, as `ss -ti` shows them (`lastack:MS`).
fn ss_last_ack_ms(pid: u32) -> Vec<u64> {
    let out = Command::new("ss")
        .args(["-tinpH", "state", "close-wait"])
        .output()
        .unwrap_or_else(|e| panic!("ss: {e}"));
    let needle = format!("pid={pid},");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut ages = Vec::new();
    let mut ours = false;
    for line in text.lines() {
        // A socket's line, then its tcp_info on an indented line.
        if !line.starts_with(char::is_whitespace) {
            ours = line.contains(&needle);
        } else if ours {
            ages.extend(
                line.split_whitespace()
                    .find_map(|w| w.strip_prefix("lastack:"))
                    .and_then(|v| v.parse::<u64>().ok()),
            );
        }
    }
    ages
}

/// `govkit trace connections --format json --min-age 1s EXTRA --pid` the
/// leaker, attached before the leaker leaks (`go`); its output once it stops.
fn trace_leaker(leaker: &mut Leaker, extra: &[&str]) -> std::process::Output {
    trace_leaker_with(leaker, extra, &[])
}

/// `trace_leaker` with environment variables for govkit.
fn trace_leaker_with(
    leaker: &mut Leaker,
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    trace_leaker_by(Path::new(env!("CARGO_BIN_EXE_govkit")), leaker, extra, env)
}

/// `trace_leaker_with` by the govkit binary `govkit`.
fn trace_leaker_by(
    govkit: &Path,
    leaker: &mut Leaker,
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let (tracer, _err) = spawn_ready(
        Command::new(govkit)
            .envs(env.iter().copied())
            .args(["trace", "connections", "--min-age", "1s"])
            // JSON unless the test asks for another format.
            .args(if extra.contains(&"--format") {
                &[][..]
            } else {
                &["--format", "json"][..]
            })
            .args(extra)
            .args(["--pid", &leaker.pid.to_string()]),
        false,
        // The start-up line says when the cgroup hooks run their builds
        // with helper calls only.
        if env.contains(&("GOVKIT_TRACE_CGROUP_COMPAT", "1")) {
            "cgroup programs with helper calls"
        } else {
            "tracing TCP connections"
        },
    );
    leaker.go();
    tracer.wait_with_output()
}

/// A tracer's JSON report of leaks found: exit 1 and the document.
fn leak_report(out: &std::process::Output) -> serde_json::Value {
    let json = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "leaks found means exit 1; stdout: {json}"
    );
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

/// A leak group's stack, innermost frame first.
fn frames(leak: &serde_json::Value) -> Vec<String> {
    leak["stack"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The hooks a report says were used; exactly one accept hook among
/// fexit (kernels with trampolines), the cgroup getpeername pair, and the
/// syscall tracepoints.
fn accept_hooks(report: &serde_json::Value) -> Vec<String> {
    let hooks: Vec<String> = report["hooks"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|h| h.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let has = |h: &str| hooks.iter().any(|x| x == h);
    // The lifecycle: every state change, or (with the cgroup hooks and
    // sock_diag) opens only, nothing when sockets close.
    let states = has("raw_tracepoint/inet_sock_set_state");
    let light = has("cgroup/connect4") && has("cgroup/connect6");
    assert!(!has("raw_tracepoint/tcp_destroy_sock"), "{hooks:?}");
    assert!(states != light, "{hooks:?}");
    let fexit = has("fexit/inet_csk_accept");
    let cgroup = has("cgroup/getpeername4") && has("cgroup/getpeername6");
    assert!(!light || cgroup, "{hooks:?}");
    let tracepoints = has("tracepoint/syscalls:sys_exit_accept4");
    assert_eq!(
        u8::from(fexit) + u8::from(cgroup) + u8::from(tracepoints),
        1,
        "{hooks:?}"
    );
    hooks
}

/// The README's install command, alone, on a fresh clone with the stable
/// toolchain and no xtask (nothing from this checkout's target/, no
/// nightly, no bpf-linker), gives a govkit whose tracer finds a leak and
/// names the function that opened it.
#[test]
fn the_readme_install_command_alone_gives_a_working_tracer() {
    let readme = std::fs::read_to_string(repo().join("README.md"))
        .unwrap_or_else(|e| panic!("README.md: {e}"));
    let install = readme
        .split("\n## Install\n")
        .nth(1)
        .and_then(|section| {
            section
                .lines()
                .find(|l| l.starts_with("cargo install") && l.contains("--path ."))
        })
        .unwrap_or_else(|| panic!("README.md's Install section has no `cargo install … --path .`"));
    let words: Vec<&str> = install
        .split('#')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clone = dir.path().join("govkit");
    let cloned = Command::new("git")
        .args(["clone", "--quiet"])
        .arg(repo())
        .arg(&clone)
        .status()
        .is_ok_and(|s| s.success());
    assert!(cloned, "git clone {} failed", repo().display());
    let root = dir.path().join("root");
    // A target folder of its own, kept between runs (it only caches the
    // dependencies' builds; the clone's own crates are new each time).
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo().join("target"), PathBuf::from)
        .join("install-test");
    let out = Command::new(words[0])
        .args(&words[1..])
        .arg("--root")
        .arg(&root)
        .current_dir(&clone)
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTUP_TOOLCHAIN", "stable")
        .env_remove("GOVKIT_EBPF_DIR")
        .env_remove("RUSTC")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap_or_else(|e| panic!("{install}: {e}"));
    assert!(
        out.status.success(),
        "{install} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = root.join("bin/govkit");
    let bins = fixture_bins();
    let mut leaker = Leaker::start(&bins, 2, 1);
    let out = trace_leaker_by(&installed, &mut leaker, &["--duration", "5s"], &[]);
    let report = leak_report(&out);
    let count = |opened_by: &str, function: &str| {
        report["leaks"]
            .as_array()
            .and_then(|groups| {
                groups.iter().find(|g| {
                    g["opened_by"] == opened_by && frames(g).iter().any(|f| f.starts_with(function))
                })
            })
            .map(|g| g["count"].clone())
    };
    assert_eq!(
        count("accept", "leaker::leak_accepted"),
        Some(2.into()),
        "{report:#}"
    );
    assert_eq!(
        count("connect", "leaker::leak_connected"),
        Some(1.into()),
        "{report:#}"
    );
}

/// The leak test under `--hooks HOOKS`: the leaker leaks 3 accepted
/// sockets, 2 connected ones, one accepted without a peer-address buffer
/// and one before tracing; the report must name each group's function and
/// list exactly the sockets `ss` shows in CLOSE-WAIT. Returns the hooks used.
/// Runs the leak test with `--hooks hooks` (and govkit's environment
/// `env`); returns the accept hooks used and the kernel counters.
fn leaks_match_ss(hooks: &str, env: &[(&str, &str)]) -> (Vec<String>, serde_json::Value) {
    assert_programs_embedded();
    let bins = fixture_bins();
    let mut leaker = Leaker::start_with(&bins, &[3, 2, 0, 1]);
    let out = trace_leaker_with(&mut leaker, &["--duration", "6s", "--hooks", hooks], env);
    let report = leak_report(&out);
    assert_eq!(report["lost_events"], 0);
    let used = accept_hooks(&report);
    let leaks = report["leaks"]
        .as_array()
        .unwrap_or_else(|| panic!("leaks: {report}"));
    // The group opened by `opened_by` whose stack has a frame of `function`
    // (exactly that function: `leak_accepted` is a prefix of another).
    let group = |opened_by: &str, function: &str| {
        let is = |f: &String| {
            f.strip_prefix(function)
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
        };
        leaks
            .iter()
            .find(|l| l["opened_by"] == opened_by && frames(l).iter().any(is))
            .unwrap_or_else(|| panic!("no {opened_by} group with {function} in {report:#}"))
    };
    let accepted = group("accept", "leaker::leak_accepted");
    assert_eq!(accepted["count"], 3);
    assert_eq!(accepted["pid"], leaker.pid);
    assert_eq!(accepted["comm"], "leaker");
    assert_eq!(accepted["state"], "CLOSE_WAIT");
    let stack = frames(accepted);
    assert!(
        stack.iter().any(|f| f.starts_with("leaker::main")),
        "{stack:#?}"
    );
    assert_eq!(accepted["stack_complete"], true, "{stack:#?}");
    // The owner's cgroup: its path from /proc, and the id the kernel
    // captured at accept, which is that cgroup directory's inode.
    let cgroup = std::fs::read_to_string(format!("/proc/{}/cgroup", leaker.pid))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("0::").map(str::to_owned))
        .unwrap_or_else(|| panic!("no cgroup v2 line for the leaker"));
    assert_eq!(accepted["cgroup"], cgroup.as_str());
    if let Some(root) = tracebpf::procfs::cgroup2_mount() {
        use std::os::unix::fs::MetadataExt;
        let dir = root.join(cgroup.trim_start_matches('/'));
        let ino = std::fs::metadata(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .ino();
        assert_eq!(accepted["cgroup_id"], ino, "{}", dir.display());
    }
    let connected = group("connect", "leaker::leak_connected");
    assert_eq!(connected["count"], 2);
    let stack = frames(connected);
    assert!(
        !stack.iter().any(|f| f.contains("leak_accepted")),
        "{stack:#?}"
    );
    // accept(fd, NULL, NULL): the cgroup hook cannot see it, and the report
    // says so with the owner; the other hooks record its stack.
    if used.iter().any(|h| h.starts_with("cgroup/")) {
        let unseen = leaks
            .iter()
            .find(|l| l["opened_by"] == "unseen")
            .unwrap_or_else(|| panic!("no unseen group in {report:#}"));
        assert_eq!(unseen["count"], 1);
        assert_eq!(unseen["pid"], leaker.pid);
        assert!(frames(unseen).is_empty(), "{unseen:#}");
        // The report says why, what would record them, and at what cost.
        let note = unseen["stack_note"].as_str().unwrap_or_default();
        for says in ["peer address", "--hooks tracepoints", "every system call"] {
            assert!(note.contains(says), "{unseen:#}");
        }
    } else {
        assert_eq!(
            group("accept", "leaker::leak_accepted_no_address")["count"],
            1
        );
    }
    let before = leaks
        .iter()
        .find(|l| l["opened_by"] == "before-tracing")
        .unwrap_or_else(|| panic!("no before-tracing group in {report:#}"));
    assert_eq!(before["count"], 1);
    assert!(
        before["stack_note"]
            .as_str()
            .is_some_and(|n| n.starts_with("opened before tracing")),
        "{before:#}"
    );
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
    assert_eq!(reported.len(), 7);
    (used, report["counters"].clone())
}

#[test]
fn connections_reports_leaks_with_their_stacks_and_matches_ss() {
    // This host refuses BPF trampolines: `auto` must pick the cgroup hook
    // (where cgroup v2 is mounted, as here), not the syscall tracepoints.
    // With the cgroup hooks and sock_diag (here), the lighter lifecycle:
    // no hook on every state change.
    let (used, counters) = leaks_match_ss("auto", &[]);
    let has = |h: &str| used.iter().any(|x| x == h);
    assert!(
        has("cgroup/getpeername4") || has("fexit/inet_csk_accept"),
        "{used:?}"
    );
    if has("cgroup/getpeername4") {
        assert!(has("cgroup/connect4"), "{used:?}");
        assert_eq!(counters["state_changes"], 0, "{counters}");
        // The destroy hook taught the register offset at start, then went.
        assert!(!has("raw_tracepoint/tcp_destroy_sock"), "{used:?}");
        assert!(counters["destroys"].as_u64() > Some(0), "{counters}");
        assert!(counters["cgroup_connects"].as_u64() > Some(0), "{counters}");
    }
}

#[test]
fn connections_with_the_state_hook_and_cgroup_accepts_match_ss_too() {
    // The path of hosts without sock_diag: every state change followed in
    // the kernel, accepts from the cgroup hook.
    let (used, counters) = leaks_match_ss("cgroup", &[("GOVKIT_TRACE_STATE_HOOK", "1")]);
    assert!(
        used.iter()
            .any(|h| h == "raw_tracepoint/inet_sock_set_state"),
        "{used:?}"
    );
    assert!(counters["state_changes"].as_u64() > Some(0), "{counters}");
}

#[test]
fn connections_without_the_state_hook_take_over_stale_slots() {
    // One slot: each leak's peer, closed at once, leaves a record there
    // that the next socket must find stale and replace (nothing frees
    // records when sockets close on this path); sockets that find it
    // held by a live one go to the hash map. The report must not change.
    // A stale record is replaced either by a takeover (the next socket is
    // elsewhere in memory) or in place (the kernel gave the freed socket's
    // memory to the next one: TCP sockets are SLAB_TYPESAFE_BY_RCU, so
    // that happens at once and how often depends on the slab's state).
    // Every open either claims the slot or falls back, so the claims after
    // the first one are the replacements, of both kinds.
    // The builds of the cgroup programs with helper calls only (kernels
    // before 5.16 or so give cgroup programs no task BTF pointer): same
    // report.
    let (used, counters) = leaks_match_ss(
        "cgroup",
        &[
            ("GOVKIT_TRACE_SLOTS", "1"),
            ("GOVKIT_TRACE_CGROUP_COMPAT", "1"),
        ],
    );
    assert!(used.iter().any(|h| h == "cgroup/connect4"), "{used:?}");
    let count = |name: &str| counters[name].as_u64().unwrap_or(0);
    assert_eq!(count("socks_map_full"), 0, "{counters}");
    let claims = count("opens") - count("slot_fallbacks");
    assert!(claims >= 4, "{counters}");
    assert!(count("slot_takeovers") >= 1, "{counters}");
    assert!(count("slot_fallbacks") >= 3, "{counters}");
}

#[test]
fn connections_started_under_a_busy_loop_lose_nothing() {
    // Two call sites opened tens of thousands of times a second before
    // user space has learned them: the kernel side sends at most 16
    // captures per unlearned pc (not one per open up to the budget, which
    // filled the ring buffer when govkit started under load and counted as
    // lost events); the other opens of that moment get a partial stack.
    assert_programs_embedded();
    let bins = fixture_bins();
    let mut load = Command::new(bins.join("connloop"))
        .arg("5")
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("connloop: {e}"));
    std::thread::sleep(Duration::from_millis(500));
    let out = Command::new(env!("CARGO_BIN_EXE_govkit"))
        .args([
            "trace",
            "connections",
            "--format",
            "json",
            "--min-age",
            "1h",
        ])
        .args(["--duration", "2s", "--pid", &load.id().to_string()])
        .output()
        .unwrap_or_else(|e| panic!("govkit: {e}"));
    load.wait().unwrap_or_else(|e| panic!("connloop: {e}"));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    let c = &report["counters"];
    assert_eq!(report["lost_events"], 0, "{report:#}");
    assert!(c["opens"].as_u64() > Some(10_000), "{c}");
    assert!(c["captures"].as_u64() <= Some(64), "{c}");
    assert!(
        c["site_hits"].as_u64() > Some(c["opens"].as_u64().unwrap_or(0) / 2),
        "{c}"
    );
}

#[test]
fn connections_on_the_syscall_tracepoints_match_ss_too() {
    // With 2 slots, most sockets' records go to the hash map instead (and
    // the two slots are taken, freed and retaken): both stores are checked.
    let (used, counters) = leaks_match_ss("tracepoints", &[("GOVKIT_TRACE_SLOTS", "2")]);
    assert!(
        used.iter()
            .any(|h| h == "tracepoint/syscalls:sys_exit_accept4"),
        "{used:?}"
    );
    assert!(counters["slot_fallbacks"].as_u64() >= Some(5), "{counters}");
}

/// (local, peer) of every ESTABLISHED socket of `pid` that `ss -tinp`
/// shows without data sent or received for at least `ms`.
fn ss_idle(pid: u32, ms: u64) -> BTreeSet<(String, String)> {
    let out = Command::new("ss")
        .args(["-tinpH", "state", "established"])
        .output()
        .unwrap_or_else(|e| panic!("ss: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    let needle = format!("pid={pid},");
    let field = |info: &str, name: &str| -> u64 {
        info.split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.parse().ok())
            .unwrap_or(0)
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut found = BTreeSet::new();
    for (i, l) in lines.iter().enumerate() {
        if !l.contains(&needle) || l.starts_with(char::is_whitespace) {
            continue;
        }
        let info = lines.get(i + 1).copied().unwrap_or_default();
        let idle = field(info, "lastsnd:").min(field(info, "lastrcv:"));
        if idle >= ms {
            let f: Vec<&str> = l.split_whitespace().collect();
            found.insert((f[2].to_owned(), f[3].to_owned()));
        }
    }
    found
}

#[test]
fn connections_idle_reports_quiet_established_sockets_like_ss() {
    // --hooks tracepoints: the syscall tracepoints, whatever the kernel
    // allows, and state changes followed in the kernel.
    let report = idle_like_ss("tracepoints");
    assert!(
        report["hooks"].as_array().is_some_and(|h| h
            .iter()
            .any(|h| h == "tracepoint/syscalls:sys_exit_accept4")
            && !h.iter().any(|h| h == "fexit/inet_csk_accept")),
        "{report:#}"
    );
}

#[test]
fn connections_idle_without_the_state_hook_reports_the_same() {
    // --hooks cgroup: here (sock_diag available) without the state hook,
    // ESTABLISHED sockets found by cookie.
    let report = idle_like_ss("cgroup");
    assert!(
        report["hooks"]
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h == "cgroup/connect4")),
        "{report:#}"
    );
}

/// The `--idle` test under `--hooks hooks`; returns the report.
fn idle_like_ss(hooks: &str) -> serde_json::Value {
    assert_programs_embedded();
    let bins = fixture_bins();
    // One CLOSE_WAIT leak of each kind, 2 idle connections (4 sockets,
    // both ends in the leaker) and one busy connection.
    let mut leaker = Leaker::start_with(&bins, &[1, 1, 2]);
    let out = trace_leaker(
        &mut leaker,
        &["--idle", "1s", "--duration", "5s", "--hooks", hooks],
    );
    let report = leak_report(&out);
    let leaks = report["leaks"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"));
    let idle: Vec<&serde_json::Value> = leaks
        .iter()
        .filter(|l| l["state"] == "ESTABLISHED")
        .collect();
    // The connecting and the accepting end of each idle connection.
    for by in ["connect", "accept"] {
        let g = idle
            .iter()
            .find(|l| l["opened_by"] == by)
            .unwrap_or_else(|| panic!("no idle {by} group: {report:#}"));
        assert_eq!(g["count"], 2, "{g:#}");
        assert!(
            g["stack"].as_array().is_some_and(|s| s.iter().any(|f| f
                .as_str()
                .is_some_and(|f| f.starts_with("leaker::hold_idle")))),
            "{g:#}"
        );
        assert!(
            g["oldest_in_state_s"].as_f64().unwrap_or(0.0) >= 1.0,
            "{g:#}"
        );
    }
    // Exactly what ss calls idle for 1 s (the busy connection is not).
    let reported: BTreeSet<(String, String)> = idle
        .iter()
        .flat_map(|l| l["sockets"].as_array().cloned().unwrap_or_default())
        .map(|s| {
            (
                s["local"].as_str().unwrap_or_default().to_owned(),
                s["remote"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(reported.len(), 4, "{report:#}");
    assert_eq!(reported, ss_idle(leaker.pid, 1000));
    // CLOSE_WAIT leaks are still reported alongside.
    assert!(
        leaks
            .iter()
            .any(|l| l["state"] == "CLOSE_WAIT" && l["opened_by"] == "accept")
    );
    report
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
    // An exited process its parent has not reaped (a zombie): its /proc
    // entry is there, but nothing is left to trace.
    let mut zombie = Command::new("true")
        .spawn()
        .unwrap_or_else(|e| panic!("true: {e}"));
    let pid = zombie.id().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = crate::govkit(
        repo(),
        &["trace", "connections", "--pid", &pid, "--duration", "30s"],
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("process {pid} has exited: it is a zombie")),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    if let Err(e) = zombie.wait() {
        panic!("wait: {e}");
    }
    // A traced process that exits while traced ends the trace, though its
    // parent has not reaped it yet.
    let mut short = Command::new("sleep")
        .arg("1")
        .spawn()
        .unwrap_or_else(|e| panic!("sleep: {e}"));
    let pid = short.id().to_string();
    let out = crate::govkit(
        repo(),
        &["trace", "connections", "--pid", &pid, "--duration", "60s"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("every traced process has exited"),
        "{}",
        stderr(&out)
    );
    if let Err(e) = short.wait() {
        panic!("wait: {e}");
    }
    let out = crate::govkit(repo(), &["trace", "connections", "--min-age", "soon"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("not a duration"), "{}", stderr(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_govkit"))
        .env("GOVKIT_TRACE_SLOTS", "3")
        .args(["trace", "connections", "--duration", "1s"])
        .output()
        .unwrap_or_else(|e| panic!("govkit: {e}"));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("GOVKIT_TRACE_SLOTS: \"3\" is not a power of two"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
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

impl Fixture {
    /// Runs the workload; returns the kernel's counters for it.
    fn run(&mut self) -> std::collections::BTreeMap<String, u64> {
        let stdin = self.stdin.as_mut().unwrap_or_else(|| panic!("stdin"));
        writeln!(stdin, "go").unwrap_or_else(|e| panic!("{e}"));
        let line = self.lines.next().and_then(Result::ok).unwrap_or_default();
        let fields = line
            .strip_prefix("done ")
            .unwrap_or_else(|| panic!("contend said {line:?}"));
        fields
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.parse().unwrap_or(0)))
            .collect()
    }

    fn finish(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait(); // govkit: allow(let-underscore-result) -- exit status does not matter
    }
}

/// Spawns a tracer and waits for its first stderr/stdout line (it prints
/// one when its programs are attached). The rest of stderr is drained by a
/// thread (a closed pipe would make the tracer's next message fail).
fn spawn_ready(
    cmd: &mut Command,
    ready_on_stdout: bool,
    expect: &str,
) -> (Reaped, std::thread::JoinHandle<String>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let mut first = String::new();
    if ready_on_stdout {
        let out = child.stdout.as_mut().unwrap_or_else(|| panic!("stdout"));
        // Byte by byte: a BufReader would swallow later output.
        let mut b = [0u8; 1];
        while std::io::Read::read(out, &mut b).unwrap_or(0) == 1 && b[0] != b'\n' {
            first.push(char::from(b[0]));
        }
    }
    let mut err = BufReader::new(child.stderr.take().unwrap_or_else(|| panic!("stderr")));
    if !ready_on_stdout {
        // On a host where tracefs or bpffs was not mounted yet, the
        // tracer says first that it mounted them.
        loop {
            first.clear();
            err.read_line(&mut first).unwrap_or_else(|e| panic!("{e}"));
            if !first.starts_with("govkit: mounted ") {
                break;
            }
        }
    }
    assert!(first.contains(expect), "{cmd:?} said: {first}");
    let rest = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).unwrap_or_default();
        s
    });
    (Reaped(Some(child)), rest)
}

/// A tracer process that is killed and reaped if the test fails before
/// waiting for it: a stray tracer would slow every later test and
/// benchmark on the host.
struct Reaped(Option<Child>);

impl Reaped {
    fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    fn wait_with_output(mut self) -> std::process::Output {
        self.0
            .take()
            .unwrap_or_else(|| panic!("already waited for"))
            .wait_with_output()
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill(); // govkit: allow(let-underscore-result) -- best-effort cleanup
            let _ = c.wait(); // govkit: allow(let-underscore-result) -- best-effort cleanup
        }
    }
}

/// Sum of the counts of a runqlat histogram.
fn runqlat_total(text: &str) -> u64 {
    text.lines()
        .filter(|l| l.contains("->"))
        .filter_map(|l| {
            l.split(':')
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

fn within(what: &str, got: u64, want: u64, pct: u64) {
    let diff = got.abs_diff(want);
    assert!(
        diff * 100 <= want * pct,
        "{what}: govkit {got}, reference {want} (more than {pct}% apart)"
    );
}

#[test]
fn sched_agrees_with_runqlat_and_the_kernels_own_counters() {
    sched_agrees(false);
}

/// The same figures from the raw-tracepoint build, the one kernels that
/// refuse BTF tracepoints or task storage get.
#[test]
fn sched_compat_build_agrees_with_runqlat_and_the_kernels_own_counters() {
    sched_agrees(true);
}

/// `trace sched --pid` (the BTF build, or with `compat` the raw-tracepoint
/// one, each named on the start-up line) against runqlat and the
/// contended workload's own counters.
fn sched_agrees(compat: bool) {
    assert_programs_embedded();
    let bins = fixture_bins();
    let mut work = Contend::contend(&bins);
    let pid = work.pid.to_string();
    let (runqlat, _) = spawn_ready(
        Command::new("stdbuf").args(["-oL", "runqlat", "-p", &pid]),
        true,
        "Tracing run queue latency",
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_govkit"));
    cmd.args(["trace", "sched", "--format", "json", "--pid", &pid]);
    let build = if compat {
        cmd.env("GOVKIT_TRACE_SCHED_COMPAT", "1");
        "raw tracepoints, the costlier build: GOVKIT_TRACE_SCHED_COMPAT=1"
    } else {
        cmd.env_remove("GOVKIT_TRACE_SCHED_COMPAT");
        "NUMA node(s), BTF tracepoints, task storage)"
    };
    let (govkit, govkit_err) = spawn_ready(&mut cmd, false, build);
    let kernel = work.run();
    // Both tracers stop while the workload is parked, so that their window
    // ends where its own counters do (its threads' exits would add events
    // the counters cannot see). SIGINT makes each print its report.
    for pid in [govkit.id(), runqlat.id()] {
        let status = Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap_or_else(|e| panic!("kill: {e}"));
        assert!(status.success());
    }
    let out = govkit.wait_with_output();
    let err = govkit_err.join().unwrap_or_default();
    assert_eq!(code(&out), 0, "{err}");
    let rq = runqlat.wait_with_output();
    work.finish();
    let runqlat_count = runqlat_total(&String::from_utf8_lossy(&rq.stdout));

    let report: serde_json::Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    assert_eq!(report["lost_events"], 0);
    let procs = report["processes"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(procs.len(), 1, "--pid filters in the kernel: {report:#}");
    let p = &procs[0];
    assert_eq!(p["pid"], work.pid);
    assert_eq!(p["comm"], "contend");
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or_else(|| panic!("{v} in {p:#}"));
    // Thousands of events: the workload alone fills the window.
    assert!(runqlat_count > 1000, "runqlat saw {runqlat_count}");
    within(
        "run-queue waits vs runqlat",
        n(&p["runq_latency_us"]["count"]),
        runqlat_count,
        10,
    );
    within(
        "voluntary switches vs /proc",
        n(&p["voluntary_switches"]),
        kernel["voluntary"],
        10,
    );
    within(
        "involuntary switches vs /proc",
        n(&p["involuntary_switches"]),
        kernel["involuntary"],
        10,
    );
    assert_eq!(
        n(&p["context_switches"]),
        n(&p["voluntary_switches"]) + n(&p["involuntary_switches"])
    );
    let migrations = n(&p["migrations"]);
    assert!(
        migrations.abs_diff(kernel["migrations"]) <= 3.max(kernel["migrations"] / 10),
        "migrations: govkit {migrations}, /proc/PID/task/*/sched {}",
        kernel["migrations"]
    );
    // A single-node host has no cross-node migrations.
    assert_eq!(p["numa_migrations"], 0);
    let hist = p["runq_latency_us"]["histogram"]
        .as_array()
        .unwrap_or_else(|| panic!("{p:#}"));
    let total: u64 = hist.iter().map(|b| n(&b["count"])).sum();
    assert_eq!(total, n(&p["runq_latency_us"]["count"]));
    let p50 = p["runq_latency_us"]["p50"].as_f64().unwrap_or(-1.0);
    let p99 = p["runq_latency_us"]["p99"].as_f64().unwrap_or(-1.0);
    assert!(0.0 < p50 && p50 <= p99, "p50 {p50} p99 {p99}");
}

#[test]
fn sched_filters_and_errors() {
    assert_programs_embedded();
    // --comm that matches nothing: an empty report, exit 0; human output.
    let out = Command::new(env!("CARGO_BIN_EXE_govkit"))
        .args([
            "trace",
            "sched",
            "--duration",
            "1s",
            "--comm",
            "no-such-comm",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("0 process(es)"),
        "{}",
        stdout(&out)
    );
    // --per-thread: the contended workload's threads separately.
    let bins = fixture_bins();
    let mut work = Contend::contend(&bins);
    let pid = work.pid.to_string();
    let (govkit, govkit_err) = spawn_ready(
        Command::new(env!("CARGO_BIN_EXE_govkit")).args([
            "trace",
            "sched",
            "--format",
            "json",
            "--per-thread",
            "--pid",
            &pid,
        ]),
        false,
        "tracing the scheduler",
    );
    work.run();
    work.finish();
    let out = govkit.wait_with_output();
    let err = govkit_err.join().unwrap_or_default();
    assert_eq!(code(&out), 0, "{err}");
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    let procs = report["processes"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"));
    let tids: BTreeSet<u64> = procs.iter().filter_map(|p| p["tid"].as_u64()).collect();
    assert!(tids.len() >= 4, "4 workers at least: {report:#}");
    assert!(procs.iter().all(|p| p["pid"] == work.pid));
    // Bad input: exit 2, nothing on stdout.
    for args in [
        &["trace", "sched", "--pid", "999999999"][..],
        &["trace", "sched", "--duration", "soon"][..],
        // Its report points at no source line: no CI formats.
        &["trace", "sched", "--format", "sarif"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_govkit"))
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        // Nothing but, under a CI format, the document saying it stopped.
        if args.contains(&"sarif") {
            let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap_or_default();
            assert_eq!(
                doc["runs"][0]["invocations"][0]["executionSuccessful"],
                false,
                "{}",
                stdout(&out)
            );
        } else {
            assert!(stdout(&out).is_empty(), "{args:?}");
        }
    }
}

/// GET `path` from `addr` with a plain HTTP/1.0 request: (status, body).
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("{e}"));
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap_or_else(|e| panic!("{e}"));
    let mut text = String::new();
    s.read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}

/// The value of the first sample of `name` whose labels contain `labels`.
fn sample(text: &str, name: &str, labels: &str) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with('{') && l.contains(labels))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}

#[test]
#[expect(clippy::too_many_lines, reason = "one scenario, checked step by step")]
fn serve_exports_prometheus_metrics_and_stops_on_sigterm() {
    assert_programs_embedded();
    let bins = fixture_bins();
    let mut work = Contend::contend(&bins);
    let (serve, serve_err, addr) = serve_on_any_port(
        &["--interval", "200ms", "--top", "5", "--per-pid"],
        repo(),
        "http",
    );
    // The contended process has its own series (it is among the most
    // active), with real counts and a histogram. Scraped while it runs: on
    // a busy host (the other tests) an idle holder's slot goes at once to
    // any process four times as active, by design; a new workload is
    // tried when another process held the slots throughout.
    let mut found = None;
    let mut last = String::new();
    let mut pid = work.pid;
    for attempt in 0..3 {
        if attempt > 0 {
            work = Contend::contend(&bins);
        }
        pid = work.pid;
        let labels = format!("pid=\"{pid}\",comm=\"contend\"");
        let running = AtomicBool::new(true);
        let (seen, body) = std::thread::scope(|s| {
            let scraper = s.spawn(|| {
                loop {
                    let still = running.load(Ordering::Relaxed);
                    let (_, body) = http_get(&addr, "/metrics");
                    if sample(
                        &body,
                        "govkit_sched_runqueue_latency_seconds_count",
                        &labels,
                    )
                    .is_some_and(|v| v > 1000.0)
                    {
                        return (true, body);
                    }
                    if !still {
                        return (false, body);
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
            work.run();
            // Two more refreshes, for its last figures.
            std::thread::sleep(Duration::from_millis(400));
            running.store(false, Ordering::Relaxed);
            scraper.join().unwrap_or_default()
        });
        if seen {
            found = Some(body);
            break;
        }
        last = body;
    }
    let body = found.unwrap_or_else(|| panic!("no series for pid {pid} in:\n{last}"));
    let labels = format!("pid=\"{pid}\",comm=\"contend\"");
    let inf = sample(
        &body,
        "govkit_sched_runqueue_latency_seconds_bucket",
        &format!("{labels},le=\"+Inf\""),
    );
    let count = sample(
        &body,
        "govkit_sched_runqueue_latency_seconds_count",
        &labels,
    );
    assert_eq!(inf, count, "+Inf bucket equals the count");
    assert!(sample(&body, "govkit_sched_context_switches_total", &labels).is_some_and(|v| v > 0.0));
    // Cardinality: at most --top processes plus "other".
    let pids: BTreeSet<&str> = body
        .lines()
        .filter(|l| l.starts_with("govkit_sched_migrations_total{"))
        .filter_map(|l| l.split("pid=\"").nth(1)?.split('"').next())
        .collect();
    assert!(pids.contains("other") && pids.len() <= 6, "{pids:?}");
    assert!(
        sample(&body, "govkit_trace_series", "tracer=\"sched\"").is_some_and(|n| n <= 6.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "govkit_trace_series_limit", "tracer=\"sched\""),
        Some(6.0)
    );
    assert_eq!(
        sample(&body, "govkit_trace_lost_events_total", "tracer=\"sched\""),
        Some(0.0)
    );
    // Which kernel hooks each tracer runs on (this host: the BTF build).
    for (tracer, hook) in [
        ("sched", "tp_btf/sched_switch"),
        ("sched", "tp_btf/sched_wakeup"),
        ("connections", "tracepoint/sched:sched_process_exec"),
    ] {
        let labels = format!("tracer=\"{tracer}\",hook=\"{hook}\"");
        assert_eq!(
            sample(&body, "govkit_trace_hook_info", &labels),
            Some(1.0),
            "{labels} in:\n{body}"
        );
    }
    promtool_check_metrics(&body);
    // The probes' endpoint: no scrape, just whether the loop publishes.
    assert_eq!(http_get(&addr, "/healthz"), (200, "ok\n".to_owned()));
    // 200 scrapes in a row while the tracers run, every one complete.
    for i in 0..200 {
        let (status, body) = http_get(&addr, "/metrics");
        assert_eq!(status, 200, "scrape {i}: {body}");
        assert!(
            body.contains("govkit_trace_events_total"),
            "scrape {i}: {body}"
        );
    }
    let (status, _) = http_get(&addr, "/nope");
    assert_eq!(status, 404);
    work.finish();
    // SIGTERM: a clean stop.
    let status = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(status.success());
    let out = serve.wait_with_output();
    let err = serve_err.join().unwrap_or_default();
    assert_eq!(code(&out), 0, "{err}");
    assert!(err.contains("eBPF programs detached"), "{err}");
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "still listening"
    );
}

/// A cgroup of the test's own under the host's cgroup v2 root, removed
/// when dropped (once its processes are gone).
struct TestCgroup(PathBuf);

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for _ in 0..50 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The build host: 300 short-lived processes (most live 0.2 s, far
/// shorter than the refresh interval) while Prometheus-style scrapes run
/// every second. Series are per workload: every scrape has at most
/// `--top` + 1 per metric (and says so in `govkit_trace_series`), the
/// processes of the churn cgroup are one series however many come and go,
/// and what the exited ones did is counted there (the kernel recorded
/// their cgroup), not lost to "other" or "(unknown)".
#[test]
fn serve_keeps_series_bounded_under_process_churn_and_attributes_it() {
    assert_programs_embedded();
    let Some(root) = tracebpf::procfs::cgroup2_mount() else {
        panic!("no cgroup v2 hierarchy on this host");
    };
    let name = format!("govkit-churn-{}", std::process::id());
    let cgroup = TestCgroup(root.join(&name));
    std::fs::create_dir(&cgroup.0).unwrap_or_else(|e| panic!("{}: {e}", cgroup.0.display()));
    let top = 8;
    let (serve, _err, addr) = serve_on_any_port(
        &["--interval", "1s", "--top", &top.to_string()],
        repo(),
        "http",
    );
    // The spawner moves itself into the cgroup; its 300 children start
    // there, sleep 0.2 s (a voluntary switch each) and exit.
    let procs = cgroup.0.join("cgroup.procs");
    let mut churn = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo $$ > {} && for i in $(seq 300); do sleep 0.2; done; grep '^voluntary_ctxt_switches' /proc/$$/status",
            procs.display()
        ))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("sh: {e}"));
    let labels_of = |body: &str| -> BTreeSet<String> {
        body.lines()
            .filter(|l| l.starts_with("govkit_sched_context_switches_total{"))
            .filter(|l| l.contains("kind=\"voluntary\""))
            .filter_map(|l| Some(l.split_once('{')?.1.split_once(",kind=")?.0.to_owned()))
            .collect()
    };
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut scrapes = 0;
    let mut body;
    loop {
        let done = churn.try_wait().ok().flatten().is_some();
        let (status, b) = http_get(&addr, "/metrics");
        assert_eq!(status, 200);
        let now = labels_of(&b);
        assert!(now.len() <= top + 1, "{} series: {now:#?}", now.len());
        assert!(
            sample(&b, "govkit_trace_series", "tracer=\"sched\"").is_some_and(|n| (n - f64::from(
                u32::try_from(now.len()).unwrap_or(u32::MAX)
            ))
            .abs()
                < 0.5),
            "govkit_trace_series says how many: {}",
            now.len()
        );
        seen.extend(now);
        scrapes += 1;
        body = b;
        if done {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let spawned = churn
        .wait_with_output()
        .unwrap_or_else(|e| panic!("sh: {e}"));
    assert!(spawned.status.success());
    // The spawner's own voluntary switches (about two per child: it
    // blocks in fork and in wait), from the kernel.
    let own: f64 = String::from_utf8_lossy(&spawned.stdout)
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the spawner's switches: {:?}", spawned.stdout));
    // Two more refreshes, for the last children's counts.
    std::thread::sleep(Duration::from_millis(2500));
    let (_, last) = http_get(&addr, "/metrics");
    if !last.is_empty() {
        body = last;
    }
    let unit = format!("unit=\"/{name}\"");
    let churn_series = format!("namespace=\"\",pod=\"\",container=\"\",{unit}");
    let switches = sample(
        &body,
        "govkit_sched_context_switches_total",
        &format!("{churn_series},kind=\"voluntary\""),
    )
    .unwrap_or_else(|| {
        panic!("no series for the churn cgroup {unit} in:\n{body}\nseen: {seen:#?}")
    });
    // Each child blocks at least once, in its sleep: the series holds the
    // spawner's switches plus at least 300. Had the exited children been
    // lost (or counted elsewhere), it would hold about the spawner's alone.
    assert!(
        switches >= own + 300.0,
        "{switches} voluntary switches for {unit}, the spawner's own: {own}"
    );
    // However many processes came and went, the series over the whole run
    // are the host's busy workloads: never more than the limit plus the
    // workloads that took a slot over another.
    assert!(
        seen.iter().filter(|l| l.contains(&unit)).count() == 1,
        "the churn cgroup is one series: {seen:#?}"
    );
    assert!(
        seen.len() <= 3 * (top + 1),
        "{} distinct series in {scrapes} scrapes: {seen:#?}",
        seen.len()
    );
    drop(serve);
}

/// `govkit trace serve --metrics 127.0.0.1:0 ARGS` run in `dir`, once it
/// serves over `scheme`: the tracer, its remaining stderr, and the address
/// the OS gave it.
fn serve_on_any_port(
    args: &[&str],
    dir: &Path,
    scheme: &str,
) -> (Reaped, std::thread::JoinHandle<String>, String) {
    let (serve, err) = spawn_ready(
        Command::new(env!("CARGO_BIN_EXE_govkit"))
            .args(["trace", "serve", "--metrics", "127.0.0.1:0"])
            .args(args)
            .current_dir(dir),
        false,
        &format!("serving Prometheus metrics on {scheme}://"),
    );
    let addr = listening_addr(serve.id());
    (serve, err, addr)
}

/// `promtool check metrics` accepts the exposition.
fn promtool_check_metrics(body: &str) {
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("promtool: {e}"));
    check
        .stdin
        .take()
        .unwrap_or_else(|| panic!("stdin"))
        .write_all(body.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let checked = check.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        checked.status.success(),
        "promtool check metrics: {}{}",
        stdout(&checked),
        stderr(&checked)
    );
}

/// The TCP address a process listens on (from `ss -ltnpH`).
fn listening_addr(pid: u32) -> String {
    let needle = format!("pid={pid},");
    for _ in 0..50 {
        let out = Command::new("ss")
            .args(["-ltnpH"])
            .output()
            .unwrap_or_else(|e| panic!("ss: {e}"));
        if let Some(l) = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.contains(&needle))
        {
            return l.split_whitespace().nth(3).unwrap_or_default().to_owned();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("pid {pid} does not listen");
}

#[test]
fn metrics_address_errors_are_input_errors() {
    assert_programs_embedded();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let taken = taken
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string();
    for (args, names) in [
        (
            vec!["trace", "serve", "--metrics", "not-an-address"],
            "not-an-address",
        ),
        (vec!["trace", "serve", "--metrics", &taken], taken.as_str()),
        (
            vec!["trace", "sched", "--duration", "1s", "--metrics", &taken],
            taken.as_str(),
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_govkit"))
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{args:?}");
        assert!(stderr(&out).contains(names), "{args:?}: {}", stderr(&out));
        // The hint fits the cause: an address, not a PID.
        assert!(
            !stderr(&out).contains("ps -p"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// A wrong web configuration stops `trace serve` before anything is
/// loaded: exit 2, nothing on stdout, the file and the field named.
#[test]
fn web_config_errors_are_input_errors_naming_the_field() {
    assert_programs_embedded();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let web = dir.path().join("web.yml");
    for (yaml, field) in [
        (
            "tls_server_config:\n  cert_file: missing.pem\n  key_file: missing.key\n",
            "tls_server_config.cert_file",
        ),
        (
            "basic_auth_users:\n  prometheus: plaintext\n",
            "basic_auth_users.prometheus",
        ),
        ("tls_server_config:\n  certfile: a.pem\n", "certfile"),
    ] {
        std::fs::write(&web, yaml).unwrap_or_else(|e| panic!("{e}"));
        let out = Command::new(env!("CARGO_BIN_EXE_govkit"))
            .args(["trace", "serve", "--metrics", "127.0.0.1:0", "--web-config"])
            .arg(&web)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "{yaml}: {err}");
        assert!(stdout(&out).is_empty(), "{yaml}");
        assert!(err.contains(&web.display().to_string()), "{yaml}: {err}");
        assert!(err.contains(field), "{yaml}: {err}");
        assert!(!err.contains("serving"), "nothing was served: {err}");
    }
}

/// A folder with govkit.toml naming tls/web.yml: a self-signed certificate
/// for 127.0.0.1 (openssl) and user `prom`, password `pw` (Python's bcrypt).
fn web_project(d: &Path) {
    std::fs::create_dir_all(d.join("tls")).unwrap_or_else(|e| panic!("{e}"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args([
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=govkit",
            "-keyout",
            "tls/key.pem",
        ])
        .args([
            "-out",
            "tls/cert.pem",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .current_dir(d)
        .output()
        .unwrap_or_else(|e| panic!("openssl: {e}"));
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let hash = Command::new("python3")
        .args([
            "-c",
            "import bcrypt; print(bcrypt.hashpw(b'pw', bcrypt.gensalt(rounds=10)).decode())",
        ])
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        hash.status.success(),
        "Python's bcrypt is needed (pip install bcrypt): {}",
        String::from_utf8_lossy(&hash.stderr)
    );
    let hash = String::from_utf8_lossy(&hash.stdout).trim().to_owned();
    std::fs::write(
        d.join("tls/web.yml"),
        format!("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prom: {hash}\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        d.join("govkit.toml"),
        "[trace]\nweb-config = \"tls/web.yml\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

/// `trace serve` with the web configuration named in govkit.toml's
/// `[trace]`: HTTPS, a password, and the tracers' metrics behind it.
#[test]
fn serve_takes_its_web_config_from_govkit_toml() {
    assert_programs_embedded();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    web_project(d);
    let (serve, _err, addr) = serve_on_any_port(&["--interval", "1s"], d, "https");
    let url = format!("https://{addr}/metrics");
    let curl = |extra: &[&str]| {
        let out = Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "10",
                "--cacert",
                "tls/cert.pem",
                "-w",
                "\n%{http_code}",
            ])
            .args(extra)
            .arg(&url)
            .current_dir(d)
            .output()
            .unwrap_or_else(|e| panic!("curl: {e}"));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", ""));
        (code.to_owned(), body.to_owned())
    };
    assert_eq!(curl(&[]).0, "401");
    assert_eq!(curl(&["-u", "prom:wrong"]).0, "401");
    let (code, body) = curl(&["-u", "prom:pw"]);
    assert_eq!(code, "200", "{body}");
    assert!(body.contains("govkit_trace_hook_info"), "{body}");
    drop(serve);
}

/// The SRE's first run is on a process that has leaked for a while: a
/// socket already in CLOSE-WAIT when the tracer starts is aged from the
/// kernel's record (the last ACK it received, `ss -ti`'s lastack), so a
/// trace shorter than `--min-age` still reports it, at once, with its real
/// age and a note that its opening stack cannot be known.
#[test]
fn connections_ages_leaks_that_predate_the_tracer_from_the_kernel() {
    assert_programs_embedded();
    let bins = fixture_bins();
    // The leaker leaks one accepted socket as it starts; let it age.
    let leaker = Leaker::start(&bins, 0, 0);
    std::thread::sleep(Duration::from_secs(8));
    let before = ss_last_ack_ms(leaker.pid);
    assert_eq!(
        before.len(),
        1,
        "ss shows the leaker's one CLOSE-WAIT socket"
    );
    let tracer = Command::new(env!("CARGO_BIN_EXE_govkit"))
        .args(["trace", "connections", "--format", "json"])
        .args(["--min-age", "5s", "--duration", "2s"])
        .args(["--pid", &leaker.pid.to_string()])
        .output()
        .unwrap_or_else(|e| panic!("govkit: {e}"));
    let after = ss_last_ack_ms(leaker.pid);
    // Exit 1: a leak was found.
    assert_eq!(code(&tracer), 1, "{}", stderr(&tracer));
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&tracer)).unwrap_or_else(|e| panic!("{e}"));
    let leaks = report["leaks"].as_array().cloned().unwrap_or_default();
    assert_eq!(leaks.len(), 1, "{report:#}");
    let leak = &leaks[0];
    assert_eq!(leak["opened_by"], "before-tracing", "{leak:#}");
    assert_eq!(leak["count"], 1);
    assert_eq!(leak["state"], "CLOSE_WAIT");
    // Within a second of what ss -ti said just before and just after.
    let in_state = leak["oldest_in_state_s"].as_f64().unwrap_or_default();
    let secs =
        |ms: Option<&u64>| Duration::from_millis(ms.copied().unwrap_or_default()).as_secs_f64();
    let low = secs(before.iter().min()) - 1.0;
    let high = secs(after.iter().max()) + 1.0;
    assert!(
        (low..=high).contains(&in_state),
        "{in_state} s in CLOSE_WAIT, ss -ti: {before:?} .. {after:?} ms"
    );
    assert!(leak["oldest_age_s"].as_f64().unwrap_or_default() >= in_state);
    // The descriptor an SRE can look up (ls -l /proc/PID/fd/FD).
    let fd = leak["sockets"][0]["fd"]
        .as_u64()
        .unwrap_or_else(|| panic!("{leak:#}"));
    let link = std::fs::read_link(format!("/proc/{}/fd/{fd}", leaker.pid))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        link.to_string_lossy(),
        format!("socket:[{}]", leak["sockets"][0]["inode"])
    );
    assert_eq!(leak["stack"], serde_json::json!([]), "{leak:#}");
    let note = leak["stack_note"].as_str().unwrap_or_default();
    assert!(note.contains("cannot be known"), "{note}");
    assert!(leak.get("culprit").is_none(), "{leak:#}");
}

/// The C leaker (`tracebpf/fixture/c/cleaker.c`) built with gcc -O2
/// without frame pointers into `dir`, and a stripped copy: the paths of
/// (unstripped, stripped).
fn c_leakers(dir: &Path) -> (PathBuf, PathBuf) {
    let source = repo().join("tracebpf/fixture/c/cleaker.c");
    let plain = dir.join("cleaker");
    let stripped = dir.join("cleaker-stripped");
    let status = Command::new("gcc")
        // In source order, so that the exported `tiny` lies just below the
        // static `leak_accepted`.
        .args([
            "-O2",
            "-fomit-frame-pointer",
            "-fno-toplevel-reorder",
            "-rdynamic",
        ])
        .arg("-o")
        .arg(&plain)
        .arg(&source)
        .status()
        .unwrap_or_else(|e| panic!("gcc: {e}"));
    assert!(status.success(), "gcc {}", source.display());
    let status = Command::new("strip")
        .arg("-o")
        .arg(&stripped)
        .arg(&plain)
        .status()
        .unwrap_or_else(|e| panic!("strip: {e}"));
    assert!(status.success(), "strip");
    // The trap this test is about: in the stripped copy the nearest
    // exported symbol below the leaking function is `tiny`.
    let nm = Command::new("nm")
        .arg(&plain)
        .output()
        .unwrap_or_else(|e| panic!("nm: {e}"));
    let address = |name: &str| {
        String::from_utf8_lossy(&nm.stdout)
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() == 3 && f[2] == name).then(|| u64::from_str_radix(f[0], 16).ok())?
            })
            .unwrap_or_else(|| panic!("nm: no {name}"))
    };
    assert!(
        address("tiny") < address("leak_accepted"),
        "gcc laid tiny out after leak_accepted"
    );
    (plain, stripped)
}

/// Traces a C or Go leaker (3 leaked accepted sockets) with `extra`
/// arguments (JSON unless they say `--format`); the tracer's output.
fn trace_native_leaker_with(bin: &Path, extra: &[&str]) -> std::process::Output {
    let mut leaker = Fixture::spawn(bin, &["3".to_owned()]);
    let mut args = vec!["--duration", "4s"];
    args.extend(extra);
    let out = trace_leaker_with(&mut leaker, &args, &[]);
    assert_eq!(ss_close_wait(leaker.pid).len(), 3);
    out
}

/// Traces a C or Go leaker (3 leaked accepted sockets): its one leak group.
fn trace_native_leaker(bin: &Path) -> serde_json::Value {
    let report = leak_report(&trace_native_leaker_with(bin, &[]));
    let leaks = report["leaks"].as_array().cloned().unwrap_or_default();
    assert_eq!(leaks.len(), 1, "{report:#}");
    assert_eq!(leaks[0]["count"], 3, "{report:#}");
    assert_eq!(leaks[0]["opened_by"], "accept", "{report:#}");
    leaks[0].clone()
}

/// `bin`'s copy with `MiniDebugInfo`, as Fedora and RHEL ship binaries:
/// stripped, with the function symbols `.dynsym` lacks in an
/// xz-compressed ELF file in `.gnu_debugdata`.
fn with_mini_debug_info(bin: &Path) -> PathBuf {
    let dir = bin.parent().unwrap_or(Path::new("."));
    let run = |program: &str, args: &[&std::ffi::OsStr]| {
        let out = Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let names = |dynamic: bool| -> std::collections::BTreeSet<String> {
        let mut args = vec!["--format=posix".as_ref(), "--defined-only".as_ref()];
        if dynamic {
            args.push("-D".as_ref());
        }
        args.push(bin.as_os_str());
        String::from_utf8_lossy(&run("nm", &args))
            .lines()
            .filter(|l| dynamic || l.split(' ').nth(1).is_some_and(|t| "TtWw".contains(t)))
            .filter_map(|l| l.split(' ').next().map(str::to_owned))
            .collect()
    };
    let keep: Vec<String> = names(false).difference(&names(true)).cloned().collect();
    let keep_file = dir.join("mini.keep");
    std::fs::write(&keep_file, keep.join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
    let debug = dir.join("mini.debug");
    run(
        "objcopy",
        &[
            "--only-keep-debug".as_ref(),
            bin.as_os_str(),
            debug.as_os_str(),
        ],
    );
    let mini = dir.join("mini");
    let keep_arg = format!("--keep-symbols={}", keep_file.display());
    run(
        "objcopy",
        &[
            "-S".as_ref(),
            "--remove-section".as_ref(),
            ".comment".as_ref(),
            keep_arg.as_ref(),
            debug.as_os_str(),
            mini.as_os_str(),
        ],
    );
    run("xz", &["-f".as_ref(), mini.as_os_str()]);
    let out = dir.join(format!(
        "{}-minidebuginfo",
        bin.file_name().unwrap_or_default().to_string_lossy()
    ));
    run("strip", &["-o".as_ref(), out.as_os_str(), bin.as_os_str()]);
    let section = format!(".gnu_debugdata={}", dir.join("mini.xz").display());
    run(
        "objcopy",
        &["--add-section".as_ref(), section.as_ref(), out.as_os_str()],
    );
    out
}

/// The leak group's culprit: (function or null, file or null, line or null).
fn culprit(leak: &serde_json::Value) -> (Option<&str>, Option<&str>, Option<u64>) {
    let c = &leak["culprit"];
    assert!(c.is_object(), "no culprit: {leak:#}");
    (
        c["function"].as_str(),
        c["file"].as_str(),
        c["line"].as_u64(),
    )
}

/// A frame is named after a symbol only when the symbol's extent holds
/// it: the unstripped C server's leak is in `leak_accepted` (from
/// `.symtab`); once stripped, that function has no symbol, and its frame
/// must not be named after `tiny`, the exported function just below it,
/// but shown as binary+offset with the build id, and be the culprit: the
/// named `main` further out is not where the socket was opened. With
/// `MiniDebugInfo` the name is back.
#[test]
fn connections_never_names_a_frame_after_a_symbol_that_does_not_hold_it() {
    assert_programs_embedded();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (plain, stripped) = c_leakers(dir.path());
    let leak = trace_native_leaker(&plain);
    let stack = frames(&leak);
    assert!(
        stack.iter().any(|f| f.starts_with("leak_accepted ")),
        "{stack:#?}"
    );
    assert!(stack.iter().any(|f| f.starts_with("main ")), "{stack:#?}");
    // accept() in libc comes first, and is not the culprit.
    assert_eq!(culprit(&leak).0, Some("leak_accepted"), "{leak:#}");

    let leak = trace_native_leaker(&stripped);
    let stack = frames(&leak);
    assert!(!stack.iter().any(|f| f.starts_with("tiny")), "{stack:#?}");
    assert!(
        stack.iter().any(|f| f.starts_with("[unknown] ")
            && f.contains("cleaker-stripped+0x")
            && f.contains("(build-id ")),
        "{stack:#?}"
    );
    // main is exported (-rdynamic): still named, and still not the culprit.
    assert!(stack.iter().any(|f| f.starts_with("main ")), "{stack:#?}");
    assert_eq!(culprit(&leak), (None, None, None), "{leak:#}");
    assert!(
        leak["culprit"]["object"]
            .as_str()
            .is_some_and(|o| o.ends_with("cleaker-stripped")),
        "{leak:#}"
    );

    let mini = with_mini_debug_info(&plain);
    let leak = trace_native_leaker(&mini);
    assert_eq!(culprit(&leak).0, Some("leak_accepted"), "{leak:#}");
    assert!(
        !frames(&leak).iter().any(|f| f.starts_with("tiny")),
        "{leak:#}"
    );
}

/// The Go leaker (`tracebpf/fixture/go/leaker.go`) built with the go tool
/// into `dir`: (plain, stripped with `-ldflags "-s -w"`).
fn go_leakers(dir: &Path) -> (PathBuf, PathBuf) {
    // One file, the standard library only: no module, no network.
    let source = repo().join("tracebpf/fixture/go/leaker.go");
    let plain = dir.join("goleaker");
    let stripped = dir.join("goleaker-sw");
    let gopath = [("GO111MODULE", "off"), ("GOFLAGS", "")];
    go_build(dir, repo(), &[], &plain, &source, &gopath);
    go_build(
        dir,
        repo(),
        &["-ldflags", "-s -w"],
        &stripped,
        &source,
        &gopath,
    );
    (plain, stripped)
}

/// `go build FLAGS -o OUT TARGET` in `cwd` with `env`, its cache and GOPATH
/// in `dir`.
fn go_build(
    dir: &Path,
    cwd: &Path,
    flags: &[&str],
    out: &Path,
    target: &Path,
    env: &[(&str, &str)],
) {
    let status = Command::new("go")
        .arg("build")
        .args(flags)
        .arg("-o")
        .arg(out)
        .arg(target)
        .current_dir(cwd)
        .envs(env.iter().copied())
        .env("GOCACHE", dir.join("gocache"))
        .env("GOPATH", dir.join("gopath"))
        .status()
        .unwrap_or_else(|e| panic!("go (golang-go): {e}"));
    assert!(
        status.success(),
        "go build {} in {}",
        target.display(),
        cwd.display()
    );
}

/// A Go server stripped with `-ldflags "-s -w"` has no symbol table and no
/// DWARF, only a few cgo symbols in `.dynsym`; its frames are named from
/// the Go runtime's own function table (`.gopclntab`), never after those
/// cgo symbols.
#[test]
fn connections_names_a_stripped_go_servers_frames_from_its_function_table() {
    assert_programs_embedded();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (plain, stripped) = go_leakers(dir.path());
    let source = repo().join("tracebpf/fixture/go/leaker.go");
    let accept_line = line_of(&source, "conn, err := l.Accept()");
    for bin in [&plain, &stripped] {
        let leak = trace_native_leaker(bin);
        let complete = leak["stack_complete"] == true;
        let frames = frames(&leak);
        // From the syscall to the goroutine's start, runtime.goexit.
        assert!(complete, "{}: {frames:#?}", bin.display());
        assert!(
            frames
                .iter()
                .any(|f| f.starts_with("main.acceptAndMaybeLeak ")),
            "{}: {frames:#?}",
            bin.display()
        );
        // The runtime's and net's frames come first; the culprit is the
        // leaking function, at the Accept call where there is DWARF.
        let (function, file, line) = culprit(&leak);
        assert_eq!(function, Some("main.acceptAndMaybeLeak"), "{leak:#}");
        if bin == &plain {
            assert_eq!(file, Some(source.to_string_lossy().as_ref()), "{leak:#}");
            assert_eq!(line, Some(accept_line), "{leak:#}");
        } else {
            assert_eq!((file, line), (None, None), "{leak:#}");
        }
        assert!(
            frames.iter().any(|f| f.starts_with("main.main ")),
            "{}: {frames:#?}",
            bin.display()
        );
        assert!(
            !frames
                .iter()
                .any(|f| f.starts_with("crosscall2") || f.starts_with("_cgo_")),
            "{}: {frames:#?}",
            bin.display()
        );
    }
}

/// The Go leaker as a module (`tracebpf/fixture/go/module`: the service's
/// own package `example.com/leaky/server` accepts through a dependency,
/// `example.org/pool`, replaced by a local directory so no network is
/// needed), built into `dir`.
fn go_module_leaker(dir: &Path) -> PathBuf {
    let out = dir.join("leaky");
    let module = [
        ("GO111MODULE", "on"),
        ("GOFLAGS", "-mod=mod"),
        ("GOPROXY", "off"),
    ];
    go_build(
        dir,
        &repo().join("tracebpf/fixture/go/module"),
        &[],
        &out,
        Path::new("."),
        &module,
    );
    out
}

/// A Go service's dependency is not its code: with the main module read
/// from the binary's build info, the dependency's frame between package
/// net and the service's own code is passed over, and the culprit is the
/// service's function at the line that called into the dependency.
#[test]
fn connections_blame_a_go_services_own_package_not_its_dependency() {
    assert_programs_embedded();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bin = go_module_leaker(dir.path());
    let leak = trace_native_leaker(&bin);
    let source = repo().join("tracebpf/fixture/go/module/server/server.go");
    let line = line_of(&source, "conn, err := pool.Accept(l)");
    let (function, file, at) = culprit(&leak);
    assert_eq!(
        function,
        Some("example.com/leaky/server.AcceptAndMaybeLeak"),
        "{leak:#}"
    );
    assert_eq!(file, Some(source.to_string_lossy().as_ref()), "{leak:#}");
    assert_eq!(at, Some(line), "{leak:#}");
    let stack = frames(&leak);
    let pool = stack
        .iter()
        .position(|f| f.starts_with("example.org/pool.Accept "))
        .unwrap_or_else(|| panic!("no pool frame: {stack:#?}"));
    assert!(
        leak["culprit"]["frame"].as_u64() > u64::try_from(pool).ok(),
        "{leak:#}"
    );
}

/// A tokio server (`tracebpf/fixture/src/bin/tokioleaker.rs`: a
/// multi-threaded runtime, the leak in a spawned task) accepts below
/// tokio's scheduler and inside tokio, mio and std; release builds inline
/// the async fn into the task's closure. The culprit is the server's own
/// code, the first frame past libc, and tokio's frames further out are a
/// library's, never the culprit.
#[test]
fn connections_blame_a_tokio_servers_own_code_not_the_runtime() {
    assert_programs_embedded();
    let leak = trace_native_leaker(&fixture_bins().join("tokioleaker"));
    let (function, _, _) = culprit(&leak);
    assert!(
        function.is_some_and(|f| f.starts_with("tokioleaker::")),
        "{leak:#}"
    );
    let stack = frames(&leak);
    let at = leak["culprit"]["frame"]
        .as_u64()
        .and_then(|i| usize::try_from(i).ok())
        .unwrap_or_default();
    assert!(
        stack[..at].iter().all(|f| !f.starts_with("tokioleaker::")),
        "{stack:#?}"
    );
    assert!(
        stack[at..]
            .iter()
            .any(|f| f.starts_with("tokio::runtime::")),
        "the runtime runs the task: {stack:#?}"
    );
}

/// The 1-based number of the first line of `file` that holds `text`.
fn line_of(file: &Path, text: &str) -> u64 {
    let source =
        std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    source
        .lines()
        .position(|l| l.contains(text))
        .and_then(|i| u64::try_from(i + 1).ok())
        .unwrap_or_else(|| panic!("{}: no line with {text:?}", file.display()))
}

/// The human report leads each group with its culprit and that line's
/// source, folds the Go runtime's and standard library's frames (every
/// frame with --full-stacks) and colours with --color always; the CI
/// formats put the finding on the culprit's line, relative to the
/// checkout (this test runs in the repository's root).
#[test]
fn connections_reports_point_at_the_culprits_source_line() {
    assert_programs_embedded();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (plain, _) = go_leakers(dir.path());
    let relative = "tracebpf/fixture/go/leaker.go";
    let line = line_of(&repo().join(relative), "conn, err := l.Accept()");
    let text = |out: &std::process::Output| {
        assert_eq!(out.status.code(), Some(1), "leaks found means exit 1");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    let human = text(&trace_native_leaker_with(&plain, &["--format", "human"]));
    assert!(
        human.contains(&format!(
            "culprit: main.acceptAndMaybeLeak ({relative}:{line})"
        )),
        "{human}"
    );
    assert!(
        human.contains(&format!("> {line} | \tconn, err := l.Accept()")),
        "{human}"
    );
    assert!(human.contains(" frame(s) in Go "), "{human}");
    assert!(!human.contains("runtime.goexit"), "{human}");
    assert!(!human.contains('\u{1b}'), "auto does not colour a pipe");

    let full = text(&trace_native_leaker_with(
        &plain,
        &["--format", "human", "--full-stacks", "--color", "always"],
    ));
    assert!(full.contains("runtime.goexit"), "{full}");
    assert!(full.contains("net.(*TCPListener).Accept"), "{full}");
    assert!(full.contains('\u{1b}'), "--color always colours");

    let sarif = text(&trace_native_leaker_with(&plain, &["--format", "sarif"]));
    let doc: serde_json::Value = serde_json::from_str(&sarif).unwrap_or_else(|e| panic!("{e}"));
    let result = &doc["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "leaked-connection", "{doc:#}");
    let at = &result["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"]["uri"], relative, "{doc:#}");
    assert_eq!(at["region"]["startLine"], line, "{doc:#}");

    let github = text(&trace_native_leaker_with(&plain, &["--format", "github"]));
    assert!(
        github.starts_with(&format!("::error file={relative},line={line},")),
        "{github}"
    );
    assert!(github.contains("main.acceptAndMaybeLeak"), "{github}");
}

/// The capabilities the `DaemonSet` grants (BPF, PERFMON, `SYS_PTRACE`,
/// `NET_ADMIN`, as `tests/it/deploy.rs` checks) are enough for both tracers'
/// cheap hooks; without `NET_ADMIN` the connections tracer falls back to
/// costlier hooks and says so at default verbosity.
#[test]
fn the_deployed_capabilities_are_enough_and_a_missing_one_is_a_warning() {
    assert_programs_embedded();
    let run = |caps: &str, args: &[&str]| {
        // Root keeps only what the bounding set allows.
        let out = Command::new("setpriv")
            .arg(format!("--bounding-set=-all,{caps}"))
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_govkit"))
            .args(args)
            .args(["--duration", "1s", "--format", "json"])
            .output()
            .unwrap_or_else(|e| panic!("setpriv: {e}"));
        assert_eq!(code(&out), 0, "{caps} {args:?}: {}", stderr(&out));
        stderr(&out)
    };
    let deployed = "+bpf,+perfmon,+sys_ptrace,+net_admin";
    let said = run(deployed, &["trace", "sched"]);
    assert!(
        said.contains("BTF tracepoints, task storage") && !said.contains("WARN"),
        "{said}"
    );
    let said = run(deployed, &["trace", "connections"]);
    assert!(
        said.contains("cgroup/connect4") && !said.contains("WARN"),
        "{said}"
    );
    let said = run("+bpf,+perfmon,+sys_ptrace", &["trace", "connections"]);
    assert!(
        said.contains("WARN") && said.contains("following every TCP state change"),
        "{said}"
    );
}
