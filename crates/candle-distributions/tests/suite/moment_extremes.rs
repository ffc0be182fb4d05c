//! Moments (and the gradients that meet overflow) of LogNormal, Kumaraswamy,
//! GeneralizedPareto and Uniform at extreme but valid parameters. Reference values
//! are closed forms evaluated with mpmath at 50 digits, or exact limits.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::{Distribution, Error, Kumaraswamy, LogNormal};

type Res<T> = Result<T, Error>;

fn rel_close(got: f64, want: f64, tol: f64) -> bool {
    if want == 0.0 || want.is_infinite() {
        return got == want;
    }
    ((got - want) / want).abs() <= tol
}

fn lognormal_moments(loc: f64, scale: f64, dtype: DType) -> Res<[f64; 3]> {
    let d = LogNormal::from_scalars(loc, scale, dtype, &Device::Cpu)?;
    let get = |t: Tensor| -> Res<f64> { Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?) };
    Ok([get(d.mean()?)?, get(d.variance()?)?, get(d.stddev()?)?])
}

/// (e^{s²} − 1)e^{2 loc + s²} at loc = −1e8, s = 30 is 2.2e-86858115: 0 in f64. The
/// product form gave ∞·0 = NaN (e^{s²} = e^{900} overflows, e^{2 loc} underflows).
/// At loc = −400, s = 20 the two exponents cancel: variance = stddev = 1 − e^{−400}.
#[test]
fn lognormal_variance_where_the_product_form_is_zero_times_infinity() -> Res<()> {
    let [_, v, s] = lognormal_moments(-1e8, 30.0, DType::F64)?;
    assert_eq!((v, s), (0.0, 0.0));
    let [_, v, s] = lognormal_moments(-1e8, 1e4, DType::F64)?;
    // 2 loc + 2 s² = 0 exactly: the variance is 1 − e^{−1e8} = 1.
    assert_eq!((v, s), (1.0, 1.0));
    let [_, v, s] = lognormal_moments(-400.0, 20.0, DType::F64)?;
    assert!(
        rel_close(v, 1.0, 1e-14) && rel_close(s, 1.0, 1e-14),
        "{v} {s}"
    );
    Ok(())
}

/// f32 loc = −3.4e38, scale = 1e8: every moment is e^{−3.4e38 + O(1e16)} = 0 (computed in
/// f64; in f32 scale² = 1e16 and the old product was NaN). At scale = 1.9e19, scale²
/// overflows f32 (3.6e38) while loc + scale²/2 = −1.6e38: the mean is 0, not ∞ (the
/// variance e^{2(loc + scale²)}, with loc + scale² = +2.1e37, is +∞).
#[test]
fn lognormal_f32_moments_at_the_most_negative_loc_are_zero() -> Res<()> {
    let lo = f32::MIN as f64;
    assert_eq!(lognormal_moments(lo, 1e8, DType::F32)?, [0.0; 3]);
    let inf = f64::INFINITY;
    assert_eq!(lognormal_moments(lo, 1.9e19, DType::F32)?, [0.0, inf, inf]);
    Ok(())
}

/// Accuracy against mpmath through all three branches of ln expm1(s²), including
/// s = 1e-200 where s² underflows (the old expm1(0)·e^{600} gave 0, the variance is
/// 3.77e-140) and s = 37 where the variance is beyond f64 but the deviation is not.
#[test]
fn lognormal_moments_match_mpmath() -> Res<()> {
    // (loc, scale, mean, variance, stddev)
    let cases = [
        (
            300.0,
            1e-200,
            1.942_426_395_241_256e130,
            3.773_020_300_929_94e-140,
            1.942_426_395_241_256e-70,
        ),
        (
            0.0,
            1e-5,
            1.000_000_000_05,
            1.000_000_000_150_000_2e-10,
            1.000_000_000_075_000_1e-5,
        ),
        (
            1.0,
            0.5,
            3.080_216_848_918_031,
            2.694758124344948,
            1.641_571_845_623_866_6,
        ),
        (
            2.0,
            0.03,
            7.392_381_922_429_333,
            0.049_204_718_240_243_67,
            0.221_821_365_608_102_93,
        ),
        (
            -700.0,
            37.0,
            1.855391362615978e-07,
            f64::INFINITY,
            3.491470631101721e+290,
        ),
    ];
    for (loc, scale, m, v, s) in cases {
        let [gm, gv, gs] = lognormal_moments(loc, scale, DType::F64)?;
        // exp of an argument of size A carries a relative error of about ε·A (A ≤ 1400).
        let tol = 1e-15 * (2.0 * loc.abs() + scale * scale).max(10.0);
        assert!(
            rel_close(gm, m, tol),
            "mean({loc}, {scale}) = {gm}, want {m}"
        );
        assert!(
            rel_close(gv, v, tol),
            "variance({loc}, {scale}) = {gv}, want {v}"
        );
        assert!(
            rel_close(gs, s, tol),
            "stddev({loc}, {scale}) = {gs}, want {s}"
        );
    }
    Ok(())
}

/// Gradients of variance and stddev in scale (mpmath numerical derivatives of the
/// closed forms at loc = 1, scale = 0.5: 14.877252085048421 and 4.5314044964612674,
/// and at scale = 1e-3: 2.718287944597265 for the deviation, the small-s² branch), and
/// finite (0) where the forward value underflows.
#[test]
fn lognormal_moment_gradients() -> Res<()> {
    let grad = |loc: f64, scale: f64, which: u8| -> Res<(f64, f64)> {
        let l = Var::new(loc, &Device::Cpu)?;
        let s = Var::new(scale, &Device::Cpu)?;
        let d = LogNormal::new(l.as_tensor(), s.as_tensor())?;
        let y = if which == 2 {
            d.variance()?
        } else {
            d.stddev()?
        };
        let g = y.backward()?;
        let gl = g.get(l.as_tensor()).expect("loc grad").to_scalar::<f64>()?;
        let gs = g
            .get(s.as_tensor())
            .expect("scale grad")
            .to_scalar::<f64>()?;
        Ok((gl, gs))
    };
    let v = 2.694758124344948;
    let (gl, gs) = grad(1.0, 0.5, 2)?;
    assert!(rel_close(gl, 2.0 * v, 1e-14) && rel_close(gs, 14.87725208504842, 1e-13));
    let (_, gs) = grad(1.0, 0.5, 1)?;
    assert!(rel_close(gs, 4.531404496461267, 1e-13), "{gs}");
    let (_, gs) = grad(1.0, 1e-3, 1)?;
    assert!(rel_close(gs, 2.718_287_944_597_265, 1e-13), "{gs}");
    let (gl, gs) = grad(-1e8, 30.0, 2)?;
    assert_eq!((gl, gs), (0.0, 0.0));
    Ok(())
}

/// f32 LogNormal(loc = 1.1754944e-38, scale = 1e-40) at x = 1: z = −loc/scale = −117.55,
/// ∂log p/∂scale = (z² − 1)/scale = 1.4e44 → +∞ in f32, ∂/∂loc = z/scale → −∞. As the sum
/// of z²/scale and −1/scale (both beyond f32) it was ∞ − ∞ = NaN.
#[test]
fn lognormal_log_prob_gradient_at_a_subnormal_f32_scale() -> Res<()> {
    let dev = Device::Cpu;
    let l = Var::new(f32::MIN_POSITIVE, &dev)?;
    let s = Var::new(1e-40f32, &dev)?;
    let d = LogNormal::new(l.as_tensor(), s.as_tensor())?;
    let x = Tensor::new(&[1.0f32], &dev)?;
    let lp = d.log_prob(&x)?;
    let lpv = lp.to_vec1::<f32>()?[0] as f64;
    // −z²/2 − ln√(2π) − ln s − ln x in f64 from the f32 parameters.
    let (lo, sc) = (f32::MIN_POSITIVE as f64, 1e-40f32 as f64);
    let z = -lo / sc;
    let want = -0.5 * z * z - 0.5 * (2.0 * std::f64::consts::PI).ln() - sc.ln();
    assert!(rel_close(lpv, want, 1e-6), "{lpv} vs {want}");
    let g = lp.sum_all()?.backward()?;
    let gs = g
        .get(s.as_tensor())
        .expect("scale grad")
        .to_scalar::<f32>()?;
    let gl = g.get(l.as_tensor()).expect("loc grad").to_scalar::<f32>()?;
    assert_eq!((gs, gl), (f32::INFINITY, f32::NEG_INFINITY));
    // Outside the support the log density is constantly −∞: zero gradients, not NaN.
    let d = LogNormal::new_with_validation(l.as_tensor(), s.as_tensor(), false)?;
    let lp = d.log_prob(&Tensor::new(&[0.0f32, f32::INFINITY], &dev)?)?;
    assert_eq!(lp.to_vec1::<f32>()?, vec![f32::NEG_INFINITY; 2]);
    let g = lp.sum_all()?.backward()?;
    let gs = g
        .get(s.as_tensor())
        .expect("scale grad")
        .to_scalar::<f32>()?;
    assert_eq!(gs, 0.0);
    Ok(())
}

fn kumaraswamy_var(a: f64, b: f64, dtype: DType) -> Res<(f64, f64, f64)> {
    let d = Kumaraswamy::from_scalars(a, b, dtype, &Device::Cpu)?;
    let get = |t: Tensor| -> Res<f64> { Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?) };
    Ok((get(d.mean()?)?, get(d.variance()?)?, get(d.stddev()?)?))
}

/// b = 5e-324: the moments b·B(1 + n/a, b) → 1 (the law piles up at 1), and the
/// variance ≈ b(2ψ(1 + 1/a) − ψ(1 + 2/a) − ψ(1)) is 0 or one subnormal. The product
/// b·e^{ln B} was 0·∞ = NaN.
#[test]
fn kumaraswamy_moments_at_a_subnormal_concentration0() -> Res<()> {
    // K(a) = 2ψ(1 + 1/a) − ψ(1 + 2/a) − ψ(1) (mpmath); f32 b = 1e-40 is the subnormal
    // 9.99994610111476e-41, and b·K is an f32 subnormal (spacing 1.4e-45).
    for (a, k) in [(4.5, 0.0715097069539701), (0.5, 11.0 / 12.0), (1.0, 0.5)] {
        let (m, v, s) = kumaraswamy_var(a, 5e-324, DType::F64)?;
        assert_eq!(m, 1.0, "a = {a}");
        assert!((0.0..=1e-322).contains(&v), "a = {a}: {v}");
        assert!((0.0..=1e-161).contains(&s), "a = {a}: {s}");
        let (m, v, _) = kumaraswamy_var(a, 1e-40, DType::F32)?;
        assert_eq!(m, 1.0, "a = {a}");
        let want = 1e-40f32 as f64 * k;
        assert!((v - want).abs() <= 2.0 * 1.4e-45, "a = {a}: {v} vs {want}");
    }
    Ok(())
}

/// Small b keeps the variance's relative precision (mpmath, 60 digits:
/// b B(1 + n/a, b) at (a, b) = (0.5, 1e-10) and (2, 1e-5)); the difference of
/// moments 1 − O(b) lost about ε/b of it. At b = 0.5 (the ordinary path):
/// a = 3 gives 0.031372883441767762.
#[test]
fn kumaraswamy_variance_for_small_concentration0_matches_mpmath() -> Res<()> {
    for (a, b, want) in [
        (0.5, 1e-10, 9.166_666_663_798_611e-11),
        (2.0, 1e-5, 2.274_066_438_198_229e-6),
        (3.0, 0.5, 0.031_372_883_441_767_762),
    ] {
        let (_, v, _) = kumaraswamy_var(a, b, DType::F64)?;
        assert!(rel_close(v, want, 1e-12), "({a}, {b}): {v} vs {want}");
    }
    Ok(())
}

/// scale = 5e-324 with values x = 1 (z = 0) and x = 2 (z = ln 2/scale = +∞ in f64):
/// ∂Σ log p/∂scale = Σ (z² − 1)/scale = +∞ and ∂/∂loc = Σ z/scale = +∞. Per element
/// the scale terms are −∞ and +∞, and candle's sum over the broadcast dimension of
/// the scalar scale gave ∞ − ∞ = NaN; the sum is now formed before the division.
#[test]
fn lognormal_log_prob_gradient_summed_over_values_at_a_subnormal_scale() -> Res<()> {
    let dev = Device::Cpu;
    let l = Var::new(0.0f64, &dev)?;
    let s = Var::new(5e-324f64, &dev)?;
    let d = LogNormal::new(l.as_tensor(), s.as_tensor())?;
    let lp = d.log_prob(&Tensor::new(&[1.0f64, 2.0], &dev)?)?;
    // log p(1) = −ln√(2π) − ln 5e-324; log p(2) = −∞ (z² overflows).
    let lpv = lp.to_vec1::<f64>()?;
    let want0 = -0.5 * (2.0 * std::f64::consts::PI).ln() - 5e-324f64.ln();
    assert!(
        rel_close(lpv[0], want0, 1e-15) && lpv[1] == f64::NEG_INFINITY,
        "{lpv:?}"
    );
    let g = lp.sum_all()?.backward()?;
    let gs = g
        .get(s.as_tensor())
        .expect("scale grad")
        .to_scalar::<f64>()?;
    let gl = g.get(l.as_tensor()).expect("loc grad").to_scalar::<f64>()?;
    assert_eq!((gs, gl), (f64::INFINITY, f64::INFINITY));
    Ok(())
}

/// Dirichlet's mean where α₀ = Σα overflows: α/α₀ from the scaled concentrations
/// (Dirichlet(1e308, 1e308) has mean (½, ½), not 0 from α/∞), f32 and f64.
#[test]
fn dirichlet_mean_where_the_total_overflows() -> Result<(), Box<dyn std::error::Error>> {
    use candle_distributions::{Dirichlet, Distribution};
    let dev = candle_core::Device::Cpu;
    let d = Dirichlet::new(&candle_core::Tensor::new(&[1e308f64, 1e308, 5e307], &dev)?)?;
    let m = d.mean()?.to_vec1::<f64>()?;
    for (got, want) in m.iter().zip([0.4, 0.4, 0.2]) {
        assert!((got - want).abs() < 1e-15, "{m:?}");
    }
    let d = Dirichlet::new(&candle_core::Tensor::new(&[f32::MAX, f32::MAX], &dev)?)?;
    assert_eq!(d.mean()?.to_vec1::<f32>()?, vec![0.5, 0.5]);
    Ok(())
}
