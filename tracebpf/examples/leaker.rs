//! A process that leaks TCP connections on purpose, for the tracer's tests.
//!
//! Protocol on stdin/stdout: prints `ready PID`, leaks one accepted socket
//! at once (before any tracer runs), then waits for a line `go` and leaks
//! `ACCEPTS` accepted IPv4 sockets (`leak_accepted`) and `CONNECTS`
//! connected IPv6 sockets (`leak_connected`), prints `leaked`, and sleeps
//! until stdin closes. Every leaked socket ends in CLOSE_WAIT: its peer
//! (in this process) closes, the leaking side never does.
//!
//! Usage: leaker [ACCEPTS] [CONNECTS]
use std::io::{BufRead, Write};
use std::net::{Ipv6Addr, TcpListener, TcpStream};

#[inline(never)]
fn leak_accepted(listener: &TcpListener, held: &mut Vec<TcpStream>) -> std::io::Result<()> {
    let peer = TcpStream::connect(listener.local_addr()?)?;
    let (accepted, _) = listener.accept()?;
    held.push(std::hint::black_box(accepted));
    drop(peer); // the peer hangs up; `accepted` is never closed
    Ok(())
}

#[inline(never)]
fn leak_connected(listener: &TcpListener, held: &mut Vec<TcpStream>) -> std::io::Result<()> {
    let stream = TcpStream::connect(listener.local_addr()?)?;
    let (peer, _) = listener.accept()?;
    held.push(std::hint::black_box(stream));
    drop(peer);
    Ok(())
}

#[inline(never)]
fn leak_before_tracing(listener: &TcpListener, held: &mut Vec<TcpStream>) -> std::io::Result<()> {
    leak_accepted(listener, held)
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().unwrap_or(0));
    let accepts = args.next().unwrap_or(3);
    let connects = args.next().unwrap_or(2);
    let v4 = TcpListener::bind("127.0.0.1:0")?;
    let v6 = TcpListener::bind((Ipv6Addr::LOCALHOST, 0))?;
    let mut held = Vec::new();
    leak_before_tracing(&v4, &mut held)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {}", std::process::id())?;
    out.flush()?;
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    while let Some(line) = lines.next().transpose()? {
        if line.trim() == "go" {
            break;
        }
    }
    for _ in 0..accepts {
        leak_accepted(&v4, &mut held)?;
    }
    for _ in 0..connects {
        leak_connected(&v6, &mut held)?;
    }
    writeln!(out, "leaked {}", held.len())?;
    out.flush()?;
    // Hold everything until the test closes stdin.
    for _ in lines {}
    drop(held);
    Ok(())
}
