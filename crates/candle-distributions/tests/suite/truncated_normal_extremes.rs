//! TruncatedNormal at extreme but valid parameters: windows whose normal mass
//! underflows (ln Z = −∞ in f64), standardized bounds near ±f64::MAX, values far
//! outside the window. Reference values are closed forms or mpmath (60 digits):
//! for a window [a, ∞) far in the upper tail, F(z) = 1 − Φ̄(z)/Φ̄(a).

use candle_core::{Device, Tensor};
use candle_distributions::{Distribution, Error, TruncatedNormal};

type Res<T> = Result<T, Error>;

fn tn(loc: f64, scale: f64, low: f64, high: f64) -> Res<TruncatedNormal> {
    let t = |v: f64| Tensor::new(v, &Device::Cpu);
    TruncatedNormal::new(&t(loc)?, &t(scale)?, &t(low)?, &t(high)?)
}

fn cdf(d: &TruncatedNormal, xs: &[f64]) -> Res<Vec<f64>> {
    Ok(d.cdf(&Tensor::new(xs, &Device::Cpu)?)?.to_vec1::<f64>()?)
}

fn icdf(d: &TruncatedNormal, qs: &[f64]) -> Res<Vec<f64>> {
    Ok(d.icdf(&Tensor::new(qs, &Device::Cpu)?)?.to_vec1::<f64>()?)
}

/// A value whose standard normal mass below it underflows (z = −4e307) used to give
/// ln Φ(z) − ln Φ(−∞) = −∞ − (−∞) = NaN for the cdf, and then an error from icdf
/// fed that cdf.
#[test]
fn cdf_far_below_an_unbounded_window_is_zero() -> Res<()> {
    let d = tn(-1e8, 4.5, f64::NEG_INFINITY, f64::INFINITY)?;
    let f = cdf(&d, &[-f64::MAX, -1e8, 1e300, f64::MAX])?;
    assert_eq!(f, vec![0.0, 0.5, 1.0, 1.0]);
    let x = icdf(&d, &f)?;
    assert!(x.iter().all(|v| !v.is_nan()), "{x:?}");
    assert_eq!(x[1], -1e8);
    let d = tn(-100.0, 1e8, f64::NEG_INFINITY, 5e-324)?;
    assert_eq!(cdf(&d, &[-f64::MAX])?, vec![0.0]);
    Ok(())
}

/// A window 1e300/1.5 standard deviations out: its mass e^{−2e599} underflows, so
/// ln Z = −∞ and the cdf was NaN. With the masses taken relative to the density at the
/// window's lower bound the distribution is an exponential of rate ≈ α/scale ≈ 4e299:
/// all mass at the bound to f64 resolution.
#[test]
fn cdf_of_a_window_whose_mass_underflows() -> Res<()> {
    let d = tn(1e-8, 1.5, 1e300, f64::MAX)?;
    let f = cdf(&d, &[1e300, 9e307, 1e301])?;
    assert_eq!(f, vec![0.0, 1.0, 1.0]);
    let x = icdf(&d, &[1e-9, 0.5, 1.0 - 1e-9])?;
    assert!(x.iter().all(|&v| v == 1e300), "{x:?}");
    Ok(())
}

/// A window 1e5 standard deviations out (ln Φ̄(α) ≈ −5e9): the old difference of two
/// log tails of size 5e9 lost all but ~6 digits. mpmath:
/// F(1e5 + 1e-5) = 1 − Φ̄(z)/Φ̄(1e5) = 0.63212068342406320713, the median
/// 1e5 + 6.931471804666079407e-6.
#[test]
fn far_tail_cdf_and_quantile_keep_their_digits() -> Res<()> {
    let d = tn(0.0, 1.0, 1e5, f64::INFINITY)?;
    let x = 1e5 + 1e-5;
    let f = cdf(&d, &[x])?[0];
    // x is a float with spacing 1.5e-11 around 1e5: the cdf's sensitivity there is
    // p(x)·ulp ≈ 3.7e4 · 1.5e-11 = 5e-7 per ulp of the value; the reference is for the
    // exact float 100000.00001, so allow rounding only.
    assert!((f - 0.632_120_683_424_063_2).abs() < 1e-12, "{f}");
    let m = icdf(&d, &[0.5])?[0];
    assert!((m - 1e5 - 6.931_471_804_666_079e-6).abs() < 3e-11, "{m}");
    Ok(())
}

fn scalar(t: Tensor) -> f64 {
    t.to_scalar::<f64>().unwrap()
}

/// loc = −f64::MAX, scale 2, window [−1.3, 0.5]: α = β = 9e307 in f64 (the window is
/// 1e308 standard deviations out and 0.9 wide), so ln Z = −∞ and z² = ∞ made
/// log_prob, mean, variance and entropy NaN. The exact law there is, to relative
/// 1/α² ≈ 1e-615, the exponential of rate Λ = (low − loc)/scale² = f64::MAX/4 from
/// `low`: log_prob(x) = ln Λ − Λ(x − low), mean low + 1/Λ, variance 1/Λ² (underflows
/// to 0), entropy 1 − ln Λ.
#[test]
fn window_collapsed_in_f64_is_the_exponential_limit() -> Res<()> {
    let d = tn(-f64::MAX, 2.0, -1.3, 0.5)?;
    let ln_rate = f64::MAX.ln() - 4f64.ln();
    let rate = f64::MAX / 4.0;
    let lp = d
        .log_prob(&Tensor::new(&[-1.3, 0.5][..], &Device::Cpu)?)?
        .to_vec1::<f64>()?;
    assert!((lp[0] - ln_rate).abs() < 1e-12 * ln_rate, "{lp:?}");
    let want = -rate * 1.8;
    assert!((lp[1] - want).abs() < 1e-12 * want.abs(), "{lp:?}");
    assert_eq!(scalar(d.mean()?), -1.3);
    assert_eq!(scalar(d.variance()?), 0.0);
    let h = scalar(d.entropy()?);
    assert!((h - (1.0 - ln_rate)).abs() < 1e-12 * ln_rate, "{h}");
    // The bound far from loc carries no mass: cdf 0 below high, 1 at it; every
    // quantile is low.
    assert_eq!(cdf(&d, &[-1.3, 0.0, 0.5])?, vec![0.0, 1.0, 1.0]);
    assert_eq!(icdf(&d, &[0.0, 0.5, 1.0 - 1e-9])?, vec![-1.3, -1.3, -1.3]);
    Ok(())
}

/// A window 1e-300 wide at 5e-9 standard deviations from loc: α = β in f64, so
/// Z = 0 and log_prob was +∞. The law is uniform to relative 1e-300:
/// log_prob = −ln(1e-300 − 5e-324) = 690.77552789821370520… (mpmath), mean the
/// midpoint, entropy ln(width).
#[test]
fn window_narrower_than_an_ulp_of_its_standardized_bounds_is_uniform() -> Res<()> {
    let d = tn(0.5, 1e8, 5e-324, 1e-300)?;
    let lp = d
        .log_prob(&Tensor::new(&[5e-324, 5e-301, 1e-300][..], &Device::Cpu)?)?
        .to_vec1::<f64>()?;
    for v in lp {
        assert!((v - 690.775_527_898_213_7).abs() < 1e-12, "{v}");
    }
    let m = scalar(d.mean()?);
    assert!((m - 5e-301).abs() < 1e-12 * 5e-301, "{m}");
    let h = scalar(d.entropy()?);
    assert!((h + 690.775_527_898_213_7).abs() < 1e-12, "{h}");
    Ok(())
}

/// scale 1e300 over a window of width 1.3: the standardized variance 1.3²/12·1e-600
/// underflows and scale² overflows, and their product was NaN. Uniform to relative
/// 1e-600: variance 1.3²/12, mean −0.65.
#[test]
fn variance_with_huge_scale_and_a_unit_window() -> Res<()> {
    let d = tn(-1.3, 1e300, -1.3, 0.0)?;
    let v = scalar(d.variance()?);
    assert!((v - 1.3 * 1.3 / 12.0).abs() < 1e-12, "{v}");
    let m = scalar(d.mean()?);
    assert!((m + 0.65).abs() < 1e-12, "{m}");
    Ok(())
}
