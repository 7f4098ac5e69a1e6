//! The report: records checked against the kernel's own socket list
//! (`sock_diag`, else /proc/net/tcp), so that it agrees with `ss`, grouped
//! by process and opening stack; sockets the kernel side has no record for
//! (opened before tracing, or unseen) are reported from /proc, without a
//! stack.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use govkit_ebpf_common::{SockInfo, origin, tcp_state};
use serde::Serialize;

use super::Tracer;
use super::learning::Stack;
use super::records::{Counters, DiagEntry, comm_of, endpoints, from_diag, full_sockets, ktime_ns};
use crate::frame::{self, Frame};
use crate::procfs::{self, TcpSocket};
use crate::programs::ProgramCost;

/// A leak group's key: pid, stack, how it was opened, state.
type GroupKey = (u32, Stack, &'static str, &'static str);

/// One group of leaked sockets: same process, same opening stack.
#[derive(Debug, Clone, Serialize)]
pub struct Leak {
    pub pid: u32,
    pub comm: String,
    /// The owner's cgroup v2 path (/proc/PID/cgroup), empty when unknown.
    pub cgroup: String,
    /// The opener's cgroup v2 id, captured at open in the kernel (the
    /// inode number of its directory in cgroupfs); 0 for sockets the
    /// kernel side did not see opening.
    pub cgroup_id: u64,
    pub state: &'static str,
    pub count: usize,
    /// Age of the oldest socket of the group since it was opened (for
    /// sockets opened before tracing: since tracing started or, when
    /// longer, its time in the state; a lower bound).
    pub oldest_age_s: f64,
    /// Longest time a socket of the group has spent in `CLOSE_WAIT`, or
    /// for idle ESTABLISHED sockets (`--idle`), the longest idle time.
    pub oldest_in_state_s: f64,
    /// "connect", "accept", "before-tracing" or "unseen".
    pub opened_by: &'static str,
    /// User stack that opened the sockets, innermost first (in JSON, each
    /// frame as text: `function (file:line)`, `function (binary)` or
    /// `[unknown] binary+offset (build-id …)`).
    #[serde(serialize_with = "frames_as_text")]
    pub stack: Vec<Frame>,
    /// Whether `stack` reaches the outermost frame.
    pub stack_complete: bool,
    /// Why the stack is partial, or missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_note: Option<&'static str>,
    /// The first frame of the user's own code (`frame::culprit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub culprit: Option<Culprit>,
    pub sockets: Vec<LeakedSocket>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeakedSocket {
    pub local: String,
    pub remote: String,
    pub inode: u64,
    pub age_s: f64,
    /// The owner's descriptor for the socket, for sockets found in the fd
    /// tables (opened before tracing, or unseen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fd: Option<u32>,
}

impl LeakedSocket {
    fn new(
        (local, remote): (SocketAddr, SocketAddr),
        inode: u64,
        age_s: f64,
        fd: Option<u32>,
    ) -> Self {
        Self {
            local: local.to_string(),
            remote: remote.to_string(),
            inode,
            age_s,
            fd,
        }
    }
}

impl Leak {
    /// How the group's sockets were opened, in words.
    #[must_use]
    pub fn how_opened(&self) -> &'static str {
        match self.opened_by {
            "before-tracing" => "opened before tracing",
            "connect" => "connected",
            "unseen" => "opened unseen",
            _ => "accepted",
        }
    }
}

/// The culprit frame of a leak group: its index in the stack, and the
/// frame.
#[derive(Debug, Clone, Serialize)]
pub struct Culprit {
    pub frame: usize,
    #[serde(flatten)]
    pub at: Frame,
}

fn frames_as_text<S: serde::Serializer>(frames: &[Frame], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(frames.iter().map(ToString::to_string))
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub leaks: Vec<Leak>,
    /// Events the kernel side could not deliver or record: ring-buffer
    /// drops, sockets and stacks not stored because a map was full, opens
    /// dropped after preemption.
    pub lost_events: u64,
    /// Sockets the kernel side tracks right now.
    pub tracked_sockets: usize,
    pub duration_s: f64,
    pub counters: Counters,
    /// Per-program kernel cost; empty unless `--bpf-stats`.
    pub programs: Vec<ProgramCost>,
    /// Call sites unwound in user space (each once).
    pub call_sites_learned: u64,
    /// The kernel hooks in use.
    pub hooks: Vec<String>,
}

/// A group for sockets the kernel side saw opening, with their stack.
fn tracked_group(
    info: &SockInfo,
    state: &'static str,
    opened_by: &'static str,
    stack: Stack,
) -> Leak {
    let mut leak = group(info.tgid, state, opened_by, stack);
    if leak.comm.is_empty() {
        leak.comm = comm_of(info);
    }
    leak.cgroup_id = info.cgroup_id;
    leak
}

/// An empty group of `pid`'s sockets opened by `opened_by`, in `state`,
/// with their `stack`. For sockets the kernel side has no entry for, the
/// stack has no frames, only a note: they existed before tracing
/// (`before-tracing`), or were opened without being seen (`unseen`).
fn group(pid: u32, state: &'static str, opened_by: &'static str, stack: Stack) -> Leak {
    let culprit = frame::culprit(&stack.frames).map(|i| Culprit {
        frame: i,
        at: stack.frames[i].clone(),
    });
    Leak {
        pid,
        comm: procfs::comm(pid).unwrap_or_default(),
        cgroup: procfs::cgroup_of(pid).unwrap_or_default(),
        cgroup_id: 0,
        state,
        count: 0,
        oldest_age_s: 0.0,
        oldest_in_state_s: 0.0,
        opened_by,
        stack: stack.frames,
        stack_complete: stack.complete,
        stack_note: stack.note,
        culprit,
        sockets: Vec::new(),
    }
}

impl Tracer {
    /// Reads the kernel's socket table, checks it against the kernel's
    /// socket list (`sock_diag`, else /proc/net/tcp) and groups the leaks.
    pub fn report(&mut self) -> Report {
        let dump = self.diag_dump();
        self.poll();
        let now_k = ktime_ns();
        let now = Instant::now();
        let live = live_sockets(dump.as_deref());
        let by_endpoints: HashMap<(SocketAddr, SocketAddr), &TcpSocket> =
            live.iter().map(|s| ((s.local, s.remote), s)).collect();
        let entries = self.records();
        let tracked = self.tracked(dump.as_deref(), &entries);
        let mut groups: BTreeMap<GroupKey, Leak> = BTreeMap::new();
        let established = self.established(dump.as_deref());
        let mut kernel_inodes = HashSet::new();
        // Sockets opened from one call site share a stack: symbolize it once.
        let mut stacks: HashMap<(u32, u64, u64, u8), Stack> = HashMap::new();
        let diag = self
            .light()
            .then(|| self.diag_by_cookie(dump.as_deref().unwrap_or_default(), now));
        for (sk, info, in_slot) in &entries {
            let mut info = *info;
            if let Some(diag) = &diag
                && !from_diag(&mut info, diag, now_k)
            {
                continue;
            }
            let info = &info;
            // Endpoints are read when a socket enters CLOSE_WAIT (and, with
            // --idle, ESTABLISHED): the states reported. Without the state
            // hook, from sock_diag just above.
            let idle_check = self.options.idle.is_some() && info.state == tcp_state::ESTABLISHED;
            if info.state != tcp_state::CLOSE_WAIT && !idle_check {
                continue;
            }
            let (local, remote) = endpoints(info);
            let (inode, state_name, in_state) = if idle_check {
                // ESTABLISHED now (sock_diag lists only those), idle long enough.
                let Some(i) = established.get(&(local, remote)) else {
                    continue;
                };
                kernel_inodes.insert(i.inode);
                let idle = Duration::from_millis(i.idle_ms);
                if info.origin == origin::UNOWNED || Some(idle) < self.options.idle {
                    continue;
                }
                (i.inode, "ESTABLISHED", idle)
            } else {
                let Some(sock) = by_endpoints.get(&(local, remote)) else {
                    // Gone without a CLOSE transition seen: a stale entry.
                    // One in a slot is replaced by the next socket at that
                    // address (user space cannot free a slot safely).
                    if !in_slot && now_k.saturating_sub(info.state_ns) > 5_000_000_000 {
                        // Gone already (closed meanwhile) is fine.
                        self.socks.remove(sk).unwrap_or_default();
                    }
                    continue;
                };
                kernel_inodes.insert(sock.inode);
                if info.origin == origin::UNOWNED || sock.state != tcp_state::CLOSE_WAIT {
                    continue;
                }
                let in_state = Duration::from_nanos(now_k.saturating_sub(info.state_ns));
                if in_state < self.options.min_age {
                    continue;
                }
                (sock.inode, "CLOSE_WAIT", in_state)
            };
            let key = (info.tgid, info.stack_id, info.capture_id, info.stack_flags);
            let stack = if let Some(hit) = stacks.get(&key) {
                hit.clone()
            } else {
                let fresh = self.stack_of(info);
                stacks.insert(key, fresh.clone());
                fresh
            };
            let opened_by = if info.origin == origin::CONNECT {
                "connect"
            } else {
                "accept"
            };
            let age = Duration::from_nanos(now_k.saturating_sub(info.open_ns)).as_secs_f64();
            let leak = groups
                .entry((info.tgid, stack.clone(), opened_by, state_name))
                .or_insert_with(|| tracked_group(info, state_name, opened_by, stack));
            leak.count += 1;
            leak.oldest_age_s = leak.oldest_age_s.max(age);
            leak.oldest_in_state_s = leak.oldest_in_state_s.max(in_state.as_secs_f64());
            leak.sockets
                .push(LeakedSocket::new((local, remote), inode, age, None));
        }
        let at = (now, dump.as_deref());
        self.untracked_leaks(&live, &kernel_inodes, at, &mut groups, &established);
        let counters = self.counters();
        let mut leaks = merge_partial(groups.into_values().collect());
        leaks.sort_by(|a, b| b.count.cmp(&a.count).then(a.pid.cmp(&b.pid)));
        Report {
            leaks,
            lost_events: counters.ringbuf_drops
                + counters.socks_map_full
                + counters.stacks_map_full
                + counters.preempted,
            tracked_sockets: tracked,
            duration_s: now.duration_since(self.started).as_secs_f64(),
            programs: self.program_costs(),
            call_sites_learned: self.learned,
            counters,
            hooks: self.hooks.clone(),
        }
    }

    /// Notes when each `CLOSE_WAIT` socket was first seen (a `sock_diag` dump
    /// filtered by the kernel, else /proc/net/tcp, every quarter of
    /// `--min-age`, 1-10 s): the
    /// time in `CLOSE_WAIT` of sockets the kernel side has no entry for
    /// (opened before tracing, or accepted unseen) is measured from there.
    pub(super) fn sight_close_wait(&mut self) {
        let period =
            (self.options.min_age / 4).clamp(Duration::from_secs(1), Duration::from_secs(10));
        let now = Instant::now();
        if now.duration_since(self.last_sighting) < period {
            return;
        }
        // Kernels without inet_diag (a module, not always loaded): the
        // slower /proc/net/tcp{,6}.
        let inodes: HashSet<u64> = crate::sockdiag::close_wait().unwrap_or_else(|e| {
            tracing::debug!("sock_diag CLOSE_WAIT dump failed, reading /proc/net/tcp: {e}");
            procfs::tcp_sockets()
                .into_iter()
                .filter(|s| s.state == tcp_state::CLOSE_WAIT)
                .map(|s| s.inode)
                .collect()
        });
        self.note_close_wait(&inodes, now);
    }

    /// `inodes` are the sockets in `CLOSE_WAIT` at `now`: first sightings
    /// are kept, sockets no longer there forgotten.
    fn note_close_wait(&mut self, inodes: &HashSet<u64>, now: Instant) {
        self.last_sighting = now;
        self.close_wait_seen.retain(|i, _| inodes.contains(i));
        for &i in inodes {
            self.close_wait_seen.entry(i).or_insert(now);
        }
    }

    /// Without the state hook: one `sock_diag` dump of every full TCP
    /// socket, which gives the whole report its states, endpoints, cookies
    /// and `tcp_info` times. None under the state hook, or when the dump
    /// fails (a warning says so; then records cannot be matched this
    /// report, and /proc/net/tcp still shows the leaks, without stacks).
    /// Its `CLOSE_WAIT` sockets are this moment's sighting
    /// (`sight_close_wait` would otherwise dump them again).
    pub(super) fn diag_dump(&mut self) -> Option<Vec<crate::sockdiag::DiagSocket>> {
        if !self.light() {
            return None;
        }
        let sockets = full_sockets()
            .map_err(|e| {
                tracing::warn!("sock_diag dump failed: {e}; socket states unknown this report");
            })
            .ok()?;
        let close_wait = sockets
            .iter()
            .filter(|s| s.state == tcp_state::CLOSE_WAIT)
            .map(|s| s.inode)
            .collect();
        self.note_close_wait(&close_wait, Instant::now());
        Some(sockets)
    }

    /// How many of `records` belong to live sockets: all of them under the
    /// state hook; without it records outlive their sockets until taken
    /// over, and only those whose cookie a socket in `dump` has count.
    fn tracked(
        &self,
        dump: Option<&[crate::sockdiag::DiagSocket]>,
        records: &[(u64, SockInfo, bool)],
    ) -> usize {
        match dump {
            Some(sockets) => {
                let cookies: HashSet<u64> = sockets.iter().map(|s| s.cookie).collect();
                records
                    .iter()
                    .filter(|(_, info, _)| cookies.contains(&info.cookie))
                    .count()
            }
            None if self.light() => 0,
            None => records.len(),
        }
    }

    /// Without the state hook: the sockets in `CLOSE_WAIT` (and with
    /// `--idle`, ESTABLISHED) by cookie, with state, endpoints and time in
    /// the state. For `CLOSE_WAIT`, the time since the last ACK received
    /// (the peer's FIN, when the owner sends nothing after it) or since
    /// first sighting, whichever is longer (both are lower bounds); for
    /// ESTABLISHED, the time since it opened is not known here and does not
    /// matter (idle time is what `--idle` reports).
    fn diag_by_cookie(
        &self,
        sockets: &[crate::sockdiag::DiagSocket],
        now: Instant,
    ) -> HashMap<u64, DiagEntry> {
        let idle = self.options.idle.is_some();
        sockets
            .iter()
            .filter_map(|s| {
                let in_state = match s.state {
                    tcp_state::CLOSE_WAIT => {
                        self.in_close_wait(s.inode, s.last_ack_ms.map(Duration::from_millis), now)
                    }
                    tcp_state::ESTABLISHED if idle => Duration::ZERO,
                    _ => return None,
                };
                Some((s.cookie, (s.state, s.local, s.remote, in_state)))
            })
            .collect()
    }

    /// How long the socket `inode` has been in `CLOSE_WAIT` at `now`: since
    /// its first sighting, or since the last ACK it received (`last_ack`,
    /// from `tcp_info`: the peer's FIN when the owner sent nothing after
    /// it), whichever is longer. Both are lower bounds.
    fn in_close_wait(&self, inode: u64, last_ack: Option<Duration>, now: Instant) -> Duration {
        let seen = self
            .close_wait_seen
            .get(&inode)
            .map_or(Duration::ZERO, |t| now.duration_since(*t));
        seen.max(last_ack.unwrap_or_default())
    }

    /// ESTABLISHED sockets and their idle times, with `--idle` (empty
    /// otherwise, or when `sock_diag` fails: then a warning says so): from
    /// the report's `dump` when it has one.
    fn established(
        &self,
        dump: Option<&[crate::sockdiag::DiagSocket]>,
    ) -> HashMap<(SocketAddr, SocketAddr), crate::sockdiag::Idle> {
        if self.options.idle.is_none() {
            return HashMap::new();
        }
        if let Some(sockets) = dump {
            return crate::sockdiag::idle_by_endpoints(sockets);
        }
        crate::sockdiag::established().unwrap_or_else(|e| {
            tracing::warn!("--idle: reading tcp_info through sock_diag failed: {e}");
            HashMap::new()
        })
    }

    /// Leaks among the sockets the kernel side has no entry for: /proc
    /// only, no stack. Those that existed before tracing, and those opened
    /// since without being seen (under the cgroup accept hook: accepted
    /// without asking for the peer address; else a socket not recorded,
    /// counted in `lost_events`).
    fn untracked_leaks(
        &mut self,
        live: &[TcpSocket],
        kernel_inodes: &HashSet<u64>,
        (now, dump): (Instant, Option<&[crate::sockdiag::DiagSocket]>),
        groups: &mut BTreeMap<GroupKey, Leak>,
        established: &HashMap<(SocketAddr, SocketAddr), crate::sockdiag::Idle>,
    ) {
        let close_wait: Vec<&TcpSocket> = live
            .iter()
            .filter(|s| s.state == tcp_state::CLOSE_WAIT && !kernel_inodes.contains(&s.inode))
            .collect();
        // Sockets that left CLOSE_WAIT are dropped by `sight_close_wait`;
        // here only a first sighting is added.
        for s in &close_wait {
            self.close_wait_seen.entry(s.inode).or_insert(now);
        }
        let idle: Vec<(&TcpSocket, Duration)> = match self.options.idle {
            Some(threshold) => live
                .iter()
                .filter(|s| s.state == tcp_state::ESTABLISHED && !kernel_inodes.contains(&s.inode))
                .filter_map(|s| {
                    let i = established.get(&(s.local, s.remote))?;
                    let d = Duration::from_millis(i.idle_ms);
                    (d >= threshold).then_some((s, d))
                })
                .collect(),
            None => Vec::new(),
        };
        // The kernel's last-ACK time (ss -ti's lastack) is what makes a
        // socket leaking since before govkit started count at once.
        let acked = if close_wait.is_empty() {
            HashMap::new()
        } else {
            last_ack_by_inode(dump)
        };
        let old_close_wait: Vec<(&TcpSocket, Duration)> = close_wait
            .iter()
            .map(|&s| {
                (
                    s,
                    self.in_close_wait(s.inode, acked.get(&s.inode).copied(), now),
                )
            })
            .filter(|(_, d)| *d >= self.options.min_age)
            .collect();
        if old_close_wait.is_empty() && idle.is_empty() {
            return;
        }
        let pids = (!self.options.pids.is_empty()).then_some(self.options.pids.as_slice());
        let owners = procfs::socket_owners(pids);
        let since_start = now.duration_since(self.started).as_secs_f64();
        let unseen_note = if self.hooks.iter().any(|h| h.starts_with("cgroup/")) {
            UNSEEN_BY_CGROUP_HOOK
        } else {
            "not seen when opened: not recorded by the kernel side (see lost_events)"
        };
        let me = std::process::id();
        let sockets = idle.into_iter().map(|(s, d)| (s, d, "ESTABLISHED")).chain(
            old_close_wait
                .into_iter()
                .map(|(s, d)| (s, d, "CLOSE_WAIT")),
        );
        for (s, in_state, state) in sockets {
            let Some(&(pid, fd)) = owners.get(&s.inode).and_then(|o| o.first()) else {
                continue;
            };
            if pid == me {
                continue;
            }
            let before = self.preexisting.contains(&s.inode);
            let (opened_by, note, age) = if before {
                // Older than the trace, and at least as old as its time in
                // the state.
                let age = since_start.max(in_state.as_secs_f64());
                ("before-tracing", BEFORE_TRACING, age)
            } else {
                // Opened since tracing started: at least as old as its
                // time in the state.
                ("unseen", unseen_note, in_state.as_secs_f64())
            };
            let stack = Stack {
                frames: Vec::new(),
                complete: false,
                note: Some(note),
            };
            let leak = groups
                .entry((pid, stack.clone(), opened_by, state))
                .or_insert_with(|| group(pid, state, opened_by, stack));
            leak.count += 1;
            leak.oldest_age_s = leak.oldest_age_s.max(age);
            leak.oldest_in_state_s = leak.oldest_in_state_s.max(in_state.as_secs_f64());
            leak.sockets.push(LeakedSocket::new(
                (s.local, s.remote),
                s.inode,
                age,
                Some(fd),
            ));
        }
    }
}

/// The stack of a socket opened before tracing: none can be had, and why.
const BEFORE_TRACING: &str = "opened before tracing started: the stack that opened it cannot be \
     known; sockets opened while govkit traces get theirs, so keep tracing to catch new ones";

/// The stack of a socket the cgroup hooks did not see accepted, and the
/// trade-off of the hooks that would have (docs/src/benchmarks.md, "What
/// the accept hook costs the rest of the host").
const UNSEEN_BY_CGROUP_HOOK: &str = "not seen when opened: accepted without asking for the peer \
     address (accept(fd, NULL, NULL)), which the cgroup accept hook needs; --hooks tracepoints \
     records these, but slows every system call on the host while it traces (by 11-19 % on a \
     system-call-bound load in govkit's benchmarks)";

/// Time since each `CLOSE_WAIT` socket last received an ACK (`tcp_info`),
/// by inode: from the report's `sock_diag` dump when it has one, else from
/// a dump of the `CLOSE_WAIT` sockets (empty when `sock_diag` is missing:
/// ages then count from the first sighting).
fn last_ack_by_inode(dump: Option<&[crate::sockdiag::DiagSocket]>) -> HashMap<u64, Duration> {
    use netlink_packet_sock_diag::inet::StateFlags;
    let by_inode = |sockets: &[crate::sockdiag::DiagSocket]| {
        sockets
            .iter()
            .filter(|s| s.state == tcp_state::CLOSE_WAIT)
            .filter_map(|s| Some((s.inode, Duration::from_millis(s.last_ack_ms?))))
            .collect()
    };
    if let Some(sockets) = dump {
        return by_inode(sockets);
    }
    crate::sockdiag::sockets(&StateFlags::CLOSE_WAIT).map_or_else(
        |e| {
            tracing::debug!("sock_diag CLOSE_WAIT dump with tcp_info failed: {e}");
            HashMap::new()
        },
        |sockets| by_inode(&sockets),
    )
}

/// The host's TCP sockets as /proc/net/tcp{,6} lists them, or from a
/// `sock_diag` dump when there is one (full sockets only: the report looks
/// at CLOSE-WAIT and ESTABLISHED ones).
fn live_sockets(dump: Option<&[crate::sockdiag::DiagSocket]>) -> Vec<TcpSocket> {
    match dump {
        Some(sockets) => sockets
            .iter()
            .map(|s| TcpSocket {
                local: s.local,
                remote: s.remote,
                state: s.state,
                inode: s.inode,
            })
            .collect(),
        None => procfs::tcp_sockets(),
    }
}

/// Folds each group with a partial stack into the one group of the same
/// process, state and kind of open whose complete stack begins with it,
/// when the partial stack reaches that group's culprit: both were opened
/// from the same call site (the culprit's pc), the partial one before the
/// site was learned, and one call site is one group. A partial stack that
/// stops before the culprit, or fits several groups, stays its own group:
/// which site opened it is not known.
fn merge_partial(mut leaks: Vec<Leak>) -> Vec<Leak> {
    let partial: Vec<usize> = (0..leaks.len())
        .filter(|&i| !leaks[i].stack_complete && !leaks[i].stack.is_empty())
        .collect();
    let mut gone = HashSet::new();
    for p in partial {
        let fits: Vec<usize> = (0..leaks.len())
            .filter(|&c| {
                let (l, whole) = (&leaks[p], &leaks[c]);
                whole.stack_complete
                    && (whole.pid, whole.state, whole.opened_by) == (l.pid, l.state, l.opened_by)
                    && whole
                        .culprit
                        .as_ref()
                        .is_some_and(|c| c.frame < l.stack.len())
                    && whole.stack.starts_with(&l.stack)
            })
            .collect();
        if let [into] = fits[..] {
            let from = std::mem::take(&mut leaks[p].sockets);
            let (count, age, in_state) = (
                leaks[p].count,
                leaks[p].oldest_age_s,
                leaks[p].oldest_in_state_s,
            );
            let whole = &mut leaks[into];
            whole.count += count;
            whole.oldest_age_s = whole.oldest_age_s.max(age);
            whole.oldest_in_state_s = whole.oldest_in_state_s.max(in_state);
            whole.sockets.extend(from);
            gone.insert(p);
        }
    }
    leaks
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !gone.contains(i))
        .map(|(_, l)| l)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{Stack, group, merge_partial};
    use crate::frame::{Frame, Program};

    fn stack(names: &[&str], complete: bool) -> Stack {
        Stack {
            frames: names
                .iter()
                .map(|n| {
                    let object = if n.starts_with("accept") {
                        "/usr/lib/x86_64-linux-gnu/libc.so.6"
                    } else {
                        "/srv/api"
                    };
                    Frame::named((*n).to_owned(), None, Path::new(object), Program::Native)
                })
                .collect(),
            complete,
            note: (!complete).then_some("opened before its call site was learned"),
        }
    }

    fn leak(names: &[&str], complete: bool, count: usize) -> super::Leak {
        let mut l = group(1, "CLOSE_WAIT", "accept", stack(names, complete));
        l.count = count;
        l
    }

    #[test]
    fn a_partial_stack_that_reaches_the_culprit_joins_its_call_sites_group() {
        let whole = ["accept4", "api::serve", "api::main", "main"];
        let merged = merge_partial(vec![
            leak(&whole, true, 3),
            leak(&whole[..2], false, 2),
            // Stops in libc, before any culprit: which site is unknown.
            leak(&whole[..1], false, 1),
        ]);
        let counts: Vec<(usize, bool)> =
            merged.iter().map(|l| (l.count, l.stack_complete)).collect();
        assert_eq!(counts, [(5, true), (1, false)]);
    }

    #[test]
    fn a_partial_stack_that_fits_two_call_sites_stays_apart() {
        let merged = merge_partial(vec![
            leak(&["accept4", "api::serve", "api::a", "main"], true, 1),
            leak(&["accept4", "api::serve", "api::b", "main"], true, 1),
            leak(&["accept4", "api::serve"], false, 1),
        ]);
        assert_eq!(merged.len(), 3);
    }
}
