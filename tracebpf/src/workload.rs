//! Which workload a process belongs to, from its cgroup v2 path: the
//! Kubernetes pod and container, the container outside Kubernetes, or the
//! systemd unit. This is what the exporter's series are keyed by (per-pid
//! series only on request): SREs alert on pods and units, and a pid is gone
//! with the process, so per-pid series churn without bound on a build host.
//!
//! Path shapes understood (kubelet's two cgroup drivers, containerd, CRI-O,
//! Docker via cri-dockerd, nested under kind's `kubelet.slice`, and plain
//! systemd):
//!
//! ```text
//! /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>.slice/cri-containerd-<id>.scope
//! /kubepods.slice/kubepods-pod<uid>.slice/crio-<id>.scope            (CRI-O; crio-conmon-<id>.scope: its monitor)
//! /kubepods/besteffort/pod<uid-with-dashes>/<id>                     (cgroupfs driver)
//! /system.slice/docker-<id>.scope, /docker/<id>, /machine.slice/libpod-<id>.scope
//! /system.slice/nginx.service, /user.slice/user-1000.slice/session-3.scope
//! ```
//!
//! Names the path does not hold (a pod's name and namespace, a container's
//! name) come from kubelet's log folders (`/var/log/pods/NS_POD_UID`,
//! `/var/log/containers/POD_NS_CONTAINER-ID.log`) when they are readable;
//! otherwise the pod is named by its UID and the container by its short id,
//! which identify them exactly, never by a guess.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The labels a series is keyed by. Empty strings for what does not apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Workload {
    /// Kubernetes namespace (empty when not a pod, or its name is unknown).
    pub namespace: String,
    /// Pod name, or its UID when the name cannot be read.
    pub pod: String,
    /// Container name, or its 12-character id when the name cannot be read.
    pub container: String,
    /// The systemd unit (`nginx.service`, `session-3.scope`), or the cgroup
    /// path when it is neither a unit nor a container (`/` for the root
    /// cgroup: kernel threads); `(unknown)` when the cgroup could not be
    /// found.
    pub unit: String,
}

/// The label names, in order.
pub const LABELS: [&str; 4] = ["namespace", "pod", "container", "unit"];

impl Workload {
    #[must_use]
    pub fn labels(&self) -> Vec<(&'static str, String)> {
        vec![
            (LABELS[0], self.namespace.clone()),
            (LABELS[1], self.pod.clone()),
            (LABELS[2], self.container.clone()),
            (LABELS[3], self.unit.clone()),
        ]
    }

    /// The series everything beyond the limit is summed into.
    #[must_use]
    pub fn other() -> Self {
        Self {
            unit: "other".to_owned(),
            ..Self::default()
        }
    }

    /// A process whose cgroup could not be found.
    #[must_use]
    pub fn unknown() -> Self {
        Self {
            unit: "(unknown)".to_owned(),
            ..Self::default()
        }
    }
}

/// What a cgroup path says by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A Kubernetes pod (its UID, with dashes) and, when the path goes down
    /// to one, its container's id; `monitor`: CRI-O's conmon for it.
    Pod {
        uid: String,
        container: Option<String>,
        monitor: bool,
    },
    /// A container outside Kubernetes (Docker, Podman).
    Container { id: String },
    /// A systemd unit: the innermost `.service` or `.scope` (or `.slice`).
    Unit(String),
    /// Any other cgroup: its path.
    Cgroup(String),
}

/// Whether a cgroup name ends with the systemd unit suffix `kind` (unit
/// names are case-sensitive: `.Service` is not a service).
fn has_suffix(name: &str, kind: &str) -> bool {
    name.strip_suffix(kind).is_some_and(|stem| !stem.is_empty())
}

fn is_hex_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A pod UID (36 characters, dashes or, in systemd slice names,
/// underscores), with dashes.
fn pod_uid(s: &str) -> Option<String> {
    let uid = s.replace('_', "-");
    let ok = uid.len() == 36
        && uid.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        });
    ok.then_some(uid)
}

/// The pod UID a path segment names: `pod<uid>` (cgroupfs) or
/// `…-pod<uid>.slice` (systemd).
fn pod_segment(seg: &str) -> Option<String> {
    if let Some(rest) = seg.strip_prefix("pod") {
        return pod_uid(rest);
    }
    let inner = seg.strip_suffix(".slice")?;
    let at = inner.rfind("-pod")?;
    pod_uid(&inner[at + 4..])
}

/// The container id a segment names, and whether it is CRI-O's monitor.
fn container_segment(seg: &str) -> Option<(String, bool)> {
    if is_hex_id(seg) {
        return Some((seg.to_owned(), false));
    }
    let inner = seg.strip_suffix(".scope")?;
    for (prefix, monitor) in [
        ("cri-containerd-", false),
        ("crio-conmon-", true),
        ("crio-", false),
        ("docker-", false),
        ("libpod-", false),
        ("cri-dockerd-", false),
    ] {
        if let Some(id) = inner.strip_prefix(prefix)
            && is_hex_id(id)
        {
            return Some((id.to_owned(), monitor));
        }
    }
    None
}

/// What the cgroup v2 `path` (as in /proc/PID/cgroup, `/` for the root)
/// says about its workload.
#[must_use]
pub fn parse(path: &str) -> Parsed {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(i) = segs.iter().position(|s| pod_segment(s).is_some()) {
        let uid = pod_segment(segs[i]).unwrap_or_default();
        let (container, monitor) = segs
            .get(i + 1)
            .and_then(|s| container_segment(s))
            .map_or((None, false), |(id, m)| (Some(id), m));
        return Parsed::Pod {
            uid,
            container,
            monitor,
        };
    }
    for (i, seg) in segs.iter().enumerate().rev() {
        if let Some((id, _)) = container_segment(seg)
            && (has_suffix(seg, ".scope") || i > 0 && matches!(segs[i - 1], "docker" | "libpod"))
        {
            return Parsed::Container { id };
        }
    }
    if let Some(unit) = segs
        .iter()
        .rev()
        .find(|s| has_suffix(s, ".service") || has_suffix(s, ".scope"))
        .or_else(|| segs.last().filter(|s| has_suffix(s, ".slice")))
    {
        return Parsed::Unit((*unit).to_owned());
    }
    Parsed::Cgroup(if segs.is_empty() {
        "/".to_owned()
    } else {
        format!("/{}", segs.join("/"))
    })
}

fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

/// Names kubelet's log folders give: pod UID → (namespace, pod), container
/// id → container name.
#[derive(Debug, Default)]
pub struct Names {
    pods: HashMap<String, (String, String)>,
    containers: HashMap<String, String>,
}

impl Names {
    /// Reads `pods_dir` (`NAMESPACE_POD_UID` folders) and `containers_dir`
    /// (`POD_NAMESPACE_CONTAINER-ID.log` links); what cannot be read is
    /// simply not named.
    #[must_use]
    pub fn read(pods_dir: &Path, containers_dir: &Path) -> Self {
        let names = |dir: &Path| -> Vec<String> {
            std::fs::read_dir(dir)
                .map(|rd| {
                    rd.filter_map(Result::ok)
                        .filter_map(|e| e.file_name().into_string().ok())
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut out = Self::default();
        for name in names(pods_dir) {
            // Namespaces and pod names are DNS names: no underscore.
            let mut parts = name.splitn(3, '_');
            if let (Some(ns), Some(pod), Some(uid)) = (parts.next(), parts.next(), parts.next())
                && let Some(uid) = pod_uid(uid)
            {
                out.pods.insert(uid, (ns.to_owned(), pod.to_owned()));
            }
        }
        for name in names(containers_dir) {
            let Some(stem) = name.strip_suffix(".log") else {
                continue;
            };
            let mut parts = stem.splitn(3, '_');
            if let (Some(_pod), Some(_ns), Some(rest)) = (parts.next(), parts.next(), parts.next())
                && let Some((container, id)) = rest.rsplit_once('-')
                && is_hex_id(id)
            {
                out.containers.insert(id.to_owned(), container.to_owned());
            }
        }
        out
    }

    /// The workload of a parsed path, named as far as these names go.
    #[must_use]
    pub fn workload(&self, parsed: &Parsed) -> Workload {
        match parsed {
            Parsed::Pod {
                uid,
                container,
                monitor,
            } => {
                let (namespace, pod) = self
                    .pods
                    .get(uid)
                    .cloned()
                    .unwrap_or_else(|| (String::new(), uid.clone()));
                let container = container.as_ref().map_or_else(String::new, |id| {
                    let name = self
                        .containers
                        .get(id)
                        .cloned()
                        .unwrap_or_else(|| short(id));
                    if *monitor {
                        format!("{name} (conmon)")
                    } else {
                        name
                    }
                });
                Workload {
                    namespace,
                    pod,
                    container,
                    unit: String::new(),
                }
            }
            Parsed::Container { id } => Workload {
                container: short(id),
                ..Workload::default()
            },
            Parsed::Unit(unit) | Parsed::Cgroup(unit) => Workload {
                unit: unit.clone(),
                ..Workload::default()
            },
        }
    }

    fn knows(&self, parsed: &Parsed) -> bool {
        match parsed {
            Parsed::Pod { uid, container, .. } => {
                self.pods.contains_key(uid)
                    && container
                        .as_ref()
                        .is_none_or(|id| self.containers.contains_key(id))
            }
            _ => true,
        }
    }
}

/// Kubelet's log folders, where the `DaemonSet` mounts them (read only).
pub const POD_LOGS: &str = "/var/log/pods";
pub const CONTAINER_LOGS: &str = "/var/log/containers";

/// How often the log folders and the cgroup tree are read again at most,
/// when a process names something not seen yet.
const RESCAN: Duration = Duration::from_secs(10);

/// Resolves processes to workloads: the live process's cgroup from /proc,
/// else (it exited) the cgroup id the kernel recorded when it first ran,
/// through the cgroup tree.
#[derive(Debug)]
pub struct Resolver {
    cgroup_root: Option<PathBuf>,
    pods_dir: PathBuf,
    containers_dir: PathBuf,
    names: Names,
    names_at: Option<Instant>,
    ids: HashMap<u64, String>,
    ids_at: Option<Instant>,
}

impl Default for Resolver {
    fn default() -> Self {
        Self::new(
            crate::procfs::cgroup2_mount(),
            Path::new(POD_LOGS),
            Path::new(CONTAINER_LOGS),
        )
    }
}

impl Resolver {
    #[must_use]
    pub fn new(cgroup_root: Option<PathBuf>, pods_dir: &Path, containers_dir: &Path) -> Self {
        Self {
            cgroup_root,
            pods_dir: pods_dir.to_owned(),
            containers_dir: containers_dir.to_owned(),
            names: Names::default(),
            names_at: None,
            ids: HashMap::new(),
            ids_at: None,
        }
    }

    /// The workload of the cgroup at `path`.
    pub fn of_path(&mut self, path: &str) -> Workload {
        let parsed = parse(path);
        if !self.names.knows(&parsed) && self.names_at.is_none_or(|t| t.elapsed() >= RESCAN) {
            self.names = Names::read(&self.pods_dir, &self.containers_dir);
            self.names_at = Some(Instant::now());
        }
        self.names.workload(&parsed)
    }

    /// The workload of process `pid`: its cgroup now if it is alive, else
    /// the cgroup with id `cgroup_id` (0: none recorded).
    pub fn of_process(&mut self, pid: u32, cgroup_id: u64) -> Workload {
        if let Some(path) = crate::procfs::cgroup_of(pid) {
            return self.of_path(&path);
        }
        match self.path_of_id(cgroup_id) {
            Some(path) => self.of_path(&path),
            None => Workload::unknown(),
        }
    }

    /// The path of the cgroup whose directory has inode `id` (what the
    /// kernel's cgroup id is), walking the tree again when `id` is new.
    fn path_of_id(&mut self, id: u64) -> Option<String> {
        if id == 0 {
            return None;
        }
        if !self.ids.contains_key(&id) && self.ids_at.is_none_or(|t| t.elapsed() >= RESCAN / 10) {
            self.ids = self
                .cgroup_root
                .as_deref()
                .map(cgroup_ids)
                .unwrap_or_default();
            self.ids_at = Some(Instant::now());
        }
        self.ids.get(&id).cloned()
    }
}

/// Every cgroup under `root`: directory inode → path (`/` for the root).
fn cgroup_ids(root: &Path) -> HashMap<u64, String> {
    use std::os::unix::fs::MetadataExt;
    let mut out = HashMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&dir) else {
            continue;
        };
        let rel = dir.strip_prefix(root).unwrap_or(Path::new(""));
        out.insert(meta.ino(), format!("/{}", rel.display()));
        if let Ok(rd) = std::fs::read_dir(&dir) {
            stack.extend(
                rd.filter_map(Result::ok)
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path()),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f1b9c2d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c";
    const UID: &str = "8a5e1b2c-3d4f-4a6b-9c8d-7e6f5a4b3c2d";
    const UID_SYSTEMD: &str = "8a5e1b2c_3d4f_4a6b_9c8d_7e6f5a4b3c2d";

    fn pod(container: Option<&str>, monitor: bool) -> Parsed {
        Parsed::Pod {
            uid: UID.to_owned(),
            container: container.map(str::to_owned),
            monitor,
        }
    }

    #[test]
    #[expect(clippy::too_many_lines, reason = "one table of path shapes")]
    fn kubelet_containerd_crio_docker_and_systemd_paths() {
        let cases = [
            // kubelet, systemd cgroup driver, containerd, each QoS class.
            (
                format!(
                    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_SYSTEMD}.slice/cri-containerd-{ID}.scope"
                ),
                pod(Some(ID), false),
            ),
            (
                format!(
                    "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_SYSTEMD}.slice/cri-containerd-{ID}.scope"
                ),
                pod(Some(ID), false),
            ),
            (
                format!(
                    "/kubepods.slice/kubepods-pod{UID_SYSTEMD}.slice/cri-containerd-{ID}.scope"
                ),
                pod(Some(ID), false),
            ),
            // CRI-O, and its per-container monitor.
            (
                format!(
                    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_SYSTEMD}.slice/crio-{ID}.scope"
                ),
                pod(Some(ID), false),
            ),
            (
                format!(
                    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_SYSTEMD}.slice/crio-conmon-{ID}.scope"
                ),
                pod(Some(ID), true),
            ),
            // Docker through cri-dockerd.
            (
                format!("/kubepods.slice/kubepods-pod{UID_SYSTEMD}.slice/docker-{ID}.scope"),
                pod(Some(ID), false),
            ),
            // kubelet, cgroupfs driver.
            (
                format!("/kubepods/burstable/pod{UID}/{ID}"),
                pod(Some(ID), false),
            ),
            (format!("/kubepods/pod{UID}/{ID}"), pod(Some(ID), false)),
            // A process in the pod's own cgroup (no container below it).
            (format!("/kubepods/besteffort/pod{UID}"), pod(None, false)),
            // kind: the node's kubelet nests under kubelet.slice.
            (
                format!(
                    "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{UID_SYSTEMD}.slice/cri-containerd-{ID}.scope"
                ),
                pod(Some(ID), false),
            ),
            // Containers outside Kubernetes.
            (
                format!("/system.slice/docker-{ID}.scope"),
                Parsed::Container { id: ID.to_owned() },
            ),
            (
                format!("/docker/{ID}"),
                Parsed::Container { id: ID.to_owned() },
            ),
            (
                format!("/machine.slice/libpod-{ID}.scope"),
                Parsed::Container { id: ID.to_owned() },
            ),
            // systemd.
            (
                "/system.slice/nginx.service".to_owned(),
                Parsed::Unit("nginx.service".to_owned()),
            ),
            (
                "/system.slice/containerd.service".to_owned(),
                Parsed::Unit("containerd.service".to_owned()),
            ),
            (
                "/user.slice/user-1000.slice/session-3.scope".to_owned(),
                Parsed::Unit("session-3.scope".to_owned()),
            ),
            (
                "/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-1234.scope"
                    .to_owned(),
                Parsed::Unit("app-firefox-1234.scope".to_owned()),
            ),
            // A delegated subtree under a service: the service.
            (
                "/system.slice/buildkitd.service/runner/job-7".to_owned(),
                Parsed::Unit("buildkitd.service".to_owned()),
            ),
            (
                "/init.scope".to_owned(),
                Parsed::Unit("init.scope".to_owned()),
            ),
            (
                "/user.slice".to_owned(),
                Parsed::Unit("user.slice".to_owned()),
            ),
            ("/".to_owned(), Parsed::Cgroup("/".to_owned())),
            (String::new(), Parsed::Cgroup("/".to_owned())),
            (
                "/ci/job-42".to_owned(),
                Parsed::Cgroup("/ci/job-42".to_owned()),
            ),
            // Near misses: not a UID, not an id.
            (
                "/kubepods/podnotauid/abc".to_owned(),
                Parsed::Cgroup("/kubepods/podnotauid/abc".to_owned()),
            ),
            (
                "/system.slice/docker-abc.scope".to_owned(),
                Parsed::Unit("docker-abc.scope".to_owned()),
            ),
        ];
        for (path, want) in cases {
            assert_eq!(parse(&path), want, "{path}");
        }
    }

    #[test]
    fn names_come_from_kubelets_log_folders_or_stay_ids() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let pods = dir.path().join("pods");
        let containers = dir.path().join("containers");
        std::fs::create_dir_all(pods.join(format!("shop_checkout-7d9f8b6c5-x2k4q_{UID}/api")))
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(&containers).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            containers.join(format!("checkout-7d9f8b6c5-x2k4q_shop_api-{ID}.log")),
            "",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let named = Names::read(&pods, &containers);
        assert_eq!(
            named.workload(&pod(Some(ID), false)),
            Workload {
                namespace: "shop".to_owned(),
                pod: "checkout-7d9f8b6c5-x2k4q".to_owned(),
                container: "api".to_owned(),
                unit: String::new(),
            }
        );
        assert_eq!(
            named.workload(&pod(Some(ID), true)).container,
            "api (conmon)"
        );
        // Without the folders: the UID and the short id, not a guess.
        let bare = Names::read(&dir.path().join("none"), &dir.path().join("none"));
        assert_eq!(
            bare.workload(&pod(Some(ID), false)),
            Workload {
                namespace: String::new(),
                pod: UID.to_owned(),
                container: ID[..12].to_owned(),
                unit: String::new(),
            }
        );
    }

    #[test]
    fn this_hosts_own_cgroup_resolves() {
        let Some(path) = crate::procfs::cgroup_of(std::process::id()) else {
            return; // no cgroup v2 here
        };
        let mut r = Resolver::default();
        let w = r.of_process(std::process::id(), 0);
        assert_ne!(w, Workload::unknown(), "{path}");
        assert_eq!(r.of_path(&path), w);
        // An exited process found by the id the kernel records, the inode
        // of its cgroup directory.
        if let Some(root) = crate::procfs::cgroup2_mount() {
            use std::os::unix::fs::MetadataExt;
            let dir = root.join(path.trim_start_matches('/'));
            let ino = std::fs::metadata(&dir).map_or(0, |m| m.ino());
            assert_eq!(r.of_process(u32::MAX, ino), w, "{}", dir.display());
        }
        assert_eq!(r.of_process(u32::MAX, 0), Workload::unknown());
    }
}
