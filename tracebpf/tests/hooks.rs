//! `Tracer::set_hooks_attached`, which the lock-in overhead measurement
//! (`examples/hook_toggle.rs`) relies on: a detached hook runs for nothing
//! on the host, attached again it runs. Loads the real programs: root, and
//! the eBPF object built (`cargo xtask build-ebpf`).
#![allow(
    clippy::unwrap_used,
    reason = "test: a failed step is a failed test, with its message"
)]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::Duration;

use tracebpf::connections::{Options, Tracer};

/// One loopback connection, opened and closed (about ten state changes).
fn connection() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    drop((client, server, listener));
}

#[test]
fn a_detached_state_hook_sees_no_state_change_and_attached_again_it_does() {
    let mut tracer = Tracer::start(Options {
        min_age: Duration::from_hours(1),
        ..Options::default()
    })
    .unwrap();
    assert!(
        tracer
            .hooks
            .contains(&"raw_tracepoint/inet_sock_set_state".to_owned()),
        "{:?}",
        tracer.hooks
    );
    let changes = |t: &Tracer| t.counters().state_changes;

    tracer.set_hooks_attached("raw_tracepoint/", false).unwrap();
    let detached = changes(&tracer);
    for _ in 0..20 {
        connection();
    }
    // Not running anywhere on the host: not one change, whoever made it.
    assert_eq!(changes(&tracer), detached);

    tracer.set_hooks_attached("raw_tracepoint/", true).unwrap();
    // Attaching what is attached already does nothing (and is no error).
    tracer.set_hooks_attached("", true).unwrap();
    for _ in 0..20 {
        connection();
    }
    let attached = changes(&tracer);
    assert!(
        attached >= detached + 20 * 4,
        "{attached} state changes after attaching again, {detached} before"
    );
}
