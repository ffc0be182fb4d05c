//! The Gamma family (Gamma, Chi2, InverseGamma) at extreme but valid parameters: tiny
//! and huge concentrations, subnormal and huge rates, and f32 where 1/G overflows.
//! References are mpmath (50 digits, 420 for the entropy at α ≥ 1e300, whose defining
//! sum cancels 300 digits), scipy's independent `gammainc` at a = 1e12, and closed-form
//! limits (the normal limit P(a, a + z√a) → Φ(z), with error O(a^{−1/2}) = 1e-150 at
//! a = 1e300, and dG/dα → 1 at the same rate).

// Reference values are quoted as mpmath prints them (20 digits).
#![allow(clippy::excessive_precision)]

use crate::common;
use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use common::{host as f64s, scalar_tensor as t};

fn scalar(x: &Tensor) -> f64 {
    f64s(x)[0]
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

/// Gradients of sum(rsample) with respect to (α, β) of a two-parameter family.
fn rsample_grads(
    build: impl Fn(&Tensor, &Tensor) -> Box<dyn Distribution>,
    alpha: &[f64],
    rate: f64,
    dtype: DType,
    n: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let a = Var::from_tensor(
        &Tensor::new(alpha, &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap(),
    )
    .unwrap();
    let r = Var::from_tensor(&t(rate, dtype)).unwrap();
    let d = build(a.as_tensor(), r.as_tensor());
    let x = d.rsample(&[n], &mut Generator::new(7)).unwrap();
    let g = x.sum_all().unwrap().backward().unwrap();
    (f64s(&x), f64s(g.get(&a).unwrap()), f64s(g.get(&r).unwrap()))
}

fn inv_gamma(a: &Tensor, r: &Tensor) -> Box<dyn Distribution> {
    Box::new(InverseGamma::new(a, r).unwrap())
}

fn gamma(a: &Tensor, r: &Tensor) -> Box<dyn Distribution> {
    Box::new(Gamma::new(a, r).unwrap())
}

/// InverseGamma rsample gradients at α ≈ 1e-8 in f32 (an ordinary-parameter class of the
/// property suite): ln(β/G) ≈ 1e8, so β/G overflows and is clamped to f32::MAX; its
/// upstream gradient 0 met e^{1e8} = ∞ in exp's backward (before: 0·∞ = NaN; before
/// that, through 1/G: −(dG/dα)/G² with G² = 0, ±∞). A clamped draw's gradient is 0.
#[test]
fn inverse_gamma_rsample_gradients_finite_at_small_f32_concentration() {
    let (x, ga, gr) = rsample_grads(inv_gamma, &[1.5, 1e-8, 7.0], 2.0, DType::F32, 200);
    assert!(x.iter().all(|v| v.is_finite() && *v > 0.0));
    assert!(ga.iter().all(|v| v.is_finite()), "dα: {ga:?}");
    assert!(gr.iter().all(|v| v.is_finite()), "dβ: {gr:?}");
}

/// InverseGamma at α = 1e-300 and the subnormal α = 5e-324 in f64: ln G ≈ −1e300 (or
/// −∞), the draw β/G is clamped to f64::MAX, and d ln G/dα ≈ 1/α² overflows; the clamped
/// draw's zero upstream gradient must give 0, not 0·∞ = NaN (before: ±∞ through
/// −(dG/dα)/G² with G² = 0, then NaN).
#[test]
fn inverse_gamma_rsample_gradients_not_nan_at_tiny_concentration() {
    for (alpha, rate) in [(1e-300, 7.0), (5e-324, 1.0)] {
        let (x, ga, gr) = rsample_grads(inv_gamma, &[alpha], rate, DType::F64, 50);
        assert!(x.iter().all(|v| v.is_finite() && *v > 0.0));
        assert!(ga.iter().all(|v| v.is_finite()), "α = {alpha}: dα {ga:?}");
        assert!(gr.iter().all(|v| v.is_finite()), "α = {alpha}: dβ {gr:?}");
    }
}

/// Gamma with α ≲ 1e-38 and β = f64::MAX: the draw G/β underflows and is clamped up to
/// the smallest normal number, where x·β is not the Gamma draw (before: the implicit
/// gradient at x·β ≈ 4 for α = 5e-324 was NaN). A clamped draw does not move: 0.
#[test]
fn gamma_rsample_gradient_zero_at_clamped_draws() {
    let (x, ga, gr) = rsample_grads(
        gamma,
        &[1.1754943508222875e-38, 5e-324],
        f64::MAX,
        DType::F64,
        20,
    );
    assert!(x.iter().all(|&v| v == f64::MIN_POSITIVE), "{x:?}");
    assert_eq!(
        (ga.as_slice(), gr.as_slice()),
        (&[0.0, 0.0][..], &[0.0][..])
    );
    // β subnormal: g/β overflows, but dG/dα = 0 at an underflowed draw gives 0.
    let (_, ga, gr) = rsample_grads(gamma, &[1e-40], 5e-324, DType::F64, 20);
    assert!(ga.iter().chain(&gr).all(|v| !v.is_nan()), "{ga:?} {gr:?}");
}

/// Huge concentrations: the draw's relative spread α^{−1/2} is far below ε, so
/// dx/dα = 1 + O(α^{−1/2}) (before: NaN at α = 1e300 and for Chi2(f64::MAX), whose
/// series needs O(√α) terms and overflows).
#[test]
fn rsample_gradient_is_one_at_huge_concentration() {
    // Per-element gradients: one draw per α.
    for (alpha, tol) in [(1e300, 1e-15), (1e20, 1e-9)] {
        let (_, ga, _) = rsample_grads(gamma, &[alpha], 1.0, DType::F64, 1);
        // α = 1e20: z/(2√α) ≈ 5e-11·z
        assert!((ga[0] - 1.0).abs() < tol, "α = {alpha}: {}", ga[0]);
    }
    let df = Var::new(&[f64::MAX], &Device::Cpu).unwrap();
    let d = Chi2::new(df.as_tensor()).unwrap();
    let x = d.rsample(&[], &mut Generator::new(3)).unwrap();
    let g = x.sum_all().unwrap().backward().unwrap();
    for v in f64s(g.get(&df).unwrap()) {
        // x = 2G, α = df/2: dx/d df = dG/dα ≈ 1.
        assert!((v - 1.0).abs() < 1e-15, "{v}");
    }
}

/// Chi2 with the smallest subnormal df: df/2 rounded to 0 (α = 0, NaN everywhere);
/// now α is that same subnormal, 5e-324. Reference: mpmath at α = 5e-324, β = ½.
#[test]
fn chi2_smallest_subnormal_df() {
    let df = Var::new(&[5e-324f64], &Device::Cpu).unwrap();
    let d = Chi2::new(df.as_tensor()).unwrap();
    let x = Tensor::new(&[0.5f64], &Device::Cpu).unwrap();
    let lp = d.log_prob(&x).unwrap();
    assert!(rel(scalar(&lp), -743.996924740821317) < 1e-14, "{lp}");
    // P(α, 0.25) = 1 − O(α).
    assert_eq!(scalar(&d.cdf(&x).unwrap()), 1.0);
    // d lp/d df = ½(ln(x/2) − ψ(df/2)) ≈ 1/df: beyond f64, +∞, never NaN.
    let g = lp.sum_all().unwrap().backward().unwrap();
    let gd = scalar(g.get(&df).unwrap());
    assert_eq!(gd, f64::INFINITY);
    let x32 = Tensor::new(&[0.5f32], &Device::Cpu).unwrap();
    let d32 = Chi2::new(&t(f32::from_bits(1) as f64, DType::F32)).unwrap();
    assert!(scalar(&d32.log_prob(&x32).unwrap()).is_finite());
}

/// Entropy for every α: the defining sum α + ln Γ(α) + (1 − α)ψ(α) is ∞ − ∞ at
/// α ≳ 1e305 (before: NaN) and loses ~log₁₀ α digits before. mpmath (420 digits).
#[test]
fn entropy_at_all_concentrations() {
    let cases = [
        // α, Gamma(α, 2), InverseGamma(α, 2)
        (0.5, -0.60253725064595696207, 4.7107771625167806157),
        (3.0, 1.1544313298030657212, 0.69515702072602206126),
        (50.0, 2.6751027678182230488, -3.7425822179176707263),
        (1e10, 12.238716817581622519, -32.426690681079400542),
        (1e300, 346.11355530175158006, -1034.0512061335559398),
        (f64::MAX, 355.6171477993367258, -1062.561983626311377),
    ];
    for (a, hg, hi) in cases {
        let g = Gamma::new(&t(a, DType::F64), &t(2.0, DType::F64)).unwrap();
        let e = scalar(&g.entropy().unwrap());
        assert!(rel(e, hg) < 1e-14, "Gamma({a}, 2): {e} vs {hg}");
        let ig = InverseGamma::new(&t(a, DType::F64), &t(2.0, DType::F64)).unwrap();
        let e = scalar(&ig.entropy().unwrap());
        assert!(rel(e, hi) < 1e-14, "InverseGamma({a}, 2): {e} vs {hi}");
    }
    // α → 0: the Gamma entropy tends to −∞ (≈ −1/α), the InverseGamma one to +∞.
    let g = Gamma::new(&t(5e-324, DType::F64), &t(2.0, DType::F64)).unwrap();
    assert_eq!(scalar(&g.entropy().unwrap()), f64::NEG_INFINITY);
    let ig = InverseGamma::new(&t(5e-324, DType::F64), &t(2.0, DType::F64)).unwrap();
    assert_eq!(scalar(&ig.entropy().unwrap()), f64::INFINITY);
}

/// dH/dα on both sides of the series threshold α = 10 (mpmath derivatives).
#[test]
fn entropy_gradient() {
    for (a, dg, di) in [
        (3.0, 0.21013186630354712706, -0.57973626739290574589),
        (50.0, 0.010134671891840835507, -0.030267994561553416105),
    ] {
        let v = Var::new(&[a], &Device::Cpu).unwrap();
        let r = Tensor::new(&[2.0f64], &Device::Cpu).unwrap();
        let e = Gamma::new(v.as_tensor(), &r).unwrap().entropy().unwrap();
        let g = scalar(e.sum_all().unwrap().backward().unwrap().get(&v).unwrap());
        assert!(rel(g, dg) < 1e-12, "Gamma dH/dα at {a}: {g}");
        let e = InverseGamma::new(v.as_tensor(), &r)
            .unwrap()
            .entropy()
            .unwrap();
        let g = scalar(e.sum_all().unwrap().backward().unwrap().get(&v).unwrap());
        assert!(rel(g, di) < 1e-12, "InverseGamma dH/dα at {a}: {g}");
    }
}

/// log_prob at huge α: α ln β and ln Γ(α) overflow separately (before: ∞ − ∞ = NaN).
/// mpmath at 420 digits (at 50 the defining sum itself cancels to garbage).
#[test]
fn log_prob_at_huge_concentration() {
    let m = f64::MAX;
    for (a, b, x, want) in [
        (1e300, 4.5, 1e300 / 4.5, -344.8026250855352513),
        (m, 0.5, m, -3.4721936051062580594e+307),
        (50.0, 2.0, 20.0, -3.1175035142020618597),
    ] {
        let d = Gamma::new(&t(a, DType::F64), &t(b, DType::F64)).unwrap();
        let lp = scalar(&d.log_prob(&t(x, DType::F64)).unwrap());
        assert!(
            rel(lp, want) < 1e-13,
            "Gamma({a}, {b}) at {x}: {lp} vs {want}"
        );
    }
    let d = InverseGamma::new(&t(m, DType::F64), &t(2.5, DType::F64)).unwrap();
    let lp = scalar(&d.log_prob(&t(2.781342323134002e-308, DType::F64)).unwrap());
    assert!(rel(lp, -3.4721936051062586581e+307) < 1e-13, "{lp}");
    // The gradients stay finite there too.
    let a = Var::new(&[1e300f64], &Device::Cpu).unwrap();
    let b = Var::new(&[4.5f64], &Device::Cpu).unwrap();
    let d = Gamma::new(a.as_tensor(), b.as_tensor()).unwrap();
    let lp = d
        .log_prob(&Tensor::new(&[1e300 / 4.5], &Device::Cpu).unwrap())
        .unwrap();
    let g = lp.sum_all().unwrap().backward().unwrap();
    // ∂/∂α = ln(βx) − ψ(α) ≈ 0; ∂/∂β = α/β − x ≈ 0 relative to α/β.
    let (ga, gb) = (scalar(g.get(&a).unwrap()), scalar(g.get(&b).unwrap()));
    assert!(ga.abs() < 1e-10, "{ga}");
    assert!(gb.abs() < 1e-12 * 1e300 / 4.5, "{gb}");
}

/// The cdf at huge α by Temme's uniform expansion (before: NaN at α ≳ 1e300, and
/// O(√α) series terms from 1e10 on). References: mpmath's upper incomplete gamma at
/// α = 1e12, 1e15 (40 digits); at α = 1e300 the normal limit: the law's
/// spread √α = 1e150 is below the spacing of floats near α, so P is 0, ½ (+ O(α^{−1/2}))
/// or 1 at the neighbouring representable points.
#[test]
fn cdf_at_huge_concentration() {
    for (a, x, want) in [
        (1e12, 999997000000.0, 0.0013498862133920378812),
        (1e12, 1000000500000.0, 0.69146254929034296104),
        (1e12, 1000002000000.0, 0.97724981406088127512),
        (1e15, 999999905131670.2, 0.0013498976656191498959),
        (1e15, 1000000015811388.2, 0.69146246349129667135),
        (1e15, 1000000063245553.2, 0.97724986642409413267),
    ] {
        let d = Gamma::new(&t(a, DType::F64), &t(1.0, DType::F64)).unwrap();
        let p = scalar(&d.cdf(&t(x, DType::F64)).unwrap());
        assert!(rel(p, want) < 1e-12, "P({a}, {x}) = {p} vs {want}");
    }
    let d = Gamma::new(&t(1e300, DType::F64), &t(1.0, DType::F64)).unwrap();
    for (x, want) in [
        (1e300 * (1.0 - 1e-10), 0.0),
        (1e300, 0.5),
        (1e300 * (1.0 + 1e-10), 1.0),
    ] {
        let p = scalar(&d.cdf(&t(x, DType::F64)).unwrap());
        assert!((p - want).abs() < 1e-15, "P(1e300, {x}) = {p}");
    }
    // Chi2(f64::MAX) at its mean: P(a, a) = ½ + O(a^{−1/2}).
    let c = Chi2::new(&t(f64::MAX, DType::F64)).unwrap();
    let p = scalar(&c.cdf(&t(f64::MAX, DType::F64)).unwrap());
    assert!((p - 0.5).abs() < 1e-15, "{p}");
    // InverseGamma(1e300, 1e300) at y = 1 = β/α: Q(a, a) ≈ ½.
    let ig = InverseGamma::new(&t(1e300, DType::F64), &t(1e300, DType::F64)).unwrap();
    let p = scalar(&ig.cdf(&t(1.0, DType::F64)).unwrap());
    assert!((p - 0.5).abs() < 1e-15, "{p}");
}

/// InverseGamma variance β²/((α − 1)²(α − 2)) at α = β = 1e300: β² and (α − 1)²
/// overflow separately (before: ∞/∞ = NaN); the value is 1e-300.
#[test]
fn inverse_gamma_variance_at_huge_parameters() {
    let d = InverseGamma::new(&t(1e300, DType::F64), &t(1e300, DType::F64)).unwrap();
    let v = scalar(&d.variance().unwrap());
    assert!(rel(v, 1e-300) < 1e-14, "{v}");
    assert!(rel(scalar(&d.stddev().unwrap()), 1e-150) < 1e-14);
}
