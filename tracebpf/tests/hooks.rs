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

/// One loopback connection, opened and closed (about ten state changes,
/// three sockets destroyed).
fn connection() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    drop((client, server, listener));
}

#[test]
fn a_detached_lifecycle_hook_sees_nothing_and_attached_again_it_does() {
    let mut tracer = Tracer::start(Options {
        min_age: Duration::from_hours(1),
        ..Options::default()
    })
    .unwrap();
    // The raw tracepoint that follows sockets: every state change, or
    // (cgroup hooks with sock_diag) each socket's destruction.
    assert!(
        tracer
            .hooks
            .iter()
            .any(|h| h == "raw_tracepoint/inet_sock_set_state"
                || h == "raw_tracepoint/tcp_destroy_sock"),
        "{:?}",
        tracer.hooks
    );
    let events = |t: &Tracer| {
        let c = t.counters();
        c.state_changes + c.destroys
    };

    tracer.set_hooks_attached("raw_tracepoint/", false).unwrap();
    let detached = events(&tracer);
    for _ in 0..20 {
        connection();
    }
    // Not running anywhere on the host: not one event, whoever made it.
    assert_eq!(events(&tracer), detached);

    tracer.set_hooks_attached("raw_tracepoint/", true).unwrap();
    // Attaching what is attached already does nothing (and is no error).
    tracer.set_hooks_attached("", true).unwrap();
    for _ in 0..20 {
        connection();
    }
    let attached = events(&tracer);
    assert!(
        attached >= detached + 20 * 3,
        "{attached} events after attaching again, {detached} before"
    );
}
