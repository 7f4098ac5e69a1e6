//! The kernel side's socket records (the `SLOTS` array and the `SOCKS`
//! hash map) and counters as user space reads them, and the records'
//! upkeep without the state hook, where nothing in the kernel frees them.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use govkit_ebpf_common::{SLOT_CLAIMED, SockInfo, counter};
use serde::Serialize;

use super::Tracer;

/// Kernel-side counters, summed over CPUs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    pub ringbuf_drops: u64,
    pub socks_map_full: u64,
    pub stacks_map_full: u64,
    pub captures: u64,
    pub captures_throttled: u64,
    /// Opens from a call site being learned whose capture was not sent:
    /// one for the same pc was already on its way to user space.
    pub captures_pending: u64,
    pub state_changes: u64,
    pub opens: u64,
    pub accept_lookup_failed: u64,
    /// Opens whose stack the kernel recognised from a cached call site.
    pub site_hits: u64,
    /// Passive opens completed (any process): what `accept()` hands out.
    pub passive_opens: u64,
    /// Accepts seen by the cgroup getpeername hook (traced processes).
    pub peer_accepts: u64,
    /// Opens dropped because a preempting task reused the per-CPU scratch.
    pub preempted: u64,
    /// Opens recorded in the hash map because the socket's slot in the
    /// slot array was held by another socket.
    pub slot_fallbacks: u64,
    /// TCP sockets destroyed (any process) while the destroy hook was
    /// attached: at start-up without the state hook, where it teaches the
    /// user registers' offset.
    pub destroys: u64,
    /// Connects seen by the cgroup connect hooks (traced processes).
    pub cgroup_connects: u64,
    /// Opens that took over a slot whose record's socket was gone (without
    /// the state hook nothing frees records when sockets close).
    pub slot_takeovers: u64,
}

/// `CLOCK_MONOTONIC`, the clock of `bpf_ktime_get_ns`, in ns.
pub(super) fn ktime_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(t.tv_nsec).unwrap_or(0)
}

impl Tracer {
    /// The kernel side's socket records, as (socket address, record, in a
    /// slot): the occupied `SLOTS` (one lookup each) and every `SOCKS`
    /// entry.
    pub(super) fn records(&self) -> Vec<(u64, SockInfo, bool)> {
        let slots = (0..self.slots_in_use).filter_map(|i| {
            let s = self.slots.get(&i, 0).ok()?;
            // 0: free; the claim bit: an open is writing it right now.
            (s.sk != 0 && s.sk & SLOT_CLAIMED == 0).then_some((s.sk, s.info, true))
        });
        let socks = self
            .socks
            .iter()
            .filter_map(Result::ok)
            .map(|(sk, info)| (sk, info, false));
        slots.chain(socks).collect()
    }

    #[must_use]
    pub fn counters(&self) -> Counters {
        let sum = |i: u32| self.counters.get(&i, 0).map_or(0, |v| v.iter().sum());
        Counters {
            ringbuf_drops: sum(counter::RINGBUF_DROPS),
            socks_map_full: sum(counter::SOCKS_FULL),
            stacks_map_full: sum(counter::STACKS_FULL),
            captures: sum(counter::CAPTURES),
            captures_throttled: sum(counter::CAPTURES_THROTTLED),
            captures_pending: sum(counter::CAPTURES_PENDING),
            state_changes: sum(counter::STATE_CHANGES),
            opens: sum(counter::OPENS),
            accept_lookup_failed: sum(counter::ACCEPT_LOOKUP_FAILED),
            site_hits: sum(counter::SITE_HITS),
            passive_opens: sum(counter::PASSIVE_OPENS),
            peer_accepts: sum(counter::PEER_ACCEPTS),
            preempted: sum(counter::PREEMPTED),
            slot_fallbacks: sum(counter::SLOT_FALLBACKS),
            destroys: sum(counter::DESTROYS),
            cgroup_connects: sum(counter::CGROUP_CONNECTS),
            slot_takeovers: sum(counter::SLOT_TAKEOVERS),
        }
    }

    /// Without the state hook nothing frees records in the kernel: a
    /// `SOCKS` entry (a socket whose slot held another live socket's
    /// record) stays until a socket at the same address replaces it, or
    /// this sweep, every 10 s, drops it because no socket in `sock_diag`
    /// has its cookie. Slot records are left: user space cannot free a slot
    /// without racing an open, and the kernel side takes a stale one over
    /// when a socket hashes there.
    pub(super) fn sweep_stale_socks(&mut self, records: &[(u64, SockInfo, bool)]) {
        let live: HashSet<u64> = match full_sockets() {
            Ok(sockets) => sockets.into_iter().map(|s| s.cookie).collect(),
            Err(e) => {
                tracing::debug!("sock_diag dump for the sweep failed: {e}");
                return;
            }
        };
        let entries: Vec<(u64, SockInfo)> = records
            .iter()
            .filter(|(_, _, in_slot)| !in_slot)
            .map(|&(sk, info, _)| (sk, info))
            .collect();
        let stale = stale_socks(&entries, &live, ktime_ns());
        tracing::debug!(
            "sweep: {} of {} SOCKS entries without a live socket",
            stale.len(),
            entries.len()
        );
        for sk in stale {
            // Gone already (destroyed meanwhile) is fine.
            self.socks.remove(&sk).unwrap_or_default();
        }
    }
}

pub(super) fn comm_of(info: &SockInfo) -> String {
    let end = info
        .comm
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(info.comm.len());
    String::from_utf8_lossy(&info.comm[..end]).into_owned()
}

pub(super) fn endpoints(info: &SockInfo) -> (SocketAddr, SocketAddr) {
    let ip = |b: &[u8; 16]| -> IpAddr {
        if info.family == 2 {
            IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        } else {
            IpAddr::V6(Ipv6Addr::from(*b))
        }
    };
    (
        SocketAddr::new(ip(&info.saddr), info.sport),
        SocketAddr::new(ip(&info.daddr), info.dport),
    )
}

/// Every full TCP socket on the host (`sock_diag`; `TIME_WAIT` and
/// `SYN_RECV` are mini sockets, never recorded).
pub(super) fn full_sockets() -> std::io::Result<Vec<crate::sockdiag::DiagSocket>> {
    use netlink_packet_sock_diag::inet::StateFlags;
    crate::sockdiag::sockets(&(StateFlags::all() - StateFlags::TIME_WAIT - StateFlags::SYN_RECV))
}

/// The `SOCKS` entries (socket address, record) to drop: cookie not among
/// the `live` sockets', opened more than 5 s before `now_k` (a socket is
/// listed once connect hashes it, microseconds after its record; one whose
/// connect failed is not listed, and cannot reach CLOSE-WAIT without
/// connecting again, which records it again).
fn stale_socks(entries: &[(u64, SockInfo)], live: &HashSet<u64>, now_k: u64) -> Vec<u64> {
    entries
        .iter()
        .filter(|(_, info)| {
            info.cookie != 0
                && !live.contains(&info.cookie)
                && now_k.saturating_sub(info.open_ns) > 5_000_000_000
        })
        .map(|&(sk, _)| sk)
        .collect()
}

/// A socket's state, endpoints and time in the state from
/// `Tracer::diag_by_cookie`, written into its record; false when the
/// socket is in neither `CLOSE_WAIT` nor (with `--idle`) ESTABLISHED.
pub(super) fn from_diag(info: &mut SockInfo, diag: &HashMap<u64, DiagEntry>, now_k: u64) -> bool {
    let Some(&(state, local, remote, in_state)) = diag.get(&info.cookie) else {
        return false;
    };
    set_endpoints(info, local, remote);
    info.state = state;
    info.state_ns = now_k.saturating_sub(u64::try_from(in_state.as_nanos()).unwrap_or(u64::MAX));
    true
}

/// State, local and remote endpoint, and time in the state of a socket.
pub(super) type DiagEntry = (u8, SocketAddr, SocketAddr, Duration);

/// Writes endpoints into a record (the inverse of `endpoints`).
pub(super) fn set_endpoints(info: &mut SockInfo, local: SocketAddr, remote: SocketAddr) {
    let bytes = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&v4.octets());
            b
        }
        IpAddr::V6(v6) => v6.octets(),
    };
    info.family = if local.is_ipv4() { 2 } else { 10 };
    info.saddr = bytes(local.ip());
    info.daddr = bytes(remote.ip());
    info.sport = local.port();
    info.dport = remote.port();
}

#[cfg(test)]
mod tests {
    use govkit_ebpf_common::{origin, tcp_state};

    use super::*;

    fn record(cookie: u64, open_ns: u64) -> SockInfo {
        SockInfo {
            open_ns,
            state_ns: open_ns,
            stack_id: 0,
            capture_id: 0,
            cgroup_id: 0,
            cookie,
            tgid: 1,
            tid: 1,
            comm: [0; 16],
            state: tcp_state::SYN_SENT,
            family: 0,
            origin: origin::CONNECT,
            stack_flags: 0,
            sport: 0,
            dport: 0,
            saddr: [0; 16],
            daddr: [0; 16],
        }
    }

    #[test]
    fn only_old_entries_of_sockets_that_are_gone_are_stale() {
        let s = 1_000_000_000;
        let entries = [
            (0x10, record(1, 0)),      // live
            (0x20, record(2, 0)),      // gone, old: stale
            (0x30, record(3, 60 * s)), // gone, but opened 2 s ago
            (0x40, record(0, 0)),      // no cookie (state-hook path): kept
        ];
        let live: HashSet<u64> = [1].into();
        assert_eq!(stale_socks(&entries, &live, 62 * s), vec![0x20]);
    }

    #[test]
    fn sock_diag_fills_a_record_that_endpoints_reads_back() {
        let now_k = 100_000_000_000;
        for (local, remote) in [
            ("127.0.0.1:4242", "10.1.2.3:80"),
            ("[::1]:4242", "[2001:db8::7]:443"),
        ] {
            let (local, remote): (SocketAddr, SocketAddr) =
                (local.parse().unwrap(), remote.parse().unwrap());
            let diag: HashMap<u64, DiagEntry> = [(
                7,
                (
                    tcp_state::CLOSE_WAIT,
                    local,
                    remote,
                    Duration::from_secs(40),
                ),
            )]
            .into();
            let mut info = record(7, 0);
            assert!(from_diag(&mut info, &diag, now_k));
            assert_eq!(endpoints(&info), (local, remote));
            assert_eq!(info.state, tcp_state::CLOSE_WAIT);
            assert_eq!(info.state_ns, now_k - 40_000_000_000);
            // Not in CLOSE_WAIT (nor, with --idle, ESTABLISHED): skipped.
            assert!(!from_diag(&mut record(8, 0), &diag, now_k));
        }
    }
}
