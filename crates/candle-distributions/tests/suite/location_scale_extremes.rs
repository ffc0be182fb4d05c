//! Location-scale families and Exponential at subnormal scales and rates: the
//! `log_prob` and `rsample` gradients, and Exponential's `icdf`, `cdf`, `log_prob` and
//! entropy where its scale 1/rate overflows.
//!
//! Reference values are closed forms evaluated exactly (the inputs are exact binary
//! fractions; sums of x/σ² over them were done in rational arithmetic, Python
//! `fractions`) or with mpmath at 200 bits. With a subnormal scale the per-element
//! gradients (x − loc)/σ² overflow to +∞ and −∞, so a sum over the sample taken after
//! the division is NaN; the true sums are finite, 0, or a single-signed ∞.

use crate::common;

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::{
    Cauchy, Distribution, Exponential, GeneralizedPareto, Generator, Gumbel, HalfCauchy,
    HalfNormal, Laplace, LogNormal, Normal, StudentT, TruncatedNormal,
};

const TINY: f64 = 5e-324; // 2⁻¹⁰⁷⁴
const LN_2: f64 = std::f64::consts::LN_2;

fn dev() -> Device {
    Device::Cpu
}

fn var64(v: &[f64]) -> Var {
    Var::new(v, &dev()).unwrap()
}

fn scalar64(v: f64) -> Var {
    Var::new(v, &dev()).unwrap()
}

fn vec_of(t: &Tensor) -> Vec<f64> {
    common::host(t)
}

/// The gradients of `Σ log_prob(x)` w.r.t. each of `vars`.
fn lp_grads(d: &dyn Distribution, x: &Tensor, vars: &[&Var]) -> Vec<Vec<f64>> {
    let lp = d.log_prob(x).unwrap();
    assert!(vec_of(&lp).iter().all(|v| v.is_finite()), "{lp}");
    let g = lp.sum_all().unwrap().backward().unwrap();
    vars.iter()
        .map(|v| vec_of(g.get(v.as_tensor()).expect("gradient")))
        .collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * b.abs()
}

/// Normal(0, 1e-40) in f32 at x = σ·(1, −1, 0.01): ∂/∂loc = Σ (x − loc)/σ² is
/// 1.0005378890742253e38 (exact from the f32 values), in f32's range, although the first
/// two terms are ±1e40. ∂/∂scale = Σ (z² − 1)/σ ≈ −1e40, below −f32::MAX: −∞.
#[test]
fn normal_f32_subnormal_scale_log_prob_gradients() {
    let loc = Var::new(&[0f32], &dev()).unwrap();
    let scale = Var::new(1e-40f32, &dev()).unwrap();
    let d = Normal::new(loc.as_tensor(), scale.as_tensor()).unwrap();
    let s = 1e-40f32;
    let x = Tensor::new(&[[s], [-s], [s * 0.01]], &dev()).unwrap();
    let g = lp_grads(&d, &x, &[&loc, &scale]);
    assert!(close(g[0][0], 1.0005378890742253e38, 1e-6), "{:?}", g[0]);
    assert_eq!(g[1], vec![f64::NEG_INFINITY]);
}

/// Laplace(0, 2⁻¹⁰⁷⁴) at z = (1, −1, 2, −2, 0, 0): ∂/∂loc = Σ sign(z)/σ = 0 and
/// ∂/∂scale = Σ (|z| − 1)/σ = 0, each a sum of ±∞ terms; log_prob = −|z| + 1074 ln 2 − ln 2.
#[test]
fn laplace_subnormal_scale_gradients_cancel_to_zero() {
    let (loc, scale) = (scalar64(0.0), scalar64(TINY));
    let d = Laplace::new(loc.as_tensor(), scale.as_tensor()).unwrap();
    let z = [1.0, -1.0, 2.0, -2.0, 0.0, 0.0];
    let x = Tensor::new(&z.map(|z| z * TINY), &dev()).unwrap();
    let lp = vec_of(&d.log_prob(&x).unwrap());
    for (l, z) in lp.iter().zip(z) {
        let want = -z.abs() + 1074.0 * LN_2 - LN_2;
        assert!(close(*l, want, 1e-15), "{l} vs {want}");
    }
    let g = lp_grads(&d, &x, &[&loc, &scale]);
    assert_eq!(g, vec![vec![0.0], vec![0.0]]);
}

/// A scalar scale broadcast over a batch of three locs and two draws each: the scale
/// gradient sums over the batch as well as the sample. Normal(0, 2⁻¹⁰⁷⁴) at
/// z = [[2, 0, 0], [0, 1, 1]]: Σ (z² − 1)/σ = (3 − 1 − 1 − 1 + 0 + 0)/σ = 0; each loc's
/// Σ z/σ is 2/σ or 1/σ, beyond f64's range: +∞.
#[test]
fn normal_scalar_subnormal_scale_over_a_batch() {
    let loc = var64(&[0.0, 0.0, 0.0]);
    let scale = scalar64(TINY);
    let d = Normal::new(loc.as_tensor(), scale.as_tensor()).unwrap();
    let x = Tensor::new(&[[2.0 * TINY, 0.0, 0.0], [0.0, TINY, TINY]], &dev()).unwrap();
    let g = lp_grads(&d, &x, &[&loc, &scale]);
    assert_eq!(g[0], vec![f64::INFINITY; 3]);
    assert_eq!(g[1], vec![0.0]);
}

/// A scalar loc over scales (2⁻¹⁰⁷⁴, 1e-300), which differ along the loc's broadcast
/// dimension, so 1/σ cannot come out of its sum. x = [[σ₀, 3e-300], [−σ₀, −1e-300]]:
/// ∂/∂loc = Σ x/σ² = 0 + 2e300 and ∂/∂scale = (0, 8e300) (exact, rational arithmetic).
#[test]
fn normal_loc_gradient_over_different_subnormal_scales() {
    let loc = scalar64(0.0);
    let scale = var64(&[TINY, 1e-300]);
    let d = Normal::new(loc.as_tensor(), scale.as_tensor()).unwrap();
    let x = Tensor::new(&[[TINY, 3e-300], [-TINY, -1e-300]], &dev()).unwrap();
    let g = lp_grads(&d, &x, &[&loc, &scale]);
    assert!(close(g[0][0], 2e300, 1e-14), "{:?}", g[0]);
    assert_eq!(g[1][0], 0.0);
    assert!(close(g[1][1], 8e300, 1e-14), "{:?}", g[1]);
}

/// `expand` broadcasts the parameters again; the sums still reach the user's scalars.
/// Normal(0, 2⁻¹⁰⁷⁴).expand([2]) at z = (1, −1): ∂/∂loc = 0, ∂/∂scale = 0.
#[test]
fn expanded_normal_subnormal_scale_gradients() {
    let (loc, scale) = (scalar64(0.0), scalar64(TINY));
    let d = Normal::new(loc.as_tensor(), scale.as_tensor())
        .unwrap()
        .expand(&[2])
        .unwrap();
    let x = Tensor::new(&[TINY, -TINY], &dev()).unwrap();
    let g = lp_grads(d.as_ref(), &x, &[&loc, &scale]);
    assert_eq!(g, vec![vec![0.0], vec![0.0]]);
}

/// Cauchy(0, 2⁻¹⁰⁷⁴) at z = ±1: f'/f(z) = −2z/(1 + z²) = ∓1, so ∂/∂loc = Σ ±1/σ = 0;
/// z f'/f(z) + 1 = 0 for both, so ∂/∂scale = 0.
#[test]
fn cauchy_subnormal_scale_gradients() {
    let (loc, scale) = (scalar64(0.0), scalar64(TINY));
    let d = Cauchy::new(loc.as_tensor(), scale.as_tensor()).unwrap();
    let x = Tensor::new(&[TINY, -TINY], &dev()).unwrap();
    let g = lp_grads(&d, &x, &[&loc, &scale]);
    assert_eq!(g, vec![vec![0.0], vec![0.0]]);
}

/// HalfNormal(2⁻¹⁰⁷⁴) at z = (0, 2, 0, 0): ∂/∂scale = Σ (z² − 1)/σ = (−1 + 3 − 1 − 1)/σ = 0.
#[test]
fn half_normal_subnormal_scale_gradient() {
    let scale = scalar64(TINY);
    let d = HalfNormal::new(scale.as_tensor()).unwrap();
    let x = Tensor::new(&[0.0, 2.0 * TINY, 0.0, 0.0], &dev()).unwrap();
    let g = lp_grads(&d, &x, &[&scale]);
    assert_eq!(g, vec![vec![0.0]]);
}

/// Gumbel(0, 1e-40) in f32 at z = ±1: ∂/∂loc = −Σ (e^{−z} − 1)/σ = −(e⁻¹ + e − 2)/σ
/// ≈ −1.09e40, below −f32::MAX: −∞, not ∞ − ∞.
#[test]
fn gumbel_f32_subnormal_scale_gradients_are_not_nan() {
    let loc = Var::new(0f32, &dev()).unwrap();
    let scale = Var::new(1e-40f32, &dev()).unwrap();
    let d = Gumbel::new(loc.as_tensor(), scale.as_tensor()).unwrap();
    let x = Tensor::new(&[1e-40f32, -1e-40], &dev()).unwrap();
    let g = lp_grads(&d, &x, &[&loc, &scale]);
    assert_eq!(g[0], vec![f64::NEG_INFINITY]);
    // Σ (z f'/f(z) + 1) = (1 + (e⁻¹ − 1)) + (1 − (e − 1)) = e⁻¹ + 2 − e < 0, so
    // −Σ/σ ≈ 3.5e39: +∞ in f32.
    assert_eq!(g[1], vec![f64::INFINITY]);
}

/// Exponential(2⁻¹⁰⁷⁴): icdf(q) = −ln(1 − q)/λ, so icdf(0) = 0, icdf(1e-300) =
/// 2.0240225330731062e23 (mpmath) and icdf(1/2) = ln 2 · 2¹⁰⁷⁴ = +∞ in f64; the entropy
/// 1 − ln λ = 745.4400719213812; log_prob(1e300) = ln λ − λ·1e300 = −744.4400719213812
/// and cdf(1e300) = 1 − e^{−λ·1e300} = 4.940656458412466e-24. With scale = 1/λ = ∞ these
/// were NaN, +∞, −∞ and 0.
#[test]
fn exponential_subnormal_rate_values() {
    let d = Exponential::from_scalars(TINY, DType::F64, &dev()).unwrap();
    let q = Tensor::new(&[0.0, 1e-300, 0.5, 1.0], &dev()).unwrap();
    let x = vec_of(&d.icdf(&q).unwrap());
    assert_eq!(x[0], 0.0);
    assert!(close(x[1], 2.0240225330731062e23, 1e-15), "{x:?}");
    assert_eq!(&x[2..], &[f64::INFINITY, f64::INFINITY]);
    let h = vec_of(&d.entropy().unwrap())[0];
    assert!(close(h, 745.4400719213812, 1e-15), "{h}");
    let v = Tensor::new(&[1e300], &dev()).unwrap();
    let lp = vec_of(&d.log_prob(&v).unwrap())[0];
    assert!(close(lp, -744.4400719213812, 1e-15), "{lp}");
    let c = vec_of(&d.cdf(&v).unwrap())[0];
    assert!(close(c, 4.940656458412466e-24, 1e-14), "{c}");
    // The moments overflow, as 1/λ does.
    assert_eq!(vec_of(&d.mean().unwrap()), vec![f64::INFINITY]);
    assert_eq!(vec_of(&d.variance().unwrap()), vec![f64::INFINITY]);
}

/// f32 Exponential(1e-40): entropy 1 − ln λ = 93.10340910966488 (mpmath, λ the f32
/// value); 1/λ is beyond f32's range, so this was +∞.
#[test]
fn exponential_f32_subnormal_rate_entropy() {
    let d = Exponential::from_scalars(1e-40, DType::F32, &dev()).unwrap();
    let h = vec_of(&d.entropy().unwrap())[0];
    assert!(close(h, 93.10340910966488, 1e-6), "{h}");
}

/// Exponential(1e-300) at x = (1e300, 3e300): ∂/∂rate Σ (ln λ − λx) = 2/λ − 4e300 =
/// −2e300; λ² underflows to 0, so the chain through scale = 1/λ gave −∞. The log
/// densities are ln 1e-300 − 1 and − 3: −691.7755278982137, −693.7755278982137.
#[test]
fn exponential_tiny_rate_log_prob_gradient() {
    let rate = var64(&[1e-300]);
    let d = Exponential::new(rate.as_tensor()).unwrap();
    let x = Tensor::new(&[[1e300], [3e300]], &dev()).unwrap();
    let lp = vec_of(&d.log_prob(&x).unwrap());
    assert!(close(lp[0], -691.7755278982137, 1e-15), "{lp:?}");
    assert!(close(lp[1], -693.7755278982137, 1e-15), "{lp:?}");
    let g = lp_grads(&d, &x, &[&rate]);
    assert!(close(g[0][0], -2e300, 1e-14), "{:?}", g[0]);
}

/// An empty sample: every gradient is the empty sum, 0 (it was 0·∞ = NaN through
/// scale = 1/λ). A non-empty one from Exponential(2⁻¹⁰⁷⁴): ∂ Σx/∂λ = −Σε/λ² = −∞.
#[test]
fn exponential_subnormal_rate_rsample_gradients() {
    for (rate, shape, want) in [
        (TINY, vec![1usize, 0], 0.0),
        (1e-300, vec![1, 0], 0.0),
        (TINY, vec![4], f64::NEG_INFINITY),
    ] {
        let r = var64(&[rate]);
        let d = Exponential::new(r.as_tensor()).unwrap();
        let x = d.rsample(&shape, &mut Generator::new(7)).unwrap();
        let g = x.sum_all().unwrap().backward().unwrap();
        let gr = vec_of(g.get(r.as_tensor()).unwrap());
        assert_eq!(gr, vec![want], "rate {rate}, shape {shape:?}");
        let lp = d.log_prob(&x.detach()).unwrap();
        let g = lp.sum_all().unwrap().backward().unwrap();
        let gl = vec_of(g.get(r.as_tensor()).unwrap());
        assert!(!gl[0].is_nan(), "rate {rate}, shape {shape:?}: {gl:?}");
    }
}

/// `rsample_and_log_prob` of Exponential(2⁻¹⁰⁷⁴): log_prob = ln λ − ε is finite; its
/// rate gradient Σ 1/λ is +∞ (beyond range), and 0 for an empty sample.
#[test]
fn exponential_subnormal_rate_rsample_and_log_prob() {
    for (shape, want) in [(vec![3usize], f64::INFINITY), (vec![0], 0.0)] {
        let r = var64(&[TINY]);
        let d = Exponential::new(r.as_tensor()).unwrap();
        let (_, lp) = d
            .rsample_and_log_prob(&shape, &mut Generator::new(3))
            .unwrap();
        let lpv = vec_of(&lp);
        assert!(lpv.iter().all(|l| l.is_finite() && *l < -700.0), "{lpv:?}");
        let g = lp.sum_all().unwrap().backward().unwrap();
        assert_eq!(vec_of(g.get(r.as_tensor()).unwrap()), vec![want]);
    }
}

/// The ordinary path is unchanged: gradients of Normal(0.3, 1.7) at x = 2 against the
/// closed forms (x − loc)/σ² and ((x − loc)² − σ²)/σ³, through a scalar scale broadcast
/// over a batch of two.
#[test]
fn ordinary_gradients_through_a_broadcast_scale() {
    let loc = var64(&[0.3, -1.0]);
    let scale = scalar64(1.7);
    let d = Normal::new(loc.as_tensor(), scale.as_tensor()).unwrap();
    let x = Tensor::new(&[2.0, 0.5], &dev()).unwrap();
    let g = lp_grads(&d, &x, &[&loc, &scale]);
    let s: f64 = 1.7;
    let (d0, d1) = (2.0 - 0.3, 0.5 + 1.0);
    assert!(close(g[0][0], d0 / (s * s), 1e-14));
    assert!(close(g[0][1], d1 / (s * s), 1e-14));
    let want = (d0 * d0 - s * s) / s.powi(3) + (d1 * d1 - s * s) / s.powi(3);
    assert!(close(g[1][0], want, 1e-14), "{} vs {want}", g[1][0]);
}

/// Cauchy's log density far out: −ln π − ln(1 + z²) with z² past f64::MAX, and with
/// z = (x − loc)/σ itself past it for a subnormal σ. mpmath (200 bits):
/// Cauchy(0, 1) at 1e200: −922.1787670834676; Cauchy(0, 2⁻¹⁰⁷⁴) at 1:
/// −745.5848018072306; HalfCauchy(2⁻¹⁰⁷⁴) at 2: −746.2779489877906; HalfCauchy(1) at
/// 3e160: −739.4760370407203. These were −∞.
#[test]
fn cauchy_far_tail_log_prob() {
    let cases: [(Box<dyn Distribution>, f64, f64); 4] = [
        (
            Box::new(Cauchy::from_scalars(0.0, 1.0, DType::F64, &dev()).unwrap()),
            1e200,
            -922.1787670834676,
        ),
        (
            Box::new(Cauchy::from_scalars(0.0, TINY, DType::F64, &dev()).unwrap()),
            1.0,
            -745.5848018072306,
        ),
        (
            Box::new(HalfCauchy::from_scalars(TINY, DType::F64, &dev()).unwrap()),
            2.0,
            -746.2779489877906,
        ),
        (
            Box::new(HalfCauchy::from_scalars(1.0, DType::F64, &dev()).unwrap()),
            3e160,
            -739.4760370407203,
        ),
    ];
    for (d, x, want) in cases {
        let lp = vec_of(&d.log_prob(&Tensor::new(x, &dev()).unwrap()).unwrap())[0];
        assert!(close(lp, want, 1e-15), "{}: {lp} vs {want}", d.name());
    }
}

/// An empty value (or an empty sample) through the reducing kernels: the backward pass
/// returns zero gradients of the parameters' shapes, never a panic.
#[test]
fn empty_values_give_zero_gradients() -> Result<(), Box<dyn std::error::Error>> {
    let dev = Device::Cpu;
    let loc = Var::new(&[0.5f64, 1.0], &dev)?;
    let scale = Var::new(&[1.5f64, 2.0], &dev)?;
    let x = Tensor::zeros((0, 2), DType::F64, &dev)?;
    let dists: Vec<Box<dyn Distribution>> = vec![
        Box::new(Normal::new(&loc, &scale)?),
        Box::new(Cauchy::new(&loc, &scale)?),
        Box::new(LogNormal::new(&loc, &scale)?),
        Box::new(StudentT::new(3.0, &loc, &scale)?),
        Box::new(GeneralizedPareto::new(&loc, &scale, 0.2)?),
        Box::new(TruncatedNormal::new(&loc, &scale, -1.0, 4.0)?),
    ];
    for d in dists {
        let lp = d.log_prob(&x)?;
        assert_eq!(lp.dims(), &[0, 2], "{}", d.name());
        let g = lp.sum_all()?.backward()?;
        for v in [&loc, &scale] {
            if let Some(t) = g.get(v.as_tensor()) {
                assert_eq!(t.to_vec1::<f64>()?, vec![0.0, 0.0], "{}", d.name());
            }
        }
    }
    Ok(())
}

/// x − loc past f64::MAX with both finite: the standardized value is x/scale − loc/scale
/// (Normal(−MAX, MAX) at x = MAX has z = 2, log p = −2 − ln MAX − ½ ln 2π ≈ −712.7),
/// not −∞ from an overflowed difference.
#[test]
fn log_prob_where_the_difference_overflows() -> Result<(), Box<dyn std::error::Error>> {
    use candle_distributions::{Distribution, Normal};
    let dev = candle_core::Device::Cpu;
    let d = Normal::from_scalars(-f64::MAX, f64::MAX, candle_core::DType::F64, &dev)?;
    let lp = d
        .log_prob(&candle_core::Tensor::new(&[f64::MAX], &dev)?)?
        .to_vec1::<f64>()?[0];
    let want = -2.0 - f64::MAX.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
    assert!((lp - want).abs() < 1e-12 * want.abs(), "{lp} vs {want}");
    Ok(())
}
