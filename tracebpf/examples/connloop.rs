//! Load for the tracer's overhead measurement: a CPU-saturated loopback
//! connect/close loop. One thread busy-polls a non-blocking listener
//! (accept, close); the main thread connects and closes as fast as it can.
//! Prints connections per second over the run.
//!
//! Usage: connloop SECONDS
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let secs: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let server_stop = Arc::clone(&stop);
    let server = std::thread::spawn(move || {
        while !server_stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((s, _)) => drop(s),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::hint::spin_loop(),
                Err(_) => {}
            }
        }
    });
    let start = Instant::now();
    let deadline = Duration::from_secs_f64(secs);
    let mut n: u64 = 0;
    while start.elapsed() < deadline {
        let s = TcpStream::connect(addr)?;
        // Close with RST-free FIN; SO_LINGER stays default.
        drop(s);
        n += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = server.join();
    println!("{:.0}", n as f64 / elapsed);
    Ok(())
}
