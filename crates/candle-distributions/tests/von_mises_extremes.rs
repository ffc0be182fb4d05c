//! VonMises at extreme but valid concentrations. For κ → ∞ the law of
//! s = 2 sin(θ/2) (θ = x − loc) is N(0, 1/κ) up to O(1/κ): κ(1 − cos θ) = κs²/2
//! exactly, so F(θ) = Φ(s√κ) (the normal limit, used as the reference here).

use candle_core::{Device, Tensor};
use candle_distributions::{Distribution, Error, VonMises};

type Res<T> = Result<T, Error>;

fn cdf(loc: f64, kappa: f64, xs: &[f64]) -> Res<Vec<f64>> {
    let t = |v: f64| Tensor::new(v, &Device::Cpu);
    let d = VonMises::new(&t(loc)?, &t(kappa)?)?;
    Ok(d.cdf(&Tensor::new(xs, &Device::Cpu)?)?.to_vec1::<f64>()?)
}

/// κ = f64::MAX: the exact path needs I0(κ)e^{−κ} ≈ 1/√(2πκ), and 2πκ overflowed,
/// giving 0/0 = NaN. The law is a step at loc.
#[test]
fn cdf_at_the_largest_concentration_is_a_step_at_loc() -> Res<()> {
    // values within loc ± π (the cdf of x − loc reduced into [−π, π])
    let f = cdf(2.5, f64::MAX, &[-0.6, 2.4, 2.5, 2.6, 3.1])?;
    assert_eq!(f, vec![0.0, 0.0, 0.5, 1.0, 1.0]);
    Ok(())
}

/// κ = 1e20 at θ = ±1e-10: s√κ = ±2 sin(5e-11)·1e10 = ±1 (to 1e-21), so
/// F = Φ(±1) = 0.841344746068542948585… / 0.158655253931457051414… (mpmath).
#[test]
fn cdf_at_huge_concentration_is_the_normal_limit() -> Res<()> {
    let f = cdf(0.0, 1e20, &[-1e-10, 1e-10])?;
    assert!((f[0] - 0.158_655_253_931_457_05).abs() < 1e-15, "{f:?}");
    assert!((f[1] - 0.841_344_746_068_542_9).abs() < 1e-15, "{f:?}");
    Ok(())
}
