//! NUMA behaviour on emulated multi-node hosts: these tests run inside the
//! QEMU guests that `cargo xtask vm-test` boots (2 nodes, 4 nodes, a
//! CPU-less memory node), where the kernel really has several nodes. On
//! any other machine they are ignored; `GOVKIT_VM_TOPOLOGY` names the
//! guest's topology so each test knows what to expect.

#![expect(clippy::expect_used, reason = "test helpers stop on setup failure")]

use std::path::Path;

use numa_tune::cpulist::CpuSet;
use numa_tune::{Topology, hook, process, sys};

/// `(node, cpus, distances)` the guest was booted with.
fn expected() -> Vec<(u32, &'static str, Vec<u32>)> {
    match std::env::var("GOVKIT_VM_TOPOLOGY").as_deref() {
        Ok("2node") => vec![(0, "0-1", vec![10, 21]), (1, "2-3", vec![21, 10])],
        Ok("4node") => vec![
            (0, "0", vec![10, 21, 31, 31]),
            (1, "1", vec![21, 10, 31, 31]),
            (2, "2", vec![31, 31, 10, 21]),
            (3, "3", vec![31, 31, 21, 10]),
        ],
        Ok("memonly") => vec![
            (0, "0-1", vec![10, 21, 17]),
            (1, "2-3", vec![21, 10, 28]),
            (2, "", vec![17, 28, 10]),
        ],
        other => panic!("GOVKIT_VM_TOPOLOGY is {other:?}: run these through `cargo xtask vm-test`"),
    }
}

#[test]
#[ignore = "runs inside the VM suite (cargo xtask vm-test)"]
fn topology_is_the_guests() {
    let topo = Topology::read(Path::new("/sys")).expect("topology");
    let got: Vec<(u32, String, Vec<u32>)> = topo
        .nodes
        .iter()
        .map(|n| (n.id, n.cpus.to_string(), n.distances.clone()))
        .collect();
    let want: Vec<(u32, String, Vec<u32>)> = expected()
        .into_iter()
        .map(|(id, cpus, d)| (id, cpus.to_owned(), d))
        .collect();
    assert_eq!(got, want);
    for n in &topo.nodes {
        assert!(
            n.memory_bytes > 100 << 20,
            "node {} memory {}",
            n.id,
            n.memory_bytes
        );
    }
}

fn current_cpu() -> u32 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("stat");
    process::stat_processor(&stat).expect("processor field")
}

#[test]
#[ignore = "runs inside the VM suite (cargo xtask vm-test)"]
fn threads_pin_to_each_node_and_run_there() {
    let topo = Topology::read(Path::new("/sys")).expect("topology");
    for node in topo.nodes.iter().filter(|n| !n.cpus.is_empty()) {
        let id = node.id;
        let cpus = node.cpus.clone();
        std::thread::spawn(move || {
            let pinned = hook::pin_current_thread_to_node(id).expect("pin");
            assert_eq!(pinned, cpus);
            assert_eq!(sys::get_affinity(0).expect("affinity"), cpus);
            for _ in 0..50 {
                std::thread::yield_now();
                let cpu = current_cpu();
                assert!(cpus.contains(cpu), "node {id}: ran on CPU {cpu}");
            }
        })
        .join()
        .expect("pinned thread");
    }
    // The spreader hands out every node with CPUs, round-robin.
    let spread = std::sync::Arc::new(hook::Spreader::new().expect("spreader"));
    let nodes: Vec<Option<u32>> = (0..spread.nodes().len() * 2)
        .map(|_| {
            let s = std::sync::Arc::clone(&spread);
            std::thread::spawn(move || s.pin_next())
                .join()
                .expect("thread")
        })
        .collect();
    let want: Vec<Option<u32>> = spread
        .nodes()
        .iter()
        .chain(&spread.nodes())
        .map(|n| Some(*n))
        .collect();
    assert_eq!(nodes, want);
}

/// Allocates and touches `mib` MiB under `MPOL_BIND` to `node`, in a
/// thread so the policy does not leak into the test harness. Buffers are
/// 40 MiB, above glibc's largest dynamic mmap threshold (32 MiB), so every
/// buffer is a fresh mapping: a smaller one may reuse heap pages first
/// touched under another policy.
const BUFFER_MIB: u64 = 40;

fn bound_buffer(node: u32, mib: u64) -> Vec<u8> {
    std::thread::spawn(move || {
        sys::bind_memory(&CpuSet::from_ids([node])).expect("set_mempolicy");
        let mut buf = vec![0u8; usize::try_from(mib << 20).expect("fits")];
        // Touch every page the buffer spans, the partial last one too.
        for i in (0..buf.len()).step_by(4096) {
            buf[i] = 1;
        }
        if let Some(last) = buf.last_mut() {
            *last = 1;
        }
        sys::reset_memory_policy().expect("reset");
        buf
    })
    .join()
    .expect("allocating thread")
}

#[test]
#[ignore = "runs inside the VM suite (cargo xtask vm-test)"]
fn membind_puts_pages_on_the_node() {
    let topo = Topology::read(Path::new("/sys")).expect("topology");
    for node in &topo.nodes {
        let buf = bound_buffer(node.id, BUFFER_MIB);
        let where_ = sys::page_nodes(&buf).expect("move_pages");
        let id = i32::try_from(node.id).expect("small id");
        let off: Vec<&i32> = where_.iter().filter(|n| **n != id).collect();
        assert!(
            off.is_empty(),
            "node {}: {} of {} pages elsewhere: {:?}",
            node.id,
            off.len(),
            where_.len(),
            &off[..off.len().min(5)]
        );
    }
}

#[test]
#[ignore = "runs inside the VM suite (cargo xtask vm-test)"]
fn migrate_pages_moves_a_process_to_another_node() {
    let topo = Topology::read(Path::new("/sys")).expect("topology");
    let (first, last) = (topo.nodes[0].id, topo.nodes[topo.nodes.len() - 1].id);
    let buf = bound_buffer(first, BUFFER_MIB);
    assert!(
        sys::page_nodes(&buf)
            .expect("query")
            .iter()
            .all(|n| *n == i32::try_from(first).expect("id"))
    );
    let stuck = sys::migrate_pages(
        std::process::id(),
        &CpuSet::from_ids([first]),
        &CpuSet::from_ids([last]),
    )
    .expect("migrate_pages");
    let now = sys::page_nodes(&buf).expect("query");
    let moved = now
        .iter()
        .filter(|n| **n == i32::try_from(last).expect("id"))
        .count();
    assert_eq!(
        moved,
        now.len(),
        "{stuck} pages reported stuck; now on {:?}",
        &now[..now.len().min(8)]
    );
}

#[test]
#[ignore = "runs inside the VM suite (cargo xtask vm-test)"]
fn placement_counts_memory_per_node() {
    let topo = Topology::read(Path::new("/sys")).expect("topology");
    let last = topo.nodes[topo.nodes.len() - 1].id;
    let buf = bound_buffer(last, BUFFER_MIB);
    let p =
        process::inspect(&process::Roots::default(), &topo, std::process::id()).expect("inspect");
    let on_last = p.memory_by_node.get(&last).copied().unwrap_or(0);
    assert!(
        on_last >= 16 << 20,
        "node {last}: {on_last} bytes; {:?}",
        p.memory_by_node
    );
    drop(buf);
}

/// The harness's own check: run with `GOVKIT_VM_CANARY=1`, this must fail,
/// and `cargo xtask vm-test` fails if it does not (a suite that cannot fail
/// proves nothing).
#[test]
#[ignore = "runs inside the VM suite (cargo xtask vm-test)"]
fn canary() {
    assert!(
        std::env::var_os("GOVKIT_VM_CANARY").is_none(),
        "deliberately broken test: the VM harness must report this failure"
    );
}

/// The govkit binary the VM harness copied into the guest.
fn govkit(args: &[&str]) -> std::process::Output {
    let bin = std::env::var_os("GOVKIT_BIN").expect("GOVKIT_BIN (set by cargo xtask vm-test)");
    std::process::Command::new(bin)
        .args(args)
        .output()
        .expect("run govkit")
}

fn status_field(pid: &str, name: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("status")
        .lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .map(|v| v.trim_start_matches(':').trim().to_owned())
        })
        .expect("field")
}

#[test]
#[ignore = "runs inside the VM suite (cargo xtask vm-test)"]
fn govkit_exec_binds_cpus_and_memory_on_every_node() {
    let topo = Topology::read(Path::new("/sys")).expect("topology");
    for node in topo.nodes.iter().filter(|n| !n.cpus.is_empty()) {
        let id = node.id.to_string();
        let out = govkit(&[
            "numa",
            "exec",
            "--node",
            &id,
            "--membind",
            "--",
            "cat",
            "/proc/self/status",
            "/proc/self/numa_maps",
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains(&format!("Cpus_allowed_list:\t{}\n", node.cpus)),
            "node {id}: {text}"
        );
        assert!(text.contains(&format!(" bind:{id} ")), "node {id}: {text}");
    }
    if let Some(memonly) = topo.nodes.iter().find(|n| n.cpus.is_empty()) {
        let out = govkit(&[
            "numa",
            "exec",
            "--node",
            &memonly.id.to_string(),
            "--",
            "true",
        ]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "a memory-only node has no CPUs to run on"
        );
    }
}

#[test]
#[ignore = "runs inside the VM suite (cargo xtask vm-test)"]
fn govkit_apply_pins_a_live_process_and_revert_restores_it() {
    let topo = Topology::read(Path::new("/sys")).expect("topology");
    let mut child = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("sleep");
    let pid = child.id().to_string();
    let before = status_field(&pid, "Cpus_allowed_list");
    let out = govkit(&[
        "numa",
        "apply",
        &pid,
        "--state-dir",
        "/tmp/govkit-numa",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = String::from_utf8_lossy(&out.stdout).into_owned();
    let node: u32 = doc
        .split("\"node\":")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no node in {doc}"));
    let cpus = topo.node(node).expect("planned node").cpus.to_string();
    assert_eq!(status_field(&pid, "Cpus_allowed_list"), cpus, "{doc}");
    let out = govkit(&["numa", "revert", &pid, "--state-dir", "/tmp/govkit-numa"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(status_field(&pid, "Cpus_allowed_list"), before);
    child.kill().expect("kill sleep");
    child.wait().expect("reap sleep");
}

/// Re-run of this test binary as a process that keeps creating threads
/// (`GOVKIT_VM_SPAWNER` set): prints "ready", then starts a long-lived
/// thread every 10 ms, 100 in all. Without the variable it does nothing.
#[test]
#[ignore = "runs inside the VM suite (cargo xtask vm-test)"]
fn vm_thread_spawner() {
    if std::env::var_os("GOVKIT_VM_SPAWNER").is_none() {
        return;
    }
    let block = vec![1u8; 4 << 20];
    std::hint::black_box(&block);
    #[expect(clippy::print_stdout, reason = "the parent waits for this line")]
    {
        println!("ready");
    }
    let spawner = std::thread::spawn(|| {
        let mut held = Vec::new();
        for _ in 0..100 {
            held.push(std::thread::spawn(|| {
                std::thread::sleep(std::time::Duration::from_mins(1));
            }));
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        for h in held {
            h.join().expect("sleeper thread");
        }
    });
    spawner.join().expect("spawner thread");
}

/// On a real multi-node kernel: threads created after apply inherit the
/// pinned affinity, and revert brings every one of them back, counted.
#[test]
#[ignore = "runs inside the VM suite (cargo xtask vm-test)"]
fn govkit_revert_restores_threads_created_after_apply() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["vm_thread_spawner", "--exact", "--ignored", "--nocapture"])
        .env("GOVKIT_VM_SPAWNER", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawner");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    assert!(lines.any(|l| l.is_ok_and(|l| l.contains("ready"))));
    let pid = child.id().to_string();
    let before = status_field(&pid, "Cpus_allowed_list");
    let state = ["--state-dir", "/tmp/govkit-numa-spawner"];
    let out = govkit(&[&["numa", "apply", &pid][..], &state[..]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let lists = |pid: &str| -> Vec<String> {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .expect("task")
            .flatten()
            .map(|t| {
                status_field(
                    &format!("{pid}/task/{}", t.file_name().to_string_lossy()),
                    "Cpus_allowed_list",
                )
            })
            .collect()
    };
    let pinned = lists(&pid).iter().filter(|l| **l != before).count();
    let out = govkit(
        &[
            &["numa", "revert", &pid, "--format", "json"][..],
            &state[..],
        ]
        .concat(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        pinned > 2,
        "threads created after apply run pinned: {pinned}"
    );
    assert!(!doc.contains("\"born_since\":0"), "{doc}");
    let after = lists(&pid);
    assert!(after.iter().all(|l| *l == before), "{before}: {after:?}");
    child.kill().expect("kill spawner");
    child.wait().expect("reap spawner");
}
