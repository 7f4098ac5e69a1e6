//! `govkit trace connections` and `trace sched` inside a QEMU guest running another kernel
//! (Debian's 6.1 cloud kernel; the host has 6.18): the same eBPF object must
//! load and attach unchanged (offsets from that kernel's BTF), and the report
//! must match the guest's own /proc/net/tcp{,6}. Run by `cargo xtask
//! vm-test` inside the guest (`GOVKIT_BIN`, `GOVKIT_LEAKER`, `GOVKIT_CONTEND`);
//! ignored elsewhere.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed step is a failed test, with its message"
)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Lines, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: this test runs inside the VM"))
}

/// (local, remote) of every `CLOSE_WAIT` socket in `/proc/net/tcp{,6}` whose
/// inode is one of `pid`'s file descriptors.
fn proc_close_wait(pid: u32) -> BTreeSet<(String, String)> {
    let inodes: BTreeSet<u64> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/fd: {e}"))
        .filter_map(|e| {
            let t = std::fs::read_link(e.ok()?.path()).ok()?;
            t.to_str()?
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect();
    tracebpf::procfs::tcp_sockets()
        .into_iter()
        .filter(|s| s.state == 8 && inodes.contains(&s.inode))
        .map(|s| (s.local.to_string(), s.remote.to_string()))
        .collect()
}

/// Spawns a fixture program; returns it, its stdout lines and the pid from
/// its `ready PID` line.
fn spawn_fixture(cmd: &mut Command) -> (Child, Lines<BufReader<ChildStdout>>, u32) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    let pid: u32 = ready.strip_prefix("ready ").unwrap().parse().unwrap();
    (child, lines, pid)
}

/// Spawns govkit with `args` and waits until its stderr says `ready`
/// (its programs are attached); returns it and what it said.
fn spawn_tracer(args: &[&str], ready: &str) -> (Child, String) {
    let mut tracer = Command::new(env("GOVKIT_BIN"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(tracer.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains(ready) {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "govkit trace said: {said}"
        );
        said.push_str(&line);
    }
    // Keep draining stderr so that a later message cannot block or fail.
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    (tracer, said)
}

#[test]
#[ignore = "runs inside the QEMU guests of cargo xtask vm-test"]
fn connections_on_the_guest_kernel() {
    // This kernel allows BPF trampolines: `auto` takes accepted sockets
    // from fexit on inet_csk_accept; the cgroup getpeername and tracepoint
    // paths must work too (an older kernel than the host's for the cgroup
    // hook's helpers and register lookup).
    leak_test_uses("auto", &["fexit/inet_csk_accept"], &[]);
    leak_test_uses("cgroup", &["cgroup/getpeername4"], &[]);
    // So far without sock_diag for TCP (inet_diag is a module here, not
    // loaded): the cgroup hooks had to follow state changes in the kernel.
    leak_test_uses(
        "tracepoints",
        &["tracepoint/syscalls:sys_exit_accept4"],
        &["cgroup/connect4"],
    );
    // With it loaded, `--hooks cgroup` takes connects from the cgroup hook,
    // frees no records in the kernel and reads states from sock_diag by
    // cookie, on this kernel too.
    let dir = env("GOVKIT_DIAG_MODULES");
    for module in ["inet_diag.ko", "tcp_diag.ko"] {
        let status = Command::new("insmod")
            .arg(format!("{dir}/{module}"))
            .status()
            .unwrap();
        assert!(status.success(), "insmod {module}: {status}");
    }
    leak_test_uses(
        "cgroup",
        &["cgroup/connect4", "cgroup/getpeername4"],
        &["raw_tracepoint/inet_sock_set_state"],
    );
    // And `auto`: accepts from fexit (with the socket's cookie), connects
    // from the cgroup hook, no state hook.
    leak_test_uses(
        "auto",
        &["fexit/inet_csk_accept", "cgroup/connect4"],
        &["cgroup/getpeername4", "raw_tracepoint/inet_sock_set_state"],
    );
}

/// The leak test with `--hooks HOOKS`: the tracer must have used every
/// hook of `with` and none of `without`.
fn leak_test_uses(hooks: &str, with: &[&str], without: &[&str]) {
    let used = connections_with_hooks(hooks);
    for h in with {
        assert!(used.iter().any(|x| x == h), "{h} not in {used:?}");
    }
    for h in without {
        assert!(!used.iter().any(|x| x == h), "{h} in {used:?}");
    }
}

/// The leak test with `--hooks HOOKS`; returns the hooks the tracer used.
fn connections_with_hooks(hooks: &str) -> Vec<String> {
    let (mut leaker, mut lines, pid) =
        spawn_fixture(Command::new(env("GOVKIT_LEAKER")).args(["3", "2", "0", "1"]));
    let pid_arg = pid.to_string();
    let (tracer, said) = spawn_tracer(
        &[
            "trace",
            "connections",
            "--format",
            "json",
            "--min-age",
            "1s",
            "--duration",
            "8s",
            "--hooks",
            hooks,
            "--pid",
            &pid_arg,
        ],
        "tracing TCP connections",
    );
    let mut stdin = leaker.stdin.take().unwrap();
    writeln!(stdin, "go").unwrap();
    assert!(lines.next().unwrap().unwrap().starts_with("leaked"));
    let out = tracer.wait_with_output().unwrap();
    let json = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}{json}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let leaks = report["leaks"].as_array().unwrap();
    let group = |by: &str| {
        leaks
            .iter()
            .find(|l| l["opened_by"] == by)
            .unwrap_or_else(|| panic!("no {by} group: {json}"))
    };
    let has = |l: &serde_json::Value, f: &str| {
        l["stack"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap_or("").starts_with(f))
    };
    let accept = |function: &str| {
        leaks
            .iter()
            .find(|l| {
                l["opened_by"] == "accept"
                    && l["stack"].as_array().unwrap().iter().any(|s| {
                        s.as_str()
                            .unwrap_or("")
                            .strip_prefix(function)
                            .is_some_and(|rest| rest.starts_with(' '))
                    })
            })
            .unwrap_or_else(|| panic!("no accept group with {function}: {json}"))
    };
    assert_eq!(accept("leaker::leak_accepted")["count"], 3, "{json}");
    // libc's and std's frames come first; the culprit is the leaker's.
    assert_eq!(
        accept("leaker::leak_accepted")["culprit"]["function"],
        "leaker::leak_accepted",
        "{json}"
    );
    // accept(fd, NULL, NULL): seen by fexit and the tracepoints; under the
    // cgroup hook reported with its owner, as not seen opening.
    if hooks == "cgroup" {
        assert_eq!(group("unseen")["count"], 1, "{json}");
    } else {
        assert_eq!(
            accept("leaker::leak_accepted_no_address")["count"],
            1,
            "{json}"
        );
    }
    assert_eq!(group("connect")["count"], 2, "{json}");
    assert!(has(group("connect"), "leaker::leak_connected"), "{json}");
    assert_eq!(group("before-tracing")["count"], 1, "{json}");
    let reported: BTreeSet<(String, String)> = leaks
        .iter()
        .flat_map(|l| l["sockets"].as_array().unwrap().clone())
        .map(|s| {
            (
                s["local"].as_str().unwrap().to_owned(),
                s["remote"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(reported, proc_close_wait(pid));
    assert_eq!(report["lost_events"], 0);
    drop(stdin);
    leaker.kill().unwrap_or_default();
    leaker.wait().unwrap();
    report["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_owned())
        .collect()
}

/// Runs the contended workload (optionally under `govkit numa exec --node
/// N`) while `govkit trace sched` traces it; returns the tracer's entry for
/// it and the kernel's own counters for the run.
fn traced_contend(node: Option<u32>) -> (serde_json::Value, Vec<(String, u64)>) {
    let contend = env("GOVKIT_CONTEND");
    let mut cmd = match node {
        Some(n) => {
            let mut c = Command::new(env("GOVKIT_BIN"));
            c.args(["numa", "exec", "--node", &n.to_string(), "--", &contend]);
            c
        }
        None => Command::new(&contend),
    };
    let (mut work, mut lines, pid) = spawn_fixture(cmd.args(["4", "1500"]));
    let pid_arg = pid.to_string();
    let (tracer, said) = spawn_tracer(
        &["trace", "sched", "--format", "json", "--pid", &pid_arg],
        "tracing the scheduler",
    );
    // The guest's older kernel takes the BTF build too (BTF-typed
    // tracepoints and task storage), with nothing to warn about.
    assert!(
        said.contains("BTF tracepoints, task storage") && !said.contains("WARN"),
        "{said}"
    );
    let mut stdin = work.stdin.take().unwrap();
    writeln!(stdin, "go").unwrap();
    let done = lines.next().unwrap().unwrap();
    let kernel: Vec<(String, u64)> = done
        .strip_prefix("done ")
        .unwrap_or_else(|| panic!("contend said {done:?}"))
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.parse().unwrap()))
        .collect();
    // Stop the trace while the workload is parked, so that its window ends
    // where the workload's own counters do (its threads' exits would add
    // wakeups, switches and migrations the counters above cannot see).
    let stopped = Command::new("kill")
        .args(["-INT", &tracer.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let out = tracer.wait_with_output().unwrap();
    drop(stdin);
    work.wait().unwrap();
    let json = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}{json}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["lost_events"], 0, "{json}");
    let procs = report["processes"].as_array().unwrap();
    assert_eq!(procs.len(), 1, "{json}");
    (procs[0].clone(), kernel)
}

fn kernel_count(kernel: &[(String, u64)], name: &str) -> u64 {
    kernel.iter().find(|(k, _)| k == name).unwrap().1
}

#[test]
#[ignore = "runs inside the QEMU guests of cargo xtask vm-test"]
fn sched_on_the_guest_kernel_counts_cross_node_migrations() {
    assert_eq!(
        std::env::var("GOVKIT_VM_TOPOLOGY").as_deref(),
        Ok("2node"),
        "needs the 2-node guest"
    );
    // Four busy threads over two nodes of two CPUs: they move between
    // nodes, and the counts agree with the guest kernel's own. Whether a
    // run crosses nodes at all is the guest scheduler's choice (one CI run
    // saw 30 migrations, all within a node): up to three runs, each one's
    // counts checked, until one does.
    let mut attempts = 0;
    let (p, kernel, migrations, numa) = loop {
        attempts += 1;
        let (p, kernel) = traced_contend(None);
        let migrations = p["migrations"].as_u64().unwrap();
        let want = kernel_count(&kernel, "migrations");
        assert!(
            migrations.abs_diff(want) <= 3.max(want / 10),
            "migrations: govkit {migrations}, /proc {want}: {p:#}"
        );
        let numa = p["numa_migrations"].as_u64().unwrap();
        if numa > 0 || attempts == 3 {
            break (p, kernel, migrations, numa);
        }
    };
    assert!(numa > 0 && numa <= migrations, "{p:#}");
    let vol = p["voluntary_switches"].as_u64().unwrap();
    let want = kernel_count(&kernel, "voluntary");
    assert!(
        vol.abs_diff(want) * 10 <= want,
        "voluntary: govkit {vol}, /proc {want}"
    );
    // Kept on node 0 (`govkit numa exec --node 0`): no cross-node moves.
    let (p, _) = traced_contend(Some(0));
    assert_eq!(p["numa_migrations"], 0, "{p:#}");
}
