//! Summary statistics of draws that stay finite when the draws are extreme (values
//! near ±f64::MAX, infinities) instead of overflowing into NaN.

/// The `p` quantile of sorted data, interpolating linearly between order statistics
/// (numpy's default). Infinite neighbours give the infinite value (numpy's formula
/// would give NaN from `0 · inf`), and neighbours of opposite sign near ±f64::MAX do not
/// overflow.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let p = if p.is_nan() { 0.5 } else { p.clamp(0.0, 1.0) };
    let h = (sorted.len() - 1) as f64 * p;
    let i = (h.floor() as usize).min(sorted.len() - 1);
    let j = (i + 1).min(sorted.len() - 1);
    let (a, b, t) = (sorted[i], sorted[j], h - i as f64);
    if t == 0.0 || a == b {
        return a;
    }
    if a.is_infinite() {
        return a;
    }
    if b.is_infinite() {
        return b;
    }
    let d = b - a;
    if d.is_finite() {
        a + t * d
    } else {
        a * (1.0 - t) + b * t
    }
}

/// Mean and sample standard deviation (n − 1 denominator; 0 for one value) of finite
/// values. Values beyond ±1e150 are scaled by an exact power of two first, so sums of
/// values near f64::MAX (and their squares) do not overflow.
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let big = xs.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let k = if big > 1e150 { 2f64.powi(-600) } else { 1.0 };
    let n = xs.len() as f64;
    let mean = xs.iter().map(|x| x * k).sum::<f64>() / n;
    let ss: f64 = xs.iter().map(|x| (x * k - mean) * (x * k - mean)).sum();
    let std = if xs.len() > 1 {
        (ss / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (mean / k, std / k)
}

/// How many draws are NaN, −∞ and +∞.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NonFinite {
    /// NaN draws.
    pub nan: usize,
    /// −∞ draws.
    pub neg_inf: usize,
    /// +∞ draws.
    pub pos_inf: usize,
}

impl NonFinite {
    /// Counts the non-finite values of `xs`.
    pub fn count(xs: &[f64]) -> Self {
        let mut c = NonFinite::default();
        for &x in xs {
            if x.is_nan() {
                c.nan += 1;
            } else if x == f64::INFINITY {
                c.pos_inf += 1;
            } else if x == f64::NEG_INFINITY {
                c.neg_inf += 1;
            }
        }
        c
    }

    /// Number of infinite values.
    pub fn infinite(&self) -> usize {
        self.neg_inf + self.pos_inf
    }
}

/// The finite part of sorted data (sorted with `f64::total_cmp`, which puts the finite
/// values in one run between −∞ (and negative NaN) and +∞ (and NaN)).
pub fn finite_part(sorted: &[f64]) -> &[f64] {
    match (
        sorted.iter().position(|x| x.is_finite()),
        sorted.iter().rposition(|x| x.is_finite()),
    ) {
        (Some(a), Some(b)) => &sorted[a..=b],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_moments() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&s, 0.5), 2.5);
        assert_eq!(quantile_sorted(&s, 0.0), 1.0);
        assert_eq!(quantile_sorted(&s, 1.0), 4.0);
        let (m, sd) = mean_std(&s);
        assert_eq!(m, 2.5);
        assert!((sd - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn extremes_stay_finite() {
        let inf = f64::INFINITY;
        let s = [-inf, -1.0, 1.0, inf];
        assert_eq!(quantile_sorted(&s, 0.0), -inf);
        assert_eq!(quantile_sorted(&s, 0.1), -inf);
        assert_eq!(quantile_sorted(&s, 0.5), 0.0);
        assert_eq!(quantile_sorted(&s, 0.9), inf);
        let m = f64::MAX;
        assert_eq!(quantile_sorted(&[-m, m], 0.5), 0.0);
        let (mean, sd) = mean_std(&[-m, m]);
        assert_eq!(mean, 0.0);
        // sd = m·√2, which overflows: the honest answer is +∞, not NaN.
        assert_eq!(sd, inf);
        let (mean, sd) = mean_std(&[1e308, 1e308]);
        assert_eq!((mean, sd), (1e308, 0.0));
        let c = NonFinite::count(&[f64::NAN, -inf, inf, inf, 0.0]);
        assert_eq!((c.nan, c.neg_inf, c.pos_inf, c.infinite()), (1, 1, 2, 3));
        let mut v = vec![f64::NAN, 2.0, -inf, inf, 1.0];
        v.sort_unstable_by(f64::total_cmp);
        assert_eq!(finite_part(&v), &[1.0, 2.0]);
    }
}
