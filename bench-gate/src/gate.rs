//! The gate `govkit bench` applies: criterion's results read back from
//! its output directories, allocation budgets, and regression verdicts
//! against a baseline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::stats::{
    hodges_lehmann, mann_whitney_p, median, signed_rank_p, smallest_p, smallest_signed_rank_p,
};

/// A result file that could not be read or parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The file or directory.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for Error {}

fn err(path: &Path, message: impl Into<String>) -> Error {
    Error {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// One benchmark's samples from one criterion run: iterations per sample
/// and the measured value of each sample (nanoseconds, or allocations).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Samples {
    /// Iterations in each sample.
    pub iters: Vec<f64>,
    /// Measured value of each sample (criterion calls it `times`).
    pub times: Vec<f64>,
}

impl Samples {
    /// Value per iteration of each sample.
    #[must_use]
    pub fn per_iter(&self) -> Vec<f64> {
        self.iters
            .iter()
            .zip(&self.times)
            .filter(|(i, _)| **i > 0.0)
            .map(|(i, t)| t / i)
            .collect()
    }
}

#[derive(Deserialize)]
struct BenchmarkJson {
    full_id: String,
}

/// Every benchmark criterion wrote under `dir` (its `*/new/` results), by
/// full id (`group/function/value`).
pub fn read_results(dir: &Path) -> Result<BTreeMap<String, Samples>, Error> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| err(&d, e.to_string()))?;
        for entry in entries {
            let entry = entry.map_err(|e| err(&d, e.to_string()))?;
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if !ft.is_dir() {
                continue;
            }
            if entry.file_name() == "new" {
                let bench = path.join("benchmark.json");
                let sample = path.join("sample.json");
                if bench.is_file() && sample.is_file() {
                    let b: BenchmarkJson = read_json(&bench)?;
                    let s: Samples = read_json(&sample)?;
                    if s.iters.len() != s.times.len() {
                        return Err(err(&sample, "iters and times differ in length"));
                    }
                    out.insert(b.full_id, s);
                }
            } else {
                stack.push(path);
            }
        }
    }
    Ok(out)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| err(path, e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| err(path, e.to_string()))
}

/// A count per operation from an allocation pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerOp {
    /// The largest per-iteration count over the samples, rounded up.
    pub value: u64,
    /// Whether every sample gave the same whole number (the routine is
    /// deterministic); when not, `value` is the worst sample.
    pub exact: bool,
}

/// Counts per operation of an allocation pass's samples (each sample
/// carries [`crate::SAMPLE_OFFSET`], removed here).
#[must_use]
#[expect(
    clippy::float_cmp,
    reason = "allocation counts are whole numbers, compared exactly"
)]
pub fn per_op(samples: &Samples) -> PerOp {
    let per: Vec<f64> = samples
        .iters
        .iter()
        .zip(&samples.times)
        .filter(|(i, _)| **i > 0.0)
        .map(|(i, t)| (t - crate::SAMPLE_OFFSET).max(0.0) / i)
        .collect();
    let exact = per.windows(2).all(|w| w[0] == w[1]) && per.iter().all(|v| v.fract() == 0.0);
    let worst = per.iter().copied().fold(0.0f64, f64::max).ceil();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a non-negative count"
    )]
    PerOp {
        value: worst as u64,
        exact,
    }
}

/// One benchmark, measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// Criterion's full id.
    pub id: String,
    /// Allocation calls per operation; `None` when not counted (a plain
    /// `criterion_main!` bench target: time only).
    #[serde(default)]
    pub allocs_per_op: Option<PerOp>,
    /// Bytes allocated per operation; `None` when not counted.
    #[serde(default)]
    pub bytes_per_op: Option<PerOp>,
    /// Median time per operation (ns) of each timing run (with
    /// `--against`, of each round, in round order).
    pub time_runs_ns: Vec<f64>,
}

impl Measured {
    /// Median over runs of the per-run median time (ns).
    #[must_use]
    pub fn time_median_ns(&self) -> Option<f64> {
        median(&self.time_runs_ns)
    }
}

/// Median ns per operation of one timing run.
#[must_use]
pub fn run_median_ns(samples: &Samples) -> Option<f64> {
    median(&samples.per_iter())
}

/// A saved baseline: what `--save-baseline` writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Format version (1).
    pub version: u32,
    /// Benchmarks by id.
    pub benchmarks: BTreeMap<String, Measured>,
}

impl Baseline {
    /// A baseline of these measurements.
    #[must_use]
    pub fn new(measured: &[Measured]) -> Baseline {
        Baseline {
            version: 1,
            benchmarks: measured.iter().map(|m| (m.id.clone(), m.clone())).collect(),
        }
    }

    /// Reads a baseline file.
    pub fn read(path: &Path) -> Result<Baseline, Error> {
        let b: Baseline = read_json(path)?;
        if b.version != 1 {
            return Err(err(
                path,
                format!("baseline version {} (this govkit reads 1)", b.version),
            ));
        }
        Ok(b)
    }
}

/// How measurements are judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Allocation budget per operation.
    pub max_allocs: u64,
    /// Per-benchmark budgets: (id pattern with `*` and `?`, budget); the
    /// first matching pattern wins.
    pub budgets: Vec<(String, u64)>,
    /// Smallest relative time change that counts (0.05 = 5 %).
    pub min_effect: f64,
    /// Significance level of the Mann–Whitney test.
    pub alpha: f64,
    /// Report time regressions without failing.
    pub time_advisory: bool,
    /// What the old side is called in messages: `the baseline`, or the
    /// revision of `--against`.
    pub old_name: String,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            max_allocs: 5,
            budgets: Vec::new(),
            min_effect: 0.05,
            alpha: 0.05,
            time_advisory: false,
            old_name: "the baseline".to_owned(),
        }
    }
}

impl Policy {
    /// The allocation budget of benchmark `id`.
    #[must_use]
    pub fn budget(&self, id: &str) -> u64 {
        self.budgets
            .iter()
            .find(|(p, _)| wildcard(p, id))
            .map_or(self.max_allocs, |(_, b)| *b)
    }
}

/// `*` matches any run of characters, `?` one character.
#[must_use]
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Time change against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// New / old: the ratio of the medians against a baseline file; the
    /// Hodges–Lehmann estimate of the per-round ratio for paired rounds.
    pub ratio: f64,
    /// Two-sided p-value of `test`.
    pub p_value: f64,
    /// `mann-whitney` (runs against a baseline file, over per-run
    /// medians) or `wilcoxon-signed-rank` (paired rounds, over the log
    /// ratio of each round).
    pub test: &'static str,
    /// Paired rounds: the 1 - alpha confidence interval of `ratio`
    /// (distribution-free, from the signed-rank distribution); `None`
    /// when too few rounds give one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    /// `regressed`, `improved` or `unchanged`.
    pub verdict: &'static str,
    /// The smallest slowdown (0.08 = 8 %) these runs would have flagged:
    /// the new runs scaled up until the verdict turns `regressed`, given
    /// the noise both sides showed. `None`: none would (too few runs, or
    /// too noisy for any slowdown up to 10x).
    pub detectable_slowdown: Option<f64>,
}

/// One benchmark, judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judged {
    /// The measurement.
    #[serde(flatten)]
    pub measured: Measured,
    /// Its allocation budget.
    pub budget: u64,
    /// Time change, when a baseline has this benchmark.
    pub change: Option<Change>,
    /// Baseline allocations per operation, when a baseline has it
    /// (counted).
    pub baseline_allocs_per_op: Option<u64>,
    /// The baseline's (or other revision's) median time per operation.
    pub baseline_time_ns: Option<f64>,
    /// Why it fails; empty when it passes.
    pub failures: Vec<Failure>,
    /// Time regressions reported but not failing (advisory policy).
    pub advisories: Vec<Failure>,
}

/// One reason a benchmark fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// `allocation-budget`, `allocation-increase` or `time-regression`.
    pub kind: &'static str,
    /// What exactly.
    pub message: String,
}

/// How the old side was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// A baseline file: runs from another time, compared as two samples.
    Unpaired,
    /// `--against`: old and new ran alternately, round k of each side is a
    /// pair.
    Paired,
}

/// Judges every measurement against `baseline` (a file, or the other
/// revision's rounds when `pairing` is [`Pairing::Paired`]).
#[must_use]
pub fn judge(
    measured: &[Measured],
    baseline: Option<&Baseline>,
    policy: &Policy,
    pairing: Pairing,
) -> Vec<Judged> {
    measured
        .iter()
        .map(|m| {
            let budget = policy.budget(&m.id);
            let mut failures = Vec::new();
            let mut advisories = Vec::new();
            let allocs = m.allocs_per_op.map(|a| a.value);
            if let Some(allocs) = allocs
                && allocs > budget
            {
                failures.push(Failure {
                    kind: "allocation-budget",
                    message: format!("{allocs} allocations per operation, budget {budget}"),
                });
            }
            let old = baseline.and_then(|b| b.benchmarks.get(&m.id));
            let baseline_allocs = old.and_then(|o| o.allocs_per_op).map(|a| a.value);
            if let (Some(before), Some(allocs)) = (baseline_allocs, allocs)
                && allocs > before
            {
                failures.push(Failure {
                    kind: "allocation-increase",
                    message: format!(
                        "allocations per operation rose from {before} to {allocs} (counts are exact, so any increase counts)"
                    ),
                });
            }
            let change = old.and_then(|o| match pairing {
                Pairing::Unpaired => compare(&o.time_runs_ns, &m.time_runs_ns, policy),
                Pairing::Paired => compare_paired(&o.time_runs_ns, &m.time_runs_ns, policy),
            });
            if let Some(c) = &change
                && c.verdict == "regressed"
            {
                let f = Failure {
                    kind: "time-regression",
                    message: match c.interval {
                        Some([lo, hi]) => format!(
                            "{:+.1}% against {} (interval {:+.1}% to {:+.1}%, p = {:.3})",
                            (c.ratio - 1.0) * 100.0,
                            policy.old_name,
                            (lo - 1.0) * 100.0,
                            (hi - 1.0) * 100.0,
                            c.p_value
                        ),
                        None => format!(
                            "median time {:+.1}% against {} (p = {:.3})",
                            (c.ratio - 1.0) * 100.0,
                            policy.old_name,
                            c.p_value
                        ),
                    },
                };
                if policy.time_advisory {
                    advisories.push(f);
                } else {
                    failures.push(f);
                }
            }
            Judged {
                measured: m.clone(),
                budget,
                change,
                baseline_allocs_per_op: baseline_allocs,
                baseline_time_ns: old.and_then(Measured::time_median_ns),
                failures,
                advisories,
            }
        })
        .collect()
}

/// Time verdict of new runs against old runs: significant (p < alpha) and
/// at least `min_effect` away from 1.
#[must_use]
pub fn compare(old: &[f64], new: &[f64], policy: &Policy) -> Option<Change> {
    let (o, n) = (median(old)?, median(new)?);
    if o <= 0.0 {
        return None;
    }
    let ratio = n / o;
    let (p_value, verdict) = verdict(old, new, ratio, policy);
    Some(Change {
        ratio,
        p_value,
        test: "mann-whitney",
        interval: None,
        verdict,
        detectable_slowdown: detectable_slowdown(old, new, o, n, policy),
    })
}

/// Time verdict of paired rounds (round k of `old` and of `new` ran side
/// by side): the Wilcoxon signed-rank test on the log ratio of each round,
/// and the Hodges–Lehmann estimate with its 1 - alpha interval. A
/// benchmark regresses when the slowdown is significant (p < alpha) and
/// its interval reaches `min_effect`: these rounds cannot rule out a
/// slowdown of `min_effect` or more. A significant change whose whole
/// interval lies below `min_effect` (a real but smaller shift, such as
/// the code-layout difference two builds of the same source can show) is
/// `unchanged`.
#[must_use]
pub fn compare_paired(old: &[f64], new: &[f64], policy: &Policy) -> Option<Change> {
    let d: Vec<f64> = old
        .iter()
        .zip(new)
        .filter(|(o, n)| **o > 0.0 && **n > 0.0)
        .map(|(o, n)| (n / o).ln())
        .collect();
    if d.is_empty() {
        return None;
    }
    let p_value = signed_rank_p(&d);
    let hl = hodges_lehmann(&d, policy.alpha);
    let estimate = hl.map_or_else(|| median(&d).unwrap_or(0.0), |h| h.0);
    Some(Change {
        ratio: estimate.exp(),
        p_value,
        test: "wilcoxon-signed-rank",
        interval: hl.map(|(_, lo, hi)| [lo.exp(), hi.exp()]),
        verdict: paired_verdict(p_value, hl, policy),
        detectable_slowdown: paired_detectable(&d, estimate, policy),
    })
}

fn paired_verdict(p_value: f64, hl: Option<(f64, f64, f64)>, policy: &Policy) -> &'static str {
    let threshold = (1.0 + policy.min_effect).ln();
    match hl {
        Some((est, _, hi)) if p_value < policy.alpha && est > 0.0 && hi >= threshold => "regressed",
        Some((est, lo, _)) if p_value < policy.alpha && est < 0.0 && lo <= -threshold => "improved",
        _ => "unchanged",
    }
}

/// The smallest slowdown, in steps of half a percent up to 10x, that the
/// paired verdict would flag: the rounds' log ratios shifted so that
/// their estimate sits at `ln(1 + s)`, the same noise.
fn paired_detectable(d: &[f64], estimate: f64, policy: &Policy) -> Option<f64> {
    if smallest_signed_rank_p(d.len()) >= policy.alpha {
        return None;
    }
    (1..=1800).map(|i| f64::from(i) * 0.005).find(|&s| {
        let shift = (1.0 + s).ln() - estimate;
        let moved: Vec<f64> = d.iter().map(|x| x + shift).collect();
        paired_verdict(
            signed_rank_p(&moved),
            hodges_lehmann(&moved, policy.alpha),
            policy,
        ) == "regressed"
    })
}

fn verdict(old: &[f64], new: &[f64], ratio: f64, policy: &Policy) -> (f64, &'static str) {
    let p_value = mann_whitney_p(old, new);
    let verdict = if p_value < policy.alpha && (ratio - 1.0).abs() >= policy.min_effect {
        if ratio > 1.0 { "regressed" } else { "improved" }
    } else {
        "unchanged"
    };
    (p_value, verdict)
}

/// The smallest slowdown of the new runs, in steps of half a percent up
/// to 10x, that [`compare`] would call `regressed` against `old`.
fn detectable_slowdown(
    old: &[f64],
    new: &[f64],
    old_median: f64,
    new_median: f64,
    policy: &Policy,
) -> Option<f64> {
    if smallest_p(old.len(), new.len()) >= policy.alpha {
        return None;
    }
    // Scale the new runs so that their median sits at `old_median * (1 +
    // s)`: the same noise, shifted by a slowdown s.
    (1..=1800).map(|i| f64::from(i) * 0.005).find(|&s| {
        let k = old_median * (1.0 + s) / new_median;
        let scaled: Vec<f64> = new.iter().map(|x| x * k).collect();
        verdict(old, &scaled, 1.0 + s, policy).1 == "regressed"
    })
}

/// When `new_runs` runs against `old_runs` (a baseline file) can never be
/// significant at `alpha`: the smallest p-value they could give, and the
/// smallest `--count` that could (for `old_runs`).
#[must_use]
pub fn undetectable(old_runs: usize, new_runs: usize, alpha: f64) -> Option<(f64, Option<usize>)> {
    let floor = smallest_p(old_runs, new_runs);
    (floor >= alpha).then(|| {
        (
            floor,
            (new_runs..=50).find(|&k| smallest_p(old_runs, k) < alpha),
        )
    })
}

/// When `rounds` paired rounds can never be significant at `alpha`: the
/// smallest p-value they could give, and the smallest count that could.
#[must_use]
pub fn undetectable_paired(rounds: usize, alpha: f64) -> Option<(f64, Option<usize>)> {
    let floor = smallest_signed_rank_p(rounds);
    (floor >= alpha).then(|| {
        (
            floor,
            (rounds..=60).find(|&k| smallest_signed_rank_p(k) < alpha),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("encode*", "encode/large"));
        assert!(wildcard("*", ""));
        assert!(wildcard("a?c", "abc"));
        assert!(!wildcard("a?c", "abbc"));
        assert!(wildcard("*/large", "encode/large"));
        assert!(!wildcard("decode*", "encode"));
    }

    #[test]
    fn verdicts() {
        let policy = Policy::default();
        let old = [100.0, 101.0, 99.0, 100.5, 100.2];
        let slow = [120.0, 121.0, 119.0, 120.5, 120.2];
        let same = [100.1, 99.9, 100.3, 100.0, 101.2];
        let small = [102.0, 102.1, 102.2, 102.3, 102.4];
        assert_eq!(
            compare(&old, &slow, &policy).map(|c| c.verdict),
            Some("regressed")
        );
        assert_eq!(
            compare(&slow, &old, &policy).map(|c| c.verdict),
            Some("improved")
        );
        assert_eq!(
            compare(&old, &same, &policy).map(|c| c.verdict),
            Some("unchanged")
        );
        // Significant but under the minimum effect.
        assert_eq!(
            compare(&old, &small, &policy).map(|c| c.verdict),
            Some("unchanged")
        );
        // These quiet runs could have shown a 5 % slowdown (the minimum
        // effect); three runs a side never could.
        let d = compare(&old, &same, &policy).and_then(|c| c.detectable_slowdown);
        assert!(d.is_some_and(|d| (0.05..0.07).contains(&d)), "{d:?}");
        assert_eq!(
            compare(&old[..3], &slow[..3], &policy).map(|c| (c.verdict, c.detectable_slowdown)),
            Some(("unchanged", None))
        );
        // Noisy runs: only a larger slowdown would have shown.
        let noisy = [100.0, 130.0, 85.0, 115.0, 95.0];
        let d = compare(&noisy, &noisy, &policy).and_then(|c| c.detectable_slowdown);
        assert!(d.is_some_and(|d| d > 0.2), "{d:?}");
    }

    #[test]
    fn paired_verdicts() {
        let policy = Policy::default();
        // Ten rounds, each with its own drift (up to 30 %) that both sides
        // share: the pairing cancels it.
        let drift = [1.0, 1.3, 0.9, 1.1, 1.25, 0.95, 1.05, 1.2, 0.85, 1.15];
        let jitter = [0.3, -0.2, 0.1, -0.4, 0.2, 0.0, -0.1, 0.4, -0.3, 0.1];
        let old: Vec<f64> = drift.iter().map(|d| 100.0 * d).collect();
        let scaled = |f: f64| -> Vec<f64> {
            drift
                .iter()
                .zip(jitter)
                .map(|(d, j)| 100.0 * d * (f + j / 100.0))
                .collect()
        };
        let five = compare_paired(&old, &scaled(1.05), &policy);
        assert_eq!(five.as_ref().map(|c| c.verdict), Some("regressed"));
        let c = five.unwrap_or_else(|| unreachable!());
        assert_eq!(c.test, "wilcoxon-signed-rank");
        let [lo, hi] = c.interval.unwrap_or_default();
        assert!(lo < 1.05 && 1.05 < hi && lo > 1.03, "{c:?}");
        // The same code: unchanged, and it could have seen a few percent.
        let same = compare_paired(&old, &scaled(1.0), &policy);
        assert_eq!(same.as_ref().map(|c| c.verdict), Some("unchanged"));
        let d = same.and_then(|c| c.detectable_slowdown);
        assert!(d.is_some_and(|d| d > 0.03 && d <= 0.05), "{d:?}");
        // Significant but its whole interval under the minimum effect.
        let small = compare_paired(&old, &scaled(1.02), &policy);
        assert_eq!(
            small.map(|c| (c.verdict, c.p_value < 0.05)),
            Some(("unchanged", true))
        );
        assert_eq!(
            compare_paired(&scaled(1.1), &old, &policy).map(|c| c.verdict),
            Some("improved")
        );
        // Five rounds can never be significant at 0.05 (2/32).
        let five_rounds = compare_paired(&old[..5], &scaled(1.5)[..5], &policy);
        assert_eq!(
            five_rounds.map(|c| (c.verdict, c.interval, c.detectable_slowdown)),
            Some(("unchanged", None, None))
        );
        assert_eq!(undetectable_paired(10, 0.05), None);
        assert_eq!(undetectable_paired(5, 0.05).map(|u| u.1), Some(Some(6)));
    }

    #[test]
    fn counts_that_can_never_be_significant_are_named() {
        assert_eq!(undetectable(5, 5, 0.05), None);
        let (floor, need) = undetectable(3, 3, 0.05).unwrap_or_default();
        assert!((floor - 0.1).abs() < 1e-12);
        // 3 against 4: 2/35 = 0.057; against 5: 2/56 = 0.036.
        assert_eq!(need, Some(5));
        assert!(undetectable(10, 2, 0.01).is_some());
    }

    #[test]
    fn per_op_counts() {
        let s = Samples {
            iters: vec![10.0, 20.0, 30.0],
            times: vec![31.0, 61.0, 91.0],
        };
        assert_eq!(
            per_op(&s),
            PerOp {
                value: 3,
                exact: true
            }
        );
        // Samples carry SAMPLE_OFFSET: a routine that allocates nothing.
        let zero = Samples {
            iters: vec![10.0, 20.0],
            times: vec![1.0, 1.0],
        };
        assert_eq!(
            per_op(&zero),
            PerOp {
                value: 0,
                exact: true
            }
        );
        let s = Samples {
            iters: vec![10.0, 20.0],
            times: vec![31.0, 62.0],
        };
        assert_eq!(
            per_op(&s),
            PerOp {
                value: 4,
                exact: false
            }
        );
    }
}
