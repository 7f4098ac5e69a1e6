//! The statistics of the regression gate: medians, the Mann–Whitney U
//! test (as benchstat uses) for runs against a baseline file, and the
//! Wilcoxon signed-rank test with its Hodges–Lehmann interval for paired
//! rounds (`--against`); exact for small samples.

/// Median of `values` (NaN-free); `None` when empty.
#[must_use]
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    })
}

/// Two-sided p-value of the Mann–Whitney U test that `a` and `b` come from
/// the same distribution. Exact (by counting every arrangement) when both
/// samples have at most 20 values and there are no ties; otherwise the
/// normal approximation with tie correction and continuity correction.
#[must_use]
#[expect(
    clippy::many_single_char_names,
    reason = "the test's textbook notation"
)]
#[expect(clippy::float_cmp, reason = "ties are exactly equal values")]
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    // Ranks of the pooled sample, ties get their average rank.
    let mut pooled: Vec<(f64, usize)> = a
        .iter()
        .map(|&x| (x, 0))
        .chain(b.iter().map(|&x| (x, 1)))
        .collect();
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = pooled.len();
    let mut ranks = vec![0.0; n];
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        #[expect(clippy::cast_precision_loss, reason = "ranks of small samples")]
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for r in &mut ranks[i..=j] {
            *r = avg;
        }
        #[expect(clippy::cast_precision_loss, reason = "tie sizes of small samples")]
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    let r1: f64 = pooled
        .iter()
        .zip(&ranks)
        .filter(|((_, g), _)| *g == 0)
        .map(|(_, r)| r)
        .sum();
    #[expect(clippy::cast_precision_loss, reason = "small sample sizes")]
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let u1 = r1 - n1f * (n1f + 1.0) / 2.0;
    let u = u1.min(n1f * n2f - u1);
    if tie_term == 0.0 && n1 <= 20 && n2 <= 20 {
        // P(U <= u) under H0 by counting, doubled for two sides.
        let dist = u_distribution(n1, n2);
        let total: f64 = dist.iter().sum();
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "u is a non-negative integer here"
        )]
        let k = u.floor() as usize;
        let tail: f64 = dist.iter().take(k + 1).sum();
        return (2.0 * tail / total).min(1.0);
    }
    let nf = n1f + n2f;
    let mean = n1f * n2f / 2.0;
    let var = n1f * n2f / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    if var <= 0.0 {
        return 1.0;
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / var.sqrt();
    (2.0 * normal_sf(z)).min(1.0)
}

/// The smallest two-sided p-value [`mann_whitney_p`] can return for
/// samples of sizes `n1` and `n2`: complete separation, 2 / C(n1+n2, n1)
/// for the exact test. With `--count 3` against 3 baseline runs it is 0.1:
/// no difference can ever be significant at alpha 0.05.
#[must_use]
pub fn smallest_p(n1: usize, n2: usize) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    if n1 <= 20 && n2 <= 20 {
        let total: f64 = u_distribution(n1, n2).iter().sum();
        return (2.0 / total).min(1.0);
    }
    // Beyond the exact range the normal approximation's smallest p is far
    // below any useful alpha.
    0.0
}

/// Number of arrangements giving each U value, for sizes `n1`, `n2`.
fn u_distribution(n1: usize, n2: usize) -> Vec<f64> {
    // f[i][j][u]: arrangements of i and j elements with statistic u; built
    // by the recurrence f(i,j,u) = f(i-1,j,u-j) + f(i,j-1,u).
    let max_u = n1 * n2;
    let mut prev: Vec<Vec<f64>> = vec![vec![0.0; max_u + 1]; n2 + 1];
    for row in &mut prev {
        row[0] = 1.0;
    }
    for _i in 1..=n1 {
        let mut cur: Vec<Vec<f64>> = vec![vec![0.0; max_u + 1]; n2 + 1];
        cur[0][0] = 1.0;
        for j in 1..=n2 {
            for u in 0..=max_u {
                let from_i = if u >= j { prev[j][u - j] } else { 0.0 };
                cur[j][u] = from_i + cur[j - 1][u];
            }
        }
        prev = cur;
    }
    prev.swap_remove(n2)
}

/// Two-sided p-value of the Wilcoxon signed-rank test that the paired
/// differences `d` are centred on zero. Exact zeros are dropped
/// (Wilcoxon's convention). Exact (by counting every sign assignment) for
/// up to 40 non-zero differences without tied magnitudes; otherwise the
/// normal approximation with tie and continuity corrections.
#[must_use]
#[expect(clippy::float_cmp, reason = "ties are exactly equal magnitudes")]
#[expect(clippy::many_single_char_names, reason = "the textbook notation")]
pub fn signed_rank_p(d: &[f64]) -> f64 {
    let mut mags: Vec<(f64, bool)> = d
        .iter()
        .filter(|x| **x != 0.0 && x.is_finite())
        .map(|&x| (x.abs(), x > 0.0))
        .collect();
    let n = mags.len();
    if n == 0 {
        return 1.0;
    }
    mags.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut w_plus = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && mags[j + 1].0 == mags[i].0 {
            j += 1;
        }
        #[expect(clippy::cast_precision_loss, reason = "ranks of small samples")]
        let (avg, positive) = (
            (i + j) as f64 / 2.0 + 1.0,
            mags[i..=j].iter().filter(|m| m.1).count() as f64,
        );
        w_plus += avg * positive;
        #[expect(clippy::cast_precision_loss, reason = "tie sizes of small samples")]
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    #[expect(clippy::cast_precision_loss, reason = "small sample sizes")]
    let nf = n as f64;
    let total = nf * (nf + 1.0) / 2.0;
    let w = w_plus.min(total - w_plus);
    if tie_term == 0.0 && n <= 40 {
        let dist = signed_rank_distribution(n);
        let all: f64 = dist.iter().sum();
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "w is a non-negative integer here"
        )]
        let k = w.floor() as usize;
        let tail: f64 = dist.iter().take(k + 1).sum();
        return (2.0 * tail / all).min(1.0);
    }
    let mean = total / 2.0;
    let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term / 48.0;
    if var <= 0.0 {
        return 1.0;
    }
    let z = ((w - mean).abs() - 0.5).max(0.0) / var.sqrt();
    (2.0 * normal_sf(z)).min(1.0)
}

/// The smallest two-sided p-value [`signed_rank_p`] can give for `n`
/// pairs: every difference of one sign, 2 / 2^n. Five pairs give 0.0625,
/// so at alpha 0.05 a paired comparison needs six rounds or more.
#[must_use]
pub fn smallest_signed_rank_p(n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let n = i32::try_from(n).unwrap_or(i32::MAX);
    (2.0 * 0.5f64.powi(n)).min(1.0)
}

/// Number of sign assignments of ranks 1..=n giving each positive-rank
/// sum.
fn signed_rank_distribution(n: usize) -> Vec<f64> {
    let max = n * (n + 1) / 2;
    let mut f = vec![0.0; max + 1];
    f[0] = 1.0;
    for r in 1..=n {
        for w in (r..=max).rev() {
            f[w] += f[w - r];
        }
    }
    f
}

/// The Hodges–Lehmann estimate of the centre of the paired differences
/// `d` (the median of their Walsh averages) and its distribution-free
/// confidence interval at level 1 - `alpha`, from the signed-rank
/// distribution: the interval that matches [`signed_rank_p`]. `None` for
/// fewer than two differences, or when no interval at that level exists
/// (too few pairs): then the interval is the whole range.
#[must_use]
#[expect(clippy::many_single_char_names, reason = "the textbook notation")]
pub fn hodges_lehmann(d: &[f64], alpha: f64) -> Option<(f64, f64, f64)> {
    let n = d.len();
    if n < 2 {
        return None;
    }
    let mut walsh = Vec::with_capacity(n * (n + 1) / 2);
    for i in 0..n {
        for j in i..n {
            walsh.push(f64::midpoint(d[i], d[j]));
        }
    }
    walsh.sort_by(f64::total_cmp);
    let estimate = median(&walsh)?;
    let m = walsh.len();
    // The largest t with P(W <= t) <= alpha / 2; the interval is the
    // (t+1)-th smallest to the (t+1)-th largest Walsh average.
    let (dist, all) = if n <= 40 {
        let dist = signed_rank_distribution(n);
        let all: f64 = dist.iter().sum();
        (Some(dist), all)
    } else {
        (None, 0.0)
    };
    let t = if let Some(dist) = dist {
        let mut cum = 0.0;
        let mut t = None;
        for (w, c) in dist.iter().enumerate() {
            cum += c;
            if cum / all <= alpha / 2.0 {
                t = Some(w);
            } else {
                break;
            }
        }
        t?
    } else {
        #[expect(clippy::cast_precision_loss, reason = "sample sizes")]
        let nf = n as f64;
        let mean = nf * (nf + 1.0) / 4.0;
        let sd = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0).sqrt();
        let z = normal_quantile(1.0 - alpha / 2.0);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a non-negative rank below n(n+1)/2"
        )]
        let t = (mean - z * sd - 0.5).floor().max(0.0) as usize;
        t
    };
    let k = t + 1;
    if k > m / 2 {
        return None;
    }
    Some((estimate, walsh[k - 1], walsh[m - k]))
}

/// The standard normal quantile, by bisection on [`normal_sf`] (as
/// accurate as it is: plenty for choosing a rank).
fn normal_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-10.0f64, 10.0f64);
    for _ in 0..100 {
        let mid = f64::midpoint(lo, hi);
        if 1.0 - normal_sf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    f64::midpoint(lo, hi)
}

/// Survival function of the standard normal distribution.
fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Complementary error function (W. J. Cody's rational approximation via
/// Numerical Recipes' erfcc; relative error below 1.2e-7).
fn erfc(x: f64) -> f64 {
    // Coefficients of t^1..t^9, evaluated by Horner's rule (the same
    // operations in the same order as the nested form, which rustfmt takes
    // over 20 s to lay out).
    const C: [f64; 9] = [
        1.000_023_68,
        0.374_091_96,
        0.096_784_18,
        -0.186_288_06,
        0.278_868_07,
        -1.135_203_98,
        1.488_515_87,
        -0.822_152_23,
        0.170_872_77,
    ];
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = C[..8].iter().rev().fold(C[8], |acc, &c| c + t * acc);
    let r = t * (-z * z - 1.265_512_23 + t * poly).exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn smallest_p_values() {
        // C(6,3) = 20, C(8,4) = 70, C(10,5) = 252.
        assert!((smallest_p(3, 3) - 0.1).abs() < 1e-12);
        assert!((smallest_p(4, 4) - 2.0 / 70.0).abs() < 1e-12);
        assert!((smallest_p(5, 5) - 2.0 / 252.0).abs() < 1e-12);
        assert!((smallest_p(1, 5) - 1.0 / 3.0).abs() < 1e-12);
        assert!((smallest_p(0, 5) - 1.0).abs() < 1e-12);
        // It is what complete separation gives.
        let p = mann_whitney_p(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]);
        assert!((p - smallest_p(3, 3)).abs() < 1e-12);
    }

    #[test]
    fn exact_p_values_match_tables() {
        // 5 vs 5, complete separation: p = 2/252 (benchstat's minimum).
        let p = mann_whitney_p(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]);
        assert!((p - 2.0 / 252.0).abs() < 1e-12, "{p}");
        // Interleaved: no evidence.
        let p = mann_whitney_p(&[1.0, 3.0, 5.0, 7.0, 9.0], &[2.0, 4.0, 6.0, 8.0, 10.0]);
        assert!(p > 0.5, "{p}");
        // One swap from complete separation, 4 vs 5: U = 1; of the
        // C(9,4) = 126 arrangements, U = 0 and U = 1 have one each, so the
        // two-sided p is 2 * 2/126.
        let p = mann_whitney_p(&[1.0, 2.0, 3.0, 4.0], &[3.5, 5.0, 6.0, 7.0, 8.0]);
        assert!((p - 4.0 / 126.0).abs() < 1e-12, "{p}");
    }

    #[test]
    fn signed_rank_p_values_match_tables() {
        // All 6 of one sign: 2 / 64.
        let p = signed_rank_p(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert!((p - 2.0 / 64.0).abs() < 1e-12, "{p}");
        assert!((smallest_signed_rank_p(6) - 2.0 / 64.0).abs() < 1e-12);
        assert!((smallest_signed_rank_p(5) - 0.0625).abs() < 1e-12);
        // n = 10, W- = 8 (the 5 % critical value): P(W <= 8) = 25/1024.
        let d = [-1.0, -3.0, -4.0, 2.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        let p = signed_rank_p(&d);
        assert!((p - 50.0 / 1024.0).abs() < 1e-12, "{p}");
        // Balanced signs: no evidence.
        assert!(signed_rank_p(&[1.0, -2.0, 3.0, -4.0, 5.0, -6.0]) > 0.5);
        // Zeros are dropped.
        assert!((signed_rank_p(&[0.0, 0.0]) - 1.0).abs() < 1e-12);
        // Large n: the normal approximation agrees in direction.
        let d: Vec<f64> = (1..=60).map(f64::from).collect();
        assert!(signed_rank_p(&d) < 1e-9);
    }

    #[test]
    fn hodges_lehmann_intervals() {
        // n = 10 at 95 %: t = 8, so the 9th smallest and 9th largest of
        // the 55 Walsh averages.
        let d: Vec<f64> = (1..=10).map(f64::from).collect();
        let (est, lo, hi) = hodges_lehmann(&d, 0.05).unwrap_or_default();
        assert!((est - 5.5).abs() < 1e-12);
        let mut walsh = Vec::new();
        for i in 0..10 {
            for j in i..10 {
                walsh.push(f64::midpoint(d[i], d[j]));
            }
        }
        walsh.sort_by(f64::total_cmp);
        assert!((lo - walsh[8]).abs() < 1e-12 && (hi - walsh[46]).abs() < 1e-12);
        // The interval excludes zero exactly when the test rejects.
        let shifted: Vec<f64> = d.iter().map(|x| x - 2.9).collect();
        let (_, lo, _) = hodges_lehmann(&shifted, 0.05).unwrap_or_default();
        assert_eq!(lo > 0.0, signed_rank_p(&shifted) < 0.05);
        // Five pairs cannot give a 95 % interval.
        assert_eq!(hodges_lehmann(&d[..5], 0.05), None);
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
    }

    #[test]
    fn ties_use_the_normal_approximation() {
        let p = mann_whitney_p(&[1.0, 1.0, 1.0], &[1.0, 1.0, 1.0]);
        assert!((p - 1.0).abs() < 1e-9, "{p}");
        let a: Vec<f64> = (0..30).map(f64::from).collect();
        let b: Vec<f64> = (0..30).map(|x| f64::from(x) + 100.0).collect();
        assert!(mann_whitney_p(&a, &b) < 1e-6);
    }
}
