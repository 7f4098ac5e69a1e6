//! deploy/: the Prometheus rules and config pass promtool (syntax and the
//! alerts' unit tests), the Grafana dashboard's queries are valid `PromQL`,
//! and everything refers only to metrics govkit exports; the `DaemonSet` is
//! schema-valid and least-privilege.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{stderr, stdout};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// Runs a checker (`what`: where it comes from), which must succeed;
/// returns its stdout and stderr.
fn checked(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} ({what}): {e}"));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{cmd:?}:\n{text}");
    text
}

fn promtool(args: &[&str]) {
    checked(
        Command::new("promtool")
            .args(args)
            .current_dir(deploy().join("prometheus")),
        "Debian package prometheus",
    );
}

#[test]
fn prometheus_rules_config_and_alert_unit_tests_pass_promtool() {
    promtool(&["check", "rules", "alerts.yml"]);
    // Each alert fires on its situation and not on its look-alike.
    promtool(&["test", "rules", "alerts.test.yml"]);
    promtool(&["check", "config", "prometheus.yml"]);
}

/// Every `govkit_…` name in `text`, without histogram suffixes.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("govkit_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        names.insert(base.to_owned());
        rest = &tail[end..];
    }
    names
}

fn exported() -> BTreeSet<String> {
    tracebpf::metrics::FAMILIES
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .chain([
            "govkit_trace_scrapes_total".to_owned(),
            "govkit_trace_last_scrape_duration_seconds".to_owned(),
        ])
        .collect()
}

#[test]
fn dashboard_queries_are_valid_promql_over_exported_metrics() {
    let path = deploy().join("grafana/govkit-trace.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let dash: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let exprs: Vec<String> = dash["panels"]
        .as_array()
        .unwrap_or_else(|| panic!("no panels"))
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_owned))
        .collect();
    assert!(exprs.len() >= 10, "{exprs:?}");
    // promtool has no expression checker, but it parses rule expressions:
    // one recording rule per query, Grafana's variables substituted.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, e) in exprs.iter().enumerate() {
        let e = e.replace("$__rate_interval", "5m").replace("$node", ".*");
        let quoted = serde_json::to_string(&e).unwrap_or_default();
        writeln!(
            rules,
            "      - record: dashboard:q{i}\n        expr: {quoted}"
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let file = dir.path().join("dashboard.rules.yml");
    std::fs::write(&file, rules).unwrap_or_else(|e| panic!("{e}"));
    promtool(&["check", "rules", &file.display().to_string()]);
    let unknown: Vec<String> = metric_names(&text)
        .difference(&exported())
        .cloned()
        .collect();
    assert!(
        unknown.is_empty(),
        "dashboard uses metrics govkit does not export: {unknown:?}"
    );
    // One unit per panel (no seconds and counts on one axis), and no panel
    // that needs --bpf-stats, which the shipped DaemonSet does not turn on.
    let daemonset = std::fs::read_to_string(deploy().join("kubernetes/daemonset.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let bpf_stats = daemonset
        .lines()
        .any(|l| l.trim_start().starts_with("- --bpf-stats"));
    for panel in dash["panels"].as_array().into_iter().flatten() {
        let names: BTreeSet<String> = panel["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["expr"].as_str())
            .flat_map(metric_names)
            .collect();
        let seconds = |n: &String| n.contains("_seconds");
        assert!(
            names.iter().all(seconds) || !names.iter().any(seconds),
            "panel {:?} puts seconds and counts on one axis: {names:?}",
            panel["title"]
        );
        assert!(
            bpf_stats || !names.iter().any(|n| n.starts_with("govkit_trace_bpf_")),
            "panel {:?} needs --bpf-stats, which the DaemonSet does not enable",
            panel["title"]
        );
    }
}

#[test]
fn alerts_and_manifests_use_exported_metrics_and_real_flags() {
    let alerts = std::fs::read_to_string(deploy().join("prometheus/alerts.yml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let unknown: Vec<String> = metric_names(&alerts)
        .difference(&exported())
        .cloned()
        .collect();
    assert!(
        unknown.is_empty(),
        "alerts use metrics govkit does not export: {unknown:?}"
    );
    assert!(alerts.contains("govkit_tcp_leaked_connections"));
    assert!(alerts.contains("govkit_sched_runqueue_latency_seconds_bucket"));
    // The DaemonSet's and the systemd unit's command lines are accepted by
    // this govkit's CLI: with --help appended, an unknown flag or a bad
    // value still fails (clap checks them first), a good line prints help.
    let ds = std::fs::read_to_string(deploy().join("kubernetes/daemonset.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let ds_args: Vec<String> = ds
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("args:"))
        .skip(1)
        .take_while(|l| l.trim_start().starts_with('-') || l.trim_start().starts_with('#'))
        .filter_map(|l| l.trim_start().strip_prefix("- "))
        .map(|a| a.trim().to_owned())
        .collect();
    assert_eq!(
        ds_args.first().map(String::as_str),
        Some("trace"),
        "{ds_args:?}"
    );
    let unit = std::fs::read_to_string(deploy().join("systemd/govkit-trace.service"))
        .unwrap_or_else(|e| panic!("{e}"));
    let exec: Vec<String> = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap_or_else(|| panic!("no ExecStart"))
        .split_whitespace()
        .skip(1)
        .map(str::to_owned)
        .collect();
    for args in [ds_args, exec] {
        let out = Command::new(env!("CARGO_BIN_EXE_govkit"))
            .args(&args)
            .arg("--help")
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success() && stdout(&out).contains("--metrics"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// The manifest's documents as JSON values (`PyYAML`, which
/// kubernetes-validate brings).
fn manifest_documents(path: &Path) -> Vec<serde_json::Value> {
    let json = checked(
        Command::new("python3")
            .args([
                "-c",
                "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
            ])
            .arg(path),
        "python3 with PyYAML",
    );
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_daemonset_is_valid_and_runs_with_the_least_privilege_the_tracer_needs() {
    let path = deploy().join("kubernetes/daemonset.yaml");
    // Schema-valid for the Kubernetes API, no unknown fields.
    checked(
        Command::new("kubernetes-validate")
            .arg("--strict")
            .arg(&path),
        "PyPI",
    );
    let docs = manifest_documents(&path);
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d["kind"] == k)
            .unwrap_or_else(|| panic!("no {k} in {}", path.display()))
    };
    let namespace = kind("Namespace");
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "privileged",
        "the namespace states its Pod Security level"
    );
    assert_eq!(
        kind("ServiceAccount")["automountServiceAccountToken"],
        false
    );
    let pod = &kind("DaemonSet")["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "govkit-trace");
    assert_eq!(pod["automountServiceAccountToken"], false, "no API token");
    // No blanket toleration: NoExecute taints still evict it.
    for t in pod["tolerations"].as_array().into_iter().flatten() {
        assert!(t["effect"].is_string(), "a toleration of every taint: {t}");
    }
    let containers = pod["containers"]
        .as_array()
        .unwrap_or_else(|| panic!("{pod}"));
    assert_eq!(containers.len(), 1);
    let sc = &containers[0]["securityContext"];
    assert_eq!(sc["privileged"], false, "{sc}");
    assert_eq!(sc["allowPrivilegeEscalation"], false, "{sc}");
    assert_eq!(sc["readOnlyRootFilesystem"], true, "{sc}");
    assert_eq!(
        sc["capabilities"]["drop"],
        serde_json::json!(["ALL"]),
        "{sc}"
    );
    assert_eq!(
        sc["capabilities"]["add"],
        serde_json::json!(["BPF", "PERFMON", "SYS_PTRACE", "NET_ADMIN"]),
        "{sc}"
    );
    // Host paths are mounted read-only, and none is created on the node.
    for m in containers[0]["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
    {
        assert_eq!(m["readOnly"], true, "{m}");
    }
    for v in pod["volumes"].as_array().into_iter().flatten() {
        if v["hostPath"].is_object() {
            assert_eq!(v["hostPath"]["type"], "Directory", "{v}");
        }
    }
    // The endpoint is not open: TLS and basic auth from a Secret's web
    // configuration.
    let args = containers[0]["args"]
        .as_array()
        .unwrap_or_else(|| panic!("{pod}"));
    assert!(
        args.iter()
            .any(|a| a == "--web-config=/etc/govkit/web/web.yml"),
        "{args:?}"
    );
    let secret = pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == "web")
        .unwrap_or_else(|| panic!("no web volume: {pod}"));
    assert_eq!(secret["secret"]["secretName"], "govkit-web");
    // The probes do not scrape, and speak TLS.
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(containers[0][probe]["httpGet"]["path"], "/healthz");
        assert_eq!(containers[0][probe]["httpGet"]["scheme"], "HTTPS");
    }
}

#[test]
fn the_systemd_unit_scores_at_most_4_in_systemd_analyze_security() {
    let unit = deploy().join("systemd/govkit-trace.service");
    // --threshold is the exposure level × 10: exit non-zero above 4.0.
    let text = checked(
        Command::new("systemd-analyze")
            .args(["security", "--offline=true", "--threshold=40", "--no-pager"])
            .arg(&unit),
        "Debian package systemd",
    );
    let level: f64 = text
        .lines()
        .find_map(|l| l.split("exposure level for govkit-trace.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{text}"));
    assert!(level <= 4.0, "exposure {level}:\n{text}");
    // Only the capabilities the DaemonSet has too.
    let text = std::fs::read_to_string(&unit).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        text.lines()
            .any(|l| l == "CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_SYS_PTRACE CAP_NET_ADMIN"),
        "{text}"
    );
}
