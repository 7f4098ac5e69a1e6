//! Prometheus exposition of the tracers (`--metrics ADDR`, `govkit trace
//! serve`). The kernel's aggregates are turned into metric families on
//! each refresh; a small HTTP(S) server (`web`) serves `/metrics` through a
//! `prometheus::Registry`, so the text format, escaping and consistency
//! checks are the prometheus crate's.
//!
//! Label cardinality is bounded: at most `top` processes get their own
//! series, everything else is summed into `pid="other"`. A free slot goes to
//! the most active process of the interval; a process keeps its slot until
//! it exits, stays idle for [`IDLE_REFRESHES`] refreshes, or a process at
//! least [`TAKEOVER`] times as active in the interval takes the slot of the
//! least active holder (hysteresis, so series do not flap). A process's own
//! series count from the moment it got its slot, and what it did before
//! went to "other", so every counter only grows and, while nothing loses a
//! slot, the series sum to every event seen.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use govkit_ebpf_common::{HIST_SLOTS, SchedKey, SchedStats};
use prometheus::core::{Collector, Desc};
use prometheus::proto::{self, LabelPair, MetricFamily, MetricType};
use prometheus::{Encoder, Gauge, IntCounter, Opts, Registry, TextEncoder};

use crate::TraceError;
use crate::connections::Report;
use crate::programs::ProgramCost;
use crate::sched::{Snapshot, diff};
use crate::web::{Request, Response, Server, WebConfig};
use crate::workload::{LABELS as WORKLOAD_LABELS, Resolver, Workload};

/// Default number of workloads (processes, with `--per-pid`) with their own series.
pub const DEFAULT_TOP: usize = 20;
/// Histogram buckets exported: upper bounds 2 µs … 2^25 µs (33.5 s), then +Inf.
const EXPORTED_SLOTS: usize = 25;

fn add(into: &mut SchedStats, d: &SchedStats) {
    into.voluntary_switches += d.voluntary_switches;
    into.involuntary_switches += d.involuntary_switches;
    into.migrations += d.migrations;
    into.numa_migrations += d.numa_migrations;
    into.runq_count += d.runq_count;
    into.runq_sum_ns += d.runq_sum_ns;
    into.offcpu_count += d.offcpu_count;
    into.offcpu_sum_ns += d.offcpu_sum_ns;
    into.oncpu_ns += d.oncpu_ns;
    for i in 0..HIST_SLOTS {
        into.runq_hist[i] += d.runq_hist[i];
        into.offcpu_hist[i] += d.offcpu_hist[i];
    }
}

fn activity(s: &SchedStats) -> u64 {
    s.voluntary_switches + s.involuntary_switches + s.runq_count + s.migrations
}

/// Refreshes without activity after which a process gives up its slot.
pub const IDLE_REFRESHES: u32 = 12;
/// How many times more active (in one interval) a process must be than the
/// least active slot holder to take its slot.
pub const TAKEOVER: u64 = 4;

#[derive(Debug, Clone)]
struct Series {
    labels: Vec<(&'static str, String)>,
    stats: SchedStats,
    idle: u32,
}

/// What a series stands for: a workload (the default: pod and container,
/// or systemd unit, from the process's cgroup), or one process when per-pid
/// series were asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Group {
    Workload(Workload),
    Pid(u32),
}

/// Groups processes into series: by workload, or per pid on request.
#[derive(Debug)]
struct Grouping {
    per_pid: bool,
    resolver: Resolver,
    /// Each process's workload, found once while it is in the kernel table.
    of_pid: HashMap<u32, Workload>,
}

impl Grouping {
    fn new(per_pid: bool) -> Self {
        Self {
            per_pid,
            resolver: Resolver::default(),
            of_pid: HashMap::new(),
        }
    }

    /// The group of process `pid`; `cgroup_id`: the cgroup the kernel saw
    /// it in first, for a process that has exited since.
    fn of_process(&mut self, pid: u32, cgroup_id: u64) -> Group {
        if self.per_pid {
            return Group::Pid(pid);
        }
        let resolver = &mut self.resolver;
        Group::Workload(
            self.of_pid
                .entry(pid)
                .or_insert_with(|| resolver.of_process(pid, cgroup_id))
                .clone(),
        )
    }

    /// The labels of `group`'s series (`comm`: the name of a process).
    fn labels(group: &Group, comm: impl FnOnce() -> String) -> Vec<(&'static str, String)> {
        match group {
            Group::Workload(w) => w.labels(),
            Group::Pid(pid) => vec![("pid", pid.to_string()), ("comm", comm())],
        }
    }

    /// The labels of the series everything beyond the limit goes to.
    fn other(&self) -> Vec<(&'static str, String)> {
        if self.per_pid {
            vec![("pid", "other".to_owned()), ("comm", "other".to_owned())]
        } else {
            Workload::other().labels()
        }
    }
}

/// Scheduler series with bounded cardinality.
#[derive(Debug)]
pub struct SchedSeries {
    top: usize,
    grouping: Grouping,
    /// Last kernel reading per process, to take deltas.
    last: HashMap<SchedKey, SchedStats>,
    /// Workloads (or processes) with their own series.
    own: HashMap<Group, Series>,
    other: SchedStats,
    pub events: u64,
    pub lost: u64,
}

impl SchedSeries {
    /// (series of each per-workload metric now, their bound).
    fn series(&self) -> (usize, usize) {
        (self.own.len() + 1, self.top + 1)
    }

    /// Series for at most `top` workloads (processes, with `per_pid`) and
    /// one for the rest.
    #[must_use]
    pub fn new(top: usize, per_pid: bool) -> Self {
        Self {
            top,
            grouping: Grouping::new(per_pid),
            last: HashMap::new(),
            own: HashMap::new(),
            other: SchedStats::default(),
            events: 0,
            lost: 0,
        }
    }

    /// Takes in a new reading of the kernel's aggregates (per process).
    pub fn update(&mut self, snap: &Snapshot) {
        let mut by_group: HashMap<Group, (SchedStats, u32)> = HashMap::new();
        for (k, s) in &snap.entries {
            let d = match self.last.get(k) {
                Some(prev) => diff(s, prev),
                None => *s,
            };
            self.last.insert(*k, *s);
            let group = self.grouping.of_process(k.tgid, s.cgroup_id);
            let entry = by_group.entry(group).or_insert_with(|| {
                let fresh = SchedStats {
                    comm: d.comm,
                    ..SchedStats::default()
                };
                (fresh, k.tgid)
            });
            add(&mut entry.0, &d);
        }
        self.last.retain(|k, _| snap.entries.contains_key(k));
        let present: std::collections::HashSet<u32> = snap.entries.keys().map(|k| k.tgid).collect();
        self.grouping.of_pid.retain(|pid, _| present.contains(pid));
        let mut deltas: Vec<(Group, SchedStats, u32)> = by_group
            .into_iter()
            .map(|(g, (d, pid))| (g, d, pid))
            .collect();
        let recent: HashMap<Group, u64> = deltas
            .iter()
            .map(|(g, d, _)| (g.clone(), activity(d)))
            .collect();
        // A process gone from the kernel table (exited and forgotten) loses
        // its series at once (its pid may come back as another process); a
        // workload without processes now, or idle, keeps its series for
        // IDLE_REFRESHES (its next process is likely near).
        self.own.retain(|group, s| {
            match (recent.get(group), group) {
                (None, Group::Pid(_)) => return false,
                (None | Some(0), _) => s.idle += 1,
                (Some(_), _) => s.idle = 0,
            }
            s.idle < IDLE_REFRESHES
        });
        // Free slots go to the most active groups of this interval; a far
        // more active one takes the least active holder's slot.
        deltas.sort_by(|a, b| {
            activity(&b.1)
                .cmp(&activity(&a.1))
                .then_with(|| a.0.cmp(&b.0))
        });
        for (group, d, pid) in &deltas {
            if activity(d) == 0 {
                break;
            }
            if self.own.contains_key(group) {
                continue;
            }
            if self.own.len() >= self.top {
                let weakest = self
                    .own
                    .keys()
                    .map(|g| (recent.get(g).copied().unwrap_or(0), g.clone()))
                    .min();
                match weakest {
                    Some((a, g)) if activity(d) >= TAKEOVER * a.max(1) => {
                        self.own.remove(&g);
                    }
                    _ => break,
                }
            }
            let labels = Grouping::labels(group, || {
                crate::procfs::comm(*pid).unwrap_or_else(|| {
                    let end = d.comm.iter().position(|&b| b == 0).unwrap_or(d.comm.len());
                    String::from_utf8_lossy(&d.comm[..end]).into_owned()
                })
            });
            self.own.insert(
                group.clone(),
                Series {
                    labels,
                    stats: SchedStats::default(),
                    idle: 0,
                },
            );
        }
        for (group, d, _) in &deltas {
            match self.own.get_mut(group) {
                Some(s) => add(&mut s.stats, d),
                None => add(&mut self.other, d),
            }
        }
        self.events = snap.counters.events;
        self.lost = snap.counters.stats_map_full + snap.counters.threads_map_full;
    }

    fn families(&self) -> Vec<MetricFamily> {
        let mut rows: Vec<(Vec<(&str, String)>, &SchedStats)> = self
            .own
            .values()
            .map(|s| (s.labels.clone(), &s.stats))
            .collect();
        rows.push((self.grouping.other(), &self.other));
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let counter = |name: &str, help: &str, f: &dyn Fn(&SchedStats) -> f64| {
            family(
                name,
                help,
                MetricType::COUNTER,
                rows.iter()
                    .map(|(labels, s)| counter_metric(labels, f(s)))
                    .collect(),
            )
        };
        let switches = family(
            "govkit_sched_context_switches_total",
            "Context switches of the process's threads (kind: voluntary = blocked, involuntary = preempted).",
            MetricType::COUNTER,
            rows.iter()
                .flat_map(|(labels, s)| {
                    [
                        ("voluntary", s.voluntary_switches),
                        ("involuntary", s.involuntary_switches),
                    ]
                    .map(|(kind, v)| {
                        let mut l = labels.clone();
                        l.push(("kind", kind.to_owned()));
                        counter_metric(&l, float(v))
                    })
                })
                .collect(),
        );
        vec![
            switches,
            counter(
                "govkit_sched_migrations_total",
                "Moves of the process's threads to another CPU.",
                &|s| float(s.migrations),
            ),
            counter(
                "govkit_sched_numa_migrations_total",
                "Moves of the process's threads to a CPU of another NUMA node.",
                &|s| float(s.numa_migrations),
            ),
            counter(
                "govkit_sched_oncpu_seconds_total",
                "Time the process's threads ran on a CPU.",
                &|s| float(s.oncpu_ns) / 1e9,
            ),
            family(
                "govkit_sched_runqueue_latency_seconds",
                "Time from wakeup (or preemption) to running again: the run-queue wait.",
                MetricType::HISTOGRAM,
                rows.iter()
                    .map(|(labels, s)| histogram_metric(labels, &s.runq_hist, s.runq_sum_ns))
                    .collect(),
            ),
            family(
                "govkit_sched_offcpu_seconds",
                "Time from blocking (voluntary switch-out) to running again.",
                MetricType::HISTOGRAM,
                rows.iter()
                    .map(|(labels, s)| histogram_metric(labels, &s.offcpu_hist, s.offcpu_sum_ns))
                    .collect(),
            ),
        ]
    }
}

/// Connection-leak gauges with bounded cardinality.
#[derive(Debug)]
pub struct ConnSeries {
    top: usize,
    grouping: Grouping,
    /// Labels → leaked sockets now.
    leaked: Vec<(Vec<(&'static str, String)>, u64)>,
    tracked: u64,
    pub events: u64,
    pub lost: u64,
}

impl ConnSeries {
    /// (series of `govkit_tcp_leaked_connections` now, their bound).
    fn series(&self) -> (usize, usize) {
        (self.leaked.len(), self.top + 1)
    }

    /// Series for at most `top` workloads (processes, with `per_pid`) and
    /// one for the rest.
    #[must_use]
    pub fn new(top: usize, per_pid: bool) -> Self {
        Self {
            top,
            grouping: Grouping::new(per_pid),
            leaked: Vec::new(),
            tracked: 0,
            events: 0,
            lost: 0,
        }
    }

    pub fn update(&mut self, r: &Report) {
        let mut by_group: HashMap<Group, (u64, String)> = HashMap::new();
        for l in &r.leaks {
            // The owner is alive (it holds the socket): its cgroup now.
            let group = if self.grouping.per_pid {
                Group::Pid(l.pid)
            } else if l.cgroup.is_empty() {
                Group::Workload(self.grouping.resolver.of_process(l.pid, l.cgroup_id))
            } else {
                Group::Workload(self.grouping.resolver.of_path(&l.cgroup))
            };
            let e = by_group.entry(group).or_insert((0, l.comm.clone()));
            e.0 += l.count as u64;
        }
        let mut v: Vec<(Group, (u64, String))> = by_group.into_iter().collect();
        v.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.0.cmp(&b.0)));
        let other: u64 = v.iter().skip(self.top).map(|x| x.1.0).sum();
        self.leaked = v
            .into_iter()
            .take(self.top)
            .map(|(group, (n, comm))| (Grouping::labels(&group, || comm), n))
            .collect();
        self.leaked.push((self.grouping.other(), other));
        self.tracked = r.tracked_sockets as u64;
        self.events = r.counters.opens + r.counters.state_changes;
        self.lost = r.lost_events;
    }

    fn families(&self) -> Vec<MetricFamily> {
        vec![
            family(
                "govkit_tcp_leaked_connections",
                "TCP sockets in CLOSE_WAIT for at least --min-age (the peer closed, the owner never did).",
                MetricType::GAUGE,
                self.leaked
                    .iter()
                    .map(|(labels, n)| gauge_metric(labels, float(*n)))
                    .collect(),
            ),
            family(
                "govkit_tcp_tracked_connections",
                "TCP sockets the tracer is following.",
                MetricType::GAUGE,
                vec![gauge_metric(&[], float(self.tracked))],
            ),
        ]
    }
}

/// What the exporter serves; the tracers' loop updates it.
#[derive(Debug, Default)]
pub struct Exposition {
    pub sched: Option<SchedSeries>,
    pub conns: Option<ConnSeries>,
    /// Per-program BPF run time (with `--bpf-stats`).
    pub programs: Vec<ProgramCost>,
    /// The kernel hooks each tracer runs on: (tracer, hook), e.g.
    /// `("sched", "tp_btf/sched_switch")`.
    pub hooks: Vec<(String, String)>,
    /// When the tracers' loop last published (`/healthz`).
    pub published: Option<Instant>,
}

/// `/healthz` answers 503 once the tracers' loop has not published for
/// this long (it publishes every second, or every `trace serve
/// --interval`, whichever is longer).
#[must_use]
pub fn stale_after(interval: Duration) -> Duration {
    3 * interval.max(REFRESH) + Duration::from_secs(5)
}

struct TracerCollector {
    state: Arc<Mutex<Exposition>>,
    descs: Vec<Desc>,
}

impl Collector for TracerCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        let mut events = Vec::new();
        let mut lost = Vec::new();
        out.extend(series_families(&s));
        if let Some(sched) = &s.sched {
            out.extend(sched.families());
            events.push(counter_metric(
                &[("tracer", "sched".to_owned())],
                float(sched.events),
            ));
            lost.push(counter_metric(
                &[("tracer", "sched".to_owned())],
                float(sched.lost),
            ));
        }
        if let Some(c) = &s.conns {
            out.extend(c.families());
            events.push(counter_metric(
                &[("tracer", "connections".to_owned())],
                float(c.events),
            ));
            lost.push(counter_metric(
                &[("tracer", "connections".to_owned())],
                float(c.lost),
            ));
        }
        out.push(family(
            "govkit_trace_events_total",
            "Kernel events the tracer's eBPF programs handled.",
            MetricType::COUNTER,
            events,
        ));
        out.push(family(
            "govkit_trace_lost_events_total",
            "Kernel events that could not be recorded (full maps, ring-buffer drops).",
            MetricType::COUNTER,
            lost,
        ));
        if !s.hooks.is_empty() {
            out.push(family(
                "govkit_trace_hook_info",
                "The kernel hooks each tracer's eBPF programs are attached to (1 each).",
                MetricType::GAUGE,
                s.hooks
                    .iter()
                    .map(|(tracer, hook)| {
                        gauge_metric(&[("tracer", tracer.clone()), ("hook", hook.clone())], 1.0)
                    })
                    .collect(),
            ));
        }
        if !s.programs.is_empty() {
            out.push(family(
                "govkit_trace_bpf_run_seconds_total",
                "Run time of each eBPF program (kernel BPF statistics).",
                MetricType::COUNTER,
                s.programs
                    .iter()
                    .map(|p| {
                        counter_metric(
                            &[("program", p.program.clone())],
                            float(p.run_time_ns) / 1e9,
                        )
                    })
                    .collect(),
            ));
            out.push(family(
                "govkit_trace_bpf_runs_total",
                "Runs of each eBPF program (kernel BPF statistics).",
                MetricType::COUNTER,
                s.programs
                    .iter()
                    .map(|p| counter_metric(&[("program", p.program.clone())], float(p.runs)))
                    .collect(),
            ));
        }
        out
    }
}

/// `govkit_trace_series` and `govkit_trace_series_limit`, per tracer.
fn series_families(s: &Exposition) -> [MetricFamily; 2] {
    let mut series = Vec::new();
    let mut limits = Vec::new();
    let tracers = [
        ("sched", s.sched.as_ref().map(SchedSeries::series)),
        ("connections", s.conns.as_ref().map(ConnSeries::series)),
    ];
    for (tracer, counts) in tracers {
        if let Some((n, limit)) = counts {
            let l = [("tracer", tracer.to_owned())];
            series.push(gauge_metric(&l, float(n as u64)));
            limits.push(gauge_metric(&l, float(limit as u64)));
        }
    }
    [
        family(
            "govkit_trace_series",
            "Series of each of the tracer's per-workload metrics now (workloads, or processes with --per-pid, with their own series, plus \"other\").",
            MetricType::GAUGE,
            series,
        ),
        family(
            "govkit_trace_series_limit",
            "The most series a per-workload metric of the tracer can have (--top + 1), whatever the process churn.",
            MetricType::GAUGE,
            limits,
        ),
    ]
}

/// Every metric family the tracers export and its labels (besides the
/// exporter's own `govkit_trace_scrapes_total` and
/// `govkit_trace_last_scrape_duration_seconds`).
/// The per-workload families are listed with their default labels (the
/// workload's); with `--per-pid` they carry `pid` and `comm` instead.
pub const FAMILIES: &[(&str, &[&str])] = &[
    (
        "govkit_sched_context_switches_total",
        &["namespace", "pod", "container", "unit", "kind"],
    ),
    ("govkit_sched_migrations_total", &WORKLOAD_LABELS),
    ("govkit_sched_numa_migrations_total", &WORKLOAD_LABELS),
    ("govkit_sched_oncpu_seconds_total", &WORKLOAD_LABELS),
    ("govkit_sched_runqueue_latency_seconds", &WORKLOAD_LABELS),
    ("govkit_sched_offcpu_seconds", &WORKLOAD_LABELS),
    ("govkit_tcp_leaked_connections", &WORKLOAD_LABELS),
    ("govkit_trace_series", &["tracer"]),
    ("govkit_trace_series_limit", &["tracer"]),
    ("govkit_tcp_tracked_connections", &[]),
    ("govkit_trace_events_total", &["tracer"]),
    ("govkit_trace_lost_events_total", &["tracer"]),
    ("govkit_trace_hook_info", &["tracer", "hook"]),
    ("govkit_trace_bpf_run_seconds_total", &["program"]),
    ("govkit_trace_bpf_runs_total", &["program"]),
];

/// Descriptors of every family the collector can produce (the registry
/// refuses a second collector with the same names).
fn descs() -> prometheus::Result<Vec<Desc>> {
    FAMILIES
        .iter()
        .map(|(name, labels)| {
            Desc::new(
                (*name).to_owned(),
                (*name).to_owned(),
                labels.iter().map(|&l| l.to_owned()).collect(),
                HashMap::new(),
            )
        })
        .collect()
}

#[expect(
    clippy::cast_precision_loss,
    reason = "counters stay far below 2^52; Prometheus values are f64"
)]
fn float(v: u64) -> f64 {
    v as f64
}

fn labels(l: &[(&str, String)]) -> Vec<LabelPair> {
    l.iter()
        .map(|(k, v)| {
            let mut p = LabelPair::default();
            p.set_name((*k).to_owned());
            p.set_value(v.clone());
            p
        })
        .collect()
}

fn counter_metric(l: &[(&str, String)], v: f64) -> proto::Metric {
    let mut m = proto::Metric::default();
    m.set_label(labels(l));
    let mut c = proto::Counter::default();
    c.set_value(v);
    m.set_counter(c);
    m
}

fn gauge_metric(l: &[(&str, String)], v: f64) -> proto::Metric {
    let mut m = proto::Metric::default();
    m.set_label(labels(l));
    let mut g = proto::Gauge::default();
    g.set_value(v);
    m.set_gauge(g);
    m
}

/// A log2 µs histogram as a Prometheus histogram in seconds: bucket `i`
/// holds values below 2^(i+1) µs.
fn histogram_metric(l: &[(&str, String)], hist: &[u64; HIST_SLOTS], sum_ns: u64) -> proto::Metric {
    let mut m = proto::Metric::default();
    m.set_label(labels(l));
    let mut h = proto::Histogram::default();
    let mut cumulative = 0;
    let buckets = (0..EXPORTED_SLOTS)
        .map(|i| {
            cumulative += hist[i];
            let mut b = proto::Bucket::default();
            b.set_cumulative_count(cumulative);
            b.set_upper_bound(float(1u64 << (i + 1)) / 1e6);
            b
        })
        .collect();
    h.set_bucket(buckets);
    // The histogram's own total, so +Inf is consistent (the kernel
    // updates the count and the slot separately; a reading can fall between).
    let total: u64 = hist.iter().sum();
    h.set_sample_count(total);
    h.set_sample_sum(float(sum_ns) / 1e9);
    m.set_histogram(h);
    m
}

fn family(name: &str, help: &str, ty: MetricType, metrics: Vec<proto::Metric>) -> MetricFamily {
    let mut f = MetricFamily::default();
    f.set_name(name.to_owned());
    f.set_help(help.to_owned());
    f.set_field_type(ty);
    f.set_metric(metrics);
    f
}

/// A running `/metrics` endpoint.
pub struct Exporter {
    pub state: Arc<Mutex<Exposition>>,
    server: Server,
    pub addr: SocketAddr,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// What the web configuration turns on (TLS, client certificates,
    /// basic auth), for the start-up line.
    pub web: String,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Exporter {
    /// Listens on `addr` and serves `/metrics` and `/healthz` from a
    /// thread, under `web`'s TLS and authentication; `/healthz` fails once
    /// nothing was published for `unhealthy_after`.
    pub fn start(
        addr: &str,
        web: WebConfig,
        state: Exposition,
        unhealthy_after: Duration,
    ) -> Result<Self, TraceError> {
        let scheme = web.scheme();
        let summary = web.summary.clone();
        let state = Arc::new(Mutex::new(state));
        let registry = Registry::new();
        let scrapes = IntCounter::with_opts(Opts::new(
            "govkit_trace_scrapes_total",
            "Scrapes of this endpoint served.",
        ))
        .map_err(metrics_error)?;
        let last = Gauge::with_opts(Opts::new(
            "govkit_trace_last_scrape_duration_seconds",
            "Time the previous scrape took to collect and encode.",
        ))
        .map_err(metrics_error)?;
        registry
            .register(Box::new(scrapes.clone()))
            .map_err(metrics_error)?;
        registry
            .register(Box::new(last.clone()))
            .map_err(metrics_error)?;
        registry
            .register(Box::new(TracerCollector {
                state: Arc::clone(&state),
                descs: descs().map_err(metrics_error)?,
            }))
            .map_err(metrics_error)?;
        let health = Health {
            state: Arc::clone(&state),
            started: Instant::now(),
            stale: unhealthy_after,
        };
        let server = Server::start(
            addr,
            web,
            Arc::new(move |req: &Request<'_>| serve(req, &registry, &scrapes, &last, &health)),
        )?;
        Ok(Self {
            state,
            addr: server.addr,
            server,
            scheme,
            web: summary,
        })
    }

    /// Stops serving and waits for the server thread.
    /// Publishes the tracers' latest figures for the next scrapes: a
    /// connections report, a scheduler snapshot (each only where the
    /// exposition has its series), and the programs' run-time costs.
    pub fn publish(
        &self,
        conns: Option<&Report>,
        sched: Option<&Snapshot>,
        programs: Vec<ProgramCost>,
    ) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let (Some(series), Some(report)) = (state.conns.as_mut(), conns) {
            series.update(report);
        }
        if let (Some(series), Some(snap)) = (state.sched.as_mut(), sched) {
            series.update(snap);
        }
        state.programs = programs;
        state.published = Some(Instant::now());
    }

    /// Adds the kernel hooks `tracer` runs on to `govkit_trace_hook_info`.
    pub fn add_hooks(&self, tracer: &str, hooks: &[String]) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .hooks
            .extend(hooks.iter().map(|h| (tracer.to_owned(), h.clone())));
    }

    pub fn stop(self) {
        self.server.stop();
    }
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "used as map_err(metrics_error)"
)]
fn metrics_error(e: prometheus::Error) -> TraceError {
    TraceError::Environment(format!("setting up metrics: {e}"))
}

/// What `/healthz` looks at: whether the tracers' loop still publishes.
struct Health {
    state: Arc<Mutex<Exposition>>,
    started: Instant,
    stale: Duration,
}

impl Health {
    /// 200 while the loop publishes (and during the first `stale` after
    /// start, before its first figures), 503 with the reason once it has
    /// stopped: a probe that costs a lock, not a scrape.
    fn check(&self) -> (u16, String) {
        let published = self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .published;
        let since = published.unwrap_or(self.started).elapsed();
        if since <= self.stale {
            (200, "ok\n".to_owned())
        } else if published.is_none() {
            (
                503,
                format!("no figures published in {}s since start\n", since.as_secs()),
            )
        } else {
            (
                503,
                format!("no figures published for {}s\n", since.as_secs()),
            )
        }
    }
}

fn serve(
    req: &Request<'_>,
    registry: &Registry,
    scrapes: &IntCounter,
    last: &Gauge,
    health: &Health,
) -> Response {
    match (req.method, req.path) {
        ("GET", "/healthz") => {
            let (code, body) = health.check();
            Response::new(code, "text/plain", body)
        }
        ("GET", "/metrics") => {
            let t = Instant::now();
            let mut body = Vec::new();
            let encoder = TextEncoder::new();
            let families = registry.gather();
            match encoder.encode(&families, &mut body) {
                Ok(()) => {
                    scrapes.inc();
                    last.set(t.elapsed().as_secs_f64());
                    Response::new(200, prometheus::TEXT_FORMAT, body)
                }
                Err(e) => Response::new(500, "text/plain", e.to_string()),
            }
        }
        ("GET", "/") => Response::new(
            200,
            "text/html",
            "<html><body><a href=\"/metrics\">/metrics</a></body></html>\n",
        ),
        ("GET", _) => Response::new(404, "text/plain", "not found\n"),
        _ => Response::new(405, "text/plain", "method not allowed\n"),
    }
}

/// How long the serve loop waits between refreshes at most.
pub const REFRESH: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::SchedCounters;

    #[test]
    fn healthz_fails_once_the_loop_stops_publishing() {
        let ago = |s: u64| {
            Instant::now()
                .checked_sub(Duration::from_secs(s))
                .unwrap_or_else(|| panic!("the clock starts less than {s}s ago"))
        };
        let health = |started: Instant, published: Option<Instant>| Health {
            state: Arc::new(Mutex::new(Exposition {
                published,
                ..Exposition::default()
            })),
            started,
            stale: Duration::from_secs(10),
        };
        // Starting: no figures yet, but not for long.
        assert_eq!(health(ago(2), None).check(), (200, "ok\n".to_owned()));
        assert_eq!(
            health(ago(30), None).check(),
            (503, "no figures published in 30s since start\n".to_owned())
        );
        assert_eq!(
            health(ago(60), Some(ago(1))).check(),
            (200, "ok\n".to_owned())
        );
        assert_eq!(
            health(ago(60), Some(ago(20))).check(),
            (503, "no figures published for 20s\n".to_owned())
        );
        // Three intervals of `trace serve`, or of the 1 s refresh.
        assert_eq!(
            stale_after(Duration::from_secs(10)),
            Duration::from_secs(35)
        );
        assert_eq!(
            stale_after(Duration::from_millis(200)),
            Duration::from_secs(8)
        );
    }

    fn stats(switches: u64) -> SchedStats {
        let mut s = SchedStats {
            voluntary_switches: switches,
            runq_count: switches,
            ..SchedStats::default()
        };
        s.runq_hist[3] = switches;
        s.comm[..4].copy_from_slice(b"proc");
        s
    }

    /// Cumulative kernel readings for (pid, switches); pids far above
    /// `pid_max` so that /proc never has them.
    fn snap(procs: &[(u32, u64)]) -> Snapshot {
        Snapshot {
            at: Instant::now(),
            entries: procs
                .iter()
                .map(|&(pid, n)| (SchedKey { tgid: pid, tid: 0 }, stats(n)))
                .collect(),
            counters: SchedCounters::default(),
        }
    }

    fn exported(s: &SchedSeries) -> HashMap<String, u64> {
        let mut m: HashMap<String, u64> = s
            .own
            .iter()
            .map(|(g, v)| {
                let name = match g {
                    Group::Pid(p) => p.to_string(),
                    Group::Workload(w) => w.unit.clone(),
                };
                (name, v.stats.voluntary_switches)
            })
            .collect();
        m.insert("other".to_owned(), s.other.voluntary_switches);
        m
    }

    /// By default processes are summed per workload: two processes of one
    /// cgroup (one of them exited, found by the cgroup id the kernel
    /// recorded) are one series, and a process whose cgroup cannot be found
    /// is "(unknown)", not someone else's.
    #[test]
    fn processes_of_one_workload_share_one_series() {
        use std::os::unix::fs::MetadataExt;
        let (Some(root), Some(path)) = (
            crate::procfs::cgroup2_mount(),
            crate::procfs::cgroup_of(std::process::id()),
        ) else {
            return; // no cgroup v2 here
        };
        let ino = std::fs::metadata(root.join(path.trim_start_matches('/'))).map_or(0, |m| m.ino());
        let reading = |me: u64, gone: u64, lost: u64| {
            let mut snap = snap(&[
                (std::process::id(), me),
                (4_000_001, gone),
                (4_000_002, lost),
            ]);
            for (k, st) in &mut snap.entries {
                st.cgroup_id = if k.tgid == 4_000_002 { 0 } else { ino };
            }
            snap
        };
        let mut s = SchedSeries::new(5, false);
        s.update(&reading(10, 20, 7));
        s.update(&reading(15, 30, 9));
        let mine = Resolver::default().of_process(std::process::id(), 0);
        let got = exported(&s);
        assert_eq!(got.get(&mine.unit), Some(&45), "{got:?}");
        assert_eq!(got.get("(unknown)"), Some(&9), "{got:?}");
        assert_eq!(s.own.len(), 2);
        assert_eq!(s.series(), (3, 6));
    }

    #[test]
    fn top_n_get_series_the_rest_is_other_and_nothing_is_lost() {
        let mut s = SchedSeries::new(2, true);
        s.update(&snap(&[(900_001, 100), (900_002, 50), (900_003, 10)]));
        let e = exported(&s);
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!(e["900001"], 100);
        assert_eq!(e["900002"], 50);
        assert_eq!(e["other"], 10);
        s.update(&snap(&[(900_001, 150), (900_002, 60), (900_003, 30)]));
        let e = exported(&s);
        assert_eq!((e["900001"], e["900002"], e["other"]), (150, 60, 30));
        assert_eq!(e.values().sum::<u64>(), 150 + 60 + 30);
    }

    #[test]
    fn a_much_busier_process_takes_the_weakest_slot_and_counters_only_grow() {
        let mut s = SchedSeries::new(2, true);
        s.update(&snap(&[(900_001, 100), (900_002, 50), (900_003, 0)]));
        let before = exported(&s);
        // 900003 does 1000 in the interval, 900002 only 1: takeover.
        s.update(&snap(&[(900_001, 200), (900_002, 51), (900_003, 1000)]));
        let after = exported(&s);
        assert!(
            after.contains_key("900003") && !after.contains_key("900002"),
            "{after:?}"
        );
        // The series starts when the slot is taken; the loser's last
        // interval goes to "other", which never decreases.
        assert_eq!(after["900003"], 1000);
        assert_eq!(after["other"], before["other"] + 1);
        // Not 4x busier: no takeover.
        s.update(&snap(&[(900_001, 300), (900_002, 150), (900_003, 2000)]));
        assert!(!exported(&s).contains_key("900002"));
    }

    #[test]
    fn exited_and_idle_processes_lose_their_series() {
        let mut s = SchedSeries::new(4, true);
        s.update(&snap(&[(900_001, 100), (900_002, 50)]));
        s.update(&snap(&[(900_001, 100)])); // 900002 gone
        assert!(!exported(&s).contains_key("900002"));
        for _ in 0..IDLE_REFRESHES {
            s.update(&snap(&[(900_001, 100)]));
        }
        assert!(!exported(&s).contains_key("900001"));
        assert_eq!(exported(&s)["other"], 0);
    }

    #[test]
    fn histograms_are_cumulative_in_seconds_with_a_consistent_count() {
        let mut h = [0u64; HIST_SLOTS];
        h[0] = 1;
        h[3] = 2;
        h[HIST_SLOTS - 1] = 4; // beyond the last exported bucket: only +Inf
        let m = histogram_metric(&[], &h, 3_000_000_000);
        let hist = m.get_histogram();
        assert_eq!(hist.get_sample_count(), 7);
        assert!((hist.get_sample_sum() - 3.0).abs() < 1e-9);
        let b = hist.get_bucket();
        assert_eq!(b.len(), EXPORTED_SLOTS);
        assert!((b[0].upper_bound() - 0.000_002).abs() < 1e-12);
        assert_eq!(b[0].cumulative_count(), 1);
        assert_eq!(b[3].cumulative_count(), 3);
        assert_eq!(b[EXPORTED_SLOTS - 1].cumulative_count(), 3);
    }
}
