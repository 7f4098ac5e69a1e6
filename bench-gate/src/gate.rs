//! The gate `govkit bench` applies: criterion's results read back from
//! its output directories, allocation budgets, and regression verdicts
//! against a baseline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::stats::{mann_whitney_p, median, smallest_p};

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
    /// Allocation calls per operation.
    pub allocs_per_op: PerOp,
    /// Bytes allocated per operation.
    pub bytes_per_op: PerOp,
    /// Median time per operation (ns) of each timing run.
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
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            max_allocs: 5,
            budgets: Vec::new(),
            min_effect: 0.05,
            alpha: 0.05,
            time_advisory: false,
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
    /// New median / old median.
    pub ratio: f64,
    /// Mann–Whitney U two-sided p-value over the per-run medians.
    pub p_value: f64,
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
    /// Baseline allocations per operation, when a baseline has it.
    pub baseline_allocs_per_op: Option<u64>,
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

/// Judges every measurement.
#[must_use]
pub fn judge(measured: &[Measured], baseline: Option<&Baseline>, policy: &Policy) -> Vec<Judged> {
    measured
        .iter()
        .map(|m| {
            let budget = policy.budget(&m.id);
            let mut failures = Vec::new();
            let mut advisories = Vec::new();
            let allocs = m.allocs_per_op.value;
            if allocs > budget {
                failures.push(Failure {
                    kind: "allocation-budget",
                    message: format!("{allocs} allocations per operation, budget {budget}"),
                });
            }
            let old = baseline.and_then(|b| b.benchmarks.get(&m.id));
            let baseline_allocs = old.map(|o| o.allocs_per_op.value);
            if let Some(before) = baseline_allocs
                && allocs > before
            {
                failures.push(Failure {
                    kind: "allocation-increase",
                    message: format!(
                        "allocations per operation rose from {before} to {allocs} (counts are exact, so any increase counts)"
                    ),
                });
            }
            let change = old.and_then(|o| compare(&o.time_runs_ns, &m.time_runs_ns, policy));
            if let Some(c) = &change
                && c.verdict == "regressed"
            {
                let f = Failure {
                    kind: "time-regression",
                    message: format!(
                        "median time {:+.1}% against the baseline (p = {:.3})",
                        (c.ratio - 1.0) * 100.0,
                        c.p_value
                    ),
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
        verdict,
        detectable_slowdown: detectable_slowdown(old, new, o, n, policy),
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

/// When `new_runs` runs against `old_runs` can never be significant at
/// `alpha`: the smallest p-value they could give, and the smallest
/// `--count` that could (for `old_runs`).
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
