//! `govkit numa`: fixture sysfs trees for hosts this machine is not, and
//! live runs on this host (real /proc, real affinity, a real cgroup v1
//! cpuset, real mempolicy).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use serde_json::Value;

use crate::{code, govkit, stderr, stdout};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("numa-tune/tests/fixtures")
        .join(name)
}

fn topology_json(sysfs: &Path) -> Value {
    let out = govkit(
        Path::new("/"),
        &[
            "numa",
            "topology",
            "--sysfs-root",
            &sysfs.to_string_lossy(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

/// `(id, cpus, memory_bytes, distances)` of each node.
fn nodes(doc: &Value) -> Vec<(u64, Vec<u64>, u64, Vec<u64>)> {
    let ids = |v: &Value| -> Vec<u64> {
        v.as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default()
    };
    doc["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes: {doc}"))
        .iter()
        .map(|n| {
            (
                n["id"].as_u64().unwrap_or(u64::MAX),
                ids(&n["cpus"]),
                n["memory_bytes"].as_u64().unwrap_or(0),
                ids(&n["distances"]),
            )
        })
        .collect()
}

const GIB16: u64 = 16 * 1024 * 1024 * 1024;

#[test]
fn fixture_hosts_give_their_topologies() {
    let doc = topology_json(&fixture("two-socket"));
    assert_eq!(
        nodes(&doc),
        vec![
            (0, vec![0, 1, 2, 3, 8, 9, 10, 11], GIB16, vec![10, 21]),
            (1, vec![4, 5, 6, 7, 12, 13, 14, 15], GIB16, vec![21, 10]),
        ]
    );
    assert_eq!(doc["smt"], true);
    assert_eq!(
        doc["packages"][1]["cpus"],
        serde_json::json!([4, 5, 6, 7, 12, 13, 14, 15])
    );
    assert_eq!(doc["cpus"][0]["siblings"], serde_json::json!([0, 8]));

    let doc = topology_json(&fixture("snc4"));
    let n = nodes(&doc);
    assert_eq!(n.len(), 4);
    assert_eq!(n[1].3, vec![11, 10, 21, 21]);
    assert_eq!(doc["packages"].as_array().map(Vec::len), Some(2));
    assert_eq!(doc["smt"], false);

    let doc = topology_json(&fixture("memory-only-node"));
    let n = nodes(&doc);
    assert_eq!(n[2], (2, vec![], 4 * GIB16, vec![14, 24, 10]));

    let doc = topology_json(&fixture("offline-cpus"));
    let n = nodes(&doc);
    assert_eq!(n[0].1, vec![0, 1, 2]);
    assert_eq!(n[1].1, vec![4, 5, 7]);
    assert_eq!(doc["offline_cpus"], serde_json::json!([3, 6]));

    let doc = topology_json(&fixture("odd-formats"));
    let n = nodes(&doc);
    assert_eq!(
        n.iter().map(|n| (n.0, n.1.clone())).collect::<Vec<_>>(),
        vec![(0, vec![0, 1, 2, 3]), (2, vec![4, 5, 6, 7])]
    );
}

#[test]
fn malformed_trees_are_exit_2_naming_the_file() {
    for (name, file, words) in [
        (
            "bad-distance",
            "node0/distance",
            "1 distances for 2 online nodes",
        ),
        ("bad-cpulist", "node0/cpulist", "not a CPU list"),
        (
            "cpu-in-two-nodes",
            "node1/cpulist",
            "CPU 1 is also listed under node 0",
        ),
        ("bad-meminfo", "node0/meminfo", "expected `N kB`"),
    ] {
        let root = fixture(name);
        let out = govkit(
            Path::new("/"),
            &["numa", "topology", "--sysfs-root", &root.to_string_lossy()],
        );
        assert_eq!(code(&out), 2, "{name}: {}", stdout(&out));
        assert_eq!(stdout(&out), "", "{name}: no partial output");
        let err = stderr(&out);
        assert!(err.contains(file) && err.contains(words), "{name}: {err}");
    }
    let out = govkit(
        Path::new("/"),
        &["numa", "topology", "--sysfs-root", "/nonexistent"],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("/nonexistent/devices/system/node: missing"),
        "{}",
        stderr(&out)
    );
    // The path's fault, not the kernel's.
    assert!(
        stderr(&out).contains("--sysfs-root /nonexistent is not a sysfs tree"),
        "{}",
        stderr(&out)
    );
}

fn tool(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} is needed for this test (.ci/run installs numactl and hwloc): {e}")
        });
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn this_hosts_topology_agrees_with_numactl_and_lstopo() {
    let doc = topology_json(Path::new("/sys"));
    let ours = nodes(&doc);

    // numactl --hardware: "node 0 cpus: 0 1", "node 0 size: 9306 MB",
    // and the distance matrix rows "  0:  10".
    let hw = tool("numactl", &["--hardware"]);
    for (id, cpus, bytes, distances) in &ours {
        let cpu_line = format!("node {id} cpus:");
        let listed: Vec<u64> = hw
            .lines()
            .find_map(|l| l.strip_prefix(&cpu_line))
            .unwrap_or_else(|| panic!("numactl lists no node {id}: {hw}"))
            .split_whitespace()
            .filter_map(|c| c.parse().ok())
            .collect();
        assert_eq!(&listed, cpus, "node {id} cpus");
        let size: u64 = hw
            .lines()
            .find_map(|l| l.strip_prefix(&format!("node {id} size: ")))
            .and_then(|s| s.trim_end_matches(" MB").parse().ok())
            .unwrap_or_else(|| panic!("no size for node {id}: {hw}"));
        assert_eq!(size, bytes >> 20, "node {id} size in MB");
        let row: Vec<u64> = hw
            .lines()
            .find_map(|l| l.trim_start().strip_prefix(&format!("{id}:")))
            .unwrap_or_else(|| panic!("no distance row for node {id}: {hw}"))
            .split_whitespace()
            .filter_map(|d| d.parse().ok())
            .collect();
        assert_eq!(&row, distances, "node {id} distances");
    }

    // hwloc: the number of NUMA nodes, and each node's PUs (physical ids).
    let count: usize = tool("hwloc-calc", &["--number-of", "numanode", "machine:0"])
        .trim()
        .parse()
        .unwrap_or(0);
    assert_eq!(count, ours.len(), "hwloc-calc node count");
    for (id, cpus, _, _) in &ours {
        let pus = tool(
            "hwloc-calc",
            &["--physical", "--intersect", "pu", &format!("numanode:{id}")],
        );
        let pus: Vec<u64> = pus
            .trim()
            .split(',')
            .filter_map(|p| p.parse().ok())
            .collect();
        assert_eq!(&pus, cpus, "hwloc PUs of node {id}");
    }
}

/// The test binary re-run as a helper: a process with four extra threads
/// that sleep until killed.
#[test]
#[ignore = "helper process for the numa tests, not a test"]
fn numa_helper_threads() {
    let Some(mode) = std::env::var_os("GOVKIT_NUMA_HELPER") else {
        return;
    };
    if mode == "churn" {
        // Threads that start and exit all the time, as under apply.
        std::thread::spawn(|| {
            loop {
                let short: Vec<_> = (0..8)
                    .map(|_| {
                        std::thread::spawn(|| {
                            std::thread::sleep(std::time::Duration::from_millis(1));
                        })
                    })
                    .collect();
                for t in short {
                    let _ = t.join(); // govkit: allow(let-underscore-result) -- a helper thread's result is irrelevant
                }
            }
        });
    }
    if mode == "spawner" {
        // A thread that keeps creating long-lived threads, as a Go runtime
        // or a growing pool does: those created after apply inherit its
        // pinned affinity.
        std::thread::spawn(|| {
            for _ in 0..150 {
                std::thread::spawn(|| std::thread::sleep(std::time::Duration::from_mins(2)));
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        });
    }
    // std names a thread from inside it, once it runs: "ready" waits until
    // every worker runs, so inspect never sees a name not yet set.
    let started = std::sync::Arc::new(std::sync::Barrier::new(5));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let started = std::sync::Arc::clone(&started);
            std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    started.wait();
                    std::thread::sleep(std::time::Duration::from_mins(2));
                })
        })
        .collect();
    started.wait();
    // Touch some memory so numa_maps has pages to count.
    let block = vec![1u8; 8 << 20];
    std::hint::black_box(&block);
    #[expect(clippy::print_stdout, reason = "the parent waits for this line")]
    {
        println!("ready");
    }
    for h in handles.into_iter().flatten() {
        let _ = h.join(); // govkit: allow(let-underscore-result) -- a helper thread's result is irrelevant
    }
}

struct Helper(Child);

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.0.kill(); // govkit: allow(let-underscore-result) -- best-effort cleanup
        let _ = self.0.wait(); // govkit: allow(let-underscore-result) -- best-effort cleanup
    }
}

impl Helper {
    fn start(pre: Option<&dyn Fn(u32)>) -> Helper {
        Helper::start_mode("1", pre)
    }

    fn start_mode(mode: &str, pre: Option<&dyn Fn(u32)>) -> Helper {
        use std::io::BufRead;
        let mut child = Command::new(std::env::current_exe().unwrap_or_default())
            .args([
                "numa::numa_helper_threads",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("GOVKIT_NUMA_HELPER", mode)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("helper: {e}"));
        if let Some(f) = pre {
            f(child.id());
        }
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut lines = std::io::BufReader::new(stdout).lines();
        assert!(
            lines.any(|l| l.is_ok_and(|l| l.contains("ready"))),
            "helper did not start"
        );
        Helper(child)
    }
    fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

fn allowed_lists(pid: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        if let Some(l) = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        {
            out.push(l.trim().to_owned());
        }
    }
    out
}

#[test]
fn inspect_sees_every_thread_and_the_memory_of_a_live_process() {
    let helper = Helper::start(None);
    let pid = helper.pid();
    let out = govkit(
        Path::new("/"),
        &["numa", "inspect", &pid, "--format", "json"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc = json_of(&out);
    let names: Vec<&str> = doc["threads"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["comm"].as_str()).collect())
        .unwrap_or_default();
    for i in 0..4 {
        assert!(names.contains(&format!("worker-{i}").as_str()), "{names:?}");
    }
    assert!(
        doc["memory_bytes"].as_u64().unwrap_or(0) >= 8 << 20,
        "{doc}"
    );
    // One node here: everything is local.
    assert_eq!(doc["locality"].as_f64(), Some(1.0));

    let out = govkit(
        Path::new("/"),
        &["numa", "inspect", &pid, "--color", "always"],
    );
    assert!(stdout(&out).contains('\u{1b}'), "--color always colours");
    let out = govkit(Path::new("/"), &["numa", "inspect", &pid]);
    assert!(
        !stdout(&out).contains('\u{1b}'),
        "auto does not colour a pipe"
    );

    let out = govkit(Path::new("/"), &["numa", "plan", &pid]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("nothing to gain"), "{}", stdout(&out));

    // A PID that does not exist.
    let out = govkit(Path::new("/"), &["numa", "inspect", "4000000"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("process 4000000 does not exist"),
        "{}",
        stderr(&out)
    );
}

/// A sysfs tree over this host's two CPUs with `nodes` (each: its CPU
/// list and its distance row), 1 GiB per node: real /proc and real
/// affinity calls, a topology this host lacks.
fn fake_sysfs(dir: &Path, nodes: &[(&str, &str)]) -> PathBuf {
    let root = dir.join("sys");
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap_or(&root)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
    };
    write(
        "devices/system/node/online",
        &format!("0-{}\n", nodes.len() - 1),
    );
    write("devices/system/cpu/online", "0-1\n");
    for (n, (cpus, distances)) in nodes.iter().enumerate() {
        let node = format!("devices/system/node/node{n}");
        write(&format!("{node}/cpulist"), &format!("{cpus}\n"));
        write(
            &format!("{node}/meminfo"),
            &format!("Node {n} MemTotal: 1048576 kB\nNode {n} MemFree: 524288 kB\n"),
        );
        write(&format!("{node}/distance"), &format!("{distances}\n"));
    }
    root
}

/// A two-node topology over this host's two CPUs: node 0 = CPU 0, node 1 =
/// CPU 1.
fn split_host(dir: &Path) -> PathBuf {
    fake_sysfs(dir, &[("0", "10 20"), ("1", "20 10")])
}

#[test]
fn apply_pins_every_thread_and_revert_restores_them() {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    assert!(cpus >= 2, "this test needs two CPUs");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sys = split_host(dir.path());
    let state = dir.path().join("state");
    let helper = Helper::start(None);
    let pid = helper.pid();
    let before = allowed_lists(&pid);
    assert!(before.iter().all(|l| l == "0-1"), "{before:?}");

    let root = sys.to_string_lossy();
    let state_s = state.to_string_lossy();
    let out = govkit(
        Path::new("/"),
        &[
            "numa",
            "--sysfs-root",
            &root,
            "apply",
            &pid,
            "--state-dir",
            &state_s,
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc = json_of(&out);
    // All memory is on the one real node, node 0, so node 0 = CPU 0.
    assert_eq!(doc["node"], 0, "{doc}");
    let after = allowed_lists(&pid);
    assert!(
        after.len() >= 5 && after.iter().all(|l| l == "0"),
        "{after:?}"
    );

    let out = govkit(
        Path::new("/"),
        &["numa", "revert", &pid, "--state-dir", &state_s],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(allowed_lists(&pid).iter().all(|l| l == "0-1"));
    let out = govkit(
        Path::new("/"),
        &["numa", "revert", &pid, "--state-dir", &state_s],
    );
    assert_eq!(code(&out), 2, "a second revert has nothing to restore");
}

struct Cleanup(PathBuf);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0); // govkit: allow(let-underscore-result) -- best-effort cleanup
    }
}

#[test]
fn a_process_in_a_cpuset_is_never_widened() {
    let cpuset = Path::new("/sys/fs/cgroup/cpuset");
    assert!(
        cpuset.join("cpuset.cpus").exists(),
        "this test needs the cgroup v1 cpuset controller at {} (root)",
        cpuset.display()
    );
    let group = cpuset.join(format!("govkit-test-{}", std::process::id()));
    std::fs::create_dir(&group).unwrap_or_else(|e| panic!("{}: {e}", group.display()));
    let _cleanup = Cleanup(group.clone());
    std::fs::write(group.join("cpuset.cpus"), "1").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(group.join("cpuset.mems"), "0").unwrap_or_else(|e| panic!("{e}"));
    let procs = group.join("cgroup.procs");
    let helper = Helper::start(Some(&|pid| {
        std::fs::write(&procs, pid.to_string()).unwrap_or_else(|e| panic!("{e}"));
    }));
    let pid = helper.pid();

    let out = govkit(
        Path::new("/"),
        &["numa", "inspect", &pid, "--format", "json"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["cpuset"]["version"], "cgroup v1", "{doc}");
    assert_eq!(doc["cpuset"]["cpus"], serde_json::json!([1]));

    // Node 0 (CPU 0) holds the memory, but the cpuset allows only CPU 1:
    // apply leaves every thread alone instead of widening or failing.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sys = split_host(dir.path());
    let root = sys.to_string_lossy();
    let state = dir.path().join("state");
    let out = govkit(
        Path::new("/"),
        &[
            "numa",
            "--sysfs-root",
            &root,
            "apply",
            &pid,
            "--state-dir",
            &state.to_string_lossy(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        allowed_lists(&pid).iter().all(|l| l == "1"),
        "{:?}",
        allowed_lists(&pid)
    );
    drop(helper);
}

#[test]
fn apply_copes_with_threads_that_come_and_go() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sys = split_host(dir.path());
    let root = sys.to_string_lossy();
    let state = dir.path().join("state");
    let helper = Helper::start_mode("churn", None);
    let pid = helper.pid();
    for _ in 0..5 {
        let out = govkit(
            Path::new("/"),
            &[
                "numa",
                "--sysfs-root",
                &root,
                "apply",
                &pid,
                "--state-dir",
                &state.to_string_lossy(),
                "--format",
                "json",
            ],
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let doc = json_of(&out);
        assert!(
            doc["pinned"].is_array() && doc["vanished"].is_array(),
            "{doc}"
        );
        let out = govkit(
            Path::new("/"),
            &[
                "numa",
                "revert",
                &pid,
                "--state-dir",
                &state.to_string_lossy(),
            ],
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    // The long-lived threads ended up back where they were.
    let lists = allowed_lists(&pid);
    assert!(
        lists.iter().filter(|l| *l == "0-1").count() >= 5,
        "{lists:?}"
    );
}

#[test]
fn exec_binds_cpus_and_memory() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sys = split_host(dir.path());
    let root = sys.to_string_lossy();
    let out = govkit(
        Path::new("/"),
        &[
            "numa",
            "--sysfs-root",
            &root,
            "exec",
            "--node",
            "1",
            "--",
            "cat",
            "/proc/self/status",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Cpus_allowed_list:\t1\n"),
        "{}",
        stdout(&out)
    );

    // Memory binding needs a real node: node 0 of this host.
    let out = govkit(
        Path::new("/"),
        &[
            "numa",
            "exec",
            "--node",
            "0",
            "--membind",
            "--",
            "cat",
            "/proc/self/numa_maps",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).lines().any(|l| l.contains(" bind:0 ")),
        "{}",
        stdout(&out)
    );

    let out = govkit(
        Path::new("/"),
        &["numa", "exec", "--node", "7", "--", "true"],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("node 7 does not exist"),
        "{}",
        stderr(&out)
    );
}

fn apply_json(root: &str, pid: &str, state: &Path, extra: &[&str]) -> std::process::Output {
    let state = state.to_string_lossy();
    let mut args = vec![
        "numa",
        "--sysfs-root",
        root,
        "apply",
        pid,
        "--state-dir",
        &state,
        "--format",
        "json",
    ];
    args.extend(extra);
    govkit(Path::new("/"), &args)
}

/// Threads created after apply inherit their creator's pinned affinity;
/// revert sets them back too, and counts them apart.
#[test]
fn revert_restores_threads_created_after_apply() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sys = split_host(dir.path());
    let root = sys.to_string_lossy();
    let state = dir.path().join("state");
    let helper = Helper::start_mode("spawner", None);
    let pid = helper.pid();
    let out = apply_json(&root, &pid, &state, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pinned = json_of(&out)["pinned"].as_array().map_or(0, Vec::len);
    // Let the spawner create threads on the pinned CPU.
    std::thread::sleep(std::time::Duration::from_millis(400));
    let on_pinned = allowed_lists(&pid).iter().filter(|l| *l == "0").count();
    assert!(
        on_pinned > pinned,
        "{on_pinned} threads on CPU 0, {pinned} pinned"
    );
    let out = govkit(
        Path::new("/"),
        &[
            "numa",
            "revert",
            &pid,
            "--state-dir",
            &state.to_string_lossy(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc = json_of(&out);
    assert!(doc["born_since"].as_u64() >= Some(1), "{doc}");
    let lists = allowed_lists(&pid);
    assert!(lists.iter().all(|l| l == "0-1"), "{lists:?}");
}

/// A two-node-plus-memory topology over this host: node 0 memory only
/// (this host's real node 0 holds the memory), node 1 = CPU 0 at distance
/// 11 from it, node 2 = CPU 1 at distance 21.
fn memory_only_host(dir: &Path) -> PathBuf {
    fake_sysfs(
        dir,
        &[("", "10 11 21"), ("0", "11 10 20"), ("1", "21 20 10")],
    )
}

/// The plan goes with the CPU node nearest to memory on a CPU-less node;
/// when moving the memory then fails (the kernel has no node 1), apply
/// rolls the pinning back: every mask as it was, no record, exit 2.
#[test]
fn a_failing_apply_rolls_back_and_keeps_no_record() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sys = memory_only_host(dir.path());
    let root = sys.to_string_lossy();
    let state = dir.path().join("state");
    let helper = Helper::start(None);
    let pid = helper.pid();
    let plan = govkit(
        Path::new("/"),
        &["numa", "--sysfs-root", &root, "plan", &pid],
    );
    assert_eq!(code(&plan), 0, "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(text.contains("run on node 1"), "{text}");
    assert!(
        text.contains("at distance 11 from node 1 (21 from node 2)"),
        "{text}"
    );
    let before = allowed_lists(&pid);
    let out = apply_json(&root, &pid, &state, &["--migrate-memory"]);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    // No partial report: the JSON on stdout says the run stopped.
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap_or_default();
    assert_eq!(doc["ok"], false, "{}", stdout(&out));
    assert_eq!(doc["exit_code"], 2, "{doc}");
    let err = stderr(&out);
    assert!(err.contains("rolled back"), "{err}");
    assert!(err.contains("migrate_pages"), "{err}");
    assert_eq!(allowed_lists(&pid), before);
    assert!(
        !state.join(format!("{pid}.json")).exists(),
        "no record of a rolled-back apply"
    );
}

/// A record of a process that has exited: revert removes it and says so.
/// apply's undo hint carries the --state-dir it used; the dry run has
/// the real run's JSON shape.
#[test]
fn revert_clears_the_record_of_an_exited_process() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sys = split_host(dir.path());
    let root = sys.to_string_lossy();
    let state = dir.path().join("state");
    let state_s = state.to_string_lossy();
    let helper = Helper::start(None);
    let pid = helper.pid();
    let dry = json_of(&apply_json(&root, &pid, &state, &["--dry-run"]));
    let out = apply_json(&root, &pid, &state, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let real = json_of(&out);
    let keys = |v: &Value| -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(keys(&dry), keys(&real), "one JSON shape");
    assert_eq!(
        (dry["dry_run"].clone(), dry["changed"].clone()),
        (Value::Bool(true), Value::Bool(false))
    );
    assert_eq!(
        real["undo"],
        format!("govkit numa revert {pid} --state-dir {state_s}")
    );
    drop(helper);
    let out = govkit(
        Path::new("/"),
        &["numa", "revert", &pid, "--state-dir", &state_s],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("has exited since apply"),
        "{}",
        stdout(&out)
    );
    assert!(!state.join(format!("{pid}.json")).exists());
}

/// A kernel thread's PID (`PF_KTHREAD` in its flags), from /proc.
fn a_kernel_thread() -> u32 {
    const PF_KTHREAD: u64 = 0x0020_0000;
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().nth(6)?.parse::<u64>().ok())
                .is_some_and(|flags| flags & PF_KTHREAD != 0)
        })
        .unwrap_or_else(|| panic!("no kernel thread in /proc"))
}

/// Kernel threads and zombies are refused, naming what they are.
#[test]
fn kernel_threads_and_zombies_are_refused() {
    let kthread = a_kernel_thread();
    let out = govkit(Path::new("/"), &["numa", "apply", &kthread.to_string()]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("is a kernel thread"),
        "{}",
        stderr(&out)
    );

    let mut child = Command::new("true")
        .spawn()
        .unwrap_or_else(|e| panic!("true: {e}"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = govkit(Path::new("/"), &["numa", "apply", &child.id().to_string()]);
    let _ = child.wait(); // govkit: allow(let-underscore-result) -- reaping the zombie after the check
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("is a zombie"), "{}", stderr(&out));
}

/// `exec` answers as shells and numactl do when the command cannot run.
#[test]
fn exec_of_a_missing_command_is_127() {
    let out = govkit(
        Path::new("/"),
        &["numa", "exec", "--node", "0", "--", "/nonexistent/command"],
    );
    assert_eq!(code(&out), 127, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot run `/nonexistent/command`"),
        "{}",
        stderr(&out)
    );
}

/// Builds the C program at `source` with gcc (-pthread) next to it and
/// starts it; it prints "ready" once set up.
fn c_helper(source: &Path) -> Helper {
    use std::io::BufRead;
    let bin = source.with_extension("");
    let status = Command::new("gcc")
        .args(["-O1", "-pthread", "-o"])
        .arg(&bin)
        .arg(source)
        .status()
        .unwrap_or_else(|e| panic!("gcc: {e}"));
    assert!(status.success(), "gcc {}", source.display());
    let mut child = Command::new(&bin)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("stdout"));
    let mut lines = std::io::BufReader::new(stdout).lines();
    assert!(
        lines.any(|l| l.is_ok_and(|l| l == "ready")),
        "{} did not start",
        bin.display()
    );
    Helper(child)
}

/// A process whose leader thread has exited while its other threads run
/// (the leader is a zombie; `numa_maps` of the process reads empty): its
/// memory is read through a live thread, and apply pins the live threads.
#[test]
fn a_zombie_leader_with_live_threads_is_inspected_through_them() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let source = dir.path().join("leaderless.c");
    std::fs::write(
        &source,
        r#"#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static pthread_barrier_t started;
static void *work(void *arg) {
    char *block = malloc(8 << 20);
    memset(block, 1, 8 << 20);
    pthread_barrier_wait(&started);
    sleep(120);
    return block;
}
int main(void) {
    pthread_t t[3];
    pthread_barrier_init(&started, NULL, 4);
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, work, NULL);
    pthread_barrier_wait(&started);
    printf("ready\n");
    fflush(stdout);
    pthread_exit(NULL);
}
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let helper = c_helper(&source);
    let pid = helper.pid();
    // The leader is a zombie once pthread_exit has run.
    for _ in 0..50 {
        if std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .contains("State:\tZ")
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = govkit(
        Path::new("/"),
        &["numa", "inspect", &pid, "--format", "json"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc = json_of(&out);
    assert!(doc["memory_via_thread"].is_u64(), "{doc}");
    assert!(
        doc["memory_bytes"].as_u64().unwrap_or(0) >= 24 << 20,
        "three threads' 8 MiB each: {doc}"
    );
    let sys = split_host(dir.path());
    let state = dir.path().join("state");
    let out = apply_json(&sys.to_string_lossy(), &pid, &state, &[]);
    assert_eq!(code(&out), 0, "live threads are pinned: {}", stderr(&out));
}

/// `said` with the temporary directory, the PIDs of `names` and the
/// kernel thread's name `kcomm` replaced by placeholders.
fn anonymized(said: &str, tmp: &str, names: &[(&str, &str)], kcomm: &str) -> String {
    let mut said = said.replace(tmp, "TMP");
    for (id, name) in names {
        for (before, after) in [("process ", " "), ("process ", ":"), ("apply ", "`")] {
            said = said.replace(
                &format!("{before}{id}{after}"),
                &format!("{before}{name}{after}"),
            );
        }
    }
    said.replace(&format!("({kcomm})"), "(KTHREAD)")
}

/// What `numa` says when it refuses, rolls back or cannot run, as one
/// snapshot (PIDs and temporary paths replaced): every message names the
/// object and says what to do.
#[test]
fn numa_messages() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let memonly = memory_only_host(dir.path());
    let memonly = memonly.to_string_lossy().into_owned();
    let state = dir.path().join("state");
    let state = state.to_string_lossy().into_owned();
    let helper = Helper::start(None);
    let pid = helper.pid();
    let mut zombie = Command::new("true")
        .spawn()
        .unwrap_or_else(|e| panic!("true: {e}"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let zombie_pid = zombie.id().to_string();
    let kthread = a_kernel_thread().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["numa", "apply", &kthread],
        vec!["numa", "apply", &zombie_pid],
        vec![
            "numa",
            "--sysfs-root",
            &memonly,
            "apply",
            &pid,
            "--migrate-memory",
            "--state-dir",
            &state,
        ],
        vec![
            "numa",
            "--sysfs-root",
            &memonly,
            "exec",
            "--node",
            "0",
            "--membind",
            "--",
            "true",
        ],
        vec![
            "numa",
            "--sysfs-root",
            &memonly,
            "exec",
            "--node",
            "1",
            "--membind",
            "--",
            "true",
        ],
        vec!["numa", "exec", "--node", "0", "--", "/nonexistent/command"],
        vec!["numa", "--sysfs-root", "/nonexistent", "topology"],
        vec!["numa", "inspect", "4000000"],
        vec!["numa", "revert", &pid, "--state-dir", &state],
        vec!["numa", "inspect", &pid, "--format", "sarif"],
    ];
    let tmp = dir.path().to_string_lossy().into_owned();
    let kcomm = std::fs::read_to_string(format!("/proc/{kthread}/comm")).unwrap_or_default();
    let names = [
        (kthread.as_str(), "KTHREAD_PID"),
        (zombie_pid.as_str(), "ZOMBIE_PID"),
        (pid.as_str(), "PID"),
    ];
    let mut text = String::new();
    for args in &cases {
        let out = govkit(Path::new("/"), args);
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                names
                    .iter()
                    .find(|(id, _)| id == a)
                    .map_or_else(|| a.replace(&tmp, "TMP"), |(_, name)| (*name).to_owned())
            })
            .collect();
        let said = anonymized(stderr(&out).trim_end(), &tmp, &names, kcomm.trim());
        writeln!(
            text,
            "$ govkit {}\nexit {}\n{said}",
            shown.join(" "),
            code(&out)
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let _ = zombie.wait(); // govkit: allow(let-underscore-result) -- reaping the zombie after the checks
    // The helper's thread count depends on the test harness.
    if let Some(at) = text.find("rolled back (") {
        let start = at + "rolled back (".len();
        let digits = text[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        text.replace_range(start..start + digits, "N");
    }
    insta::assert_snapshot!(text);
}

/// A process that dies while apply pins it (a C program whose first
/// thread exits the process as soon as it sees its own affinity narrowed,
/// with 1,000 more threads for apply to get through): apply reports the
/// death, claims nothing, and keeps no record.
#[test]
fn a_process_that_dies_during_apply_gets_no_success_and_no_record() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let source = dir.path().join("dies.c");
    std::fs::write(
        &source,
        r#"#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
static pthread_barrier_t started;
static void *watch(void *arg) {
    cpu_set_t first, now;
    sched_getaffinity(0, sizeof first, &first);
    pthread_barrier_wait(&started);
    for (;;) {
        sched_getaffinity(0, sizeof now, &now);
        if (CPU_COUNT(&now) < CPU_COUNT(&first))
            _exit(0);
    }
}
static void *idle(void *arg) {
    pthread_barrier_wait(&started);
    pause();
    return arg;
}
int main(void) {
    enum { IDLE = 1000 };
    pthread_t t;
    pthread_barrier_init(&started, NULL, IDLE + 2);
    pthread_create(&t, NULL, watch, NULL);
    for (int i = 0; i < IDLE; i++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 65536);
        pthread_create(&t, &a, idle, NULL);
    }
    pthread_barrier_wait(&started);
    printf("ready\n");
    fflush(stdout);
    pause();
}
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let helper = c_helper(&source);
    let pid = helper.pid();
    let sys = split_host(dir.path());
    let state = dir.path().join("state");
    let out = apply_json(&sys.to_string_lossy(), &pid, &state, &[]);
    assert_eq!(code(&out), 2, "{}{}", stdout(&out), stderr(&out));
    // No success claimed: the JSON on stdout says the run stopped.
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap_or_default();
    assert_eq!(doc["ok"], false, "{}", stdout(&out));
    assert_eq!(doc["exit_code"], 2, "{doc}");
    assert!(
        stderr(&out).contains(&format!("process {pid} exited during apply")),
        "{}",
        stderr(&out)
    );
    assert!(
        !state.join(format!("{pid}.json")).exists(),
        "no record left"
    );
}
