//! `Tracer::set_hooks_attached`, which the lock-in overhead measurement
//! (`examples/hook_toggle.rs`) relies on: a detached hook runs for nothing
//! on the host, attached again it runs. Loads the real programs: root, and
//! the committed eBPF object (tracebpf/objects/).
#![allow(
    clippy::unwrap_used,
    reason = "test: a failed step is a failed test, with its message"
)]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::Duration;

use tracebpf::connections::{Options, Tracer};

/// One loopback connection, opened and closed (about ten state changes,
/// one connect).
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
    // The hook that sees sockets open: the raw tracepoint on every state
    // change, or (cgroup hooks with sock_diag, no state hook) the cgroup
    // connect hooks, which count govkit's own connects too.
    let states = tracer
        .hooks
        .iter()
        .any(|h| h == "raw_tracepoint/inet_sock_set_state");
    assert!(
        states || tracer.hooks.iter().any(|h| h == "cgroup/connect4"),
        "{:?}",
        tracer.hooks
    );
    let (prefix, per_connection) = if states {
        ("raw_tracepoint/", 3)
    } else {
        ("cgroup/connect", 1)
    };
    let events = |t: &Tracer| {
        let c = t.counters();
        c.state_changes + c.cgroup_connects
    };

    tracer.set_hooks_attached(prefix, false).unwrap();
    let detached = events(&tracer);
    for _ in 0..20 {
        connection();
    }
    // Not running anywhere on the host: not one event, whoever made it.
    assert_eq!(events(&tracer), detached);

    tracer.set_hooks_attached(prefix, true).unwrap();
    // Attaching what is attached already does nothing (and is no error).
    tracer.set_hooks_attached("", true).unwrap();
    for _ in 0..20 {
        connection();
    }
    let attached = events(&tracer);
    assert!(
        attached >= detached + 20 * per_connection,
        "{attached} events after attaching again, {detached} before"
    );
}
