//! TCP sockets from the kernel through `NETLINK_SOCK_DIAG` (what `ss`
//! uses): how long each ESTABLISHED socket has been idle, from `tcp_info`
//! (`ss -ti`'s `lastsnd`/`lastrcv`), for `govkit trace connections --idle`;
//! which sockets are in `CLOSE_WAIT`, for the ones the tracer did not see
//! opening. The kernel filters by state: no text to parse, unlike
//! /proc/net/tcp.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use govkit_ebpf_common::tcp_state;
use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP};
use netlink_packet_sock_diag::inet::{
    ExtensionFlags, InetRequest, InetResponse, SocketId, StateFlags, nlas::Nla,
};
use netlink_sys::{Socket, SocketAddr as NlAddr, protocols::NETLINK_SOCK_DIAG};

/// An ESTABLISHED socket's inode and idle time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Idle {
    pub inode: u64,
    /// Milliseconds since data was last sent or received, whichever is
    /// more recent.
    pub idle_ms: u64,
}

/// Offsets of `tcpi_last_data_sent` and `tcpi_last_data_recv` in `struct
/// tcp_info` (stable UAPI since 2.6).
const LAST_DATA_SENT: usize = 44;
const LAST_DATA_RECV: usize = 52;

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_ne_bytes)
}

/// Idle time from a raw `tcp_info`.
#[must_use]
pub fn idle_ms(tcp_info: &[u8]) -> Option<u64> {
    let sent = u32_at(tcp_info, LAST_DATA_SENT)?;
    let recv = u32_at(tcp_info, LAST_DATA_RECV)?;
    Some(u64::from(sent.min(recv)))
}

/// Offset of `tcpi_last_ack_recv`: for a socket in `CLOSE_WAIT` whose owner
/// sends nothing, the peer's FIN was the last packet acknowledged, so this
/// is (to the jiffy) how long it has been in `CLOSE_WAIT`.
const LAST_ACK_RECV: usize = 56;

/// A TCP socket as `sock_diag` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagSocket {
    pub inode: u64,
    /// The kernel's socket cookie (`bpf_get_socket_cookie` in BPF).
    pub cookie: u64,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// TCP state (the kernel's numbering, as in /proc/net/tcp).
    pub state: u8,
    /// Milliseconds since data was last sent or received (`tcp_info`).
    pub idle_ms: Option<u64>,
    /// Milliseconds since an ACK was last received (`tcp_info`).
    pub last_ack_ms: Option<u64>,
}

/// Every TCP socket (IPv4 and IPv6) in `states`, with its `tcp_info` times.
pub fn sockets(states: &StateFlags) -> std::io::Result<Vec<DiagSocket>> {
    list(states, &ExtensionFlags::INFO)
}

/// Every TCP socket (IPv4 and IPv6) in `states`; `tcp_info` times only
/// when `extensions` asks for them.
fn list(states: &StateFlags, extensions: &ExtensionFlags) -> std::io::Result<Vec<DiagSocket>> {
    let mut out = Vec::new();
    for family in [AF_INET, AF_INET6] {
        dump(family, states.clone(), extensions.clone(), |r| {
            let id = &r.header.socket_id;
            let info = r.nlas.iter().find_map(|n| match n {
                Nla::TcpInfo(info) => Some(info.as_slice()),
                _ => None,
            });
            // Two native-endian u32 halves, low first (sock_diag_save_cookie).
            let half = |at: usize| {
                u64::from(u32::from_ne_bytes([
                    id.cookie[at],
                    id.cookie[at + 1],
                    id.cookie[at + 2],
                    id.cookie[at + 3],
                ]))
            };
            out.push(DiagSocket {
                inode: u64::from(r.header.inode),
                cookie: half(0) | half(4) << 32,
                local: SocketAddr::new(id.source_address, id.source_port),
                remote: SocketAddr::new(id.destination_address, id.destination_port),
                state: r.header.state,
                idle_ms: info.and_then(idle_ms),
                last_ack_ms: info.and_then(|i| u32_at(i, LAST_ACK_RECV)).map(u64::from),
            });
        })?;
    }
    Ok(out)
}

/// Every ESTABLISHED TCP socket (IPv4 and IPv6) by (local, remote).
pub fn established() -> std::io::Result<HashMap<(SocketAddr, SocketAddr), Idle>> {
    Ok(idle_by_endpoints(&sockets(&StateFlags::ESTABLISHED)?))
}

/// The ESTABLISHED sockets among `sockets` by (local, remote), with their
/// idle times.
#[must_use]
pub fn idle_by_endpoints(sockets: &[DiagSocket]) -> HashMap<(SocketAddr, SocketAddr), Idle> {
    sockets
        .iter()
        .filter(|s| s.state == tcp_state::ESTABLISHED)
        .filter_map(|s| {
            let idle_ms = s.idle_ms?;
            Some((
                (s.local, s.remote),
                Idle {
                    inode: s.inode,
                    idle_ms,
                },
            ))
        })
        .collect()
}

/// Inodes of every TCP socket (IPv4 and IPv6) in `CLOSE_WAIT`.
pub fn close_wait() -> std::io::Result<HashSet<u64>> {
    Ok(list(&StateFlags::CLOSE_WAIT, &ExtensionFlags::empty())?
        .into_iter()
        .map(|s| s.inode)
        .collect())
}

/// One `inet_diag` dump of TCP sockets of `family` in `states`.
fn dump(
    family: u8,
    states: StateFlags,
    extensions: ExtensionFlags,
    mut each: impl FnMut(&InetResponse),
) -> std::io::Result<()> {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
    socket.bind_auto()?;
    socket.connect(&NlAddr::new(0, 0))?;
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let mut packet = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions,
            states,
            socket_id: if family == AF_INET {
                SocketId::new_v4()
            } else {
                SocketId::new_v6()
            },
        })
        .into(),
    );
    packet.finalize();
    let mut buf = vec![0; packet.buffer_len()];
    packet.serialize(&mut buf[..]);
    socket.send(&buf, 0)?;
    let mut rx = vec![0u8; 1 << 16];
    loop {
        rx.clear();
        let n = socket.recv(&mut rx, 0)?;
        if n == 0 {
            return Ok(());
        }
        let mut at = 0;
        while at < n {
            let msg = <NetlinkMessage<SockDiagMessage>>::deserialize(&rx[at..n])
                .map_err(|e| std::io::Error::other(format!("sock_diag reply: {e}")))?;
            let len = msg.header.length as usize;
            match msg.payload {
                NetlinkPayload::Done(_) => return Ok(()),
                NetlinkPayload::Error(e) => {
                    return Err(std::io::Error::other(format!("sock_diag: {e}")));
                }
                NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(r)) => each(&r),
                _ => {}
            }
            if len == 0 {
                break;
            }
            at += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::time::Duration;

    #[test]
    fn idle_is_the_more_recent_of_send_and_receive() {
        let mut info = vec![0u8; 104];
        info[LAST_DATA_SENT..LAST_DATA_SENT + 4].copy_from_slice(&5000u32.to_ne_bytes());
        info[LAST_DATA_RECV..LAST_DATA_RECV + 4].copy_from_slice(&1200u32.to_ne_bytes());
        assert_eq!(idle_ms(&info), Some(1200));
        assert_eq!(idle_ms(&info[..50]), None);
    }

    #[test]
    fn a_quiet_connection_is_idle_and_a_busy_one_is_not() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let quiet = std::net::TcpStream::connect(addr).unwrap();
        let (_quiet_peer, _) = listener.accept().unwrap();
        let mut busy = std::net::TcpStream::connect(addr).unwrap();
        let (mut busy_peer, _) = listener.accept().unwrap();
        let mut b = [0u8; 1];
        for _ in 0..6 {
            std::thread::sleep(Duration::from_millis(100));
            busy.write_all(b"x").unwrap();
            busy_peer.read_exact(&mut b).unwrap();
        }
        let all = established().unwrap();
        let q = all[&(quiet.local_addr().unwrap(), addr)];
        let k = all[&(busy.local_addr().unwrap(), addr)];
        assert!(q.idle_ms >= 500, "{q:?}");
        assert!(k.idle_ms < 500, "{k:?}");
        assert_ne!(q.inode, 0);
    }

    #[test]
    fn a_socket_whose_peer_closed_is_in_close_wait() {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::MetadataExt;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (peer, _) = listener.accept().unwrap();
        let inode = |s: &std::net::TcpStream| {
            std::fs::metadata(format!("/proc/self/fd/{}", s.as_raw_fd()))
                .unwrap()
                .ino()
        };
        let (open_inode, peer_inode) = (inode(&open), inode(&peer));
        assert!(!close_wait().unwrap().contains(&open_inode));
        drop(peer);
        let mut seen = false;
        for _ in 0..50 {
            if close_wait().unwrap().contains(&open_inode) {
                seen = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(seen, "socket {open_inode} never listed in CLOSE_WAIT");
        assert!(!close_wait().unwrap().contains(&peer_inode));
    }

    #[test]
    fn close_wait_sockets_carry_their_cookie_and_time_since_the_fin() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (peer, _) = listener.accept().unwrap();
        let cookie = rustix::net::sockopt::socket_cookie(&open).unwrap();
        drop(peer);
        std::thread::sleep(Duration::from_millis(700));
        let local = open.local_addr().unwrap();
        let listed = sockets(&StateFlags::CLOSE_WAIT).unwrap();
        let s = listed
            .iter()
            .find(|s| s.local == local)
            .unwrap_or_else(|| panic!("{local} not in CLOSE_WAIT: {listed:?}"));
        assert_eq!(s.cookie, cookie);
        let since_fin = s.last_ack_ms.unwrap();
        assert!((600..5_000).contains(&since_fin), "{s:?}");
    }
}
