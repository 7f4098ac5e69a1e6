//! The scheduler tracer's per-process table on this host's kernel: slots
//! of exited processes are zeroed and handed to new processes, whose
//! figures are then their own.
use std::process::{Command, Stdio};
use std::time::Duration;

use tracebpf::sched::{Options, SchedTracer};

/// Context switches of a live process, from the kernel (`/proc/PID/status`).
fn proc_switches(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(
        status
            .lines()
            .filter(|l| l.contains("ctxt_switches"))
            .filter_map(|l| l.split(':').nth(1)?.trim().parse::<u64>().ok())
            .sum(),
    )
}

#[test]
fn freed_slots_come_back_zeroed_to_new_processes() {
    assert!(
        tracebpf::programs_embedded(),
        "built without the eBPF programs (tracebpf/objects/)"
    );
    let mut tracer = SchedTracer::start(Options::default()).unwrap_or_else(|e| panic!("{e}"));
    // Short-lived processes that switch often: a shell that waits for
    // 60 children.
    let status = Command::new("sh")
        .args(["-c", "for i in $(seq 60); do sleep 0.002; done"])
        .status()
        .unwrap_or_else(|e| panic!("sh: {e}"));
    assert!(status.success());
    let gone = tracer.forget_exited(&tracer.snapshot());
    assert!(
        gone.len() >= 60,
        "{} exited processes forgotten",
        gone.len()
    );
    // Their slots are zeroed and freed one interval later.
    tracer.forget_exited(&tracer.snapshot());
    let used = tracer.slots_used();
    // New processes: children that block at once and stay blocked.
    let mut children: Vec<_> = (0..20)
        .map(|_| {
            Command::new("sleep")
                .arg("30")
                .stdout(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("sleep: {e}"))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let snapshot = tracer.snapshot();
    let report = tracer.report(&snapshot, None);
    for child in &children {
        let pid = child.id();
        let kernel = proc_switches(pid).unwrap_or_else(|| panic!("/proc/{pid}/status"));
        let ours = report
            .processes
            .iter()
            .find(|p| p.pid == pid)
            .unwrap_or_else(|| panic!("no entry for child {pid}"));
        // Seen from its first switch: never more than the kernel counted,
        // which a reused slot that was not zeroed would add to.
        assert!(
            (1..=kernel).contains(&ours.context_switches),
            "child {pid}: govkit {} switches, the kernel {kernel}",
            ours.context_switches
        );
        assert_eq!(ours.comm, "sleep");
    }
    // Their slots came from the freed ones, not from the unused end.
    assert_eq!(tracer.slots_used(), used, "new slots instead of freed ones");
    for child in &mut children {
        child.kill().unwrap_or_default();
        child.wait().unwrap_or_else(|e| panic!("{e}"));
    }
}
